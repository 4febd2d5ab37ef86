//! Market-data sources: where bars, expirations and option chains come from.
//!
//! [`MarketDataSource`] is the one abstraction every consumer reads through. Implementations:
//! - [`YahooSource`]: Yahoo Finance over HTTP (chart and options endpoints), rate limited
//!   and retried;
//! - [`StoreSource`]: what a [`MarketStore`](crate::store::MarketStore) holds (imported files, earlier
//!   fetches);
//! - [`SyntheticSource`]: the deterministic synthetic market (the embedded default);
//! - [`FallbackSource`]: tries its sources in order until one answers;
//! - [`CachedSource`]: keeps what another source returned in a store and serves it from there.
//!
//! Sources take `&self` and are `Send + Sync`, so one source serves several threads; the ones
//! with state (a rate limiter, a cookie, a database connection) guard it inside.

use chrono::NaiveDate;
use volta_core::{ChainSnapshot, ContractKey, DailyBar, Underlying};

use crate::Result;

mod cache;
mod fallback;
mod store;
mod synthetic;

pub use cache::{CacheStats, CachedSource};
pub use fallback::FallbackSource;
pub use store::StoreSource;
pub use synthetic::SyntheticSource;

pub mod yahoo;

pub use yahoo::{YahooConfig, YahooSource};

/// Which chain a request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainDate {
    /// The newest chain the source has: now for a live source, the last snapshot for a store,
    /// the last session for the synthetic market.
    Latest,
    /// The last chain snapshot of this session (exchange date).
    On(NaiveDate),
}

/// Which expiries of a chain a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpirySelection {
    /// Every listed expiry.
    All,
    /// One expiry.
    Only(NaiveDate),
}

/// A provider of market data. Object safe: hold a `Box<dyn MarketDataSource>`.
pub trait MarketDataSource: Send + Sync {
    /// A short name for messages and logs (`yahoo`, `store`, `synthetic`, …).
    fn name(&self) -> &str;

    /// The daily bars of `symbol` from `from` to `to` (both inclusive), ascending by date.
    /// A range with no sessions in the source gives an empty vector, not an error.
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`](crate::DataError::InvalidRequest) if `from > to`; the
    /// source's own errors (network, HTTP status, malformed reply, store).
    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>>;

    /// The listed expiries of `symbol`'s options on `date`, ascending.
    ///
    /// # Errors
    /// [`DataError::NotAvailable`](crate::DataError::NotAvailable) if the source has no chain
    /// for that symbol and date (or cannot serve that date at all, as a live source for a past
    /// date); the source's own errors.
    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>>;

    /// The option chain of `symbol` on `date`, for the selected expiries.
    ///
    /// # Errors
    /// As [`Self::expirations`]; an expiry the chain does not list is
    /// [`DataError::NotAvailable`](crate::DataError::NotAvailable).
    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot>;

    /// The whole chain of `symbol` on `date`, quoting at least the contracts in `held` that
    /// still trade: what a trading loop asks for each session, so that a position can always
    /// be marked and closed. A recorded chain has what it has (this default asks for
    /// [`Self::chain`] with every expiry); a generated chain adds the held strikes where its
    /// grid no longer reaches them.
    ///
    /// # Errors
    /// As [`Self::chain`].
    fn chain_quoting(
        &self,
        symbol: &Underlying,
        date: NaiveDate,
        held: &[ContractKey],
    ) -> Result<ChainSnapshot> {
        let _ = held;
        self.chain(symbol, ChainDate::On(date), ExpirySelection::All)
    }
}

impl<S: MarketDataSource + ?Sized> MarketDataSource for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        (**self).daily_bars(symbol, from, to)
    }
    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>> {
        (**self).expirations(symbol, date)
    }
    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot> {
        (**self).chain(symbol, date, expiries)
    }
    fn chain_quoting(
        &self,
        symbol: &Underlying,
        date: NaiveDate,
        held: &[ContractKey],
    ) -> Result<ChainSnapshot> {
        (**self).chain_quoting(symbol, date, held)
    }
}

impl std::fmt::Debug for dyn MarketDataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MarketDataSource({})", self.name())
    }
}

/// Checks a bar range request.
pub(crate) fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if from > to {
        return Err(crate::DataError::InvalidRequest {
            reason: format!("bar range starts {from}, after its end {to}"),
        });
    }
    Ok(())
}

/// Keeps only the selected expiries of a snapshot; an expiry not listed is `NotAvailable`.
pub(crate) fn select_expiries(
    source: &str,
    chain: ChainSnapshot,
    expiries: ExpirySelection,
) -> Result<ChainSnapshot> {
    match expiries {
        ExpirySelection::All => Ok(chain),
        ExpirySelection::Only(expiry) => {
            let quotes = chain.quotes(expiry).to_vec();
            if quotes.is_empty() {
                return Err(crate::DataError::NotAvailable {
                    source_name: source.to_owned(),
                    what: format!(
                        "{} options expiring {expiry} on {}",
                        chain.underlying(),
                        chain.as_of().date()
                    ),
                });
            }
            Ok(ChainSnapshot::try_new(
                chain.as_of(),
                chain.underlying().clone(),
                chain.underlying_price(),
                quotes,
            )?)
        }
    }
}
