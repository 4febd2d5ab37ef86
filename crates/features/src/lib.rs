//! # volta-features
//!
//! The numbers Volta's strategies and models decide on: realised-volatility estimators,
//! IV rank and percentile, the volatility regime detector, metrics of option chains, and the
//! daily feature library. Nothing here looks ahead: a value at date t uses data up to t only.
#![deny(missing_docs)]

pub mod chain_metrics;
mod error;

pub use chain_metrics::{ChainAnalysis, ChainSummary, ExpiryMetrics, MarketInputs};
pub use error::{FeatureError, Result};
