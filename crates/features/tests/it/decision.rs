//! One feature path (issue 15 §1): the rows a decision reads, computed day by day as the live
//! trader must — each day from the data up to the session before it only, through
//! `features_at_decision` — are the batch matrix's rows, bit for bit.

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_features::decision::{
    DailySource, daily_matrix, decision_row, feature_date, features_at_decision,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn day_by_day_rows_are_the_batch_rows() {
    if DataDir::test_file("underlying/SPY_daily_unadjusted.csv").is_none() {
        return;
    }
    let source = DailySource {
        data: DataDir::from_env(),
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
