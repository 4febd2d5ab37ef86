//! `volta-data synth`: generate the deterministic synthetic market and write it into the store.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use volta_data::synthetic::{
    SYNTHETIC_VIX_SYMBOL, SyntheticConfig, SyntheticMarket, conflicting_bar, store_market,
};

use crate::common::{open_store, progress_bar, shown};

/// Arguments of `volta-data synth`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
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
}

pub(crate) fn run(path: &Path, args: Args) -> Result<ExitCode> {
    let Args {
        start,
        end,
        seed,
        symbol,
        bars_only,
    } = args;
    let config = SyntheticConfig {
        seed,
        start,
        end,
        symbol,
        ..SyntheticConfig::default()
    };
    let market = SyntheticMarket::generate(&config).context("cannot generate the market")?;
    let mut store = open_store(path)?;
    // Real data, or another seed, in the market's span would be replaced by the upsert. The
    // same market again is fine.
    if let Some(other) = conflicting_bar(&market, store.as_ref())? {
        bail!(
            "the store {} already holds other {} bars (e.g. {}: close {}): real data or \
             another seed. Use a store of its own (--store) or another --symbol",
            shown(path),
            config.symbol,
            other.date,
            other.ohlcv.close()
        );
    }
    let bar = progress_bar(0, "sessions");
    let summary = store_market(&market, store.as_mut(), !bars_only, &mut |done, total| {
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
        shown(path)
    );
    Ok(ExitCode::SUCCESS)
}
