//! The market data a run steps through, one session at a time.

use chrono::{NaiveDate, NaiveDateTime};
use volta_broker::{SessionPrices, Settlements};
use volta_core::calendar::REGULAR_OPEN;
use volta_core::{ChainSnapshot, ContractKey, DailyBar, NyseCalendar, Underlying};
use volta_data::store::{MarketStore, SqliteStore};
use volta_data::synthetic::SyntheticMarket;

use crate::error::{EngineError, Result};

/// One session's market data: the underlyings' opening and closing prices and their chain
/// snapshots (none on a day without data: positions are then only settled and marked).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The session.
    pub date: NaiveDate,
    /// The opening time (09:30), exchange time.
    pub open_at: NaiveDateTime,
    /// The closing time (16:00, 13:00 on half days), exchange time.
    pub close_at: NaiveDateTime,
    /// Each underlying's open and close, dollars.
    pub prices: Vec<(Underlying, SessionPrices)>,
    /// The chain snapshots of the session, at most one per underlying.
    pub chains: Vec<ChainSnapshot>,
}

impl Session {
    /// The settlement prices the broker needs at the close.
    #[must_use]
    pub fn settlements(&self) -> Settlements {
        let mut s = Settlements::new();
        for (u, p) in &self.prices {
            s.insert(u.clone(), p.open, p.close);
        }
        s
    }

    /// When the decisions of the session are taken: the latest chain snapshot.
    #[must_use]
    pub fn decision_time(&self) -> Option<NaiveDateTime> {
        self.chains.iter().map(ChainSnapshot::as_of).max()
    }
}

/// A source of sessions, oldest first. A backtest replays one; live trading would build each
/// session from the broker's data as it comes.
pub trait Feed {
    /// Sessions still to come (for progress bars).
    fn remaining(&self) -> usize;

    /// The next session, `None` at the end. `held` are the option contracts the engine holds:
    /// a chain must quote them while they trade (a synthetic chain adds their strikes where
    /// its grid no longer reaches; a recorded chain has what it has).
    ///
    /// # Errors
    /// When the data for the session cannot be read or is missing.
    fn next_session(&mut self, held: &[ContractKey]) -> Result<Option<Session>>;
}

/// Where one underlying's chains come from.
#[derive(Debug, Clone)]
pub enum ChainSource {
    /// Built by a synthetic market: simulated, or priced with its smile model on a real history
    /// ([`SyntheticMarket::from_history`]). Prices are the market's bars.
    Synthetic(Box<SyntheticMarket>),
    /// Real snapshots from the store (the last of each day); prices from `bars` (for SPX, the
    /// ^GSPC index bars: open and close settle AM and PM index options).
    Stored {
        /// The chains' underlying.
        underlying: Underlying,
        /// Its daily bars over the run, ascending.
        bars: Vec<DailyBar>,
    },
}

impl ChainSource {
    fn underlying(&self) -> Result<Underlying> {
        Ok(match self {
            Self::Synthetic(m) => Underlying::try_new(&m.config().symbol)?,
            Self::Stored { underlying, .. } => underlying.clone(),
        })
    }
}

/// Replays chain sources over the NYSE sessions of a date range.
#[derive(Debug)]
pub struct MarketFeed<'a> {
    sources: Vec<(Underlying, ChainSource)>,
    store: Option<&'a SqliteStore>,
    dates: Vec<NaiveDate>,
    next: usize,
}

impl<'a> MarketFeed<'a> {
    /// A feed over the sessions from `start` to `end` (inclusive). `store` is needed when a
    /// source is [`ChainSource::Stored`].
    ///
    /// # Errors
    /// [`EngineError::Config`] for an empty range or no source, [`EngineError::MissingData`]
    /// for a stored source without a store.
    pub fn new(
        sources: Vec<ChainSource>,
        store: Option<&'a SqliteStore>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Self> {
        if sources.is_empty() {
            return Err(EngineError::Config {
                field: "underlyings",
                value: "[]".to_owned(),
                requirement: "at least one underlying",
            });
        }
        let dates = NyseCalendar.sessions_between(start, end)?;
        if dates.is_empty() {
            return Err(EngineError::Config {
                field: "start..end",
                value: format!("{start}..{end}"),
                requirement: "a range with at least one NYSE session",
            });
        }
        let sources = sources
            .into_iter()
            .map(|s| Ok((s.underlying()?, s)))
            .collect::<Result<Vec<_>>>()?;
        if store.is_none()
            && let Some((u, _)) = sources
                .iter()
                .find(|(_, s)| matches!(s, ChainSource::Stored { .. }))
        {
            return Err(EngineError::MissingData {
                what: u.to_string(),
                reason: "stored chains need a store".to_owned(),
            });
        }
        Ok(Self {
            sources,
            store,
            dates,
            next: 0,
        })
    }

