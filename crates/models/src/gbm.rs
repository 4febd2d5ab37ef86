//! Gradient-boosted trees with LightGBM (through `lightgbm3`): trained with a validation set
//! and early stopping, saved as LightGBM's text model plus a JSON sidecar that says what it was
//! trained on, and explained by feature importance (gain and split counts).
//!
//! Missing feature values (`NaN`) are LightGBM's business: it learns which side of each split
//! they go to, so warming-up features need no imputation here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use lightgbm3::{Booster, ImportanceType};
use serde_json::json;

use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::{ModelError, Result};
use crate::evaluate::{Classifier, Learner, check_columns, validation_split};
use crate::metrics::Metrics;

/// Version of the sidecar's layout; a loader refuses other versions.
pub const GBM_METADATA_VERSION: u32 = 1;

/// Settings of a LightGBM binary classifier. The defaults are conservative (small trees, many
/// samples per leaf, subsampling): daily option-trade outcomes are noisy and few.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GbmConfig {
    /// Boosting rounds at most (early stopping usually ends sooner).
    pub num_iterations: usize,
    /// Stop when the validation log loss has not improved for this many rounds, and roll back
    /// to the best round.
    pub early_stopping_rounds: usize,
    /// Shrinkage of each tree.
    pub learning_rate: f64,
    /// Leaves per tree at most.
    pub num_leaves: usize,
    /// Training samples per leaf at least.
    pub min_data_in_leaf: usize,
    /// Fraction of features each tree may use.
    pub feature_fraction: f64,
    /// Fraction of samples each tree is fitted on (resampled every round).
    pub bagging_fraction: f64,
    /// L2 penalty on leaf values.
    pub lambda_l2: f64,
    /// Threads (OpenMP); 0 lets LightGBM use every core. The result does not depend on it
    /// (`deterministic` and row-wise histograms are set). 1 by default: OpenMP's threads
    /// spin-wait, so on cores that other work shares they stall each other — on two busy cores
    /// training 5 000 × 220 took 2.4 s on one thread and 20 s on two (benches/gbm.rs). Raise it
    /// on dedicated cores.
    pub num_threads: usize,
    /// Seed of the feature and sample subsampling.
    pub seed: u64,
}

impl Default for GbmConfig {
    fn default() -> Self {
        Self {
            num_iterations: 500,
            early_stopping_rounds: 50,
            learning_rate: 0.05,
            num_leaves: 15,
            min_data_in_leaf: 50,
            feature_fraction: 0.8,
            bagging_fraction: 0.8,
            lambda_l2: 1.0,
            num_threads: 1,
            seed: 17,
        }
    }
}

impl GbmConfig {
    /// The LightGBM parameters these settings stand for (recorded in the sidecar).
    ///
    /// `lightgbm3`'s training loop reads the literal keys `num_iterations` and
    /// `early_stopping_rounds` itself and stops on the first metric, so exactly those names and
    /// one metric are given.
    #[must_use]
    pub fn parameters(&self) -> serde_json::Value {
        json!({
            "objective": "binary",
            "metric": "binary_logloss",
            "num_iterations": self.num_iterations,
            "early_stopping_rounds": self.early_stopping_rounds,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.lambda_l2,
            "num_threads": self.num_threads,
            "seed": self.seed,
            "deterministic": true,
            "force_row_wise": true,
            "verbosity": -1,
        })
    }

    fn validate(&self) -> Result<()> {
        let fraction = |field: &'static str, value: f64| {
            if value > 0.0 && value <= 1.0 {
                Ok(())
            } else {
                Err(ModelError::InvalidConfig {
                    field,
                    value: value.to_string(),
                    requirement: "in (0, 1]",
                })
            }
        };
        fraction("learning_rate", self.learning_rate)?;
        fraction("feature_fraction", self.feature_fraction)?;
        fraction("bagging_fraction", self.bagging_fraction)?;
        for (field, value) in [
            ("num_iterations", self.num_iterations),
            ("early_stopping_rounds", self.early_stopping_rounds),
            ("num_leaves", self.num_leaves.saturating_sub(1)),
        ] {
            if value == 0 {
                return Err(ModelError::InvalidConfig {
                    field,
                    value: value.to_string(),
                    requirement: "at least 1 (num_leaves at least 2)",
                });
            }
        }
        Ok(())
    }
}

