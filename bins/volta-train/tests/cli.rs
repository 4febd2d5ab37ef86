//! `volta-train features` end to end: a real process on the real SPY history, its Parquet
//! matrix read back.

use std::process::Command;

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_features::FeatureMatrix;

/// The spring 2020 crash: 62 sessions, every feature, option features from synthetic chains on
/// the real bars and VIX — and the metadata says so.
#[test]
fn spy_features_of_spring_2020() {
    if DataDir::test_file("underlying/SPY_daily_unadjusted.csv").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spy.parquet");
    let run = Command::new(env!("CARGO_BIN_EXE_volta-train"))
        .args(["features", "--symbol", "spy"])
        .args(["--start", "2020-01-02", "--end", "2020-03-31"])
        .arg("--data-dir")
        .arg(DataDir::from_env().root())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("synthetic chain summaries"), "{stdout}");

    let matrix = FeatureMatrix::read_parquet(&out).unwrap();
    assert_eq!(matrix.dates().len(), 62, "NYSE sessions of 2020 Q1");
    assert_eq!(matrix.names().len(), volta_features::registry().len());
    let provenance = &matrix.metadata()["volta.provenance.options"];
    assert!(provenance.contains("chains=synthetic"), "{provenance}");
    assert!(provenance.contains("VIX=real"), "{provenance}");

    // The synthetic 30-day ATM vol is pinned to the day's VIX close (82.69 on 2020-03-16).
    let day = NaiveDate::from_ymd_opt(2020, 3, 16).unwrap();
    let row = matrix.dates().iter().position(|d| *d == day).unwrap();
    let atm = matrix.column("atm_iv_30d").unwrap()[row];
    assert!((atm - 0.8269).abs() < 0.025, "atm_iv_30d on {day}: {atm}");
    // IV rank over 252 sessions needs the warm-up chains before --start: defined at the start.
    let rank = matrix.column("atm_iv_rank_252d").unwrap()[0];
    assert!(
        (0.0..=1.0).contains(&rank),
        "atm_iv_rank_252d on 2020-01-02: {rank}"
    );
}

/// `list` and `promote` on a real store file: the registry as a table, one model promoted at a
/// time, an unknown id refused by name with the store unchanged.
#[test]
fn list_and_promote_models_in_the_store() {
    use volta_data::store::{ModelRecord, ModelRegistry, SqliteStore};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("volta.db");
    let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
    {
        let mut store = SqliteStore::open(&path).unwrap();
        for (id, kind, month) in [("gbm-2024-05", "gbm", 5), ("lstm-2024-06", "lstm", 6)] {
            let mut m = ModelRecord::new(
                id,
                kind,
                &format!("{id}/model"),
                "1.0.0",
                day(1, 2),
                day(month, 28),
            );
            m.created_at = day(month, 29).and_hms_opt(18, 0, 0).unwrap();
            m.metrics.insert("auc".into(), 0.5712);
            store.register_model(&m).unwrap();
        }
    }
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_volta-train"))
            .args(args)
            .arg("--store")
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, listed, err) = run(&["list"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[1].starts_with("  gbm-2024-05 "), "{listed}");
    assert!(lines[1].contains("2024-01-02 … 2024-05-28"), "{listed}");
    assert!(lines[1].contains("0.571"), "{listed}");

    let (ok, said, err) = run(&["promote", "gbm-2024-05"]);
    assert!(ok, "{err}");
    assert_eq!(said.trim(), "promoted gbm-2024-05");
    let (_, said, _) = run(&["promote", "lstm-2024-06"]);
    assert_eq!(
        said.trim(),
        "promoted lstm-2024-06 (in place of gbm-2024-05)"
    );
    let (_, listed, _) = run(&["list"]);
    let marked: Vec<&str> = listed.lines().filter(|l| l.starts_with('*')).collect();
    assert_eq!(marked.len(), 1, "{listed}");
    assert!(marked[0].starts_with("* lstm-2024-06 "), "{listed}");

    let (ok, _, err) = run(&["promote", "gbm-2099"]);
    assert!(!ok);
    assert!(err.contains("holds no model `gbm-2099`"), "{err}");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.promoted_model().unwrap().unwrap().id, "lstm-2024-06");

    // A missing store is an error, not a new empty file.
    let missing = dir.path().join("nope.db");
    let out = Command::new(env!("CARGO_BIN_EXE_volta-train"))
        .args(["list", "--store"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!missing.exists());
}
