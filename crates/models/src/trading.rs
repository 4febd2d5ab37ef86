//! A model saved for trading: what `volta-train train` writes, the registry points at, and the
//! adaptive strategy scores its openings with (in backtests and in the live trader).
//!
//! One folder per model: `model.json` (the manifest: kind, feature columns in order, feature
//! set, training range and data fingerprint, the calibrator, and the logistic regression's
//! coefficients inline) and, for LightGBM, `gbm.txt` (LightGBM's text model, with its own
//! sidecar). The models that trade are the row models, logistic regression (on
//! training-mean-imputed features) and LightGBM: a decision's row is the day's features and
//! the candidate's, nothing else. The LSTM reads the history of earlier candidates, which the
//! live trader does not keep, and stays a research model (`volta-train validate`).
//!
//! The model is fitted as the walk-forward fits each fold: with calibration, the last
//! `validation_sessions` decision sessions are carved off (and the samples before them purged
//! of labels reaching into them), the learner is fitted on the rest and the calibrator on its
//! predictions of the carved window ([`fit_calibrated`]).

use std::path::{Path, PathBuf};

use crate::calibration::{CalibrationMethod, Calibrator};
use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::{ModelError, Result};
use crate::evaluate::{Classifier, EvaluationConfig, check_columns, fit_calibrated};
use crate::gbm::{DateRange, GbmModel, GradientBoosting};
use crate::impute::{MeanImputed, MeanImputedModel};
use crate::logistic::{LogisticModel, LogisticRegression};

/// Version of `model.json`'s layout; a loader refuses others.
pub const TRADING_MODEL_VERSION: u32 = 1;

/// The manifest's file name in a model's folder.
pub const MANIFEST_FILE: &str = "model.json";

/// LightGBM's model file in a model's folder.
const GBM_FILE: &str = "gbm.txt";

/// The kinds of model that trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradingKind {
    /// Logistic regression on training-mean-imputed features.
    Logistic,
    /// LightGBM (its defaults, early stopping on the last 63 sessions it is given).
    Gbm,
}

impl TradingKind {
    /// Its name in the registry and on the command line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Logistic => "logistic",
            Self::Gbm => "gbm",
        }
    }

    /// The kind named `name` (`logistic`, `gbm`).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for any other name, saying which trade and why the LSTM
    /// does not.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "logistic" => Ok(Self::Logistic),
            "gbm" => Ok(Self::Gbm),
            other => Err(ModelError::InvalidConfig {
                field: "model kind",
                value: other.to_owned(),
                requirement: "logistic or gbm (the LSTM reads earlier candidates' rows, \
                              which a live decision does not have: it is validated, not \
                              traded)",
            }),
        }
    }
}

/// `model.json`: everything about a trading model but LightGBM's trees.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TradingManifest {
    /// [`TRADING_MODEL_VERSION`] when written.
    pub version: u32,
    /// The kind.
    pub kind: TradingKind,
    /// The columns of a row, in order (the day's features, then the candidate's).
    pub feature_names: Vec<String>,
    /// The feature set's version.
    pub feature_set: String,
    /// Decision dates of every sample it learnt from (fit and calibration windows).
    pub training_range: DateRange,
    /// Samples it learnt from.
    pub training_samples: usize,
    /// [`Dataset::fingerprint`] of those samples.
    pub data_fingerprint: String,
    /// The calibration fitted on the carved window; `None` when uncalibrated.
    pub calibrator: Option<Calibrator>,
    /// The logistic regression and its imputation means (logistic models only).
    pub logistic: Option<MeanImputedModel<LogisticModel>>,
    /// The first session of the modelled chain history the day features were computed with
    /// (their chain-based columns depend on it): a scorer computes its rows the same way.
    #[serde(default)]
    pub chains_from: Option<chrono::NaiveDate>,
}

/// The fitted learner inside.
#[derive(Debug)]
enum Inner {
    Logistic(MeanImputedModel<LogisticModel>),
    Gbm(GbmModel),
}

/// A model that trades (module docs).
#[derive(Debug)]
pub struct TradingModel {
    manifest: TradingManifest,
    inner: Inner,
}