/// First and last decision dates of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DateRange {
    /// The first decision date.
    pub first: NaiveDate,
    /// The last decision date.
    pub last: NaiveDate,
}

/// What a saved model was trained on and how: the JSON sidecar beside the LightGBM model file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GbmMetadata {
    /// [`GBM_METADATA_VERSION`] when written.
    pub metadata_version: u32,
    /// The feature columns, in the order the model reads them.
    pub feature_names: Vec<String>,
    /// The feature definitions' version (volta-features' `feature_set_version()`).
    pub feature_set_version: String,
    /// The LightGBM parameters ([`GbmConfig::parameters`]).
    pub parameters: serde_json::Value,
    /// Decision dates of the training samples.
    pub training_range: DateRange,
    /// Decision dates of the validation (early-stopping) samples.
    pub validation_range: DateRange,
    /// Samples trained on.
    pub training_samples: usize,
    /// Validation samples.
    pub validation_samples: usize,
    /// [`Dataset::fingerprint`] of the training samples, then of the validation samples.
    pub data_fingerprints: [String; 2],
    /// Boosting rounds kept (the best round under early stopping).
    pub iterations: usize,
    /// Scores on the validation samples.
    pub validation_metrics: Metrics,
}

/// One feature's share in the trees.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureImportance {
    /// The feature.
    pub feature: String,
    /// Total loss reduction of the splits on it.
    pub gain: f64,
    /// Number of splits on it.
    pub splits: u64,
}

/// `table` (from [`GbmModel::importance`]) as a Markdown table: feature, share of the total
/// gain (percent, one decimal), gain, splits — for reports and the terminal.
#[must_use]
pub fn importance_markdown(table: &[FeatureImportance]) -> String {
    let total: f64 = table.iter().map(|row| row.gain).sum();
    let mut out =
        String::from("| feature | share of gain | gain | splits |\n|---|---:|---:|---:|\n");
    for row in table {
        let share = if total > 0.0 {
            100.0 * row.gain / total
        } else {
            0.0
        };
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "| `{}` | {share:.1} % | {:.1} | {} |",
            row.feature, row.gain, row.splits
        );
    }
    out
}

/// A trained LightGBM classifier with its metadata.
pub struct GbmModel {
    booster: Booster,
    metadata: GbmMetadata,
}

impl std::fmt::Debug for GbmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The booster is an opaque handle into LightGBM.
        f.debug_struct("GbmModel")
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

fn lightgbm(operation: &'static str) -> impl FnOnce(lightgbm3::Error) -> ModelError {
    move |source| ModelError::LightGbm { operation, source }
}

fn width(matrix: &FeatureMatrix) -> Result<i32> {
    i32::try_from(matrix.n_features()).map_err(|_| ModelError::BadValue {
        at: "feature matrix".into(),
        reason: format!("{} columns: more than LightGBM takes", matrix.n_features()),
    })
}

fn lightgbm_dataset(
    data: &Dataset,
    reference: Option<&lightgbm3::Dataset>,
) -> Result<lightgbm3::Dataset> {
    let labels: Vec<f32> = data
        .targets()
        .iter()
        .map(|&y| f32::from(u8::from(y)))
        .collect();
    let matrix = data.matrix();
    let mut dataset = lightgbm3::Dataset::from_slice_with_reference(
        matrix.values(),
        &labels,
        width(matrix)?,
        true,
        reference,
    )
    .map_err(lightgbm("dataset"))?;
    dataset
        .set_feature_names(matrix.names())
        .map_err(lightgbm("feature names"))?;
    Ok(dataset)
}

