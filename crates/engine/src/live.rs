//! The live feed: sessions built as the day happens, from a [`LiveMarket`] (Interactive
//! Brokers) on the NYSE calendar.
//!
//! A replay ([`crate::SourceFeed`]) knows a whole session when the engine asks for it. A live
//! feed does not: it waits (on its clock) for each moment of the day and asks the market then:
//! - the **open** (09:30): the underlyings' prices, which start the session;
//! - **management checks** through the day (every [`LiveFeed::checking_every`], one hour by
//!   default, from 10:30): each underlying's chain with the contracts held; exits are checked,
//!   nothing is opened;
//! - the **decision**, 15 minutes before the close (12:45 on early closes): the chains again;
//!   exits, then openings;
//! - the **close**: the last prices ([`Feed::closing_prices`]).
//!
//! Moments already past when the trader starts are skipped (a session whose decision has
//! passed is not traded). The signals (VIX rank, regime) are read again before each session
//! from the history source, which grows by a day each day.
//!
//! The engine, strategies, risk manager and journal are the backtest's: only the clock, the
//! feed and the venue differ.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use volta_broker::SessionPrices;
use volta_core::broker::LiveMarket;
use volta_core::{ChainSnapshot, ContractKey, NyseCalendar, OptionContract, Underlying};

use crate::clock::Clock;
use crate::error::{EngineError, Result};
use crate::feed::{Check, Feed, Session};
use crate::signals::Signals;

/// How long before the close the live decision is taken.
pub const DECISION_BEFORE_CLOSE: TimeDelta = TimeDelta::minutes(15);

/// Reads the signals known before a session (the VIX closes and the bars up to the previous
/// session), each morning.
pub type SignalsSource = Box<dyn FnMut(NaiveDate) -> Result<Signals> + Send>;

/// The chains the live feed fetched at a check (the session, its chains): what a later replay
/// of the day trades on.
pub type SessionRecorder = Box<dyn FnMut(&Session, &[ChainSnapshot]) -> Result<()> + Send>;

/// When the first management check comes after the open.
const FIRST_CHECK_AFTER_OPEN: TimeDelta = TimeDelta::minutes(60);

/// How a live run's feed behaves ([`crate::Backtest::run_live`]).
pub struct LiveOptions {
    /// Handed the chains of every check (e.g. to keep them in the store).
    pub recorder: Option<SessionRecorder>,
    /// Management checks every this long (`None`: the decision only). Default: one hour.
    pub check_every: Option<TimeDelta>,
    /// A scorer for the adaptive strategy's openings and the minimum score they must reach
    /// (a model: [`crate::scoring`]); `None`: every opening is taken.
    pub filter: Option<(Box<dyn volta_strategy::Scorer>, f64)>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            recorder: None,
            check_every: Some(TimeDelta::hours(1)),
            filter: None,
        }
    }
}

impl std::fmt::Debug for LiveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveOptions")
            .field("recorder", &self.recorder.is_some())
            .field("check_every", &self.check_every)
            .field("filter", &self.filter.as_ref().map(|(_, min)| min))
            .finish()
    }
}

/// Sessions from a [`LiveMarket`], one per NYSE session from the first date on, each built at
/// its decision time (module docs).
pub struct LiveFeed<C: Clock, M: LiveMarket> {
    market: M,
    clock: C,
    underlyings: Vec<Underlying>,
    dates: Vec<NaiveDate>,
    next: usize,
    signals: SignalsSource,
    recorder: Option<SessionRecorder>,
    skipped: Vec<NaiveDate>,
    check_every: Option<TimeDelta>,
}