impl TradingModel {
    /// Fits a model of `kind` on every sample of `dataset`, calibrated by `calibration` on its
    /// last `validation_sessions` decision sessions.
    ///
    /// # Errors
    /// [`ModelError::NotEnoughData`] for too few samples or sessions; the learner's and the
    /// calibrator's errors.
    pub fn fit(
        kind: TradingKind,
        dataset: &Dataset,
        calibration: Option<CalibrationMethod>,
        validation_sessions: usize,
    ) -> Result<Self> {
        let range = dataset
            .decision_range()
            .map(|(first, last)| DateRange { first, last })
            .ok_or_else(|| ModelError::NotEnoughData {
                what: "no samples to train a trading model on".into(),
            })?;
        let all: Vec<usize> = (0..dataset.len()).collect();
        let config = EvaluationConfig {
            calibration,
            validation_sessions,
            ..EvaluationConfig::default()
        };
        let (inner, calibrator) = match kind {
            TradingKind::Logistic => {
                let learner = MeanImputed {
                    inner: LogisticRegression::default(),
                };
                let (model, _, calibrator) = fit_calibrated(&learner, dataset, &all, &config)?;
                (Inner::Logistic(model), calibrator)
            }
            TradingKind::Gbm => {
                let (model, _, calibrator) =
                    fit_calibrated(&GradientBoosting::default(), dataset, &all, &config)?;
                (Inner::Gbm(model), calibrator)
            }
        };
        let matrix = dataset.matrix();
        Ok(Self {
            manifest: TradingManifest {
                version: TRADING_MODEL_VERSION,
                kind,
                feature_names: matrix.names().to_vec(),
                feature_set: matrix.feature_set_version().to_owned(),
                training_range: range,
                training_samples: dataset.len(),
                data_fingerprint: dataset.fingerprint(),
                calibrator,
                logistic: match &inner {
                    Inner::Logistic(m) => Some(m.clone()),
                    Inner::Gbm(_) => None,
                },
                chains_from: None,
            },
            inner,
        })
    }

    /// What it is and what it was trained on.
    #[must_use]
    pub fn manifest(&self) -> &TradingManifest {
        &self.manifest
    }

    /// Records the first session of the modelled chain history its features were computed
    /// with ([`TradingManifest::chains_from`]).
    pub fn set_chains_from(&mut self, chains_from: Option<chrono::NaiveDate>) {
        self.manifest.chains_from = chains_from;
    }

    /// The calibrated probability that the trade of `row` (the manifest's columns, in order)
    /// is profitable.
    ///
    /// # Errors
    /// [`ModelError::Shape`] for a row of another width; LightGBM's errors.
    pub fn predict_row(&self, row: &[f64]) -> Result<f64> {
        let matrix = FeatureMatrix::try_new(
            self.manifest.feature_names.clone(),
            self.manifest.feature_set.clone(),
            row.to_vec(),
        )?;
        Ok(self.predict_proba(&matrix)?[0])
    }

    /// Writes the model into the folder `dir` (created if missing): `model.json` and, for
    /// LightGBM, `gbm.txt` with its sidecar. Returns the manifest's path.
    ///
    /// # Errors
    /// [`ModelError::Io`] when the folder or a file cannot be written; LightGBM's errors.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
            path: dir.to_owned(),
            source,
        })?;
        if let Inner::Gbm(model) = &self.inner {
            model.save(&dir.join(GBM_FILE))?;
        }
        let path = dir.join(MANIFEST_FILE);
        let json =
            serde_json::to_string_pretty(&self.manifest).map_err(|e| ModelError::BadModelFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        std::fs::write(&path, json).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Reads a model written by [`Self::save`] from its manifest `path` (or its folder).
    ///
    /// # Errors
    /// [`ModelError::Io`] for a missing file, [`ModelError::BadModelFile`] for a manifest of
    /// another version, one that does not parse, a logistic manifest without its
    /// coefficients, or a LightGBM file whose columns differ from the manifest's.
    pub fn load(path: &Path) -> Result<Self> {
        let path = if path.is_dir() {
            path.join(MANIFEST_FILE)
        } else {
            path.to_owned()
        };
        let bad = |reason: String| ModelError::BadModelFile {
            path: path.clone(),
            reason,
        };
        let json = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest: TradingManifest =
            serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?;
        if manifest.version != TRADING_MODEL_VERSION {
            return Err(bad(format!(
                "layout version {}, this build reads {TRADING_MODEL_VERSION}",
                manifest.version
            )));
        }
        let inner = match manifest.kind {
            TradingKind::Logistic => Inner::Logistic(
                manifest
                    .logistic
                    .clone()
                    .ok_or_else(|| bad("a logistic model without its coefficients".into()))?,
            ),
            TradingKind::Gbm => {
                let dir = path.parent().unwrap_or_else(|| Path::new("."));
                let model = GbmModel::load(&dir.join(GBM_FILE))?;
                if model.metadata().feature_names != manifest.feature_names {
                    return Err(bad(format!(
                        "{GBM_FILE} reads other columns than the manifest's {}",
                        manifest.feature_names.len()
                    )));
                }
                Inner::Gbm(model)
            }
        };
        Ok(Self { manifest, inner })
    }
}

