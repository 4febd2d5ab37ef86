//! `volta-backtest --model`: the adaptive strategy's openings filtered by a registered model
//! on a year of the real SPY history (modelled chains). Skipped with a message without the
//! data folder, and failing when `CI=true` (`DataDir::test_file`).

#[path = "../../support/trained_model.rs"]
mod trained_model;

use std::path::Path;
use std::process::{Command, Output};

use volta_engine::training::TradingKind;

use crate::trained_model::{Trained, trained};

fn backtest_2013(dir: &Path, t: &Trained, name: &str, model: &[&str]) -> (Output, String) {
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
        .arg(&t.store)
        .arg("--journal")
        .arg(dir.join(format!("{name}.sqlite")))
        .arg("--out")
        .arg(&out)
        .arg("--models-dir")
        .arg(&t.models)
        .args(model)
        .output()
        .unwrap();
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap_or_default();
    (output, trades)
}

#[test]
fn the_promoted_model_filters_the_openings() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) = trained(
        dir.path(),
        TradingKind::Logistic,
        ("2010-01-04", "2012-12-31"),
        504,
        "logistic-2012",
    ) else {
        return;
    };
    // The day features come from the run's store, the one the model was trained on.
    let with = |min: &str| ["--model", "promoted", "--min-score", min].map(str::to_owned);
    let (plain, all_trades) = backtest_2013(dir.path(), &t, "plain", &[]);
    assert!(plain.status.success(), "{plain:?}");
    let (filtered, filtered_trades) = backtest_2013(
        dir.path(),
        &t,
        "filtered",
        &with("0.75").each_ref().map(String::as_str),
    );
    let stdout = String::from_utf8_lossy(&filtered.stdout);
    assert!(filtered.status.success(), "{filtered:?}");
    assert!(
        stdout.contains(
            "model logistic-2012: openings below 0.75 not taken; 0 proposals on days without features"
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
        &t,
        "open",
        &with("0").each_ref().map(String::as_str),
    );
    assert!(open.status.success(), "{open:?}");
    assert_eq!(open_trades, all_trades);
    // An unknown model is refused by name before anything runs.
    let (unknown, _) = backtest_2013(dir.path(), &t, "unknown", &["--model", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("model nope: not in the registry"),
        "{unknown:?}"
    );
}
