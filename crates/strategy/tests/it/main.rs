//! The integration tests of volta-strategy, in one test binary: one link instead of one per file.

#[path = "../../../core/tests/it/common.rs"]
mod common;
mod strategies;
mod structures;
