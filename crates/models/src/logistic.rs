//! The baseline every other model must beat: L2-penalised logistic regression on standardised
//! features, fitted by Newton's method (iteratively reweighted least squares) with a
//! backtracking line search. Pure Rust, no randomness: the same data gives the same bits.

use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::{ModelError, Result, check_len};
use crate::evaluate::{Classifier, Learner, check_columns};

/// Settings of [`LogisticRegression`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticConfig {
    /// λ of the penalty λ/2·‖w‖² on the standardised weights (not the intercept), added to the
    /// *summed* negative log-likelihood: scikit-learn's `C` is 1/λ. 0 is the plain maximum
    /// likelihood fit (which diverges on separable data).
    pub l2_penalty: f64,
    /// Newton iterations before giving up (it usually needs fewer than 10).
    pub max_iterations: usize,
    /// Converged when no weight moves by more than this in one step.
    pub tolerance: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        Self {
            l2_penalty: 1.0,
            max_iterations: 100,
            tolerance: 1e-10,
        }
    }
}

/// Learns a [`LogisticModel`] (the learner for [`crate::evaluate_walk_forward`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogisticRegression {
    /// The settings.
    pub config: LogisticConfig,
}

impl Learner for LogisticRegression {
    type Model = LogisticModel;

    fn fit(&self, train: &Dataset) -> Result<LogisticModel> {
        LogisticModel::fit(train.matrix(), &train.targets(), &self.config)
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticModel {
    feature_names: Vec<String>,
    /// Training means and standard deviations (1 for a constant column) of each feature.
    means: Vec<f64>,
    scales: Vec<f64>,
    /// Intercept and weights on the standardised features.
    intercept: f64,
    weights: Vec<f64>,
    iterations: usize,
}

impl LogisticModel {
    /// Fits the model to `matrix` and the binary `targets` (true = profitable).
    ///
    /// # Errors
    /// [`ModelError::Shape`] when the lengths differ, [`ModelError::BadValue`] for a missing
    /// (NaN) feature value, [`ModelError::NotEnoughData`] when one class is absent or the
    /// features are collinear without a penalty, [`ModelError::InvalidConfig`] for a negative
    /// or non-finite penalty, [`ModelError::NoConvergence`] when Newton's method does not settle.
    pub fn fit(matrix: &FeatureMatrix, targets: &[bool], config: &LogisticConfig) -> Result<Self> {
        check_len(
            || "targets vs matrix rows".into(),
            matrix.n_rows(),
            targets.len(),
        )?;
        if !(config.l2_penalty.is_finite() && config.l2_penalty >= 0.0) {
            return Err(ModelError::InvalidConfig {
                field: "l2_penalty",
                value: config.l2_penalty.to_string(),
                requirement: "finite and ≥ 0",
            });
        }
        refuse_missing(matrix)?;
        let positives = targets.iter().filter(|&&y| y).count();
        if positives == 0 || positives == targets.len() {
            return Err(ModelError::NotEnoughData {
                what: format!(
                    "logistic regression needs both classes: {positives} of {} positive",
                    targets.len()
                ),
            });
        }
        let (means, scales) = standardisation(matrix);
        let standardised = standardise(matrix, &means, &scales);
        let y: Vec<f64> = targets.iter().map(|&t| f64::from(u8::from(t))).collect();
        let constant: Vec<bool> = matrix
            .names()
            .iter()
            .enumerate()
            .map(|(j, _)| matrix.column(j).all(|v| v == matrix.values()[j]))
            .collect();
        let base_rate = positives as f64 / targets.len() as f64;
        let mut newton = Newton {
            x: &standardised,
            y: &y,
            width: matrix.n_features(),
            l2: config.l2_penalty,
            constant: &constant,
        };
        // Start from the base rate: the intercept-only optimum, one step from most answers.
        let mut beta = vec![0.0; matrix.n_features() + 1];
        beta[0] = (base_rate / (1.0 - base_rate)).ln();
        let iterations = newton.minimise(&mut beta, config)?;
        Ok(Self {
            feature_names: matrix.names().to_vec(),
            means,
            scales,
            intercept: beta[0],
            weights: beta[1..].to_vec(),
            iterations,
        })
    }

    /// Newton iterations the fit took.
    #[must_use]
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The feature names the model was trained on, in order.
    #[must_use]
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Intercept and weights in the features' own units:
    /// `logit p = intercept + Σ weight_j · x_j`.
    #[must_use]
    pub fn coefficients(&self) -> (f64, Vec<f64>) {
        let weights: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.scales)
            .map(|(w, s)| w / s)
            .collect();
        let shift: f64 = weights.iter().zip(&self.means).map(|(w, m)| w * m).sum();
        (self.intercept - shift, weights)
    }

    /// The weights on standardised features (comparable across features: a crude importance).
    #[must_use]
    pub fn standardised_weights(&self) -> &[f64] {
        &self.weights
    }

    fn logit(&self, row: &[f64]) -> f64 {
        row.iter()
            .zip(&self.means)
            .zip(&self.scales)
            .zip(&self.weights)
            .map(|(((x, m), s), w)| w * (x - m) / s)
            .sum::<f64>()
            + self.intercept
    }
}

impl Classifier for LogisticModel {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        check_columns(&self.feature_names, matrix)?;
        refuse_missing(matrix)?;
        Ok((0..matrix.n_rows())
            .map(|i| sigmoid(self.logit(matrix.row(i))))
            .collect())
    }
}

