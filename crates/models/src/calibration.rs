//! Calibration: maps a model's probabilities to ones that come true as often as they say.
//!
//! A calibrator must be fitted on predictions for samples the model did **not** train on (a
//! validation window; [`crate::evaluate_walk_forward`] carves it from the end of each training
//! window), or it learns the model's in-sample over-confidence.

use crate::error::{ModelError, Result, check_len};
use crate::logistic::{sigmoid, softplus, solve_symmetric_positive};

/// Probabilities are clipped to `[ε, 1 − ε]` before taking their logit, so that a 0 or 1 from
/// a model maps to a finite score.
const LOGIT_EPSILON: f64 = 1e-12;

/// Newton iterations of [`PlattScaling::fit`] before giving up (it needs fewer than 10).
const PLATT_MAX_ITERATIONS: usize = 100;

fn logit(p: f64) -> f64 {
    let p = p.clamp(LOGIT_EPSILON, 1.0 - LOGIT_EPSILON);
    (p / (1.0 - p)).ln()
}

fn check_inputs(probabilities: &[f64], labels: &[bool]) -> Result<()> {
    check_len(
        || "calibration labels vs probabilities".into(),
        probabilities.len(),
        labels.len(),
    )?;
    if let Some(index) = probabilities.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(ModelError::BadValue {
            at: format!("calibration input {index}"),
            reason: format!("{} is not a probability", probabilities[index]),
        });
    }
    let positives = labels.iter().filter(|&&y| y).count();
    if positives == 0 || positives == labels.len() {
        return Err(ModelError::NotEnoughData {
            what: format!(
                "calibration needs both classes: {positives} of {} positive",
                labels.len()
            ),
        });
    }
    Ok(())
}

/// Platt scaling (Platt 1999, with the Newton method and target smoothing of Lin, Lin &
/// Weng 2007): `p' = σ(a · logit p + b)`, fitted by maximum likelihood against the smoothed
/// targets `(N₊ + 1)/(N₊ + 2)` and `1/(N₋ + 2)`, which keeps a small validation set from
/// producing probabilities of exactly 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlattScaling {
    /// Slope on the model's logit (1 and `b` = 0 leave probabilities unchanged).
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
}

impl PlattScaling {
    /// Fits the scaling to a model's `probabilities` on validation samples and their `labels`.
    ///
    /// # Errors
    /// [`ModelError::Shape`], [`ModelError::BadValue`] for a value outside [0, 1],
    /// [`ModelError::NotEnoughData`] without both classes, [`ModelError::NoConvergence`].
    pub fn fit(probabilities: &[f64], labels: &[bool]) -> Result<Self> {
        check_inputs(probabilities, labels)?;
        let scores: Vec<f64> = probabilities.iter().map(|&p| logit(p)).collect();
        let positives = labels.iter().filter(|&&y| y).count() as f64;
        let negatives = labels.len() as f64 - positives;
        let (high, low) = (
            (positives + 1.0) / (positives + 2.0),
            1.0 / (negatives + 2.0),
        );
        let targets: Vec<f64> = labels.iter().map(|&y| if y { high } else { low }).collect();
        let objective = |a: f64, b: f64| -> f64 {
            scores
                .iter()
                .zip(&targets)
                .map(|(&f, &t)| {
                    let z = a * f + b;
                    softplus(z) - t * z
                })
                .sum()
        };
        // Start at the identity map with the intercept at the smoothed base rate's logit.
        let prior = (positives + 1.0) / (labels.len() as f64 + 2.0);
        let (mut a, mut b) = (
            1.0,
            logit(prior) - scores.iter().sum::<f64>() / labels.len() as f64,
        );
        let mut current = objective(a, b);
        let mut last_step = f64::INFINITY;
        for _ in 0..PLATT_MAX_ITERATIONS {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (&f, &t) in scores.iter().zip(&targets) {
                let p = sigmoid(a * f + b);
                let (residual, weight) = (p - t, p * (1.0 - p));
                ga += residual * f;
                gb += residual;
                haa += weight * f * f;
                hab += weight * f;
                hbb += weight;
            }
            // Lin, Lin & Weng's tiny ridge keeps the 2×2 Hessian invertible when all scores tie.
            let ridge = 1e-12;
            let Some(step) =
                solve_symmetric_positive(vec![haa + ridge, hab, hab, hbb + ridge], vec![ga, gb], 2)
            else {
                break;
            };
            let mut fraction = 1.0;
            loop {
                let (na, nb) = (a - fraction * step[0], b - fraction * step[1]);
                let value = objective(na, nb);
                if value <= current || fraction < 1e-10 {
                    (a, b, current) = (na, nb, value);
                    break;
                }
                fraction /= 2.0;
            }
            last_step = fraction * step[0].abs().max(step[1].abs());
            if last_step < 1e-12 {
                return Ok(Self {
                    slope: a,
                    intercept: b,
                });
            }
        }
        Err(ModelError::NoConvergence {
            model: "Platt scaling",
            iterations: PLATT_MAX_ITERATIONS,
            last_step,
        })
    }

