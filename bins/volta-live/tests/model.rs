//! `volta-live --model promoted`: sim-paper on a replay of the real SPY history with a
//! LightGBM model trained on the years before, retrained at the first close of the next month
//! on a thread of its own, registered, and promoted only when it beats the one trading. Skipped
//! with a message without the data folder, and failing when `CI=true` (`DataDir::test_file`).

use std::process::Command;

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_data::store::{ModelRegistry, SqliteStore};
use volta_engine::training::{DailySource, Promotion, TrainConfig, train_model};
use volta_engine::validation::{WalkForwardConfig, import_history};
use volta_engine::{Backtest, BacktestConfig, DataChoice};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn sim_paper_trades_with_the_promoted_model_and_retrains_it_monthly() {
    if DataDir::test_file("underlying/SPY_daily_unadjusted.csv").is_none() {
        return;
    }
    let data = DataDir::from_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.db");
    let models = dir.path().join("models");
    import_history(&data, &store, "SPY").unwrap();
    let backtest = Backtest {
        config: BacktestConfig::default(),
        config_text: None,
        start: date("2009-06-01"),
        end: date("2011-12-30"),
        data: DataChoice::Store(store.clone()),
        journal: dir.path().join("labels.sqlite"),
    };
    let features = DailySource {
        data: data.clone(),
        symbol: "SPY".into(),
        chains_from: None,
    };
    let now = date("2011-12-30").and_hms_opt(16, 0, 0).unwrap();
    let config = TrainConfig {
        walk_forward: WalkForwardConfig {
            train_sessions: 378,
            test_sessions: 63,
            step_sessions: 63,
            embargo_sessions: 2,
        },
        promotion: Promotion::Always,
        ..TrainConfig::new(backtest, features, models.clone(), "gbm-first", now).unwrap()
    };
    let trained = train_model(&config, &mut |_| {}).unwrap();
    assert!(trained.record.promoted);
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
        .arg("--data-dir")
        .arg(data.root())
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
