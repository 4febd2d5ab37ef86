//! Issue 15 §6: scoring one decision with each model, its features already computed (goal
//! ≤ 1 ms): logistic regression and LightGBM read the decision's row of 220 features; the
//! LSTM reads its last 20 sessions (20 × 220); the ensemble of the three (weights, Platt)
//! reads the decision and its history as a small data set.

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{
    Classifier, Combiner, Dataset, Ensemble, FeatureMatrix, GbmConfig, GradientBoosting, Label,
    LabelHorizon, Learner, LogisticRegression, Lstm, LstmConfig, SampleKey,
};

const FEATURES: usize = 220;

/// `sessions` sessions, one candidate a day.
fn data(sessions: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let mut values = Vec::with_capacity(sessions * FEATURES);
    let (mut keys, mut labels) = (Vec::new(), Vec::new());
    for row in 0..sessions {
        let x: Vec<f64> = (0..FEATURES).map(|_| rng.random_range(-1.0..1.0)).collect();
        let signal = x[0] + 0.5 * x[1] - 0.5 * x[2];
        let decided = start + Days::new(row as u64);
        keys.push(SampleKey {
            decision_date: decided,
            candidate: "SPY put-credit 30d".into(),
        });
        let horizon = LabelHorizon::try_new(decided, decided + Days::new(10)).unwrap();
        labels.push(
            Label::from_return_on_risk(horizon, signal + rng.random_range(-1.5..1.5)).unwrap(),
        );
        values.extend(x);
    }
    let names = (0..FEATURES).map(|j| format!("f{j:03}")).collect();
    Dataset::try_new(
        FeatureMatrix::try_new(names, "bench", values).unwrap(),
        keys,
        labels,
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let train = data(1500, 1);
    let gbm = GradientBoosting {
        config: GbmConfig {
            num_iterations: 200,
            ..GbmConfig::default()
        },
        validation_sessions: 200,
    };
    let lstm = Lstm {
        config: LstmConfig {
            max_epochs: 3,
            ..LstmConfig::default()
        },
        validation_sessions: 200,
    };
    let logistic_model = LogisticRegression::default().fit(&train).unwrap();
    let gbm_model = gbm.fit(&train).unwrap();
    let lstm_model = lstm.fit(&train).unwrap();
    let ensemble = Ensemble::new(Combiner::Weights(vec![1.0, 1.0, 1.0]))
        .with_member("logistic", LogisticRegression::default())
        .with_member("gbm", gbm)
        .with_member("lstm", lstm)
        .fit(&train)
        .unwrap();

    // The decision and its 19 previous sessions.
    let recent = data(20, 2);
    let decision = recent.matrix().select_rows(&[19]);
    let mut group = c.benchmark_group("score_one_decision");
    group.bench_function("logistic", |b| {
        b.iter(|| logistic_model.predict_proba(black_box(&decision)).unwrap());
    });
    group.bench_function("gbm", |b| {
        b.iter(|| gbm_model.predict_proba(black_box(&decision)).unwrap());
    });
    group.bench_function("lstm_20_sessions", |b| {
        b.iter(|| {
            lstm_model
                .score_sequence(black_box(recent.matrix()))
                .unwrap()
        });
    });
    group.bench_function("lstm_from_dataset", |b| {
        b.iter(|| {
            lstm_model
                .predict_samples(black_box(&recent), &[19])
                .unwrap()
        });
    });
    group.bench_function("ensemble_of_three", |b| {
        b.iter(|| ensemble.predict_samples(black_box(&recent), &[19]).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
