//! The `Broker` trait: what the engine asks of any broker, simulated or Interactive Brokers.

use rust_decimal::Decimal;
use volta_core::order::ComboOrder;

use crate::account::{Account, Position};
use crate::error::Result;
use crate::event::BrokerEvent;
use crate::order::{OrderId, OrderState, OrderTag, StockOrder, TimeInForce};

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
/// - Money is exact [`volta_core::Money`]; nothing is lost: orders and fills stay queryable
///   through [`Broker::order`] after they end.
pub trait Broker {
    /// Places a DAY combo limit order (see [`Broker::place_with`]).
    ///
    /// # Errors
    /// As [`Broker::place_with`].
    fn place(&mut self, order: ComboOrder, tag: OrderTag) -> Result<OrderId> {
        self.place_with(order, tag, TimeInForce::Day)
    }

    /// Places a combo limit order (IB BAG price convention, see [`volta_core::order`]) with
    /// the given time in force.
    ///
    /// # Errors
    /// When the broker could not record the order at all (the IB adapter: not connected).
    fn place_with(&mut self, order: ComboOrder, tag: OrderTag, tif: TimeInForce)
    -> Result<OrderId>;

    /// Places a DAY stock market order (to flatten shares delivered by assignment).
    ///
    /// # Errors
    /// As [`Broker::place_with`].
    fn place_stock(&mut self, order: StockOrder, tag: OrderTag) -> Result<OrderId>;

    /// Changes a working combo order's net limit price per unit.
    ///
    /// # Errors
    /// [`crate::BrokerError::UnknownOrder`], [`crate::BrokerError::OrderNotOpen`],
    /// [`crate::BrokerError::NotModifiable`] (a market order),
    /// [`crate::BrokerError::InvalidLimit`] (the order keeps its old limit).
    fn modify(&mut self, id: OrderId, new_limit: Decimal) -> Result<()>;

    /// Cancels a working order.
    ///
    /// # Errors
    /// [`crate::BrokerError::UnknownOrder`], [`crate::BrokerError::OrderNotOpen`].
    fn cancel(&mut self, id: OrderId) -> Result<()>;

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
