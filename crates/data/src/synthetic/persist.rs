//! Writing a synthetic market into a store, so that the layers above can read it like
//! imported data.

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
    let symbol = volta_core::Underlying::try_new(&market.config().symbol)?;
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
    summary.index_rows = store.upsert_index_values(
        &volta_core::Underlying::try_new(SYNTHETIC_VIX_SYMBOL)?,
        &vix,
    )?;
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
