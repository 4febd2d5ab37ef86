//! `volta-data`: the market-data command line. Wiring only: every piece of work is a
//! volta-data library call; this file parses arguments, draws progress and prints summaries.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use volta_data::store::{MarketStore, SCHEMA_VERSION, SqliteStore};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket, store_market};

/// Volta's market data: the store, imports, the synthetic market.
#[derive(Debug, Parser)]
#[command(name = "volta-data", version, about)]
struct Cli {
    /// The SQLite store (created on first use).
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
    Synth {
        /// First session.
        #[arg(long, default_value = "2014-01-02")]
        start: NaiveDate,
        /// Last session.
        #[arg(long, default_value = "2023-12-29")]
        end: NaiveDate,
        /// Seed: the same seed gives the same market, bit for bit.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The underlying simulated (SPY, SPX, QQQ and IWM get their real expiry calendars).
        #[arg(long, default_value = "SPY")]
        symbol: String,
        /// Write the bars only, no option chains.
        #[arg(long)]
        bars_only: bool,
    },
    /// Copy the store to DEST with SQLite's online backup (DEST must not exist).
    Backup {
        /// The backup file.
        dest: PathBuf,
    },
    /// Check the store (integrity, schema, coverage), the settings, and optionally TWS.
    Validate {
        /// Also check that TWS / IB Gateway accepts connections here (e.g. 127.0.0.1:7497).
        #[arg(long)]
        tws: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Init => init(&cli.store),
        Command::Synth {
            start,
            end,
            seed,
            symbol,
            bars_only,
        } => synth(&cli.store, start, end, seed, symbol, bars_only),
        Command::Backup { dest } => backup(&cli.store, &dest),
        Command::Validate { tws } => validate(&cli.store, tws.as_deref()),
    }
}

/// Opens (creating and migrating) the store, making its folder first.
fn open_store(path: &Path) -> Result<SqliteStore> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the store's folder {}", dir.display()))?;
    }
    SqliteStore::open(path).with_context(|| format!("cannot open the store {}", path.display()))
}

/// Opens a store that must already exist (commands that read it).
fn existing_store(path: &Path) -> Result<SqliteStore> {
    if !path.is_file() {
        bail!(
            "no store at {} (run `volta-data init`, or set --store / VOLTA_STORE)",
            path.display()
        );
    }
    open_store(path)
}

fn init(path: &Path) -> Result<ExitCode> {
    let store = open_store(path)?;
    println!(
        "store {} ready: schema version {} (this build: {SCHEMA_VERSION})",
        path.display(),
        store.schema_version()?
    );
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn synth(
    path: &Path,
    start: NaiveDate,
    end: NaiveDate,
    seed: u64,
    symbol: String,
    bars_only: bool,
) -> Result<ExitCode> {
    let config = SyntheticConfig {
        seed,
        start,
        end,
        symbol,
        ..SyntheticConfig::default()
    };
    let market = SyntheticMarket::generate(&config).context("cannot generate the market")?;
    let mut store = open_store(path)?;
    let bar = progress_bar(0, "sessions");
    let summary = store_market(&market, &mut store, !bars_only, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let days = market.days();
    let (lo, hi) = days.iter().fold((f64::MAX, f64::MIN), |(lo, hi), d| {
        (lo.min(d.vix), hi.max(d.vix))
    });
    println!(
        "synthetic {} {}..{} seed {seed}: {} sessions ({} bar rows written), {} chains with {} quotes ({} rows written), VIX {lo:.1}..{hi:.1}, into {}",
        config.symbol,
        days.first().map_or(start, |d| d.bar.date),
        days.last().map_or(end, |d| d.bar.date),
        summary.sessions,
        summary.bar_rows,
        summary.chains,
        summary.quotes,
        summary.chain_rows,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn backup(path: &Path, dest: &Path) -> Result<ExitCode> {
    let store = existing_store(path)?;
    store.backup_to(dest)?;
    let copy = SqliteStore::open(dest)?;
    let report = copy.integrity_check()?;
    if !report.is_ok() {
        bail!(
            "the backup {} fails its integrity check: {report:?}",
            dest.display()
        );
    }
    println!(
        "backed up {} to {} (integrity ok)",
        path.display(),
        dest.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn validate(path: &Path, tws: Option<&str>) -> Result<ExitCode> {
    let mut failures = 0;
    let mut check = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures += 1;
        }
    };
    match existing_store(path) {
        Ok(store) => {
            let version = store.schema_version()?;
            check(
                version == SCHEMA_VERSION,
                format!("store {}: schema version {version}", path.display()),
            );
            let report = store.integrity_check()?;
            check(
                report.is_ok(),
                format!(
                    "integrity: {} problems, {} orphan rows",
                    report.problems.len(),
                    report.foreign_key_violations.len()
                ),
            );
            let coverage = store.coverage()?;
            check(
                !coverage.is_empty(),
                format!("coverage: {} series", coverage.len()),
            );
            for c in coverage {
                println!(
                    "       {:?} {}: {}..{} ({} rows)",
                    c.kind, c.symbol, c.first, c.last, c.rows
                );
            }
        }
        Err(e) => check(false, format!("{e:#}")),
    }
    match std::env::var_os("VOLTA_DATA_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            check(
                dir.join("README.md").is_file(),
                format!("VOLTA_DATA_DIR {} holds the real data", dir.display()),
            );
        }
        None => println!("     VOLTA_DATA_DIR not set: imports take explicit file paths"),
    }
    if let Some(address) = tws {
        let reachable = reachable(address);
        check(
            reachable.is_ok(),
            match reachable {
                Ok(addr) => format!("TWS / IB Gateway accepts connections at {addr}"),
                Err(e) => format!("TWS / IB Gateway at {address}: {e:#}"),
            },
        );
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{failures} check(s) failed");
        ExitCode::FAILURE
    })
}

/// Connects and disconnects: a TCP handshake only, no API message (no client id is taken).
fn reachable(address: &str) -> Result<SocketAddr> {
    let addr = address
        .to_socket_addrs()
        .with_context(|| format!("`{address}` is not host:port"))?
        .next()
        .with_context(|| format!("`{address}` resolves to no address"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .with_context(|| format!("nothing accepts connections at {addr}"))?;
    Ok(addr)
}
