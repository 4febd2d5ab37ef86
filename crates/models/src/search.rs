//! Random hyperparameter search inside one training window, scored by purged k-fold.
//!
//! Only the samples decided inside the window are copied out of the data set; every trial is
//! fitted and scored on them alone (sequence models included: their history starts at the
//! window), so nothing outside the window — a later test window in particular — can steer the
//! choice. Trials are drawn from a seeded generator; the search stops starting trials at the
//! trial cap or when the time budget is spent, read from an injected [`Elapsed`] clock (the
//! library reads no wall clock: a binary passes an [`std::time::Instant`]).
//!
//! In a k-fold the training sessions lie on both sides of each test group, so a sequence
//! model's training sample may read the *features* of test-group sessions before it; labels
//! are purged and embargoed as [`purged_k_fold`] says. That is why the k-fold tunes and the
//! walk-forward measures.

use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::evaluate::{Classifier, Learner};
use crate::gbm::{GbmConfig, GradientBoosting};
use crate::lstm::{Lstm, LstmConfig};
use crate::metrics::Metrics;
use crate::splits::{SessionWindow, purged_k_fold};

/// The time spent since the search began.
pub trait Elapsed {
    /// Time since the start.
    fn elapsed(&self) -> Duration;
}

/// The wall clock, for binaries: `Instant::now()` taken where the search starts.
impl Elapsed for std::time::Instant {
    fn elapsed(&self) -> Duration {
        std::time::Instant::elapsed(self)
    }
}

/// A space of learners to draw trials from.
pub trait SearchSpace {
    /// What a trial fits.
    type Learner: Learner + Clone + std::fmt::Debug;

    /// One trial's learner, drawn with `rng`.
    fn sample(&self, rng: &mut ChaCha8Rng) -> Self::Learner;
}

/// `[low, high]` on a log scale.
fn log_uniform(rng: &mut ChaCha8Rng, (low, high): (f64, f64)) -> f64 {
    if low >= high {
        return low;
    }
    (rng.random_range(low.ln()..=high.ln())).exp()
}

fn uniform(rng: &mut ChaCha8Rng, (low, high): (f64, f64)) -> f64 {
    if low >= high {
        return low;
    }
    rng.random_range(low..=high)
}

fn integer(rng: &mut ChaCha8Rng, (low, high): (usize, usize)) -> usize {
    if low >= high {
        return low;
    }
    rng.random_range(low..=high)
}

/// LightGBM's search space: ranges (inclusive) of the settings that matter most; the rest
/// comes from `base`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GbmSpace {
    /// Learning rate, drawn log-uniformly: 0.01–0.2.
    pub learning_rate: (f64, f64),
    /// Leaves per tree: 4–63.
    pub num_leaves: (usize, usize),
    /// Samples per leaf at least: 10–200.
    pub min_data_in_leaf: (usize, usize),
    /// Fraction of features per tree: 0.5–1.
    pub feature_fraction: (f64, f64),
    /// Fraction of samples per tree: 0.5–1.
    pub bagging_fraction: (f64, f64),
    /// L2 on leaf values, drawn log-uniformly: 0.01–10.
    pub lambda_l2: (f64, f64),
    /// Everything else (rounds, early stopping, threads, seed, the early-stopping window).
    pub base: GradientBoosting,
}

impl Default for GbmSpace {
    fn default() -> Self {
        Self {
            learning_rate: (0.01, 0.2),
            num_leaves: (4, 63),
            min_data_in_leaf: (10, 200),
            feature_fraction: (0.5, 1.0),
            bagging_fraction: (0.5, 1.0),
            lambda_l2: (0.01, 10.0),
            base: GradientBoosting::default(),
        }
    }
}

impl SearchSpace for GbmSpace {
    type Learner = GradientBoosting;

    fn sample(&self, rng: &mut ChaCha8Rng) -> GradientBoosting {
        GradientBoosting {
            config: GbmConfig {
                learning_rate: log_uniform(rng, self.learning_rate),
                num_leaves: integer(rng, self.num_leaves),
                min_data_in_leaf: integer(rng, self.min_data_in_leaf),
                feature_fraction: uniform(rng, self.feature_fraction),
                bagging_fraction: uniform(rng, self.bagging_fraction),
                lambda_l2: log_uniform(rng, self.lambda_l2),
                ..self.base.config
            },
            ..self.base
        }
    }
}

/// The LSTM's search space (each trial trains a network per fold: keep the budget in mind).
#[derive(Debug, Clone, PartialEq)]
pub struct LstmSpace {
    /// Hidden sizes to choose from: 16, 32, 64.
    pub hidden_size: Vec<usize>,
    /// Sequence lengths to choose from: 10, 20, 40.
    pub sequence_length: Vec<usize>,
    /// Learning rate, drawn log-uniformly: 3e-4–3e-3.
    pub learning_rate: (f64, f64),
    /// Weight decay, drawn log-uniformly: 1e-4–0.1.
    pub weight_decay: (f64, f64),
    /// Everything else (batch size, epochs, patience, seed, the early-stopping window).
    pub base: Lstm,
}

