//! The one error type of `volta-features`.

/// What went wrong while computing features.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// Reading market data failed (from volta-data).
    #[error(transparent)]
    Data(#[from] volta_data::DataError),
    /// A domain type rejected a value (from volta-core).
    #[error(transparent)]
    Core(#[from] volta_core::CoreError),
    /// An input series is unusable: `series` names it, `reason` says why (a gap, a date out of
    /// order, a NaN or non-positive price, a range it does not cover).
    #[error("input {series}: {reason}")]
    BadInput {
        /// The series (`SPY bars`, `VIX`, …).
        series: String,
        /// What is wrong, with the date where it applies.
        reason: String,
    },
    /// Polars failed while building or computing a frame (a bug or an exhausted resource,
    /// not bad market data: inputs are validated before polars sees them).
    #[cfg(feature = "library")]
    #[error("polars: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A feature-matrix file is not one this crate wrote, or not this version's.
    #[error("feature matrix {path}: {reason}")]
    BadMatrixFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A setting is out of its domain.
    #[error("setting `{field}` = {value}: must be {requirement}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// Drawing a chart failed (from plotters); `reason` is its message.
    #[error("plot: {reason}")]
    Plot {
        /// The backend's message.
        reason: String,
    },
}

/// `Result` with [`FeatureError`].
pub type Result<T> = std::result::Result<T, FeatureError>;
