//! Walk-forward evaluation: fit a learner fold by fold, score its out-of-sample
//! probabilities, optionally calibrate them on a validation window carved from each training
//! window, and run the leakage guards over the result.

use crate::calibration::{CalibrationMethod, Calibrator};
use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::{ModelError, Result};
use crate::leakage::{LeakageFinding, LeakageGuard};
use crate::metrics::Metrics;
use crate::splits::{Fold, SessionWindow};

/// A fitted model that gives the probability that each row's trade is profitable.
pub trait Classifier {
    /// One probability in [0, 1] per row of `matrix`.
    ///
    /// # Errors
    /// When `matrix` does not have the columns the model was trained on, in the same order, or
    /// holds values the model cannot take.
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>>;

    /// One probability in [0, 1] per sample `rows` of `dataset` (ascending indices), in order.
    ///
    /// Models that score a row from its features alone need nothing else and keep this
    /// default (the rows' features through [`Self::predict_proba`]). A sequence model
    /// ([`crate::LstmModel`]) also reads the features of the samples decided *before* each
    /// row in `dataset` — features are known at the decision, labels are not read — and
    /// never a row decided after it. [`evaluate_walk_forward`] scores through this method
    /// with the whole data set, so a test window's first samples have their history.
    ///
    /// # Errors
    /// As [`Self::predict_proba`]; [`ModelError::Shape`] for an index out of range.
    fn predict_samples(&self, dataset: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        check_rows(dataset, rows)?;
        self.predict_proba(&dataset.matrix().select_rows(rows))
    }
}

/// Fails with [`ModelError::Shape`] when a row index is outside `dataset`.
pub(crate) fn check_rows(dataset: &Dataset, rows: &[usize]) -> Result<()> {
    match rows.iter().find(|&&row| row >= dataset.len()) {
        None => Ok(()),
        Some(&row) => Err(ModelError::Shape {
            what: format!("sample index {row} into the data set"),
            expected: dataset.len(),
            actual: row + 1,
        }),
    }
}

/// Something that fits a [`Classifier`] to a training set.
pub trait Learner {
    /// The fitted model.
    type Model: Classifier;

    /// Fits a model to `train`.
    ///
    /// # Errors
    /// When the model cannot be fitted to these samples (one class only, bad values, …).
    fn fit(&self, train: &Dataset) -> Result<Self::Model>;
}

/// Fails unless `matrix`'s columns are exactly `trained_on`, in order: a model scoring
/// columns it was not trained on gives confident nonsense, not an error.
pub(crate) fn check_columns(trained_on: &[String], matrix: &FeatureMatrix) -> Result<()> {
    if trained_on == matrix.names() {
        return Ok(());
    }
    let column = trained_on
        .iter()
        .zip(matrix.names())
        .position(|(a, b)| a != b)
        .unwrap_or(trained_on.len().min(matrix.n_features()));
    Err(ModelError::BadValue {
        at: format!("feature column {column}"),
        reason: format!(
            "model trained on {} columns ({}), given {} ({})",
            trained_on.len(),
            trained_on
                .get(column)
                .map_or("none".into(), |n| format!("`{n}`")),
            matrix.n_features(),
            matrix
                .names()
                .get(column)
                .map_or("none".into(), |n| format!("`{n}`")),
        ),
    })
}

/// How [`evaluate_walk_forward`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationConfig {
    /// Calibrate each fold's probabilities, fitted on a validation window (never on the test
    /// window); `None` scores the raw probabilities.
    pub calibration: Option<CalibrationMethod>,
    /// The last sessions of each training window that become the validation window when
    /// calibrating (the model is then fitted on the sessions before it, purged against it).
    pub validation_sessions: usize,
    /// Thresholds of the leakage guards.
    pub leakage: LeakageGuard,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        Self {
            calibration: None,
            validation_sessions: 63,
            leakage: LeakageGuard::default(),
        }
    }
}

/// One fold's out-of-sample result.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldReport {
    /// The fold's position.
    pub index: usize,
    /// Its test window.
    pub test_window: SessionWindow,
    /// Samples the model was fitted on.
    pub train_samples: usize,
    /// Training-window samples purged (label horizon overlapping the test window).
    pub purged: usize,
    /// Training-window samples dropped by the embargo.
    pub embargoed: usize,
    /// Scores of the fold's (calibrated, when asked) probabilities on its whole test window.
    pub metrics: Metrics,
    /// The calibration fitted on this fold's validation window.
    pub calibrator: Option<Calibrator>,
}

