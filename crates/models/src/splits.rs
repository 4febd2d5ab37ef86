//! Purged walk-forward splits (López de Prado, *Advances in Financial Machine Learning*, 2018,
//! ch. 7 and 12): a model is trained on the sessions before a test window and scored on it,
//! then the window moves on.
//!
//! A label spans days (entry to exit), so a training sample decided before the test window can
//! still depend on prices inside it. Such samples are **purged**. Samples whose span falls in
//! the **embargo** — the sessions just after a test window — are dropped too: their features
//! are serially correlated with the test window's outcomes. Training windows of a walk-forward
//! end where their test window starts, so there the embargo never removes anything; it matters
//! for training sets on both sides of the test window ([`purged_k_fold`], for tuning and
//! stacking inside one training window).
//!
//! Windows count *sessions* on an axis the caller gives (the calendar's trading sessions, or
//! [`crate::Dataset::decision_sessions`]); samples belong to a window by decision date.
//!
//! With the issue's 504 / 63 / 21 sessions the test windows of consecutive folds overlap (each
//! session is tested by three models). For the overall out-of-sample figures each fold
//! contributes only its **scored** window — the first `step` sessions of its test window, the
//! sessions until the next retrain, as in live trading — so every session is scored once.

use chrono::NaiveDate;

use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

/// Sizes of a walk-forward, in sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkForwardConfig {
    /// Sessions each model trains on (rolling window): 504, two years.
    pub train_sessions: usize,
    /// Sessions each model is tested on: 63, a quarter.
    pub test_sessions: usize,
    /// Sessions between one fold's test start and the next's: 21, a month (the retraining
    /// interval).
    pub step_sessions: usize,
    /// Sessions after a test window in which no training sample may lie: 5, a week.
    pub embargo_sessions: usize,
}

impl Default for WalkForwardConfig {
    fn default() -> Self {
        Self {
            train_sessions: 504,
            test_sessions: 63,
            step_sessions: 21,
            embargo_sessions: 5,
        }
    }
}

impl WalkForwardConfig {
    fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("train_sessions", self.train_sessions),
            ("test_sessions", self.test_sessions),
            ("step_sessions", self.step_sessions),
        ] {
            if value == 0 {
                return Err(ModelError::InvalidConfig {
                    field,
                    value: value.to_string(),
                    requirement: "at least 1 session",
                });
            }
        }
        Ok(())
    }
}

/// A run of consecutive sessions, first and last inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionWindow {
    /// The first session.
    pub first: NaiveDate,
    /// The last session.
    pub last: NaiveDate,
}

impl SessionWindow {
    fn from_axis(sessions: &[NaiveDate], start: usize, end_exclusive: usize) -> Self {
        Self {
            first: sessions[start],
            last: sessions[end_exclusive - 1],
        }
    }

    /// Whether `date` lies in the window.
    #[must_use]
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.first..=self.last).contains(&date)
    }
}

/// One train/test split, as sample indices into the [`Dataset`] it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// 0-based position of the fold.
    pub index: usize,
    /// The windows the training samples were drawn from (one for a walk-forward, up to two
    /// for a k-fold), before purging and embargo.
    pub train_windows: Vec<SessionWindow>,
    /// The test window.
    pub test_window: SessionWindow,
    /// The part of the test window this fold contributes to overall out-of-sample figures.
    pub scored_window: SessionWindow,
    /// The sessions after the test window where no training sample may lie (`None` when the
    /// embargo is 0 sessions or the test window ends the axis).
    pub embargo_window: Option<SessionWindow>,
    /// Training samples, ascending.
    pub train: Vec<usize>,
    /// Test samples, ascending.
    pub test: Vec<usize>,
    /// The test samples in the scored window, ascending (a prefix of `test`).
    pub scored: Vec<usize>,
    /// Training-window samples dropped because their label horizon overlaps the test window.
    pub purged: usize,
    /// Training-window samples dropped because their decision-to-exit span reaches the embargo.
    pub embargoed: usize,
}

