//! Sequences of feature rows for the LSTM, built without look-ahead.
//!
//! A [`Dataset`]'s rows are (decision date × candidate), in date order. The sequence of a row
//! decided on session `s` (the `s`-th distinct decision date of the data set) is `length`
//! steps, oldest first:
//!
//! - the last step is the row itself;
//! - step `length − 1 − k` (for `k = 1 … length − 1`) stands for session `s − k`: the **same
//!   candidate's** row on that session when the data set has one (a candidate quoted every
//!   day, e.g. `SPY put-credit 30d`), otherwise the **mean feature row of that session** over
//!   its candidates (candidates named by strikes and expiry differ from day to day; their
//!   day-level context, IV rank, term structure and the like, is what carries over);
//! - before the data set's first session there is nothing: those steps are padding, zeros
//!   after standardisation (the training mean).
//!
//! Only sessions strictly before `s` and the row itself are read: never another row of
//! session `s`, never a later session, and never a label. Sessions are the data set's own
//! decision dates, so a gap (a purged span, a holiday) is stepped over, not padded.
//!
//! Missing values (`NaN`) are imputed after standardisation as 0, the training mean; a
//! session mean averages the values present.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::dataset::{Dataset, FeatureMatrix};

/// Where one step of a sample's sequence comes from (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SequenceStep {
    /// Row `0` of the data set (the sample itself, or the same candidate on an earlier
    /// session).
    Row(usize),
    /// The mean feature row of the samples decided on this earlier session.
    SessionMean(NaiveDate),
    /// Before the data set's first session: zeros after standardisation.
    Padding,
}

/// The `length` steps of the sequence of sample `row` of `dataset`, oldest first (the last is
/// `Row(row)`). Reads only sessions before the sample's decision date.
///
/// # Panics
/// When `row` is out of range or `length` is 0.
#[must_use]
pub fn sequence_steps(dataset: &Dataset, row: usize, length: usize) -> Vec<SequenceStep> {
    let sessions = Sessions::of(dataset);
    sessions.steps(dataset, row, length)
}

/// The session axis of a data set: each row's session index, each session's rows, and where
/// each (session, candidate) pair is.
struct Sessions<'a> {
    dates: Vec<NaiveDate>,
    of_row: Vec<usize>,
    /// Row range of each session (rows are in date order).
    ranges: Vec<(usize, usize)>,
    by_candidate: HashMap<(usize, &'a str), usize>,
}

impl<'a> Sessions<'a> {
    fn of(dataset: &'a Dataset) -> Self {
        let keys = dataset.keys();
        let (mut dates, mut of_row, mut ranges) =
            (Vec::new(), Vec::with_capacity(keys.len()), Vec::new());
        let mut by_candidate = HashMap::with_capacity(keys.len());
        for (row, key) in keys.iter().enumerate() {
            if dates.last() != Some(&key.decision_date) {
                dates.push(key.decision_date);
                ranges.push((row, row));
            }
            let session = dates.len() - 1;
            ranges[session].1 = row + 1;
            of_row.push(session);
            // The first row of a candidate on a session stands for it.
            by_candidate
                .entry((session, key.candidate.as_str()))
                .or_insert(row);
        }
        Self {
            dates,
            of_row,
            ranges,
            by_candidate,
        }
    }

    fn steps(&self, dataset: &Dataset, row: usize, length: usize) -> Vec<SequenceStep> {
        assert!(length > 0, "a sequence of length 0");
        let session = self.of_row[row];
        let candidate = dataset.keys()[row].candidate.as_str();
        let mut steps = Vec::with_capacity(length);
        for back in (1..length).rev() {
            steps.push(match session.checked_sub(back) {
                None => SequenceStep::Padding,
                Some(earlier) => self
                    .by_candidate
                    .get(&(earlier, candidate))
                    .map_or(SequenceStep::SessionMean(self.dates[earlier]), |&r| {
                        SequenceStep::Row(r)
                    }),
            });
        }
        steps.push(SequenceStep::Row(row));
        steps
    }
}

/// Feature standardisation fitted on training rows: per column, the mean and the population
/// standard deviation of the values present (1 for a constant or empty column).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Standardiser {
    pub(crate) means: Vec<f64>,
    pub(crate) scales: Vec<f64>,
}

