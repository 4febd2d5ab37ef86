//! Importers against every real file of the shared data (counts and spot values from its
//! README), bad-input cases with their exact locations, and all-or-nothing as a property.

// The real-data helper is volta-core's, shared rather than copied.
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use rstest::rstest;
use volta_core::{Price, QualityPolicy, QuoteFlag, Underlying};
use volta_data::DataDir;
use volta_data::DataError;
use volta_data::import::{
    BarFormat, ChainFormat, ChainRequest, FlagKind, IndexFormat, PriceBasis, RateSeries,
    import_bars, import_chains, import_index, import_put_call_ratios, import_rates, known_splits,
    parse_bars, parse_chains, parse_index, parse_rates, split_adjust,
};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn u(s: &str) -> Underlying {
    Underlying::try_new(s).unwrap()
}

fn allow(symbols: &[&str]) -> ChainRequest {
    ChainRequest {
        allowed: symbols.iter().map(|s| u(s)).collect(),
        ..ChainRequest::default()
    }
}

// ---------------------------------------------------------------- real files: bars

#[rstest]
#[case(
    "underlying/SPY_daily_unadjusted.csv",
    BarFormat::AlphaVantageDaily,
    6045,
    "1999-11-01",
    "2023-11-08"
)]
#[case(
    "underlying/QQQ_daily_unadjusted.csv",
    BarFormat::AlphaVantageDaily,
    6045,
    "1999-11-01",
    "2023-11-08"
)]
#[case(
    "underlying/IWM_daily_unadjusted.csv",
    BarFormat::AlphaVantageDaily,
    5901,
    "2000-05-26",
    "2023-11-08"
)]
#[case(
    "underlying/SPY_tiingo_2021.csv",
    BarFormat::Tiingo,
    252,
    "2021-01-04",
    "2021-12-31"
)]
#[case(
    "underlying/GSPC_daily_ohlc.csv",
    BarFormat::OhlcNoVolume,
    24080,
    "1927-12-30",
    "2023-11-08"
)]
#[case(
    "underlying/NDX_daily_ohlc.csv",
    BarFormat::OhlcNoVolume,
    9605,
    "1985-10-01",
    "2023-11-08"
)]
#[case(
    "underlying/GSPC_daily_ohlcv_arch_1999_2018.csv",
    BarFormat::Yahoo,
    5031,
    "1999-01-04",
    "2018-12-31"
)]
#[case(
    "underlying/IXIC_daily_ohlcv_arch_1999_2018.csv",
    BarFormat::Yahoo,
    5031,
    "1999-01-04",
    "2018-12-31"
)]
fn every_bar_file_imports(
    #[case] file: &str,
    #[case] format: BarFormat,
    #[case] rows: usize,
    #[case] first: &str,
    #[case] last: &str,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let got = import_bars(&path, None).unwrap();
    assert_eq!(got.format, format);
    assert_eq!(got.bars.len(), rows);
    assert_eq!(got.bars[0].date, d(first));
    assert_eq!(got.bars[rows - 1].date, d(last));
    assert_eq!(got.has_volume, format != BarFormat::OhlcNoVolume);
}

#[test]
fn spy_spot_values() {
    let Some(path) = DataDir::test_file("underlying/SPY_daily_unadjusted.csv") else {
        return;
    };
    let got = import_bars(&path, None).unwrap();
    assert_eq!(got.basis, PriceBasis::Raw);
    let first = got.bars[0].ohlcv;
    assert_eq!(first.open(), "136.5".parse().unwrap());
    assert_eq!(first.low(), "135.5625".parse().unwrap());
    assert_eq!(first.volume(), 4_006_500);
    // README: SPY closed between 379.38 and 457.79 in 2023.
    let closes: Vec<Price> = got
        .bars
        .iter()
        .filter(|b| b.date >= d("2023-01-01"))
        .map(|b| b.ohlcv.close())
        .collect();
    assert_eq!(closes.iter().min().unwrap(), &"379.38".parse().unwrap());
    assert_eq!(closes.iter().max().unwrap(), &"457.79".parse().unwrap());
}

#[test]
fn tiingo_names_its_symbol() {
    let Some(path) = DataDir::test_file("underlying/SPY_tiingo_2021.csv") else {
        return;
    };
    let got = import_bars(&path, None).unwrap();
    assert_eq!(got.symbol, Some(u("SPY")));
    assert_eq!(got.bars[0].ohlcv.close(), "368.79".parse().unwrap());
    assert_eq!(got.bars[0].ohlcv.volume(), 110_210_810);
}

