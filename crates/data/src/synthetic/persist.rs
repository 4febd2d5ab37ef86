//! Writing a synthetic market into a store, so that the layers above can read it like
//! imported data.

use std::collections::HashMap;

use volta_core::{DailyBar, Underlying};

use super::SyntheticMarket;
use crate::Result;
use crate::import::IndexRecord;
use crate::store::MarketStore;

/// Sessions whose chains go into one store transaction: large enough that the per-commit cost
/// (an fsync in WAL mode) is small against the rows, small enough that a progress bar moves.
pub const CHAIN_DAYS_PER_BATCH: usize = 5;

/// The symbol the synthetic market's VIX-like index is stored under in `index_values`: not
/// `VIX`, so that a store holding the real CBOE history keeps it apart from the simulation.
pub const SYNTHETIC_VIX_SYMBOL: &str = "SYNVIX";

/// What [`store_market`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoredMarket {
    /// Sessions (bars) in the market.
    pub sessions: usize,
    /// Bar rows inserted or changed.
    pub bar_rows: u64,
    /// Rows of the VIX-like index ([`SYNTHETIC_VIX_SYMBOL`]) inserted or changed.
    pub index_rows: u64,
    /// Chain snapshots written.
    pub chains: usize,
    /// Quotes in those snapshots.
    pub quotes: u64,
    /// Snapshot and quote rows inserted or changed (0 when the store already held them all).
    pub chain_rows: u64,
}

/// Writes `market`'s bars, its VIX-like index (as closes under [`SYNTHETIC_VIX_SYMBOL`]) and,
/// with `with_chains`, every session's chain into `store`.
/// `progress(done, total)` is called after each batch of sessions.
///
/// The bars go in one transaction, the index in another; chains in batches of [`CHAIN_DAYS_PER_BATCH`] sessions,
/// each its own transaction: a failure leaves whole sessions, never part of one, and running
/// it again completes the store (every write is an idempotent upsert).
///
/// # Errors
/// The errors of [`SyntheticMarket::chain`] and of the store's upserts.
pub fn store_market(
    market: &SyntheticMarket,
    store: &mut dyn MarketStore,
    with_chains: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<StoredMarket> {
    let symbol = Underlying::try_new(&market.config().symbol)?;
    let bars: Vec<_> = market.bars().collect();
    let mut summary = StoredMarket {
        sessions: bars.len(),
        bar_rows: store.upsert_daily_bars(&symbol, &bars)?,
        ..StoredMarket::default()
    };
    let vix: Vec<IndexRecord> = market
        .days()
        .iter()
        .map(|d| IndexRecord {
            date: d.bar.date,
            open: None,
            high: None,
            low: None,
            close: d.vix,
        })
        .collect();
    summary.index_rows =
        store.upsert_index_values(&Underlying::try_new(SYNTHETIC_VIX_SYMBOL)?, &vix)?;
    let total = if with_chains { bars.len() } else { 0 };
    progress(0, total);
    if !with_chains {
        return Ok(summary);
    }
    let mut start = 0;
    while start < total {
        let end = (start + CHAIN_DAYS_PER_BATCH).min(total);
        let batch = (start..end)
            .map(|i| market.chain(i))
            .collect::<Result<Vec<_>>>()?;
        summary.chains += batch.len();
        summary.quotes += batch.iter().map(|c| c.len() as u64).sum::<u64>();
        summary.chain_rows += store.upsert_chains(&batch)?;
        progress(end, total);
        start = end;
    }
    Ok(summary)
}

/// The first bar `store` holds for `market`'s ticker within the market's span that differs
/// from the simulated bar of that date (real data, or a market of another seed), if any:
/// [`store_market`] would overwrite it. `None` when the store holds no such bar or exactly
/// this market's bars.
///
/// # Errors
/// [`DataError::Core`](crate::DataError::Core) for a ticker that is not valid; the store's
/// errors ([`MarketStore::daily_bars`]).
pub fn conflicting_bar(
    market: &SyntheticMarket,
    store: &dyn MarketStore,
) -> Result<Option<DailyBar>> {
    let (Some(first), Some(last)) = (market.days().first(), market.days().last()) else {
        return Ok(None);
    };
    let symbol = Underlying::try_new(&market.config().symbol)?;
    let stored = store.daily_bars(&symbol, first.bar.date, last.bar.date)?;
    let simulated: HashMap<_, _> = market.bars().map(|b| (b.date, b)).collect();
    Ok(stored
        .into_iter()
        .find(|b| simulated.get(&b.date) != Some(b)))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::store::SqliteStore;
    use crate::synthetic::SyntheticConfig;

    fn market(seed: u64) -> SyntheticMarket {
        SyntheticMarket::generate(&SyntheticConfig {
            seed,
            start: NaiveDate::from_ymd_opt(2023, 1, 9).unwrap(),
            end: NaiveDate::from_ymd_opt(2023, 1, 13).unwrap(),
            ..SyntheticConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn only_other_bars_in_the_span_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        let seven = market(7);
        assert_eq!(
            conflicting_bar(&seven, &store).unwrap(),
            None,
            "empty store"
        );
        store_market(&seven, &mut store, false, &mut |_, _| {}).unwrap();
        assert_eq!(
            conflicting_bar(&seven, &store).unwrap(),
            None,
            "the same market"
        );
        let eight = market(8);
        let first = eight.bars().next().unwrap();
        let clash = conflicting_bar(&eight, &store).unwrap().unwrap();
        assert_eq!(clash.date, first.date);
        assert_ne!(clash, first);
    }
}
