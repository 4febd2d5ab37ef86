//! The feature library on real data: counts, the registry and its document, declared
//! warm-ups, values computed by hand from the files, bad input, the Parquet round trip.

#[allow(
    dead_code,
    reason = "each test crate uses a part of the shared helpers"
)]
use std::collections::{BTreeMap, BTreeSet};

use crate::support::{d, data_dir, real_panel};
use volta_data::import::{RateSeries, import_index, import_rates};
use volta_features::library::{Family, feature_set_version, registry, registry_markdown};
use volta_features::matrix::{META_PROVENANCE, META_VERSION};
use volta_features::panel::{BarRow, IndexSeries, Source, load_bars};
use volta_features::{DailyPanel, FeatureError, FeatureMatrix, Provenance, compute};

#[test]
fn every_family_meets_its_target_and_names_are_unique() {
    let specs = registry();
    let mut counts: BTreeMap<Family, usize> = BTreeMap::new();
    for s in &specs {
        *counts.entry(s.family).or_default() += 1;
    }
    for f in Family::ALL {
        let n = counts.get(&f).copied().unwrap_or(0);
        assert!(n >= f.target(), "{}: {n} < {}", f.name(), f.target());
    }
    assert!(specs.len() >= 200, "{} features", specs.len());
    let names: BTreeSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), specs.len(), "duplicate names");
    assert!(
        specs
            .iter()
            .all(|s| !s.formula.is_empty() && !s.name.starts_with('_'))
    );
    eprintln!("feature counts: {counts:?}, total {}", specs.len());
}

#[test]
fn docs_features_md_is_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/features.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == registry_markdown(),
        "docs/features.md differs from the registry: run \
         `cargo test -p volta-features --test library -- --ignored write_features_md`"
    );
}

/// Writes docs/features.md from the registry.
#[test]
#[ignore = "writes docs/features.md; run by hand after changing the registry"]
fn write_features_md() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/features.md");
    std::fs::write(path, registry_markdown()).unwrap();
}

#[test]
fn the_version_hash_is_stable_and_in_the_metadata() {
    let v = feature_set_version();
    assert!(
        v.starts_with("1.0.0+") && v.len() == "1.0.0+".len() + 16,
        "{v}"
    );
    assert_eq!(v, feature_set_version());
}

/// On SPY from 2004 (every input but VVIX, VIX3M, VIX9D, put/call ratios and chains is
/// complete from the first row on), every feature is NaN on exactly its first `lookback`
/// rows and defined on the next one.
#[test]
fn declared_lookbacks_are_the_observed_warm_ups() {
    let Some(dir) = data_dir() else { return };
    let end = d(2023, 11, 8);
    let from = d(2004, 1, 2);
    let rows: Vec<BarRow> = load_bars(&dir, "SPY", end)
        .unwrap()
        .0
        .iter()
        .filter(|b| b.date >= from)
        .map(|b| BarRow::from_bar(b, true))
        .collect();
    let mut panel = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile).unwrap();
    for s in [IndexSeries::Vix, IndexSeries::Skew] {
        let r = import_index(&dir.cboe_index(s.symbol()), None).unwrap();
        panel = panel
            .with_index_records(s, &r.records, Provenance::RealFile)
            .unwrap();
    }
    let rates = import_rates(&dir.fred_rate(RateSeries::Dff), Some(RateSeries::Dff)).unwrap();
    panel = panel.with_rate(&rates, Provenance::RealFile).unwrap();
    for (k, peer) in ["QQQ", "IWM"].iter().enumerate() {
        let closes: Vec<_> = load_bars(&dir, peer, end)
            .unwrap()
            .0
            .iter()
            .map(|b| (b.date, b.ohlcv.close().to_f64()))
            .collect();
        panel = panel
            .with_peer(k + 1, peer, &closes, Provenance::RealFile)
            .unwrap();
    }
    assert!(panel.missing_sessions().is_empty());
    let m = compute(&panel).unwrap();
    let full: BTreeSet<Source> = [
        Source::Bars,
        Source::Vix,
        Source::Skew,
        Source::Rate,
        Source::Peer1,
        Source::Peer2,
    ]
    .into_iter()
    .collect();
    let mut checked = 0;
    for s in registry() {
        if !s.inputs.iter().all(|i| full.contains(i)) {
            continue;
        }
        let col = m.column(&s.name).unwrap();
        let first = col.iter().position(|x| !x.is_nan());
        assert_eq!(first, Some(s.lookback), "{}: first defined row", s.name);
        checked += 1;
    }
    assert!(checked >= 150, "only {checked} features checked");
}

