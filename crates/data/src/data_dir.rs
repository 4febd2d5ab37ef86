//! [`DataDir`]: the shared folder of real market data, and where each kind of file lives in it.
//!
//! The folder (`../shared/data` beside a checkout; its `README.md` describes every file) is laid
//! out as:
//!
//! ```text
//! underlying/   daily bars: <SYMBOL>_daily_unadjusted.csv (SPY, QQQ, IWM; Alpha Vantage),
//!               <INDEX>_daily_ohlc.csv (GSPC, NDX), <SYMBOL>_tiingo_<YEAR>.csv (SPY 2021,
//!               with dividends), the arch files
//! vol/          CBOE index histories <INDEX>_History.csv (VIX, VIX3M, VIX9D, VVIX, SKEW),
//!               CBOE_put_call_ratios.csv
//! rates/        FRED series <SERIES>.csv (DTB3, DFF)
//! options/      option chains, one file per vendor sample, and the CBOE delayed SPX days
//!               SPX_cboe_delayed_2019/SPX_YYYYMMDD.csv.gz
//! yahoo_fixtures/  recorded Yahoo Finance replies
//! ```
//!
//! Code that needs one of these files asks a [`DataDir`] for it rather than joining path
//! pieces itself, so that the layout is written down once, here.
//!
//! ```
//! use volta_data::DataDir;
//! use volta_data::import::RateSeries;
//!
//! let data = DataDir::new("/srv/volta/data");
//! assert!(data.daily_bars("SPY").ends_with("underlying/SPY_daily_unadjusted.csv"));
//! assert!(data.cboe_index("VIX").ends_with("vol/VIX_History.csv"));
//! assert!(data.fred_rate(RateSeries::Dff).ends_with("rates/DFF.csv"));
//! ```

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::import::RateSeries;