impl GbmModel {
    /// Trains on `train`, stopping early on the log loss of `validation` (which must have the
    /// same columns and come after `train` in time, purged: see [`GradientBoosting`], which
    /// carves it from a training window).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for a bad setting, [`ModelError::NotEnoughData`] when a
    /// set is empty or lacks a class, [`ModelError::BadValue`] when the columns differ,
    /// [`ModelError::LightGbm`] when LightGBM refuses.
    pub fn train(train: &Dataset, validation: &Dataset, config: &GbmConfig) -> Result<Self> {
        config.validate()?;
        check_columns(train.matrix().names(), validation.matrix())?;
        let ranges = [train, validation].map(|set| {
            let positives = set.targets().iter().filter(|&&y| y).count();
            match set.decision_range() {
                Some((first, last)) if positives > 0 && positives < set.len() => {
                    Ok(DateRange { first, last })
                }
                _ => Err(ModelError::NotEnoughData {
                    what: format!(
                        "gradient boosting needs both classes in training and validation: {positives} of {} positive",
                        set.len()
                    ),
                }),
            }
        });
        let [training_range, validation_range] = ranges;
        let (training_range, validation_range) = (training_range?, validation_range?);
        let parameters = config.parameters();
        let train_set = lightgbm_dataset(train, None)?;
        let validation_set = lightgbm_dataset(validation, Some(&train_set))?;
        let booster = Booster::train_with_valid(train_set, Some(validation_set), &parameters)
            .map_err(lightgbm("train"))?;
        let probabilities = predict_with(&booster, validation.matrix())?;
        let validation_metrics = Metrics::compute(&probabilities, &validation.targets())?;
        Ok(Self {
            metadata: GbmMetadata {
                metadata_version: GBM_METADATA_VERSION,
                feature_names: train.matrix().names().to_vec(),
                feature_set_version: train.matrix().feature_set_version().to_owned(),
                parameters,
                training_range,
                validation_range,
                training_samples: train.len(),
                validation_samples: validation.len(),
                data_fingerprints: [train.fingerprint(), validation.fingerprint()],
                iterations: usize::try_from(booster.num_iterations()).unwrap_or(0),
                validation_metrics,
            },
            booster,
        })
    }

    /// What the model was trained on and how.
    #[must_use]
    pub fn metadata(&self) -> &GbmMetadata {
        &self.metadata
    }

    /// Every feature's gain and split count, largest gain first (ties by name).
    ///
    /// # Errors
    /// [`ModelError::LightGbm`] when LightGBM refuses.
    pub fn importance(&self) -> Result<Vec<FeatureImportance>> {
        let gains = self
            .booster
            .feature_importance(ImportanceType::Gain)
            .map_err(lightgbm("importance"))?;
        let splits = self
            .booster
            .feature_importance(ImportanceType::Split)
            .map_err(lightgbm("importance"))?;
        let mut table: Vec<FeatureImportance> = self
            .metadata
            .feature_names
            .iter()
            .zip(gains.into_iter().zip(splits))
            .map(|(feature, (gain, splits))| FeatureImportance {
                feature: feature.clone(),
                gain,
                // LightGBM counts splits in an f64; they are whole numbers.
                splits: splits.round() as u64,
            })
            .collect();
        table.sort_by(|a, b| {
            b.gain
                .total_cmp(&a.gain)
                .then_with(|| a.feature.cmp(&b.feature))
        });
        Ok(table)
    }

