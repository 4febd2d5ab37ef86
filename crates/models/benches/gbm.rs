//! Issue 15 §6 for LightGBM: training on 5 000 samples × 220 features (≤ 10 s on two cores),
//! and scoring one decision with the features already computed (≤ 1 ms). Synthetic data: 220
//! uniform features, the outcome depending on five of them.
//!
//! LightGBM is C++ built at -O3 whatever the Cargo profile, so `cargo bench -p volta-models
//! --profile dev` measures it without rebuilding it in release.

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{
    Classifier, Dataset, FeatureMatrix, GbmConfig, GbmModel, Label, LabelHorizon, SampleKey,
};

const FEATURES: usize = 220;

fn data(rows: usize, seed: u64, start: NaiveDate) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(rows * FEATURES);
    let (mut keys, mut labels) = (Vec::new(), Vec::new());
    for row in 0..rows {
        let x: Vec<f64> = (0..FEATURES).map(|_| rng.random_range(-1.0..1.0)).collect();
        let signal = x[0] + 0.5 * x[1] - 0.5 * x[2] + f64::from(u8::from(x[3] * x[4] > 0.0)) - 0.5;
        let decided = start + Days::new(row as u64 / 10);
        keys.push(SampleKey {
            decision_date: decided,
            candidate: format!("c{}", row % 10),
        });
        let horizon = LabelHorizon::try_new(decided, decided + Days::new(20)).unwrap();
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
    let train = data(5000, 1, NaiveDate::from_ymd_opt(2015, 1, 1).unwrap());
    let validation = data(1000, 2, NaiveDate::from_ymd_opt(2017, 1, 1).unwrap());
    let mut group = c.benchmark_group("lightgbm");
    group.sample_size(10);
    for threads in [1, 2] {
        let config = GbmConfig {
            num_threads: threads,
            ..GbmConfig::default()
        };
        let model = GbmModel::train(&train, &validation, &config).unwrap();
        eprintln!(
            "{threads} thread(s): {} rounds kept",
            model.metadata().iterations
        );
        group.bench_function(format!("train_5000x220_{threads}_threads"), |b| {
            b.iter(|| GbmModel::train(black_box(&train), black_box(&validation), &config).unwrap());
        });
    }
    let model = GbmModel::train(
        &train,
        &validation,
        &GbmConfig {
            num_threads: 1,
            ..GbmConfig::default()
        },
    )
    .unwrap();
    let one = validation.matrix().select_rows(&[0]);
    group.sample_size(100);
    group.bench_function("score_one_decision", |b| {
        b.iter(|| model.predict_proba(black_box(&one)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
