//! The integration tests of volta-data, in one test binary: one link instead of one per file.

mod calibration;
mod dividends;
mod import;
mod ingest;
#[cfg(feature = "postgres")]
mod pg_cluster;
mod sources;
mod store;
mod support;
mod synthetic;
mod yahoo;
