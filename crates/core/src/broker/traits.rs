//! The `Broker` and `Venue` traits: what the engine asks of any broker, simulated or
//! Interactive Brokers.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use super::account::{Account, MarkedAccount, Marks, Position};
use super::event::BrokerEvent;
use super::order::{OrderId, OrderState, OrderTag, StockOrder, TimeInForce};
use super::settlement::Settlements;
use crate::order::ComboOrder;
use crate::{ChainSnapshot, Price, Underlying};

/// A broker: takes orders, reports what happens to them, and keeps positions and cash.
///
/// It is object safe (`Box<dyn Broker>`), so the engine runs the simulated and the IB broker
/// through the same code.
///
/// # Contract
/// - `place*` returns the new order's id once the broker has recorded it. An order the broker
///   will not work is still recorded, and ends `Rejected` with the reason.
/// - Every state change of every order appears in [`Broker::poll_events`] exactly once, in
///   the order it happened: first `Submitted`, then any `Modified`, then at most one of
///   `Filled`, `Cancelled`, `Rejected`. Expiry, exercise and assignment are reported there too.
/// - `modify` and `cancel` act on working orders only; their outcome is reported as events
///   (an asynchronous broker such as IB may fill an order before a cancel arrives: the
///   events, not the call, say what happened).
/// - Money is exact [`crate::Money`]; nothing is lost: orders and fills stay queryable
///   through [`Broker::order`] after they end.
pub trait Broker {
    /// What a call can refuse: each broker's own typed error (the simulated broker's
    /// `BrokerError`, the IB adapter's `IbError`).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Places a DAY combo limit order (see [`Broker::place_with`]).
    ///
    /// # Errors
    /// As [`Broker::place_with`].
    fn place(&mut self, order: ComboOrder, tag: OrderTag) -> Result<OrderId, Self::Error> {
        self.place_with(order, tag, TimeInForce::Day)
    }

    /// Places a combo limit order (IB BAG price convention, see [`crate::order`]) with
    /// the given time in force.
    ///
    /// # Errors
    /// When the broker could not record the order at all (the IB adapter: not connected).
    fn place_with(
        &mut self,
        order: ComboOrder,
        tag: OrderTag,
        tif: TimeInForce,
    ) -> Result<OrderId, Self::Error>;

    /// Places a DAY stock market order (to flatten shares delivered by assignment).
    ///
    /// # Errors
    /// As [`Broker::place_with`].
    fn place_stock(&mut self, order: StockOrder, tag: OrderTag) -> Result<OrderId, Self::Error>;

    /// Changes a working combo order's net limit price per unit.
    ///
    /// # Errors
    /// The broker's, for an unknown order, one no longer open, one without a limit (a market
    /// order) or a limit it refuses (the order keeps its old limit).
    fn modify(&mut self, id: OrderId, new_limit: Decimal) -> Result<(), Self::Error>;

    /// Cancels a working order.
    ///
    /// # Errors
    /// The broker's, for an unknown order or one no longer open.
    fn cancel(&mut self, id: OrderId) -> Result<(), Self::Error>;

    /// Takes every event since the last call, oldest first.
    fn poll_events(&mut self) -> Vec<BrokerEvent>;

    /// One order's current state (also after it ended).
    fn order(&self, id: OrderId) -> Option<OrderState>;

    /// The orders still working, by id.
    fn open_orders(&self) -> Vec<OrderState>;

    /// The open positions, options by OCC key then stock by underlying.
    fn positions(&self) -> Vec<Position>;

    /// Cash, fees and realised P&L. Equity needs marks: [`Account::marked`].
    fn account(&self) -> Account;
}

/// A broker plus the market events the engine passes on to it. The simulated broker fills and
/// settles from these; a live broker (Interactive Brokers) gets its fills from the exchange and
/// implements them as bookkeeping only (marks).
pub trait Venue: Broker {
    /// A chain snapshot arrived (fills working orders on its underlying, updates marks).
    ///
    /// # Errors
    /// The broker's, for data older than its clock.
    fn on_quotes(&mut self, chain: &ChainSnapshot) -> Result<(), Self::Error>;

    /// A stock price arrived (fills stock orders on it).
    ///
    /// # Errors
    /// As [`Venue::on_quotes`].
    fn on_stock_price(
        &mut self,
        underlying: &Underlying,
        price: Price,
        at: NaiveDateTime,
    ) -> Result<(), Self::Error>;

    /// A session opens on `date` (before its first price). The simulated broker has nothing
    /// to do; a live broker checks its positions against the exchange's.
    ///
    /// # Errors
    /// The broker's.
    fn on_session_open(&mut self, date: NaiveDate) -> Result<(), Self::Error> {
        let _ = date;
        Ok(())
    }

    /// The session closed: DAY orders end, options expire and settle.
    ///
    /// # Errors
    /// The broker's, for a date that is not a session or one already closed.
    fn on_session_close(
        &mut self,
        date: NaiveDate,
        settlements: &Settlements,
    ) -> Result<(), Self::Error>;

    /// Cash, positions at their marks, equity.
    fn marked(&self) -> MarkedAccount;

    /// The prices positions are valued at now (for the run's final report).
    fn marks(&self) -> Marks;

    /// The close of session `date`, for interest: credits what the account's idle cash earned
    /// since the last accrual and notes the idle cash now — the cash balance above `reserved`,
    /// what the open positions hold as collateral or margin (the engine says how much).
    /// Returns the amount credited (negative at a negative rate). The simulated broker accrues
    /// it at a stored short rate, ACT/360, one calendar day at a time; a live broker pays its
    /// own interest, so the default credits nothing.
    ///
    /// # Errors
    /// The broker's (the simulated one's on decimal overflow).
    fn accrue_interest(
        &mut self,
        date: NaiveDate,
        reserved: crate::Money,
    ) -> Result<crate::Money, Self::Error> {
        let _ = (date, reserved);
        Ok(crate::Money::ZERO)
    }
}