/// Close-to-close returns of a series.
fn returns(bars: &[volta_core::DailyBar]) -> Vec<(NaiveDate, f64)> {
    bars.windows(2)
        .map(|w| {
            (
                w[1].date,
                w[1].ohlcv.close().to_f64() / w[0].ohlcv.close().to_f64() - 1.0,
            )
        })
        .collect()
}

#[rstest]
#[case("underlying/QQQ_daily_unadjusted.csv", "QQQ", "2000-03-20", 107.7 / 221.6 - 1.0, 107.7 / 110.8 - 1.0)]
#[case("underlying/IWM_daily_unadjusted.csv", "IWM", "2005-06-09", 62.32 / 123.43 - 1.0, 62.32 / 61.715 - 1.0)]
fn split_adjustment_removes_the_split_day_drop(
    #[case] file: &str,
    #[case] symbol: &str,
    #[case] split: &str,
    #[case] raw_return: f64,
    #[case] adjusted_return: f64,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let raw = import_bars(&path, None).unwrap();
    assert_eq!(raw.basis, PriceBasis::Raw);
    let at = |r: &[(NaiveDate, f64)]| r.iter().find(|(t, _)| *t == d(split)).unwrap().1;
    let before = returns(&raw.bars);
    assert!((at(&before) - raw_return).abs() < 1e-12);
    assert!(
        at(&before) < -0.49,
        "the raw file shows the split as a −50 % day"
    );
    let adjusted = split_adjust(&u(symbol), &raw.bars, &known_splits()).unwrap();
    let after = returns(&adjusted);
    assert!((at(&after) - adjusted_return).abs() < 1e-12);
    // No day of the adjusted series moves by 30 % or more (QQQ's worst day in 2000–2001 was
    // about −10 %; IWM's in 2008 about −12 %; 2020-03-16 about −12 % to −14 %).
    let worst = after.iter().map(|(_, r)| r.abs()).fold(0.0, f64::max);
    assert!(worst < 0.3, "largest adjusted move {worst}");
    // Volume before the split doubles; after, unchanged.
    let i = raw.bars.iter().position(|b| b.date == d(split)).unwrap();
    assert_eq!(
        adjusted[i - 1].ohlcv.volume(),
        2 * raw.bars[i - 1].ohlcv.volume()
    );
    assert_eq!(adjusted[i..], raw.bars[i..]);
}

// ---------------------------------------------------------------- real files: indices

#[rstest]
#[case("vol/VIX_History.csv", IndexFormat::Ohlc, None, 8538, 47)]
#[case("vol/VIX3M_History.csv", IndexFormat::Ohlc, None, 3560, 0)]
#[case("vol/VIX9D_History.csv", IndexFormat::Ohlc, None, 3234, 0)]
#[case("vol/VVIX_History.csv", IndexFormat::CloseOnly, Some("VVIX"), 4391, 0)]
#[case("vol/SKEW_History.csv", IndexFormat::CloseOnly, Some("SKEW"), 8515, 0)]
fn every_index_file_imports(
    #[case] file: &str,
    #[case] format: IndexFormat,
    #[case] name: Option<&str>,
    #[case] rows: usize,
    #[case] flagged: usize,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let got = import_index(&path, None).unwrap();
    assert_eq!(got.format, format);
    assert_eq!(got.name.as_deref(), name);
    assert_eq!(got.records.len(), rows);
    assert_eq!(got.flags.len(), flagged);
    assert!(
        got.flags
            .iter()
            .all(|f| matches!(f.kind, FlagKind::OhlcInconsistent { .. }))
    );
}

#[test]
fn vix_spot_values() {
    let Some(path) = DataDir::test_file("vol/VIX_History.csv") else {
        return;
    };
    let got = import_index(&path, None).unwrap();
    let max = got
        .records
        .iter()
        .max_by(|a, b| a.close.total_cmp(&b.close))
        .unwrap();
    assert_eq!((max.date, max.close), (d("2020-03-16"), 82.69));
    let min = got
        .records
        .iter()
        .map(|r| r.close)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(min, 9.14);
    // Flagged rows are kept as published; they run from 1992 to 2006 (counted with awk).
    assert!(
        got.flags
            .iter()
            .all(|f| f.date >= d("1992-01-01") && f.date < d("2007-01-01"))
    );
    assert_eq!(
        got.flags
            .iter()
            .filter(|f| f.date < d("1995-01-01"))
            .count(),
        34
    );
    let first = &got.records[0];
    assert_eq!((first.open, first.close), (Some(17.24), 17.24));
}

