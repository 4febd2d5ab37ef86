//! Shared helpers of the feature-library tests: the real SPY panel.

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_features::DailyPanel;
use volta_features::panel::{LoadOptions, load_from_dir};

/// The shared data folder, if its SPY file is present (else the test is skipped with a
/// message, or fails under CI).
pub(crate) fn data_dir() -> Option<DataDir> {
    DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    Some(DataDir::from_env())
}

pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The full real panel of `symbol` (bars to 2023-11-08, VIX family, DFF, peers, put/call).
pub(crate) fn real_panel(dir: &DataDir, symbol: &str) -> DailyPanel {
    load_from_dir(dir, symbol, d(2023, 11, 8), &LoadOptions::full(symbol)).unwrap()
}
