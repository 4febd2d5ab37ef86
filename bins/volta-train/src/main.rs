//! `volta-train`: Volta's trainer. For now one subcommand, `features`, which builds the daily
//! feature matrix of an underlying and writes it as Parquet.

mod features;
mod registry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "volta-train",
    version,
    about = "Volta's trainer: features (labels, models and walk-forward validation to come)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the daily feature matrix of one underlying and write it as Parquet.
    Features(features::Args),
    /// List the models in the registry (the promoted one marked `*`).
    List(registry::ListArgs),
    /// Promote a registered model: the one the adaptive strategy loads, in backtests and live.
    Promote(registry::PromoteArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Features(args) => features::run(&args),
        Command::List(args) => registry::list(&args),
        Command::Promote(args) => registry::promote(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
