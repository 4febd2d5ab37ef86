//! The LSTM through volta-models: it learns from a sample's history what a row-by-row model
//! cannot, never reads a later session, gives bit-identical probabilities for the same seed,
//! round-trips through safetensors and its sidecar, and runs in the walk-forward.

use chrono::{Days, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{
    Classifier, Dataset, EvaluationConfig, FeatureMatrix, Label, LabelHorizon, Learner,
    LogisticRegression, Lstm, LstmConfig, LstmModel, ModelError, SampleKey, WalkForwardConfig,
    evaluate_walk_forward, roc_auc, walk_forward,
};

const NAMES: [&str; 3] = ["market", "own", "noise"];

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 1, 1).unwrap()
}

/// `sessions` days, two candidates a day: `SPY` (every day) and one named by the day (a new
/// strike every day). `market` is a day-level feature (the same for both candidates, plus a
/// little noise), `own` and `noise` are per row. A trade is profitable when the market
/// feature summed over the **three previous sessions** is positive (90 % of the time): the
/// current row alone says nothing, its history does.
fn history_data(sessions: u64, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let market: Vec<f64> = (0..sessions).map(|_| rng.random_range(-1.0..1.0)).collect();
    let (mut values, mut keys, mut labels) = (vec![], vec![], vec![]);
    for day in 0..sessions {
        let decided = start() + Days::new(day);
        let past: f64 = (1..=3)
            .filter_map(|back| day.checked_sub(back))
            .map(|d| market[d as usize])
            .sum();
        for candidate in ["SPY".to_owned(), format!("SPY {day}")] {
            let m = market[day as usize] + rng.random_range(-0.05..0.05);
            values.extend([m, rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]);
            keys.push(SampleKey {
                decision_date: decided,
                candidate,
            });
            let flipped = rng.random::<f64>() < 0.1;
            let profitable = (past > 0.0) != flipped;
            let horizon = LabelHorizon::try_new(decided, decided + Days::new(4)).unwrap();
            labels.push(
                Label::from_return_on_risk(horizon, if profitable { 0.2 } else { -0.3 }).unwrap(),
            );
        }
    }
    let names = NAMES.iter().map(|&n| n.to_owned()).collect();
    Dataset::try_new(
        FeatureMatrix::try_new(names, "history-1", values).unwrap(),
        keys,
        labels,
    )
    .unwrap()
}

/// Small and quick in a debug build.
fn config(seed: u64) -> LstmConfig {
    LstmConfig {
        sequence_length: 6,
        hidden_size: 12,
        learning_rate: 1e-2,
        batch_size: 64,
        max_epochs: 40,
        patience: 6,
        seed,
        ..LstmConfig::default()
    }
}

fn learner(seed: u64) -> Lstm {
    Lstm {
        config: config(seed),
        validation_sessions: 40,
    }
}

fn rows_before(data: &Dataset, sessions: u64) -> Vec<usize> {
    let end = start() + Days::new(sessions);
    (0..data.len())
        .filter(|&i| data.keys()[i].decision_date < end)
        .collect()
}

#[test]
fn learns_from_the_history_what_the_current_row_does_not_carry() {
    let data = history_data(500, 1);
    let train = rows_before(&data, 350);
    let test: Vec<usize> = (train.len()..data.len()).collect();
    let model = learner(7).fit(&data.subset(&train)).unwrap();
    let targets: Vec<bool> = test
        .iter()
        .map(|&i| data.labels()[i].profitable())
        .collect();
    let lstm_auc = roc_auc(&model.predict_samples(&data, &test).unwrap(), &targets).unwrap();
    let linear = LogisticRegression::default()
        .fit(&data.subset(&train))
        .unwrap();
    let linear_auc = roc_auc(&linear.predict_samples(&data, &test).unwrap(), &targets).unwrap();
    assert!(lstm_auc > 0.8, "LSTM out-of-sample AUC {lstm_auc}");
    assert!(linear_auc < 0.6, "logistic AUC {linear_auc}");
    let meta = model.metadata();
    assert!(meta.best_epoch >= 1 && meta.best_epoch <= meta.epochs_run);
    assert_eq!(meta.feature_names, NAMES);
    assert_eq!(
        meta.training_samples + meta.validation_samples,
        train.len() - 2 * 4
    );
}

#[test]
fn never_reads_a_later_session_in_training_or_scoring() {
    let data = history_data(260, 2);
    let known = rows_before(&data, 200);
    // Everything decided from session 200 on replaced: other features, flipped labels, other
    // candidates.
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut values = data.matrix().values().to_vec();
    let width = NAMES.len();
    for v in &mut values[known.len() * width..] {
        *v = rng.random_range(-50.0..50.0);
    }
    let mut keys = data.keys().to_vec();
    let mut labels = data.labels().to_vec();
    for i in known.len()..data.len() {
        keys[i].candidate = format!("other {i}");
        let flipped = -labels[i].return_on_risk();
        labels[i] = Label::from_return_on_risk(labels[i].horizon(), flipped).unwrap();
    }
    let names = NAMES.iter().map(|&n| n.to_owned()).collect();
    let garbage = Dataset::try_new(
        FeatureMatrix::try_new(names, "history-1", values).unwrap(),
        keys,
        labels,
    )
    .unwrap();

    // Fitted on sessions < 150, validated on 150..200 (both data sets agree there).
    let fit = rows_before(&data, 150);
    let validation: Vec<usize> = (fit.len()..known.len()).collect();
    let model = LstmModel::train(&data, &fit, &validation, &config(3)).unwrap();
    let again = LstmModel::train(&garbage, &fit, &validation, &config(3)).unwrap();
    let scored: Vec<usize> = (100..known.len()).collect();
    let probabilities = model.predict_samples(&data, &scored).unwrap();
    assert_eq!(
        probabilities,
        again.predict_samples(&data, &scored).unwrap()
    );
    assert_eq!(
        probabilities,
        model.predict_samples(&garbage, &scored).unwrap()
    );
    assert_eq!(model.metadata(), again.metadata());
    // The check is not vacuous: the garbage rows themselves score differently.
    let later: Vec<usize> = (known.len()..data.len()).collect();
    assert_ne!(
        model.predict_samples(&data, &later).unwrap(),
        model.predict_samples(&garbage, &later).unwrap()
    );
}

