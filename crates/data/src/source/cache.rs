//! A source that keeps what another source returned in a store.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use volta_core::{ChainSnapshot, DailyBar, NyseCalendar, Underlying};

use super::{ChainDate, ExpirySelection, MarketDataSource, check_range, select_expiries};
use crate::Result;
use crate::store::MarketStore;

/// How often a [`CachedSource`] answered from its store and how often it asked its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Requests answered from the store alone.
    pub hits: u64,
    /// Requests passed on to the inner source.
    pub misses: u64,
}

/// Wraps a source with a local cache: the store. The original plan's answer to rate limits
/// and outages — data fetched once is not fetched again, and stays available offline (put a
/// [`super::StoreSource`] on the same file after this one in a [`super::FallbackSource`]).
///
/// What is served from the store, and when:
/// - **bars**: a range is served from the store when the store holds a bar for every NYSE
///   session in it and the range ends before `today` (bars of a session still trading or not
///   yet closed may change). Otherwise the inner source is asked and its bars are upserted
///   into the store (so a partial bar of today is replaced when the source has the final one).
/// - **chains**: a past session's chain ([`ChainDate::On`] before `today`) is served from the
///   store when it holds one; [`ChainDate::Latest`] and today's chain always ask the inner
///   source (a chain is a moment, and the caller wants the newest), and every fetched chain is
///   stored — so the store accumulates a history of snapshots.
///
/// Writes are upserts in one transaction (see [`MarketStore`]), so a failure while caching
/// never leaves a partial batch. A caching failure is returned as the error rather than
/// swallowed: a cache that silently stops caching hides a broken store from its user.
pub struct CachedSource<S, M> {
    inner: S,
    store: Mutex<M>,
    today: Box<dyn Fn() -> NaiveDate + Send + Sync>,
    hits: AtomicU64,
    misses: AtomicU64,
    name: String,
}

impl<S: std::fmt::Debug, M: std::fmt::Debug> std::fmt::Debug for CachedSource<S, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSource")
            .field("inner", &self.inner)
            .field("store", &self.store)
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish_non_exhaustive()
    }
}

impl<S: MarketDataSource, M: MarketStore + Send> CachedSource<S, M> {
    /// Caches `inner` in `store`. `today` gives the current exchange date (inject a fixed
    /// date in tests and backtests; a wall-clock date in a binary).
    pub fn new(inner: S, store: M, today: impl Fn() -> NaiveDate + Send + Sync + 'static) -> Self {
        let name = format!("cached {}", inner.name());
        Self {
            inner,
            store: Mutex::new(store),
            today: Box::new(today),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            name,
        }
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The wrapped source.
    pub const fn inner(&self) -> &S {
        &self.inner
    }

    /// Gives the store back.
    pub fn into_store(self) -> M {
        self.store
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut M) -> Result<T>) -> Result<T> {
        // Every store write is one transaction, so a lock poisoned by a panic elsewhere
        // guards no half-written state.
        let mut guard = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    fn hit<T>(&self, value: T) -> T {
        self.hits.fetch_add(1, Ordering::Relaxed);
        value
    }

    fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    fn stored_chain(&self, symbol: &Underlying, date: ChainDate) -> Result<Option<ChainSnapshot>> {
        match date {
            ChainDate::On(day) if day < (self.today)() => {
                self.with_store(|store| store.chain_on(symbol, day))
            }
            _ => Ok(None),
        }
    }

    fn fetch_chain(&self, symbol: &Underlying, date: ChainDate) -> Result<ChainSnapshot> {
        self.miss();
        let chain = self.inner.chain(symbol, date, ExpirySelection::All)?;
        self.with_store(|store| store.upsert_chains(std::slice::from_ref(&chain)))?;
        Ok(chain)
    }
}

impl<S: MarketDataSource, M: MarketStore + Send> MarketDataSource for CachedSource<S, M> {
    fn name(&self) -> &str {
        &self.name
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        check_range(from, to)?;
        if to < (self.today)() {
            let stored = self.with_store(|store| store.daily_bars(symbol, from, to))?;
            // Outside the calendar's years the cache cannot know what is complete: ask.
            if let Ok(sessions) = NyseCalendar.sessions_between(from, to)
                && !sessions.is_empty()
                && sessions.len() == stored.len()
                && sessions.iter().zip(&stored).all(|(d, b)| *d == b.date)
            {
                return Ok(self.hit(stored));
            }
        }
        self.miss();
        let bars = self.inner.daily_bars(symbol, from, to)?;
        self.with_store(|store| store.upsert_daily_bars(symbol, &bars))?;
        Ok(bars)
    }

    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>> {
        if let Some(chain) = self.stored_chain(symbol, date)? {
            return Ok(self.hit(chain.expiries().collect()));
        }
        // Expirations alone are cheap at every source and not stored: pass the request on.
        self.miss();
        self.inner.expirations(symbol, date)
    }

    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot> {
        let chain = match self.stored_chain(symbol, date)? {
            Some(chain) => self.hit(chain),
            None if expiries == ExpirySelection::All => self.fetch_chain(symbol, date)?,
            None => {
                // One expiry of a chain not held: fetch only that, and store it (a partial
                // snapshot; a later full fetch of the same moment upserts the rest).
                self.miss();
                let chain = self.inner.chain(symbol, date, expiries)?;
                self.with_store(|store| store.upsert_chains(std::slice::from_ref(&chain)))?;
                return Ok(chain);
            }
        };
        select_expiries(self.name(), chain, expiries)
    }
}