/// One out-of-sample probability that counts in the overall figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPrediction {
    /// The sample (row of the evaluated [`Dataset`]).
    pub sample: usize,
    /// The fold whose model scored it.
    pub fold: usize,
    /// The probability that the trade is profitable.
    pub probability: f64,
}

/// The result of [`evaluate_walk_forward`].
#[derive(Debug, Clone, PartialEq)]
pub struct WalkForwardReport {
    /// Per fold, in order.
    pub folds: Vec<FoldReport>,
    /// Every scored-window prediction (each sample at most once), in sample order.
    pub predictions: Vec<ScoredPrediction>,
    /// Scores over `predictions`.
    pub overall: Metrics,
    /// What the leakage guards flagged; empty when nothing looks leaked.
    pub leakage: Vec<LeakageFinding>,
}

impl WalkForwardReport {
    /// Whether the leakage guards found nothing.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.leakage.is_empty()
    }
}

/// Fits `learner` on each fold's training samples and scores its test samples.
///
/// With calibration, each fold's training samples are split once more: the last
/// `validation_sessions` decision sessions are the validation window, the model is fitted on
/// the samples before it (purged: no horizon reaching into the validation window), and the
/// calibrator on the model's validation predictions.
///
/// # Errors
/// [`ModelError::NotEnoughData`] without folds, or when a fold has too few training or
/// validation samples; the learner's and the calibrator's errors.
pub fn evaluate_walk_forward<L: Learner>(
    learner: &L,
    dataset: &Dataset,
    folds: &[Fold],
    config: &EvaluationConfig,
) -> Result<WalkForwardReport> {
    if folds.is_empty() {
        return Err(ModelError::NotEnoughData {
            what: "no walk-forward folds to evaluate".into(),
        });
    }
    let mut reports = Vec::with_capacity(folds.len());
    let mut predictions = Vec::new();
    for fold in folds {
        let (probabilities, train_samples, calibrator) =
            fit_and_predict(learner, dataset, fold, config)?;
        let targets: Vec<bool> = fold
            .test
            .iter()
            .map(|&i| dataset.labels()[i].profitable())
            .collect();
        reports.push(FoldReport {
            index: fold.index,
            test_window: fold.test_window,
            train_samples,
            purged: fold.purged,
            embargoed: fold.embargoed,
            metrics: Metrics::compute(&probabilities, &targets)?,
            calibrator,
        });
        // `scored` is a prefix of `test` (both ascending by decision date).
        predictions.extend(fold.scored.iter().zip(&probabilities).map(
            |(&sample, &probability)| ScoredPrediction {
                sample,
                fold: fold.index,
                probability,
            },
        ));
    }
    predictions.sort_by_key(|prediction| prediction.sample);
    let probabilities: Vec<f64> = predictions.iter().map(|p| p.probability).collect();
    let targets: Vec<bool> = predictions
        .iter()
        .map(|p| dataset.labels()[p.sample].profitable())
        .collect();
    let overall = Metrics::compute(&probabilities, &targets)?;
    let leakage = config.leakage.check(dataset, &overall)?;
    Ok(WalkForwardReport {
        folds: reports,
        predictions,
        overall,
        leakage,
    })
}

/// The fold's test probabilities, the number of samples the model was fitted on, and the
/// calibrator when one was asked for.
fn fit_and_predict<L: Learner>(
    learner: &L,
    dataset: &Dataset,
    fold: &Fold,
    config: &EvaluationConfig,
) -> Result<(Vec<f64>, usize, Option<Calibrator>)> {
    let (model, fitted_on, calibrator) = fit_calibrated(learner, dataset, &fold.train, config)
        .map_err(|e| match e {
            ModelError::NotEnoughData { what } => ModelError::NotEnoughData {
                what: format!("fold {}: {what}", fold.index),
            },
            other => other,
        })?;
    let probabilities = model.predict_samples(dataset, &fold.test)?;
    let probabilities = match &calibrator {
        Some(c) => probabilities.into_iter().map(|p| c.apply(p)).collect(),
        None => probabilities,
    };
    Ok((probabilities, fitted_on, calibrator))
}

