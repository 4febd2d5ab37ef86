//! Shared helpers of the feature-library tests: the real SPY panel.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use volta_features::DailyPanel;
use volta_features::panel::{LoadOptions, load_from_dir};

use crate::common;

/// The shared data folder, if its SPY file is present (else the test is skipped with a
/// message, or fails under CI).
pub(crate) fn data_dir() -> Option<PathBuf> {
    let f = common::data_file("underlying/SPY_daily_unadjusted.csv")?;
    Some(f.parent()?.parent()?.to_path_buf())
}

pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The full real panel of `symbol` (bars to 2023-11-08, VIX family, DFF, peers, put/call).
pub(crate) fn real_panel(dir: &Path, symbol: &str) -> DailyPanel {
    load_from_dir(dir, symbol, d(2023, 11, 8), &LoadOptions::full(symbol)).unwrap()
}
