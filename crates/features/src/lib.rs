//! # volta-features
//!
//! The numbers Volta's strategies and models decide on: realised-volatility estimators,
//! IV rank and percentile, the volatility regime detector, metrics of option chains, and the
//! daily feature library. Nothing here looks ahead: a value at date t uses data up to t only.
#![deny(missing_docs)]

pub mod chain_metrics;
#[cfg(feature = "library")]
pub mod decision;
mod error;
#[cfg(feature = "library")]
pub mod library;
#[cfg(feature = "library")]
pub mod matrix;
#[cfg(feature = "library")]
pub mod panel;
pub mod plot;
pub mod rank;
pub mod realised;
pub mod regime;
pub mod synthetic_chains;

pub use chain_metrics::{ChainAnalysis, ChainSummary, ExpiryMetrics};
pub use error::{FeatureError, Result};
#[cfg(feature = "library")]
pub use library::{Family, FeatureSpec, compute, registry};
#[cfg(feature = "library")]
pub use matrix::FeatureMatrix;
#[cfg(feature = "library")]
pub use panel::{DailyPanel, Provenance};
pub use rank::{RANK_WINDOW, RankedSeries, iv_percentile, iv_rank};
pub use realised::{Estimator, OhlcSlices, realised_vol, realised_vol_bars};
pub use regime::{Regime, RegimeConfig, RegimeDetector, RegimeInputs, RegimeSeries};
