//! What a model learns from: a feature matrix whose rows are (decision date × candidate trade),
//! and for every row a label that records its horizon.
//!
//! The labels are made elsewhere: the engine (layer 6) simulates each candidate forward with the
//! backtester's position management, fills and fees, and `volta-train` hands the results here.
//! This module only holds and checks them.

use chrono::NaiveDate;

use crate::error::{ModelError, Result, check_len};

/// Feature values, row-major: one row per sample, one named column per feature.
///
/// Missing values are `NaN` (a feature still warming up); infinities are refused. Gradient
/// boosting handles `NaN` itself; [`crate::LogisticRegression`] refuses it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    names: Vec<String>,
    feature_set_version: String,
    values: Vec<f64>,
    rows: usize,
}

impl FeatureMatrix {
    /// A matrix of `values.len() / names.len()` rows, `names` naming the columns and
    /// `feature_set_version` the feature definitions they were computed with (volta-features'
    /// `feature_set_version()`, kept with every model trained on them).
    ///
    /// # Errors
    /// [`ModelError::NotEnoughData`] without columns, [`ModelError::BadValue`] for an empty or
    /// repeated name or an infinite value, [`ModelError::Shape`] when `values` is not a whole
    /// number of rows.
    pub fn try_new(
        names: Vec<String>,
        feature_set_version: impl Into<String>,
        values: Vec<f64>,
    ) -> Result<Self> {
        if names.is_empty() {
            return Err(ModelError::NotEnoughData {
                what: "a feature matrix without columns".into(),
            });
        }
        for (index, name) in names.iter().enumerate() {
            if name.is_empty() || names[..index].contains(name) {
                return Err(ModelError::BadValue {
                    at: format!("column {index}"),
                    reason: format!("feature name `{name}` is empty or repeated"),
                });
            }
        }
        let width = names.len();
        let rows = values.len() / width;
        check_len(
            || "feature values (a whole number of rows)".into(),
            rows * width,
            values.len(),
        )?;
        if let Some(position) = values.iter().position(|v| v.is_infinite()) {
            return Err(ModelError::BadValue {
                at: format!(
                    "row {}, column {}",
                    position / width,
                    names[position % width]
                ),
                reason: "infinite feature value".into(),
            });
        }
        Ok(Self {
            names,
            feature_set_version: feature_set_version.into(),
            values,
            rows,
        })
    }

    /// The number of rows (samples).
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// The number of columns (features).
    #[must_use]
    pub fn n_features(&self) -> usize {
        self.names.len()
    }

    /// The column names, in order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The version of the feature definitions the values were computed with.
    #[must_use]
    pub fn feature_set_version(&self) -> &str {
        &self.feature_set_version
    }

    /// All values, row-major (`n_rows × n_features`).
    #[must_use]
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Row `index`.
    ///
    /// # Panics
    /// When `index >= n_rows()`.
    #[must_use]
    pub fn row(&self, index: usize) -> &[f64] {
        let width = self.n_features();
        &self.values[index * width..(index + 1) * width]
    }

    /// Column `index`, top to bottom.
    ///
    /// # Panics
    /// When `index >= n_features()`.
    #[must_use]
    pub fn column(&self, index: usize) -> impl ExactSizeIterator<Item = f64> + '_ {
        assert!(
            index < self.n_features(),
            "column {index} of {}",
            self.n_features()
        );
        self.values
            .iter()
            .skip(index)
            .step_by(self.n_features())
            .copied()
    }

    /// A matrix of the given rows, in the order given (same columns and version).
    ///
    /// # Panics
    /// When an index is out of range.
    #[must_use]
    pub fn select_rows(&self, indices: &[usize]) -> Self {
        let mut values = Vec::with_capacity(indices.len() * self.n_features());
        for &index in indices {
            values.extend_from_slice(self.row(index));
        }
        Self {
            names: self.names.clone(),
            feature_set_version: self.feature_set_version.clone(),
            values,
            rows: indices.len(),
        }
    }
}

/// Which trade a row is about: the session it is decided on and the candidate proposed then.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SampleKey {
    /// The session whose close the features are computed at and the decision is made on.
    pub decision_date: NaiveDate,
    /// The candidate trade (underlying, structure, strikes, expiry), as the strategy names it,
    /// e.g. `SPY put-credit 2024-03-15 440/435`.
    pub candidate: String,
}

