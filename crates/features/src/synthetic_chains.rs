//! Option-chain summaries where no real chain history exists: the synthetic market rebuilt on
//! the real bars and VIX closes ([`SyntheticMarket::from_history`]), each session's chain
//! summarised by [`chain_metrics::summarise`](crate::chain_metrics::summarise).
//!
//! The synthetic smile's 30-day ATM vol is the day's VIX, its skew and term structure the
//! synthetic model's; the bars are the real ones. Features built on these summaries are
//! tagged [`Provenance::Synthetic`](crate::panel::Provenance) in the feature matrix, so a
//! model never mistakes them for real chains.
//!
//! Chains are generated and summarised on every available core (the work is independent per
//! session and dominated by pricing ~5 000 quotes a day).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use volta_core::{DailyBar, QualityPolicy};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};

use crate::chain_metrics::{ChainSummary, summarise};
use crate::error::Result;

/// Monthly expiries beyond this many calendar days are not generated for feature summaries:
/// every metric uses slices within [`BACK_MIN_DAYS`](crate::chain_metrics::BACK_MIN_DAYS) plus
/// one monthly cycle, and a year of monthlies would triple the work. Put/call ratios and GEX
/// cover the expiries up to this horizon.
pub const SUMMARY_HORIZON_DAYS: u32 = 100;

/// The synthetic chain summaries of every session in `bars`, ascending by date.
///
/// `config` supplies the symbol, rates and chain settings (its dates and initial spot are
/// replaced by the bars' span; its monthly horizon is capped at [`SUMMARY_HORIZON_DAYS`]).
/// Sessions without a listed expiry yet (an empty chain) have no summary. `on_session` is
/// called once per summarised session, from any worker thread, for a progress bar.
///
/// # Errors
/// The errors of [`SyntheticMarket::from_history`] (bars out of order, a session without a
/// VIX close); [`FeatureError::Data`](crate::FeatureError) if a chain cannot be generated;
/// the errors of [`summarise`]. The first error stops the work.
pub fn synthetic_summaries(
    config: &SyntheticConfig,
    bars: &[DailyBar],
    vix: &[(NaiveDate, f64)],
    on_session: &(dyn Fn() + Sync),
) -> Result<Vec<ChainSummary>> {
    let mut config = config.clone();
    config.chain.max_days_monthlies = config.chain.max_days_monthlies.min(SUMMARY_HORIZON_DAYS);
    config.chain.max_days_all_expiries = config
        .chain
        .max_days_all_expiries
        .min(config.chain.max_days_monthlies);
    let market = SyntheticMarket::from_history(&config, bars, vix)?;
    let inputs = volta_core::RatesAndYield::try_new(config.rate, config.dividend_yield)?;
    let policy = QualityPolicy::default();
    let sessions = market.days().len();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Option<ChainSummary>>)>> =
        Mutex::new(Vec::with_capacity(sessions));
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= sessions {
                        break;
                    }
                    let summary = market
                        .chain(index)
                        .map_err(crate::FeatureError::from)
                        .and_then(|chain| {
                            if chain.is_empty() {
                                Ok(None)
                            } else {
                                summarise(&chain, &inputs, &policy).map(Some)
                            }
                        });
                    let failed = summary.is_err();
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((index, summary));
                    on_session();
                    if failed {
                        // Stop handing out work: the caller gets the first error.
                        next.store(sessions, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(index, _)| *index);
    let mut summaries = Vec::with_capacity(results.len());
    for (_, summary) in results {
        if let Some(summary) = summary? {
            summaries.push(summary);
        }
    }
    Ok(summaries)
}
