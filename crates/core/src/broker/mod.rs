//! The broker vocabulary every broker speaks, simulated or Interactive Brokers: the
//! [`Broker`] and [`Venue`] traits, orders as a broker holds them (ids, tags, time in force,
//! states, fills), the events it reports, positions and the account, and the settlement
//! prices of a session close; and [`LiveMarket`], the prices and chains a live trader asks a
//! broker for during its day.
//!
//! They live here, below every broker, so that each broker crate (the simulated one in
//! volta-broker, the Interactive Brokers adapter in volta-ib) implements them without
//! depending on another, and the engine drives any of them through the same code. Each broker
//! keeps its own typed error ([`Broker::Error`]).

mod account;
mod book;
mod event;
mod market;
mod order;
mod settlement;
mod traits;

pub use account::{Account, MarkedAccount, Marks, Position};
pub use book::{Book, ExerciseFees, Settled};
pub use event::{BrokerEvent, EventKind, OptionSettlement, PinWarning};
pub use market::LiveMarket;
pub use order::{
    CancelReason, Fill, LegFill, OrderId, OrderRequest, OrderState, OrderStatus, OrderTag,
    StockOrder, TimeInForce,
};
pub use settlement::{AM_SETTLEMENT_STAND_IN, SessionPrices, Settlements};
pub use traits::{Broker, Venue};
