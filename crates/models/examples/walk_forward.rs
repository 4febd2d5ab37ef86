//! The purged walk-forward on synthetic trades over real NYSE sessions (2017–2023): the
//! logistic baseline (Platt-calibrated on validation windows) against LightGBM, per fold and
//! overall, with the calibration curves and LightGBM's importance written as SVG.
//!
//! ```text
//! cargo run --release -p volta-models --example walk_forward -- [OUT_DIR]
//! ```
//!
//! The data are made up (an outcome that depends on two of six features, one of them through
//! an interaction), so the figures say what the machinery does, not what a model of real
//! trades will reach: those need labels from the engine's simulation.

use std::path::PathBuf;

use chrono::NaiveDate;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use volta_core::NyseCalendar;
use volta_models::{
    CalibrationMethod, Dataset, EvaluationConfig, FeatureMatrix, GbmModel, GradientBoosting, Label,
    LabelHorizon, Learner, LogisticRegression, SampleKey, WalkForwardConfig, WalkForwardReport,
    calibration_svg, evaluate_walk_forward, importance_svg, walk_forward,
};

const NAMES: [&str; 6] = [
    "iv_rank",
    "term_slope",
    "rv_ratio",
    "noise_1",
    "noise_2",
    "noise_3",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/models-example".into()),
    );
    std::fs::create_dir_all(&out)?;
    let sessions = NyseCalendar.sessions_between(
        NaiveDate::from_ymd_opt(2017, 1, 3).expect("a date"),
        NaiveDate::from_ymd_opt(2023, 12, 29).expect("a date"),
    )?;
    let data = synthetic(&sessions);
    let folds = walk_forward(&data, &sessions, &WalkForwardConfig::default())?;
    println!(
        "{} samples, {} sessions, {} folds (504 / 63 / 21, embargo 5)",
        data.len(),
        sessions.len(),
        folds.len()
    );

    let platt = EvaluationConfig {
        calibration: Some(CalibrationMethod::Platt),
        ..EvaluationConfig::default()
    };
    let logistic = evaluate_walk_forward(&LogisticRegression::default(), &data, &folds, &platt)?;
    let boosting = GradientBoosting::default();
    let gbm = evaluate_walk_forward(&boosting, &data, &folds, &EvaluationConfig::default())?;

    println!("\nfold  test window               train  purged  AUC logistic  AUC LightGBM");
    for (l, g) in logistic.folds.iter().zip(&gbm.folds) {
        println!(
            "{:>4}  {} – {}  {:>5}  {:>6}  {:>12.3}  {:>12.3}",
            l.index,
            l.test_window.first,
            l.test_window.last,
            g.train_samples,
            g.purged,
            l.metrics.auc.unwrap_or(f64::NAN),
            g.metrics.auc.unwrap_or(f64::NAN)
        );
    }
    summarise("logistic (Platt)", &logistic);
    summarise("LightGBM", &gbm);

    std::fs::write(
        out.join("calibration-logistic.svg"),
        calibration_svg(
            &logistic.overall.calibration,
            "Logistic regression, Platt-calibrated: out-of-sample calibration",
            560,
            460,
        )?,
    )?;
    std::fs::write(
        out.join("calibration-lightgbm.svg"),
        calibration_svg(
            &gbm.overall.calibration,
            "LightGBM: out-of-sample calibration",
            560,
            460,
        )?,
    )?;
    // Importance of one model trained on everything but the last year (early-stopped on it).
    let cut = data
        .keys()
        .iter()
        .position(|k| k.decision_date.format("%Y").to_string() == "2023")
        .unwrap_or(data.len());
    let model: GbmModel = boosting.fit(&data.subset(&(0..cut).collect::<Vec<_>>()))?;
    std::fs::write(
        out.join("importance-lightgbm.svg"),
        importance_svg(&model.importance()?, 6, "LightGBM: share of gain", 560, 300)?,
    )?;
    println!("\ncharts in {}", out.display());
    Ok(())
}

fn summarise(name: &str, report: &WalkForwardReport) {
    let overall = &report.overall;
    println!(
        "{name:<18} overall out-of-sample: {} samples, AUC {:.3}, log loss {:.3}, Brier {:.3}, ECE {:.3}; leakage flags: {}",
        overall.samples,
        overall.auc.unwrap_or(f64::NAN),
        overall.log_loss,
        overall.brier,
        overall.expected_calibration_error,
        report.leakage.len()
    );
}

/// Three candidates a session held 15 sessions; return on risk = 0.5·`iv_rank` +
/// 0.6·[`term_slope` > 0 and `rv_ratio` < 0] + uniform noise on [−1, 1] − 0.3.
fn synthetic(sessions: &[NaiveDate]) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let (mut values, mut keys, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (s, &date) in sessions.iter().enumerate() {
        for candidate in 0..3 {
            let row: [f64; 6] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
            let interaction = if row[1] > 0.0 && row[2] < 0.0 {
                0.6
            } else {
                0.0
            };
            let return_on_risk = 0.5 * row[0] + interaction + rng.random_range(-1.0..1.0) - 0.3;
            values.extend(row);
            keys.push(SampleKey {
                decision_date: date,
                candidate: format!("candidate {candidate}"),
            });
            let horizon = LabelHorizon::try_new(date, sessions[(s + 15).min(sessions.len() - 1)])
                .expect("exit after entry");
            labels.push(Label::from_return_on_risk(horizon, return_on_risk).expect("finite"));
        }
    }
    let names = NAMES.iter().map(|&n| n.to_owned()).collect();
    Dataset::try_new(
        FeatureMatrix::try_new(names, "example-1", values).expect("6 columns"),
        keys,
        labels,
    )
    .expect("rows in date order")
}