/// The dates a label's outcome depends on: from the entry fill to the exit (or expiry),
/// both inclusive. Purging compares these with the test window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabelHorizon {
    entry: NaiveDate,
    exit: NaiveDate,
}

impl LabelHorizon {
    /// A horizon from `entry` to `exit`.
    ///
    /// # Errors
    /// [`ModelError::BadValue`] when `exit` is before `entry`.
    pub fn try_new(entry: NaiveDate, exit: NaiveDate) -> Result<Self> {
        if exit < entry {
            return Err(ModelError::BadValue {
                at: format!("label horizon {entry} → {exit}"),
                reason: "exit before entry".into(),
            });
        }
        Ok(Self { entry, exit })
    }

    /// The entry date (first date the outcome depends on).
    #[must_use]
    pub fn entry(self) -> NaiveDate {
        self.entry
    }

    /// The exit date (last date the outcome depends on).
    #[must_use]
    pub fn exit(self) -> NaiveDate {
        self.exit
    }

    /// Whether this horizon shares a date with `[first, last]` (both inclusive).
    #[must_use]
    pub fn overlaps(self, first: NaiveDate, last: NaiveDate) -> bool {
        self.entry <= last && self.exit >= first
    }
}

/// The outcome of one candidate trade, simulated forward with fills and fees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    horizon: LabelHorizon,
    return_on_risk: f64,
}

impl Label {
    /// A label from the trade's return on risk: P&L after fees ÷ the capital at risk at entry
    /// (the spread's maximum loss, or its margin). The trade is *profitable* when that is
    /// strictly positive, so the binary label and the return can never disagree.
    ///
    /// # Errors
    /// [`ModelError::BadValue`] for a non-finite return.
    pub fn from_return_on_risk(horizon: LabelHorizon, return_on_risk: f64) -> Result<Self> {
        if !return_on_risk.is_finite() {
            return Err(ModelError::BadValue {
                at: format!("label with horizon {} → {}", horizon.entry, horizon.exit),
                reason: format!("return on risk {return_on_risk} is not finite"),
            });
        }
        Ok(Self {
            horizon,
            return_on_risk,
        })
    }

    /// The dates the outcome depends on.
    #[must_use]
    pub fn horizon(self) -> LabelHorizon {
        self.horizon
    }

    /// P&L after fees ÷ capital at risk (a fraction: 0.25 is +25 %).
    #[must_use]
    pub fn return_on_risk(self) -> f64 {
        self.return_on_risk
    }

    /// Profitable after fees: the binary target of the classifiers.
    #[must_use]
    pub fn profitable(self) -> bool {
        self.return_on_risk > 0.0
    }
}

/// A feature matrix with a key and a label for every row, rows in decision-date order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    matrix: FeatureMatrix,
    keys: Vec<SampleKey>,
    labels: Vec<Label>,
}

impl Dataset {
    /// Joins rows, keys and labels (the i-th of each is one sample).
    ///
    /// # Errors
    /// [`ModelError::Shape`] when the lengths differ; [`ModelError::BadValue`] when the rows are
    /// not in decision-date order or a label's entry precedes its decision date (an outcome
    /// known before the decision is a leak).
    pub fn try_new(
        matrix: FeatureMatrix,
        keys: Vec<SampleKey>,
        labels: Vec<Label>,
    ) -> Result<Self> {
        check_len(
            || "sample keys vs matrix rows".into(),
            matrix.n_rows(),
            keys.len(),
        )?;
        check_len(
            || "labels vs matrix rows".into(),
            matrix.n_rows(),
            labels.len(),
        )?;
        for (index, pair) in keys.windows(2).enumerate() {
            if pair[1].decision_date < pair[0].decision_date {
                return Err(ModelError::BadValue {
                    at: format!("sample {}", index + 1),
                    reason: format!(
                        "decision date {} after {}: rows must be in date order",
                        pair[1].decision_date, pair[0].decision_date
                    ),
                });
            }
        }
        for (index, (key, label)) in keys.iter().zip(&labels).enumerate() {
            if label.horizon.entry < key.decision_date {
                return Err(ModelError::BadValue {
                    at: format!("sample {index} ({})", key.candidate),
                    reason: format!(
                        "entry {} before decision date {}",
                        label.horizon.entry, key.decision_date
                    ),
                });
            }
        }
        Ok(Self {
            matrix,
            keys,
            labels,
        })
    }

