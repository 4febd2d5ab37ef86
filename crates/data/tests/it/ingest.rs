//! Files into a store, end to end: every real file of the shared data (row counts from its
//! README, spot values read back), re-imports that change nothing, bad files that leave the
//! store identical (table dumps compared), Parquet chains, and all-or-nothing as a property.

// The real-data helper is volta-core's, shared rather than copied.
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use proptest::prelude::*;
use rstest::rstest;
use rusqlite::Connection;
use volta_core::{Price, Underlying};
use volta_data::DataDir;
use volta_data::DataError;
use volta_data::import::{ChainRequest, RateSeries};
use volta_data::ingest::{
    BarsOptions, DataDirOptions, IngestKind, Progress, SnapshotTime, ingest_bars, ingest_chains,
    ingest_data_dir, ingest_index, ingest_rates,
};
use volta_data::store::{Coverage, DataKind, MarketStore, SqliteStore};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(date: &str, h: u32, m: u32) -> NaiveDateTime {
    d(date).and_hms_opt(h, m, 0).unwrap()
}

fn u(s: &str) -> Underlying {
    Underlying::try_new(s).unwrap()
}

fn p(s: &str) -> Price {
    s.parse().unwrap()
}

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("volta.db")).unwrap();
    (dir, store)
}

/// Every row of every table, as text, in key order: "the store exactly as it was".
fn dump(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        // Table names come from sqlite_schema, not from input: quoting them is safe.
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                Ok(format!("{t}: {}", cells.join(" | ")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.extend(rows);
    }
    out
}

fn coverage_of(store: &SqliteStore, kind: DataKind, symbol: &str) -> Coverage {
    store
        .coverage()
        .unwrap()
        .into_iter()
        .find(|c| c.kind == kind && c.symbol.as_str() == symbol)
        .unwrap_or_else(|| panic!("no {kind:?} coverage of {symbol}"))
}

// ---------------------------------------------------------------- bars

#[rstest]
#[case(
    "underlying/SPY_daily_unadjusted.csv",
    "SPY",
    6045,
    "1999-11-01",
    "2023-11-08"
)]
#[case(
    "underlying/QQQ_daily_unadjusted.csv",
    "QQQ",
    6045,
    "1999-11-01",
    "2023-11-08"
)]
#[case(
    "underlying/IWM_daily_unadjusted.csv",
    "IWM",
    5901,
    "2000-05-26",
    "2023-11-08"
)]
#[case(
    "underlying/SPY_tiingo_2021.csv",
    "SPY",
    252,
    "2021-01-04",
    "2021-12-31"
)]
#[case(
    "underlying/GSPC_daily_ohlc.csv",
    "GSPC",
    24080,
    "1927-12-30",
    "2023-11-08"
)]
#[case(
    "underlying/NDX_daily_ohlc.csv",
    "NDX",
    9605,
    "1985-10-01",
    "2023-11-08"
)]
#[case(
    "underlying/GSPC_daily_ohlcv_arch_1999_2018.csv",
    "GSPC",
    5031,
    "1999-01-04",
    "2018-12-31"
)]
#[case(
    "underlying/IXIC_daily_ohlcv_arch_1999_2018.csv",
    "IXIC",
    5031,
    "1999-01-04",
    "2018-12-31"
)]
fn every_bar_file_ingests_once(
    #[case] file: &str,
    #[case] symbol: &str,
    #[case] rows: u64,
    #[case] first: &str,
    #[case] last: &str,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let (_dir, mut store) = fresh();
    // No symbol given: the file's own (Tiingo) or the file name's.
    let s = ingest_bars(&mut store, &path, &BarsOptions::default()).unwrap();
    assert_eq!(s.kind, IngestKind::Bars);
    assert_eq!(s.symbols, [symbol]);
    assert_eq!((s.rows_read, s.rows_changed), (rows, rows));
    assert_eq!(s.dates, Some((d(first), d(last))));
    let c = coverage_of(&store, DataKind::DailyBars, symbol);
    assert_eq!((c.first, c.last, c.rows), (d(first), d(last), rows));
    let again = ingest_bars(&mut store, &path, &BarsOptions::default()).unwrap();
    assert_eq!((again.rows_read, again.rows_changed), (rows, 0));
}