#[test]
fn put_call_ratios_import() {
    let Some(path) = DataDir::test_file("vol/CBOE_put_call_ratios.csv") else {
        return;
    };
    let got = import_put_call_ratios(&path).unwrap();
    assert_eq!(got.days.len(), 1031);
    assert_eq!(got.columns.len(), 23);
    assert_eq!(got.columns[0], "TOTAL_PUT_CALL_RATIO");
    assert_eq!(got.days[0].date, d("2019-10-07"));
    assert_eq!(got.days[0].ratios[0], Some(1.05));
    assert_eq!(got.days[0].ratios[13], None, "blank early CBTX column");
}

// ---------------------------------------------------------------- real files: rates

#[test]
fn dtb3_imports_with_missing_holidays() {
    let Some(path) = DataDir::test_file("rates/DTB3.csv") else {
        return;
    };
    let got = import_rates(&path, None).unwrap();
    assert_eq!(got.series, RateSeries::Dtb3);
    assert_eq!(got.observations.len(), 4598);
    assert_eq!(got.flags.len(), 186);
    let missing = got
        .observations
        .iter()
        .filter(|o| o.published_percent.is_none());
    assert_eq!(missing.clone().count(), 186);
    assert!(missing.clone().all(|o| o.continuous.is_none()));
    let values: Vec<f64> = got
        .observations
        .iter()
        .filter_map(|o| o.published_percent)
        .collect();
    assert_eq!(values.iter().copied().fold(f64::INFINITY, f64::min), -0.05);
    assert_eq!(
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        5.36
    );
    // Last row 2023-11-08, 5.28 % discount: P = 1 − 0.0528·91/360, r = −ln P·365/91
    // = 0.05389379 (bc -l).
    let last = got.observations.last().unwrap();
    assert_eq!(
        (last.date, last.published_percent),
        (d("2023-11-08"), Some(5.28))
    );
    assert!((last.continuous.unwrap() - 0.053_893_790).abs() < 1e-9);
}

#[test]
fn dff_imports_when_named() {
    let Some(path) = DataDir::test_file("rates/DFF.csv") else {
        return;
    };
    // `date,value` names no series: detection refuses to guess.
    assert!(matches!(
        import_rates(&path, None),
        Err(DataError::UnknownFormat { .. })
    ));
    let got = import_rates(&path, Some(RateSeries::Dff)).unwrap();
    assert_eq!(got.observations.len(), 25333);
    assert!(got.flags.is_empty());
    let last = got.observations.last().unwrap();
    assert_eq!(last.published_percent, Some(5.33));
    // 365·ln(1 + 0.0533/360) = 0.05403628 (bc -l).
    assert!((last.continuous.unwrap() - 0.054_036_278).abs() < 1e-9);
}

// ---------------------------------------------------------------- real files: chains

#[test]
fn cboe_delayed_spx_every_day_imports() {
    let Some(one) = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv") else {
        return;
    };
    let dir = one.parent().unwrap();
    let plain = import_chains(&one, &allow(&["SPX"])).unwrap();
    assert_eq!(plain.format, ChainFormat::CboeDelayed);
    assert_eq!(plain.days.len(), 1);
    assert_eq!(plain.days[0].quotes.len(), 13340);
    assert_eq!(
        plain.days[0].underlying_price,
        Some("2919.04".parse().unwrap())
    );
    // The gzipped copy of the same day reads identically.
    let gz = import_chains(&dir.join("SPX_20190425.csv.gz"), &allow(&["SPX"])).unwrap();
    assert_eq!(gz, plain);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 54);
    let mut total = 0;
    for f in &files {
        let got = import_chains(f, &allow(&["SPX"])).unwrap();
        assert_eq!(got.days.len(), 1, "{}", f.display());
        let n = got.days[0].quotes.len();
        assert!((13_000..=14_800).contains(&n), "{}: {n}", f.display());
        total += n;
    }
    // README: ~754k rows over the 54 gzipped days.
    assert!((740_000..=770_000).contains(&total), "{total}");
}

