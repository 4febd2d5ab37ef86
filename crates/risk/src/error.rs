//! The one error type of `volta-risk`.

/// What went wrong in the risk manager: a bad setting or input. A trade the limits refuse is
/// not an error but a [`crate::Decision::Rejected`].
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// A setting is out of its domain.
    #[error("risk setting `{field}` = {value}: must be {requirement}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// An input the manager cannot use (a non-finite equity, a proposal without a bounded loss).
    #[error("risk input {what}: {reason}")]
    BadInput {
        /// The input.
        what: &'static str,
        /// Why it is unusable.
        reason: String,
    },
    /// A domain type rejected a value (from volta-core).
    #[error(transparent)]
    Core(#[from] volta_core::CoreError),
    /// A greek could not be computed (from volta-pricing).
    #[error(transparent)]
    Pricing(#[from] volta_pricing::PricingError),
}

/// `Result` with [`RiskError`].
pub type Result<T> = std::result::Result<T, RiskError>;