impl Default for LstmSpace {
    fn default() -> Self {
        Self {
            hidden_size: vec![16, 32, 64],
            sequence_length: vec![10, 20, 40],
            learning_rate: (3e-4, 3e-3),
            weight_decay: (1e-4, 0.1),
            base: Lstm::default(),
        }
    }
}

impl SearchSpace for LstmSpace {
    type Learner = Lstm;

    fn sample(&self, rng: &mut ChaCha8Rng) -> Lstm {
        let mut choose = |options: &[usize], fallback: usize| {
            if options.is_empty() {
                fallback
            } else {
                options[rng.random_range(0..options.len())]
            }
        };
        let hidden_size = choose(&self.hidden_size, self.base.config.hidden_size);
        let sequence_length = choose(&self.sequence_length, self.base.config.sequence_length);
        Lstm {
            config: LstmConfig {
                hidden_size,
                sequence_length,
                learning_rate: log_uniform(rng, self.learning_rate),
                weight_decay: log_uniform(rng, self.weight_decay),
                ..self.base.config
            },
            ..self.base
        }
    }
}

/// How [`random_search`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchConfig {
    /// Trials at most: 20.
    pub max_trials: usize,
    /// No trial starts once this much time has passed (a running trial finishes): 10 min.
    pub time_budget: Duration,
    /// Folds of the purged k-fold: 5.
    pub folds: usize,
    /// Sessions after each test group where no training sample may lie: 5.
    pub embargo_sessions: usize,
    /// Seed of the trials' draws.
    pub seed: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            max_trials: 20,
            time_budget: Duration::from_secs(600),
            folds: 5,
            embargo_sessions: 5,
            seed: 17,
        }
    }
}

/// One trial's out-of-fold scores, over the pooled test predictions of every fold.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialScore {
    /// Mean log loss, nats per sample (the search minimises it).
    pub log_loss: f64,
    /// Area under the ROC curve, when both classes are present.
    pub auc: Option<f64>,
    /// Samples scored (each window sample once, by the fold that tested it).
    pub samples: usize,
}

/// One trial of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial<L> {
    /// 0-based position.
    pub index: usize,
    /// The learner tried.
    pub learner: L,
    /// Its scores, or why it could not be fitted or scored (a fold lacking a class, …).
    pub outcome: std::result::Result<TrialScore, String>,
}

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStop {
    /// It ran [`SearchConfig::max_trials`] trials.
    MaxTrials,
    /// The time budget was spent before the next trial.
    TimeBudget,
}

/// The result of [`random_search`].
#[derive(Debug, Clone, PartialEq)]
pub struct SearchReport<L> {
    /// The trials run, in order.
    pub trials: Vec<Trial<L>>,
    /// Position of the trial with the lowest log loss (`None` when none could be scored).
    pub best: Option<usize>,
    /// Why it stopped.
    pub stopped: SearchStop,
    /// Samples inside the window (the only ones read).
    pub window_samples: usize,
}

impl<L> SearchReport<L> {
    /// The best trial, when one could be scored.
    #[must_use]
    pub fn best_trial(&self) -> Option<&Trial<L>> {
        self.best.map(|index| &self.trials[index])
    }
}