    /// The sessions of the feed.
    #[must_use]
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    fn session(&self, date: NaiveDate, held: &[ContractKey]) -> Result<Session> {
        let missing = |u: &Underlying, reason: String| EngineError::MissingData {
            what: format!("{u} on {date}"),
            reason,
        };
        let mut prices = Vec::with_capacity(self.sources.len());
        let mut chains = Vec::with_capacity(self.sources.len());
        for (u, source) in &self.sources {
            match source {
                ChainSource::Synthetic(market) => {
                    let i = market
                        .index_of(date)
                        .ok_or_else(|| missing(u, "not a session of the market".to_owned()))?;
                    let bar = market.days()[i].bar;
                    prices.push((u.clone(), session_prices(&bar)));
                    chains.push(market.chain_with(i, held)?);
                }
                ChainSource::Stored { bars, .. } => {
                    let bar = bars
                        .binary_search_by_key(&date, |b| b.date)
                        .map(|i| bars[i])
                        .map_err(|_| missing(u, "no daily bar in the store".to_owned()))?;
                    prices.push((u.clone(), session_prices(&bar)));
                    if let Some(store) = self.store
                        && let Some(chain) = store.chain_on(u, date)?
                    {
                        chains.push(chain);
                    }
                }
            }
        }
        Session::on(date, prices, chains)
    }
}

fn session_prices(bar: &DailyBar) -> SessionPrices {
    SessionPrices {
        open: bar.ohlcv.open(),
        close: bar.ohlcv.close(),
    }
}

impl Feed for MarketFeed<'_> {
    fn remaining(&self) -> usize {
        self.dates.len() - self.next
    }

    fn next_session(&mut self, held: &[ContractKey]) -> Result<Option<Session>> {
        let Some(&date) = self.dates.get(self.next) else {
            return Ok(None);
        };
        let session = self.session(date, held)?;
        self.next += 1;
        Ok(Some(session))
    }
}

/// A feed over sessions prepared in memory (recorded or hand-built), replayed in order.
#[derive(Debug, Clone, Default)]
pub struct ReplayFeed {
    sessions: std::collections::VecDeque<Session>,
}

impl ReplayFeed {
    /// A feed over `sessions`, which must ascend by date.
    ///
    /// # Errors
    /// [`EngineError::Config`] if the dates do not ascend strictly.
    pub fn new(sessions: Vec<Session>) -> Result<Self> {
        if let Some(w) = sessions.windows(2).find(|w| w[0].date >= w[1].date) {
            return Err(EngineError::Config {
                field: "sessions",
                value: format!("{} after {}", w[1].date, w[0].date),
                requirement: "ascending dates",
            });
        }
        Ok(Self {
            sessions: sessions.into(),
        })
    }
}

impl Feed for ReplayFeed {
    fn remaining(&self) -> usize {
        self.sessions.len()
    }

    fn next_session(&mut self, _held: &[ContractKey]) -> Result<Option<Session>> {
        Ok(self.sessions.pop_front())
    }
}

impl Session {
    /// A session on `date` with the given prices and chains, at the calendar's open and close.
    ///
    /// # Errors
    /// [`volta_core::CoreError`] for a date the calendar does not cover, or that is not a
    /// session.
    pub fn on(
        date: NaiveDate,
        prices: Vec<(Underlying, SessionPrices)>,
        chains: Vec<ChainSnapshot>,
    ) -> Result<Self> {
        let close = NyseCalendar
            .session_close(date)?
            .ok_or_else(|| EngineError::Config {
                field: "session date",
                value: date.to_string(),
                requirement: "an NYSE session",
            })?;
        Ok(Self {
            date,
            open_at: date.and_time(REGULAR_OPEN),
            close_at: date.and_time(close),
            prices,
            chains,
        })
    }
}
