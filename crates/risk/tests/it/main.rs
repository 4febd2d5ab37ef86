//! The integration tests of volta-risk, in one test binary: one link instead of one per file.

mod risk;