#[test]
fn known_values_of_spy_by_hand() {
    let Some(dir) = data_dir() else { return };
    let m = compute(&real_panel(&dir, "SPY")).unwrap();
    let day = d(2023, 11, 8);
    // SPY_daily_unadjusted.csv: close 437.25 on 2023-11-08, 434.54 on 2023-10-10 (21
    // sessions earlier).
    let ret21 = m.value("ret_21d", day).unwrap();
    assert!((ret21 - (437.25 / 434.54 - 1.0)).abs() < 1e-15, "{ret21}");
    // 2008-10-10: 88.5 against 125.51 on 2008-09-11.
    let crash = m.value("ret_21d", d(2008, 10, 10)).unwrap();
    assert!((crash - (88.5 / 125.51 - 1.0)).abs() < 1e-15, "{crash}");
    assert_eq!(m.value("day_of_week", day), Some(3.0)); // a Wednesday
    assert_eq!(m.value("month", day), Some(11.0));
    // 2023-11-17 was November's monthly expiry: 7 sessions, 9 days ahead.
    assert_eq!(m.value("sessions_to_opex", day), Some(7.0));
    assert_eq!(m.value("days_to_opex", day), Some(9.0));
    // VIX_History.csv: close 14.45 on 2023-11-08.
    assert_eq!(m.value("vix", day), Some(14.45 / 100.0));
    // CBOE has no VIX close for 1999-12-31: NaN there, not the previous day's.
    assert!(m.value("vix", d(1999, 12, 31)).unwrap().is_nan());
    assert_eq!(m.value("vix", d(1999, 12, 30)), Some(24.76 / 100.0));
    // Peer 1 of SPY is QQQ.
    assert_eq!(m.metadata()["volta.peers"], "QQQ,IWM");
}

/// The range-based estimators against a scalar computation, from the file's rows, written
/// here independently of the polars expressions.
#[test]
fn realised_vol_estimators_equal_a_scalar_computation() {
    let Some(dir) = data_dir() else { return };
    let panel = real_panel(&dir, "SPY");
    let m = compute(&panel).unwrap();
    let (bars, _) = volta_features::panel::load_bars(&dir, "SPY", d(2023, 11, 8)).unwrap();
    let rows: Vec<BarRow> = bars.iter().map(|b| BarRow::from_bar(b, true)).collect();
    let at = rows.len() - 1;
    let n = 21;
    let w = &rows[at + 1 - n..=at];
    let prev = &rows[at - n..at];
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let var = |x: &[f64]| {
        let m = mean(x);
        x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64
    };
    let r: Vec<f64> = w
        .iter()
        .zip(prev)
        .map(|(b, p)| (b.close / p.close).ln())
        .collect();
    let cc = (252.0 * var(&r)).sqrt();
    let pk: Vec<f64> = w
        .iter()
        .map(|b| (b.high / b.low).ln().powi(2) / (4.0 * 2f64.ln()))
        .collect();
    let gk: Vec<f64> = w
        .iter()
        .map(|b| {
            0.5 * (b.high / b.low).ln().powi(2)
                - (2.0 * 2f64.ln() - 1.0) * (b.close / b.open).ln().powi(2)
        })
        .collect();
    let rs: Vec<f64> = w
        .iter()
        .map(|b| {
            (b.high / b.close).ln() * (b.high / b.open).ln()
                + (b.low / b.close).ln() * (b.low / b.open).ln()
        })
        .collect();
    let on: Vec<f64> = w
        .iter()
        .zip(prev)
        .map(|(b, p)| (b.open / p.close).ln())
        .collect();
    let co: Vec<f64> = w.iter().map(|b| (b.close / b.open).ln()).collect();
    let k = 0.34 / (1.34 + (n as f64 + 1.0) / (n as f64 - 1.0));
    let yz = (252.0 * (var(&on) + k * var(&co) + (1.0 - k) * mean(&rs))).sqrt();
    let day = rows[at].date;
    for (name, want) in [
        ("rv_cc_21d", cc),
        ("rv_parkinson_21d", (252.0 * mean(&pk)).sqrt()),
        ("rv_garman_klass_21d", (252.0 * mean(&gk)).sqrt()),
        ("rv_rogers_satchell_21d", (252.0 * mean(&rs)).sqrt()),
        ("rv_yang_zhang_21d", yz),
    ] {
        let got = m.value(name, day).unwrap();
        assert!(
            (got - want).abs() < 1e-12 * want.max(1.0),
            "{name}: {got} vs {want}"
        );
    }
    // Python (statistics.stdev of the 21 log returns · √252) gives 0.14981629735835356.
    assert!((cc - 0.149_816_297_358_353_56).abs() < 1e-12);
}

