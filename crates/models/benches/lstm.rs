//! Issue 15 §6 for the LSTM: one training epoch over 5 000 sequences of 20 sessions × 220
//! features (goal ≤ 30 s on CPU). Synthetic data: 250 sessions × 20 candidates quoted every
//! day (so each sequence is its candidate's own history), the outcome depending on five
//! features.
//!
//! The measured call is `LstmModel::train` with `max_epochs = 1`: building the sequences,
//! one pass of `AdamW` over 40 mini-batches of 128, and one validation pass over 500 sequences.

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{Dataset, FeatureMatrix, Label, LabelHorizon, LstmConfig, LstmModel, SampleKey};

const FEATURES: usize = 220;
const CANDIDATES: usize = 20;

fn data(sessions: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let rows = sessions * CANDIDATES;
    let mut values = Vec::with_capacity(rows * FEATURES);
    let (mut keys, mut labels) = (Vec::new(), Vec::new());
    for row in 0..rows {
        let x: Vec<f64> = (0..FEATURES).map(|_| rng.random_range(-1.0..1.0)).collect();
        let signal = x[0] + 0.5 * x[1] - 0.5 * x[2] + f64::from(u8::from(x[3] * x[4] > 0.0)) - 0.5;
        let decided = start + Days::new((row / CANDIDATES) as u64);
        keys.push(SampleKey {
            decision_date: decided,
            candidate: format!("c{}", row % CANDIDATES),
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
    // 250 training sessions (5 000 sequences), then 25 validation sessions (500).
    let data = data(275);
    let fit: Vec<usize> = (0..5000).collect();
    let validation: Vec<usize> = (5000..5500).collect();
    let config = LstmConfig {
        max_epochs: 1,
        ..LstmConfig::default()
    };
    let mut group = c.benchmark_group("lstm");
    group.sample_size(10);
    group.bench_function("epoch_5000_sequences_20x220", |b| {
        b.iter(|| LstmModel::train(black_box(&data), &fit, &validation, &config).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
