//! Realised-volatility estimators against values computed by hand on the first eight SPY bars
//! of the real file, plus their invariants.

use chrono::NaiveDate;
use proptest::prelude::*;
use volta_core::DailyBar;
use volta_data::DataDir;
use volta_data::import::import_bars;
use volta_features::FeatureError;
use volta_features::realised::{
    Estimator, OhlcSlices, STANDARD_WINDOWS, bar_columns, close_to_close, realised_vol,
    realised_vol_bars,
};

/// `SPY_daily_unadjusted.csv`, 1999-11-01 → 1999-11-10 (date, open, high, low, close).
const SPY_1999_11: [(&str, f64, f64, f64, f64); 8] = [
    ("1999-11-01", 136.5, 137.0, 135.5625, 135.5625),
    ("1999-11-02", 135.9687, 137.25, 134.5937, 134.5937),
    ("1999-11-03", 136.0, 136.375, 135.125, 135.5),
    ("1999-11-04", 136.75, 137.3593, 135.7656, 136.5312),
    ("1999-11-05", 138.625, 139.1093, 136.7812, 137.875),
    ("1999-11-08", 137.0, 138.375, 136.75, 138.0),
    ("1999-11-09", 138.5, 138.6875, 136.2812, 136.7031),
    ("1999-11-10", 136.25, 138.3906, 136.0781, 137.7187),
];

/// Expected annualised vols, window 5, at indices 4..=7 (1999-11-05 → 1999-11-10), `NaN`
/// where the estimator is still warming up. Computed independently by a Python one-off
/// (stdlib `math`, written from the textbook formulas: Sinclair 2013 ch. 2; Yang & Zhang
/// 2000 with k = 0.34 / (1.34 + (n+1)/(n−1))), printed with `repr`:
///
/// ```text
/// r = [log(C[j]/C[j-1]) for j in window]; cc = sqrt(252 * svar(r))      # svar: ddof = 1
/// pk = sqrt(252 * sum(log(H/L)**2) / (4 log 2 · n))
/// gk = sqrt(252 * mean(0.5 log(H/L)**2 − (2 log 2 − 1) log(C/O)**2))
/// rs = sqrt(252 * mean(log(H/C) log(H/O) + log(L/C) log(L/O)))
/// yz = sqrt(252 * (svar(log(O/C₋₁)) + k svar(log(C/O)) + (1 − k) mean(rs terms)))
/// ```
const EXPECTED: [(Estimator, [f64; 4]); 5] = [
    (
        Estimator::CloseToClose,
        [
            f64::NAN,
            0.10859558440985195,
            0.12297827750621244,
            0.1243426850404775,
        ],
    ),
    (
        Estimator::Parkinson,
        [
            0.13476103833827582,
            0.13665524881191837,
            0.13153105964030556,
            0.14464069708132316,
        ],
    ),
    (
        Estimator::GarmanKlass,
        [
            0.1461257580230928,
            0.1481904411860081,
            0.13691774826220285,
            0.1476197128433874,
        ],
    ),
    (
        Estimator::RogersSatchell,
        [
            0.15271327239821186,
            0.15356118939961771,
            0.1335704691100075,
            0.1436402957049786,
        ],
    ),
    (
        Estimator::YangZhang,
        [
            f64::NAN,
            0.19846751701398171,
            0.18566822363004623,
            0.20172203259128388,
        ],
    ),
];

fn columns() -> [Vec<f64>; 4] {
    [
        SPY_1999_11.iter().map(|r| r.1).collect(),
        SPY_1999_11.iter().map(|r| r.2).collect(),
        SPY_1999_11.iter().map(|r| r.3).collect(),
        SPY_1999_11.iter().map(|r| r.4).collect(),
    ]
}

fn assert_close(got: f64, want: f64, what: &str) {
    if want.is_nan() {
        assert!(got.is_nan(), "{what}: expected NaN, got {got}");
    } else {
        assert!(
            (got - want).abs() <= 1e-13 * want,
            "{what}: got {got}, want {want}"
        );
    }
}