/// The shared market-data folder: its location and the paths of the files in it.
///
/// Accessors only build paths; none checks that the file exists (see [`DataDir::is_present`]
/// and, in tests, [`DataDir::test_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The environment variable that names the folder.
    pub const ENV_VAR: &'static str = "VOLTA_DATA_DIR";

    /// The CBOE indices whose histories `vol/` holds, by ticker.
    pub const CBOE_INDICES: [&'static str; 5] = ["VIX", "VIX3M", "VIX9D", "VVIX", "SKEW"];

    /// The folder of the CBOE delayed SPX chains (54 sessions, 2019-04-25 to 2019-07-18).
    pub const CBOE_SPX_2019: &'static str = "SPX_cboe_delayed_2019";

    /// The folder at `root`.
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder named by `$VOLTA_DATA_DIR`, else [`DataDir::beside_checkout`].
    #[must_use]
    pub fn from_env() -> Self {
        std::env::var_os(Self::ENV_VAR)
            .filter(|v| !v.is_empty())
            .map_or_else(Self::beside_checkout, Self::new)
    }

    /// The default: `../shared/data` beside the checkout this crate was built from (the
    /// workspace root's sibling `shared/data`). Right for tests, benches, examples and
    /// `cargo run` in a checkout, whatever the current directory; a binary copied elsewhere
    /// should be given the folder (`VOLTA_DATA_DIR` or its own option).
    #[must_use]
    pub fn beside_checkout() -> Self {
        // crates/data → the checkout → the folder holding it.
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
        let beside = checkout.and_then(Path::parent).unwrap_or(Path::new(".."));
        Self::new(beside.join("shared").join("data"))
    }

    /// The folder itself.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `relative` inside the folder.
    #[must_use]
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.root.join(relative)
    }

    /// The folder's `README.md`: what every file is, its columns, range and source.
    #[must_use]
    pub fn readme(&self) -> PathBuf {
        self.join("README.md")
    }

    /// Whether the folder is there: its `README.md` is a file.
    #[must_use]
    pub fn is_present(&self) -> bool {
        self.readme().is_file()
    }

    /// `underlying/`: daily bars of ETFs and indices.
    #[must_use]
    pub fn underlying_dir(&self) -> PathBuf {
        self.join("underlying")
    }

    /// `underlying/<name>`: a bar file by name (`SPY_tiingo_2021.csv`).
    #[must_use]
    pub fn underlying_file(&self, name: &str) -> PathBuf {
        self.underlying_dir().join(name)
    }

    /// `underlying/<SYMBOL>_daily_unadjusted.csv`: the raw (not split- or dividend-adjusted)
    /// Alpha Vantage daily bars of an ETF (SPY, QQQ, IWM).
    #[must_use]
    pub fn daily_bars(&self, symbol: &str) -> PathBuf {
        self.underlying_file(&format!("{symbol}_daily_unadjusted.csv"))
    }

    /// `underlying/<SYMBOL>_tiingo_<YEAR>.csv`: a year of Tiingo daily bars, raw and adjusted,
    /// with the cash dividends (`divCash`) on their ex-dates. The folder has SPY's 2021.
    #[must_use]
    pub fn tiingo_bars(&self, symbol: &str, year: i32) -> PathBuf {
        self.underlying_file(&format!("{symbol}_tiingo_{year}.csv"))
    }

    /// `underlying/<INDEX>_daily_ohlc.csv`: Yahoo's daily OHLC of an index (`GSPC` for ^GSPC,
    /// `NDX` for ^NDX).
    #[must_use]
    pub fn index_daily_ohlc(&self, index: &str) -> PathBuf {
        self.underlying_file(&format!("{index}_daily_ohlc.csv"))
    }

    /// `vol/`: CBOE's volatility indices and put/call ratios.
    #[must_use]
    pub fn vol_dir(&self) -> PathBuf {
        self.join("vol")
    }

    /// `vol/<INDEX>_History.csv`: CBOE's history of one of [`DataDir::CBOE_INDICES`].
    #[must_use]
    pub fn cboe_index(&self, index: &str) -> PathBuf {
        self.vol_dir().join(format!("{index}_History.csv"))
    }

    /// `vol/VIX_History.csv`.
    #[must_use]
    pub fn vix(&self) -> PathBuf {
        self.cboe_index("VIX")
    }

    /// `vol/CBOE_put_call_ratios.csv`: CBOE's daily put/call ratios.
    #[must_use]
    pub fn put_call_ratios(&self) -> PathBuf {
        self.vol_dir().join("CBOE_put_call_ratios.csv")
    }

    /// `rates/`: FRED rate series.
    #[must_use]
    pub fn rates_dir(&self) -> PathBuf {
        self.join("rates")
    }

    /// `rates/<SERIES>.csv`: one FRED series (`DTB3.csv`, `DFF.csv`).
    #[must_use]
    pub fn fred_rate(&self, series: RateSeries) -> PathBuf {
        self.rates_dir().join(format!("{}.csv", series.as_str()))
    }

    /// `options/`: option-chain files.
    #[must_use]
    pub fn options_dir(&self) -> PathBuf {
        self.join("options")
    }

    /// `options/<name>`: a chain file by name
    /// (`SPY_sampled20_2021-01-04_to_2021-12-29.csv`).
    #[must_use]
    pub fn options_file(&self, name: &str) -> PathBuf {
        self.options_dir().join(name)
    }

    /// `options/SPX_cboe_delayed_2019/`: the CBOE delayed SPX chains, one gzipped file a day.
    #[must_use]
    pub fn cboe_spx_2019_dir(&self) -> PathBuf {
        self.options_dir().join(Self::CBOE_SPX_2019)
    }

    /// `options/SPX_cboe_delayed_2019/SPX_YYYYMMDD.csv.gz`: the CBOE delayed SPX chain of
    /// `date` (present for 54 sessions of 2019-04-25 → 2019-07-18).
    #[must_use]
    pub fn cboe_spx_2019_day(&self, date: NaiveDate) -> PathBuf {
        self.cboe_spx_2019_dir()
            .join(format!("SPX_{}.csv.gz", date.format("%Y%m%d")))
    }

    /// `yahoo_fixtures/`: recorded Yahoo Finance replies.
    #[must_use]
    pub fn yahoo_fixtures_dir(&self) -> PathBuf {
        self.join("yahoo_fixtures")
    }

    /// **For tests, benches and examples**: the file or folder `relative` of the folder
    /// [`DataDir::from_env`] finds, if it exists.
    ///
    /// A test that needs the real data calls this and returns early on `None`: where the data
    /// is absent (a fresh clone without `../shared/data`) the test is skipped, with a message
    /// on stderr naming the path and `VOLTA_DATA_DIR`.
    ///
    /// # Panics
    /// When the path is missing and `CI=true`: in CI a skipped data test would hide that the
    /// data folder is not where it should be, so the test fails instead.
    #[must_use]
    pub fn test_file(relative: impl AsRef<Path>) -> Option<PathBuf> {
        Self::from_env().test_path(
            relative.as_ref(),
            std::env::var("CI").as_deref() == Ok("true"),
        )
    }

    /// [`DataDir::test_file`]'s rule, the environment's `CI` given as `in_ci`.
    fn test_path(&self, relative: &Path, in_ci: bool) -> Option<PathBuf> {
        let path = self.join(relative);
        if path.exists() {
            return Some(path);
        }
        assert!(
            !in_ci,
            "data file {} is missing (set {})",
            path.display(),
            Self::ENV_VAR
        );
        eprintln!(
            "skipped: data file {} is missing (set {})",
            path.display(),
            Self::ENV_VAR
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_of_the_readme() {
        let data = DataDir::new("/data");
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            data.daily_bars("QQQ"),
            p("/data/underlying/QQQ_daily_unadjusted.csv")
        );
        assert_eq!(
            data.tiingo_bars("SPY", 2021),
            p("/data/underlying/SPY_tiingo_2021.csv")
        );
        assert_eq!(
            data.index_daily_ohlc("GSPC"),
            p("/data/underlying/GSPC_daily_ohlc.csv")
        );
        assert_eq!(data.vix(), p("/data/vol/VIX_History.csv"));
        assert_eq!(data.cboe_index("VIX3M"), p("/data/vol/VIX3M_History.csv"));
        assert_eq!(
            data.put_call_ratios(),
            p("/data/vol/CBOE_put_call_ratios.csv")
        );
        assert_eq!(data.fred_rate(RateSeries::Dtb3), p("/data/rates/DTB3.csv"));
        assert_eq!(
            data.cboe_spx_2019_day(NaiveDate::from_ymd_opt(2019, 4, 25).unwrap()),
            p("/data/options/SPX_cboe_delayed_2019/SPX_20190425.csv.gz")
        );
        assert_eq!(data.readme(), p("/data/README.md"));
    }

    #[test]
    fn the_default_is_the_shared_folder_beside_the_checkout() {
        let default = DataDir::beside_checkout();
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert!(default.root().ends_with("shared/data"), "{default:?}");
        assert_eq!(
            default
                .root()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .canonicalize()
                .ok(),
            checkout.join("..").canonicalize().ok()
        );
    }

    #[test]
    fn a_missing_test_file_is_skipped_outside_ci() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("here.csv"), "x").unwrap();
        let data = DataDir::new(dir.path());
        assert_eq!(
            data.test_path(Path::new("here.csv"), true),
            Some(dir.path().join("here.csv"))
        );
        assert_eq!(data.test_path(Path::new("absent.csv"), false), None);
    }

    #[test]
    #[should_panic(expected = "absent.csv is missing (set VOLTA_DATA_DIR)")]
    fn a_missing_test_file_fails_in_ci() {
        let _ = DataDir::new("/nowhere").test_path(Path::new("absent.csv"), true);
    }
}
