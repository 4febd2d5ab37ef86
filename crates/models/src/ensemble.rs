//! Ensembles of classifiers: members of any kind (logistic regression, LightGBM, the LSTM, …)
//! combined by fixed weights or by a logistic stacker, then calibrated.
//!
//! [`Ensemble`] is a [`Learner`]: its `fit` splits the training set it is given by decision
//! sessions, oldest first,
//!
//! ```text
//! | members fitted here | purge | stacking window | purge | calibration window |
//! ```
//!
//! Members are fitted on the first part only; the stacker (when there is one) is fitted on
//! the members' predictions over the stacking window, which none of them has seen; the
//! calibrator on the combined predictions over the calibration window, which neither the
//! members nor the stacker has seen. Each window is purged as [`crate::evaluate_walk_forward`]
//! purges its validation window: no earlier sample's label horizon reaches into it. The test
//! window of a walk-forward is never part of a training set, so it is never seen either.
//! Members are not refitted on the later windows: what the stacker weighs is exactly what
//! predicts.

use crate::calibration::{CalibrationMethod, Calibrator};
use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::{ModelError, Result};
use crate::evaluate::{Classifier, Learner, check_rows, validation_split};
use crate::gbm::DateRange;
use crate::logistic::{LogisticConfig, LogisticModel};

/// Probabilities are clipped to [ε, 1 − ε] before their logit is taken for the stacker.
const LOGIT_EPSILON: f64 = 1e-6;

/// A learner whose fitted model is boxed, so that members of different kinds can sit in one
/// [`Ensemble`]. Every [`Learner`] with a `'static` model is one.
pub trait MemberLearner {
    /// Fits the member to `train`.
    ///
    /// # Errors
    /// As the learner's [`Learner::fit`].
    fn fit_member(&self, train: &Dataset) -> Result<Box<dyn Classifier>>;
}

impl<L> MemberLearner for L
where
    L: Learner,
    L::Model: 'static,
{
    fn fit_member(&self, train: &Dataset) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(self.fit(train)?))
    }
}

/// How the members' probabilities are combined.
#[derive(Debug, Clone, PartialEq)]
pub enum Combiner {
    /// A weighted mean of the members' probabilities, one non-negative weight per member in
    /// order (normalised to sum to 1). Nothing is fitted: no stacking window is carved.
    Weights(Vec<f64>),
    /// A logistic regression on the members' logits, fitted on the stacking window.
    Stacker(LogisticConfig),
}

/// The combination of a fitted [`EnsembleModel`].
#[derive(Debug, Clone, PartialEq)]
pub enum Combination {
    /// Weighted mean of the members' probabilities (weights summing to 1).
    Weights(Vec<f64>),
    /// Logistic regression on the members' logits (columns named after the members).
    Stacker(LogisticModel),
}

/// Members of different kinds, combined, then calibrated: a [`Learner`] whose fit carves
/// its own stacking and calibration windows from the end of the training set it is given,
/// by decision sessions, oldest first:
///
/// ```text
/// | members fitted here | purge | stacking window | purge | calibration window |
/// ```
///
/// The stacker learns from member predictions on samples no member was fitted on, the
/// calibrator from combined predictions on samples neither the members nor the stacker saw.
/// With [`Combiner::Weights`] there is no stacking window; without calibration, no
/// calibration window.
pub struct Ensemble {
    members: Vec<(String, Box<dyn MemberLearner>)>,
    /// How the members' probabilities are combined.
    pub combiner: Combiner,
    /// The calibration fitted on the calibration window; `None` skips it (and the window).
    pub calibration: Option<CalibrationMethod>,
    /// Sessions of the stacking window (with [`Combiner::Stacker`]): 63.
    pub stacking_sessions: usize,
    /// Sessions of the calibration window: 63.
    pub calibration_sessions: usize,
}

impl std::fmt::Debug for Ensemble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ensemble")
            .field("members", &self.member_names())
            .field("combiner", &self.combiner)
            .field("calibration", &self.calibration)
            .field("stacking_sessions", &self.stacking_sessions)
            .field("calibration_sessions", &self.calibration_sessions)
            .finish()
    }
}

impl Ensemble {
    /// An ensemble without members yet, combining by `combiner`, Platt-calibrated, with
    /// 63-session stacking and calibration windows.
    #[must_use]
    pub fn new(combiner: Combiner) -> Self {
        Self {
            members: Vec::new(),
            combiner,
            calibration: Some(CalibrationMethod::Platt),
            stacking_sessions: 63,
            calibration_sessions: 63,
        }
    }

    /// Adds a member named `name` (the stacker's column name: unique, not empty).
    #[must_use]
    pub fn with_member(
        mut self,
        name: impl Into<String>,
        learner: impl MemberLearner + 'static,
    ) -> Self {
        self.members.push((name.into(), Box::new(learner)));
        self
    }