#[test]
fn hand_computed_values_on_real_spy_bars() {
    let [o, h, l, c] = columns();
    let ohlc = OhlcSlices::new(&o, &h, &l, &c).unwrap();
    for (est, want) in EXPECTED {
        let got = realised_vol(est, ohlc, 5).unwrap();
        assert!(got[..4].iter().all(|x| x.is_nan()), "{est} warm-up");
        for (k, &w) in want.iter().enumerate() {
            assert_close(got[4 + k], w, &format!("{est} on {}", SPY_1999_11[4 + k].0));
        }
    }
    let cc = close_to_close(&c, 5).unwrap();
    assert_close(cc[7], EXPECTED[0].1[3], "close_to_close()");
}

#[test]
fn the_literals_are_the_real_file_and_the_bar_api_agrees() {
    let Some(path) = DataDir::test_file("underlying/SPY_daily_unadjusted.csv") else {
        return;
    };
    let bars = import_bars(&path, None).unwrap().bars;
    assert_eq!(bars.len(), 6045);
    let [o, h, l, c] = bar_columns(&bars[..8]);
    for (i, row) in SPY_1999_11.iter().enumerate() {
        assert_eq!(bars[i].date.to_string(), row.0);
        assert_eq!((o[i], h[i], l[i], c[i]), (row.1, row.2, row.3, row.4));
    }
    // Over the whole history and every standard window, the bar API equals the slice API.
    let [o, h, l, c] = bar_columns(&bars);
    let ohlc = OhlcSlices::new(&o, &h, &l, &c).unwrap();
    for est in Estimator::ALL {
        for n in STANDARD_WINDOWS {
            let a = realised_vol_bars(est, &bars, n).unwrap();
            let b = realised_vol(est, ohlc, n).unwrap();
            assert_eq!(a.len(), bars.len());
            let first = est.first_valid_index(n);
            assert!(a[..first].iter().all(|x| x.is_nan()));
            assert!(
                a[first..].iter().all(|x| x.is_finite() && *x >= 0.0),
                "{est} {n}"
            );
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
    // Deep in the real history, against the same Python one-off run over the whole file
    // (close-to-close n = 20 and 60, Yang-Zhang n = 20).
    let cc20 = realised_vol_bars(Estimator::CloseToClose, &bars, 20).unwrap();
    let cc60 = realised_vol_bars(Estimator::CloseToClose, &bars, 60).unwrap();
    let yz20 = realised_vol_bars(Estimator::YangZhang, &bars, 20).unwrap();
    let at = |d: &str| {
        let d: NaiveDate = d.parse().unwrap();
        bars.iter().position(|b| b.date == d).unwrap()
    };
    let cases = [
        (
            "2008-11-20",
            0.7566389383297458,
            0.688507468499326,
            0.7428612169559629,
        ),
        (
            "2017-07-14",
            0.08758613491750293,
            0.0772849387279459,
            0.07504354725633353,
        ),
        (
            "2020-03-16",
            0.7829758963198802,
            0.4736214538277802,
            0.7953792297731109,
        ),
    ];
    for (date, want_cc20, want_cc60, want_yz20) in cases {
        let i = at(date);
        assert_close(cc20[i], want_cc20, &format!("cc20 {date}"));
        assert_close(cc60[i], want_cc60, &format!("cc60 {date}"));
        assert_close(yz20[i], want_yz20, &format!("yz20 {date}"));
    }
    // The highest 20-day close-to-close vol of SPY's history: 2020-03-27, 94.2 %.
    let (imax, max) = cc20
        .iter()
        .enumerate()
        .filter(|(_, x)| x.is_finite())
        .fold((0, 0.0), |a, (i, &x)| if x > a.1 { (i, x) } else { a });
    assert_eq!(bars[imax].date.to_string(), "2020-03-27");
    assert_close(max, 0.942490458192983, "max cc20");
}

#[test]
fn a_missing_session_is_an_error_naming_it() {
    let Some(path) = DataDir::test_file("underlying/SPY_daily_unadjusted.csv") else {
        return;
    };
    let mut bars: Vec<DailyBar> = import_bars(&path, None).unwrap().bars;
    bars.truncate(40);
    let removed = bars.remove(10);
    let err = realised_vol_bars(Estimator::Parkinson, &bars, 5).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, FeatureError::BadInput { .. }), "{msg}");
    assert!(msg.contains(&removed.date.to_string()), "{msg}");
    // Out of order.
    bars.swap(3, 4);
    assert!(realised_vol_bars(Estimator::CloseToClose, &bars, 5).is_err());
}