/// Splits `dataset` into rolling walk-forward folds on the session axis `sessions`.
///
/// Fold `k` tests sessions `[train + k·step, train + k·step + test)` and trains on the
/// `train` sessions before, purged and embargoed; only folds whose test window fits in the axis
/// are made.
///
/// # Errors
/// [`ModelError::InvalidConfig`] for a zero size, [`ModelError::BadValue`] when `sessions` is
/// not strictly increasing, [`ModelError::NotEnoughData`] when the axis is shorter than one
/// training plus one test window.
pub fn walk_forward(
    dataset: &Dataset,
    sessions: &[NaiveDate],
    config: &WalkForwardConfig,
) -> Result<Vec<Fold>> {
    config.validate()?;
    check_axis(sessions)?;
    let needed = config.train_sessions + config.test_sessions;
    if sessions.len() < needed {
        return Err(ModelError::NotEnoughData {
            what: format!(
                "{} sessions, one walk-forward fold needs {needed} ({} train + {} test)",
                sessions.len(),
                config.train_sessions,
                config.test_sessions
            ),
        });
    }
    let folds = (sessions.len() - needed) / config.step_sessions + 1;
    Ok((0..folds)
        .map(|index| {
            let test_start = config.train_sessions + index * config.step_sessions;
            let test_end = test_start + config.test_sessions;
            let scored_end = test_start + config.step_sessions.min(config.test_sessions);
            let train_window =
                SessionWindow::from_axis(sessions, test_start - config.train_sessions, test_start);
            let windows = TestWindows::new(
                sessions,
                test_start,
                test_end,
                scored_end,
                config.embargo_sessions,
            );
            windows.into_fold(index, dataset, vec![train_window])
        })
        .collect())
}

/// Splits `dataset` into `k` contiguous test groups of sessions; each fold trains on every
/// other session, purged and embargoed. For tuning or stacking inside one training window,
/// never for the final out-of-sample figures (its training data lies after its test data).
///
/// # Errors
/// [`ModelError::InvalidConfig`] when `k < 2`, [`ModelError::BadValue`] when `sessions` is not
/// strictly increasing, [`ModelError::NotEnoughData`] with fewer sessions than `k`.
pub fn purged_k_fold(
    dataset: &Dataset,
    sessions: &[NaiveDate],
    k: usize,
    embargo_sessions: usize,
) -> Result<Vec<Fold>> {
    if k < 2 {
        return Err(ModelError::InvalidConfig {
            field: "k",
            value: k.to_string(),
            requirement: "at least 2 folds",
        });
    }
    check_axis(sessions)?;
    if sessions.len() < k {
        return Err(ModelError::NotEnoughData {
            what: format!("{} sessions for {k} folds", sessions.len()),
        });
    }
    Ok((0..k)
        .map(|index| {
            // Group boundaries spread the remainder over the first groups.
            let start = index * sessions.len() / k;
            let end = (index + 1) * sessions.len() / k;
            let mut train_windows = Vec::with_capacity(2);
            if start > 0 {
                train_windows.push(SessionWindow::from_axis(sessions, 0, start));
            }
            if end < sessions.len() {
                train_windows.push(SessionWindow::from_axis(sessions, end, sessions.len()));
            }
            TestWindows::new(sessions, start, end, end, embargo_sessions).into_fold(
                index,
                dataset,
                train_windows,
            )
        })
        .collect())
}

fn check_axis(sessions: &[NaiveDate]) -> Result<()> {
    match sessions.windows(2).position(|pair| pair[1] <= pair[0]) {
        None => Ok(()),
        Some(index) => Err(ModelError::BadValue {
            at: format!("session axis position {}", index + 1),
            reason: format!(
                "{} does not follow {}: sessions must be strictly increasing",
                sessions[index + 1],
                sessions[index]
            ),
        }),
    }
}

/// A fold's test, scored and embargo windows, and the purge rule they imply.
struct TestWindows {
    test: SessionWindow,
    scored: SessionWindow,
    embargo: Option<SessionWindow>,
}

impl TestWindows {
    fn new(
        sessions: &[NaiveDate],
        test_start: usize,
        test_end: usize,
        scored_end: usize,
        embargo_sessions: usize,
    ) -> Self {
        let embargo_end = (test_end + embargo_sessions).min(sessions.len());
        Self {
            test: SessionWindow::from_axis(sessions, test_start, test_end),
            scored: SessionWindow::from_axis(sessions, test_start, scored_end),
            embargo: (embargo_end > test_end)
                .then(|| SessionWindow::from_axis(sessions, test_end, embargo_end)),
        }
    }

