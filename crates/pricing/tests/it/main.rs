//! The integration tests of volta-pricing, in one test binary: one link instead of one per file.

mod alo;
mod american;
mod batch;
mod european_properties;
mod european_reference;
mod extremes;
mod implied_vol;
#[cfg(feature = "serde")]
mod serde_types;