    /// The number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The features.
    #[must_use]
    pub fn matrix(&self) -> &FeatureMatrix {
        &self.matrix
    }

    /// The sample keys, row by row.
    #[must_use]
    pub fn keys(&self) -> &[SampleKey] {
        &self.keys
    }

    /// The labels, row by row.
    #[must_use]
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The binary targets (profitable after fees), row by row.
    #[must_use]
    pub fn targets(&self) -> Vec<bool> {
        self.labels.iter().map(|label| label.profitable()).collect()
    }

    /// The distinct decision dates, ascending: the session axis of [`crate::splits`] when the
    /// strategy made a decision on every session (otherwise pass the calendar's sessions).
    #[must_use]
    pub fn decision_sessions(&self) -> Vec<NaiveDate> {
        let mut sessions: Vec<NaiveDate> = self.keys.iter().map(|key| key.decision_date).collect();
        sessions.dedup();
        sessions
    }

    /// The first and last decision dates, or `None` when empty.
    #[must_use]
    pub fn decision_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        Some((
            self.keys.first()?.decision_date,
            self.keys.last()?.decision_date,
        ))
    }

    /// A fingerprint of everything a model learns from (column names, feature-set version,
    /// values, keys, labels): FNV-1a, 64 bit, as 16 hex digits. Two data sets with the same
    /// fingerprint train the same model; it is recorded with every saved model.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut hash = Fnv1a::default();
        for name in self.matrix.names() {
            hash.write(name.as_bytes());
            hash.write(&[0]);
        }
        hash.write(self.matrix.feature_set_version.as_bytes());
        hash.write(&[0]);
        for value in self.matrix.values() {
            hash.write(&value.to_bits().to_le_bytes());
        }
        for (key, label) in self.keys.iter().zip(&self.labels) {
            hash.write(key.decision_date.to_string().as_bytes());
            hash.write(key.candidate.as_bytes());
            hash.write(&[0]);
            hash.write(label.horizon.entry.to_string().as_bytes());
            hash.write(label.horizon.exit.to_string().as_bytes());
            hash.write(&label.return_on_risk.to_bits().to_le_bytes());
        }
        format!("{:016x}", hash.0)
    }

    /// The samples at `indices` (ascending, so the date order holds).
    ///
    /// # Panics
    /// When an index is out of range.
    #[must_use]
    pub fn subset(&self, indices: &[usize]) -> Self {
        debug_assert!(indices.is_sorted(), "subset indices must be ascending");
        Self {
            matrix: self.matrix.select_rows(indices),
            keys: indices.iter().map(|&i| self.keys[i].clone()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

/// The 64-bit FNV-1a hash (Fowler, Noll, Vo): simple, stable across platforms and versions,
/// which `std`'s hasher does not promise.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, day).unwrap()
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("f{i}")).collect()
    }

    #[test]
    fn matrix_rows_columns_and_selection() {
        let m =
            FeatureMatrix::try_new(names(2), "1.0.0", vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!((m.n_rows(), m.n_features()), (3, 2));
        assert_eq!(m.row(1), &[3.0, 4.0]);
        assert_eq!(m.column(1).collect::<Vec<_>>(), vec![2.0, 4.0, 6.0]);
        let picked = m.select_rows(&[2, 0]);
        assert_eq!(picked.values(), &[5.0, 6.0, 1.0, 2.0]);
        assert_eq!(picked.feature_set_version(), "1.0.0");
    }

    #[test]
    fn matrix_refuses_ragged_values_repeated_names_and_infinities() {
        let ragged = FeatureMatrix::try_new(names(2), "v", vec![1.0, 2.0, 3.0]).unwrap_err();
        assert!(
            matches!(
                ragged,
                ModelError::Shape {
                    expected: 2,
                    actual: 3,
                    ..
                }
            ),
            "{ragged}"
        );
        let repeated =
            FeatureMatrix::try_new(vec!["a".into(), "a".into()], "v", vec![]).unwrap_err();
        assert!(
            repeated.to_string().contains("`a` is empty or repeated"),
            "{repeated}"
        );
        let infinite = FeatureMatrix::try_new(names(2), "v", vec![1.0, 2.0, f64::INFINITY, 0.0]);
        assert!(
            infinite
                .unwrap_err()
                .to_string()
                .contains("row 1, column f0")
        );
        // NaN is a missing value, kept.
        assert!(FeatureMatrix::try_new(names(1), "v", vec![f64::NAN]).is_ok());
    }

    #[test]
    fn label_is_profitable_only_above_zero_and_horizon_overlap_is_inclusive() {
        let horizon = LabelHorizon::try_new(date(4), date(8)).unwrap();
        assert!(
            Label::from_return_on_risk(horizon, 0.1)
                .unwrap()
                .profitable()
        );
        assert!(
            !Label::from_return_on_risk(horizon, 0.0)
                .unwrap()
                .profitable()
        );
        assert!(Label::from_return_on_risk(horizon, f64::NAN).is_err());
        assert!(LabelHorizon::try_new(date(8), date(4)).is_err());
        assert!(horizon.overlaps(date(8), date(12)));
        assert!(horizon.overlaps(date(1), date(4)));
        assert!(horizon.overlaps(date(5), date(6)));
        assert!(!horizon.overlaps(date(9), date(12)));
        assert!(!horizon.overlaps(date(1), date(3)));
    }

    fn sample(day: u32, entry: u32) -> (SampleKey, Label) {
        let key = SampleKey {
            decision_date: date(day),
            candidate: format!("c{day}"),
        };
        let horizon = LabelHorizon::try_new(date(entry), date(entry + 5)).unwrap();
        (key, Label::from_return_on_risk(horizon, 0.5).unwrap())
    }

    #[test]
    fn dataset_checks_order_lengths_and_entry_after_decision() {
        let matrix = FeatureMatrix::try_new(names(1), "v", vec![0.0, 1.0]).unwrap();
        let build = |samples: Vec<(SampleKey, Label)>| {
            let (keys, labels) = samples.into_iter().unzip();
            Dataset::try_new(matrix.clone(), keys, labels)
        };
        let ok = build(vec![sample(4, 5), sample(4, 5)]).unwrap();
        assert_eq!(ok.decision_sessions(), vec![date(4)]);
        assert_eq!(ok.targets(), vec![true, true]);
        let unordered = build(vec![sample(5, 6), sample(4, 5)]).unwrap_err();
        assert!(
            unordered.to_string().contains("rows must be in date order"),
            "{unordered}"
        );
        let early_entry = build(vec![sample(4, 3), sample(5, 6)]).unwrap_err();
        assert!(
            early_entry
                .to_string()
                .contains("entry 2024-03-03 before decision"),
            "{early_entry}"
        );
        assert!(matches!(
            build(vec![sample(4, 5)]),
            Err(ModelError::Shape { .. })
        ));
    }

    #[test]
    fn fingerprint_is_fnv1a_and_changes_with_any_value() {
        // FNV-1a 64 reference values (Fowler, Noll, Vo test vectors): "" and "a".
        let mut empty = Fnv1a::default();
        empty.write(b"");
        assert_eq!(empty.0, 0xcbf29ce484222325);
        let mut a = Fnv1a::default();
        a.write(b"a");
        assert_eq!(a.0, 0xaf63dc4c8601ec8c);
        let matrix = FeatureMatrix::try_new(names(1), "v", vec![0.0, 1.0]).unwrap();
        let (keys, labels): (Vec<_>, Vec<_>) = vec![sample(4, 5), sample(5, 6)].into_iter().unzip();
        let data = Dataset::try_new(matrix, keys.clone(), labels.clone()).unwrap();
        assert_eq!(data.fingerprint(), data.clone().fingerprint());
        assert_eq!(data.fingerprint().len(), 16);
        let changed = FeatureMatrix::try_new(names(1), "v", vec![0.0, 1.5]).unwrap();
        let other = Dataset::try_new(changed, keys, labels).unwrap();
        assert_ne!(data.fingerprint(), other.fingerprint());
    }
}