    fn into_fold(self, index: usize, dataset: &Dataset, train_windows: Vec<SessionWindow>) -> Fold {
        let mut fold = Fold {
            index,
            train_windows,
            test_window: self.test,
            scored_window: self.scored,
            embargo_window: self.embargo,
            train: Vec::new(),
            test: Vec::new(),
            scored: Vec::new(),
            purged: 0,
            embargoed: 0,
        };
        for (sample, (key, label)) in dataset.keys().iter().zip(dataset.labels()).enumerate() {
            let decided = key.decision_date;
            if self.test.contains(decided) {
                fold.test.push(sample);
                if self.scored.contains(decided) {
                    fold.scored.push(sample);
                }
            } else if fold
                .train_windows
                .iter()
                .any(|window| window.contains(decided))
            {
                let horizon = label.horizon();
                if horizon.overlaps(self.test.first, self.test.last) {
                    fold.purged += 1;
                } else if self.embargo.is_some_and(|embargo| {
                    decided <= embargo.last && horizon.exit() >= embargo.first
                }) {
                    fold.embargoed += 1;
                } else {
                    fold.train.push(sample);
                }
            }
        }
        fold
    }
}

#[cfg(test)]
mod tests {
    use chrono::Days;
    use proptest::prelude::*;

    use super::*;
    use crate::dataset::{FeatureMatrix, Label, LabelHorizon, SampleKey};

    /// Consecutive calendar days as a session axis (the splitter only needs increasing dates).
    fn axis(n: usize) -> Vec<NaiveDate> {
        let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
        (0..n as u64).map(|i| start + Days::new(i)).collect()
    }

    /// One sample per (session, candidate); the label spans `horizon_sessions[i]` sessions
    /// from the decision date.
    fn dataset(sessions: &[NaiveDate], per_session: usize, horizons: &[usize]) -> Dataset {
        let mut keys = Vec::new();
        let mut labels = Vec::new();
        for (s, &date) in sessions.iter().enumerate() {
            for c in 0..per_session {
                let length = horizons[(s * per_session + c) % horizons.len()];
                let exit = sessions[(s + length).min(sessions.len() - 1)];
                keys.push(SampleKey {
                    decision_date: date,
                    candidate: format!("c{c}"),
                });
                let horizon = LabelHorizon::try_new(date, exit).unwrap();
                labels.push(Label::from_return_on_risk(horizon, 0.1).unwrap());
            }
        }
        let matrix =
            FeatureMatrix::try_new(vec!["x".into()], "test", vec![0.0; keys.len()]).unwrap();
        Dataset::try_new(matrix, keys, labels).unwrap()
    }

    #[test]
    fn issue_sizes_give_the_expected_folds_and_purge_the_last_training_sessions() {
        let sessions = axis(700);
        let data = dataset(&sessions, 2, &[10]);
        let folds = walk_forward(&data, &sessions, &WalkForwardConfig::default()).unwrap();
        // (700 − 567) / 21 + 1 = 7 folds.
        assert_eq!(folds.len(), 7);
        let first = &folds[0];
        assert_eq!(
            first.train_windows,
            vec![SessionWindow {
                first: sessions[0],
                last: sessions[503]
            }]
        );
        assert_eq!(
            first.test_window,
            SessionWindow {
                first: sessions[504],
                last: sessions[566]
            }
        );
        assert_eq!(first.scored_window.last, sessions[524]);
        assert_eq!(first.test.len(), 63 * 2);
        assert_eq!(first.scored.len(), 21 * 2);
        // A 10-session label decided at session 494..=503 reaches session 504: purged.
        assert_eq!(first.purged, 10 * 2);
        assert_eq!(first.train.len(), (504 - 10) * 2);
        assert_eq!(
            first.embargoed, 0,
            "a walk-forward trains before its test window only"
        );
        assert_eq!(folds[1].test_window.first, sessions[525]);
    }

    #[test]
    fn too_short_axis_and_bad_settings_are_refused() {
        let sessions = axis(566);
        let data = dataset(&sessions, 1, &[1]);
        let short = walk_forward(&data, &sessions, &WalkForwardConfig::default()).unwrap_err();
        assert!(
            short
                .to_string()
                .contains("566 sessions, one walk-forward fold needs 567"),
            "{short}"
        );
        let zero_step = WalkForwardConfig {
            step_sessions: 0,
            ..WalkForwardConfig::default()
        };
        assert!(matches!(
            walk_forward(&data, &sessions, &zero_step),
            Err(ModelError::InvalidConfig {
                field: "step_sessions",
                ..
            })
        ));
        let mut unordered = sessions.clone();
        unordered.swap(3, 4);
        assert!(walk_forward(&data, &unordered, &WalkForwardConfig::default()).is_err());
        assert!(purged_k_fold(&data, &sessions, 1, 0).is_err());
    }