#[test]
fn spy_reads_back_and_tiingo_agrees_with_alpha_vantage() {
    let (Some(av), Some(tiingo)) = (
        DataDir::test_file("underlying/SPY_daily_unadjusted.csv"),
        DataDir::test_file("underlying/SPY_tiingo_2021.csv"),
    ) else {
        return;
    };
    let (_dir, mut store) = fresh();
    ingest_bars(&mut store, &av, &BarsOptions::default()).unwrap();
    let last = store
        .daily_bars(&u("SPY"), d("2023-11-08"), d("2023-11-08"))
        .unwrap();
    // The file's last row: 2023-11-08,437.55,438.09,434.87,437.25,61746027.0
    let o = last[0].ohlcv;
    assert_eq!(
        (o.open(), o.high(), o.low(), o.close(), o.volume()),
        (
            p("437.55"),
            p("438.09"),
            p("434.87"),
            p("437.25"),
            61_746_027
        )
    );
    // Tiingo's raw 2021 bars are the Alpha Vantage ones: writing them changes nothing.
    let s = ingest_bars(&mut store, &tiingo, &BarsOptions::default()).unwrap();
    assert_eq!((s.rows_read, s.rows_changed), (252, 0));
    // A symbol that contradicts the file's own is refused.
    let wrong = BarsOptions {
        symbol: Some(u("QQQ")),
        ..BarsOptions::default()
    };
    let e = ingest_bars(&mut store, &tiingo, &wrong).unwrap_err();
    assert!(e.to_string().contains("holds SPY"), "{e}");
}

#[rstest]
// QQQ 2:1 on 2000-03-20: 2000-03-17 close 221.6 → 110.8, volume 15711200 → 31422400.
#[case(
    "underlying/QQQ_daily_unadjusted.csv",
    "QQQ",
    "2000-03-17",
    "221.6",
    "110.8",
    31_422_400,
    "2000-03-20"
)]
// IWM 2:1 on 2005-06-09: 2005-06-08 close 123.43 → 61.715, volume 9042900 → 18085800.
#[case(
    "underlying/IWM_daily_unadjusted.csv",
    "IWM",
    "2005-06-08",
    "123.43",
    "61.715",
    18_085_800,
    "2005-06-09"
)]
fn raw_bars_are_split_adjusted_on_request(
    #[case] file: &str,
    #[case] symbol: &str,
    #[case] day: &str,
    #[case] raw: &str,
    #[case] adjusted: &str,
    #[case] adjusted_volume: u64,
    #[case] effective: &str,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let (_dir, mut store) = fresh();
    let s = ingest_bars(&mut store, &path, &BarsOptions::default()).unwrap();
    assert!(s.splits_applied.is_empty());
    let close =
        |store: &SqliteStore| store.daily_bars(&u(symbol), d(day), d(day)).unwrap()[0].ohlcv;
    assert_eq!(close(&store).close(), p(raw));
    let adjust = BarsOptions {
        adjust_splits: true,
        ..BarsOptions::default()
    };
    let s = ingest_bars(&mut store, &path, &adjust).unwrap();
    assert_eq!(s.splits_applied.len(), 1);
    assert_eq!(s.splits_applied[0].effective, d(effective));
    assert!(s.to_string().contains("adjusted for the 2:1 split"), "{s}");
    // Every bar before the split changed, none after.
    let before = store
        .daily_bars(&u(symbol), d("1990-01-01"), d(day))
        .unwrap()
        .len() as u64;
    assert_eq!(s.rows_changed, before);
    assert_eq!(close(&store).close(), p(adjusted));
    assert_eq!(close(&store).volume(), adjusted_volume);
    assert_eq!(
        ingest_bars(&mut store, &path, &adjust)
            .unwrap()
            .rows_changed,
        0
    );
}

// ---------------------------------------------------------------- indices and rates

#[rstest]
#[case("vol/VIX_History.csv", "VIX", 8538, "1990-01-02", 82.69, Some(57.83))]
#[case(
    "vol/VIX3M_History.csv",
    "VIX3M",
    3560,
    "2009-09-18",
    67.70,
    Some(48.31)
)]
#[case(
    "vol/VIX9D_History.csv",
    "VIX9D",
    3234,
    "2011-01-04",
    106.66,
    Some(69.87)
)]
#[case("vol/VVIX_History.csv", "VVIX", 4391, "2006-03-06", 207.59, None)]
#[case("vol/SKEW_History.csv", "SKEW", 8515, "1990-01-02", 114.66, None)]
fn every_index_file_ingests_once(
    #[case] file: &str,
    #[case] symbol: &str,
    #[case] rows: u64,
    #[case] first: &str,
    #[case] close_2020_03_16: f64,
    #[case] open_2020_03_16: Option<f64>,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let (_dir, mut store) = fresh();
    let s = ingest_index(&mut store, &path, None).unwrap();
    assert_eq!(s.symbols, [symbol]);
    assert_eq!((s.rows_read, s.rows_changed), (rows, rows));
    let c = coverage_of(&store, DataKind::IndexValues, symbol);
    assert_eq!((c.first, c.last, c.rows), (d(first), d("2023-11-08"), rows));
    let day = store
        .index_values(&u(symbol), d("2020-03-16"), d("2020-03-16"))
        .unwrap();
    assert_eq!(day[0].close, close_2020_03_16);
    assert_eq!(day[0].open, open_2020_03_16);
    if symbol == "VIX" {
        // README: 47 early rows with OHLC inconsistencies as CBOE published them.
        assert_eq!(s.flag_counts().get("ohlc_inconsistent"), Some(&47));
    }
    assert_eq!(
        ingest_index(&mut store, &path, None).unwrap().rows_changed,
        0
    );
}

