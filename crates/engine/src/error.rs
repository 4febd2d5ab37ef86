//! The engine's error type.

use chrono::{NaiveDate, NaiveDateTime};
use thiserror::Error;

/// Everything that can stop a run, naming what was wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A setting of the run is invalid.
    #[error("invalid backtest setting {field} = {value}: must be {requirement}")]
    Config {
        /// The setting.
        field: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// The configuration file does not parse (unknown field or strategy kind, wrong type).
    #[error("configuration {source_name}: {message}")]
    ConfigParse {
        /// The file (or `<inline>`).
        source_name: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The clock was asked to go back in time.
    #[error("the clock is at {now} and cannot go back to {requested}")]
    ClockWentBack {
        /// The clock's time.
        now: NaiveDateTime,
        /// The earlier time asked for.
        requested: NaiveDateTime,
    },
    /// The feed cannot supply what the run needs.
    #[error("market data for {what}: {reason}")]
    MissingData {
        /// What was looked for (a symbol, a date).
        what: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The engine's book and the broker's positions disagree: a fill or a settlement was not
    /// accounted for. The run stops rather than trade on a wrong book.
    #[error("book and broker disagree on {date}: {detail}")]
    Reconciliation {
        /// The session.
        date: NaiveDate,
        /// What differs.
        detail: String,
    },
    /// A stop was asked for while the clock waited for the next event (a real-time run): the
    /// run ends there, before that event, and its result covers what happened until then.
    #[error("stopped by request at {at}")]
    Stopped {
        /// The clock's time when the stop came.
        at: NaiveDateTime,
    },
    /// An observer that must see every event could not take one (a terminal log whose
    /// output is gone).
    #[error("observer {observer} failed: {reason}")]
    Observer {
        /// Which observer.
        observer: &'static str,
        /// Why.
        reason: String,
    },
    /// Market data (store, synthetic market).
    #[error(transparent)]
    Data(#[from] volta_data::DataError),
    /// Features (regime detector, ranks).
    #[error(transparent)]
    Feature(#[from] volta_features::FeatureError),
    /// Strategies.
    #[error(transparent)]
    Strategy(#[from] volta_strategy::StrategyError),
    /// The risk manager.
    #[error(transparent)]
    Risk(#[from] volta_risk::RiskError),
    /// The simulated broker's settings.
    #[error(transparent)]
    Broker(#[from] volta_broker::BrokerError),
    /// The venue the engine trades on (any broker: each has its own typed error, kept as the
    /// source).
    #[error("venue: {0}")]
    Venue(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The live market a live feed asks for prices and chains (its own typed error, kept as
    /// the source).
    #[error("live market data from {market}: {source}")]
    LiveMarket {
        /// The source (`ib`, …).
        market: String,
        /// Its error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Domain values.
    #[error(transparent)]
    Core(#[from] volta_core::CoreError),
    /// The models of a validation (feature `validation`).
    #[cfg(feature = "validation")]
    #[error(transparent)]
    Model(#[from] volta_models::ModelError),
    /// A trading model cannot be used: none promoted, an unknown id, columns that differ
    /// from today's features.
    #[cfg(feature = "validation")]
    #[error("model {model}: {reason}")]
    TradingModel {
        /// The model (its id, `promoted`, or its path).
        model: String,
        /// Why.
        reason: String,
    },
    /// The report.
    #[error(transparent)]
    Report(#[from] crate::report_error::ReportError),
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, EngineError>;

impl EngineError {
    /// Wraps a venue's error (see [`EngineError::Venue`]).
    pub fn venue(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Venue(Box::new(error))
    }
}