    #[test]
    fn k_fold_embargoes_the_sessions_after_each_test_group() {
        let sessions = axis(100);
        let data = dataset(&sessions, 1, &[3]);
        let folds = purged_k_fold(&data, &sessions, 4, 5).unwrap();
        let second = &folds[1];
        assert_eq!(
            second.test_window,
            SessionWindow {
                first: sessions[25],
                last: sessions[49]
            }
        );
        // Purged: decided at 22, 23, 24 (their 3-session labels reach 25).
        assert_eq!(second.purged, 3);
        // Embargoed: decided at 50..=54.
        assert_eq!(second.embargoed, 5);
        assert_eq!(second.train.len(), 100 - 25 - 3 - 5);
        assert!(!second.train.contains(&54) && second.train.contains(&55));
        // The last group has nothing after it to embargo.
        assert_eq!(folds[3].embargo_window, None);
        assert_eq!(folds[3].embargoed, 0);
    }

    fn arbitrary_split()
    -> impl Strategy<Value = (usize, usize, usize, usize, usize, usize, Vec<usize>)> {
        (
            20usize..80,                             // train
            5usize..30,                              // test
            1usize..40,                              // step
            0usize..10,                              // embargo
            1usize..4,                               // candidates per session
            0usize..60,                              // sessions beyond one fold
            prop::collection::vec(0usize..25, 1..8), // label lengths in sessions
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn walk_forward_invariants(
            (train, test, step, embargo, per_session, extra, horizons) in arbitrary_split()
        ) {
            let sessions = axis(train + test + extra);
            let data = dataset(&sessions, per_session, &horizons);
            let config = WalkForwardConfig {
                train_sessions: train, test_sessions: test, step_sessions: step, embargo_sessions: embargo,
            };
            let folds = walk_forward(&data, &sessions, &config).unwrap();
            prop_assert_eq!(folds.len(), extra / step + 1);
            for fold in &folds {
                let test_window = fold.test_window;
                for &i in &fold.train {
                    let decided = data.keys()[i].decision_date;
                    let horizon = data.labels()[i].horizon();
                    // No training label depends on a price inside the test window…
                    prop_assert!(!horizon.overlaps(test_window.first, test_window.last));
                    // …and none lies in the embargo.
                    if let Some(embargo) = fold.embargo_window {
                        prop_assert!(!(decided <= embargo.last && horizon.exit() >= embargo.first));
                    }
                    prop_assert!(decided < test_window.first);
                }
                // Every test sample is decided in the test window, and all of them are there.
                let in_window = data.keys().iter().filter(|k| test_window.contains(k.decision_date)).count();
                prop_assert_eq!(fold.test.len(), in_window);
                prop_assert_eq!(fold.test.len(), test * per_session);
                // Nothing in the training window is lost silently.
                prop_assert_eq!(fold.train.len() + fold.purged + fold.embargoed, train * per_session);
                prop_assert!(fold.scored.iter().zip(&fold.test).all(|(a, b)| a == b));
            }
            for pair in folds.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                // Folds advance by the step…
                let a_start = sessions.iter().position(|&d| d == a.test_window.first).unwrap();
                let b_start = sessions.iter().position(|&d| d == b.test_window.first).unwrap();
                prop_assert_eq!(b_start - a_start, step);
                // …scored windows never overlap and leave no gap…
                prop_assert!(a.scored_window.last < b.scored_window.first);
                if step <= test {
                    prop_assert_eq!(sessions[b_start - 1], a.scored_window.last);
                }
                // …and test windows overlap exactly when the step is shorter than the test.
                prop_assert_eq!(a.test_window.last >= b.test_window.first, step < test);
            }
        }

        #[test]
        fn k_fold_invariants(
            (n, k, embargo, horizons) in (30usize..150, 2usize..8, 0usize..10, prop::collection::vec(0usize..20, 1..6))
        ) {
            let sessions = axis(n);
            let data = dataset(&sessions, 1, &horizons);
            let folds = purged_k_fold(&data, &sessions, k, embargo).unwrap();
            let mut tested = 0;
            for fold in &folds {
                tested += fold.test.len();
                for &i in &fold.train {
                    let decided = data.keys()[i].decision_date;
                    let horizon = data.labels()[i].horizon();
                    prop_assert!(!horizon.overlaps(fold.test_window.first, fold.test_window.last));
                    prop_assert!(!fold.test_window.contains(decided));
                    if let Some(embargo) = fold.embargo_window {
                        prop_assert!(!(decided <= embargo.last && horizon.exit() >= embargo.first));
                    }
                }
                prop_assert_eq!(fold.train.len() + fold.purged + fold.embargoed + fold.test.len(), n);
            }
            // The test groups partition the samples.
            prop_assert_eq!(tested, n);
        }
    }
}