#[test]
fn spy_sample_keeps_and_flags_crossed_rows() {
    let Some(path) = DataDir::test_file("options/SPY_sampled20_2021-01-04_to_2021-12-29.csv")
    else {
        return;
    };
    let got = import_chains(&path, &allow(&["SPY"])).unwrap();
    assert_eq!(got.format, ChainFormat::LambdaclassSample);
    assert_eq!(got.days.iter().map(|d| d.quotes.len()).sum::<usize>(), 5000);
    assert_eq!(got.days.len(), 250);
    assert_eq!(got.flags.len(), 17);
    assert!(got.flags.iter().any(|f| f.date == d("2021-09-17")));
    let first = &got.days[0];
    assert_eq!(first.underlying_price, Some("368.79".parse().unwrap()));
    let q = &first.quotes[0];
    assert_eq!(q.key.to_string(), "SPY   210129P00345000");
    assert_eq!(
        (q.bid, q.ask, q.last),
        (
            Some("2.76".parse().unwrap()),
            Some("2.78".parse().unwrap()),
            Some("2.71".parse().unwrap())
        )
    );
    assert_eq!((q.volume, q.open_interest), (7424, 48199));
    assert_eq!(q.vendor.unwrap().implied_vol, Some(0.28804));
    // The quote model agrees: every flagged row is Crossed under the core's flags.
    let crossed = got
        .days
        .iter()
        .flat_map(|d| &d.quotes)
        .filter(|q| {
            q.flags(
                d("2021-01-04").and_hms_opt(16, 0, 0).unwrap(),
                &QualityPolicy::default(),
            )
            .contains(QuoteFlag::Crossed)
        })
        .count();
    assert_eq!(crossed, 17);
    // A day converts to a snapshot.
    let snap = first
        .snapshot(d("2021-01-04").and_hms_opt(16, 0, 0).unwrap())
        .unwrap();
    assert_eq!(snap.underlying(), &u("SPY"));
}

#[test]
fn ivolatility_spx_imports() {
    let Some(path) = DataDir::test_file("options/SPX_ivolatility_2011-01-03_to_2011-01-06.csv")
    else {
        return;
    };
    let got = import_chains(&path, &allow(&["SPX"])).unwrap();
    assert_eq!(got.format, ChainFormat::IVolatility);
    let per_day: Vec<usize> = got.days.iter().map(|d| d.quotes.len()).collect();
    assert_eq!(per_day, [1936, 1942, 1942, 2006]);
    assert_eq!(
        got.days[0].underlying_price,
        Some("1271.87".parse().unwrap())
    );
    // iVolatility writes ask before bid; make sure they are not swapped.
    let q = &got.days[0].quotes[0];
    assert_eq!(
        (q.bid, q.ask),
        (
            Some("217.1".parse().unwrap()),
            Some("220.6".parse().unwrap())
        )
    );
    // IV −1 is iVolatility's "no IV": 168 rows, all SPXPM.
    let no_iv: Vec<_> = got
        .days
        .iter()
        .flat_map(|d| &d.quotes)
        .filter(|q| q.vendor.unwrap().implied_vol.is_none())
        .collect();
    assert_eq!(no_iv.len(), 168);
    assert!(no_iv.iter().all(|q| q.key.root() == "SPXPM"));
    // The monthlies' OCC symbols carry the Saturday after expiration (`SPX   110122…`): the
    // keys carry the expiration day, the Friday, so that last trading days are right.
    let spx_expiries: std::collections::BTreeSet<_> = got.days[0]
        .quotes
        .iter()
        .filter(|q| q.key.root() == "SPX")
        .map(|q| q.key.expiry())
        .collect();
    assert_eq!(spx_expiries.first(), Some(&d("2011-01-21")));
    assert!(spx_expiries.contains(&d("2011-04-15")));
    assert!(
        got.days
            .iter()
            .flat_map(|d| &d.quotes)
            .all(|q| q.key.expiry().weekday() != chrono::Weekday::Sat)
    );
    let monthly = volta_core::OptionContract::from_key("SPX   110121C01275000".parse().unwrap());
    // AM-settled: the settlement value comes from the 21st's opening prints, trading stops on
    // the 20th.
    assert_eq!(monthly.last_trading_day(), d("2011-01-20"));
    // SPXPM is the PM-settled, cash-settled SPX option (renamed SPXW in 2017), not an equity.
    let pm = got.days[0]
        .quotes
        .iter()
        .find(|q| q.key.root() == "SPXPM")
        .map(|q| volta_core::OptionContract::from_key(q.key.clone()))
        .unwrap();
    assert_eq!(pm.underlying().as_str(), "SPX");
    assert_eq!(pm.settlement_time(), volta_core::SettlementTime::Pm);
    assert_eq!(pm.settlement(), volta_core::SettlementType::Cash);
    assert_eq!(pm.exercise_style(), volta_core::ExerciseStyle::European);
    assert_eq!(pm.key().expiry(), d("2011-03-31"));
}

