//! Missing values for learners that refuse them: [`MeanImputed`] fills each `NaN` with its
//! column's mean over the **training** rows (0 for a column with no value there), the same
//! means at scoring. The logistic regression refuses `NaN`; a daily feature matrix has them
//! (warm-up windows, series that start later, such as VIX3M in 2009).

use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::Result;
use crate::evaluate::{Classifier, Learner};

/// A learner fitted on mean-imputed features.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeanImputed<L> {
    /// The learner wrapped.
    pub inner: L,
}

/// A model scoring mean-imputed features.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeanImputedModel<M> {
    /// Per column, the training rows' mean.
    pub means: Vec<f64>,
    /// The model fitted on the imputed rows.
    pub inner: M,
}

/// Column means of `matrix`'s finite values, 0 where a column has none.
fn column_means(matrix: &FeatureMatrix) -> Vec<f64> {
    (0..matrix.n_features())
        .map(|j| {
            let (sum, n) = matrix
                .column(j)
                .filter(|v| v.is_finite())
                .fold((0.0, 0_usize), |(s, n), v| (s + v, n + 1));
            if n == 0 { 0.0 } else { sum / n as f64 }
        })
        .collect()
}

/// `matrix` with each non-finite value replaced by its column's entry of `means`.
fn filled(matrix: &FeatureMatrix, means: &[f64]) -> Result<FeatureMatrix> {
    let width = matrix.n_features();
    let values = matrix
        .values()
        .iter()
        .enumerate()
        .map(|(i, &v)| if v.is_finite() { v } else { means[i % width] })
        .collect();
    FeatureMatrix::try_new(
        matrix.names().to_vec(),
        matrix.feature_set_version(),
        values,
    )
}

impl<L: Learner> Learner for MeanImputed<L> {
    type Model = MeanImputedModel<L::Model>;

    fn fit(&self, train: &Dataset) -> Result<Self::Model> {
        let means = column_means(train.matrix());
        let data = Dataset::try_new(
            filled(train.matrix(), &means)?,
            train.keys().to_vec(),
            train.labels().to_vec(),
        )?;
        Ok(MeanImputedModel {
            inner: self.inner.fit(&data)?,
            means,
        })
    }
}

impl<M: Classifier> Classifier for MeanImputedModel<M> {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        self.inner.predict_proba(&filled(matrix, &self.means)?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::dataset::{Label, LabelHorizon, SampleKey};
    use crate::logistic::LogisticRegression;

    #[test]
    fn nan_takes_the_training_mean_and_the_logistic_regression_fits() {
        let day = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        let xs = [1.0, f64::NAN, 3.0, 4.0, f64::NAN, 6.0, 0.5, 7.0];
        let matrix = FeatureMatrix::try_new(vec!["x".into()], "v", xs.to_vec()).unwrap();
        let means = column_means(&matrix);
        // (1 + 3 + 4 + 6 + 0.5 + 7) / 6
        assert!((means[0] - 21.5 / 6.0).abs() < 1e-12);
        let keys = vec![
            SampleKey {
                decision_date: day,
                candidate: "c".into(),
            };
            xs.len()
        ];
        let horizon = LabelHorizon::try_new(day, day).unwrap();
        let labels = xs
            .iter()
            .enumerate()
            .map(|(i, _)| Label::from_return_on_risk(horizon, if i % 2 == 0 { 0.1 } else { -0.1 }))
            .collect::<Result<Vec<_>>>()
            .unwrap();
        let data = Dataset::try_new(matrix.clone(), keys, labels).unwrap();
        let model = MeanImputed {
            inner: LogisticRegression::default(),
        }
        .fit(&data)
        .unwrap();
        let p = model.predict_proba(&matrix).unwrap();
        assert_eq!(p.len(), xs.len());
        assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
        // A NaN row scores as a row at the mean.
        let at_mean = FeatureMatrix::try_new(vec!["x".into()], "v", vec![means[0]]).unwrap();
        assert_eq!(model.predict_proba(&at_mean).unwrap()[0], p[1]);
    }
}