    /// The members' names, in order.
    #[must_use]
    pub fn member_names(&self) -> Vec<&str> {
        self.members.iter().map(|(name, _)| name.as_str()).collect()
    }

    fn check(&self) -> Result<()> {
        if self.members.is_empty() {
            return Err(ModelError::NotEnoughData {
                what: "an ensemble without members".into(),
            });
        }
        if let Combiner::Weights(weights) = &self.combiner {
            crate::error::check_len(
                || "ensemble weights vs members".into(),
                self.members.len(),
                weights.len(),
            )?;
            let sum: f64 = weights.iter().sum();
            if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || sum <= 0.0 {
                return Err(ModelError::InvalidConfig {
                    field: "weights",
                    value: format!("{weights:?}"),
                    requirement: "finite, non-negative, not all 0",
                });
            }
        }
        Ok(())
    }
}

/// Where each part of a fitted ensemble learned, as decision dates of the training set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnsembleWindows {
    /// The samples the members were fitted on.
    pub members: DateRange,
    /// The stacking window (with a stacker).
    pub stacking: Option<DateRange>,
    /// The calibration window (with calibration).
    pub calibration: Option<DateRange>,
}

/// A fitted [`Ensemble`].
pub struct EnsembleModel {
    names: Vec<String>,
    members: Vec<Box<dyn Classifier>>,
    combination: Combination,
    calibrator: Option<Calibrator>,
    windows: EnsembleWindows,
}

impl std::fmt::Debug for EnsembleModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnsembleModel")
            .field("members", &self.names)
            .field("combination", &self.combination)
            .field("calibrator", &self.calibrator)
            .field("windows", &self.windows)
            .finish_non_exhaustive()
    }
}

impl EnsembleModel {
    /// The members' names, in order.
    #[must_use]
    pub fn member_names(&self) -> &[String] {
        &self.names
    }

    /// How the members are combined (the fitted stacker, or the normalised weights).
    #[must_use]
    pub fn combination(&self) -> &Combination {
        &self.combination
    }

    /// The calibration applied last, when there is one.
    #[must_use]
    pub fn calibrator(&self) -> Option<&Calibrator> {
        self.calibrator.as_ref()
    }

    /// The decision dates each part learned from.
    #[must_use]
    pub fn windows(&self) -> EnsembleWindows {
        self.windows
    }

    /// The combined, uncalibrated probabilities from each member's (`per_member[m][i]`).
    fn combine(&self, per_member: &[Vec<f64>]) -> Result<Vec<f64>> {
        combine(&self.combination, &self.names, per_member)
    }

    fn finish(&self, per_member: &[Vec<f64>]) -> Result<Vec<f64>> {
        let combined = self.combine(per_member)?;
        Ok(match &self.calibrator {
            None => combined,
            Some(calibrator) => combined.into_iter().map(|p| calibrator.apply(p)).collect(),
        })
    }
}

fn combine(
    combination: &Combination,
    names: &[String],
    per_member: &[Vec<f64>],
) -> Result<Vec<f64>> {
    let rows = per_member.first().map_or(0, Vec::len);
    match combination {
        Combination::Weights(weights) => Ok((0..rows)
            .map(|i| {
                weights
                    .iter()
                    .zip(per_member)
                    .map(|(w, p)| w * p[i])
                    .sum::<f64>()
            })
            .collect()),
        Combination::Stacker(stacker) => stacker.predict_proba(&logit_matrix(names, per_member)?),
    }
}

/// The members' logits as a matrix: one row per sample, one column per member.
fn logit_matrix(names: &[String], per_member: &[Vec<f64>]) -> Result<FeatureMatrix> {
    let rows = per_member.first().map_or(0, Vec::len);
    let mut values = Vec::with_capacity(rows * names.len());
    for i in 0..rows {
        values.extend(per_member.iter().map(|p| {
            let p = p[i].clamp(LOGIT_EPSILON, 1.0 - LOGIT_EPSILON);
            (p / (1.0 - p)).ln()
        }));
    }
    FeatureMatrix::try_new(names.to_vec(), "ensemble-logits", values)
}

fn date_range(data: &Dataset, rows: &[usize], what: &str) -> Result<DateRange> {
    match (rows.first(), rows.last()) {
        (Some(&first), Some(&last)) => Ok(DateRange {
            first: data.keys()[first].decision_date,
            last: data.keys()[last].decision_date,
        }),
        _ => Err(ModelError::NotEnoughData {
            what: format!("ensemble: no samples left for the {what}"),
        }),
    }
}

