//! The one error type of `volta-data`.

use std::path::PathBuf;

/// What went wrong while reading, generating or storing market data. Variants name the file,
/// line and column (or the key) so that a user can find the bad input.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A domain type rejected a value (from volta-core).
    #[error(transparent)]
    Core(#[from] volta_core::CoreError),
    /// A pricing computation failed (from volta-pricing).
    #[error(transparent)]
    Pricing(#[from] volta_pricing::PricingError),
    /// A synthetic-market setting is out of its domain.
    #[error("synthetic market setting `{field}` = {value}: must be {requirement}")]
    InvalidSyntheticConfig {
        /// The [`crate::synthetic::SyntheticConfig`] field (dotted path, e.g. `model.kappa`).
        field: &'static str,
        /// The value given.
        value: String,
        /// What the field must be.
        requirement: &'static str,
    },
}

/// `Result` with [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;
