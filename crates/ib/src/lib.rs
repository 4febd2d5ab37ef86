//! # volta-ib
//!
//! Interactive Brokers for Volta (work in progress on this branch).
#![deny(missing_docs)]

#[cfg(feature = "fake-tws")]
pub mod fake_tws;
