//! The MLflow client against a real tracking server: `mlflow server` (the `mlflow` package from `PyPI`, installed by
//! `scripts/setup.sh`) on a free port of 127.0.0.1 with a SQLite backend and proxied artefacts
//! in a temporary folder. Skipped with a message where `mlflow` is missing, except under
//! `CI=true`, where it fails.

#[path = "../support/mlflow_server.rs"]
mod mlflow_server;

use serde_json::Value;
use volta_monitor::mlflow::{MetricPoint, MlflowClient, RunStatus};

use self::mlflow_server::{get, start};

#[test]
fn a_run_logs_parameters_metrics_and_artefacts_that_the_server_keeps() {
    let Some(server) = start() else { return };
    let client = MlflowClient::new(&server.url, None).unwrap();
    let t0 = 1_733_580_000_000;
    let run = client
        .start_run(
            "volta walk-forward",
            "gbm SPY",
            &[("volta.kind", "gbm")],
            t0,
        )
        .unwrap();
    // The experiment is found, not created again, by a second run.
    let second = client
        .start_run("volta walk-forward", "lstm SPY", &[], t0)
        .unwrap();
    assert_eq!(second.experiment_id, run.experiment_id);

    client
        .log_params(
            &run,
            &[
                ("num_leaves", "31".into()),
                ("train_sessions", "504".into()),
            ],
        )
        .unwrap();
    let folds = [0.55, 0.61, 0.58];
    let points: Vec<MetricPoint<'_>> = (0i64..)
        .zip(folds)
        .map(|(step, auc)| MetricPoint {
            key: "auc",
            value: auc,
            step,
            timestamp_ms: t0 + step,
        })
        .collect();
    client.log_metrics(&run, &points).unwrap();
    let html = b"<html><body>walk-forward</body></html>";
    client
        .log_artifact(&run, "report/report.html", html)
        .unwrap();
    client
        .end_run(&run, RunStatus::Finished, t0 + 60_000)
        .unwrap();

    let (status, body) = get(&format!(
        "{}/api/2.0/mlflow/runs/get?run_id={}",
        server.url, run.run_id
    ))
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["run"]["info"]["status"], "FINISHED");
    let params = v["run"]["data"]["params"].as_array().unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["key"] == "num_leaves" && p["value"] == "31")
    );
    // The latest value of a metric is its last step's.
    let metrics = v["run"]["data"]["metrics"].as_array().unwrap();
    assert!(
        metrics
            .iter()
            .any(|m| m["key"] == "auc" && m["value"] == 0.58 && m["step"] == 2)
    );
    let (_, history) = get(&format!(
        "{}/api/2.0/mlflow/metrics/get-history?run_id={}&metric_key=auc",
        server.url, run.run_id
    ))
    .unwrap();
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history["metrics"].as_array().unwrap().len(), 3);

    let root = run.artifact_uri.strip_prefix("mlflow-artifacts:/").unwrap();
    let (status, stored) = get(&format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{root}/report/report.html",
        server.url
    ))
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(stored.as_bytes(), html);

    // A server that refuses says why, in the error.
    let err = client
        .log_params(&run, &[("num_leaves", "63".into())])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("MLflow (log parameters): HTTP 400"),
        "{err}"
    );
}
