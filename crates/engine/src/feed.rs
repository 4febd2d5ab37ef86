//! The market data a run steps through, one session at a time.

use chrono::{NaiveDate, NaiveDateTime};
use volta_broker::{SessionPrices, Settlements};
use volta_core::calendar::REGULAR_OPEN;
use volta_core::{ChainSnapshot, ContractKey, DailyBar, NyseCalendar, Underlying};
use volta_data::DataError;
use volta_data::source::MarketDataSource;

use crate::error::{EngineError, Result};
use crate::signals::Signals;

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
        settlements(&self.prices)
    }

    /// When the decisions of the session are taken: the latest chain snapshot.
    #[must_use]
    pub fn decision_time(&self) -> Option<NaiveDateTime> {
        self.chains.iter().map(ChainSnapshot::as_of).max()
    }
}

/// A moment in a session when the strategies look at the market ([`Feed::next_check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Check<'s> {
    /// The chains then, at most one per underlying; the check happens at the latest one's
    /// time.
    pub chains: std::borrow::Cow<'s, [ChainSnapshot]>,
    /// Whether new positions may be opened (the decision), or only the open ones managed (a
    /// management check).
    pub openings: bool,
    /// Why the chains could not be read, when they could not (the check is then skipped and
    /// the gap reported).
    pub gap: Option<String>,
}

/// The NYSE sessions from `start` to `end` a feed of `underlyings` underlyings steps through.
///
/// # Errors
/// [`EngineError::Config`] for no underlying or a range without a session.
pub(crate) fn sessions_for(
    underlyings: usize,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<NaiveDate>> {
    if underlyings == 0 {
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
    Ok(dates)
}

/// The settlement prices of a session whose prices are `prices`.
pub(crate) fn settlements(prices: &[(Underlying, SessionPrices)]) -> Settlements {
    let mut s = Settlements::new();
    for (u, p) in prices {
        s.insert(u.clone(), p.open, p.close);
    }
    s
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

    /// The session's next check: a moment the strategies look at the market, with the chains
    /// then (`checks` have been made so far this session; `held` are the contracts held).
    /// `None` once the session has no more. A replayed session has one, the decision on its
    /// chain snapshots (this default); a live feed adds management checks through the day,
    /// where positions are managed but none is opened.
    ///
    /// # Errors
    /// When the chains cannot be read.
    fn next_check<'s>(
        &mut self,
        session: &'s Session,
        held: &[ContractKey],
        checks: usize,
    ) -> Result<Option<Check<'s>>> {
        let _ = held;
        Ok((checks == 0 && !session.chains.is_empty()).then(|| Check {
            chains: std::borrow::Cow::Borrowed(&session.chains),
            openings: true,
            gap: None,
        }))
    }

    /// The session's opening and closing prices, asked once the engine's clock has reached its
    /// close. A replayed session knew them when it was read (this default returns them); a
    /// live feed asks the market now, since at the decision the close was still to come.
    ///
    /// # Errors
    /// When the prices cannot be read.
    fn closing_prices(&mut self, session: &Session) -> Result<Vec<(Underlying, SessionPrices)>> {
        Ok(session.prices.clone())
    }

    /// Signals that replace the engine's before the decisions of session `date`. A replay
    /// computed them over its whole history at the start (this default: `None`, keep them); a
    /// live feed's history grows by a session each day, so it reads them again.
    ///
    /// # Errors
    /// When the history cannot be read.
    fn signals_before(&mut self, date: NaiveDate) -> Result<Option<Signals>> {
        let _ = date;
        Ok(None)
    }
}

/// One underlying a [`SourceFeed`] replays: its session prices and where its chains come
/// from. The feed knows no more about the source than the [`MarketDataSource`] trait says:
/// the synthetic market, the store, a recorded reply or a live connection look the same.
#[derive(Debug)]
pub struct FeedUnderlying {
    /// The underlying traded.
    pub underlying: Underlying,
    /// Its daily bars over the run, ascending: the open and close of each session (for SPX,
    /// the ^GSPC index bars, whose open and close settle AM and PM index options).
    pub bars: Vec<DailyBar>,
    /// Its option chains. A session the source has no chain for
    /// ([`DataError::NotAvailable`]) has none: positions are then only settled and marked.
    pub chains: Box<dyn MarketDataSource>,
}

impl FeedUnderlying {
    /// `underlying` with its bars from `start` to `end` and its chains, both from `source`.
    ///
    /// # Errors
    /// The source's, when its bars cannot be read.
    pub fn from_source(
        underlying: Underlying,
        source: Box<dyn MarketDataSource>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Self> {
        let bars = source.daily_bars(&underlying, start, end)?;
        Ok(Self {
            underlying,
            bars,
            chains: source,
        })
    }
}

/// Replays market-data sources over the NYSE sessions of a date range: each session's prices
/// from the underlyings' bars, and the chain each source gives for the session (quoting the
/// contracts the engine holds, where the source can).
#[derive(Debug)]
pub struct SourceFeed {
    underlyings: Vec<FeedUnderlying>,
    dates: Vec<NaiveDate>,
    next: usize,
}

impl SourceFeed {
    /// A feed over the sessions from `start` to `end` (inclusive).
    ///
    /// # Errors
    /// [`EngineError::Config`] for an empty range or no underlying.
    pub fn new(underlyings: Vec<FeedUnderlying>, start: NaiveDate, end: NaiveDate) -> Result<Self> {
        let dates = sessions_for(underlyings.len(), start, end)?;
        Ok(Self {
            underlyings,
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
        let mut prices = Vec::with_capacity(self.underlyings.len());
        let mut chains = Vec::with_capacity(self.underlyings.len());
        for u in &self.underlyings {
            let bar = u
                .bars
                .binary_search_by_key(&date, |b| b.date)
                .map(|i| u.bars[i])
                .map_err(|_| EngineError::MissingData {
                    what: format!("{} on {date}", u.underlying),
                    reason: format!("no daily bar from the {} source", u.chains.name()),
                })?;
            prices.push((u.underlying.clone(), session_prices(&bar)));
            match u.chains.chain_quoting(&u.underlying, date, held) {
                Ok(chain) => chains.push(chain),
                Err(DataError::NotAvailable { .. }) => {}
                Err(e) => return Err(e.into()),
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

impl Feed for SourceFeed {
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
