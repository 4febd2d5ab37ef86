//! The integration tests of volta-broker, in one test binary: one link instead of one per file.

#[path = "../../../core/tests/it/common.rs"]
mod common;
mod expiry;
mod fills;
mod invariants;
mod support;
