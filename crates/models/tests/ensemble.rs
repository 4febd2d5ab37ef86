//! Ensembles: members carrying different parts of the signal combine to at least the best of
//! them out of sample; the stacker is fitted on predictions its members made out of sample (a
//! memorising member gets no weight), never on a test window; members of every kind (logistic,
//! LightGBM, LSTM) run together in the walk-forward.

use chrono::{Days, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_models::{
    CalibrationMethod, Classifier, Combination, Combiner, Dataset, Ensemble, EvaluationConfig,
    FeatureMatrix, GbmConfig, GradientBoosting, Label, LabelHorizon, Learner, LogisticConfig,
    LogisticModel, LogisticRegression, Lstm, LstmConfig, Result, SampleKey, WalkForwardConfig,
    evaluate_walk_forward, roc_auc, walk_forward,
};

const NAMES: [&str; 4] = ["x1", "x2", "noise", "id"];

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2018, 1, 1).unwrap()
}

/// `sessions` days × 2 candidates, held 3 days. The outcome is `x1 + x2 + noise > 0`: `x1` and
/// `x2` carry equal, independent parts of it. `id` is unique per row and unrelated to it.
fn data(sessions: u64, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut values, mut keys, mut labels) = (vec![], vec![], vec![]);
    for day in 0..sessions {
        let decided = start() + Days::new(day);
        for candidate in 0..2 {
            let (x1, x2, noise): (f64, f64, f64) = (
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            );
            values.extend([x1, x2, rng.random_range(-1.0..1.0), rng.random::<f64>()]);
            keys.push(SampleKey {
                decision_date: decided,
                candidate: format!("c{candidate}"),
            });
            let horizon = LabelHorizon::try_new(decided, decided + Days::new(3)).unwrap();
            labels.push(Label::from_return_on_risk(horizon, x1 + x2 + 0.8 * noise).unwrap());
        }
    }
    let names = NAMES.iter().map(|&n| n.to_owned()).collect();
    Dataset::try_new(
        FeatureMatrix::try_new(names, "ens-1", values).unwrap(),
        keys,
        labels,
    )
    .unwrap()
}

/// A logistic regression that sees only some columns.
#[derive(Debug, Clone)]
struct OnColumns(Vec<usize>);

#[derive(Debug)]
struct OnColumnsModel(Vec<usize>, LogisticModel);

fn columns(matrix: &FeatureMatrix, which: &[usize]) -> FeatureMatrix {
    let values = (0..matrix.n_rows())
        .flat_map(|i| which.iter().map(move |&j| matrix.row(i)[j]))
        .collect();
    let names = which.iter().map(|&j| matrix.names()[j].clone()).collect();
    FeatureMatrix::try_new(names, matrix.feature_set_version(), values).unwrap()
}

impl Learner for OnColumns {
    type Model = OnColumnsModel;
    fn fit(&self, train: &Dataset) -> Result<OnColumnsModel> {
        let model = LogisticModel::fit(
            &columns(train.matrix(), &self.0),
            &train.targets(),
            &LogisticConfig::default(),
        )?;
        Ok(OnColumnsModel(self.0.clone(), model))
    }
}

impl Classifier for OnColumnsModel {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        self.1.predict_proba(&columns(matrix, &self.0))
    }
}

/// Remembers the outcome of every row it was fitted on by its `id`; any other row gets a
/// pseudo-random probability from its `id`. Perfect in sample, noise out of sample.
#[derive(Debug, Clone, Copy)]
struct Memoriser;

#[derive(Debug)]
struct MemoriserModel(Vec<(u64, bool)>);

impl Learner for Memoriser {
    type Model = MemoriserModel;
    fn fit(&self, train: &Dataset) -> Result<MemoriserModel> {
        let mut seen: Vec<(u64, bool)> = (0..train.len())
            .map(|i| {
                (
                    train.matrix().row(i)[3].to_bits(),
                    train.labels()[i].profitable(),
                )
            })
            .collect();
        seen.sort_unstable();
        Ok(MemoriserModel(seen))
    }
}

impl Classifier for MemoriserModel {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        Ok((0..matrix.n_rows())
            .map(|i| {
                let id = matrix.row(i)[3];
                match self
                    .0
                    .binary_search_by_key(&id.to_bits(), |&(bits, _)| bits)
                {
                    Ok(k) if self.0[k].1 => 0.99,
                    Ok(_) => 0.01,
                    Err(_) => 0.05 + 0.9 * (id * 7919.0).fract(),
                }
            })
            .collect())
    }
}

fn auc_on(model: &impl Classifier, data: &Dataset, rows: &[usize]) -> f64 {
    let targets: Vec<bool> = rows
        .iter()
        .map(|&i| data.labels()[i].profitable())
        .collect();
    roc_auc(&model.predict_samples(data, rows).unwrap(), &targets).unwrap()
}

fn split(data: &Dataset, train_sessions: u64) -> (Vec<usize>, Vec<usize>) {
    let end = start() + Days::new(train_sessions);
    (0..data.len()).partition(|&i| data.keys()[i].decision_date < end)
}