#[test]
fn an_index_symbol_that_cannot_be_inferred_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("levels-2020.csv");
    std::fs::write(
        &path,
        "DATE,OPEN,HIGH,LOW,CLOSE\n03/16/2020,57.83,83.56,57.83,82.69\n",
    )
    .unwrap();
    let (_sdir, mut store) = fresh();
    let e = ingest_index(&mut store, &path, None).unwrap_err();
    assert!(
        e.to_string().contains("cannot infer the index symbol"),
        "{e}"
    );
    let s = ingest_index(&mut store, &path, Some(&u("VIX"))).unwrap();
    assert_eq!((s.symbols[0].as_str(), s.rows_changed), ("VIX", 1));
}

#[test]
fn rates_ingest_with_missing_holidays_kept_missing() {
    let (Some(dtb3), Some(dff)) = (
        DataDir::test_file("rates/DTB3.csv"),
        DataDir::test_file("rates/DFF.csv"),
    ) else {
        return;
    };
    let (_dir, mut store) = fresh();
    let s = ingest_rates(&mut store, &dtb3, None).unwrap();
    assert_eq!((s.rows_read, s.rows_changed), (4598, 4598));
    assert_eq!(s.flag_counts().get("missing_value"), Some(&186));
    // DFF's `date,value` header needs the series named: the file name does it.
    let s = ingest_rates(&mut store, &dff, None).unwrap();
    assert_eq!((s.symbols[0].as_str(), s.rows_read), ("DFF", 25333));
    let c = coverage_of(&store, DataKind::Rates, "DFF");
    assert_eq!(
        (c.first, c.last, c.rows),
        (d("1954-07-01"), d("2023-11-08"), 25333)
    );
    let all = store
        .rates(RateSeries::Dtb3, d("2000-01-01"), d("2030-01-01"))
        .unwrap();
    assert_eq!(all.len(), 4598);
    assert_eq!(
        all.iter().filter(|o| o.published_percent.is_none()).count(),
        186
    );
    assert!(
        all.iter()
            .all(|o| o.published_percent.is_none() == o.continuous.is_none())
    );
    let last = all.last().unwrap();
    // 5.28 % discount, 91 days: −ln(1 − 0.0528·91/360)·365/91 = 0.05389379… (bc -l).
    assert_eq!(last.published_percent, Some(5.28));
    assert!((last.continuous.unwrap() - 0.053_893_790).abs() < 1e-9);
    let dff_last = store
        .rates(RateSeries::Dff, d("2023-11-08"), d("2023-11-08"))
        .unwrap();
    assert_eq!(dff_last[0].published_percent, Some(5.33));
    assert_eq!(
        ingest_rates(&mut store, &dtb3, None).unwrap().rows_changed,
        0
    );
    assert_eq!(
        ingest_rates(&mut store, &dff, None).unwrap().rows_changed,
        0
    );
}

// ---------------------------------------------------------------- chains

fn any_chain() -> ChainRequest {
    ChainRequest::default()
}