#[test]
fn bad_prices_are_errors_naming_the_index() {
    let [mut o, h, l, mut c] = columns();
    c[6] = 0.0;
    let err = close_to_close(&c, 5).unwrap_err().to_string();
    assert!(err.contains("close 0 at index 6"), "{err}");
    c[6] = 136.7031;
    o[2] = f64::NAN;
    let ohlc = OhlcSlices::new(&o, &h, &l, &c).unwrap();
    let err = realised_vol(Estimator::YangZhang, ohlc, 5)
        .unwrap_err()
        .to_string();
    assert!(err.contains("open NaN at index 2"), "{err}");
    // Close-to-close does not read the open: the NaN there does not matter.
    assert!(realised_vol(Estimator::CloseToClose, ohlc, 5).is_ok());
}

#[test]
fn constant_prices_give_zero() {
    let p = vec![42.0; 30];
    let ohlc = OhlcSlices::new(&p, &p, &p, &p).unwrap();
    for est in Estimator::ALL {
        let v = realised_vol(est, ohlc, 10).unwrap();
        assert!(v[10..].iter().all(|x| *x == 0.0), "{est}: {v:?}");
    }
}

/// Random valid OHLC paths: a log-random walk with a range around each bar.
fn ohlc_path() -> impl Strategy<Value = [Vec<f64>; 4]> {
    prop::collection::vec(
        (-0.05f64..0.05, -0.03f64..0.03, 0.0f64..0.03, 0.0f64..0.03),
        2..80,
    )
    .prop_map(|steps| {
        let mut cols: [Vec<f64>; 4] = Default::default();
        let mut close = 100.0_f64;
        for (ret, gap, up, down) in steps {
            let open = close * gap.exp();
            close = open * ret.exp();
            cols[0].push(open);
            cols[1].push(open.max(close) * up.exp());
            cols[2].push(open.min(close) * (-down).exp());
            cols[3].push(close);
        }
        cols
    })
}

proptest! {
    #[test]
    fn scale_invariant(cols in ohlc_path(), scale in 0.01f64..1000.0, n in 2usize..20) {
        let [o, h, l, c] = &cols;
        let scaled: Vec<Vec<f64>> =
            cols.iter().map(|col| col.iter().map(|x| x * scale).collect()).collect();
        let a = OhlcSlices::new(o, h, l, c).unwrap();
        let b = OhlcSlices::new(&scaled[0], &scaled[1], &scaled[2], &scaled[3]).unwrap();
        for est in Estimator::ALL {
            let va = realised_vol(est, a, n).unwrap();
            let vb = realised_vol(est, b, n).unwrap();
            for (x, y) in va.iter().zip(&vb) {
                prop_assert!(
                    (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.max(1e-3),
                    "{est}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn no_look_ahead(cols in ohlc_path(), cut in 0usize..80, n in 2usize..20) {
        let [o, h, l, c] = &cols;
        let cut = cut.min(c.len());
        let full = OhlcSlices::new(o, h, l, c).unwrap();
        let head = OhlcSlices::new(&o[..cut], &h[..cut], &l[..cut], &c[..cut]).unwrap();
        for est in Estimator::ALL {
            let a = realised_vol(est, full, n).unwrap();
            let b = realised_vol(est, head, n).unwrap();
            prop_assert!(a[..cut].iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
}
