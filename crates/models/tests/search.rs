//! Random search: seeded, scored inside its window only (rows outside it can be garbage), and
//! stopped by its trial cap or its time budget.

use std::cell::Cell;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{
    Dataset, Elapsed, FeatureMatrix, GbmConfig, GbmSpace, GradientBoosting, Label, LabelHorizon,
    Lstm, LstmConfig, LstmSpace, SampleKey, SearchConfig, SearchStop, SessionWindow, random_search,
};

const NAMES: [&str; 3] = ["signal", "other", "noise"];

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Days::new(n)
}

/// 300 sessions × 2 candidates, held 4 days; the outcome follows `signal` (and a little of
/// `other`). With `garbage`, every row outside sessions `keep` gets wild features and flipped
/// labels.
fn data(garbage: Option<&std::ops::Range<u64>>) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut wild = ChaCha8Rng::seed_from_u64(6);
    let (mut values, mut keys, mut labels) = (vec![], vec![], vec![]);
    for session in 0..300 {
        for candidate in 0..2 {
            let x: [f64; 3] = [
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            ];
            let mut ret = x[0] + 0.3 * x[1] + rng.random_range(-1.0..1.0);
            let mut row = x;
            if garbage
                .as_ref()
                .is_some_and(|keep| !keep.contains(&session))
            {
                row = [
                    wild.random_range(-1e3..1e3),
                    f64::NAN,
                    wild.random_range(-9.0..9.0),
                ];
                ret = -ret;
            }
            values.extend(row);
            keys.push(SampleKey {
                decision_date: day(session),
                candidate: format!("c{candidate}"),
            });
            let horizon = LabelHorizon::try_new(day(session), day(session + 4)).unwrap();
            labels.push(Label::from_return_on_risk(horizon, ret).unwrap());
        }
    }
    let names = NAMES.iter().map(|&n| n.to_owned()).collect();
    Dataset::try_new(
        FeatureMatrix::try_new(names, "search-1", values).unwrap(),
        keys,
        labels,
    )
    .unwrap()
}

fn space() -> GbmSpace {
    GbmSpace {
        min_data_in_leaf: (5, 40),
        base: GradientBoosting {
            config: GbmConfig {
                num_iterations: 60,
                early_stopping_rounds: 10,
                ..GbmConfig::default()
            },
            validation_sessions: 15,
        },
        ..GbmSpace::default()
    }
}

fn config(max_trials: usize) -> SearchConfig {
    SearchConfig {
        max_trials,
        time_budget: Duration::from_secs(3600),
        folds: 3,
        embargo_sessions: 2,
        seed: 21,
    }
}

/// A clock that moves on by one second every time it is read.
struct Ticking(Cell<u64>);

impl Elapsed for Ticking {
    fn elapsed(&self) -> Duration {
        let now = self.0.get();
        self.0.set(now + 1);
        Duration::from_secs(now)
    }
}

const WINDOW: std::ops::Range<u64> = 60..240;

fn window() -> SessionWindow {
    SessionWindow {
        first: day(WINDOW.start),
        last: day(WINDOW.end - 1),
    }
}