#[test]
fn every_cboe_spx_day_ingests_stamped_before_the_close() {
    let Some(one) = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv") else {
        return;
    };
    let dir = one.parent().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 54);
    let (_sdir, mut store) = fresh();
    let mut read = 0;
    for f in &files {
        let s = ingest_chains(&mut store, f, &any_chain(), SnapshotTime::FormatDefault).unwrap();
        assert_eq!(s.symbols, ["SPX"]);
        assert_eq!(s.rows_changed, s.rows_read + 1, "{}", f.display());
        read += s.rows_read;
    }
    // 753 716 data rows in the 54 gzipped files (zcat | tail -n +2 | wc -l).
    assert_eq!(read, 753_716);
    let c = coverage_of(&store, DataKind::Chains, "SPX");
    assert_eq!(
        (c.first, c.last, c.rows),
        (d("2019-04-25"), d("2019-07-18"), 54)
    );
    // 15 minutes before the close: 15:45, and 12:45 on the half day 2019-07-03.
    assert_eq!(
        store.snapshot_times(&u("SPX"), d("2019-04-25")).unwrap(),
        [at("2019-04-25", 15, 45)]
    );
    assert_eq!(
        store.snapshot_times(&u("SPX"), d("2019-07-03")).unwrap(),
        [at("2019-07-03", 12, 45)]
    );
    let chain = store.chain_on(&u("SPX"), d("2019-04-25")).unwrap().unwrap();
    assert_eq!(chain.len(), 13340);
    assert_eq!(chain.underlying_price(), p("2919.04"));
    // The uncompressed copy of 2019-04-25 is the same day: nothing changes.
    let s = ingest_chains(&mut store, &one, &any_chain(), SnapshotTime::FormatDefault).unwrap();
    assert_eq!((s.rows_read, s.rows_changed), (13340, 0));
    let s = ingest_chains(
        &mut store,
        &files[53],
        &any_chain(),
        SnapshotTime::FormatDefault,
    )
    .unwrap();
    assert_eq!(s.rows_changed, 0);
    // Another policy gives another snapshot of the same day.
    let close = SnapshotTime::SessionClose;
    let s = ingest_chains(&mut store, &one, &any_chain(), close).unwrap();
    assert_eq!(s.snapshot_times, [at("2019-04-25", 16, 0)]);
    assert_eq!(
        store
            .snapshot_times(&u("SPX"), d("2019-04-25"))
            .unwrap()
            .len(),
        2
    );
}

#[rstest]
#[case("options/SPY_sampled20_2021-01-04_to_2021-12-29.csv", &[], 5000, 250, 17)]
#[case("options/SPX_ivolatility_2011-01-03_to_2011-01-06.csv", &[], 7826, 4, 0)]
#[case("options/AAPL_ivolatility_2014-08-07_to_2014-08-08.csv", &["AAPL", "SPY"], 3644, 2, 0)]
#[case("options/VXX_historicaloptiondata_2016-12-01_to_2016-12-29.csv", &[], 26694, 19, 0)]
#[case("options/A_historicaloptiondata_2016-01-05.csv", &[], 208, 1, 0)]
fn every_vendor_chain_file_ingests_once(
    #[case] file: &str,
    #[case] allowed: &[&str],
    #[case] rows: u64,
    #[case] days: usize,
    #[case] crossed: usize,
) {
    let Some(path) = DataDir::test_file(file) else {
        return;
    };
    let (_dir, mut store) = fresh();
    let request = ChainRequest {
        allowed: allowed.iter().map(|s| u(s)).collect(),
        ..ChainRequest::default()
    };
    let s = ingest_chains(&mut store, &path, &request, SnapshotTime::FormatDefault).unwrap();
    assert_eq!(s.rows_read, rows);
    assert_eq!(s.snapshot_times.len(), days);
    assert_eq!(s.rows_changed, rows + days as u64);
    // End-of-day vendors: stamped at the session close, 16:00 or 13:00 on half days (the SPY
    // sample holds 2021-11-26, the day after Thanksgiving).
    for t in &s.snapshot_times {
        let close = volta_core::NyseCalendar.session_close(t.date()).unwrap();
        assert_eq!(Some(t.time()), close, "{t}");
    }
    let half_days = s
        .snapshot_times
        .iter()
        .filter(|t| t.time() == NaiveTime::from_hms_opt(13, 0, 0).unwrap())
        .count();
    assert_eq!(half_days, usize::from(file.contains("SPY_sampled20")));
    assert_eq!(
        s.flag_counts().get("crossed").copied().unwrap_or(0),
        crossed
    );
    let again = ingest_chains(&mut store, &path, &request, SnapshotTime::FormatDefault).unwrap();
    assert_eq!(again.rows_changed, 0);
}

#[test]
fn spy_sample_reads_back_its_vendor_values() {
    let Some(path) = DataDir::test_file("options/SPY_sampled20_2021-01-04_to_2021-12-29.csv")
    else {
        return;
    };
    let (_dir, mut store) = fresh();
    ingest_chains(&mut store, &path, &any_chain(), SnapshotTime::FormatDefault).unwrap();
    let chain = store.chain_on(&u("SPY"), d("2021-01-04")).unwrap().unwrap();
    assert_eq!(chain.as_of(), at("2021-01-04", 16, 0));
    assert_eq!(chain.len(), 20);
    // README: underlying_last matches SPY's real close (Tiingo raw close 368.79 on 2021-01-04).
    assert_eq!(chain.underlying_price(), p("368.79"));
}

