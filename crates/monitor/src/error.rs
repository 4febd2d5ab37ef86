//! The monitor's one error type.

use std::net::SocketAddr;

/// What can go wrong in the monitor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The dashboard would listen beyond this machine without a token to guard it.
    #[error(
        "the dashboard at {addr} would be reachable from other machines: set {var} to a token \
         (at least 16 characters) or bind to 127.0.0.1"
    )]
    TokenRequired {
        /// The address asked for.
        addr: SocketAddr,
        /// The environment variable that holds the token.
        var: &'static str,
    },
    /// A token too short to guard anything.
    #[error("the token in {var} has {len} characters; use at least 16")]
    WeakToken {
        /// The environment variable that holds it.
        var: &'static str,
        /// Its length.
        len: usize,
    },
    /// The dashboard's address could not be bound.
    #[error("binding the dashboard to {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server's thread or runtime could not start.
    #[error("starting the dashboard server: {0}")]
    Server(std::io::Error),
    /// A bad setting in the monitor's configuration.
    #[error("{source_name}: monitor setting `{field}` = {value}: {requirement}")]
    Config {
        /// The file (or `defaults`).
        source_name: String,
        /// The setting.
        field: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// The monitor's TOML did not parse.
    #[error("{source_name}: {message}")]
    ConfigParse {
        /// The file.
        source_name: String,
        /// The parser's message.
        message: String,
    },
    /// The MLflow tracking server refused a request or could not be reached (the message
    /// never holds credentials).
    #[error("MLflow ({operation}): {message}")]
    Mlflow {
        /// What was being done.
        operation: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The Prometheus recorder refused its settings.
    #[error("metrics: {0}")]
    Metrics(String),
    /// The journal could not be read.
    #[error(transparent)]
    Data(#[from] volta_data::DataError),
    /// No journal at that path (reading one never creates it).
    #[error("{0}: no such journal")]
    NoJournal(String),
    /// The journal holds no run of that id (or no run at all).
    #[error("{journal}: no run {run}; runs there: {known}")]
    NoSuchRun {
        /// The journal file.
        journal: String,
        /// The run asked for (`latest` when none was).
        run: String,
        /// The runs it has.
        known: String,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] volta_engine::ReportError),
}

/// The monitor's result.
pub type Result<T> = std::result::Result<T, MonitorError>;