/// Fits `learner` on the samples `train` of `dataset` and, when `config.calibration` asks, a
/// calibrator: the last `config.validation_sessions` decision sessions of `train` are carved
/// off, the learner is fitted on the samples before them (purged of labels reaching into
/// them) and the calibrator on its predictions of the carved window. Returns the model, the
/// number of samples it was fitted on, and the calibrator. The walk-forward fits each fold
/// so, and a trading model is fitted so on all its data.
///
/// # Errors
/// [`ModelError::NotEnoughData`] when `train` has no more decision sessions than the carved
/// window; the learner's and the calibrator's errors.
pub fn fit_calibrated<L: Learner>(
    learner: &L,
    dataset: &Dataset,
    train: &[usize],
    config: &EvaluationConfig,
) -> Result<(L::Model, usize, Option<Calibrator>)> {
    let Some(method) = config.calibration else {
        let model = learner.fit(&dataset.subset(train))?;
        return Ok((model, train.len(), None));
    };
    let (fit_on, validation) = validation_split(dataset, train, config.validation_sessions)
        .ok_or_else(|| ModelError::NotEnoughData {
            what: format!(
                "fewer than {} training sessions to leave a validation window",
                config.validation_sessions
            ),
        })?;
    let model = learner.fit(&dataset.subset(&fit_on))?;
    let validation_targets: Vec<bool> = validation
        .iter()
        .map(|&i| dataset.labels()[i].profitable())
        .collect();
    let calibrator = Calibrator::fit(
        method,
        &model.predict_samples(dataset, &validation)?,
        &validation_targets,
    )?;
    Ok((model, fit_on.len(), Some(calibrator)))
}

/// Splits ascending training indices into (fit, validation): validation = the samples of the
/// last `sessions` distinct decision dates; fit = the earlier ones whose label horizon stays
/// clear of the validation window. `None` when there are not more than `sessions` dates.
pub(crate) fn validation_split(
    dataset: &Dataset,
    train: &[usize],
    sessions: usize,
) -> Option<(Vec<usize>, Vec<usize>)> {
    let keys = dataset.keys();
    let mut dates: Vec<_> = train.iter().map(|&i| keys[i].decision_date).collect();
    dates.dedup();
    if sessions == 0 || dates.len() <= sessions {
        return None;
    }
    let (first, last) = (dates[dates.len() - sessions], dates[dates.len() - 1]);
    let (validation, earlier): (Vec<usize>, Vec<usize>) =
        train.iter().partition(|&&i| keys[i].decision_date >= first);
    let fit_on = earlier
        .into_iter()
        .filter(|&i| !dataset.labels()[i].horizon().overlaps(first, last))
        .collect();
    Some((fit_on, validation))
}

#[cfg(test)]
mod tests {
    use chrono::{Days, NaiveDate};

    use super::*;
    use crate::dataset::{Label, LabelHorizon, SampleKey};

    #[test]
    fn validation_split_takes_the_last_sessions_and_purges_before_them() {
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let (mut keys, mut labels) = (Vec::new(), Vec::new());
        for day in 0..10_u64 {
            let date = start + Days::new(day);
            keys.push(SampleKey {
                decision_date: date,
                candidate: "c".into(),
            });
            let horizon = LabelHorizon::try_new(date, date + Days::new(2)).unwrap();
            labels.push(Label::from_return_on_risk(horizon, 1.0).unwrap());
        }
        let matrix = FeatureMatrix::try_new(vec!["x".into()], "v", vec![0.0; 10]).unwrap();
        let data = Dataset::try_new(matrix, keys, labels).unwrap();
        let (fit_on, validation) =
            validation_split(&data, &(0..10).collect::<Vec<_>>(), 3).unwrap();
        assert_eq!(validation, vec![7, 8, 9]);
        // Days 5 and 6 have 2-day labels reaching day 7: purged.
        assert_eq!(fit_on, vec![0, 1, 2, 3, 4]);
        assert!(validation_split(&data, &[0, 1, 2], 3).is_none());
    }

    #[test]
    fn column_check_names_the_first_difference() {
        let matrix = FeatureMatrix::try_new(vec!["a".into(), "c".into()], "v", vec![]).unwrap();
        assert!(check_columns(&["a".into(), "c".into()], &matrix).is_ok());
        let err = check_columns(&["a".into(), "b".into()], &matrix).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad value at feature column 1: model trained on 2 columns (`b`), given 2 (`c`)"
        );
    }
}