#[test]
fn quantconnect_universes_take_date_from_the_name_and_price_from_the_caller() {
    let Some(path) = DataDir::test_file("options/SPX_quantconnect_universe_20151222.csv") else {
        return;
    };
    let (_dir, mut store) = fresh();
    let before = dump(store.path());
    let e =
        ingest_chains(&mut store, &path, &any_chain(), SnapshotTime::FormatDefault).unwrap_err();
    assert!(e.to_string().contains("no underlying price"), "{e}");
    assert_eq!(dump(store.path()), before);
    let request = ChainRequest {
        // ^GSPC closed at 2038.969970703125 on 2015-12-22 (GSPC_daily_ohlc.csv).
        underlying_price: Some(p("2038.969970703125")),
        ..ChainRequest::default()
    };
    let s = ingest_chains(&mut store, &path, &request, SnapshotTime::FormatDefault).unwrap();
    assert_eq!(
        (s.rows_read, s.snapshot_times.clone()),
        (233, vec![at("2015-12-22", 16, 0)])
    );
}

// ---------------------------------------------------------------- bad files

/// A store holding real SPY bars, VIX and one SPX chain day: what a bad file must not touch.
fn populated() -> Option<(tempfile::TempDir, SqliteStore)> {
    let spy = DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    let vix = DataDir::test_file("vol/VIX_History.csv")?;
    let spx = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv")?;
    let (dir, mut store) = fresh();
    ingest_bars(&mut store, &spy, &BarsOptions::default()).unwrap();
    ingest_index(&mut store, &vix, None).unwrap();
    ingest_chains(&mut store, &spx, &any_chain(), SnapshotTime::FormatDefault).unwrap();
    Some((dir, store))
}

/// The real file's lines with every close of the first half changed (so that a partial
/// import would show) and `damage` applied to the line list.
fn damaged(real: &Path, damage: impl FnOnce(&mut Vec<String>)) -> String {
    let text = std::fs::read_to_string(real).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let half = lines.len() / 2;
    for line in &mut lines[1..half] {
        // date,open,high,low,close,volume: raise the high and the close by 0.01.
        let mut f: Vec<String> = line.split(',').map(str::to_owned).collect();
        for i in [2, 4] {
            let x: rust_decimal::Decimal = f[i].parse().unwrap();
            f[i] = (x + rust_decimal::Decimal::new(1, 2)).to_string();
        }
        *line = f.join(",");
    }
    damage(&mut lines);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[rstest]
#[case::bad_number_in_the_middle("bad number", |l: &mut Vec<String>| {
    let mid = l.len() * 3 / 4;
    let mut f: Vec<String> = l[mid].split(',').map(str::to_owned).collect();
    f[2] = "13x.5".to_owned();
    l[mid] = f.join(",");
}, "`13x.5` is not a finite number")]
#[case::duplicate("duplicate", |l: &mut Vec<String>| {
    let mid = l.len() * 3 / 4;
    let copy = l[mid].clone();
    l.insert(mid + 1, copy);
}, "duplicate date")]
#[case::out_of_order("out of order", |l: &mut Vec<String>| {
    let mid = l.len() * 3 / 4;
    l.swap(mid, mid + 1);
}, "dates must ascend")]
#[case::truncated("truncated", |l: &mut Vec<String>| {
    let last = l.len() - 1;
    l[last].truncate(12);
}, "")]
fn a_bad_bar_file_leaves_the_store_identical(
    #[case] what: &str,
    #[case] damage: fn(&mut Vec<String>),
    #[case] message: &str,
) {
    let Some(real) = DataDir::test_file("underlying/SPY_daily_unadjusted.csv") else {
        return;
    };
    let Some((dir, mut store)) = populated() else {
        return;
    };
    let mut body = damaged(&real, damage);
    if message.is_empty() {
        // Truncated: the last line is cut mid-value and has no final newline.
        body.pop();
    }
    let path = dir.path().join("SPY_damaged.csv");
    std::fs::write(&path, body).unwrap();
    let before = dump(store.path());
    let changes = store.total_changes();
    let e = ingest_bars(&mut store, &path, &BarsOptions::default()).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    if message.is_empty() {
        assert!(matches!(e, DataError::Truncated { .. }), "{text}");
    } else {
        assert!(text.contains(message), "{what}: {text}");
    }
    assert_eq!(store.total_changes(), changes, "{what}");
    assert_eq!(dump(store.path()), before);
}

