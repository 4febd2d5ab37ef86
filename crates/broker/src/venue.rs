//! [`Venue`]: a [`Broker`] that the engine also feeds market data and session closes. It lives
//! beside the broker trait so that every broker (the simulated one here, Interactive Brokers in
//! its own crate) can implement it without depending on the engine.

use crate::{Broker, MarkedAccount, Marks, Settlements, SimBroker};
use chrono::{NaiveDate, NaiveDateTime};
use volta_core::{ChainSnapshot, Price, Underlying};

/// A broker plus the market events the engine passes on to it. The simulated broker fills and
/// settles from these; a live broker (Interactive Brokers) gets its fills from the exchange and
/// implements them as bookkeeping only (marks).
pub trait Venue: Broker {
    /// A chain snapshot arrived (fills working orders on its underlying, updates marks).
    ///
    /// # Errors
    /// The broker's, for data older than its clock.
    fn on_quotes(&mut self, chain: &ChainSnapshot) -> crate::Result<()>;

    /// A stock price arrived (fills stock orders on it).
    ///
    /// # Errors
    /// As [`Venue::on_quotes`].
    fn on_stock_price(
        &mut self,
        underlying: &Underlying,
        price: Price,
        at: NaiveDateTime,
    ) -> crate::Result<()>;

    /// The session closed: DAY orders end, options expire and settle.
    ///
    /// # Errors
    /// The broker's, for a date that is not a session or one already closed.
    fn on_session_close(&mut self, date: NaiveDate, settlements: &Settlements)
    -> crate::Result<()>;

    /// Cash, positions at their marks, equity.
    fn marked(&self) -> MarkedAccount;

    /// The price each held instrument is marked at (a dashboard's per-position P&L). A venue
    /// that keeps no per-instrument marks returns none: positions then show their cash flows
    /// only.
    fn marks(&self) -> Marks {
        Marks::default()
    }
}

impl Venue for SimBroker {
    fn on_quotes(&mut self, chain: &ChainSnapshot) -> crate::Result<()> {
        Self::on_quotes(self, chain)
    }

    fn on_stock_price(
        &mut self,
        underlying: &Underlying,
        price: Price,
        at: NaiveDateTime,
    ) -> crate::Result<()> {
        Self::on_stock_price(self, underlying, price, at)
    }

    fn on_session_close(
        &mut self,
        date: NaiveDate,
        settlements: &Settlements,
    ) -> crate::Result<()> {
        Self::on_session_close(self, date, settlements)
    }

    fn marked(&self) -> MarkedAccount {
        self.account_marked()
    }

    fn marks(&self) -> Marks {
        Self::marks(self)
    }
}
