//! How good predicted probabilities are: ranking (AUC), sharpness and calibration (log loss,
//! Brier score) and a calibration table.

use crate::error::{ModelError, Result, check_len};

/// Probabilities are clipped to `[EPSILON, 1 − EPSILON]` in the log loss, as scikit-learn
/// does, so one confident mistake costs ~34.5 nats instead of infinity.
pub const LOG_LOSS_EPSILON: f64 = 1e-15;

/// The area under the ROC curve: the probability that a random positive is scored above a
/// random negative, ties counting one half (the Mann–Whitney U statistic ÷ n₊n₋, computed from
/// mid-ranks; Hanley & McNeil 1982).
///
/// # Errors
/// [`ModelError::Shape`] when lengths differ, [`ModelError::BadValue`] for a NaN score,
/// [`ModelError::NotEnoughData`] when one class is absent (the AUC is undefined).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    check_len(|| "AUC labels vs scores".into(), scores.len(), labels.len())?;
    if let Some(index) = scores.iter().position(|s| s.is_nan()) {
        return Err(ModelError::BadValue {
            at: format!("score {index}"),
            reason: "NaN".into(),
        });
    }
    let positives = labels.iter().filter(|&&y| y).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(ModelError::NotEnoughData {
            what: format!("AUC needs both classes: {positives} positive, {negatives} negative"),
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..end (0-based) share the mean 1-based rank.
        let mid_rank = (start + end + 1) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += mid_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Ok((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Mean negative log-likelihood of the labels under the probabilities (nats per sample),
/// probabilities clipped by [`LOG_LOSS_EPSILON`].
///
/// # Errors
/// [`ModelError::Shape`] when lengths differ or are 0, [`ModelError::BadValue`] for a
/// probability outside [0, 1].
pub fn log_loss(probabilities: &[f64], labels: &[bool]) -> Result<f64> {
    check_probabilities(probabilities, labels)?;
    let total: f64 = probabilities
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(LOG_LOSS_EPSILON, 1.0 - LOG_LOSS_EPSILON);
            -(if y { p.ln() } else { (1.0 - p).ln() })
        })
        .sum();
    Ok(total / probabilities.len() as f64)
}

/// Mean squared difference between probability and outcome (Brier 1950): 0 is perfect, 0.25
/// is a constant ½.
///
/// # Errors
/// As [`log_loss`].
pub fn brier_score(probabilities: &[f64], labels: &[bool]) -> Result<f64> {
    check_probabilities(probabilities, labels)?;
    let total: f64 = probabilities
        .iter()
        .zip(labels)
        .map(|(&p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    Ok(total / probabilities.len() as f64)
}

fn check_probabilities(probabilities: &[f64], labels: &[bool]) -> Result<()> {
    check_len(
        || "labels vs probabilities".into(),
        probabilities.len(),
        labels.len(),
    )?;
    if probabilities.is_empty() {
        return Err(ModelError::NotEnoughData {
            what: "no predictions to score".into(),
        });
    }
    match probabilities.iter().position(|p| !(0.0..=1.0).contains(p)) {
        None => Ok(()),
        Some(index) => Err(ModelError::BadValue {
            at: format!("prediction {index}"),
            reason: format!("{} is not a probability", probabilities[index]),
        }),
    }
}

/// One bin of a calibration table: the predictions that fell in `[lower, upper)` (the last
/// bin includes 1), their mean and the rate at which they came true.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Predictions in the bin.
    pub count: usize,
    /// Their mean predicted probability.
    pub mean_predicted: f64,
    /// The fraction of them that were positive.
    pub observed_rate: f64,
}

/// The reliability table over `bins` equal-width bins of [0, 1], empty bins left out
/// (scikit-learn's `calibration_curve(strategy="uniform")`, with the counts kept).
///
/// # Errors
/// As [`log_loss`]; [`ModelError::InvalidConfig`] for 0 bins.
pub fn calibration_table(
    probabilities: &[f64],
    labels: &[bool],
    bins: usize,
) -> Result<Vec<CalibrationBin>> {
    check_probabilities(probabilities, labels)?;
    if bins == 0 {
        return Err(ModelError::InvalidConfig {
            field: "bins",
            value: "0".into(),
            requirement: "at least 1 bin",
        });
    }
    let mut sums = vec![(0_usize, 0.0, 0_usize); bins];
    for (&p, &y) in probabilities.iter().zip(labels) {
        let bin = ((p * bins as f64) as usize).min(bins - 1);
        sums[bin].0 += 1;
        sums[bin].1 += p;
        sums[bin].2 += usize::from(y);
    }
    Ok(sums
        .iter()
        .enumerate()
        .filter(|(_, (count, _, _))| *count > 0)
        .map(|(bin, &(count, predicted, positives))| CalibrationBin {
            lower: bin as f64 / bins as f64,
            upper: (bin + 1) as f64 / bins as f64,
            count,
            mean_predicted: predicted / count as f64,
            observed_rate: positives as f64 / count as f64,
        })
        .collect())
}

/// Expected calibration error: the count-weighted mean |predicted − observed| over a table's
/// bins (Naeini et al. 2015).
#[must_use]
pub fn expected_calibration_error(table: &[CalibrationBin]) -> f64 {
    let total: usize = table.iter().map(|bin| bin.count).sum();
    if total == 0 {
        return 0.0;
    }
    table
        .iter()
        .map(|bin| bin.count as f64 * (bin.mean_predicted - bin.observed_rate).abs())
        .sum::<f64>()
        / total as f64
}

/// Bins of the calibration table in every [`Metrics`].
pub const CALIBRATION_BINS: usize = 10;

/// The scores of one set of predictions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Samples scored.
    pub samples: usize,
    /// Of which positive (profitable).
    pub positives: usize,
    /// Area under the ROC curve; `None` when one class is absent.
    pub auc: Option<f64>,
    /// Mean log loss, nats per sample.
    pub log_loss: f64,
    /// Brier score.
    pub brier: f64,
    /// Reliability table over [`CALIBRATION_BINS`] bins.
    pub calibration: Vec<CalibrationBin>,
    /// Expected calibration error of that table.
    pub expected_calibration_error: f64,
}

impl Metrics {
    /// Scores `probabilities` against `labels`.
    ///
    /// # Errors
    /// As [`log_loss`].
    pub fn compute(probabilities: &[f64], labels: &[bool]) -> Result<Self> {
        let calibration = calibration_table(probabilities, labels, CALIBRATION_BINS)?;
        Ok(Self {
            samples: labels.len(),
            positives: labels.iter().filter(|&&y| y).count(),
            auc: match roc_auc(probabilities, labels) {
                Ok(auc) => Some(auc),
                Err(ModelError::NotEnoughData { .. }) => None,
                Err(other) => return Err(other),
            },
            log_loss: log_loss(probabilities, labels)?,
            brier: brier_score(probabilities, labels)?,
            expected_calibration_error: expected_calibration_error(&calibration),
            calibration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [bool; 6] = [false, false, true, true, false, true];

    #[test]
    fn auc_counts_ordered_pairs_with_ties_as_halves() {
        // Positives 0.8, 0.4, 0.6; negatives 0.1, 0.4, 0.7. Pairs (pos, neg) with pos > neg:
        // 0.8 beats all 3; 0.4 beats 0.1 and ties 0.4 (½); 0.6 beats 0.1 and 0.4.
        // (3 + 1.5 + 2) / 9 = 6.5 / 9.
        let scores = [0.1, 0.4, 0.8, 0.4, 0.7, 0.6];
        assert!((roc_auc(&scores, &Y).unwrap() - 6.5 / 9.0).abs() < 1e-15);
        // sklearn's textbook example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75.
        let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((auc - 0.75).abs() < 1e-15);
        // All scores tied: ½. Perfect and reversed rankings: 1 and 0.
        assert_eq!(roc_auc(&[0.5; 6], &Y).unwrap(), 0.5);
        let perfect: Vec<f64> = Y.iter().map(|&y| f64::from(u8::from(y))).collect();
        assert_eq!(roc_auc(&perfect, &Y).unwrap(), 1.0);
        let reversed: Vec<f64> = perfect.iter().map(|s| -s).collect();
        assert_eq!(roc_auc(&reversed, &Y).unwrap(), 0.0);
    }

    #[test]
    fn auc_refuses_one_class_and_nan() {
        assert!(matches!(
            roc_auc(&[0.1, 0.2], &[true, true]),
            Err(ModelError::NotEnoughData { .. })
        ));
        assert!(matches!(
            roc_auc(&[0.1, f64::NAN], &[true, false]),
            Err(ModelError::BadValue { .. })
        ));
    }

    #[test]
    fn log_loss_and_brier_match_hand_computed_values() {
        let p = [0.1, 0.4, 0.8, 0.4, 0.7, 0.6];
        // −(ln 0.9 + ln 0.6 + ln 0.8 + ln 0.4 + ln 0.3 + ln 0.6) / 6
        let expected_log_loss = -(0.9_f64.ln()
            + 0.6_f64.ln()
            + 0.8_f64.ln()
            + 0.4_f64.ln()
            + 0.3_f64.ln()
            + 0.6_f64.ln())
            / 6.0;
        assert!((log_loss(&p, &Y).unwrap() - expected_log_loss).abs() < 1e-15);
        assert!((expected_log_loss - 0.5784031).abs() < 1e-7);
        // (0.01 + 0.16 + 0.04 + 0.36 + 0.49 + 0.16) / 6 = 1.22 / 6
        assert!((brier_score(&p, &Y).unwrap() - 1.22 / 6.0).abs() < 1e-15);
        // A certain mistake is clipped, not infinite: −ln(1e-15) ≈ 34.539.
        let clipped = log_loss(&[0.0], &[true]).unwrap();
        assert!((clipped - 34.538776394910684).abs() < 1e-9, "{clipped}");
        assert!(log_loss(&[1.2], &[true]).is_err());
        assert!(brier_score(&[], &[]).is_err());
    }

    #[test]
    fn calibration_table_bins_means_and_rates() {
        let p = [0.05, 0.15, 0.12, 0.55, 0.58, 0.95, 1.0];
        let y = [false, false, true, true, false, true, true];
        let table = calibration_table(&p, &y, 10).unwrap();
        let summary: Vec<(f64, usize)> = table.iter().map(|b| (b.lower, b.count)).collect();
        assert_eq!(summary, vec![(0.0, 1), (0.1, 2), (0.5, 2), (0.9, 2)]);
        assert!((table[1].mean_predicted - 0.135).abs() < 1e-15);
        assert_eq!(table[1].observed_rate, 0.5);
        assert!((table[3].mean_predicted - 0.975).abs() < 1e-15);
        assert_eq!(table[3].observed_rate, 1.0);
        // ECE = (1·0.05 + 2·0.365 + 2·0.065 + 2·0.025) / 7
        let ece = expected_calibration_error(&table);
        assert!(
            (ece - (0.05 + 0.73 + 0.13 + 0.05) / 7.0).abs() < 1e-12,
            "{ece}"
        );
        assert!(calibration_table(&p, &y, 0).is_err());
    }

    #[test]
    fn metrics_without_both_classes_have_no_auc() {
        let metrics = Metrics::compute(&[0.2, 0.3], &[false, false]).unwrap();
        assert_eq!(metrics.auc, None);
        assert_eq!((metrics.samples, metrics.positives), (2, 0));
        // (0.2² + 0.3²) / 2
        assert!((metrics.brier - 0.065).abs() < 1e-15);
    }
}