#[test]
fn ivolatility_aapl_second_day_is_labelled_spy() {
    let Some(path) = DataDir::test_file("options/AAPL_ivolatility_2014-08-07_to_2014-08-08.csv")
    else {
        return;
    };
    // The file's 1823rd data row (line 1824) is the first of the second day, labelled SPY.
    let err = import_chains(&path, &allow(&["AAPL"])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.ends_with(":1824: column 0 `symbol`: unknown symbol `SPY`: expected one of [AAPL]"),
        "{text}"
    );
    let got = import_chains(&path, &allow(&["AAPL", "SPY"])).unwrap();
    let days: Vec<(String, NaiveDate, usize)> = got
        .days
        .iter()
        .map(|d| (d.underlying.to_string(), d.quote_date, d.quotes.len()))
        .collect();
    assert_eq!(
        days,
        [
            ("AAPL".into(), d("2014-08-07"), 1822),
            ("SPY".into(), d("2014-08-08"), 1822)
        ]
    );
}

#[test]
fn historicaloptiondata_files_import() {
    let Some(vxx) =
        DataDir::test_file("options/VXX_historicaloptiondata_2016-12-01_to_2016-12-29.csv")
    else {
        return;
    };
    let got = import_chains(&vxx, &allow(&["VXX"])).unwrap();
    assert_eq!(got.format, ChainFormat::HistoricalOptionData);
    assert_eq!(got.days.len(), 19);
    assert!(!got.days.iter().any(|x| x.quote_date == d("2016-12-08")));
    assert_eq!(
        got.days.iter().map(|d| d.quotes.len()).sum::<usize>(),
        26694
    );
    let Some(a) = DataDir::test_file("options/A_historicaloptiondata_2016-01-05.csv") else {
        return;
    };
    let got = import_chains(&a, &allow(&["A"])).unwrap();
    assert_eq!(got.format, ChainFormat::HistoricalOptionDataSample);
    assert_eq!(got.days.len(), 1);
    assert_eq!(got.days[0].quotes.len(), 208);
    assert_eq!(got.days[0].underlying_price, Some("40.55".parse().unwrap()));
}

#[rstest]
#[case("options/SPX_quantconnect_universe_20151222.csv", "2015-12-22", 233)]
#[case("options/SPX_quantconnect_universe_20151223.csv", "2015-12-23", 272)]
fn quantconnect_universe_imports(#[case] file: &str, #[case] date: &str, #[case] rows: usize) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    // The file carries neither underlying nor date: the request must.
    assert!(matches!(
        import_chains(&path, &allow(&["SPX"])),
        Err(DataError::InvalidRequest { .. })
    ));
    let request = ChainRequest {
        quote_date: Some(d(date)),
        ..allow(&["SPX"])
    };
    let got = import_chains(&path, &request).unwrap();
    assert_eq!(got.format, ChainFormat::QuantConnectUniverse);
    assert_eq!(got.days[0].quotes.len(), rows);
    assert_eq!(got.days[0].underlying_price, None);
    assert!(
        got.days[0]
            .snapshot(d(date).and_hms_opt(16, 0, 0).unwrap())
            .is_err()
    );
}

// ---------------------------------------------------------------- bad input

const AV: &str = "date,1. open,2. high,3. low,4. close,5. volume\n";
const GOOD1: &str = "1999-11-01,136.5,137.0,135.5625,135.5625,4006500.0\n";
const GOOD2: &str = "1999-11-02,135.9687,137.25,134.5937,134.5937,6516900.0\n";

fn bars_err(body: &str) -> String {
    parse_bars(Path::new("bad.csv"), body.as_bytes(), None)
        .unwrap_err()
        .to_string()
}

