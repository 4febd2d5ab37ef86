//! The crate's one error type.

use chrono::NaiveDate;
use thiserror::Error;

/// Everything that can go wrong when building Volta's domain types or asking the calendar.
///
/// Each variant names the input that was wrong and, where there is one, where it came from
/// (the bar's timestamp, the symbol being parsed).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    /// A scalar input failed its check.
    #[error("invalid {name} `{value}`: must be {requirement}")]
    InvalidValue {
        /// The input's name (`price`, `strike`, `symbol`, …).
        name: &'static str,
        /// The offending value, as text.
        value: String,
        /// What the value must satisfy.
        requirement: &'static str,
    },
    /// A bar whose fields are inconsistent (high below close, negative volume, …).
    #[error("invalid bar at {at}: {field} = {value} must be {requirement}")]
    InvalidBar {
        /// The bar's date or timestamp.
        at: String,
        /// The field that is wrong (`open`, `high`, `low`, `close`, `volume`).
        field: &'static str,
        /// The field's value, as text.
        value: String,
        /// What the field must satisfy.
        requirement: &'static str,
    },
    /// Text that is not an OCC/OSI option symbol.
    #[error("cannot parse option symbol `{symbol}`: {reason}")]
    InvalidContractKey {
        /// The text that was parsed.
        symbol: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Two quotes for the same contract in one chain snapshot.
    #[error("duplicate quote for {key} in the chain snapshot")]
    DuplicateQuote {
        /// The contract quoted twice.
        key: String,
    },
    /// A date outside the range the calendar's rules cover.
    #[error("date {date} is outside the calendar's range {first}..={last}")]
    DateOutOfRange {
        /// The date asked about.
        date: NaiveDate,
        /// First date covered.
        first: NaiveDate,
        /// Last date covered.
        last: NaiveDate,
    },
    /// A regime name that is none of the five (see [`crate::Regime::as_str`]).
    #[error(
        "unknown regime `{name}`: known are low_vol, high_vol, iv_expansion, iv_contraction, \
         neutral"
    )]
    UnknownRegime {
        /// The name given.
        name: String,
    },
    /// Arithmetic on money or prices overflowed `Decimal`'s range.
    #[error("decimal overflow in {operation}")]
    Overflow {
        /// The operation that overflowed.
        operation: &'static str,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, CoreError>;

/// Builds an [`CoreError::InvalidValue`].
pub(crate) fn invalid(
    name: &'static str,
    value: impl std::fmt::Display,
    requirement: &'static str,
) -> CoreError {
    CoreError::InvalidValue {
        name,
        value: value.to_string(),
        requirement,
    }
}
