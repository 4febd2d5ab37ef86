//! The one error type of `volta-strategy`.

/// What went wrong in a strategy: a bad setting, or a chain it cannot use.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// A setting is out of its domain (checked before a run starts).
    #[error("strategy `{strategy}` setting `{field}` = {value}: must be {requirement}")]
    InvalidConfig {
        /// The strategy.
        strategy: String,
        /// The setting.
        field: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// A strategy name the configuration does not know.
    #[error("unknown strategy `{name}`: known are {known}")]
    UnknownStrategy {
        /// The name given.
        name: String,
        /// The names known.
        known: String,
    },
    /// A market view was given an input it cannot hold: a chain or a position from after the
    /// decision time (look-ahead), an IV rank outside 0..1, a duplicate underlying.
    #[error("market view `{field}` = {value}: must be {requirement}")]
    InvalidView {
        /// The input.
        field: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// A domain type rejected a value (from volta-core).
    #[error(transparent)]
    Core(#[from] volta_core::CoreError),
    /// A pricing computation failed (from volta-pricing).
    #[error(transparent)]
    Pricing(#[from] volta_pricing::PricingError),
}

/// `Result` with [`StrategyError`].
pub type Result<T> = std::result::Result<T, StrategyError>;