#[rstest]
#[case::non_number(format!("{AV}{GOOD1}1999-11-02,135.9687,abc,134.5937,134.5937,6516900.0\n"),
    "bad.csv:3: column 2 `2. high`: `abc` is not a finite number")]
#[case::nan(format!("{AV}{GOOD1}1999-11-02,NaN,137.25,134.5937,134.5937,6516900.0\n"),
    "bad.csv:3: column 1 `1. open`: `NaN` is not a finite number")]
#[case::negative_price(format!("{AV}1999-11-01,136.5,137.0,-135.5625,135.5625,4006500.0\n"),
    "bad.csv:2: column 3 `3. low`: `-135.5625` is not a non-negative price")]
#[case::zero_price(format!("{AV}1999-11-01,136.5,137.0,135.5625,0,4006500.0\n"),
    "bad.csv:2: column 4 `4. close`: `0` is not a positive price")]
#[case::high_below_low(format!("{AV}1999-11-01,136.5,135.0,135.5625,135.5625,4006500.0\n"),
    "bad.csv:2: column 2 `2. high`: `135.0` is not at least max(open, close)")]
#[case::fractional_volume(format!("{AV}1999-11-01,136.5,137.0,135.5625,135.5625,4006500.5\n"),
    "bad.csv:2: column 5 `5. volume`: `4006500.5` is not a non-negative whole number")]
#[case::bad_date(format!("{AV}11/01/1999,136.5,137.0,135.5625,135.5625,4006500.0\n"),
    "bad.csv:2: column 0 `date`: `11/01/1999` is not a date YYYY-MM-DD")]
#[case::empty_value(format!("{AV}1999-11-01,136.5,,135.5625,135.5625,4006500.0\n"),
    "bad.csv:2: column 2 `2. high`: `` is not a finite number")]
#[case::duplicate(format!("{AV}{GOOD1}{GOOD2}{GOOD2}"),
    "bad.csv:4: column 0 `date`: duplicate date 1999-11-02 (first on line 3)")]
#[case::out_of_order(format!("{AV}{GOOD2}{GOOD1}"),
    "bad.csv:3: column 0 `date`: 1999-11-01 comes after 1999-11-02 (line 2): dates must ascend")]
#[case::truncated(format!("{AV}{GOOD1}1999-11-02,135.9687,137.25,134.59"),
    "bad.csv:3: truncated: the last line has no terminating newline")]
#[case::missing_field(format!("{AV}{GOOD1}1999-11-02,135.9687,137.25,134.5937\n"),
    "bad.csv:3: 4 fields where the header has 6")]
#[case::header_only(AV.to_owned(), "bad.csv: no data rows")]
#[case::unknown_header("date,open,high\n1999-11-01,1,2\n".to_owned(),
    "bad.csv:1: unrecognised header `date,open,high`: expected Alpha Vantage daily | Yahoo download | Tiingo daily | DATE,OPEN,HIGH,LOW,CLOSE")]
fn bad_bars_name_file_line_and_column(#[case] body: String, #[case] message: &str) {
    assert_eq!(bars_err(&body), message);
}