impl<C: Clock, M: LiveMarket> std::fmt::Debug for LiveFeed<C, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed")
            .field("market", &self.market.name())
            .field("underlyings", &self.underlyings)
            .field("next", &self.dates.get(self.next))
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl<C: Clock, M: LiveMarket> LiveFeed<C, M> {
    /// A feed of `underlyings` from `market` over the sessions from `start` to `end`, waiting
    /// on `clock` (a wall clock for trading; a simulated one replays the schedule at once),
    /// with the signals `signals` reads before each session.
    ///
    /// # Errors
    /// [`EngineError::Config`] for no underlying or a range without a session.
    pub fn new(
        market: M,
        clock: C,
        underlyings: Vec<Underlying>,
        (start, end): (NaiveDate, NaiveDate),
        signals: SignalsSource,
    ) -> Result<Self> {
        let dates = crate::feed::sessions_for(underlyings.len(), start, end)?;
        Ok(Self {
            market,
            clock,
            underlyings,
            dates,
            next: 0,
            signals,
            recorder: None,
            skipped: Vec::new(),
            check_every: Some(TimeDelta::hours(1)),
        })
    }

    /// Hands every session fetched to `recorder` (e.g. to keep its chains in the store, so
    /// that a backtest can replay the day).
    #[must_use]
    pub fn recording(mut self, recorder: SessionRecorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// Management checks every `interval` from an hour after the open until the decision;
    /// `None`: the decision only.
    #[must_use]
    pub const fn checking_every(mut self, interval: Option<TimeDelta>) -> Self {
        self.check_every = interval;
        self
    }

    /// The session's checks, in time order: the management checks (no openings), then the
    /// decision.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a date that is not a session.
    pub fn checks(&self, session: &Session) -> Result<Vec<(NaiveDateTime, bool)>> {
        let decision = Self::decision_time(session.date)?;
        let mut checks = Vec::new();
        if let Some(every) = self.check_every.filter(|d| *d > TimeDelta::zero()) {
            let mut t = session.open_at + FIRST_CHECK_AFTER_OPEN;
            while t < decision {
                checks.push((t, false));
                t += every;
            }
        }
        checks.push((decision, true));
        Ok(checks)
    }

    /// The sessions whose decision time had passed when the feed reached them (a trader
    /// started late in the day): they were not traded.
    #[must_use]
    pub fn skipped(&self) -> &[NaiveDate] {
        &self.skipped
    }

    /// The market.
    #[must_use]
    pub const fn market(&self) -> &M {
        &self.market
    }

    /// When the decision of session `date` is taken.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a date that is not a session.
    pub fn decision_time(date: NaiveDate) -> Result<NaiveDateTime> {
        let close = NyseCalendar
            .session_close(date)?
            .ok_or_else(|| EngineError::Config {
                field: "session date",
                value: date.to_string(),
                requirement: "an NYSE session",
            })?;
        Ok(date.and_time(close) - DECISION_BEFORE_CLOSE)
    }

    fn market_error(&self, error: M::Error) -> EngineError {
        EngineError::LiveMarket {
            market: self.market.name().to_owned(),
            source: Box::new(error),
        }
    }

    fn chains(&mut self, at: NaiveDateTime, held: &[ContractKey]) -> Result<Vec<ChainSnapshot>> {
        let mut chains = Vec::with_capacity(self.underlyings.len());
        for u in self.underlyings.clone() {
            // The contracts held of an SPX chain are its SPX and SPXW classes: the market
            // quotes what it is given, so each underlying gets the keys whose chain it is.
            let mine: Vec<ContractKey> = held
                .iter()
                .filter(|k| OptionContract::from_key((*k).clone()).underlying() == &u)
                .cloned()
                .collect();
            let chain = self
                .market
                .chain(&u, at, &mine)
                .map_err(|e| self.market_error(e))?;
            chains.push(chain);
        }
        Ok(chains)
    }
}

impl<C: Clock, M: LiveMarket> Feed for LiveFeed<C, M> {
    fn remaining(&self) -> usize {
        self.dates.len() - self.next
    }

    fn next_session(&mut self, _held: &[ContractKey]) -> Result<Option<Session>> {
        while let Some(&date) = self.dates.get(self.next) {
            self.next += 1;
            if self.clock.now() > Self::decision_time(date)? {
                self.skipped.push(date);
                continue;
            }
            let mut session = Session::on(date, Vec::new(), Vec::new())?;
            self.clock
                .advance_to(session.open_at.max(self.clock.now()))?;
            let at = self.clock.now();
            for u in self.underlyings.clone() {
                let price = self
                    .market
                    .last_price(&u, at)
                    .map_err(|e| self.market_error(e))?;
                // The session's open as the trader first saw it (the close replaces the
                // other half when the session ends).
                session.prices.push((
                    u,
                    SessionPrices {
                        open: price,
                        close: price,
                    },
                ));
            }
            return Ok(Some(session));
        }
        Ok(None)
    }

    fn next_check<'s>(
        &mut self,
        session: &'s Session,
        held: &[ContractKey],
        _checks: usize,
    ) -> Result<Option<Check<'s>>> {
        let now = self.clock.now();
        let Some((t, openings)) = self.checks(session)?.into_iter().find(|(t, _)| *t >= now) else {
            return Ok(None);
        };
        self.clock.advance_to(t)?;
        let at = self.clock.now();
        // A check the market cannot serve (TWS restarting, a request timing out) is skipped
        // and reported; the next one, and the close, come as planned.
        let (chains, gap) = match self.chains(at, held) {
            Ok(chains) => (chains, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        if gap.is_none()
            && let Some(record) = self.recorder.as_mut()
        {
            record(session, &chains)?;
        }
        // The next check comes strictly later, even on a clock that does not move by itself.
        self.clock.advance_to(at + TimeDelta::seconds(1))?;
        Ok(Some(Check {
            chains: std::borrow::Cow::Owned(chains),
            openings,
            gap,
        }))
    }

    fn closing_prices(&mut self, session: &Session) -> Result<Vec<(Underlying, SessionPrices)>> {
        self.clock
            .advance_to(session.close_at.max(self.clock.now()))?;
        let at = self.clock.now();
        let mut prices = Vec::with_capacity(session.prices.len());
        for (u, p) in &session.prices {
            let close = self
                .market
                .last_price(u, at)
                .map_err(|e| self.market_error(e))?;
            prices.push((
                u.clone(),
                SessionPrices {
                    open: p.open,
                    close,
                },
            ));
        }
        Ok(prices)
    }

    fn signals_before(&mut self, date: NaiveDate) -> Result<Option<Signals>> {
        (self.signals)(date).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use volta_core::Price;

    use super::*;
    use crate::clock::SimulatedClock;

    /// A market with prices (when `prices`) and no chains.
    struct NoMarket {
        prices: bool,
    }

    impl LiveMarket for NoMarket {
        type Error = std::io::Error;

        fn name(&self) -> &'static str {
            "none"
        }

        fn last_price(&mut self, _: &Underlying, _: NaiveDateTime) -> std::io::Result<Price> {
            if self.prices {
                return Ok("100".parse().unwrap());
            }
            Err(std::io::Error::other("no market here"))
        }

        fn chain(
            &mut self,
            _: &Underlying,
            _: NaiveDateTime,
            _: &[ContractKey],
        ) -> std::io::Result<ChainSnapshot> {
            Err(std::io::Error::other("no market here"))
        }
    }

    fn t(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .unwrap()
    }

    #[test]
    fn the_decision_is_a_quarter_hour_before_the_close_early_closes_included() {
        let decision = LiveFeed::<SimulatedClock, NoMarket>::decision_time;
        assert_eq!(
            decision(t(2025, 3, 17, 0, 0).date()).unwrap(),
            t(2025, 3, 17, 15, 45)
        );
        // The day after Thanksgiving closes at 13:00.
        assert_eq!(
            decision(t(2025, 11, 28, 0, 0).date()).unwrap(),
            t(2025, 11, 28, 12, 45)
        );
        assert!(decision(t(2025, 12, 25, 0, 0).date()).is_err());
    }

    #[test]
    fn a_session_whose_decision_has_passed_is_skipped_and_a_market_error_names_the_market() {
        // Started on Monday at 15:50: Monday's decision has passed, Tuesday's is next.
        let clock = SimulatedClock::new(t(2025, 3, 17, 15, 50));
        let mut feed = LiveFeed::new(
            NoMarket { prices: false },
            clock,
            vec![Underlying::try_new("SPY").unwrap()],
            (t(2025, 3, 17, 0, 0).date(), t(2025, 3, 18, 0, 0).date()),
            Box::new(|_| Ok(Signals::unknown())),
        )
        .unwrap();
        let err = feed.next_session(&[]).unwrap_err();
        assert_eq!(feed.skipped(), [t(2025, 3, 17, 0, 0).date()]);
        assert!(matches!(err, EngineError::LiveMarket { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "live market data from none: no market here"
        );
        assert_eq!(feed.remaining(), 0);
    }

    #[test]
    fn a_check_the_market_cannot_serve_is_a_gap_and_the_day_goes_on() {
        let start = t(2025, 3, 17, 0, 0);
        let mut feed = LiveFeed::new(
            NoMarket { prices: true },
            SimulatedClock::new(start),
            vec![Underlying::try_new("SPY").unwrap()],
            (start.date(), start.date()),
            Box::new(|_| Ok(Signals::unknown())),
        )
        .unwrap()
        .checking_every(Some(TimeDelta::hours(3)));
        let session = feed.next_session(&[]).unwrap().unwrap();
        assert_eq!(session.prices[0].1.open.to_f64(), 100.0);
        assert_eq!(
            feed.checks(&session).unwrap(),
            [
                (t(2025, 3, 17, 10, 30), false),
                (t(2025, 3, 17, 13, 30), false),
                (t(2025, 3, 17, 15, 45), true)
            ]
        );
        let mut gaps = Vec::new();
        while let Some(check) = feed.next_check(&session, &[], gaps.len()).unwrap() {
            assert!(check.chains.is_empty());
            gaps.push((check.openings, check.gap.unwrap()));
        }
        assert_eq!(gaps.len(), 3);
        assert_eq!(
            gaps[2],
            (
                true,
                "live market data from none: no market here".to_owned()
            )
        );
        let closing = feed.closing_prices(&session).unwrap();
        assert_eq!(closing[0].1.close.to_f64(), 100.0);
    }
}
