//! The integration tests of volta-core, in one test binary: one link instead of one per file.

mod calendar;
mod common;
mod contract_key;
mod expiry;
