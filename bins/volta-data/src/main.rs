//! `volta-data`: the market-data command line. Wiring only: this file parses arguments and
//! hands each subcommand to its module, which calls the volta-data library and prints.

mod backup;
mod calibrate;
mod common;
mod copy;
mod fetch;
mod import;
mod init;
mod synth;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Volta's market data: the store, imports, the synthetic market.
#[derive(Debug, Parser)]
#[command(name = "volta-data", version, about)]
struct Cli {
    /// The store: a SQLite file (created on first use) or a PostgreSQL database
    /// (`postgres://user@host:port/db`; the password from the URL or PGPASSWORD, never shown).
    #[arg(
        long,
        global = true,
        env = "VOLTA_STORE",
        default_value = "var/volta.db"
    )]
    store: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the store, or bring an existing one to the current schema.
    Init,
    /// Generate the deterministic synthetic market and write it into the store.
    Synth(synth::Args),
    /// Import files into the store: each file is one transaction (a file that fails leaves the
    /// store as it was; the others still go in), and importing a file again changes nothing.
    Import(import::Args),
    /// Fetch daily bars (and with --chains the latest option chain) from Yahoo Finance into
    /// the store. Past sessions already stored are served from the store.
    Fetch(fetch::Args),
    /// Copy the store to DEST with SQLite's online backup (DEST must not exist).
    Backup(backup::Args),
    /// Copy everything from one store to another, empty one (SQLite to PostgreSQL or back),
    /// then verify the copy by row counts and checksums.
    CopyStore(copy::Args),
    /// Check the store (integrity, schema, coverage), the settings, and optionally TWS.
    Validate(validate::Args),
    /// Price every real chain of the data folder with the modelled chain of its day and
    /// report the errors (vol points by delta and days to expiry, spreads), before and after
    /// the VIX family, SKEW and fitted spreads. Needs no store.
    CalibrateChains(calibrate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let store = &cli.store;
    let result = match cli.command {
        Command::Init => init::run(store),
        Command::Synth(args) => synth::run(store, args),
        Command::Import(args) => import::run(store, args),
        Command::Fetch(args) => fetch::run(store, args),
        Command::Backup(args) => backup::run(store, &args),
        Command::CopyStore(args) => copy::run(&args),
        Command::Validate(args) => Ok(validate::run(store, &args)),
        Command::CalibrateChains(args) => calibrate::run(&args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}
