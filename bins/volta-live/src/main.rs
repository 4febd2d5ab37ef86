//! `volta-live`: the trader. `--mode sim-paper` (the default) trades the simulated broker on
//! the synthetic market or a replay of the store, one session every `--session-seconds` (or in
//! real time with `--realtime`), with the backtest's engine, strategies, risk manager, fills
//! and journal, backing the journal up after every session; Ctrl-C (SIGINT) or SIGTERM stops
//! it after the session under way (in real time: at once, before the next event). `ib-paper` and `ib-live` trade an
//! Interactive Brokers account through TWS or IB Gateway (`ib.rs`, docs/live.md).

mod ib;
mod model;
mod paced;
mod wall;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Parser, ValueEnum};
use volta_data::store::{SqliteStore, StoreLocation};
use volta_engine::{
    Backtest, BacktestConfig, DataChoice, EngineError, EngineEvent, Observer, StopSignal, TextLog,
};
use volta_monitor::ConnectionState;

use crate::paced::PacedClock;
use crate::wall::{WallClock, new_york_now};

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

#[derive(Debug, Parser)]
#[command(
    name = "volta-live",
    version,
    about = "Trade Volta's strategies: sim-paper on the simulated broker, or Interactive Brokers through TWS / IB Gateway"
)]
struct Cli {
    /// Where orders go.
    #[arg(long, value_enum, default_value_t = Mode::SimPaper)]
    mode: Mode,
    /// A TOML configuration (strategies, regime table, risk, underlyings, seed; the
    /// backtester's format); defaults otherwise.
    #[arg(long)]
    config: Option<PathBuf>,
    /// sim-paper's market data: `synthetic` (no network, no files) or `store` (a replay of the
    /// store built by `volta-data import dir`).
    #[arg(long, default_value = "synthetic", value_parser = DataChoice::FLAG_VALUES)]
    data: String,
    /// The store for `--data store`.
    #[arg(long, env = "VOLTA_STORE", default_value = "var/volta.db")]
    store: PathBuf,
    /// sim-paper's first session (default 2023-01-03; with `--realtime`, today in New York).
    #[arg(long)]
    start: Option<NaiveDate>,
    /// sim-paper's last session (default 2023-12-29; with `--realtime`, a year after the
    /// start).
    #[arg(long)]
    end: Option<NaiveDate>,
    /// Wall-clock seconds each sim-paper session takes (0: as fast as the machine goes).
    #[arg(long, default_value_t = 2.0, conflicts_with = "realtime")]
    session_seconds: f64,
    /// Trade each session at its real New York time (the synthetic market's sessions from
    /// today): the open at 09:30, the decision at 15:45 (12:45 on early closes), the close.
    #[arg(long, conflicts_with = "data")]
    realtime: bool,
    /// The journal (SQLite) the run's orders, fills, positions and equity are written to;
    /// every start adds a run, none is overwritten.
    #[arg(long, default_value = "var/live.db")]
    journal: PathBuf,
    /// With `--mode ib-live` and the environment variable `VOLTA_LIVE_TRADING` set to
    /// `I_ACCEPT_REAL_MONEY`: trade real money.
    #[arg(long)]
    i_accept_live_trading: bool,
    /// Where the dashboard (and /metrics) listens. Any address but a loopback one needs
    /// `VOLTA_DASHBOARD_TOKEN` set.
    #[arg(long, default_value = "127.0.0.1:8050")]
    dashboard: std::net::SocketAddr,
    /// No dashboard (alerts still go out).
    #[arg(long, conflicts_with = "dashboard")]
    no_dashboard: bool,
    /// The monitor's TOML (alert thresholds and channels, docs/monitoring.md); defaults
    /// otherwise.
    #[arg(long)]
    monitor_config: Option<PathBuf>,
    #[command(flatten)]
    ib: ib::IbArgs,
    #[command(flatten)]
    model: model::ModelArgs,
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    match cli.mode {
        Mode::SimPaper => sim_paper(cli),
        Mode::IbPaper => ib::ib_session(cli, false),
        Mode::IbLive => {
            let consent = std::env::var(LIVE_CONSENT_VAR).unwrap_or_default();
            if !cli.i_accept_live_trading || consent != LIVE_CONSENT_VALUE {
                bail!(
                    "--mode ib-live trades real money: it needs both --i-accept-live-trading and \
                     {LIVE_CONSENT_VAR}={LIVE_CONSENT_VALUE} in the environment"
                );
            }
            ib::ib_session(cli, true)
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
    let (config, config_text) = load_config(cli)?;
    let data = DataChoice::from_flag(&cli.data, &cli.store)?;
    let journal_shown = StoreLocation::from_path(&cli.journal);
    make_journal_folder(&journal_shown)?;
    let stop = StopSignal::new();
    let live = start_monitor(cli, &stop, "sim-paper", ConnectionState::Simulated)?;
    let handler = stop.clone();
    ctrlc::set_handler(move || handler.raise()).context("installing the SIGINT/SIGTERM handler")?;

    let today = new_york_now().date();
    let start = cli.start.unwrap_or(if cli.realtime {
        today
    } else {
        date(2023, 1, 3)
    });
    let end = cli.end.unwrap_or(if cli.realtime {
        start + chrono::Days::new(365)
    } else {
        date(2023, 12, 29)
    });
    let pace = if cli.realtime {
        "in real time (New York)".to_owned()
    } else {
        format!("one session every {} s", cli.session_seconds)
    };
    println!(
        "sim-paper: the simulated broker on {} data, {start} to {end}, {pace}; journal {}, \
         backed up after every session. Ctrl-C stops {}.",
        cli.data,
        journal_shown,
        if cli.realtime {
            "at once (before the next event)"
        } else {
            "after the session under way"
        }
    );
    for line in &live.banner {
        println!("{line}");
    }
    let backtest = Backtest {
        config,
        config_text,
        start,
        end,
        data,
        journal: cli.journal.clone(),
    };
    let backup = cli.journal.with_extension("backup.db");
    // A replay's decisions are known ahead: the model's day rows are computed once.
    let model = if matches!(backtest.data, DataChoice::Store(_)) {
        cli.model.load(
            &backtest.config,
            &cli.store,
            volta_engine::training::DayRows::Range(start, end),
        )?
    } else if cli.model.model.is_some() {
        bail!("--model needs --data store: the model's features come from the real history");
    } else {
        None
    };
    let mut observers: Vec<Box<dyn Observer + Send>> = vec![
        Box::new(TextLog::new(std::io::stdout())),
        Box::new(DailyBackup {
            journal: cli.journal.clone(),
            backup: backup.clone(),
        }),
        Box::new(live.monitor.observer()),
    ];
    let (filter, retrainer) = model::LoadedModel::wire(model, &mut observers, &live.monitor);
    let clock_stop = stop.clone();
    let outcome = if cli.realtime {
        backtest.run_with_clock_scored(
            "sim-paper",
            move |start| WallClock::new(start, clock_stop),
            filter,
            &mut |_, _| {},
            observers,
            &stop,
        )
    } else {
        let session = Duration::from_secs_f64(cli.session_seconds);
        backtest.run_with_clock_scored(
            "sim-paper",
            move |start| PacedClock::new(start, session, clock_stop),
            filter,
            &mut |_, _| {},
            observers,
            &stop,
        )
    };
    retrainer.as_ref().map(crate::model::Retrainer::wait);
    finish(&live, outcome, stop.is_raised(), &cli.journal, &backup)
}

/// The end of a run: its error to the monitor, queued alerts out, the summary printed.
fn finish(
    live: &volta_monitor::live::LiveMonitor,
    outcome: volta_engine::Result<volta_engine::BacktestResult>,
    stopped: bool,
    journal: &std::path::Path,
    backup: &std::path::Path,
) -> anyhow::Result<()> {
    if let Err(e) = &outcome
        && !matches!(e, EngineError::Stopped { .. })
    {
        live.monitor.record_error("engine", &e.to_string());
    }
    // Queued alerts go out before the trader exits.
    live.monitor.finish();
    let result = match outcome {
        Err(EngineError::Stopped { .. }) => {
            println!("stopped on request before the first session: nothing traded");
            return Ok(());
        }
        other => other?,
    };
    print_summary(&result, stopped, journal, backup);
    Ok(())
}

/// The dashboard, the metrics and the alerts of a run (`docs/monitoring.md`).
fn start_monitor(
    cli: &Cli,
    stop: &StopSignal,
    mode: &str,
    connection: ConnectionState,
) -> anyhow::Result<volta_monitor::live::LiveMonitor> {
    Ok(volta_monitor::live::start(
        volta_monitor::live::LiveOptions {
            mode,
            connection,
            dashboard: (!cli.no_dashboard).then_some(cli.dashboard),
            config: cli.monitor_config.as_deref(),
            control: stop.clone(),
            clock: std::sync::Arc::new(wall::Monotonic::start()),
        },
    )?)
}

/// Makes a SQLite journal's folder; a `postgres://` journal is a server's database.
fn make_journal_folder(journal: &StoreLocation) -> anyhow::Result<()> {
    if let StoreLocation::Sqlite(path) = journal
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// The run's last lines: how it ended, what it did, where its journal is.
fn print_summary(
    result: &volta_engine::BacktestResult,
    stopped: bool,
    journal: &std::path::Path,
    backup: &std::path::Path,
) {
    let m = &result.summary.metrics;
    println!(
        "{}: {} sessions, {} trades closed, {} open; equity {:.2} → {:.2}, fees {:.2}, max \
         drawdown {:.2} %",
        if stopped {
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
    let shown = StoreLocation::from_path(journal);
    let backed_up = if shown.is_postgres() {
        "no file backup (a PostgreSQL journal is backed up by its server's means)".to_owned()
    } else if backup.exists() {
        format!("backup {}", backup.display())
    } else {
        "no session closed, no backup".to_owned()
    };
    println!("journal: {shown} (run {}), {backed_up}", result.run_id);
}

/// The `--config` file, or the defaults.
fn load_config(cli: &Cli) -> anyhow::Result<(BacktestConfig, Option<String>)> {
    let Some(path) = &cli.config else {
        return Ok((BacktestConfig::default(), None));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config = BacktestConfig::from_toml(&text, &path.display().to_string())?;
    Ok((config, Some(text)))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// End of day: after each session's close (the journal has just flushed it), a checked copy
/// of the journal replaces the backup beside it.
pub(crate) struct DailyBackup {
    pub(crate) journal: PathBuf,
    pub(crate) backup: PathBuf,
}

impl Observer for DailyBackup {
    fn on_event(&mut self, event: &EngineEvent) -> volta_engine::Result<()> {
        if let EngineEvent::SessionClosed { .. } = event {
            // A PostgreSQL journal is backed up by its server's own means, not copied here.
            let StoreLocation::Sqlite(journal) = StoreLocation::from_path(&self.journal) else {
                return Ok(());
            };
            let copy = self.backup.with_extension("tmp");
            SqliteStore::open(&journal)?.backup_checked(&copy)?;
            std::fs::rename(&copy, &self.backup).map_err(|e| EngineError::Observer {
                observer: "daily backup",
                reason: format!(
                    "renaming {} to {}: {e}",
                    copy.display(),
                    self.backup.display()
                ),
            })?;
        }
        Ok(())
    }
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
