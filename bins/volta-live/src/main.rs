//! `volta-live`: the trader. `--mode sim-paper` (the default) trades the simulated broker on
//! the synthetic market or a replay of the store, one session every `--session-seconds`, with
//! the backtest's engine, strategies, risk manager, fills and journal; Ctrl-C (SIGINT) or
//! SIGTERM stops it after the session under way. `ib-paper` and `ib-live` need the Interactive
//! Brokers adapter, which this build does not have yet: they say so and exit.

mod paced;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Parser, ValueEnum};
use volta_data::store::SqliteStore;
use volta_engine::{Backtest, BacktestConfig, DataChoice, StopSignal, TextLog};

use crate::paced::PacedClock;

/// The environment variable that must say this, with the flag, before `ib-live` starts.
const LIVE_CONSENT_VAR: &str = "VOLTA_LIVE_TRADING";
const LIVE_CONSENT_VALUE: &str = "I_ACCEPT_REAL_MONEY";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// The simulated broker: no network, no account.
    SimPaper,
    /// An Interactive Brokers paper account through TWS or IB Gateway.
    IbPaper,
    /// An Interactive Brokers live account: real money.
    IbLive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Data {
    /// The synthetic market: no network, no files.
    Synthetic,
    /// A replay of the store built from the data folder (`volta-data import dir`).
    Store,
}

#[derive(Debug, Parser)]
#[command(
    name = "volta-live",
    version,
    about = "Trade Volta's strategies: sim-paper on the simulated broker (IB paper and live to come)"
)]
struct Cli {
    /// Where orders go.
    #[arg(long, value_enum, default_value_t = Mode::SimPaper)]
    mode: Mode,
    /// A TOML configuration (strategies, regime table, risk, underlyings, seed; the
    /// backtester's format); defaults otherwise.
    #[arg(long)]
    config: Option<PathBuf>,
    /// sim-paper's market data.
    #[arg(long, value_enum, default_value_t = Data::Synthetic)]
    data: Data,
    /// The store for `--data store`.
    #[arg(long, env = "VOLTA_STORE", default_value = "var/volta.db")]
    store: PathBuf,
    /// sim-paper's first session.
    #[arg(long, default_value = "2023-01-03")]
    start: NaiveDate,
    /// sim-paper's last session.
    #[arg(long, default_value = "2023-12-29")]
    end: NaiveDate,
    /// Wall-clock seconds each sim-paper session takes (0: as fast as the machine goes).
    #[arg(long, default_value_t = 2.0)]
    session_seconds: f64,
    /// The journal (SQLite) the run's orders, fills, positions and equity are written to;
    /// every start adds a run, none is overwritten.
    #[arg(long, default_value = "var/live.db")]
    journal: PathBuf,
    /// With `--mode ib-live` and the environment variable `VOLTA_LIVE_TRADING` set to
    /// `I_ACCEPT_REAL_MONEY`: trade real money.
    #[arg(long)]
    i_accept_live_trading: bool,
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    match cli.mode {
        Mode::SimPaper => sim_paper(cli),
        Mode::IbPaper => bail!(
            "--mode ib-paper needs the Interactive Brokers adapter (volta-ib), which this build \
             does not have yet; use --mode sim-paper"
        ),
        Mode::IbLive => {
            let consent = std::env::var(LIVE_CONSENT_VAR).unwrap_or_default();
            if !cli.i_accept_live_trading || consent != LIVE_CONSENT_VALUE {
                bail!(
                    "--mode ib-live trades real money: it needs both --i-accept-live-trading and \
                     {LIVE_CONSENT_VAR}={LIVE_CONSENT_VALUE} in the environment"
                );
            }
            bail!(
                "--mode ib-live needs the Interactive Brokers adapter (volta-ib), which this \
                 build does not have yet; nothing was sent"
            )
        }
    }
}

fn sim_paper(cli: &Cli) -> anyhow::Result<()> {
    if !(cli.session_seconds.is_finite() && cli.session_seconds >= 0.0) {
        bail!(
            "--session-seconds {} must be 0 or more",
            cli.session_seconds
        );
    }
    let (config, config_text) = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let config = BacktestConfig::from_toml(&text, &path.display().to_string())?;
            (config, Some(text))
        }
        None => (BacktestConfig::default(), None),
    };
    let data = match cli.data {
        Data::Synthetic => DataChoice::Synthetic,
        Data::Store => {
            if !cli.store.exists() {
                bail!(
                    "no store at {} (build it with `just data-import`, or pass --store)",
                    cli.store.display()
                );
            }
            DataChoice::Store(cli.store.clone())
        }
    };
    if let Some(dir) = cli.journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let stop = StopSignal::new();
    let handler = stop.clone();
    ctrlc::set_handler(move || handler.raise()).context("installing the SIGINT/SIGTERM handler")?;

    println!(
        "sim-paper: the simulated broker on {} data, {} to {}, one session every {} s; \
         journal {}. Ctrl-C stops after the session under way.",
        match cli.data {
            Data::Synthetic => "synthetic",
            Data::Store => "stored",
        },
        cli.start,
        cli.end,
        cli.session_seconds,
        cli.journal.display()
    );
    let backtest = Backtest {
        config,
        config_text,
        start: cli.start,
        end: cli.end,
        data,
        journal: cli.journal.clone(),
    };
    let session = Duration::from_secs_f64(cli.session_seconds);
    let clock_stop = stop.clone();
    let result = backtest.run_with_clock(
        "sim-paper",
        move |start| PacedClock::new(start, session, clock_stop),
        &mut |_, _| {},
        vec![Box::new(TextLog::new(std::io::stdout()))],
        &stop,
    )?;
    let m = &result.summary.metrics;
    println!(
        "{}: {} sessions, {} trades closed, {} open; equity {:.2} → {:.2}, fees {:.2}, max \
         drawdown {:.2} %",
        if stop.is_raised() {
            "stopped on request"
        } else {
            "done"
        },
        m.sessions.saturating_sub(1),
        m.trades,
        result.summary.open_at_end,
        m.starting_equity,
        m.ending_equity,
        m.fees_paid,
        m.max_drawdown * 100.0
    );
    // End of day: a checked copy of the journal beside it.
    let backup = cli.journal.with_extension("backup.db");
    SqliteStore::open(&cli.journal)?
        .backup_checked(&backup)
        .with_context(|| format!("backing up the journal to {}", backup.display()))?;
    println!(
        "journal: {} (run {}), backup {}",
        cli.journal.display(),
        result.run_id,
        backup.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("volta-live: {e:#}");
            ExitCode::from(2)
        }
    }
}
