//! `volta-train labels` and `volta-train validate` end to end: real processes on a slice of the
//! real SPY history (chains modelled on the real bars and VIX, as the backtester does), their
//! JSON and HTML read back. Without the data folder these tests are skipped with a message,
//! and fail when `CI=true` (`DataDir::test_file`).

#[path = "../../../crates/monitor/tests/support/mlflow_server.rs"]
mod mlflow_server;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use volta_data::DataDir;

fn data_dir() -> Option<std::path::PathBuf> {
    DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    Some(DataDir::from_env().root().to_path_buf())
}

fn run(args: &[&str], data: &Path, store: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_volta-train"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Labels of February–March 2020: every label's horizon starts on or after its decision,
/// its return on risk is its P&L over its capital at risk, and every candidate is accounted
/// for.
#[test]
fn labels_of_the_2020_crash() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("labels.json");
    let stdout = run(
        &[
            "labels",
            "--start",
            "2020-02-03",
            "--end",
            "2020-03-31",
            "--out",
            out.to_str().unwrap(),
        ],
        &data,
        &dir.path().join("history.db"),
    );
    assert!(stdout.contains("candidates"), "{stdout}");
    let doc = read(&out);
    let labels = doc["labels"].as_array().unwrap();
    assert!(!labels.is_empty(), "{doc}");
    let count = |k: &str| doc[k].as_u64().unwrap();
    assert_eq!(
        count("candidates"),
        labels.len() as u64 + count("unfilled") + count("rejected") + count("open_at_end")
    );
    for l in labels {
        let (decided, entry, exit) = (
            l["decision_date"].as_str().unwrap(),
            l["entry"].as_str().unwrap(),
            l["exit"].as_str().unwrap(),
        );
        assert!(decided <= entry && entry <= exit, "{l}");
        let (pnl, risk, ror) = (
            l["pnl"].as_f64().unwrap(),
            l["capital_at_risk"].as_f64().unwrap(),
            l["return_on_risk"].as_f64().unwrap(),
        );
        assert!(risk > 0.0 && (pnl / risk - ror).abs() < 1e-12, "{l}");
        assert_eq!(l["profitable"].as_bool().unwrap(), pnl > 0.0);
        assert_eq!(l["underlying"], "SPY");
    }
}

