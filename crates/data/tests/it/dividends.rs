//! The ex-dividend schedule: SPY's recorded 2021 dividends, the third-Friday pattern, the
//! estimated amounts, and the synthetic market's dividends.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::{Decimal, RoundingStrategy};
use volta_core::{DailyBar, Price, Underlying};
use volta_data::dividends::{
    self, ExDividend, Provenance, SPY_ESTIMATED_YIELD_PER_YEAR, quarterly_ex_dates, read_recorded,
    spy_recorded, spy_schedule,
};
use volta_data::import::import_bars;
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_data::{DataDir, DataError};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn p(s: &str) -> Price {
    s.parse().unwrap()
}

fn spy() -> Underlying {
    Underlying::try_new("SPY").unwrap()
}

/// A bar closing at `close` (the schedule reads only the close).
fn bar(date: NaiveDate, close: &str) -> DailyBar {
    let c = p(close);
    DailyBar::try_new(date, c, c, c, c, 0).unwrap()
}

/// SPY's real recorded dividends and its Alpha Vantage bars, when the shared folder is there.
fn spy_data() -> Option<(Vec<ExDividend>, Vec<DailyBar>)> {
    DataDir::test_file("underlying/SPY_tiingo_2021.csv")?;
    let bars = DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    let recorded = spy_recorded(&DataDir::from_env()).unwrap();
    Some((recorded, import_bars(&bars, None).unwrap().bars))
}

/// The four 2021 ex-dividends of the README, with their lines in the file.
const TIINGO_2021: [((u32, u32), &str, u64); 4] = [
    ((3, 19), "1.2778", 54),
    ((6, 18), "1.3759", 117),
    ((9, 17), "1.4281", 180),
    ((12, 17), "1.6335", 244),
];

#[test]
fn the_tiingo_2021_dividends_read_exactly() {
    let Some(path) = DataDir::test_file("underlying/SPY_tiingo_2021.csv") else {
        return;
    };
    assert_eq!(DataDir::from_env().tiingo_bars("SPY", 2021), path);
    let recorded = spy_recorded(&DataDir::from_env()).unwrap();
    let expected: Vec<ExDividend> = TIINGO_2021
        .iter()
        .map(|&((m, d), amount, line)| ExDividend {
            underlying: spy(),
            ex_date: ymd(2021, m, d),
            amount: p(amount),
            provenance: Provenance::Recorded {
                path: path.clone(),
                line,
            },
        })
        .collect();
    assert_eq!(recorded, expected);
}

#[test]
fn the_2021_pattern_dates_are_the_recorded_dates() {
    let pattern = quarterly_ex_dates(ymd(2021, 1, 1), ymd(2021, 12, 31)).unwrap();
    let recorded: Vec<NaiveDate> = TIINGO_2021
        .iter()
        .map(|&((m, d), ..)| ymd(2021, m, d))
        .collect();
    assert_eq!(pattern, recorded);
    let Some((recorded, _)) = spy_data() else {
        return;
    };
    // Recorded quarters need no closes.
    let schedule = spy_schedule(ymd(2021, 1, 1), ymd(2021, 12, 31), &[], &recorded).unwrap();
    assert_eq!(schedule, recorded);
}

#[test]
fn an_estimated_amount_by_hand() {
    let Some((recorded, bars)) = spy_data() else {
        return;
    };
    let schedule = spy_schedule(ymd(2019, 1, 1), ymd(2019, 3, 31), &bars, &recorded).unwrap();
    // SPY closed at 281.16 on Thursday 2019-03-14; 0.4 % of it is 1.12464.
    assert_eq!(
        schedule,
        [ExDividend {
            underlying: spy(),
            ex_date: ymd(2019, 3, 15),
            amount: p("1.1246"),
            provenance: Provenance::Estimated {
                yield_per_year: 0.016
            },
        }]
    );
}

#[test]
fn good_friday_2008_moves_the_ex_date_to_thursday() {
    let every = quarterly_ex_dates(ymd(1999, 1, 1), ymd(2023, 12, 31)).unwrap();
    assert_eq!(every.len(), 25 * 4);
    let moved: Vec<NaiveDate> = every
        .iter()
        .copied()
        .filter(|d| d.weekday() != Weekday::Fri)
        .collect();
    assert_eq!(
        moved,
        [ymd(2008, 3, 20)],
        "the one holiday on a third Friday"
    );
    let Some((recorded, bars)) = spy_data() else {
        return;
    };
    let march = spy_schedule(ymd(2008, 3, 1), ymd(2008, 3, 31), &bars, &recorded).unwrap();
    // The close before is Wednesday's, 130.32: × 0.004 = 0.52128.
    assert_eq!(march.len(), 1);
    assert_eq!(
        (march[0].ex_date, march[0].amount),
        (ymd(2008, 3, 20), p("0.5213"))
    );
}