/// Draws learners from `space` and scores each by a purged k-fold over the samples of
/// `dataset` decided inside `window` — and only those.
///
/// # Errors
/// [`ModelError::InvalidConfig`] for fewer than 2 folds or no trials,
/// [`ModelError::NotEnoughData`] when the window holds fewer sessions than folds. A trial
/// that fails (its learner's error) is recorded in its [`Trial::outcome`], not returned.
pub fn random_search<S: SearchSpace>(
    space: &S,
    dataset: &Dataset,
    window: SessionWindow,
    config: &SearchConfig,
    clock: &dyn Elapsed,
) -> Result<SearchReport<S::Learner>> {
    if config.max_trials == 0 {
        return Err(ModelError::InvalidConfig {
            field: "max_trials",
            value: "0".into(),
            requirement: "at least 1",
        });
    }
    let inside: Vec<usize> = dataset
        .keys()
        .iter()
        .enumerate()
        .filter(|(_, key)| window.contains(key.decision_date))
        .map(|(index, _)| index)
        .collect();
    let data = dataset.subset(&inside);
    let folds = purged_k_fold(
        &data,
        &data.decision_sessions(),
        config.folds,
        config.embargo_sessions,
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut trials = Vec::new();
    let stopped = loop {
        if trials.len() == config.max_trials {
            break SearchStop::MaxTrials;
        }
        if clock.elapsed() >= config.time_budget {
            break SearchStop::TimeBudget;
        }
        let learner = space.sample(&mut rng);
        let outcome = score(&learner, &data, &folds).map_err(|error| error.to_string());
        trials.push(Trial {
            index: trials.len(),
            learner,
            outcome,
        });
    };
    let best = trials
        .iter()
        .filter_map(|trial| Some((trial.index, trial.outcome.as_ref().ok()?.log_loss)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(index, _)| index);
    Ok(SearchReport {
        trials,
        best,
        stopped,
        window_samples: data.len(),
    })
}

/// Starts a clock for one search (a binary passes `|| Box::new(Instant::now())`).
pub type ClockStart = std::sync::Arc<dyn Fn() -> Box<dyn Elapsed> + Send + Sync>;

/// What the searches of a [`Searched`] learner did, over all its fits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SearchTally {
    /// Fits (one search each).
    pub searches: usize,
    /// Trials run, over all searches.
    pub trials: usize,
    /// Fits that used the fallback learner: no trial could be scored, or the training set
    /// held fewer sessions than folds.
    pub fell_back: usize,
    /// Searches stopped by the time budget rather than the trial cap.
    pub out_of_time: usize,
}

/// A learner that tunes itself inside each training set it is given: its `fit` runs
/// [`random_search`] over the whole of `train` (its first to last decision session), then
/// fits the best trial's learner on all of `train` — so in a walk-forward each fold's
/// settings are chosen inside that fold's training window and never see its test window.
/// When no trial can be scored it fits `fallback`, and counts it.
pub struct Searched<S: SearchSpace> {
    /// Where trials are drawn from.
    pub space: S,
    /// Trials, budget (per search), folds, embargo, seed.
    pub config: SearchConfig,
    /// Fitted when the search cannot choose.
    pub fallback: S::Learner,
    start_clock: ClockStart,
    tally: std::cell::Cell<SearchTally>,
    chosen: std::cell::RefCell<Vec<S::Learner>>,
}

impl<S: SearchSpace> Searched<S> {
    /// A searching learner over `space`, each search timed by a clock from `start_clock`.
    pub fn new(
        space: S,
        config: SearchConfig,
        fallback: S::Learner,
        start_clock: ClockStart,
    ) -> Self {
        Self {
            space,
            config,
            fallback,
            start_clock,
            tally: std::cell::Cell::new(SearchTally::default()),
            chosen: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// What the searches did so far.
    #[must_use]
    pub fn tally(&self) -> SearchTally {
        self.tally.get()
    }

    /// The learner each fit used, in order (the best trial, or the fallback).
    #[must_use]
    pub fn chosen(&self) -> Vec<S::Learner> {
        self.chosen.borrow().clone()
    }
}

impl<S: SearchSpace> std::fmt::Debug for Searched<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Searched")
            .field("config", &self.config)
            .field("fallback", &self.fallback)
            .field("tally", &self.tally.get())
            .finish_non_exhaustive()
    }
}

impl<S: SearchSpace> Learner for Searched<S> {
    type Model = <S::Learner as Learner>::Model;

    fn fit(&self, train: &Dataset) -> Result<Self::Model> {
        let sessions = train.decision_sessions();
        let mut tally = self.tally.get();
        tally.searches += 1;
        let best = match (sessions.first(), sessions.last()) {
            (Some(&first), Some(&last)) => {
                let clock = (self.start_clock)();
                random_search(
                    &self.space,
                    train,
                    SessionWindow { first, last },
                    &self.config,
                    clock.as_ref(),
                )
                .ok()
                .and_then(|report| {
                    tally.trials += report.trials.len();
                    tally.out_of_time += usize::from(report.stopped == SearchStop::TimeBudget);
                    report.best_trial().map(|t| t.learner.clone())
                })
            }
            _ => None,
        };
        tally.fell_back += usize::from(best.is_none());
        self.tally.set(tally);
        let learner = best.unwrap_or_else(|| self.fallback.clone());
        self.chosen.borrow_mut().push(learner.clone());
        learner.fit(train)
    }
}

/// The pooled out-of-fold scores of `learner` on `data` over `folds`.
fn score<L: Learner>(
    learner: &L,
    data: &Dataset,
    folds: &[crate::splits::Fold],
) -> Result<TrialScore> {
    let (mut probabilities, mut targets) = (Vec::new(), Vec::new());
    for fold in folds {
        let model = learner.fit(&data.subset(&fold.train))?;
        probabilities.extend(model.predict_samples(data, &fold.test)?);
        targets.extend(fold.test.iter().map(|&i| data.labels()[i].profitable()));
    }
    let metrics = Metrics::compute(&probabilities, &targets)?;
    Ok(TrialScore {
        log_loss: metrics.log_loss,
        auc: metrics.auc,
        samples: metrics.samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_their_ranges_and_repeat_with_the_seed() {
        let space = GbmSpace::default();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..50).map(|_| space.sample(&mut rng)).collect::<Vec<_>>()
        };
        let draws = draw(3);
        assert_eq!(draws, draw(3));
        assert_ne!(draws, draw(4));
        for learner in &draws {
            let c = learner.config;
            assert!((0.01..=0.2).contains(&c.learning_rate));
            assert!((4..=63).contains(&c.num_leaves));
            assert!((10..=200).contains(&c.min_data_in_leaf));
            assert!((0.5..=1.0).contains(&c.feature_fraction));
            assert!((0.01..=10.0).contains(&c.lambda_l2));
            assert_eq!(c.num_iterations, 500);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let lstm = LstmSpace::default().sample(&mut rng);
        assert!([16, 32, 64].contains(&lstm.config.hidden_size));
        assert!([10, 20, 40].contains(&lstm.config.sequence_length));
    }
}
