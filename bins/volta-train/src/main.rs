//! `volta-train`: Volta's trainer. For now one subcommand, `features`, which builds the daily
//! feature matrix of an underlying and writes it as Parquet.

mod features;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Features(args) => features::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
