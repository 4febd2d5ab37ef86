//! `volta-data`: the market-data command line. Wiring only: every piece of work is a
//! volta-data library call; this file parses arguments, draws progress and prints summaries.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, NaiveTime};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use volta_core::Underlying;
use volta_data::DataDir;
use volta_data::import::ChainRequest;
use volta_data::ingest::{
    BarsOptions, DataDirOptions, Progress, SnapshotTime, ingest_bars, ingest_chains,
    ingest_data_dir, ingest_index, ingest_rates,
};
use volta_data::source::{
    CachedSource, ChainDate, ExpirySelection, MarketDataSource, YahooConfig, YahooSource,
};
use volta_data::store::{MarketStore, SCHEMA_VERSION, SqliteStore};
use volta_data::synthetic::{SYNTHETIC_VIX_SYMBOL, SyntheticConfig, SyntheticMarket, store_market};

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
    /// Import files into the store: each file is one transaction (a file that fails leaves the
    /// store as it was; the others still go in), and importing a file again changes nothing.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Fetch daily bars (and with --chains the latest option chain) from Yahoo Finance into
    /// the store. Past sessions already stored are served from the store.
    Fetch {
        /// The symbol (e.g. SPY, QQQ, ^VIX).
        #[arg(long)]
        symbol: String,
        /// First session [default: a year before --end].
        #[arg(long)]
        start: Option<NaiveDate>,
        /// Last session [default: today].
        #[arg(long)]
        end: Option<NaiveDate>,
        /// Also fetch the latest option chain.
        #[arg(long)]
        chains: bool,
        /// Only this expiry of the chain (YYYY-MM-DD) [default: every listed expiry].
        #[arg(long, requires = "chains")]
        expiry: Option<NaiveDate>,
        /// Yahoo's API root (a recorded-reply server in tests).
        #[arg(
            long,
            env = "VOLTA_YAHOO_URL",
            default_value = "https://query2.finance.yahoo.com"
        )]
        yahoo_url: String,
        /// The page that hands out Yahoo's session cookie.
        #[arg(
            long,
            env = "VOLTA_YAHOO_COOKIE_URL",
            default_value = "https://fc.yahoo.com"
        )]
        yahoo_cookie_url: String,
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