fn synthetic_rows(n: usize) -> Vec<BarRow> {
    let dates = volta_core::NyseCalendar
        .sessions_between(d(2015, 1, 2), d(2016, 12, 30))
        .unwrap();
    dates
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, date)| {
            let c = 100.0 + (i as f64 * 0.3).sin() * 5.0 + i as f64 * 0.05;
            BarRow {
                date,
                open: c * 0.998,
                high: c * 1.01,
                low: c * 0.99,
                close: c,
                volume: Some(1e6 + (i % 7) as f64 * 1e5),
            }
        })
        .collect()
}

#[test]
fn a_nan_price_is_an_error_naming_the_date() {
    let mut rows = synthetic_rows(50);
    rows[17].close = f64::NAN;
    let e = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, FeatureError::BadInput { .. }));
    assert!(
        text.contains("SPY bars")
            && text.contains("close")
            && text.contains(&rows[17].date.to_string()),
        "{text}"
    );
    let mut rows = synthetic_rows(50);
    rows[3].low = 0.0;
    let text = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("low") && text.contains(&rows[3].date.to_string()),
        "{text}"
    );
    // Dates out of order.
    let mut rows = synthetic_rows(10);
    rows.swap(4, 5);
    let text = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile)
        .unwrap_err()
        .to_string();
    assert!(text.contains("not strictly ascending"), "{text}");
}

#[test]
fn a_vix_that_does_not_cover_the_range_leaves_nan_never_a_shift() {
    let rows = synthetic_rows(400);
    // VIX only from row 100 on, and missing on row 300.
    let vix: Vec<_> = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| *i >= 100 && *i != 300)
        .map(|(i, r)| (r.date, 15.0 + (i % 10) as f64))
        .collect();
    let panel = DailyPanel::from_rows("SPY", &rows, Provenance::Synthetic)
        .unwrap()
        .with_index(IndexSeries::Vix, &vix, Provenance::Synthetic)
        .unwrap();
    let m = compute(&panel).unwrap();
    let level = m.column("vix").unwrap();
    assert!(level[..100].iter().all(|x| x.is_nan()));
    assert_eq!(level[100], 0.15);
    assert!(level[300].is_nan());
    assert_eq!(level[301], (15.0 + 1.0) / 100.0);
    // A 21-day z-score: defined from row 120, NaN for the 21 rows whose window holds row 300.
    let z = m.column("vix_z_21d").unwrap();
    assert!(z[..120].iter().all(|x| x.is_nan()));
    assert!(!z[120].is_nan());
    assert!(z[300..321].iter().all(|x| x.is_nan()));
    assert!(!z[321].is_nan());
    // Price features do not care.
    assert!(!m.column("ret_21d").unwrap()[300].is_nan());
    // Chains, peers, VIX3M were not given: their features are NaN everywhere.
    assert!(m.column("atm_iv_30d").unwrap().iter().all(|x| x.is_nan()));
    assert!(m.column("vix_vix3m").unwrap().iter().all(|x| x.is_nan()));
    assert!(m.metadata()[&format!("{META_PROVENANCE}options")].contains("chains=none"));
}

