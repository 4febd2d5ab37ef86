//! The crate's one error type.

use thiserror::Error;
use volta_core::CoreError;
use volta_core::broker::{OrderId, OrderStatus};

/// Everything the Interactive Brokers adapter can refuse or fail at.
///
/// As with the simulated broker, an order IB will not work is not an error: it gets an id and
/// ends `Rejected` with IB's reason. Errors are for calls that change nothing, for a
/// connection that cannot be made, and for a ledger that disagrees with IB in a way that
/// cannot be explained (trading halts).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IbError {
    /// TWS / IB Gateway could not be reached or refused the session.
    #[error(
        "cannot connect to TWS / IB Gateway at {address} (client id {client_id}): {reason}. Is TWS or the Gateway running with the API enabled on this port?"
    )]
    Connect {
        /// host:port tried.
        address: String,
        /// The client id asked for.
        client_id: i32,
        /// What the API client said.
        reason: String,
    },
    /// Another API connection holds the client id (TWS error 326).
    #[error(
        "client id {client_id} is already in use at {address} (TWS error 326): stop the other session or choose another `client_id`"
    )]
    ClientIdInUse {
        /// host:port.
        address: String,
        /// The refused id.
        client_id: i32,
    },
    /// A request to IB failed (the connection dropped, a timeout, a decoding error).
    #[error("IB request `{request}` failed: {reason}")]
    Request {
        /// What was asked.
        request: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// IB has no (or more than one) contract for an option Volta wants to trade.
    #[error("IB has {found} contract(s) for {contract}; exactly one is needed")]
    Contract {
        /// The OCC key (or description) of the contract.
        contract: String,
        /// How many IB returned.
        found: usize,
    },
    /// The order ledger (SQLite) could not be read or written. Nothing was sent.
    #[error("order ledger {path}: {reason}")]
    Ledger {
        /// The database file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// IB and the ledger disagree in a way that cannot be explained; trading is halted until a
    /// person looks.
    #[error("reconciliation with IB failed, trading halted: {detail}")]
    Reconciliation {
        /// What disagrees, with the orderRef.
        detail: String,
    },
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
    /// An option expiring at a close has no settlement price.
    #[error("cannot settle {contract} at the close of {date}: {reason}")]
    Settlement {
        /// The expiring contract.
        contract: String,
        /// The session.
        date: chrono::NaiveDate,
        /// What is missing.
        reason: String,
    },
    /// The adapter does not support the request (e.g. modifying a stock market order).
    #[error("not supported by the IB adapter: {what}")]
    Unsupported {
        /// What was asked.
        what: String,
    },
    /// A configuration value out of range.
    #[error("invalid IB setting {name} = {value}: must be {requirement}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// A domain-type error.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl IbError {
    pub(crate) fn request(request: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Request {
            request,
            reason: error.to_string(),
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, IbError>;