#[test]
fn a_chain_file_with_an_unknown_symbol_leaves_the_store_identical() {
    let Some(aapl) = DataDir::test_file("options/AAPL_ivolatility_2014-08-07_to_2014-08-08.csv")
    else {
        return;
    };
    let Some((_dir, mut store)) = populated() else {
        return;
    };
    let before = dump(store.path());
    // The file name allows AAPL; the second day is labelled SPY: nothing of day one goes in.
    let e =
        ingest_chains(&mut store, &aapl, &any_chain(), SnapshotTime::FormatDefault).unwrap_err();
    assert!(
        e.to_string()
            .ends_with(":1824: column 0 `symbol`: unknown symbol `SPY`: expected one of [AAPL]"),
        "{e}"
    );
    assert_eq!(dump(store.path()), before);
}

#[test]
fn a_crossed_quote_is_flagged_not_fatal() {
    let Some((dir, mut store)) = populated() else {
        return;
    };
    let path = dir.path().join("SPY_crossed.csv");
    std::fs::write(
        &path,
        "underlying,underlying_last,optionroot,type,expiration,quotedate,strike,last,bid,ask,volume,openinterest,impliedvol,delta,gamma,theta,vega,optionalias\n\
         SPY,446.26,SPY210917C00445000,call,2021-09-17,2021-09-17,445.0,1.2,1.30,1.25,10,100,0.1,0.6,0.1,-0.5,0.01,X\n",
    )
    .unwrap();
    let s = ingest_chains(&mut store, &path, &any_chain(), SnapshotTime::FormatDefault).unwrap();
    assert_eq!(s.flag_counts().get("crossed"), Some(&1));
    assert_eq!(s.rows_changed, 2);
    let chain = store.chain_on(&u("SPY"), d("2021-09-17")).unwrap().unwrap();
    let q = chain.iter().next().unwrap();
    assert_eq!((q.bid, q.ask), (Some(p("1.30")), Some(p("1.25"))));
}

#[test]
fn a_chain_dated_on_a_holiday_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SPY_holiday.csv");
    std::fs::write(
        &path,
        "underlying,underlying_last,optionroot,type,expiration,quotedate,strike,last,bid,ask,volume,openinterest,impliedvol,delta,gamma,theta,vega,optionalias\n\
         SPY,430.00,SPY210917C00445000,call,2021-09-17,2021-07-05,445.0,1.2,1.20,1.25,10,100,0.1,0.6,0.1,-0.5,0.01,X\n",
    )
    .unwrap();
    let (_sdir, mut store) = fresh();
    let e =
        ingest_chains(&mut store, &path, &any_chain(), SnapshotTime::FormatDefault).unwrap_err();
    assert!(
        e.to_string().contains("2021-07-05 is not an NYSE session"),
        "{e}"
    );
    // A fixed time needs no session.
    let fixed = SnapshotTime::At(NaiveTime::from_hms_opt(15, 0, 0).unwrap());
    let s = ingest_chains(&mut store, &path, &any_chain(), fixed).unwrap();
    assert_eq!(s.snapshot_times, [at("2021-07-05", 15, 0)]);
}

// ---------------------------------------------------------------- Parquet

#[cfg(feature = "parquet")]
mod parquet_chains {
    use super::*;
    use volta_data::parquet::{read_chains_parquet, write_chains_parquet};

    fn real_chains() -> Option<Vec<volta_core::ChainSnapshot>> {
        let spx = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv")?;
        let spy = DataDir::test_file("options/SPY_sampled20_2021-01-04_to_2021-12-29.csv")?;
        let (_dir, mut store) = fresh();
        ingest_chains(&mut store, &spx, &any_chain(), SnapshotTime::FormatDefault).unwrap();
        ingest_chains(&mut store, &spy, &any_chain(), SnapshotTime::FormatDefault).unwrap();
        let mut chains = vec![store.chain_on(&u("SPX"), d("2019-04-25")).unwrap().unwrap()];
        for day in ["2021-01-04", "2021-09-17", "2021-12-29"] {
            chains.push(store.chain_on(&u("SPY"), d(day)).unwrap().unwrap());
        }
        Some(chains)
    }

    #[test]
    fn parquet_chains_round_trip_exactly_and_ingest_like_the_csv() {
        let Some(chains) = real_chains() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chains.parquet");
        let n = write_chains_parquet(&path, &chains).unwrap();
        assert_eq!(n, 13340 + 60);
        let back = read_chains_parquet(&path).unwrap();
        assert_eq!(back, chains);

        let (_sdir, mut store) = fresh();
        let s =
            ingest_chains(&mut store, &path, &any_chain(), SnapshotTime::FormatDefault).unwrap();
        assert_eq!((s.format.as_str(), s.rows_read), ("Parquet", 13400));
        assert_eq!(s.rows_changed, 13400 + 4);
        // The Parquet file keeps the CSV import's 15:45 stamp.
        assert_eq!(
            store.chain_on(&u("SPX"), d("2019-04-25")).unwrap().as_ref(),
            Some(&chains[0])
        );
        assert_eq!(
            ingest_chains(&mut store, &path, &any_chain(), SnapshotTime::FormatDefault)
                .unwrap()
                .rows_changed,
            0
        );
        let only_qqq = ChainRequest {
            allowed: vec![u("QQQ")],
            ..ChainRequest::default()
        };
        let e =
            ingest_chains(&mut store, &path, &only_qqq, SnapshotTime::FormatDefault).unwrap_err();
        assert!(matches!(e, DataError::UnknownSymbol { .. }), "{e}");
    }

