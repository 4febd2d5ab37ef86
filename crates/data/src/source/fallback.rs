//! A source that tries its sources in order.

use chrono::NaiveDate;
use volta_core::{ChainSnapshot, DailyBar, Underlying};

use super::{ChainDate, ExpirySelection, MarketDataSource, check_range};
use crate::{DataError, Result};

/// Asks each source in turn and returns the first answer: the original plan's answer to a
/// data provider that goes down (e.g. Yahoo, then the local store, then the synthetic market).
///
/// A source "fails" when it returns an error of any kind. For bars, an empty answer also
/// moves on to the next source (a provider that has no bars for a range is as good as down
/// for that range); if every source answers empty, the answer is empty. When every source
/// fails, [`DataError::AllSourcesFailed`] lists each one's error in order. A request that is
/// invalid in itself (`from > to`) fails at once without asking anyone.
#[derive(Debug, Default)]
pub struct FallbackSource {
    sources: Vec<Box<dyn MarketDataSource>>,
}

impl FallbackSource {
    /// An empty chain of sources; add them with [`Self::then`].
    #[must_use]
    pub const fn new() -> Self {
        Self {
            sources: Vec::new(),
        }
    }

    /// Adds `source` after the ones already there.
    #[must_use]
    pub fn then(mut self, source: impl MarketDataSource + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }

    /// The sources' names, in the order they are asked.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources
            .iter()
            .map(|s| MarketDataSource::name(s.as_ref()))
    }

    /// Asks each source; `usable` decides whether an answer ends the search.
    fn first<T>(
        &self,
        ask: impl Fn(&dyn MarketDataSource) -> Result<T>,
        usable: impl Fn(&T) -> bool,
    ) -> Result<T> {
        let mut attempts = Vec::new();
        let mut unusable = None;
        for source in &self.sources {
            match ask(source.as_ref()) {
                Ok(answer) if usable(&answer) => return Ok(answer),
                Ok(answer) => unusable = unusable.or(Some(answer)),
                Err(e) => attempts.push((source.name().to_owned(), Box::new(e))),
            }
        }
        match unusable {
            Some(answer) => Ok(answer),
            None if attempts.is_empty() => Err(DataError::InvalidRequest {
                reason: "a fallback source with no sources cannot answer".to_owned(),
            }),
            None => Err(DataError::AllSourcesFailed { attempts }),
        }
    }
}

impl MarketDataSource for FallbackSource {
    fn name(&self) -> &'static str {
        "fallback"
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        check_range(from, to)?;
        self.first(|s| s.daily_bars(symbol, from, to), |bars| !bars.is_empty())
    }

    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>> {
        self.first(|s| s.expirations(symbol, date), |_| true)
    }

    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot> {
        self.first(|s| s.chain(symbol, date, expiries), |_| true)
    }
}
