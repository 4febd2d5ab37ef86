//! A source that serves what a store holds.

use std::sync::Mutex;

use chrono::NaiveDate;
use volta_core::{ChainSnapshot, DailyBar, Underlying};

use super::{ChainDate, ExpirySelection, MarketDataSource, check_range, select_expiries};
use crate::store::{DataKind, MarketStore};
use crate::{DataError, Result};

/// Serves bars and chains from a [`MarketStore`] (imported files, earlier fetches): the
/// offline source, and the last resort of a [`super::FallbackSource`].
///
/// [`ChainDate::Latest`] is the newest snapshot the store holds for the symbol.
#[derive(Debug)]
pub struct StoreSource<M> {
    store: Mutex<M>,
}

impl<M: MarketStore + Send> StoreSource<M> {
    /// Serves from `store`.
    pub const fn new(store: M) -> Self {
        Self {
            store: Mutex::new(store),
        }
    }

    /// Gives the store back.
    ///
    /// # Panics
    /// Never in practice: only if a thread panicked while holding the store's lock.
    pub fn into_inner(self) -> M {
        self.store
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_store<T>(&self, f: impl FnOnce(&M) -> Result<T>) -> Result<T> {
        // A panic elsewhere cannot leave a half-written row: every store write is one
        // transaction. So a poisoned lock is safe to take over.
        let guard = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    fn snapshot(&self, symbol: &Underlying, date: ChainDate) -> Result<ChainSnapshot> {
        let not_available = |what: String| DataError::NotAvailable {
            source_name: "store".to_owned(),
            what,
        };
        self.with_store(|store| {
            let day = match date {
                ChainDate::On(day) => day,
                ChainDate::Latest => store
                    .coverage()?
                    .into_iter()
                    .find(|c| c.kind == DataKind::Chains && &c.symbol == symbol)
                    .map(|c| c.last)
                    .ok_or_else(|| not_available(format!("{symbol} option chain")))?,
            };
            store
                .chain_on(symbol, day)?
                .ok_or_else(|| not_available(format!("{symbol} option chain on {day}")))
        })
    }
}

impl<M: MarketStore + Send> MarketDataSource for StoreSource<M> {
    fn name(&self) -> &'static str {
        "store"
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        check_range(from, to)?;
        self.with_store(|store| store.daily_bars(symbol, from, to))
    }

    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>> {
        Ok(self.snapshot(symbol, date)?.expiries().collect())
    }

    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot> {
        select_expiries(self.name(), self.snapshot(symbol, date)?, expiries)
    }
}