#[test]
fn the_whole_history_has_one_dividend_a_quarter_recorded_or_estimated() {
    let Some((recorded, bars)) = spy_data() else {
        return;
    };
    let (first, last) = (bars[0].date, bars[bars.len() - 1].date);
    assert_eq!((first, last), (ymd(1999, 11, 1), ymd(2023, 11, 8)));
    let schedule = spy_schedule(first, last, &bars, &recorded).unwrap();
    // December 1999, 2000-2022, then March, June and September 2023.
    assert_eq!(schedule.len(), 1 + 23 * 4 + 3);
    assert!(schedule.windows(2).all(|w| w[0].ex_date < w[1].ex_date));
    let quarters: std::collections::BTreeSet<(i32, u32)> = schedule
        .iter()
        .map(|d| (d.ex_date.year(), d.ex_date.month0() / 3))
        .collect();
    assert_eq!(quarters.len(), schedule.len());
    let (real, estimated): (Vec<&ExDividend>, Vec<&ExDividend>) =
        schedule.iter().partition(|d| d.is_recorded());
    assert_eq!(real.into_iter().cloned().collect::<Vec<_>>(), recorded);
    assert!(estimated.iter().all(|d| d.ex_date.year() != 2021
        && d.provenance
            == Provenance::Estimated {
                yield_per_year: SPY_ESTIMATED_YIELD_PER_YEAR
            }));
    // SPY ran from about $68 (2009) to $460: 0.4 % of it.
    let (lo, hi) = estimated
        .iter()
        .fold((p("1e9"), Price::ZERO), |(lo, hi), d| {
            (lo.min(d.amount), hi.max(d.amount))
        });
    assert!(lo > p("0.25") && hi < p("1.9"), "{lo}..{hi}");
}

#[test]
fn a_negative_dividend_names_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SPY_tiingo_bad.csv");
    std::fs::write(
        &path,
        "symbol,date,close,high,low,open,volume,adjClose,adjHigh,adjLow,adjOpen,adjVolume,divCash,splitFactor\n\
         SPY,2021-03-18,391.48,396.72,390.75,394.475,115349101,367.6,372.5,366.9,370.4,115349101,0.0,1.0\n\
         SPY,2021-03-19,389.48,391.569,387.15,389.88,113624490,365.7,367.7,363.5,366.1,113624490,-1.2778,1.0\n",
    )
    .unwrap();
    let e = read_recorded(&path).unwrap_err();
    assert!(
        matches!(&e, DataError::BadValue { path: p, line: 3, column, column_index: 12, .. }
            if *p == path && column == "divCash"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3: column 12 `divCash`: `-1.2778` is not a non-negative dividend in dollars per share",
            path.display()
        )
    );
}

#[test]
fn bad_requests_are_refused_with_the_reason() {
    let err = |r: Result<Vec<ExDividend>, DataError>| r.unwrap_err().to_string();
    let march = (ymd(2019, 3, 1), ymd(2019, 3, 31));
    assert_eq!(
        err(spy_schedule(march.0, march.1, &[], &[])),
        "invalid import request: no close of SPY on 2019-03-14, the session before the \
         ex-dividend date 2019-03-15: the estimated dividend is a yield of it"
    );
    let recorded = |symbol: &str, date: NaiveDate| ExDividend {
        underlying: Underlying::try_new(symbol).unwrap(),
        ex_date: date,
        amount: p("1"),
        provenance: Provenance::Recorded {
            path: PathBuf::from("x.csv"),
            line: 2,
        },
    };
    assert!(
        err(spy_schedule(
            march.0,
            march.1,
            &[],
            &[recorded("QQQ", ymd(2019, 3, 18))]
        ))
        .contains("a recorded dividend of QQQ on 2019-03-18 among SPY's")
    );
    let two = [
        recorded("SPY", ymd(2019, 3, 15)),
        recorded("SPY", ymd(2019, 1, 4)),
    ];
    assert!(
        err(spy_schedule(march.0, march.1, &[], &two))
            .contains("two recorded dividends of SPY in one quarter, on 2019-03-15 and 2019-01-04")
    );
    let closes = [bar(ymd(2019, 3, 14), "281.16")];
    for q in [-0.01, f64::NAN, 1.0] {
        assert!(
            err(dividends::estimated_schedule(
                &spy(),
                march.0,
                march.1,
                &closes,
                q
            ))
            .contains("must be finite, in [0, 1)"),
            "{q}"
        );
    }
    assert_eq!(
        dividends::estimated_schedule(&spy(), march.0, march.1, &closes, 0.0).unwrap(),
        []
    );
}

#[test]
fn a_synthetic_market_pays_its_yield_a_quarter() {
    let config = SyntheticConfig {
        start: ymd(2023, 1, 3),
        end: ymd(2023, 12, 29),
        ..SyntheticConfig::default()
    };
    let market = SyntheticMarket::generate(&config).unwrap();
    let schedule = market.dividends().unwrap();
    let dates: Vec<NaiveDate> = schedule.iter().map(|d| d.ex_date).collect();
    assert_eq!(
        dates,
        [
            ymd(2023, 3, 17),
            ymd(2023, 6, 16),
            ymd(2023, 9, 15),
            ymd(2023, 12, 15)
        ]
    );
    for d in &schedule {
        let before = volta_core::NyseCalendar
            .previous_session(d.ex_date)
            .unwrap();
        let close = market.days()[market.index_of(before).unwrap()]
            .bar
            .ohlcv
            .close();
        // q = 1.5 % a year: 0.375 % of the close before, to 4 decimals.
        let expected = (close.value() * Decimal::new(375, 5))
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(d.amount.value(), expected, "{}", d.ex_date);
        assert_eq!(
            d.provenance,
            Provenance::Estimated {
                yield_per_year: 0.015
            }
        );
        assert_eq!(d.underlying, spy());
    }
}
