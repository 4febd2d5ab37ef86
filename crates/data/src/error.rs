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
    /// The store's database refused a statement (`operation` says which, `key` names the row:
    /// a symbol, an OCC key, an order id).
    #[error("store: {operation} failed for {key}: {source}")]
    Store {
        /// What the store was doing (`open`, `upsert bars`, `load chain`, …).
        operation: &'static str,
        /// The row or object involved.
        key: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database was written by a newer Volta: its schema version is beyond the migrations
    /// this build knows, so opening it could corrupt it.
    #[error(
        "store {path}: schema version {found} is newer than this build supports ({supported}); upgrade Volta"
    )]
    StoreSchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The highest migration recorded in the file.
        found: i64,
        /// The highest migration this build knows.
        supported: i64,
    },
    /// A migration recorded in the database differs from the one this build has under the
    /// same number (the file came from a diverged build).
    #[error("store {path}: migration {version} is `{found}` in the file but `{expected}` here")]
    StoreSchemaMismatch {
        /// The database file.
        path: PathBuf,
        /// The migration number.
        version: i64,
        /// Its name in the file.
        found: String,
        /// Its name in this build.
        expected: String,
    },
    /// A value cannot be stored faithfully (a volume beyond SQLite's 64-bit signed integers, a
    /// NaN greek that SQLite would silently turn into NULL).
    #[error("store: {field} = {value} of {key} cannot be stored: must be {requirement}")]
    StoreValue {
        /// The row (OCC key, symbol and date, order id).
        key: String,
        /// The field.
        field: &'static str,
        /// The value, as text.
        value: String,
        /// What the field must satisfy.
        requirement: &'static str,
    },
    /// A stored value does not parse back (the file was edited by hand or is damaged).
    #[error("store: {table}.{column} of {key} holds `{value}`, which is not {expected}")]
    StoreCorrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The row's key.
        key: String,
        /// The stored text.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// `backup_to` refuses to overwrite an existing file.
    #[error("backup target {path} already exists")]
    StoreBackupTargetExists {
        /// The target file.
        path: PathBuf,
    },
}

/// `Result` with [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;
