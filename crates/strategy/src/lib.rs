//! # volta-strategy
//!
//! What Volta trades and when: the chain quality gate, contract selection by days to expiry
//! and delta, the option structures (credit and debit spreads, iron condors and butterflies,
//! straddles) as combo orders priced from the quotes, the strategies, adaptive selection by
//! regime, and position management.
#![deny(missing_docs)]

mod error;
pub mod manage;
pub mod select;
pub mod structures;

pub use error::{Result, StrategyError};