/// The logistic function, evaluated without overflow for large |z|.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + eᶻ) without overflow.
pub(crate) fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn refuse_missing(matrix: &FeatureMatrix) -> Result<()> {
    match matrix.values().iter().position(|v| v.is_nan()) {
        None => Ok(()),
        Some(index) => Err(ModelError::BadValue {
            at: format!(
                "row {}, column {}",
                index / matrix.n_features(),
                matrix.names()[index % matrix.n_features()]
            ),
            reason: "missing (NaN) value: logistic regression needs every feature; impute or drop the row first".into(),
        }),
    }
}

/// Column means and population standard deviations; 1 where a column is constant, so it
/// standardises to 0 instead of dividing by 0.
fn standardisation(matrix: &FeatureMatrix) -> (Vec<f64>, Vec<f64>) {
    let n = matrix.n_rows() as f64;
    (0..matrix.n_features())
        .map(|j| {
            let mean = matrix.column(j).sum::<f64>() / n;
            let variance = matrix.column(j).map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let scale = variance.sqrt();
            (mean, if scale > 0.0 { scale } else { 1.0 })
        })
        .unzip()
}

fn standardise(matrix: &FeatureMatrix, means: &[f64], scales: &[f64]) -> Vec<f64> {
    let width = matrix.n_features();
    matrix
        .values()
        .iter()
        .enumerate()
        .map(|(k, v)| (v - means[k % width]) / scales[k % width])
        .collect()
}

/// The penalised negative log-likelihood on standardised rows and its Newton minimiser.
/// `beta[0]` is the intercept, `beta[1..]` the weights.
struct Newton<'a> {
    x: &'a [f64],
    y: &'a [f64],
    width: usize,
    l2: f64,
    /// Constant columns (all 0 once standardised): their Hessian diagonal gets a 1 so that an
    /// unpenalised fit stays solvable; their gradient is 0, so the weight stays 0.
    constant: &'a [bool],
}

