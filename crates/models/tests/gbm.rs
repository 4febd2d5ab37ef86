//! LightGBM through volta-models: it learns an interaction a linear model cannot, stops early
//! on noise, round-trips through its file and sidecar, ranks features by importance, and
//! passes the walk-forward leakage guard on shuffled labels.

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{
    Classifier, Dataset, EvaluationConfig, FeatureMatrix, GbmConfig, GbmModel, GradientBoosting,
    Label, LabelHorizon, Learner, LogisticRegression, ModelError, SampleKey, WalkForwardConfig,
    evaluate_walk_forward, roc_auc, walk_forward,
};

const NAMES: [&str; 4] = ["x1", "x2", "noise", "constant"];

/// `sessions` days from `start`, two candidates a day, held 5 days. The outcome is the
/// XOR of the signs of `x1` and `x2` (flipped for 10 % of samples): no single feature and no
/// linear combination carries it, trees do. `shuffle` permutes the outcomes across rows.
fn xor_data(start: NaiveDate, sessions: u64, seed: u64, shuffle: bool) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut values, mut keys, mut horizons, mut returns) = (vec![], vec![], vec![], vec![]);
    for day in 0..sessions {
        let decided = start + Days::new(day);
        for candidate in 0..2 {
            let (x1, x2): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            // A missing value now and then: LightGBM must take it.
            let noise = if rng.random::<f64>() < 0.05 {
                f64::NAN
            } else {
                rng.random_range(-1.0..1.0)
            };
            values.extend([x1, x2, noise, 3.0]);
            keys.push(SampleKey {
                decision_date: decided,
                candidate: format!("c{candidate}"),
            });
            horizons.push(LabelHorizon::try_new(decided, decided + Days::new(5)).unwrap());
            let profitable = (x1 > 0.0) != (x2 > 0.0);
            let flipped = rng.random::<f64>() < 0.1;
            returns.push(if profitable == flipped { -0.4 } else { 0.3 });
        }
    }
    if shuffle {
        returns.shuffle(&mut rng);
    }
    let names = NAMES.iter().map(|&n| n.to_owned()).collect();
    let labels = horizons
        .into_iter()
        .zip(returns)
        .map(|(h, r)| Label::from_return_on_risk(h, r).unwrap())
        .collect();
    Dataset::try_new(
        FeatureMatrix::try_new(names, "xor-1", values).unwrap(),
        keys,
        labels,
    )
    .unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Training (2 000 samples), validation (400) and test (1 000) sets, in that order in time.
fn train_validation_test() -> (Dataset, Dataset, Dataset) {
    (
        xor_data(date(2020, 1, 1), 1000, 1, false),
        xor_data(date(2022, 10, 1), 200, 2, false),
        xor_data(date(2023, 6, 1), 500, 3, false),
    )
}

#[test]
fn learns_an_interaction_that_logistic_regression_cannot() {
    let (train, validation, test) = train_validation_test();
    let model = GbmModel::train(&train, &validation, &GbmConfig::default()).unwrap();
    let gbm_auc = roc_auc(
        &model.predict_proba(test.matrix()).unwrap(),
        &test.targets(),
    )
    .unwrap();
    // 10 % of outcomes flipped: the best possible AUC is ≈ 0.9.
    assert!(gbm_auc > 0.8, "LightGBM AUC {gbm_auc}");
    let logistic = LogisticRegression::default();
    let no_missing = |d: &Dataset| {
        // The logistic baseline refuses NaN: drop the noise column.
        let values = d
            .matrix()
            .values()
            .chunks_exact(4)
            .flat_map(|r| [r[0], r[1]])
            .collect();
        let matrix =
            FeatureMatrix::try_new(vec!["x1".into(), "x2".into()], "xor-1", values).unwrap();
        Dataset::try_new(matrix, d.keys().to_vec(), d.labels().to_vec()).unwrap()
    };
    let linear = logistic.fit(&no_missing(&train)).unwrap();
    let linear_auc = roc_auc(
        &linear.predict_proba(no_missing(&test).matrix()).unwrap(),
        &test.targets(),
    )
    .unwrap();
    assert!((linear_auc - 0.5).abs() < 0.06, "logistic AUC {linear_auc}");
    let metrics = &model.metadata().validation_metrics;
    assert!(
        metrics.auc.unwrap() > 0.8 && metrics.log_loss < 0.6,
        "{metrics:?}"
    );
}