impl Standardiser {
    /// Fitted on the rows `rows` of `matrix` only.
    pub(crate) fn fit(matrix: &FeatureMatrix, rows: &[usize]) -> Self {
        let width = matrix.n_features();
        let (mut sums, mut counts) = (vec![0.0; width], vec![0_usize; width]);
        for &row in rows {
            for (j, &v) in matrix.row(row).iter().enumerate() {
                if !v.is_nan() {
                    sums[j] += v;
                    counts[j] += 1;
                }
            }
        }
        let means: Vec<f64> = sums
            .iter()
            .zip(&counts)
            .map(|(&s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
            .collect();
        let mut squares = vec![0.0; width];
        for &row in rows {
            for (j, &v) in matrix.row(row).iter().enumerate() {
                if !v.is_nan() {
                    squares[j] += (v - means[j]).powi(2);
                }
            }
        }
        let scales = squares
            .iter()
            .zip(&counts)
            .map(|(&s, &n)| {
                let scale = if n > 0 { (s / n as f64).sqrt() } else { 0.0 };
                if scale > 0.0 { scale } else { 1.0 }
            })
            .collect();
        Self { means, scales }
    }

    /// `raw` standardised into `out` as `f32`, `NaN` as 0.
    fn write(&self, raw: &[f64], out: &mut Vec<f32>) {
        out.extend(raw.iter().zip(self.means.iter().zip(&self.scales)).map(
            |(&v, (&mean, &scale))| {
                if v.is_nan() {
                    0.0
                } else {
                    ((v - mean) / scale) as f32
                }
            },
        ));
    }
}

/// Standardised sequences: a bank of distinct standardised rows (row 0 is the padding) and,
/// per sequence, the bank rows of its steps. Sequences share their steps' rows instead of
/// copying them `length` times.
#[derive(Debug)]
pub(crate) struct Sequences {
    pub(crate) width: usize,
    pub(crate) length: usize,
    bank: Vec<f32>,
    steps: Vec<usize>,
}

impl Sequences {
    /// The sequences of samples `rows` of `dataset` (see the module docs).
    pub(crate) fn of_samples(
        dataset: &Dataset,
        rows: &[usize],
        length: usize,
        standardiser: &Standardiser,
    ) -> Self {
        let matrix = dataset.matrix();
        let width = matrix.n_features();
        let sessions = Sessions::of(dataset);
        let mut bank = vec![0.0_f32; width];
        let mut slots: HashMap<SequenceStep, usize> = HashMap::new();
        slots.insert(SequenceStep::Padding, 0);
        let mut steps = Vec::with_capacity(rows.len() * length);
        let mut mean = vec![0.0; width];
        for &row in rows {
            for step in sessions.steps(dataset, row, length) {
                let next = slots.len();
                let slot = *slots.entry(step).or_insert_with(|| {
                    match step {
                        SequenceStep::Row(r) => standardiser.write(matrix.row(r), &mut bank),
                        SequenceStep::SessionMean(date) => {
                            let session = sessions.dates.partition_point(|&d| d < date);
                            let (first, end) = sessions.ranges[session];
                            session_mean(matrix, first, end, &mut mean);
                            standardiser.write(&mean, &mut bank);
                        }
                        SequenceStep::Padding => unreachable!("padding has slot 0"),
                    }
                    next
                });
                steps.push(slot);
            }
        }
        Self {
            width,
            length,
            bank,
            steps,
        }
    }

    /// The matrix's rows taken as consecutive sessions of one series, oldest first: row `i`'s
    /// sequence is rows `i − length + 1 ..= i` (padding before row 0).
    pub(crate) fn of_series(
        matrix: &FeatureMatrix,
        length: usize,
        standardiser: &Standardiser,
    ) -> Self {
        let width = matrix.n_features();
        let mut bank = vec![0.0_f32; width];
        for row in 0..matrix.n_rows() {
            standardiser.write(matrix.row(row), &mut bank);
        }
        // Bank row r + 1 is matrix row r; step k of row `row` is matrix row
        // `row + k + 1 − length`, padding (slot 0) when that is negative.
        let steps = (0..matrix.n_rows())
            .flat_map(|row| {
                (0..length).map(move |k| (row + k + 1).checked_sub(length).map_or(0, |r| r + 1))
            })
            .collect();
        Self {
            width,
            length,
            bank,
            steps,
        }
    }

    /// The number of sequences.
    pub(crate) fn len(&self) -> usize {
        self.steps.len() / self.length
    }

    /// Sequences `which`, gathered into `out` as `which.len() × length × width` values.
    pub(crate) fn gather(&self, which: &[usize], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(which.len() * self.length * self.width);
        for &sequence in which {
            for &slot in &self.steps[sequence * self.length..(sequence + 1) * self.length] {
                out.extend_from_slice(&self.bank[slot * self.width..(slot + 1) * self.width]);
            }
        }
    }
}

/// The mean of rows `first..end` of `matrix` per column over the values present (`NaN` when
/// a column has none), into `out`.
fn session_mean(matrix: &FeatureMatrix, first: usize, end: usize, out: &mut [f64]) {
    let mut counts = vec![0_usize; out.len()];
    out.fill(0.0);
    for row in first..end {
        for (j, &v) in matrix.row(row).iter().enumerate() {
            if !v.is_nan() {
                out[j] += v;
                counts[j] += 1;
            }
        }
    }
    for (value, &count) in out.iter_mut().zip(&counts) {
        *value = if count > 0 {
            *value / count as f64
        } else {
            f64::NAN
        };
    }
}

#[cfg(test)]
mod tests {
    use chrono::Days;

    use super::*;
    use crate::dataset::{Label, LabelHorizon, SampleKey};

    /// Sessions 0..4: candidate `a` every day, `b` on sessions 1 and 3 only, `c` on
    /// session 2 only. Feature = 10 · session + candidate number.
    fn data() -> Dataset {
        let start = NaiveDate::from_ymd_opt(2021, 3, 1).unwrap();
        let rows = [
            (0, "a"),
            (1, "a"),
            (1, "b"),
            (2, "a"),
            (2, "c"),
            (3, "a"),
            (3, "b"),
        ];
        let (mut values, mut keys, mut labels) = (vec![], vec![], vec![]);
        for (session, candidate) in rows {
            let date = start + Days::new(session);
            let number = f64::from(candidate.as_bytes()[0] - b'a');
            values.push(10.0 * session as f64 + number);
            keys.push(SampleKey {
                decision_date: date,
                candidate: candidate.into(),
            });
            let horizon = LabelHorizon::try_new(date, date + Days::new(3)).unwrap();
            labels.push(Label::from_return_on_risk(horizon, 0.1).unwrap());
        }
        let matrix = FeatureMatrix::try_new(vec!["x".into()], "v", values).unwrap();
        Dataset::try_new(matrix, keys, labels).unwrap()
    }

    #[test]
    fn steps_follow_the_candidate_else_the_session_mean_and_never_look_ahead() {
        use SequenceStep::{Padding, Row, SessionMean};
        let data = data();
        let day = |n: u64| NaiveDate::from_ymd_opt(2021, 3, 1).unwrap() + Days::new(n);
        // `b` on session 3: session 2 has no `b` (mean), session 1 has it (row 2), session 0
        // not (mean), before that padding.
        assert_eq!(
            sequence_steps(&data, 6, 5),
            vec![
                Padding,
                SessionMean(day(0)),
                Row(2),
                SessionMean(day(2)),
                Row(6)
            ]
        );
        // `a` on session 2 follows its own rows; `c` on session 2 never reads session 2's `a`.
        assert_eq!(sequence_steps(&data, 3, 3), vec![Row(0), Row(1), Row(3)]);
        assert_eq!(
            sequence_steps(&data, 4, 3),
            vec![SessionMean(day(0)), SessionMean(day(1)), Row(4)]
        );
        for row in 0..data.len() {
            let decided = data.keys()[row].decision_date;
            for step in sequence_steps(&data, row, 4) {
                match step {
                    Row(r) => {
                        assert!(r == row || data.keys()[r].decision_date < decided);
                    }
                    SessionMean(date) => assert!(date < decided),
                    Padding => {}
                }
            }
        }
    }

    #[test]
    fn gathered_sequences_hold_standardised_rows_and_session_means() {
        let data = data();
        let standardiser = Standardiser {
            means: vec![1.0],
            scales: vec![2.0],
        };
        let sequences = Sequences::of_samples(&data, &[4, 6], 3, &standardiser);
        let mut out = Vec::new();
        sequences.gather(&[0, 1], &mut out);
        // Row 4 (`c`, session 2): session 0's mean (row 0 alone) 0; session 1's (10 + 11) / 2;
        // itself 21. Row 6 (`b`, session 3): session 1 `b` = 11; session 2 mean (20 + 22) / 2.
        let z = |v: f64| ((v - 1.0) / 2.0) as f32;
        assert_eq!(
            out,
            vec![z(0.0), z(10.5), z(22.0), z(11.0), z(21.0), z(31.0)]
        );
        assert_eq!(sequences.len(), 2);
    }

    #[test]
    fn a_series_pads_before_its_first_row() {
        let matrix = FeatureMatrix::try_new(vec!["x".into()], "v", vec![1.0, 2.0, 3.0]).unwrap();
        let identity = Standardiser {
            means: vec![0.0],
            scales: vec![1.0],
        };
        let sequences = Sequences::of_series(&matrix, 2, &identity);
        let mut out = Vec::new();
        sequences.gather(&[0, 1, 2], &mut out);
        assert_eq!(out, vec![0.0, 1.0, 1.0, 2.0, 2.0, 3.0]);
    }

    #[test]
    fn standardiser_ignores_missing_values_and_imputes_them_as_zero() {
        let matrix = FeatureMatrix::try_new(
            vec!["x".into(), "flat".into()],
            "v",
            vec![1.0, 5.0, f64::NAN, 5.0, 3.0, 5.0, 100.0, 7.0],
        )
        .unwrap();
        // Fitted on rows 0..3 only: row 3 (100, 7) does not count.
        let standardiser = Standardiser::fit(&matrix, &[0, 1, 2]);
        assert_eq!(standardiser.means, vec![2.0, 5.0]);
        assert_eq!(standardiser.scales, vec![1.0, 1.0]);
        let mut out = Vec::new();
        standardiser.write(&[f64::NAN, 6.0], &mut out);
        assert_eq!(out, vec![0.0, 1.0]);
    }
}
