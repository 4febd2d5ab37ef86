//! `volta-backtest --model`: the adaptive strategy's openings filtered by a registered model
//! on a year of the real SPY history (modelled chains). Skipped with a message without the
//! data folder, and failing when `CI=true` (`DataDir::test_file`).

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_engine::training::{DailySource, Promotion, TradingKind, TrainConfig, train_model};
use volta_engine::validation::{WalkForwardConfig, import_history};
use volta_engine::{Backtest, BacktestConfig, DataChoice};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn backtest_2013(dir: &Path, name: &str, model: &[&str]) -> (Output, String) {
    let out = dir.join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_volta-backtest"))
        .args([
            "--data",
            "store",
            "--start",
            "2013-01-02",
            "--end",
            "2013-12-31",
            "--underlyings",
            "SPY",
        ])
        .arg("--store")
        .arg(dir.join("history.db"))
        .arg("--journal")
        .arg(dir.join(format!("{name}.sqlite")))
        .arg("--out")
        .arg(&out)
        .arg("--models-dir")
        .arg(dir.join("models"))
        .args(model)
        .output()
        .unwrap();
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap_or_default();
    (output, trades)
}

#[test]
fn the_promoted_model_filters_the_openings() {
    if DataDir::test_file("underlying/SPY_daily_unadjusted.csv").is_none() {
        return;
    }
    let data = DataDir::from_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.db");
    import_history(&data, &store, "SPY").unwrap();
    let backtest = Backtest {
        config: BacktestConfig::default(),
        config_text: None,
        start: date("2010-01-04"),
        end: date("2012-12-31"),
        data: DataChoice::Store(store.clone()),
        journal: dir.path().join("labels.sqlite"),
    };
    let features = DailySource {
        data: data.clone(),
        symbol: "SPY".into(),
        chains_from: None,
    };
    let now = date("2012-12-31").and_hms_opt(16, 0, 0).unwrap();
    let models = dir.path().join("models");
    let config = TrainConfig {
        kind: TradingKind::Logistic,
        walk_forward: WalkForwardConfig {
            train_sessions: 504,
            test_sessions: 63,
            step_sessions: 63,
            embargo_sessions: 2,
        },
        promotion: Promotion::Always,
        ..TrainConfig::new(backtest, features, models, "logistic-2012", now).unwrap()
    };
    train_model(&config, &mut |_| {}).unwrap();
    let data_dir = data.root().to_str().unwrap().to_owned();
    let with = |min: &str| {
        [
            "--model",
            "promoted",
            "--min-score",
            min,
            "--data-dir",
            &data_dir,
        ]
        .map(str::to_owned)
    };
    let (plain, all_trades) = backtest_2013(dir.path(), "plain", &[]);
    assert!(plain.status.success(), "{plain:?}");
    let (filtered, filtered_trades) = backtest_2013(
        dir.path(),
        "filtered",
        &with("0.5").each_ref().map(String::as_str),
    );
    let stdout = String::from_utf8_lossy(&filtered.stdout);
    assert!(filtered.status.success(), "{filtered:?}");
    assert!(
        stdout.contains(
            "model logistic-2012: openings below 0.5 not taken; 0 proposals on days without features"
        ),
        "{stdout}"
    );
    // The model takes fewer trades than the strategy alone (2013: 10 closed unfiltered).
    assert!(
        filtered_trades.lines().count() < all_trades.lines().count(),
        "{filtered_trades}\n---\n{all_trades}"
    );
    // With a threshold of 0 every scored opening passes: the unfiltered trades exactly.
    let (open, open_trades) = backtest_2013(
        dir.path(),
        "open",
        &with("0").each_ref().map(String::as_str),
    );
    assert!(open.status.success(), "{open:?}");
    assert_eq!(open_trades, all_trades);
    // An unknown model is refused by name before anything runs.
    let (unknown, _) = backtest_2013(
        dir.path(),
        "unknown",
        &["--model", "nope", "--data-dir", &data_dir],
    );
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("model nope: not in the registry"),
        "{unknown:?}"
    );
}
