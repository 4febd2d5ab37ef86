//! The benches' synthetic data set: 220 uniform features, the outcome depending on five of
//! them (three linearly, two through their product) plus noise.

use chrono::{Days, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{Dataset, FeatureMatrix, Label, LabelHorizon, SampleKey};

/// Columns of the data set.
const FEATURES: usize = 220;

/// `rows` samples, `per_day` candidates (`c0`, `c1`, …) a session from `start`, each held
/// `horizon_days`, drawn from `seed`.
pub(crate) fn data(
    rows: usize,
    per_day: usize,
    seed: u64,
    start: NaiveDate,
    horizon_days: u64,
) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(rows * FEATURES);
    let (mut keys, mut labels) = (Vec::new(), Vec::new());
    for row in 0..rows {
        let x: Vec<f64> = (0..FEATURES).map(|_| rng.random_range(-1.0..1.0)).collect();
        let signal = x[0] + 0.5 * x[1] - 0.5 * x[2] + f64::from(u8::from(x[3] * x[4] > 0.0)) - 0.5;
        let decided = start + Days::new((row / per_day) as u64);
        keys.push(SampleKey {
            decision_date: decided,
            candidate: format!("c{}", row % per_day),
        });
        let horizon = LabelHorizon::try_new(decided, decided + Days::new(horizon_days)).unwrap();
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