    /// The small SPY chain written to Parquet, then rewritten through polars with `edit`.
    fn edited_parquet(
        dir: &Path,
        edit: impl FnOnce(polars::prelude::DataFrame) -> polars::prelude::DataFrame,
    ) -> Option<PathBuf> {
        use polars::prelude::{ParquetReader, ParquetWriter, SerReader};
        let chains = real_chains()?;
        let good = dir.join("good.parquet");
        write_chains_parquet(&good, &chains[1..]).unwrap();
        let df = ParquetReader::new(std::fs::File::open(&good).unwrap())
            .finish()
            .unwrap();
        let mut df = edit(df);
        let bad = dir.join("bad.parquet");
        ParquetWriter::new(std::fs::File::create(&bad).unwrap())
            .finish(&mut df)
            .unwrap();
        Some(bad)
    }

    #[test]
    fn bad_parquet_names_file_row_and_column_and_changes_nothing() {
        use polars::prelude::{DataType, IntoColumn, NamedFrom, Series};
        let dir = tempfile::tempdir().unwrap();
        let Some(missing) = edited_parquet(dir.path(), |df| df.drop("ask").unwrap()) else {
            return;
        };
        let e = read_chains_parquet(&missing).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("bad.parquet: no column `ask` (Volta Parquet chains need it)"),
            "{e}"
        );

        let typed = edited_parquet(dir.path(), |mut df| {
            let as_float = df.column("bid").unwrap().cast(&DataType::Float64).unwrap();
            df.with_column(as_float).unwrap();
            df
        })
        .unwrap();
        let e = read_chains_parquet(&typed).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("bad.parquet: column `bid` has type f64: expected String"),
            "{e}"
        );

        let negative = edited_parquet(dir.path(), |mut df| {
            let n = df.height();
            let mut bids: Vec<Option<String>> = df
                .column("bid")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect();
            bids[n / 2] = Some("-1.25".to_owned());
            df.with_column(Series::new("bid".into(), bids).into_column())
                .unwrap();
            df
        })
        .unwrap();
        let e = read_chains_parquet(&negative).unwrap_err();
        assert!(
            e.to_string().ends_with(
                "bad.parquet: row 30 (0-based) column `bid`: `-1.25` is not a decimal price ≥ 0"
            ),
            "{e}"
        );
        let Some((_sdir, mut store)) = populated() else {
            return;
        };
        let before = dump(store.path());
        for bad in [&missing, &typed, &negative] {
            assert!(
                ingest_chains(&mut store, bad, &any_chain(), SnapshotTime::FormatDefault).is_err()
            );
        }
        assert_eq!(dump(store.path()), before);
    }
}

// ---------------------------------------------------------------- the data folder