#[test]
fn bad_bar_error_carries_the_fields() {
    let body = format!("{AV}{GOOD1}1999-11-02,135.9687,abc,134.5937,134.5937,6516900.0\n");
    match parse_bars(Path::new("bad.csv"), body.as_bytes(), None) {
        Err(DataError::BadValue {
            path,
            line,
            column,
            column_index,
            text,
            ..
        }) => {
            assert_eq!(path, Path::new("bad.csv"));
            assert_eq!(
                (line, column.as_str(), column_index, text.as_str()),
                (3, "2. high", 2, "abc")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tiingo_mixed_symbols_are_an_error() {
    let h = "symbol,date,close,high,low,open,volume,adjClose,adjHigh,adjLow,adjOpen,adjVolume,divCash,splitFactor\n";
    let row = |s: &str, d: &str| {
        format!(
            "{s},{d},368.79,375.45,364.82,375.31,110210810,345.1,351.4,341.4,351.2,110210810,0.0,1.0\n"
        )
    };
    let body = format!(
        "{h}{}{}",
        row("SPY", "2021-01-04"),
        row("QQQ", "2021-01-05")
    );
    assert_eq!(
        bars_err(&body),
        "bad.csv:3: column 0 `symbol`: unknown symbol `QQQ`: expected SPY (the symbol on line 2)"
    );
}

#[test]
fn index_flags_inconsistent_ohlc_but_rejects_damage() {
    let h = "DATE,OPEN,HIGH,LOW,CLOSE\n";
    // High below close, as in CBOE's early VIX rows: kept and flagged.
    let ok = parse_index(
        Path::new("vix.csv"),
        format!("{h}01/02/1990,17.24,17.00,17.24,17.24\n").as_bytes(),
        None,
    )
    .unwrap();
    assert_eq!(ok.flags[0].line, 2);
    assert_eq!(
        ok.flags[0].kind,
        FlagKind::OhlcInconsistent { field: "high" }
    );
    let err = parse_index(
        Path::new("vix.csv"),
        format!("{h}01/02/1990,17.24,17.24,-1,17.24\n").as_bytes(),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "vix.csv:2: column 3 `LOW`: `-1` is not a positive number"
    );
    let err = parse_index(
        Path::new("vvix.csv"),
        b"DATE,VVIX\n03/06/2006,71.73\n03/15/2006,nan\n",
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "vvix.csv:3: column 1 `VVIX`: `nan` is not a finite number"
    );
}

#[test]
fn rates_keep_holidays_missing_and_reject_damage() {
    let ok = parse_rates(
        Path::new("dtb3.csv"),
        b"observation_date,DTB3\n2006-04-13,4.62\n2006-04-14,\n",
        None,
    )
    .unwrap();
    assert_eq!(ok.observations[1].published_percent, None);
    assert_eq!(ok.flags[0].kind, FlagKind::MissingValue);
    let err = parse_rates(
        Path::new("dtb3.csv"),
        b"observation_date,DTB3\n2006-04-13,4.62\n2006-04-14,4,6\n",
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "dtb3.csv:3: 3 fields where the header has 2"
    );
    let err = parse_rates(
        Path::new("dtb3.csv"),
        b"observation_date,DTB3\n2006-04-13,462\n",
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "dtb3.csv:2: column 1 `DTB3`: `462` is not a rate in percent within -5\u{2026}30"
    );
}

const SPY_H: &str = "underlying,underlying_last,optionroot,type,expiration,quotedate,strike,last,bid,ask,volume,openinterest,impliedvol,delta,gamma,theta,vega,optionalias\n";
const SPY_ROW: &str = "SPY,368.79,SPY210129P00345000,put,2021-01-29,2021-01-04,345.0,2.71,2.76,2.78,7424,48199,0.28804,-0.17798,0.00937,-0.1447,0.25147,SPY210129P00345000\n";

fn chain_err(body: &str) -> String {
    parse_chains(Path::new("chain.csv"), body.as_bytes(), &allow(&["SPY"]))
        .unwrap_err()
        .to_string()
}

#[rstest]
#[case::unknown_underlying(SPY_ROW.replacen("SPY,", "QQQ,", 1),
    "chain.csv:2: column 0 `underlying`: unknown symbol `QQQ`: expected one of [SPY]")]
#[case::foreign_root(SPY_ROW.replacen("SPY210129P", "QQQ210129P", 1),
    "chain.csv:2: column 2 `optionroot`: unknown symbol `QQQ`: expected an option root of SPY")]
#[case::negative_bid(SPY_ROW.replacen(",2.76,", ",-2.76,", 1),
    "chain.csv:2: column 8 `bid`: `-2.76` is not a non-negative price")]
#[case::nan_iv(SPY_ROW.replacen(",0.28804,", ",NaN,", 1),
    "chain.csv:2: column 12 `impliedvol`: `NaN` is not a finite number")]
#[case::right_mismatch(SPY_ROW.replacen(",put,", ",call,", 1),
    "chain.csv:2: column 3 `type`: `call` is not the right of the symbol SPY210129P00345000")]
#[case::bad_symbol(SPY_ROW.replacen("SPY210129P00345000,put", "SPY2101P00345000,put", 1),
    "chain.csv:2: column 2 `optionroot`: `SPY2101P00345000` is not an OCC option symbol")]
#[case::spot_changes(format!("{SPY_ROW}{}", SPY_ROW.replacen("368.79", "368.80", 1).replacen("P00345000", "P00350000", 2).replacen(",345.0,", ",350.0,", 1)),
    "chain.csv:3: column 1 `underlying_last`: `368.80` is not the day's underlying price 368.79 (line 2)")]