#[test]
fn rows_outside_the_window_never_change_the_scores() {
    let clean = random_search(
        &space(),
        &data(None),
        window(),
        &config(3),
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    let dirty = random_search(
        &space(),
        &data(Some(&WINDOW)),
        window(),
        &config(3),
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    assert_eq!(clean, dirty);
    assert_eq!(clean.window_samples, 180 * 2);
    assert_eq!(clean.trials.len(), 3);
    assert_eq!(clean.stopped, SearchStop::MaxTrials);
    for trial in &clean.trials {
        let score = trial.outcome.as_ref().unwrap();
        assert_eq!(score.samples, 360);
        assert!(score.auc.unwrap() > 0.65, "{trial:?}");
    }
    let best = clean
        .best_trial()
        .unwrap()
        .outcome
        .as_ref()
        .unwrap()
        .log_loss;
    assert!(
        clean
            .trials
            .iter()
            .all(|t| t.outcome.as_ref().unwrap().log_loss >= best)
    );
    // Sensitive: garbage inside the window does change them.
    let inside = random_search(
        &space(),
        &data(Some(&(100..300))),
        window(),
        &config(3),
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    assert_ne!(clean.trials[0].outcome, inside.trials[0].outcome);
}

#[test]
fn the_time_budget_stops_new_trials_and_says_how_many_ran() {
    let mut config = config(50);
    // The clock reads 0 s, 1 s, 2 s, 3 s before trials: a 2.5 s budget lets three start.
    config.time_budget = Duration::from_millis(2500);
    let report = random_search(
        &space(),
        &data(None),
        window(),
        &config,
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    assert_eq!(report.trials.len(), 3);
    assert_eq!(report.stopped, SearchStop::TimeBudget);
    // The same seed draws the same trials, whatever the clock allowed.
    let capped = random_search(
        &space(),
        &data(None),
        window(),
        &SearchConfig {
            max_trials: 2,
            ..config
        },
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    assert_eq!(capped.trials[..], report.trials[..2]);
}

#[test]
fn an_lstm_space_is_searched_the_same_way() {
    let space = LstmSpace {
        hidden_size: vec![4, 8],
        sequence_length: vec![3, 5],
        learning_rate: (5e-3, 2e-2),
        base: Lstm {
            config: LstmConfig {
                batch_size: 64,
                max_epochs: 8,
                patience: 3,
                learning_rate: 1e-2,
                ..LstmConfig::default()
            },
            validation_sessions: 15,
        },
        ..LstmSpace::default()
    };
    let clean = random_search(
        &space,
        &data(None),
        window(),
        &config(2),
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    let dirty = random_search(
        &space,
        &data(Some(&WINDOW)),
        window(),
        &config(2),
        &Ticking(Cell::new(0)),
    )
    .unwrap();
    assert_eq!(clean, dirty);
    let best = clean.best_trial().unwrap();
    assert!(
        best.outcome.as_ref().unwrap().auc.unwrap() > 0.6,
        "{best:?}"
    );
}

/// A clock for each search, every one ticking from 0.
fn ticking_clocks() -> volta_models::ClockStart {
    std::sync::Arc::new(|| Box::new(Ticking(Cell::new(0))) as Box<dyn Elapsed>)
}

#[test]
fn a_searched_learner_tunes_inside_the_training_set_it_is_given() {
    use volta_models::{Learner, Searched};
    let all = data(Some(&WINDOW));
    // The training set a walk-forward would hand it: the window's samples only.
    let inside: Vec<usize> = (0..all.len())
        .filter(|&i| window().contains(all.keys()[i].decision_date))
        .collect();
    let train = all.subset(&inside);
    let searched = Searched::new(space(), config(3), space().base, ticking_clocks());
    searched.fit(&train).unwrap();
    // It chose what a search over that window chooses: the best of the same three trials.
    let report =
        random_search(&space(), &all, window(), &config(3), &Ticking(Cell::new(0))).unwrap();
    assert_eq!(searched.chosen(), [report.best_trial().unwrap().learner]);
    assert_ne!(
        searched.chosen()[0],
        space().base,
        "a drawn trial, not the base"
    );
    let tally = searched.tally();
    assert_eq!(
        (
            tally.searches,
            tally.trials,
            tally.fell_back,
            tally.out_of_time
        ),
        (1, 3, 0, 0)
    );
    // Two sessions cannot hold three folds: it fits the fallback and counts it.
    let tiny = all.subset(&inside[..4]);
    let fallback = GradientBoosting {
        config: GbmConfig {
            num_iterations: 5,
            min_data_in_leaf: 1,
            ..space().base.config
        },
        validation_sessions: 1,
    };
    let searched = Searched::new(space(), config(3), fallback, ticking_clocks());
    let _ = searched.fit(&tiny);
    assert_eq!(searched.chosen(), [fallback]);
    assert_eq!(searched.tally().fell_back, 1);
}
