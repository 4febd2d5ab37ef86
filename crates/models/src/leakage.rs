//! Leakage guards: results too good to be true are flagged, not rewarded.
//!
//! Whether an option spread ends profitable depends on weeks of future prices; no honest
//! feature computed at the decision date separates winners from losers almost perfectly, and
//! no honest model ranks them almost perfectly out of sample. When either happens, the likelier
//! explanation is a feature computed from the future (the label itself, a forward return, a
//! column joined on the wrong date).

use crate::dataset::Dataset;
use crate::error::Result;
use crate::metrics::{Metrics, roc_auc};

/// Thresholds of the leakage guards.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeakageGuard {
    /// A feature whose AUC alone, `max(auc, 1 − auc)`, reaches this is flagged: 0.95.
    pub max_single_feature_auc: f64,
    /// An overall out-of-sample AUC reaching this is flagged: 0.90. Published equity-option
    /// trade classifiers report out-of-sample AUCs in the 0.5–0.7 range.
    pub max_out_of_sample_auc: f64,
}

impl Default for LeakageGuard {
    fn default() -> Self {
        Self {
            max_single_feature_auc: 0.95,
            max_out_of_sample_auc: 0.90,
        }
    }
}

/// Something the leakage guards flagged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LeakageFinding {
    /// One feature alone separates profitable from unprofitable trades.
    FeatureSeparatesLabel {
        /// The feature.
        feature: String,
        /// Its AUC on its own (below ½ when it separates in reverse).
        auc: f64,
    },
    /// The model ranks out-of-sample trades too well.
    OutOfSampleTooGood {
        /// The overall out-of-sample AUC.
        auc: f64,
    },
}

impl std::fmt::Display for LeakageFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FeatureSeparatesLabel { feature, auc } => {
                write!(
                    f,
                    "feature `{feature}` alone has AUC {auc:.3}: built from the outcome?"
                )
            }
            Self::OutOfSampleTooGood { auc } => {
                write!(
                    f,
                    "out-of-sample AUC {auc:.3} is implausibly high: look for a leak"
                )
            }
        }
    }
}

impl LeakageGuard {
    /// Runs both guards: every feature of `dataset` on its own, and the `overall`
    /// out-of-sample metrics of a walk-forward.
    ///
    /// # Errors
    /// Never in practice (the inputs are validated types); kept for the AUC's checks.
    pub fn check(&self, dataset: &Dataset, overall: &Metrics) -> Result<Vec<LeakageFinding>> {
        let mut findings = Vec::new();
        for (column, name) in dataset.matrix().names().iter().enumerate() {
            if let Some(auc) = single_feature_auc(dataset, column)?
                && auc.max(1.0 - auc) >= self.max_single_feature_auc
            {
                findings.push(LeakageFinding::FeatureSeparatesLabel {
                    feature: name.clone(),
                    auc,
                });
            }
        }
        if let Some(auc) = overall.auc
            && auc >= self.max_out_of_sample_auc
        {
            findings.push(LeakageFinding::OutOfSampleTooGood { auc });
        }
        Ok(findings)
    }
}

/// The AUC of feature `column` alone as a score for "profitable", over the rows where it is
/// present; `None` when those rows lack a class.
///
/// # Errors
/// Never in practice (NaNs are skipped, lengths agree by construction).
///
/// # Panics
/// When `column` is out of range.
pub fn single_feature_auc(dataset: &Dataset, column: usize) -> Result<Option<f64>> {
    let (scores, labels): (Vec<f64>, Vec<bool>) = dataset
        .matrix()
        .column(column)
        .zip(dataset.labels())
        .filter(|(value, _)| !value.is_nan())
        .map(|(value, label)| (value, label.profitable()))
        .unzip();
    let positives = labels.iter().filter(|&&y| y).count();
    if positives == 0 || positives == labels.len() {
        return Ok(None);
    }
    roc_auc(&scores, &labels).map(Some)
}