#[test]
fn the_whole_data_folder_ingests_and_a_second_pass_changes_nothing() {
    if DataDir::test_file("README.md").is_none() {
        return;
    }
    let data = &DataDir::from_env();
    let (_dir, mut store) = fresh();
    let mut events = Vec::new();
    let mut progress = |p: Progress<'_>| {
        events.push(match p {
            Progress::Started { index, total, .. } => (index, total, None),
            Progress::Finished {
                index,
                total,
                outcome,
                ..
            } => (index, total, Some(outcome.is_ok())),
        });
    };
    let options = DataDirOptions {
        adjust_splits: true,
        ..DataDirOptions::default()
    };
    let report = ingest_data_dir(&mut store, data, &options, &mut progress).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // 7 bar files, 5 indices, the put/call ratios, 2 rates, 6 vendor chain files and 55 CBOE
    // SPX files.
    assert_eq!(report.imported.len(), 76);
    assert_eq!(events.len(), 2 * 76);
    assert!(events.iter().all(|e| e.1 == 76 && e.2 != Some(false)));
    let mut skipped: Vec<String> = report
        .skipped
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "csv"))
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "AAPL_ivolatility_2014-08-07_to_2014-08-08.csv",
            "GSPC_daily_ohlcv_arch_1999_2018.csv",
        ]
    );
    let qc = store.chain_on(&u("SPX"), d("2015-12-22")).unwrap().unwrap();
    assert_eq!(
        (qc.len(), qc.underlying_price()),
        (233, p("2038.969970703125"))
    );
    let qqq = store
        .daily_bars(&u("QQQ"), d("2000-03-17"), d("2000-03-17"))
        .unwrap();
    assert_eq!(qqq[0].ohlcv.close(), p("110.8"));
    let vix = store
        .index_values(&u("VIX"), d("2020-03-16"), d("2020-03-16"))
        .unwrap();
    assert_eq!(vix[0].close, 82.69);
    // The put/call ratios of the same day (the file's TOTAL, EQUITY and INDEX columns).
    let ratio = |symbol: &str| {
        store
            .index_values(&u(symbol), d("2020-03-16"), d("2020-03-16"))
            .unwrap()[0]
            .close
    };
    assert_eq!(
        [ratio("PCR.TOTAL"), ratio("PCR.EQUITY"), ratio("PCR.INDEX")],
        [1.28, 1.0, 1.25]
    );

    let before = dump(store.path());
    let again = ingest_data_dir(&mut store, data, &options, &mut |_| {}).unwrap();
    assert!(again.failed.is_empty());
    assert!(again.imported.iter().all(|s| s.rows_changed == 0));
    assert_eq!(dump(store.path()), before);
}

// ---------------------------------------------------------------- all or nothing

#[derive(Debug, Clone, Copy)]
enum Kind {
    Good,
    NotANumber,
    Negative,
    HighBelowLow,
    Short,
}

fn render(day: u64, salt: u32, kind: Kind) -> String {
    let date = d("2001-01-01") + chrono::Days::new(day);
    let close = format!("{}.{:02}", 100 + salt % 7, salt % 100);
    match kind {
        Kind::Good => format!("{date},100.5,110.0,90.0,{close},1000.0"),
        Kind::NotANumber => format!("{date},100.5,11o.0,90.0,{close},1000.0"),
        Kind::Negative => format!("{date},100.5,110.0,90.0,-{close},1000.0"),
        Kind::HighBelowLow => format!("{date},100.5,80.0,90.0,{close},1000.0"),
        Kind::Short => format!("{date},100.5,110.0"),
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        12 => Just(Kind::Good),
        1 => Just(Kind::NotANumber),
        1 => Just(Kind::Negative),
        1 => Just(Kind::HighBelowLow),
        1 => Just(Kind::Short),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A file of random good and bad rows, over a store that already holds some of its dates
    /// with other values: either every row is written or the store is exactly as before.
    #[test]
    fn a_file_goes_in_whole_or_not_at_all(
        rows in prop::collection::vec((kind(), 0u32..1000), 1..30),
        held in 0usize..10,
    ) {
        let (dir, mut store) = fresh();
        let header = "date,1. open,2. high,3. low,4. close,5. volume\n";
        let mut old = header.to_owned();
        for i in 0..held {
            old.push_str(&render(i as u64, 999, Kind::Good));
            old.push('\n');
        }
        if held > 0 {
            let path = dir.path().join("OLD_held.csv");
            std::fs::write(&path, &old).unwrap();
            let opts = BarsOptions { symbol: Some(u("TEST")), ..BarsOptions::default() };
            ingest_bars(&mut store, &path, &opts).unwrap();
        }
        let mut body = header.to_owned();
        for (i, (k, salt)) in rows.iter().enumerate() {
            body.push_str(&render(i as u64, *salt, *k));
            body.push('\n');
        }
        let path = dir.path().join("TEST_daily.csv");
        std::fs::write(&path, &body).unwrap();
        let before = dump(store.path());
        let all_good = rows.iter().all(|(k, _)| matches!(k, Kind::Good));
        match ingest_bars(&mut store, &path, &BarsOptions::default()) {
            Ok(s) => {
                prop_assert!(all_good);
                prop_assert_eq!(s.rows_read, rows.len() as u64);
                let stored = store.daily_bars(&u("TEST"), d("2000-01-01"), d("2100-01-01")).unwrap();
                prop_assert_eq!(stored.len(), rows.len().max(held));
                for (bar, (_, salt)) in stored.iter().zip(&rows) {
                    let close = format!("{}.{:02}", 100 + salt % 7, salt % 100);
                    prop_assert_eq!(bar.ohlcv.close(), p(&close));
                }
            }
            Err(e) => {
                prop_assert!(!all_good, "all rows good but {}", e);
                prop_assert_eq!(dump(store.path()), before);
            }
        }
    }
}
