//! The one error type of `volta-models`.

/// What went wrong while building a data set, splitting it, fitting or scoring a model.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Two inputs that must agree in length or width do not: `what` names them.
    #[error("shape mismatch: {what}: expected {expected}, got {actual}")]
    Shape {
        /// The inputs that disagree (`labels vs matrix rows`, `row 12 width`, …).
        what: String,
        /// The length or width required.
        expected: usize,
        /// The length or width given.
        actual: usize,
    },
    /// A value is unusable: NaN or infinite where a number is required, a probability outside
    /// [0, 1], a label horizon that ends before it starts. `at` says where (row, column, sample).
    #[error("bad value at {at}: {reason}")]
    BadValue {
        /// Where the value is: `row 3, column iv_rank`, `sample 17`, …
        at: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An input that must not be empty is: no rows, no features, a class missing from the labels.
    #[error("not enough data: {what}")]
    NotEnoughData {
        /// What is missing (`no positive label in fold 3`, `fewer sessions than one fold`, …).
        what: String,
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
    /// An iterative fit did not converge within its iteration limit.
    #[error("{model} did not converge in {iterations} iterations (last step {last_step:e})")]
    NoConvergence {
        /// The model being fitted (`logistic regression`, `Platt scaling`).
        model: &'static str,
        /// The iteration limit reached.
        iterations: usize,
        /// The size of the last Newton step (max norm), for diagnosis.
        last_step: f64,
    },
    /// LightGBM refused an operation; `operation` says which (`train`, `predict`, `load`, …).
    #[error("LightGBM {operation}: {source}")]
    LightGbm {
        /// What was being done.
        operation: &'static str,
        /// LightGBM's own message.
        source: lightgbm3::Error,
    },
    /// candle (the LSTM's tensor library) refused an operation; `operation` says which
    /// (`build the network`, `train step`, `predict`, `save`, `load`, …).
    #[error("candle {operation}: {source}")]
    Candle {
        /// What was being done.
        operation: &'static str,
        /// candle's own message.
        source: candle_core::Error,
    },
    /// Reading or writing a model file or its sidecar failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model file or its metadata sidecar is not one this crate wrote, or does not match the
    /// other half of the pair.
    #[error("model file {path}: {reason}")]
    BadModelFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Drawing a chart failed (from plotters); `reason` is its message.
    #[error("plot: {reason}")]
    Plot {
        /// The backend's message.
        reason: String,
    },
}

/// Maps a candle error to [`ModelError::Candle`] for `operation`.
pub(crate) fn candle(operation: &'static str) -> impl FnOnce(candle_core::Error) -> ModelError {
    move |source| ModelError::Candle { operation, source }
}

/// `Result` with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;

/// Fails with [`ModelError::Shape`] unless `actual == expected`.
pub(crate) fn check_len(
    what: impl FnOnce() -> String,
    expected: usize,
    actual: usize,
) -> Result<()> {
    if actual == expected {
        Ok(())
    } else {
        Err(ModelError::Shape {
            what: what(),
            expected,
            actual,
        })
    }
}
