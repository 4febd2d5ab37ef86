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

    /// A file whose header matches none of the formats the importer knows (or not the one
    /// asked for).
    #[error("{path}:1: unrecognised header `{header}`: expected {expected}")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The header line as read.
        header: String,
        /// The formats that were tried.
        expected: String,
    },
    /// The header lacks a column the format needs.
    #[error("{path}:1: missing column `{column}` (format {format})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column's name.
        column: &'static str,
        /// The format being read.
        format: &'static str,
    },
    /// A cell that does not parse or fails a check: a non-number, NaN, a negative price, a bad
    /// date, an empty required value, an inconsistent bar.
    #[error("{path}:{line}: column {column_index} `{column}`: `{text}` is not {expected}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The line, 1-based (the header is line 1).
        line: u64,
        /// The column's name, as in the header (trimmed).
        column: String,
        /// The column's index, 0-based.
        column_index: usize,
        /// The offending text, as read.
        text: String,
        /// What the cell must be.
        expected: String,
    },
    /// A row with the wrong number of fields.
    #[error("{path}:{line}: {found} fields where the header has {expected}")]
    FieldCount {
        /// The file.
        path: PathBuf,
        /// The line, 1-based.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// The file does not end with a newline: its last line was cut off mid-write.
    #[error("{path}:{line}: truncated: the last line has no terminating newline")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The last line, 1-based.
        line: u64,
    },
    /// A file with a header and no data rows.
    #[error("{path}: no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A row whose key (a date, or a date and contract) repeats an earlier row's.
    #[error(
        "{path}:{line}: column {column_index} `{column}`: duplicate {key} (first on line {first_line})"
    )]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The line of the repeat, 1-based.
        line: u64,
        /// The key column's name.
        column: String,
        /// The key column's index, 0-based.
        column_index: usize,
        /// The repeated key.
        key: String,
        /// The line where the key first appeared.
        first_line: u64,
    },
    /// A date earlier than the previous row's in a file that must be ascending.
    #[error(
        "{path}:{line}: column {column_index} `{column}`: {date} comes after {previous} (line {previous_line}): dates must ascend"
    )]
    OutOfOrder {
        /// The file.
        path: PathBuf,
        /// The line, 1-based.
        line: u64,
        /// The date column's name.
        column: String,
        /// The date column's index, 0-based.
        column_index: usize,
        /// The row's date.
        date: chrono::NaiveDate,
        /// The previous row's date.
        previous: chrono::NaiveDate,
        /// The previous row's line.
        previous_line: u64,
    },
    /// A symbol (underlying or option root) the caller did not allow or the importer does not
    /// know.
    #[error(
        "{path}:{line}: column {column_index} `{column}`: unknown symbol `{symbol}`: expected {expected}"
    )]
    UnknownSymbol {
        /// The file.
        path: PathBuf,
        /// The line, 1-based.
        line: u64,
        /// The column's name.
        column: String,
        /// The column's index, 0-based.
        column_index: usize,
        /// The symbol read.
        symbol: String,
        /// What was allowed.
        expected: String,
    },
    /// The CSV reader failed (invalid UTF-8, unbalanced quotes).
    #[error("{path}:{line}: malformed CSV: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line, 1-based (0 if unknown).
        line: u64,
        /// The reader's error.
        source: csv::Error,
    },
    /// A caller's request the importer cannot satisfy (a split table out of order, a format
    /// that needs context the caller did not give).
    #[error("invalid import request: {reason}")]
    InvalidRequest {
        /// What was wrong.
        reason: String,
    },
    /// A Parquet file that polars cannot read or write (not Parquet, damaged, I/O).
    #[cfg(feature = "parquet")]
    #[error("{path}: parquet: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// polars' error.
        source: polars::error::PolarsError,
    },
    /// A Parquet file without a column the layout needs.
    #[error("{path}: no column `{column}` (Volta Parquet chains need it)")]
    ParquetMissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A Parquet column of the wrong type.
    #[error("{path}: column `{column}` has type {found}: expected {expected}")]
    ParquetType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// The type found (polars' name for it).
        found: String,
        /// The type required.
        expected: &'static str,
    },
    /// A Parquet cell that fails a check (a negative price, a null where a value is required,
    /// a contract key that does not parse, a value that contradicts the contract key).
    #[error("{path}: row {row} (0-based) column `{column}`: `{text}` is not {expected}")]
    ParquetValue {
        /// The file.
        path: PathBuf,
        /// The row, 0-based as polars and pyarrow count.
        row: usize,
        /// The column.
        column: &'static str,
        /// The offending value, as text.
        text: String,
        /// What the cell must be.
        expected: String,
    },
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
    /// The PostgreSQL server refused a statement or the connection failed (`operation` says
    /// which, `key` names the row). `store` is the server's URL with any password replaced by
    /// `***`: errors never carry credentials.
    #[cfg(feature = "postgres")]
    #[error("store {store}: {operation} failed for {key}: {source}")]
    Postgres {
        /// The store's URL, password redacted.
        store: String,
        /// What the store was doing (`connect`, `upsert bars`, `load chain`, …).
        operation: &'static str,
        /// The row or object involved.
        key: String,
        /// The client's error (the server's message, or the connection's).
        source: postgres::Error,
    },
    /// A store location this build cannot open: a `postgres://` URL in a build without the
    /// `postgres` feature, or a URL that does not parse. `location` is redacted.
    #[error("store {location}: {reason}")]
    StoreUnsupported {
        /// The location as given, password redacted.
        location: String,
        /// Why it cannot be opened.
        reason: String,
    },
    /// The database was written by a newer Volta: its schema version is beyond the migrations
    /// this build knows, so opening it could corrupt it.
    #[error(
        "store {path}: schema version {found} is newer than this build supports ({supported}); upgrade Volta"
    )]
    StoreSchemaTooNew {
        /// The database file (for PostgreSQL, its URL with the password redacted).
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
        /// The database file (for PostgreSQL, its URL with the password redacted).
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
    /// A store copy that does not match its source: a kind of row with another count or
    /// checksum in the target (`volta-data copy-store` verifies every copy).
    #[error(
        "store copy differs from its source in {kind}: {source_rows} rows in the source, {copied_rows} in the copy{}",
        if *.checksums_differ { ", checksums differ" } else { "" }
    )]
    StoreCopyMismatch {
        /// The kind of row (`bars`, `option_quotes`, `fills`, …).
        kind: &'static str,
        /// Rows of that kind in the source.
        source_rows: u64,
        /// Rows of that kind in the copy.
        copied_rows: u64,
        /// Whether the checksums differ too.
        checksums_differ: bool,
    },
    /// A model id already in the registry: a record is never overwritten (a retrained model
    /// gets a new id).
    #[error("the model registry already holds a model `{id}`")]
    ModelExists {
        /// The id.
        id: String,
    },
    /// A model id the registry does not hold.
    #[error("the model registry holds no model `{id}` (volta-train list shows the ids)")]
    UnknownModel {
        /// The id.
        id: String,
    },
    /// `backup_to` refuses to overwrite an existing file.
    #[error("backup target {path} already exists")]
    StoreBackupTargetExists {
        /// The target file.
        path: PathBuf,
    },
    /// A source does not have what was asked (a symbol it does not know, a date it cannot
    /// serve, an expiry the chain does not list).
    #[error("{source_name}: no {what}")]
    NotAvailable {
        /// The source's name ([`crate::source::MarketDataSource::name`]).
        source_name: String,
        /// What was asked for.
        what: String,
    },
    /// Every source of a [`crate::source::FallbackSource`] failed; each one's error, in order.
    #[error("every source failed: {}", .attempts.iter().map(|(s, e)| format!("{s}: {e}")).collect::<Vec<_>>().join("; "))]
    AllSourcesFailed {
        /// (source name, its error), in the order they were tried.
        attempts: Vec<(String, Box<DataError>)>,
    },
    /// A source's configuration is out of its domain (a zero rate, a jitter above 1, a URL
    /// that is not `http(s)://`).
    #[error("source setting `{field}` = {value}: must be {requirement}")]
    InvalidSourceConfig {
        /// The setting (dotted path, e.g. `retry.max_attempts`).
        field: &'static str,
        /// The value given.
        value: String,
        /// What the setting must be.
        requirement: &'static str,
    },
    /// A server answered with an HTTP error status that is not worth retrying (or kept
    /// answering a retryable one; see [`DataError::RetriesExhausted`]). URLs in errors never
    /// carry credentials: the Yahoo source strips its crumb and cookie.
    #[error("{url}: HTTP {status}: {body_excerpt}")]
    Http {
        /// The request, without credentials.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the reply's body (or the vendor's error description), for diagnosis.
        body_excerpt: String,
    },
    /// The request got no HTTP answer: connection refused or dropped, DNS failure, TLS error,
    /// or a timeout (`timed_out`).
    #[error("{url}: {}: {reason}", if *.timed_out { "timed out" } else { "network error" })]
    Network {
        /// The request, without credentials.
        url: String,
        /// What the HTTP client reported.
        reason: String,
        /// Whether a connect, read or whole-request timeout expired.
        timed_out: bool,
    },
    /// The server kept answering 429 Too Many Requests, or asked to wait longer
    /// (`Retry-After`) than the retry policy allows.
    #[error("{url}: rate limited (HTTP 429) after {attempts} attempt(s){}", .retry_after.map(|d| format!("; the server asks to retry after {} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The request, without credentials.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last `Retry-After` the server sent, if any.
        retry_after: Option<std::time::Duration>,
    },
    /// A reply that is not what the endpoint promises: malformed JSON, a missing field, arrays
    /// of different lengths, a vendor error object.
    #[error("{url}: bad reply: {reason}")]
    BadReply {
        /// The request, without credentials.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request failed with a transient error (network, timeout, 5xx) on every attempt the
    /// retry policy allows; `last` is the final failure.
    #[error("{url}: gave up after {attempts} attempt(s): {last}")]
    RetriesExhausted {
        /// The request, without credentials.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<DataError>,
    },
}

/// `Result` with [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;