#[test]
fn the_same_seed_gives_bit_identical_probabilities() {
    let data = history_data(200, 3);
    let train = data.subset(&rows_before(&data, 160));
    let rows: Vec<usize> = (0..data.len()).collect();
    let first = learner(11).fit(&train).unwrap();
    let second = learner(11).fit(&train).unwrap();
    let other = learner(12).fit(&train).unwrap();
    let p = first.predict_samples(&data, &rows).unwrap();
    let bits = |p: &[f64]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&p),
        bits(&second.predict_samples(&data, &rows).unwrap())
    );
    assert_ne!(
        bits(&p),
        bits(&other.predict_samples(&data, &rows).unwrap())
    );
    assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
}

#[test]
fn saved_and_loaded_it_gives_the_same_probabilities() {
    let data = history_data(200, 4);
    let train = data.subset(&rows_before(&data, 160));
    let model = learner(5).fit(&train).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lstm.safetensors");
    model.save(&path).unwrap();
    let loaded = LstmModel::load(&path).unwrap();
    assert_eq!(loaded.metadata(), model.metadata());
    let rows: Vec<usize> = (0..data.len()).collect();
    assert_eq!(
        loaded.predict_samples(&data, &rows).unwrap(),
        model.predict_samples(&data, &rows).unwrap()
    );
    assert_eq!(
        loaded.predict_proba(data.matrix()).unwrap(),
        model.predict_proba(data.matrix()).unwrap()
    );
    // One decision scored from its series' history: the same as the series' last row.
    let spy: Vec<usize> = (0..data.len())
        .filter(|&i| data.keys()[i].candidate == "SPY")
        .collect();
    let series = data.matrix().select_rows(&spy);
    // Scored alone rather than in a batch, the matrix kernels sum in another order: equal to
    // f32 rounding, not to the bit.
    let last = *loaded.predict_proba(&series).unwrap().last().unwrap();
    let alone = loaded.score_sequence(&series).unwrap();
    assert!((alone - last).abs() < 1e-6, "{alone} vs {last}");
    let from_dataset = loaded
        .predict_samples(&data, &[*spy.last().unwrap()])
        .unwrap();
    assert_eq!(from_dataset, vec![alone]);

    // A sidecar that describes another network is refused by name.
    let sidecar = dir.path().join("lstm.safetensors.meta.json");
    let json = std::fs::read_to_string(&sidecar).unwrap();
    std::fs::write(
        &sidecar,
        json.replace("\"hidden_size\": 12", "\"hidden_size\": 13"),
    )
    .unwrap();
    let err = LstmModel::load(&path).unwrap_err();
    assert!(
        matches!(err, ModelError::BadModelFile { ref reason, .. } if reason.contains("do not fit")),
        "{err}"
    );
    std::fs::remove_file(&sidecar).unwrap();
    assert!(matches!(
        LstmModel::load(&path).unwrap_err(),
        ModelError::Io { .. }
    ));
}

#[test]
fn refuses_other_columns_and_one_class_training_sets() {
    let data = history_data(200, 6);
    let model = learner(1)
        .fit(&data.subset(&rows_before(&data, 160)))
        .unwrap();
    let renamed = FeatureMatrix::try_new(
        vec!["market".into(), "noise".into(), "own".into()],
        "history-1",
        vec![0.0; 6],
    )
    .unwrap();
    assert!(model.predict_proba(&renamed).is_err());
    let ones: Vec<usize> = (0..data.len())
        .filter(|&i| data.labels()[i].profitable())
        .collect();
    let err = LstmModel::train(&data, &ones[..100], &ones[100..], &config(1)).unwrap_err();
    assert!(err.to_string().contains("both classes"), "{err}");
}

#[test]
fn runs_in_the_walk_forward() {
    let data = history_data(330, 8);
    let folds = walk_forward(
        &data,
        &data.decision_sessions(),
        &WalkForwardConfig {
            train_sessions: 200,
            test_sessions: 60,
            step_sessions: 60,
            embargo_sessions: 0,
        },
    )
    .unwrap();
    assert_eq!(folds.len(), 2);
    let report =
        evaluate_walk_forward(&learner(9), &data, &folds, &EvaluationConfig::default()).unwrap();
    let auc = report.overall.auc.unwrap();
    assert!(auc > 0.75, "walk-forward AUC {auc}");
    assert_eq!(report.predictions.len(), 2 * 60 * 2);
}
