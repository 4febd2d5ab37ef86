//! The integration tests of volta-broker, in one test binary: one link instead of one per file.

mod expiry;
mod fills;
mod invariants;
mod support;
