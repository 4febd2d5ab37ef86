//! # volta-data
//!
//! Market data for Volta: file importers, the deterministic synthetic market, and the store
//! (`SQLite` by default). Everything above this layer reads market data through it.
#![deny(missing_docs)]

pub mod calibration;
mod data_dir;
pub mod dividends;
mod error;
pub mod import;
pub mod ingest;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod source;
pub mod store;
pub mod synthetic;

pub use data_dir::DataDir;
pub use error::{DataError, Result};
