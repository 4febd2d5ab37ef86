//! Issue 15 §6 for LightGBM: training on 5 000 samples × 220 features (≤ 10 s on two cores),
//! and scoring one decision with the features already computed (≤ 1 ms). Synthetic data: 220
//! uniform features, the outcome depending on five of them.
//!
//! LightGBM is C++ built at -O3 whatever the Cargo profile, so `cargo bench -p volta-models
//! --profile dev` measures it without rebuilding it in release.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use volta_models::{Classifier, GbmConfig, GbmModel};

#[path = "common/synthetic.rs"]
mod synthetic;

fn bench(c: &mut Criterion) {
    let train = synthetic::data(
        5000,
        10,
        1,
        NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
        20,
    );
    let validation = synthetic::data(
        1000,
        10,
        2,
        NaiveDate::from_ymd_opt(2017, 1, 1).unwrap(),
        20,
    );
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