#[test]
fn the_stacked_ensemble_is_at_least_as_good_as_its_best_member() {
    let data = data(700, 1);
    let (train, test) = split(&data, 500);
    let train_set = data.subset(&train);
    let ensemble = Ensemble::new(Combiner::Stacker(LogisticConfig::default()))
        .with_member("x1 only", OnColumns(vec![0]))
        .with_member("x2 only", OnColumns(vec![1]));
    let model = ensemble.fit(&train_set).unwrap();
    let best_member = [vec![0], vec![1]]
        .into_iter()
        .map(|c| auc_on(&OnColumns(c).fit(&train_set).unwrap(), &data, &test))
        .fold(0.0, f64::max);
    let ensemble_auc = auc_on(&model, &data, &test);
    assert!(
        ensemble_auc >= best_member - 0.01,
        "ensemble {ensemble_auc} vs best member {best_member}"
    );
    // Both halves of the signal are used: clearly better than either member.
    assert!(
        ensemble_auc > best_member + 0.05,
        "ensemble {ensemble_auc} vs {best_member}"
    );
    let Combination::Stacker(stacker) = model.combination() else {
        panic!("a stacker was asked for");
    };
    let weights = stacker.standardised_weights();
    assert!(weights[0] > 0.3 && weights[1] > 0.3, "{weights:?}");
    assert!(model.calibrator().is_some());
    // Windows in order: members, then stacking, then calibration, each purged (3-day labels).
    let windows = model.windows();
    let (stacking, calibration) = (windows.stacking.unwrap(), windows.calibration.unwrap());
    assert!(windows.members.last + Days::new(3) < stacking.first);
    assert!(stacking.last + Days::new(3) < calibration.first);
    assert_eq!(calibration.last, start() + Days::new(499));
}

#[test]
fn the_stacker_learns_from_out_of_sample_predictions_so_a_memoriser_gets_no_weight() {
    // Fitted on in-sample predictions, the memoriser would look perfect and take the weight;
    // out of sample it is noise.
    let data = data(600, 2);
    let (train, test) = split(&data, 450);
    let train_set = data.subset(&train);
    let model = Ensemble::new(Combiner::Stacker(LogisticConfig::default()))
        .with_member("honest", OnColumns(vec![0, 1]))
        .with_member("memoriser", Memoriser)
        .fit(&train_set)
        .unwrap();
    let Combination::Stacker(stacker) = model.combination() else {
        panic!("a stacker was asked for");
    };
    let weights = stacker.standardised_weights();
    assert!(weights[1].abs() < 0.25 * weights[0], "{weights:?}");
    let honest = auc_on(
        &OnColumns(vec![0, 1]).fit(&train_set).unwrap(),
        &data,
        &test,
    );
    let ensemble = auc_on(&model, &data, &test);
    assert!(
        ensemble >= honest - 0.01,
        "ensemble {ensemble} vs honest {honest}"
    );
}

#[test]
fn the_test_window_never_reaches_the_weights() {
    // Flipping every label of the last fold's test window (no fold trains on it) must leave
    // every out-of-sample probability bit-identical: nothing fitted saw them.
    let data = data(400, 3);
    let folds = walk_forward(
        &data,
        &data.decision_sessions(),
        &WalkForwardConfig {
            train_sessions: 250,
            test_sessions: 50,
            step_sessions: 50,
            embargo_sessions: 0,
        },
    )
    .unwrap();
    assert_eq!(folds.len(), 3);
    let last = folds.last().unwrap();
    let mut labels = data.labels().to_vec();
    for &i in &last.test {
        let flipped = -labels[i].return_on_risk();
        labels[i] = Label::from_return_on_risk(labels[i].horizon(), flipped).unwrap();
    }
    let flipped = Dataset::try_new(data.matrix().clone(), data.keys().to_vec(), labels).unwrap();
    let ensemble = Ensemble::new(Combiner::Stacker(LogisticConfig::default()))
        .with_member("x1 only", OnColumns(vec![0]))
        .with_member("x2 only", OnColumns(vec![1]));
    let config = EvaluationConfig::default();
    let report = evaluate_walk_forward(&ensemble, &data, &folds, &config).unwrap();
    let again = evaluate_walk_forward(&ensemble, &flipped, &folds, &config).unwrap();
    let probabilities = |r: &volta_models::WalkForwardReport| {
        r.predictions
            .iter()
            .map(|p| p.probability)
            .collect::<Vec<_>>()
    };
    assert_eq!(probabilities(&report), probabilities(&again));
    // The flip is seen where labels are scored: the last fold's AUC mirrors.
    let auc = report.folds[2].metrics.auc.unwrap();
    assert!(auc > 0.75, "{auc}");
    assert!((auc + again.folds[2].metrics.auc.unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn logistic_gbm_and_lstm_members_run_together_in_the_walk_forward() {
    let data = data(420, 4);
    let folds = walk_forward(
        &data,
        &data.decision_sessions(),
        &WalkForwardConfig {
            train_sessions: 340,
            test_sessions: 40,
            step_sessions: 40,
            embargo_sessions: 0,
        },
    )
    .unwrap();
    let gbm = GradientBoosting {
        config: GbmConfig {
            num_iterations: 100,
            min_data_in_leaf: 20,
            ..GbmConfig::default()
        },
        validation_sessions: 40,
    };
    let lstm = Lstm {
        config: LstmConfig {
            sequence_length: 4,
            hidden_size: 8,
            learning_rate: 1e-2,
            batch_size: 64,
            max_epochs: 15,
            ..LstmConfig::default()
        },
        validation_sessions: 40,
    };
    let mut ensemble = Ensemble::new(Combiner::Weights(vec![1.0, 1.0, 1.0]))
        .with_member("logistic", LogisticRegression::default())
        .with_member("gbm", gbm)
        .with_member("lstm", lstm);
    ensemble.calibration = Some(CalibrationMethod::Isotonic);
    ensemble.calibration_sessions = 50;
    let report =
        evaluate_walk_forward(&ensemble, &data, &folds, &EvaluationConfig::default()).unwrap();
    assert_eq!(report.predictions.len(), 2 * 40 * 2);
    assert!(
        report
            .predictions
            .iter()
            .all(|p| (0.0..=1.0).contains(&p.probability))
    );
    let auc = report.overall.auc.unwrap();
    assert!(auc > 0.75, "ensemble walk-forward AUC {auc}");
}
