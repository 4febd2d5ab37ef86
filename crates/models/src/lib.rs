//! # volta-models
//!
//! The models that learn which candidate trades to take, and the honest measurement of them:
//!
//! - [`FeatureMatrix`], [`Label`] and [`Dataset`]: rows are (decision date × candidate
//!   trade), columns are named features of one feature-set version, and each label is
//!   "profitable after fees" with its return on risk and its horizon (entry to exit);
//! - purged walk-forward splits ([`walk_forward`], 504 / 63 / 21 sessions by default) and a
//!   purged k-fold for tuning inside one training window ([`purged_k_fold`]);
//! - metrics ([`roc_auc`], [`log_loss`], [`brier_score`], [`calibration_table`]);
//! - the baseline [`LogisticRegression`] (standardised, L2, Newton), calibration
//!   ([`PlattScaling`], [`IsotonicCalibration`]) fitted on validation windows only;
//! - gradient boosting with LightGBM ([`GbmModel`], [`GradientBoosting`]): early stopping on
//!   a validation window, save/load with a JSON sidecar of metadata ([`GbmMetadata`]: feature
//!   names and set version, parameters, training range, data fingerprint, metrics), feature
//!   importance by gain and split count;
//! - an LSTM ([`LstmModel`], [`Lstm`]; candle-nn, CPU) over each sample's last sessions of
//!   features ([`sequence`]: the same candidate's rows, else each session's mean row, never a
//!   later session), trained with `AdamW`, a stable cross-entropy on logits and early stopping,
//!   seeded to the bit, saved as safetensors with a JSON sidecar ([`LstmMetadata`]);
//! - ensembles ([`Ensemble`]) of any learners, combined by fixed weights or a logistic stacker
//!   fitted on out-of-sample member predictions, then calibrated, each on its own purged
//!   window carved from the training set;
//! - seeded random hyperparameter search ([`random_search`] over [`GbmSpace`] or
//!   [`LstmSpace`]) scored by purged k-fold inside one training window, under a trial cap and
//!   a time budget read from an injected clock ([`Elapsed`]);
//! - charts as SVG: the calibration curve ([`calibration_svg`]) and the importance by gain
//!   ([`importance_svg`]);
//! - [`evaluate_walk_forward`], which runs any [`Learner`] over the folds (scoring through
//!   [`Classifier::predict_samples`], so sequence models see their history) and applies the
//!   [`LeakageGuard`]: a too-good feature or out-of-sample AUC is flagged, not rewarded.
//!
//! It does **not** make labels: simulating a candidate forward with fills, fees and position
//! management is the engine's job (layer 6), called by `volta-train`; this crate (layer 4)
//! only sees matrices and labels. Nor does it read the store or compute features.
//! Everything is deterministic: no clock, no unseeded randomness.
//!
//! ```
//! use chrono::{Days, NaiveDate};
//! use volta_models::{
//!     Dataset, EvaluationConfig, FeatureMatrix, Label, LabelHorizon, LogisticRegression,
//!     SampleKey, WalkForwardConfig, evaluate_walk_forward, walk_forward,
//! };
//!
//! # fn main() -> Result<(), volta_models::ModelError> {
//! // 400 sessions, one candidate a day, held 10 days. Feature `edge` carries some of the
//! // outcome, `noise` none (a deterministic pseudo-random sequence stands in for both).
//! let start = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
//! let wiggle = |i: u64, k: u64| ((i * 7919 + k * 104_729) % 1000) as f64 / 500.0 - 1.0;
//! let (mut values, mut keys, mut labels) = (Vec::new(), Vec::new(), Vec::new());
//! for i in 0..400 {
//!     let decided = start + Days::new(i);
//!     let (edge, noise) = (wiggle(i, 1), wiggle(i, 2));
//!     values.extend([edge, noise]);
//!     keys.push(SampleKey { decision_date: decided, candidate: "SPY put-credit".into() });
//!     let horizon = LabelHorizon::try_new(decided, decided + Days::new(10))?;
//!     labels.push(Label::from_return_on_risk(horizon, edge + 1.5 * wiggle(i, 3))?);
//! }
//! let matrix = FeatureMatrix::try_new(vec!["edge".into(), "noise".into()], "1.0.0", values)?;
//! let data = Dataset::try_new(matrix, keys, labels)?;
//!
//! // Train on 200 sessions, test the next 50, move on by 25; labels reaching into a test
//! // window are purged from its training set.
//! let config = WalkForwardConfig { train_sessions: 200, test_sessions: 50, step_sessions: 25, embargo_sessions: 5 };
//! let folds = walk_forward(&data, &data.decision_sessions(), &config)?;
//! assert_eq!(folds.len(), 7);
//! assert_eq!(folds[0].purged, 10);
//!
//! let report = evaluate_walk_forward(&LogisticRegression::default(), &data, &folds, &EvaluationConfig::default())?;
//! let auc = report.overall.auc.unwrap();
//! assert!(auc > 0.6 && auc < 0.9, "out-of-sample AUC {auc}");
//! assert!(report.is_clean());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod calibration;
mod dataset;
mod ensemble;
mod error;
mod evaluate;
mod gbm;
mod impute;
mod leakage;
mod logistic;
mod lstm;
mod metrics;
mod plot;
mod search;
pub mod sequence;
mod sidecar;
pub mod splits;
mod trading;

pub use calibration::{CalibrationMethod, Calibrator, IsotonicCalibration, PlattScaling};
pub use dataset::{Dataset, FeatureMatrix, Label, LabelHorizon, SampleKey};
pub use ensemble::{
    Combination, Combiner, Ensemble, EnsembleModel, EnsembleWindows, MemberLearner,
};
pub use error::{ModelError, Result};
pub use evaluate::{
    Classifier, EvaluationConfig, FoldReport, Learner, ScoredPrediction, WalkForwardReport,
    evaluate_walk_forward, fit_calibrated,
};
pub use gbm::{
    DateRange, FeatureImportance, GBM_METADATA_VERSION, GbmConfig, GbmMetadata, GbmModel,
    GradientBoosting, importance_markdown,
};
pub use impute::{MeanImputed, MeanImputedModel};
pub use leakage::{LeakageFinding, LeakageGuard, single_feature_auc};
pub use logistic::{LogisticConfig, LogisticModel, LogisticRegression};
pub use lstm::{LSTM_METADATA_VERSION, Lstm, LstmConfig, LstmMetadata, LstmModel};
pub use metrics::{
    CALIBRATION_BINS, CalibrationBin, LOG_LOSS_EPSILON, Metrics, brier_score, calibration_table,
    expected_calibration_error, log_loss, roc_auc,
};
pub use plot::{calibration_svg, importance_svg};
pub use search::{
    ClockStart, Elapsed, GbmSpace, LstmSpace, SearchConfig, SearchReport, SearchSpace, SearchStop,
    SearchTally, Searched, Trial, TrialScore, random_search,
};
pub use splits::{Fold, SessionWindow, WalkForwardConfig, purged_k_fold, walk_forward};
pub use trading::{
    MANIFEST_FILE, TRADING_MODEL_VERSION, TradingKind, TradingManifest, TradingModel,
};