    /// The calibrated probability of a model's probability `p`.
    #[must_use]
    pub fn apply(&self, p: f64) -> f64 {
        sigmoid(self.slope * logit(p) + self.intercept)
    }
}

/// Isotonic regression (pool-adjacent-violators; Barlow et al. 1972): the non-decreasing step
/// map from a model's probability to the observed rate that fits the validation labels best in
/// squared error, interpolated linearly between its points and clipped outside them (as
/// scikit-learn's `IsotonicRegression(out_of_bounds="clip")`). More flexible than Platt, so it
/// needs more validation samples (hundreds) to be worth it.
///
/// Where the validation window's most extreme predictions were all of one class it returns
/// exactly 0 or 1, which log loss punishes heavily; [`PlattScaling`] never does, and is the
/// safer default on a validation window of a few hundred samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IsotonicCalibration {
    /// Distinct input probabilities, ascending.
    inputs: Vec<f64>,
    /// The fitted rate at each, non-decreasing.
    outputs: Vec<f64>,
}

impl IsotonicCalibration {
    /// Fits the map to a model's `probabilities` on validation samples and their `labels`.
    ///
    /// # Errors
    /// As [`PlattScaling::fit`] (it cannot fail to converge).
    pub fn fit(probabilities: &[f64], labels: &[bool]) -> Result<Self> {
        check_inputs(probabilities, labels)?;
        let mut order: Vec<usize> = (0..probabilities.len()).collect();
        order.sort_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
        // Blocks of (input, mean target, weight); equal inputs start in one block.
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for &i in &order {
            let y = f64::from(u8::from(labels[i]));
            match blocks.last_mut() {
                Some(last) if last.0 == probabilities[i] => {
                    last.1 = (last.1 * last.2 + y) / (last.2 + 1.0);
                    last.2 += 1.0;
                }
                _ => blocks.push((probabilities[i], y, 1.0)),
            }
        }
        // Pool adjacent violators: merge while a block's mean is below its predecessor's.
        let mut pooled: Vec<(usize, f64, f64)> = Vec::new(); // (first block, mean, weight)
        for (index, &(_, mean, weight)) in blocks.iter().enumerate() {
            pooled.push((index, mean, weight));
            while let [.., previous, last] = pooled[..] {
                if previous.1 <= last.1 {
                    break;
                }
                let weight = previous.2 + last.2;
                let mean = (previous.1 * previous.2 + last.1 * last.2) / weight;
                pooled.pop();
                let end = pooled.len() - 1;
                pooled[end] = (previous.0, mean, weight);
            }
        }
        let mut outputs = vec![0.0; blocks.len()];
        for (k, &(first, mean, _)) in pooled.iter().enumerate() {
            let end = pooled.get(k + 1).map_or(blocks.len(), |next| next.0);
            outputs[first..end].fill(mean);
        }
        Ok(Self {
            inputs: blocks.iter().map(|block| block.0).collect(),
            outputs,
        })
    }

    /// The calibrated probability of a model's probability `p`.
    #[must_use]
    pub fn apply(&self, p: f64) -> f64 {
        let upper = self.inputs.partition_point(|&x| x < p);
        if upper == 0 {
            return self.outputs[0];
        }
        if upper == self.inputs.len() {
            return self.outputs[upper - 1];
        }
        let (x0, x1) = (self.inputs[upper - 1], self.inputs[upper]);
        let (y0, y1) = (self.outputs[upper - 1], self.outputs[upper]);
        y0 + (y1 - y0) * (p - x0) / (x1 - x0)
    }
}

/// Which calibration [`crate::evaluate_walk_forward`] fits on each validation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CalibrationMethod {
    /// [`PlattScaling`].
    Platt,
    /// [`IsotonicCalibration`].
    Isotonic,
}

/// A fitted calibration of either kind.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Calibrator {
    /// Platt scaling.
    Platt(PlattScaling),
    /// Isotonic regression.
    Isotonic(IsotonicCalibration),
}

