//! The crate's one error type.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use thiserror::Error;
use volta_core::{CoreError, Underlying};

use volta_core::broker::{OrderId, OrderStatus};

/// Everything a broker call can refuse.
///
/// An order the broker accepts as a request but will not work (a limit off the cent grid, an
/// expired leg) is not an error: it gets an id and ends [`OrderStatus::Rejected`] with the
/// reason, as IB reports rejections. Errors are for calls that change nothing.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BrokerError {
    /// No order has this id.
    #[error("unknown order {id}")]
    UnknownOrder {
        /// The id asked about.
        id: OrderId,
    },
    /// The order is already filled, cancelled or rejected.
    #[error("order {id} is no longer open: it is {status}")]
    OrderNotOpen {
        /// The order.
        id: OrderId,
        /// Its final status.
        status: OrderStatus,
    },
    /// The order cannot be modified (a stock market order has no limit).
    #[error("order {id} cannot be modified: {reason}")]
    NotModifiable {
        /// The order.
        id: OrderId,
        /// Why.
        reason: &'static str,
    },
    /// A new limit price that the broker refuses; the order keeps its old limit.
    #[error("invalid limit {limit} for order {id}: {reason}")]
    InvalidLimit {
        /// The order.
        id: OrderId,
        /// The limit asked for, per combo unit.
        limit: Decimal,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A fee schedule that cannot be used (bad table, or no period for a date).
    #[error("fee schedule: {reason}")]
    InvalidFeeSchedule {
        /// What is wrong.
        reason: String,
    },
    /// A configuration value out of range.
    #[error("invalid broker setting {name} = {value}: must be {requirement}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// Market data or a session close stamped before the broker's clock.
    #[error("time went backwards: the broker is at {now}, the input is stamped {at}")]
    TimeWentBackwards {
        /// The broker's clock.
        now: NaiveDateTime,
        /// The input's time.
        at: NaiveDateTime,
    },
    /// A session close without the settlement prices an expiring or early-assigned position
    /// needs. Nothing was changed.
    #[error(
        "no settlement prices for {underlying} on {date}: positions on it expire or may be assigned"
    )]
    MissingSettlement {
        /// The underlying.
        underlying: Underlying,
        /// The session.
        date: NaiveDate,
    },
    /// A session close on a date the exchange was closed.
    #[error("{date} is not an NYSE session")]
    NotASession {
        /// The date given.
        date: NaiveDate,
    },
    /// A domain-type error (invalid value, decimal overflow, calendar range).
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, BrokerError>;