/// Carves the last `sessions` sessions of `rows` off as a window (purging before it).
fn carve(
    data: &Dataset,
    rows: &[usize],
    sessions: usize,
    what: &str,
) -> Result<(Vec<usize>, Vec<usize>)> {
    validation_split(data, rows, sessions).ok_or_else(|| ModelError::NotEnoughData {
        what: format!("ensemble: fewer than {sessions} sessions to leave a {what} window"),
    })
}

impl Learner for Ensemble {
    type Model = EnsembleModel;

    fn fit(&self, train: &Dataset) -> Result<EnsembleModel> {
        self.check()?;
        let all: Vec<usize> = (0..train.len()).collect();
        let (before_calibration, calibration_rows) = match self.calibration {
            Some(_) => carve(train, &all, self.calibration_sessions, "calibration")?,
            None => (all, Vec::new()),
        };
        let (member_rows, stacking_rows) = match self.combiner {
            Combiner::Stacker(_) => carve(
                train,
                &before_calibration,
                self.stacking_sessions,
                "stacking",
            )?,
            Combiner::Weights(_) => (before_calibration, Vec::new()),
        };
        let windows = EnsembleWindows {
            members: date_range(train, &member_rows, "members")?,
            stacking: match self.combiner {
                Combiner::Stacker(_) => Some(date_range(train, &stacking_rows, "stacking window")?),
                Combiner::Weights(_) => None,
            },
            calibration: match self.calibration {
                Some(_) => Some(date_range(train, &calibration_rows, "calibration window")?),
                None => None,
            },
        };
        let member_set = train.subset(&member_rows);
        let members = self
            .members
            .iter()
            .map(|(_, learner)| learner.fit_member(&member_set))
            .collect::<Result<Vec<_>>>()?;
        let names: Vec<String> = self.members.iter().map(|(name, _)| name.clone()).collect();
        let targets = |rows: &[usize]| -> Vec<bool> {
            rows.iter()
                .map(|&i| train.labels()[i].profitable())
                .collect()
        };
        let predictions = |rows: &[usize]| -> Result<Vec<Vec<f64>>> {
            members
                .iter()
                .map(|member| member.predict_samples(train, rows))
                .collect()
        };
        let combination = match &self.combiner {
            Combiner::Weights(weights) => {
                let sum: f64 = weights.iter().sum();
                Combination::Weights(weights.iter().map(|w| w / sum).collect())
            }
            Combiner::Stacker(config) => {
                let stacked = logit_matrix(&names, &predictions(&stacking_rows)?)?;
                Combination::Stacker(LogisticModel::fit(
                    &stacked,
                    &targets(&stacking_rows),
                    config,
                )?)
            }
        };
        let calibrator = match self.calibration {
            None => None,
            Some(method) => {
                let combined = combine(&combination, &names, &predictions(&calibration_rows)?)?;
                Some(Calibrator::fit(
                    method,
                    &combined,
                    &targets(&calibration_rows),
                )?)
            }
        };
        Ok(EnsembleModel {
            names,
            members,
            combination,
            calibrator,
            windows,
        })
    }
}

impl Classifier for EnsembleModel {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        let per_member = self
            .members
            .iter()
            .map(|member| member.predict_proba(matrix))
            .collect::<Result<Vec<_>>>()?;
        self.finish(&per_member)
    }

    fn predict_samples(&self, dataset: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        check_rows(dataset, rows)?;
        let per_member = self
            .members
            .iter()
            .map(|member| member.predict_samples(dataset, rows))
            .collect::<Result<Vec<_>>>()?;
        self.finish(&per_member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_weights_give_the_weighted_mean() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let combined = combine(
            &Combination::Weights(vec![0.75, 0.25]),
            &names,
            &[vec![0.2, 0.8], vec![0.6, 0.4]],
        )
        .unwrap();
        assert!((combined[0] - 0.3).abs() < 1e-15);
        assert!((combined[1] - 0.7).abs() < 1e-15);
    }

    #[test]
    fn weights_must_match_the_members_and_be_non_negative() {
        let ensemble = Ensemble::new(Combiner::Weights(vec![1.0, -1.0]))
            .with_member("a", crate::LogisticRegression::default())
            .with_member("b", crate::LogisticRegression::default());
        assert!(
            ensemble
                .check()
                .unwrap_err()
                .to_string()
                .contains("`weights`")
        );
        let ensemble = Ensemble::new(Combiner::Weights(vec![1.0]))
            .with_member("a", crate::LogisticRegression::default())
            .with_member("b", crate::LogisticRegression::default());
        assert!(
            ensemble
                .check()
                .unwrap_err()
                .to_string()
                .contains("ensemble weights vs members")
        );
        assert!(Ensemble::new(Combiner::Weights(vec![])).check().is_err());
    }
}