#[test]
fn a_gap_in_the_bars_is_a_nan_row_not_a_shift() {
    let mut rows = synthetic_rows(300);
    let gone = rows.remove(200);
    let panel = DailyPanel::from_rows("SPY", &rows, Provenance::Synthetic).unwrap();
    assert_eq!(panel.missing_sessions(), &[gone.date]);
    let m = compute(&panel).unwrap();
    assert_eq!(m.dates()[200], gone.date);
    let ret5 = m.column("ret_5d").unwrap();
    // The 5-day return needs today's and the close 5 sessions ago.
    assert!(ret5[200].is_nan() && ret5[205].is_nan());
    assert!(!ret5[199].is_nan() && !ret5[201].is_nan() && !ret5[206].is_nan());
    // Row 206 compares with row 201, five sessions, not six rows of the file.
    assert_eq!(ret5[206], rows[205].close / rows[200].close - 1.0);
}

#[test]
fn the_parquet_round_trip_is_exact() {
    let Some(dir) = data_dir() else { return };
    let m = compute(&real_panel(&dir, "SPY"))
        .unwrap()
        .slice(d(2019, 1, 1), d(2023, 11, 8));
    assert_eq!(m.dates()[0], d(2019, 1, 2));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("spy.parquet");
    m.write_parquet(&path).unwrap();
    let back = FeatureMatrix::read_parquet(&path).unwrap();
    assert_eq!(back.dates(), m.dates());
    assert_eq!(back.names(), m.names());
    assert_eq!(back.metadata(), m.metadata());
    for name in m.names() {
        let (a, b) = (m.column(name).unwrap(), back.column(name).unwrap());
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name}"
        );
    }
    assert_eq!(m.metadata()[META_VERSION], feature_set_version());
    assert_eq!(m.metadata()["volta.start"], "2019-01-02");
    assert_eq!(m.metadata()["volta.symbol"], "SPY");
    assert_eq!(
        m.metadata()[&format!("{META_PROVENANCE}temporal")],
        "calendar"
    );
    assert!(m.metadata()[&format!("{META_PROVENANCE}options")].contains("VIX=real"));
}

#[test]
fn a_file_without_the_version_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.parquet");
    let m = FeatureMatrix::new(
        vec![d(2024, 1, 2)],
        vec!["a".into()],
        vec![vec![1.0]],
        BTreeMap::new(),
    )
    .unwrap();
    m.write_parquet(&path).unwrap();
    let e = FeatureMatrix::read_parquet(&path).unwrap_err();
    assert!(matches!(e, FeatureError::BadMatrixFile { .. }), "{e}");
}

#[test]
fn the_same_library_runs_on_qqq_and_iwm() {
    let Some(dir) = data_dir() else { return };
    for (sym, peers) in [("QQQ", "SPY,IWM"), ("IWM", "SPY,QQQ")] {
        let m = compute(&real_panel(&dir, sym)).unwrap();
        assert_eq!(m.names().len(), registry().len());
        assert_eq!(m.metadata()["volta.peers"], peers);
        let last = *m.dates().last().unwrap();
        for name in [
            "ret_21d",
            "rv_yang_zhang_21d",
            "vix_vix3m",
            "peer1_corr_63d",
            "dispersion_21d",
            "amihud_21d",
        ] {
            assert!(!m.value(name, last).unwrap().is_nan(), "{sym} {name}");
        }
    }
    // QQQ's 2:1 split on 2000-03-20 is adjusted: no −50 % day.
    let m = compute(&real_panel(&dir, "QQQ")).unwrap();
    let r = m.value("ret_1d", d(2000, 3, 20)).unwrap();
    assert!(r.abs() < 0.1, "{r}");
}
