//! # volta-ib
//!
//! Interactive Brokers for Volta (being built).
#![deny(missing_docs)]

mod breaker;
mod broker;
mod config;
pub mod contracts;
mod error;
pub mod ledger;

#[cfg(feature = "fake-tws")]
pub mod fake_tws;

pub use breaker::CircuitBreaker;
pub use broker::{FaultPoint, IbBroker};
pub use config::{BreakerConfig, IbConfig, IbEndpoint, MarketDataKind};
pub use error::{IbError, Result};
