//! `volta-monitor`: the dashboard over a journal, to browse a past backtest
//! (`reports/backtest/journal.sqlite`) or follow a paper or live run from another process
//! (`var/live.db`). It reads the journal again every `--refresh-seconds`; Ctrl-C stops it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use volta_engine::StopSignal;
use volta_monitor::{AlertConfig, DashboardConfig, ManualClock, Monitor, MonitorState, serve};

#[derive(Debug, Parser)]
#[command(
    name = "volta-monitor",
    version,
    about = "Serve Volta's dashboard over a journal (a past backtest, or a run in progress)"
)]
struct Cli {
    /// The journal (SQLite) to show.
    #[arg(long, default_value = "var/live.db")]
    journal: PathBuf,
    /// The run to show (default: the latest started).
    #[arg(long)]
    run: Option<String>,
    /// Where the dashboard listens. Any address but a loopback one needs `VOLTA_DASHBOARD_TOKEN`.
    #[arg(long, default_value = "127.0.0.1:8050")]
    dashboard: SocketAddr,
    /// Seconds between two reads of the journal (0: read it once).
    #[arg(long, default_value_t = 5.0)]
    refresh_seconds: f64,
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let config = DashboardConfig::from_env(cli.dashboard)?;
    let read = || {
        MonitorState::from_journal(&cli.journal, cli.run.as_deref())
            .with_context(|| format!("reading {}", cli.journal.display()))
    };
    // Browsing halts nothing: the control is not the trader's.
    let monitor = Monitor::new(
        read()?,
        StopSignal::new(),
        Arc::new(ManualClock::default()),
        &AlertConfig::default(),
        Vec::new(),
    )?;
    let server = serve(&config, monitor.clone())?;
    println!("{}", config.describe(server.addr()));
    let state = monitor.snapshot();
    println!(
        "run {} ({}): {} sessions, {} orders; Ctrl-C stops",
        state.run_id,
        state.mode,
        state.sessions,
        state.orders_by_state.values().sum::<u64>()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let handler = Arc::clone(&stop);
    ctrlc::set_handler(move || handler.store(true, Ordering::SeqCst))
        .context("installing the SIGINT/SIGTERM handler")?;
    let tick = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(tick);
        waited += tick;
        if cli.refresh_seconds > 0.0 && waited.as_secs_f64() >= cli.refresh_seconds {
            waited = Duration::ZERO;
            match read() {
                Ok(state) => monitor.replace_state(state),
                Err(e) => eprintln!("volta-monitor: {e:#}"),
            }
        }
    }
    server.shutdown();
    Ok(())
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("volta-monitor: {e:#}");
            ExitCode::from(2)
        }
    }
}