#[derive(Debug, Subcommand)]
enum ImportWhat {
    /// Underlying daily bars (Alpha Vantage, Tiingo, Stooq, Yahoo CSV layouts).
    Bars {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File the bars under this symbol [default: the file's own, else its name up to `_`].
        #[arg(long)]
        symbol: Option<String>,
        /// Keep raw prices as read (by default QQQ's and IWM's raw files are split-adjusted).
        #[arg(long)]
        no_split_adjust: bool,
    },
    /// CBOE index histories: VIX, VIX3M, VIX9D, VVIX, SKEW.
    Vix {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File the values under this symbol [default: from the file].
        #[arg(long)]
        symbol: Option<String>,
    },
    /// FRED rate series (DTB3, DFF).
    Rates {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Option chains: the CSV layouts (plain or gzipped) or Volta's Parquet chains.
    Chains {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The underlying [default: the file name up to `_`].
        #[arg(long)]
        underlying: Option<String>,
        /// Stamp snapshots at this exchange time (HH:MM) [default: the format's own choice].
        #[arg(long)]
        at: Option<NaiveTime>,
    },
    /// Every known file of a data folder laid out as the shared one (see its README).
    Dir {
        /// The folder [default: ../shared/data beside the checkout].
        #[arg(env = "VOLTA_DATA_DIR")]
        dir: Option<PathBuf>,
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
        Command::Import { what } => import(&cli.store, what),
        Command::Fetch {
            symbol,
            start,
            end,
            chains,
            expiry,
            yahoo_url,
            yahoo_cookie_url,
        } => {
            let yahoo = YahooConfig {
                base_url: yahoo_url,
                cookie_url: yahoo_cookie_url,
                ..YahooConfig::default()
            };
            fetch(
                &cli.store,
                &symbol,
                start,
                end,
                chains.then(|| expiry.map_or(ExpirySelection::All, ExpirySelection::Only)),
                yahoo,
            )
        }
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
    refuse_to_overwrite(&store, path, &market)?;
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
        "synthetic {} {}..{} seed {seed}: {} sessions ({} bar rows, {} {SYNTHETIC_VIX_SYMBOL} rows written), {} chains with {} quotes ({} rows written), VIX {lo:.1}..{hi:.1}, into {}",
        config.symbol,
        days.first().map_or(start, |d| d.bar.date),
        days.last().map_or(end, |d| d.bar.date),
        summary.sessions,
        summary.bar_rows,
        summary.index_rows,
        summary.chains,
        summary.quotes,
        summary.chain_rows,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Imports each file in its own transaction, drawing progress; prints a line per file and a
/// total. Fails (after trying every file) if any file failed.
fn import(path: &Path, what: ImportWhat) -> Result<ExitCode> {
    let mut store = open_store(path)?;
    if let ImportWhat::Dir { dir } = what {
        let data = dir.map_or_else(DataDir::beside_checkout, DataDir::new);
        return import_dir(&mut store, &data);
    }
    let files = match &what {
        ImportWhat::Bars { files, .. }
        | ImportWhat::Vix { files, .. }
        | ImportWhat::Rates { files }
        | ImportWhat::Chains { files, .. } => files.clone(),
        ImportWhat::Dir { .. } => Vec::new(),
    };
    let symbol = |s: &Option<String>| -> Result<Option<Underlying>> {
        s.as_deref()
            .map(|s| Underlying::try_new(&s.to_ascii_uppercase()))
            .transpose()
            .context("--symbol / --underlying")
    };
    let bar = progress_bar(files.len() as u64, "files");
    let mut outcomes = Vec::with_capacity(files.len());
    for file in &files {
        bar.set_message(file_name(file));
        let outcome = match &what {
            ImportWhat::Bars {
                symbol: s,
                no_split_adjust,
                ..
            } => {
                let options = BarsOptions {
                    symbol: symbol(s)?,
                    format: None,
                    adjust_splits: !no_split_adjust,
                };
                ingest_bars(&mut store, file, &options)
            }
            ImportWhat::Vix { symbol: s, .. } => {
                ingest_index(&mut store, file, symbol(s)?.as_ref())
            }
            ImportWhat::Rates { .. } => ingest_rates(&mut store, file, None),
            ImportWhat::Chains { underlying, at, .. } => {
                let request = ChainRequest {
                    allowed: symbol(underlying)?.into_iter().collect(),
                    ..ChainRequest::default()
                };
                let time = at.map_or(SnapshotTime::FormatDefault, SnapshotTime::At);
                ingest_chains(&mut store, file, &request, time)
            }
            ImportWhat::Dir { .. } => unreachable!("handled above"),
        };
        bar.inc(1);
        outcomes.push((file.clone(), outcome));
    }
    bar.finish_and_clear();
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    let mut changed = 0;
    for (file, outcome) in &outcomes {
        match outcome {
            Ok(summary) => {
                changed += summary.rows_changed;
                println!("ok   {summary}");
            }
            Err(e) => println!("FAIL {}: {e}", file.display()),
        }
    }
    println!(
        "{} of {} files imported, {changed} rows inserted or changed, into {}",
        outcomes.len() - failed,
        outcomes.len(),
        path.display()
    );
    Ok(finish(failed))
}

fn import_dir(store: &mut SqliteStore, data: &DataDir) -> Result<ExitCode> {
    let bar = progress_bar(0, "files");
    let report = ingest_data_dir(store, data, &DataDirOptions::default(), &mut |p| match p {
        Progress::Started { total, file, .. } => {
            bar.set_length(total as u64);
            bar.set_message(file_name(file));
        }
        Progress::Finished { index, .. } => bar.set_position(index as u64 + 1),
    })
    .with_context(|| format!("importing the data folder {}", data.root().display()))?;
    bar.finish_and_clear();
    for summary in &report.imported {
        println!("ok   {summary}");
    }
    for (file, e) in &report.failed {
        println!("FAIL {}: {e}", file.display());
    }
    for (file, why) in &report.skipped {
        println!("skip {}: {why}", file.display());
    }
    println!(
        "{} files imported ({} rows inserted or changed), {} failed, {} skipped, from {}",
        report.imported.len(),
        report.imported.iter().map(|s| s.rows_changed).sum::<u64>(),
        report.failed.len(),
        report.skipped.len(),
        data.root().display()
    );
    Ok(finish(report.failed.len()))
}

fn file_name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn finish(failures: usize) -> ExitCode {
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{failures} failed");
        ExitCode::FAILURE
    }
}

/// Bars (and a chain) from Yahoo through a cache in the store: what the store already holds
/// for closed sessions is not fetched again, and everything fetched is stored.
fn fetch(
    path: &Path,
    symbol: &str,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    chains: Option<ExpirySelection>,
    yahoo: YahooConfig,
) -> Result<ExitCode> {
    let symbol = Underlying::try_new(&symbol.to_ascii_uppercase()).context("--symbol")?;
    let today = chrono::Local::now().date_naive();
    let end = end.unwrap_or(today);
    let start = start.unwrap_or_else(|| end - chrono::Days::new(365));
    let store = open_store(path)?;
    let source = CachedSource::new(
        YahooSource::new(yahoo).context("Yahoo source settings")?,
        store,
        move || today,
    );
    let spinner = ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner.set_message(format!("{symbol} daily bars {start}..{end}"));
    let bars = source
        .daily_bars(&symbol, start, end)
        .with_context(|| format!("fetching {symbol} bars {start}..{end}"))?;
    spinner.suspend(|| {
        println!(
            "bars  {symbol}: {} sessions{}",
            bars.len(),
            match (bars.first(), bars.last()) {
                (Some(a), Some(b)) =>
                    format!(" {}..{}, last close {}", a.date, b.date, b.ohlcv.close()),
                _ => String::new(),
            }
        );
    });
    if let Some(selection) = chains {
        spinner.set_message(format!("{symbol} option chain ({selection:?})"));
        let chain = source
            .chain(&symbol, ChainDate::Latest, selection)
            .with_context(|| format!("fetching the {symbol} option chain"))?;
        spinner.suspend(|| {
            println!(
                "chain {symbol} at {}: {} quotes in {} expiries, underlying {}",
                chain.as_of(),
                chain.len(),
                chain.expiries().count(),
                chain.underlying_price()
            );
        });
    }
    spinner.finish_and_clear();
    let stats = source.stats();
    println!(
        "stored in {} ({} answered from the store, {} fetched)",
        path.display(),
        stats.hits,
        stats.misses
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses a store that holds other bars of the simulated ticker in the market's span (real
/// data, or another seed): the upsert would replace them. The same market again is fine.
fn refuse_to_overwrite(store: &SqliteStore, path: &Path, market: &SyntheticMarket) -> Result<()> {
    let (Some(first), Some(last)) = (market.days().first(), market.days().last()) else {
        return Ok(());
    };
    let symbol = Underlying::try_new(&market.config().symbol)?;
    let stored = store.daily_bars(&symbol, first.bar.date, last.bar.date)?;
    let simulated: std::collections::HashMap<NaiveDate, _> =
        market.bars().map(|b| (b.date, b)).collect();
    if let Some(other) = stored.iter().find(|b| simulated.get(&b.date) != Some(*b)) {
        bail!(
            "the store {} already holds other {symbol} bars (e.g. {}: close {}): real data or \
             another seed. Use a store of its own (--store) or another --symbol",
            path.display(),
            other.date,
            other.ohlcv.close()
        );
    }
    Ok(())
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
    Ok(finish(failures))
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
