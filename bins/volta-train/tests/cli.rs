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