impl Newton<'_> {
    fn rows(&self) -> impl Iterator<Item = (&[f64], f64)> {
        self.x.chunks_exact(self.width).zip(self.y.iter().copied())
    }

    fn linear(beta: &[f64], row: &[f64]) -> f64 {
        beta[0] + row.iter().zip(&beta[1..]).map(|(x, w)| x * w).sum::<f64>()
    }

    fn objective(&self, beta: &[f64]) -> f64 {
        let likelihood: f64 = self
            .rows()
            .map(|(row, y)| {
                let z = Self::linear(beta, row);
                softplus(z) - y * z
            })
            .sum();
        likelihood + 0.5 * self.l2 * beta[1..].iter().map(|w| w * w).sum::<f64>()
    }

    /// Gradient and Hessian (dense, row-major, (width+1)²) of the objective at `beta`.
    fn derivatives(&self, beta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let size = self.width + 1;
        let mut gradient = vec![0.0; size];
        let mut hessian = vec![0.0; size * size];
        let mut extended = vec![1.0; size];
        for (row, y) in self.rows() {
            let p = sigmoid(Self::linear(beta, row));
            let (residual, weight) = (p - y, p * (1.0 - p));
            extended[1..].copy_from_slice(row);
            for a in 0..size {
                gradient[a] += residual * extended[a];
                let scaled = weight * extended[a];
                // Lower triangle only; mirrored below.
                for b in 0..=a {
                    hessian[a * size + b] += scaled * extended[b];
                }
            }
        }
        for j in 1..size {
            gradient[j] += self.l2 * beta[j];
            hessian[j * size + j] += if self.constant[j - 1] { 1.0 } else { self.l2 };
        }
        for a in 0..size {
            for b in 0..a {
                hessian[b * size + a] = hessian[a * size + b];
            }
        }
        (gradient, hessian)
    }

    fn minimise(&mut self, beta: &mut [f64], config: &LogisticConfig) -> Result<usize> {
        let mut current = self.objective(beta);
        let mut last_step = f64::INFINITY;
        for iteration in 1..=config.max_iterations {
            let (gradient, hessian) = self.derivatives(beta);
            let step = solve_symmetric_positive(hessian, gradient, self.width + 1).ok_or_else(|| {
                ModelError::NotEnoughData {
                    what: "logistic regression: singular Hessian (collinear features and no L2 penalty)".into(),
                }
            })?;
            // Backtracking: halve the Newton step until the objective does not increase, which
            // keeps the iteration stable far from the optimum (near it the full step is taken).
            let mut fraction = 1.0;
            let mut candidate: Vec<f64>;
            loop {
                candidate = beta
                    .iter()
                    .zip(&step)
                    .map(|(b, d)| b - fraction * d)
                    .collect();
                let value = self.objective(&candidate);
                if value <= current || fraction < 1e-10 {
                    current = value;
                    break;
                }
                fraction /= 2.0;
            }
            last_step = step
                .iter()
                .map(|d| (fraction * d).abs())
                .fold(0.0, f64::max);
            beta.copy_from_slice(&candidate);
            if last_step < config.tolerance {
                return Ok(iteration);
            }
        }
        Err(ModelError::NoConvergence {
            model: "logistic regression",
            iterations: config.max_iterations,
            last_step,
        })
    }
}