    /// The sidecar path of the model file `path`: `path` with `.meta.json` appended.
    #[must_use]
    pub fn sidecar_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".meta.json");
        PathBuf::from(name)
    }

    /// Writes LightGBM's text model to `path` and the metadata to [`Self::sidecar_path`].
    ///
    /// # Errors
    /// [`ModelError::Io`], or [`ModelError::LightGbm`] when LightGBM cannot write the model
    /// (also for a path that is not UTF-8, which its C API cannot take).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = path.to_str().ok_or_else(|| ModelError::BadModelFile {
            path: path.to_owned(),
            reason: "LightGBM takes UTF-8 paths only".into(),
        })?;
        self.booster.save_file(text).map_err(lightgbm("save"))?;
        crate::sidecar::write(path, &self.metadata)
    }

    /// Reads a model written by [`Self::save`], checking that the model file and its sidecar
    /// belong together.
    ///
    /// # Errors
    /// [`ModelError::Io`] for a missing or unreadable file, [`ModelError::BadModelFile`] for a
    /// sidecar of another layout version or one that does not match the model file,
    /// [`ModelError::LightGbm`] when LightGBM cannot read the model.
    pub fn load(path: &Path) -> Result<Self> {
        let metadata: GbmMetadata = crate::sidecar::read(
            path,
            |m: &GbmMetadata| m.metadata_version,
            GBM_METADATA_VERSION,
        )?;
        let sidecar = Self::sidecar_path(path);
        let bad = |reason: String| ModelError::BadModelFile {
            path: sidecar.clone(),
            reason,
        };
        // LightGBM's loader reports a missing file as a parse error; say what it is.
        if !path.is_file() {
            return Err(ModelError::Io {
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let text = path
            .to_str()
            .ok_or_else(|| bad("LightGBM takes UTF-8 paths only".into()))?;
        let booster = Booster::from_file(text).map_err(lightgbm("load"))?;
        let (features, iterations) = (booster.num_features(), booster.num_iterations());
        if usize::try_from(features).ok() != Some(metadata.feature_names.len())
            || usize::try_from(iterations).ok() != Some(metadata.iterations)
        {
            return Err(bad(format!(
                "the model file has {features} features and {iterations} rounds, the sidecar says {} and {}",
                metadata.feature_names.len(),
                metadata.iterations
            )));
        }
        Ok(Self { booster, metadata })
    }
}

impl Classifier for GbmModel {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        check_columns(&self.metadata.feature_names, matrix)?;
        predict_with(&self.booster, matrix)
    }
}

fn predict_with(booster: &Booster, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
    if matrix.n_rows() == 0 {
        return Ok(Vec::new());
    }
    booster
        .predict(matrix.values(), width(matrix)?, true)
        .map_err(lightgbm("predict"))
}

/// Learns a [`GbmModel`] from one training set (the learner for
/// [`crate::evaluate_walk_forward`]): the last `validation_sessions` decision sessions become
/// the early-stopping set, the samples before them — purged of labels reaching into it — the
/// training set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientBoosting {
    /// LightGBM's settings.
    pub config: GbmConfig,
    /// Sessions at the end of each training set kept for early stopping: 63, a quarter.
    pub validation_sessions: usize,
}

impl Default for GradientBoosting {
    fn default() -> Self {
        Self {
            config: GbmConfig::default(),
            validation_sessions: 63,
        }
    }
}

impl Learner for GradientBoosting {
    type Model = GbmModel;

    fn fit(&self, train: &Dataset) -> Result<GbmModel> {
        let all: Vec<usize> = (0..train.len()).collect();
        let (fit_on, validation) = validation_split(train, &all, self.validation_sessions)
            .ok_or_else(|| ModelError::NotEnoughData {
                what: format!(
                    "gradient boosting: fewer than {} sessions to leave an early-stopping window",
                    self.validation_sessions
                ),
            })?;
        GbmModel::train(
            &train.subset(&fit_on),
            &train.subset(&validation),
            &self.config,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn importance_markdown_gives_shares_of_the_total_gain() {
        let row = |feature: &str, gain: f64, splits: u64| FeatureImportance {
            feature: feature.into(),
            gain,
            splits,
        };
        let table = [
            row("iv_rank", 75.0, 30),
            row("rv_20", 25.0, 12),
            row("flat", 0.0, 0),
        ];
        assert_eq!(
            importance_markdown(&table),
            "| feature | share of gain | gain | splits |\n|---|---:|---:|---:|\n\
             | `iv_rank` | 75.0 % | 75.0 | 30 |\n\
             | `rv_20` | 25.0 % | 25.0 | 12 |\n\
             | `flat` | 0.0 % | 0.0 | 0 |\n"
        );
    }

    #[test]
    fn settings_out_of_their_domain_are_refused() {
        let bad = |config: GbmConfig| config.validate().unwrap_err().to_string();
        assert!(
            bad(GbmConfig {
                learning_rate: 0.0,
                ..GbmConfig::default()
            })
            .contains("`learning_rate` = 0")
        );
        assert!(
            bad(GbmConfig {
                bagging_fraction: 1.5,
                ..GbmConfig::default()
            })
            .contains("in (0, 1]")
        );
        assert!(
            bad(GbmConfig {
                num_leaves: 1,
                ..GbmConfig::default()
            })
            .contains("`num_leaves`")
        );
        assert!(GbmConfig::default().validate().is_ok());
    }
}