impl Classifier for TradingModel {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        check_columns(&self.manifest.feature_names, matrix)?;
        let raw = match &self.inner {
            Inner::Logistic(m) => m.predict_proba(matrix)?,
            Inner::Gbm(m) => m.predict_proba(matrix)?,
        };
        Ok(match &self.manifest.calibrator {
            Some(c) => raw.into_iter().map(|p| c.apply(p)).collect(),
            None => raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Days, NaiveDate};

    use super::*;
    use crate::dataset::{Label, LabelHorizon, SampleKey};

    /// 400 sessions, two samples each; the label is profitable when `signal + noise > 0`
    /// (a deterministic noise), so both kinds learn something and both classes are present.
    fn dataset() -> Dataset {
        let start = NaiveDate::from_ymd_opt(2015, 1, 5).unwrap();
        let (mut values, mut keys, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..800_u64 {
            let date = start + Days::new(i / 2);
            let signal = ((i * 37 % 101) as f64 - 50.0) / 25.0;
            let noise = ((i * 53 % 89) as f64 - 44.0) / 30.0;
            // A missing value now and then: the logistic regression imputes it.
            let other = if i % 17 == 0 { f64::NAN } else { noise * 0.1 };
            values.extend([signal, other]);
            keys.push(SampleKey {
                decision_date: date,
                candidate: format!("c{}", i % 2),
            });
            let horizon = LabelHorizon::try_new(date, date + Days::new(3)).unwrap();
            let ror = if signal + noise > 0.0 { 0.1 } else { -0.1 };
            labels.push(Label::from_return_on_risk(horizon, ror).unwrap());
        }
        let matrix =
            FeatureMatrix::try_new(vec!["signal".into(), "other".into()], "test-v1", values)
                .unwrap();
        Dataset::try_new(matrix, keys, labels).unwrap()
    }

    #[test]
    fn a_saved_model_scores_the_same_after_loading() {
        let data = dataset();
        let dir = tempfile::tempdir().unwrap();
        for (kind, calibration) in [
            (TradingKind::Logistic, Some(CalibrationMethod::Isotonic)),
            (TradingKind::Gbm, Some(CalibrationMethod::Platt)),
            (TradingKind::Logistic, None),
        ] {
            let model = TradingModel::fit(kind, &data, calibration, 63).unwrap();
            let folder = dir.path().join(format!("{}-{calibration:?}", kind.name()));
            let manifest = model.save(&folder).unwrap();
            let loaded = TradingModel::load(&manifest).unwrap();
            assert_eq!(loaded.manifest(), model.manifest());
            assert_eq!(
                loaded.manifest().calibrator.is_some(),
                calibration.is_some()
            );
            let before = model.predict_proba(data.matrix()).unwrap();
            let after = loaded.predict_proba(data.matrix()).unwrap();
            assert_eq!(before, after, "{kind:?}");
            // Row by row, as a decision scores.
            assert_eq!(loaded.predict_row(data.matrix().row(5)).unwrap(), after[5]);
            // It learnt the signal: the strongest positive signal scores above the weakest.
            let strong = (0..data.len())
                .max_by(|&a, &b| data.matrix().row(a)[0].total_cmp(&data.matrix().row(b)[0]))
                .unwrap();
            let weak = (0..data.len())
                .min_by(|&a, &b| data.matrix().row(a)[0].total_cmp(&data.matrix().row(b)[0]))
                .unwrap();
            assert!(after[strong] > after[weak], "{kind:?}");
            assert!(after.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }

    #[test]
    fn bad_files_and_rows_are_refused_by_name() {
        let data = dataset();
        let dir = tempfile::tempdir().unwrap();
        let model = TradingModel::fit(TradingKind::Gbm, &data, None, 63).unwrap();
        let manifest = model.save(dir.path()).unwrap();
        // A row of the wrong width.
        assert!(matches!(
            model.predict_row(&[1.0]),
            Err(ModelError::Shape { .. })
        ));
        // Another layout version.
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, text.replace("\"version\": 1", "\"version\": 9")).unwrap();
        let err = TradingModel::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("layout version 9"), "{err}");
        // LightGBM's file gone.
        std::fs::write(&manifest, text).unwrap();
        std::fs::remove_file(dir.path().join(GBM_FILE)).unwrap();
        assert!(matches!(
            TradingModel::load(dir.path()),
            Err(ModelError::Io { .. })
        ));
        // An unknown kind names the ones that trade.
        let err = TradingKind::parse("lstm").unwrap_err().to_string();
        assert!(err.contains("logistic or gbm"), "{err}");
    }
}