/// Solves `A x = b` for a symmetric positive-definite `A` (row-major `size × size`) by
/// Cholesky factorisation; `None` when `A` is not positive definite.
pub(crate) fn solve_symmetric_positive(
    mut a: Vec<f64>,
    mut b: Vec<f64>,
    size: usize,
) -> Option<Vec<f64>> {
    // A = L Lᵀ, L stored in the lower triangle of `a`.
    for j in 0..size {
        let diagonal = a[j * size + j] - (0..j).map(|k| a[j * size + k].powi(2)).sum::<f64>();
        if diagonal <= 0.0 || !diagonal.is_finite() {
            return None;
        }
        let pivot = diagonal.sqrt();
        a[j * size + j] = pivot;
        for i in j + 1..size {
            let dot: f64 = (0..j).map(|k| a[i * size + k] * a[j * size + k]).sum();
            a[i * size + j] = (a[i * size + j] - dot) / pivot;
        }
    }
    // Forward (L y = b), then backward (Lᵀ x = y).
    for i in 0..size {
        let dot: f64 = (0..i).map(|k| a[i * size + k] * b[k]).sum();
        b[i] = (b[i] - dot) / a[i * size + i];
    }
    for i in (0..size).rev() {
        let dot: f64 = (i + 1..size).map(|k| a[k * size + i] * b[k]).sum();
        b[i] = (b[i] - dot) / a[i * size + i];
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn matrix(names: &[&str], values: Vec<f64>) -> FeatureMatrix {
        FeatureMatrix::try_new(
            names.iter().map(|&n| n.to_owned()).collect(),
            "test",
            values,
        )
        .unwrap()
    }

    fn unpenalised() -> LogisticConfig {
        LogisticConfig {
            l2_penalty: 0.0,
            ..LogisticConfig::default()
        }
    }

    #[test]
    fn unpenalised_fit_on_a_binary_feature_reproduces_the_group_rates_exactly() {
        // x = 0: 3 of 10 profitable; x = 1: 8 of 10. The maximum-likelihood logistic model with
        // one binary feature is saturated: it predicts each group's rate, so
        // intercept = logit 0.3 and slope = logit 0.8 − logit 0.3.
        let x: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i >= 10))).collect();
        let y: Vec<bool> = (0..20).map(|i| (i < 3) || (10..18).contains(&i)).collect();
        let model = LogisticModel::fit(&matrix(&["x"], x), &y, &unpenalised()).unwrap();
        let logit = |p: f64| (p / (1.0 - p)).ln();
        let (intercept, weights) = model.coefficients();
        assert!((intercept - logit(0.3)).abs() < 1e-9, "{intercept}");
        assert!(
            (weights[0] - (logit(0.8) - logit(0.3))).abs() < 1e-9,
            "{weights:?}"
        );
        let p = model
            .predict_proba(&matrix(&["x"], vec![0.0, 1.0]))
            .unwrap();
        assert!(
            (p[0] - 0.3).abs() < 1e-12 && (p[1] - 0.8).abs() < 1e-12,
            "{p:?}"
        );
        assert!(
            model.iterations() < 15,
            "Newton took {} iterations",
            model.iterations()
        );
    }

    /// `n` rows of two uniform features on [−2, 2] and a constant one, labelled by the logistic
    /// model logit p = −0.5 + 1.2·x₁ − 0.8·x₂.
    fn simulated(n: usize, seed: u64) -> (FeatureMatrix, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = Vec::with_capacity(3 * n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let (x1, x2) = (rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0));
            values.extend([x1, x2, 7.0]);
            y.push(rng.random::<f64>() < sigmoid(-0.5 + 1.2 * x1 - 0.8 * x2));
        }
        (matrix(&["x1", "x2", "constant"], values), y)
    }

    #[test]
    fn recovers_known_coefficients_and_ignores_a_constant_column() {
        let (x, y) = simulated(20_000, 7);
        let model = LogisticModel::fit(&x, &y, &unpenalised()).unwrap();
        let (intercept, weights) = model.coefficients();
        // Standard errors at n = 20 000 are ≈ 0.02 (slopes) and ≈ 0.02 (intercept): 0.08 is 4σ.
        assert!((intercept + 0.5).abs() < 0.08, "intercept {intercept}");
        assert!((weights[0] - 1.2).abs() < 0.08, "x1 {}", weights[0]);
        assert!((weights[1] + 0.8).abs() < 0.08, "x2 {}", weights[1]);
        assert_eq!(weights[2], 0.0);
    }

    #[test]
    fn the_l2_fit_is_stationary_shrinks_the_weights_and_is_deterministic() {
        let (x, y) = simulated(500, 11);
        let config = LogisticConfig {
            l2_penalty: 50.0,
            ..LogisticConfig::default()
        };
        let model = LogisticModel::fit(&x, &y, &config).unwrap();
        // At the optimum the penalised gradient vanishes: Σ (p − y)·z_j + λ·w_j = 0 for every
        // standardised feature z_j, and Σ (p − y) = 0 for the intercept.
        let p = model.predict_proba(&x).unwrap();
        let (means, scales) = standardisation(&x);
        for j in 0..2 {
            let gradient: f64 = (0..x.n_rows())
                .map(|i| (p[i] - f64::from(u8::from(y[i]))) * (x.row(i)[j] - means[j]) / scales[j])
                .sum::<f64>()
                + 50.0 * model.standardised_weights()[j];
            assert!(gradient.abs() < 1e-8, "feature {j}: gradient {gradient}");
        }
        let intercept_gradient: f64 = p
            .iter()
            .zip(&y)
            .map(|(p, &y)| p - f64::from(u8::from(y)))
            .sum();
        assert!(intercept_gradient.abs() < 1e-8, "{intercept_gradient}");
        let free = LogisticModel::fit(&x, &y, &unpenalised()).unwrap();
        for j in 0..2 {
            assert!(model.standardised_weights()[j].abs() < free.standardised_weights()[j].abs());
        }
        let again = LogisticModel::fit(&x, &y, &config).unwrap();
        assert_eq!(model, again);
    }

    #[test]
    fn refuses_missing_values_one_class_and_wrong_columns() {
        let x = matrix(&["a"], vec![1.0, f64::NAN, 3.0]);
        let missing =
            LogisticModel::fit(&x, &[true, false, true], &LogisticConfig::default()).unwrap_err();
        assert!(missing.to_string().contains("row 1, column a"), "{missing}");
        let x = matrix(&["a"], vec![1.0, 2.0]);
        assert!(matches!(
            LogisticModel::fit(&x, &[true, true], &LogisticConfig::default()),
            Err(ModelError::NotEnoughData { .. })
        ));
        let model = LogisticModel::fit(&x, &[true, false], &LogisticConfig::default()).unwrap();
        let other = matrix(&["b"], vec![1.0]);
        assert!(
            model
                .predict_proba(&other)
                .unwrap_err()
                .to_string()
                .contains("`b`")
        );
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0].
        let x = solve_symmetric_positive(vec![4.0, 2.0, 2.0, 3.0], vec![2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15, "{x:?}");
        assert!(solve_symmetric_positive(vec![1.0, 2.0, 2.0, 1.0], vec![1.0, 1.0], 2).is_none());
    }
}
