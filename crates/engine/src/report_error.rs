//! Errors of the metrics and report modules.

use std::path::PathBuf;

use chrono::NaiveDate;

/// What went wrong while computing metrics or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The equity curve has no samples.
    #[error("empty equity curve: at least one equity sample is needed")]
    EmptyEquity,
    /// An equity sample's equity is zero or negative, so returns are undefined.
    #[error("equity {value} on {date} is not positive: returns are undefined")]
    NonPositiveEquity {
        /// Date of the offending sample.
        date: NaiveDate,
        /// The equity value (dollars).
        value: f64,
    },
    /// A value of an equity sample is NaN or infinite.
    #[error("equity sample of {date}: {field} is not finite ({value})")]
    NonFiniteSample {
        /// Date of the offending sample.
        date: NaiveDate,
        /// Name of the field (`cash` or `equity`).
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// Equity sample dates are not strictly ascending.
    #[error("equity dates not strictly ascending: {date} follows {previous}")]
    UnorderedDates {
        /// Date of the sample before.
        previous: NaiveDate,
        /// The offending date (equal to or earlier than `previous`).
        date: NaiveDate,
    },
    /// A value of a trade record is NaN or infinite.
    #[error("trade {position_id}: {field} is not finite ({value})")]
    NonFiniteTrade {
        /// The trade's position id.
        position_id: String,
        /// Name of the field.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// Another input number is NaN or infinite.
    #[error("{what} is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// Serialising the summary to JSON failed.
    #[error("summary JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
    /// Drawing a chart failed.
    #[error("drawing the {chart} chart failed: {message}")]
    Plot {
        /// Which chart (`equity` or `drawdown`).
        chart: &'static str,
        /// The plotting library's message.
        message: String,
    },
    /// Formatting the HTML report failed.
    #[error("formatting the HTML report failed")]
    Format(#[from] std::fmt::Error),
    /// Creating a directory or writing a file failed.
    #[error("writing {path} failed: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Result of the metrics and report modules.
pub(crate) type Result<T> = std::result::Result<T, ReportError>;
