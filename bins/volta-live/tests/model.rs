//! `volta-live --model promoted`: sim-paper on a replay of the real SPY history with a
//! LightGBM model trained on the years before, retrained at the first close of the next month
//! on a thread of its own, registered, and promoted only when it beats the one trading. Skipped
//! with a message without the data folder, and failing when `CI=true` (`DataDir::test_file`).

#[path = "../../support/trained_model.rs"]
mod trained_model;

use std::process::Command;

use volta_data::store::{ModelRegistry, SqliteStore};
use volta_engine::training::TradingKind;

use crate::trained_model::{Trained, trained};

#[test]
fn sim_paper_trades_with_the_promoted_model_and_retrains_it_monthly() {
    let dir = tempfile::tempdir().unwrap();
    let Some(Trained { store, models }) = trained(
        dir.path(),
        TradingKind::Gbm,
        ("2009-06-01", "2011-12-30"),
        378,
        "gbm-first",
    ) else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_volta-live"))
        .args([
            "--data",
            "store",
            "--start",
            "2012-01-03",
            "--end",
            "2012-02-03",
            "--session-seconds",
            "0",
            "--no-dashboard",
            "--model",
            "promoted",
            "--retrain-years",
            "3",
        ])
        .arg("--store")
        .arg(&store)
        .arg("--models-dir")
        .arg(&models)
        .arg("--journal")
        .arg(dir.path().join("live.db"))
        .env_remove("VOLTA_LIVE_TRADING")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("model: gbm-first (gbm, trained on"),
        "{stdout}"
    );
    // The first close of February retrains, in the background; the run waits for it.
    assert!(
        stdout.contains("retraining gbm-spy-2012-02-01 on 2009-02-01 … 2012-02-01"),
        "{stdout}"
    );
    let registry = SqliteStore::open(&store).unwrap();
    let retrained = registry.model("gbm-spy-2012-02-01").unwrap().unwrap();
    let promoted = registry.promoted_model().unwrap().unwrap();
    if retrained.promoted {
        assert!(
            stdout.contains("retrained gbm-spy-2012-02-01: promoted and now trading"),
            "{stdout}"
        );
    } else {
        assert_eq!(promoted.id, "gbm-first");
        assert!(
            stdout.contains("retrained gbm-spy-2012-02-01: registered, not promoted"),
            "{stdout}"
        );
    }
    // Its metrics are kept per regime, for the dashboard.
    assert!(!retrained.regime_metrics.is_empty());
    assert!(retrained.metrics.contains_key("log_loss"));
    // Exactly one retraining in the month.
    assert_eq!(stdout.matches("retraining gbm-spy").count(), 1, "{stdout}");
}