impl Calibrator {
    /// Fits `method` to validation `probabilities` and `labels`.
    ///
    /// # Errors
    /// As [`PlattScaling::fit`].
    pub fn fit(method: CalibrationMethod, probabilities: &[f64], labels: &[bool]) -> Result<Self> {
        Ok(match method {
            CalibrationMethod::Platt => Self::Platt(PlattScaling::fit(probabilities, labels)?),
            CalibrationMethod::Isotonic => {
                Self::Isotonic(IsotonicCalibration::fit(probabilities, labels)?)
            }
        })
    }

    /// The calibrated probability of `p`.
    #[must_use]
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Self::Platt(platt) => platt.apply(p),
            Self::Isotonic(isotonic) => isotonic.apply(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_on_two_score_levels_matches_the_smoothed_group_rates() {
        // Model says 0.2 for 10 samples (3 profitable) and 0.6 for 10 (8 profitable).
        // N₊ = 11, N₋ = 9: targets 12/13 and 1/11. Two levels, two parameters: the fit is
        // saturated and each level maps to the mean of its smoothed targets.
        let p: Vec<f64> = (0..20).map(|i| if i < 10 { 0.2 } else { 0.6 }).collect();
        let y: Vec<bool> = (0..20).map(|i| i < 3 || (10..18).contains(&i)).collect();
        let platt = PlattScaling::fit(&p, &y).unwrap();
        let (high, low) = (12.0 / 13.0, 1.0 / 11.0);
        let low_level = (3.0 * high + 7.0 * low) / 10.0;
        let high_level = (8.0 * high + 2.0 * low) / 10.0;
        assert!(
            (platt.apply(0.2) - low_level).abs() < 1e-9,
            "{}",
            platt.apply(0.2)
        );
        assert!(
            (platt.apply(0.6) - high_level).abs() < 1e-9,
            "{}",
            platt.apply(0.6)
        );
        assert!(platt.slope > 0.0);
    }

    #[test]
    fn platt_undoes_a_known_distortion() {
        // Labels drawn exactly at rate q, model reports p = σ(2·logit q − 1) (over-confident and
        // biased): Platt must find slope ½ and intercept ½ (up to the target smoothing, ~1/n).
        let mut p = Vec::new();
        let mut y = Vec::new();
        for (q, count) in [
            (0.1, 1000),
            (0.3, 1000),
            (0.5, 1000),
            (0.7, 1000),
            (0.9, 1000),
        ] {
            let positives = (q * f64::from(count)) as usize;
            for k in 0..count as usize {
                p.push(sigmoid(2.0 * logit(q) - 1.0));
                y.push(k < positives);
            }
        }
        let platt = PlattScaling::fit(&p, &y).unwrap();
        assert!((platt.slope - 0.5).abs() < 2e-3, "{platt:?}");
        assert!((platt.intercept - 0.5).abs() < 2e-3, "{platt:?}");
    }

    #[test]
    fn isotonic_pools_violators_and_interpolates() {
        let p = [0.1, 0.2, 0.3, 0.4];
        let y = [false, true, false, true];
        // PAV: 0 | (1, 0) pooled to ½ | 1.
        let iso = IsotonicCalibration::fit(&p, &y).unwrap();
        assert_eq!(iso.outputs, vec![0.0, 0.5, 0.5, 1.0]);
        assert_eq!(iso.apply(0.25), 0.5);
        assert!((iso.apply(0.15) - 0.25).abs() < 1e-12);
        assert_eq!(iso.apply(0.05), 0.0);
        assert_eq!(iso.apply(0.95), 1.0);
        // Ties in the input are one point: 0.3 has rates 1 and 0 → ½, then pooled with 0.4's 0.
        let iso =
            IsotonicCalibration::fit(&[0.3, 0.3, 0.4, 0.9], &[true, false, false, true]).unwrap();
        assert_eq!(iso.inputs, vec![0.3, 0.4, 0.9]);
        assert!((iso.outputs[0] - 1.0 / 3.0).abs() < 1e-15 && iso.outputs[1] == iso.outputs[0]);
        assert_eq!(iso.outputs[2], 1.0);
    }

    #[test]
    fn calibrators_refuse_one_class_and_non_probabilities() {
        assert!(matches!(
            PlattScaling::fit(&[0.2, 0.3], &[true, true]),
            Err(ModelError::NotEnoughData { .. })
        ));
        assert!(matches!(
            Calibrator::fit(CalibrationMethod::Isotonic, &[0.2, 1.3], &[true, false]),
            Err(ModelError::BadValue { .. })
        ));
    }
}
