//! The integration tests of volta-features, in one test binary: one link instead of one per file.

mod chain_metrics;
mod decision;
mod library;
mod lookahead;
mod realised;
mod regime;
mod support;
