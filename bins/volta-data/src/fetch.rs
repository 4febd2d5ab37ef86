//! `volta-data fetch`: daily bars (and with `--chains` the latest option chain) from Yahoo
//! Finance into the store, through a cache in the store: what it already holds for closed
//! sessions is not fetched again, and everything fetched is stored.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use indicatif::ProgressBar;
use volta_core::Underlying;
use volta_data::source::{
    CachedSource, ChainDate, ExpirySelection, MarketDataSource, YahooConfig, YahooSource,
};

use crate::common::{open_store, shown};

/// Arguments of `volta-data fetch`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
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
}

pub(crate) fn run(path: &Path, args: Args) -> Result<ExitCode> {
    let symbol = Underlying::try_new(&args.symbol.to_ascii_uppercase()).context("--symbol")?;
    let chains = args.chains.then(|| {
        args.expiry
            .map_or(ExpirySelection::All, ExpirySelection::Only)
    });
    let yahoo = YahooConfig {
        base_url: args.yahoo_url,
        cookie_url: args.yahoo_cookie_url,
        ..YahooConfig::default()
    };
    let today = chrono::Local::now().date_naive();
    let end = args.end.unwrap_or(today);
    let start = args.start.unwrap_or_else(|| end - chrono::Days::new(365));
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
        shown(path),
        stats.hits,
        stats.misses
    );
    Ok(ExitCode::SUCCESS)
}