#[test]
fn early_stopping_ends_soon_on_noise_and_training_is_deterministic() {
    let train = xor_data(date(2020, 1, 1), 1000, 1, true);
    let validation = xor_data(date(2022, 10, 1), 200, 2, true);
    let config = GbmConfig {
        num_iterations: 1000,
        early_stopping_rounds: 20,
        ..GbmConfig::default()
    };
    let model = GbmModel::train(&train, &validation, &config).unwrap();
    // Nothing to learn: the validation loss is best within a few rounds, and training stops
    // 20 rounds later, rolled back to the best.
    assert!(
        model.metadata().iterations < 60,
        "{} rounds kept",
        model.metadata().iterations
    );
    let again = GbmModel::train(&train, &validation, &config).unwrap();
    let (_, _, test) = train_validation_test();
    assert_eq!(
        model.predict_proba(test.matrix()).unwrap(),
        again.predict_proba(test.matrix()).unwrap()
    );
    assert_eq!(model.metadata(), again.metadata());
}

#[test]
fn save_and_load_round_trip_with_the_sidecar() {
    let (train, validation, test) = train_validation_test();
    let model = GbmModel::train(&train, &validation, &GbmConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gbm.txt");
    model.save(&path).unwrap();
    let loaded = GbmModel::load(&path).unwrap();
    assert_eq!(loaded.metadata(), model.metadata());
    assert_eq!(
        loaded.predict_proba(test.matrix()).unwrap(),
        model.predict_proba(test.matrix()).unwrap()
    );

    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("gbm.txt.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["feature_names"], serde_json::json!(NAMES));
    assert_eq!(sidecar["feature_set_version"], "xor-1");
    assert_eq!(sidecar["training_range"]["first"], "2020-01-01");
    assert_eq!(sidecar["training_range"]["last"], "2022-09-26");
    assert_eq!(sidecar["validation_range"]["first"], "2022-10-01");
    assert_eq!(sidecar["training_samples"], 2000);
    assert_eq!(sidecar["parameters"]["objective"], "binary");
    assert_eq!(sidecar["parameters"]["num_leaves"], 15);
    assert_eq!(sidecar["data_fingerprints"][0], train.fingerprint());
    assert_eq!(sidecar["validation_metrics"]["samples"], 400);

    // A sidecar that does not describe the model file is refused.
    let mut wrong = sidecar.clone();
    wrong["feature_names"] = serde_json::json!(["x1", "x2", "noise"]);
    std::fs::write(dir.path().join("gbm.txt.meta.json"), wrong.to_string()).unwrap();
    let err = GbmModel::load(&path).unwrap_err();
    assert!(
        err.to_string().contains("the model file has 4 features"),
        "{err}"
    );
    // So is a missing model file, by its path.
    let err = GbmModel::load(&dir.path().join("absent.txt")).unwrap_err();
    assert!(
        matches!(&err, ModelError::Io { path, .. } if path.ends_with("absent.txt.meta.json")),
        "{err}"
    );
}

#[test]
fn importance_ranks_the_interacting_features_first_and_the_constant_last() {
    let (train, validation, test) = train_validation_test();
    let model = GbmModel::train(&train, &validation, &GbmConfig::default()).unwrap();
    let table = model.importance().unwrap();
    let order: Vec<&str> = table.iter().map(|row| row.feature.as_str()).collect();
    assert_eq!(order.len(), 4);
    assert!(
        order[..2].contains(&"x1") && order[..2].contains(&"x2"),
        "{table:?}"
    );
    assert_eq!(order[3], "constant");
    assert_eq!((table[3].gain, table[3].splits), (0.0, 0));
    assert!(
        table[0].splits > 0 && table[1].gain > 3.0 * table[2].gain,
        "{table:?}"
    );
    // A matrix with other columns is refused, not scored.
    let renamed = FeatureMatrix::try_new(
        vec!["x1".into(), "x2".into(), "noise".into(), "other".into()],
        "xor-1",
        test.matrix().values().to_vec(),
    )
    .unwrap();
    assert!(
        model
            .predict_proba(&renamed)
            .unwrap_err()
            .to_string()
            .contains("`other`")
    );
}

#[test]
fn walk_forward_with_shuffled_labels_stays_near_an_auc_of_one_half() {
    // 567 + 10 · 21 sessions: 11 folds of the walk-forward, 462 scored samples.
    let data = xor_data(date(2015, 1, 1), 777, 9, true);
    let folds = walk_forward(
        &data,
        &data.decision_sessions(),
        &WalkForwardConfig::default(),
    )
    .unwrap();
    assert_eq!(folds.len(), 11);
    let report = evaluate_walk_forward(
        &GradientBoosting::default(),
        &data,
        &folds,
        &EvaluationConfig::default(),
    )
    .unwrap();
    let auc = report.overall.auc.unwrap();
    // 4σ of the null AUC at 462 samples (n₊ ≈ n₋): 4·√(463 / (12·231²)) ≈ 0.107.
    let positives = report.overall.positives as f64;
    let negatives = report.overall.samples as f64 - positives;
    let band = 4.0 * ((positives + negatives + 1.0) / (12.0 * positives * negatives)).sqrt();
    assert!(
        (auc - 0.5).abs() < band,
        "AUC {auc} outside 0.5 ± {band:.3}"
    );
    assert!(report.is_clean(), "{:?}", report.leakage);
}