/// The walk-forward report of 2010–2012 on short windows (train 504 / test 63 / step 63, so
/// that a debug build finishes; the default isotonic calibration; a busy stretch, where the
/// regime table trades often enough for every fold to hold its carved windows): its
/// structure, per-fold lines, the models' scores in range, the filtered and unfiltered
/// backtests and the yardsticks, and the HTML with its charts.
#[test]
fn validate_writes_the_walk_forward_report() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let stdout = run(
        &[
            "validate",
            "--start",
            "2010-01-04",
            "--end",
            "2012-12-31",
            "--train",
            "504",
            "--test",
            "63",
            "--step",
            "63",
            "--embargo",
            "2",
            "--search-trials",
            "2",
            "--out",
        ]
        .iter()
        .copied()
        .chain([out.to_str().unwrap()])
        .collect::<Vec<_>>(),
        &data,
        &dir.path().join("history.db"),
    );
    assert!(
        stdout.contains("logistic") && stdout.contains("gbm"),
        "{stdout}"
    );
    let doc = read(&out.join("validation.json"));
    assert_eq!(doc["symbol"], "SPY");
    assert_eq!(doc["walk_forward"], serde_json::json!([504, 63, 63, 2]));
    assert_eq!(doc["calibration"], "isotonic", "{doc}");
    let folds = doc["folds"].as_u64().unwrap();
    assert!(folds >= 3, "{doc}");
    let models = doc["models"].as_array().unwrap();
    // The default models: the two row models and their stacked ensemble.
    assert_eq!(models.len(), 3);
    for (m, name) in models.iter().zip(["logistic", "gbm", "ensemble"]) {
        assert_eq!(m["model"], name);
        assert_eq!(m["folds"].as_array().unwrap().len() as u64, folds);
        let overall = &m["overall"];
        let auc = overall["auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{overall}");
        let brier = overall["brier"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&brier), "{overall}");
        assert!(overall["log_loss"].as_f64().unwrap() > 0.0);
        assert!(!overall["calibration"].as_array().unwrap().is_empty());
        // No leakage in honest features.
        assert_eq!(m["leakage"], serde_json::json!([]), "{name}");
    }
    assert!(
        models[1]["importance"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    );
    // LightGBM searched inside each fold's training window: one search per fold, at most two
    // trials each, and at least one window chose its settings.
    let search = &models[1]["search"];
    let count = |k: &str| search[k].as_u64().unwrap();
    assert_eq!(count("searches"), folds, "{search}");
    assert!(
        count("trials") <= 2 * folds && count("fell_back") < folds,
        "{search}"
    );
    assert!(models[0]["search"].is_null());
    let l = &doc["labels"];
    let n = |k: &str| l[k].as_u64().unwrap();
    assert_eq!(
        n("candidates"),
        n("labelled") + n("unfilled") + n("rejected") + n("open_at_end")
    );
    assert_eq!(n("samples"), n("labelled") - n("without_features"));
    let names: Vec<&str> = doc["backtests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    for want in [
        "adaptive",
        "adaptive+logistic",
        "adaptive+gbm",
        "adaptive+ensemble",
        "put_write",
        "buy_and_hold",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    // The filtered runs say how many openings they scored and how many the fold models'
    // table did not hold.
    for b in doc["backtests"].as_array().unwrap() {
        let filtered = b["name"].as_str().unwrap().starts_with("adaptive+");
        assert_eq!(b["scored"].is_array(), filtered, "{b}");
    }
    let html = std::fs::read_to_string(out.join("validation.html")).unwrap();
    assert!(html.contains("Walk-forward validation"));
    assert!(
        html.matches("<svg").count() >= 3,
        "two calibration curves and the importance"
    );
}

/// `volta-train train` end to end: a LightGBM model on 2009-06 → 2011-12 promoted outright,
/// then a logistic regression on 2010 → 2012 promoted only if it beats it on the samples
/// decided after the LightGBM model's training data; both saved, registered and listed.
#[test]
fn train_saves_registers_and_promotes_by_the_latest_window() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.db");
    let models = dir.path().join("models");
    let train = |args: &[&str]| {
        let mut all = vec!["train", "--models-dir", models.to_str().unwrap()];
        all.extend_from_slice(args);
        run(&all, &data, &store)
    };
    let first = train(&[
        "--kind",
        "gbm",
        "--start",
        "2009-06-01",
        "--end",
        "2011-12-30",
        "--train",
        "378",
        "--test",
        "63",
        "--step",
        "63",
        "--embargo",
        "2",
        "--promote",
        "always",
    ]);
    assert!(
        first.contains("no promoted model to compare with"),
        "{first}"
    );
    assert!(first.contains("registered and promoted"), "{first}");
    let manifest = read(&models.join("gbm-spy-2011-12-30/model.json"));
    assert_eq!(manifest["kind"], "gbm");
    // The modelled chain history starts 400 days before the labels, as the features did.
    assert_eq!(manifest["chains_from"], "2008-04-27");
    assert!(models.join("gbm-spy-2011-12-30/gbm.txt").is_file());
    let second = train(&[
        "--kind",
        "logistic",
        "--start",
        "2010-01-04",
        "--end",
        "2012-12-31",
        "--train",
        "504",
        "--test",
        "63",
        "--step",
        "63",
        "--embargo",
        "2",
        "--promote",
        "if-better",
    ]);
    assert!(
        second.contains("since gbm-spy-2011-12-30 was trained (2011-12-"),
        "{second}"
    );
    // Promoted exactly when its log loss is the lower one.
    let losses: Vec<f64> = second
        .lines()
        .find(|l| l.starts_with("since "))
        .unwrap()
        .split("log loss ")
        .nth(1)
        .unwrap()
        .split(" vs ")
        .map(|s| s.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    let promoted = second.contains("registered and promoted");
    assert_eq!(promoted, losses[0] < losses[1], "{second}");
    let list = Command::new(env!("CARGO_BIN_EXE_volta-train"))
        .args(["list", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let marked = |id: &str| {
        list.lines()
            .find(|l| l.contains(id))
            .is_some_and(|l| l.trim_start().starts_with('*'))
    };
    assert_eq!(marked("logistic-spy-2012-12-31"), promoted, "{list}");
    assert_eq!(marked("gbm-spy-2011-12-30"), !promoted, "{list}");
    // The LSTM is not a trading model, and says why.
    let out = Command::new(env!("CARGO_BIN_EXE_volta-train"))
        .args(["train", "--kind", "lstm"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("logistic or gbm"));
}

/// With `MLFLOW_TRACKING_URI` set, `train` logs its run to a real `mlflow server` started
/// here: the parameters, the metrics (overall and per regime) and the model's files, read
/// back through the server's REST API.
#[test]
fn train_logs_its_run_to_mlflow() {
    let Some(data) = data_dir() else { return };
    let Some(server) = mlflow_server::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_volta-train"))
        .args([
            "train",
            "--kind",
            "logistic",
            "--start",
            "2010-01-04",
            "--end",
            "2012-12-31",
            "--train",
            "504",
            "--test",
            "63",
            "--step",
            "63",
            "--embargo",
            "2",
        ])
        .arg("--models-dir")
        .arg(dir.path().join("models"))
        .arg("--data-dir")
        .arg(&data)
        .arg("--store")
        .arg(dir.path().join("history.db"))
        .env("MLFLOW_TRACKING_URI", &server.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_id = stdout
        .split("(run ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("{stdout}"));
    let (status, body) = mlflow_server::get(&format!(
        "{}/api/2.0/mlflow/runs/get?run_id={run_id}",
        server.url
    ))
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    let data_of = |kind: &str| -> Vec<(String, Value)> {
        run["run"]["data"][kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["key"].as_str().unwrap().to_owned(), p["value"].clone()))
            .collect()
    };
    let params = data_of("params");
    assert!(
        params.contains(&("kind".into(), "logistic".into())),
        "{params:?}"
    );
    assert!(
        params.contains(&("train_to".into(), "2012-12-12".into())),
        "{params:?}"
    );
    let metrics = data_of("metrics");
    let metric = |k: &str| {
        metrics
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_f64().unwrap())
    };
    // The metrics are the registry's: the printed AUC, and per regime.
    let auc = metric("auc").unwrap();
    assert!(
        stdout.contains(&format!("out-of-sample AUC {auc:.3}")),
        "{stdout}"
    );
    assert!(
        metric("neutral.samples").is_some_and(|n| n > 0.0),
        "{metrics:?}"
    );
    assert_eq!(run["run"]["info"]["status"], "FINISHED");
    // The model's manifest, as saved, among the run's artefacts.
    let root = run["run"]["info"]["artifact_uri"]
        .as_str()
        .and_then(|u| u.strip_prefix("mlflow-artifacts:/"))
        .unwrap()
        .to_owned();
    let (status, body) = mlflow_server::get(&format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{root}/model/model.json",
        server.url
    ))
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let manifest: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(manifest["kind"], "logistic");
}
