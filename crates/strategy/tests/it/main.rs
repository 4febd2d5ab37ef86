//! The integration tests of volta-strategy, in one test binary: one link instead of one per file.

mod strategies;
mod structures;
