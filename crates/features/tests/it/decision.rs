//! One feature path (issue 15 §1): the rows a decision reads, computed day by day as the live
//! trader must — each day from the data up to the session before it only, through
//! `features_at_decision` — are the batch matrix's rows, bit for bit; and a store built from
//! the data folder gives the folder's matrix, bit for bit.

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_data::ingest::ingest_daily_history;
use volta_data::store::{SqliteStore, StoreLocation};
use volta_features::FeatureError;
use volta_features::decision::{
    DailyOrigin, DailySource, daily_matrix, decision_row, feature_date, features_at_decision,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// A store holding the data folder's daily history of SPY, QQQ and IWM (in a temporary folder,
/// returned to keep it); `None` without the data folder (a failure when `CI=true`).
fn history_store() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.db");
    ingest_daily_history(
        &mut SqliteStore::open(&store).unwrap(),
        &DataDir::from_env(),
        &["SPY", "QQQ", "IWM"],
    )
    .unwrap();
    Some((dir, store))
}

#[test]
fn day_by_day_rows_are_the_batch_rows() {
    let Some((_dir, store)) = history_store() else {
        return;
    };
    // What the live trader and training read: the store.
    let source = DailySource {
        origin: DailyOrigin::Store(StoreLocation::Sqlite(store)),
        symbol: "SPY".to_owned(),
        // Shared by both paths: the synthetic chains' history starts here.
        chains_from: Some(date(2020, 1, 2)),
    };
    let batch = daily_matrix(&source, date(2020, 3, 31), &|_| {}).unwrap();
    // The crash: a Monday (its row is the Friday's), a day after a +9 % session, the VIX peak.
    for decision in [
        date(2020, 3, 2),
        date(2020, 3, 13),
        date(2020, 3, 16),
        date(2020, 3, 17),
    ] {
        let live = features_at_decision(&source, decision).unwrap();
        let from_batch = decision_row(&batch, decision).unwrap().unwrap();
        assert_eq!(live.len(), from_batch.len());
        let differ: Vec<&String> = batch
            .names()
            .iter()
            .zip(live.iter().zip(&from_batch))
            .filter(|(_, (a, b))| !same(**a, **b))
            .map(|(n, _)| n)
            .collect();
        assert!(differ.is_empty(), "{decision}: {differ:?}");
        // Not a vacuous match: most features are defined.
        assert!(live.iter().filter(|v| v.is_finite()).count() > live.len() / 2);
    }
    // The decision on a Monday reads the Friday's close.
    assert_eq!(feature_date(date(2020, 3, 16)).unwrap(), date(2020, 3, 13));
}

#[test]
fn a_store_built_from_the_data_folder_gives_the_folders_matrix() {
    let Some((dir, store)) = history_store() else {
        return;
    };
    let data = DataDir::from_env();
    let source = |origin| DailySource {
        origin,
        symbol: "QQQ".to_owned(),
        chains_from: Some(date(2019, 6, 3)),
    };
    let end = date(2020, 6, 30);
    let from_store = daily_matrix(
        &source(DailyOrigin::Store(StoreLocation::Sqlite(store.clone()))),
        end,
        &|_| {},
    )
    .unwrap();
    let from_folder = daily_matrix(&source(DailyOrigin::Folder(data)), end, &|_| {}).unwrap();
    assert_eq!(from_store.names(), from_folder.names());
    assert_eq!(from_store.dates(), from_folder.dates());
    // QQQ's whole history (its 2000 split adjusted in both), every input family present.
    assert_eq!(from_store.dates()[0], date(1999, 11, 1));
    for name in from_store.names() {
        let (a, b) = (
            from_store.column(name).unwrap(),
            from_folder.column(name).unwrap(),
        );
        let differ = a.iter().zip(b).filter(|(x, y)| !same(**x, **y)).count();
        assert_eq!(differ, 0, "{name}: {differ} values differ");
    }
    let last = from_store.dates().len() - 1;
    for defined in ["vix9d", "pc_total", "skew", "atm_iv_30d"] {
        let found: Vec<&String> = from_store
            .names()
            .iter()
            .filter(|n| n.starts_with(defined))
            .collect();
        assert!(!found.is_empty(), "no feature named {defined}*");
        assert!(
            found
                .iter()
                .any(|n| from_store.column(n).unwrap()[last].is_finite()),
            "{found:?} all NaN on {end}"
        );
    }
    // A store without the put/call ratios is refused by name, not read as NaN.
    let bare = dir.path().join("bare.db");
    let mut bare_store = SqliteStore::open(&bare).unwrap();
    volta_data::ingest::ingest_bars(
        &mut bare_store,
        &DataDir::from_env().daily_bars("QQQ"),
        &volta_data::ingest::BarsOptions {
            symbol: Some("QQQ".parse().unwrap()),
            format: None,
            adjust_splits: true,
        },
    )
    .unwrap();
    drop(bare_store);
    let err = daily_matrix(
        &source(DailyOrigin::Store(StoreLocation::Sqlite(bare))),
        end,
        &|_| {},
    )
    .unwrap_err();
    assert!(
        matches!(&err, FeatureError::BadInput { series, .. } if series == "VIX"),
        "{err}"
    );
    assert!(err.to_string().contains("volta-data import-dir"), "{err}");
    // A store that does not exist is not created.
    let missing = dir.path().join("missing.db");
    let err = daily_matrix(
        &source(DailyOrigin::Store(StoreLocation::Sqlite(missing.clone()))),
        end,
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("no store at"), "{err}");
    assert!(!missing.exists());
}
