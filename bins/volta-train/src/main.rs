//! `volta-train`: Volta's trainer. `features` builds the daily feature matrix of an
//! underlying and writes it as Parquet; `labels` labels every candidate trade by simulating it
//! forward in the engine; `validate` runs the purged walk-forward of the models and the
//! out-of-sample backtest of the model-filtered adaptive strategy, and writes the report;
//! `train` fits, saves and registers a trading model; `list` and `promote` manage the model
//! registry.

mod features;
mod registry;
mod train;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "volta-train",
    version,
    about = "Volta's trainer: features, labels from the engine, walk-forward validation of the models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the daily feature matrix of one underlying and write it as Parquet.
    Features(features::Args),
    /// Label every candidate the strategies propose: traded forward alone by the engine
    /// (fills, fees, position management), profitable after fees, return on risk, horizon.
    Labels(validate::LabelsArgs),
    /// Purged walk-forward validation of the models over the real history, and the
    /// out-of-sample backtest of the model-filtered adaptive strategy: HTML + JSON report.
    Validate(validate::ValidateArgs),
    /// Train a trading model (gbm or logistic) on the labelled history, save it, register it
    /// with its out-of-sample metrics (overall and per regime), promote it by --promote, and
    /// log the run to MLflow when `MLFLOW_TRACKING_URI` is set.
    Train(train::TrainArgs),
    /// List the models in the registry (the promoted one marked `*`).
    List(registry::ListArgs),
    /// Promote a registered model: the one the adaptive strategy loads, in backtests and live.
    Promote(registry::PromoteArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Features(args) => features::run(&args),
        Command::Labels(args) => validate::labels(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Train(args) => train::run(&args),
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
