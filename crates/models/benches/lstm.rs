//! Issue 15 §6 for the LSTM: one training epoch over 5 000 sequences of 20 sessions × 220
//! features (goal ≤ 30 s on CPU). Synthetic data: 250 sessions × 20 candidates quoted every
//! day (so each sequence is its candidate's own history), the outcome depending on five
//! features.
//!
//! The measured call is `LstmModel::train` with `max_epochs = 1`: building the sequences,
//! one pass of `AdamW` over 40 mini-batches of 128, and one validation pass over 500 sequences.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use volta_models::{LstmConfig, LstmModel};

#[path = "common/synthetic.rs"]
mod synthetic;

const CANDIDATES: usize = 20;

fn bench(c: &mut Criterion) {
    // 250 training sessions (5 000 sequences), then 25 validation sessions (500).
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let data = synthetic::data(275 * CANDIDATES, CANDIDATES, 1, start, 20);
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
