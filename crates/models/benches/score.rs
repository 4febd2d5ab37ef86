//! Issue 15 §6: scoring one decision with each model, its features already computed (goal
//! ≤ 1 ms): logistic regression and LightGBM read the decision's row of 220 features; the
//! LSTM reads its last 20 sessions (20 × 220); the ensemble of the three (weights, Platt)
//! reads the decision and its history as a small data set.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use volta_models::{
    Classifier, Combiner, Ensemble, GbmConfig, GradientBoosting, Learner, LogisticRegression, Lstm,
    LstmConfig,
};

#[path = "common/synthetic.rs"]
mod synthetic;

fn bench(c: &mut Criterion) {
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let train = synthetic::data(1500, 1, 1, start, 10);
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
    let recent = synthetic::data(20, 1, 2, start, 10);
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