#[case::duplicate(format!("{SPY_ROW}{SPY_ROW}"),
    "chain.csv:3: column 2 `optionroot`: duplicate SPY   210129P00345000 on 2021-01-04 (first on line 2)")]
fn bad_chains_name_file_line_and_column(#[case] rows: String, #[case] message: &str) {
    assert_eq!(chain_err(&format!("{SPY_H}{rows}")), message);
}

#[test]
fn crossed_quotes_are_flagged_not_rejected() {
    let crossed = SPY_ROW.replacen(",2.76,2.78,", ",2.80,2.78,", 1);
    let got = parse_chains(
        Path::new("c.csv"),
        format!("{SPY_H}{crossed}").as_bytes(),
        &allow(&["SPY"]),
    )
    .unwrap();
    assert_eq!(got.flags.len(), 1);
    assert_eq!(got.flags[0].line, 2);
    assert_eq!(got.days[0].quotes.len(), 1);
}

#[test]
fn vxx_leading_space_header_is_recognised() {
    let body = "underlying,underlying_last, exchange,optionroot,optionext,type,expiration,quotedate,strike,last,bid,ask,volume,openinterest,impliedvol,delta,gamma,theta,vega,optionalias\n\
                VXX,28.95,W,VXX161202C00020000,,call,12/02/2016,12/01/2016,20,7.96,8.75,8.95,0,1,0.01,0,0,0,0,\n";
    let got = parse_chains(Path::new("v.csv"), body.as_bytes(), &allow(&["VXX"])).unwrap();
    assert_eq!(got.format, ChainFormat::HistoricalOptionData);
    assert_eq!(got.days[0].quotes[0].last, Some("7.96".parse().unwrap()));
}

// ---------------------------------------------------------------- all or nothing

/// One generated row: good, or broken in one of several ways.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Good,
    NotANumber,
    Nan,
    Negative,
    HighBelowLow,
    Short,
}

fn render(day: u32, kind: Kind) -> String {
    let date = d("2000-01-03") + chrono::Days::new(u64::from(day));
    match kind {
        Kind::Good => format!("{date},10.5,11.0,10.0,10.75,1000.0"),
        Kind::NotANumber => format!("{date},10.5,1l.0,10.0,10.75,1000.0"),
        Kind::Nan => format!("{date},10.5,11.0,NaN,10.75,1000.0"),
        Kind::Negative => format!("{date},10.5,11.0,10.0,-10.75,1000.0"),
        Kind::HighBelowLow => format!("{date},10.5,9.0,10.0,10.75,1000.0"),
        Kind::Short => format!("{date},10.5,11.0,10.0"),
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        8 => Just(Kind::Good),
        1 => Just(Kind::NotANumber),
        1 => Just(Kind::Nan),
        1 => Just(Kind::Negative),
        1 => Just(Kind::HighBelowLow),
        1 => Just(Kind::Short),
    ]
}

proptest! {
    #[test]
    fn a_file_parses_completely_or_not_at_all(kinds in prop::collection::vec(kind(), 1..40)) {
        let mut body = AV.to_owned();
        for (i, k) in kinds.iter().enumerate() {
            body.push_str(&render(i as u32, *k));
            body.push('\n');
        }
        let first_bad = kinds.iter().position(|k| !matches!(k, Kind::Good));
        match (parse_bars(Path::new("p.csv"), body.as_bytes(), None), first_bad) {
            (Ok(got), None) => prop_assert_eq!(got.bars.len(), kinds.len()),
            (Err(e), Some(_)) => {
                // The error names the line of a bad row (header = line 1): the first one, or
                // a short row, since field counts are checked before values.
                let named = match &e {
                    DataError::BadValue { line: l, .. } | DataError::FieldCount { line: l, .. } => *l,
                    other => panic!("unexpected {other}"),
                };
                let k = kinds[usize::try_from(named).unwrap() - 2];
                prop_assert!(!matches!(k, Kind::Good), "{} names a good row", e);
            }
            (Ok(got), Some(i)) => prop_assert!(false, "row {} is bad but {} bars parsed", i, got.bars.len()),
            (Err(e), None) => prop_assert!(false, "all rows good but {}", e),
        }
    }
}
