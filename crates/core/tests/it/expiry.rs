//! Expiry schedules against known weeks and the expiries listed in real chain files.

use crate::common;

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use rstest::rstest;
use volta_core::NyseCalendar;
use volta_core::SettlementTime;
use volta_core::expiry::{ExpiryKind, expiries_between, monthly_expiry};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dates(underlying: &str, from: &str, to: &str) -> Vec<String> {
    expiries_between(NyseCalendar, underlying, d(from), d(to))
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.root, e.date))
        .collect()
}

#[rstest]
// SPY: Fridays only in 2015; Mon/Wed/Fri in 2019; every session from late 2022.
#[case("SPY", "2015-06-01", "2015-06-12", &["SPY 2015-06-05", "SPY 2015-06-12"])]
#[case("SPY", "2019-06-03", "2019-06-07", &["SPY 2019-06-03", "SPY 2019-06-05", "SPY 2019-06-07"])]
#[case("SPY", "2023-01-09", "2023-01-13", &["SPY 2023-01-09", "SPY 2023-01-10", "SPY 2023-01-11", "SPY 2023-01-12", "SPY 2023-01-13"])]
// Good Friday 2021: the Friday weekly moves to Thursday.
#[case("SPY", "2021-03-29", "2021-04-02", &["SPY 2021-03-29", "SPY 2021-03-31", "SPY 2021-04-01"])]
// Memorial Day 2019: the Monday SPXW moves to Tuesday.
#[case("SPX", "2019-05-27", "2019-05-31", &["SPXW 2019-05-28", "SPXW 2019-05-29", "SPXW 2019-05-31"])]
// Third Friday: SPX (AM) and SPXW (PM) both expire.
#[case("SPX", "2019-05-17", "2019-05-17", &["SPX 2019-05-17", "SPXW 2019-05-17"])]
// Before the SPXPM → SPXW change, SPXW Fridays skipped the monthly's Friday.
#[case("SPX", "2015-05-15", "2015-05-15", &["SPX 2015-05-15"])]
// Carter's day of mourning (Thu 2025-01-09): SPXW Thursday moves to Wednesday, same as the
// Wednesday series.
#[case("SPX", "2025-01-06", "2025-01-10", &["SPXW 2025-01-06", "SPXW 2025-01-07", "SPXW 2025-01-08", "SPXW 2025-01-10"])]
// QQQ Mon/Wed from May 2021, IWM from October 2021.
#[case("QQQ", "2021-05-03", "2021-05-07", &["QQQ 2021-05-03", "QQQ 2021-05-05", "QQQ 2021-05-07"])]
#[case("IWM", "2021-05-03", "2021-05-07", &["IWM 2021-05-07"])]
// Other symbols: standard monthlies only (third Friday).
#[case("AAPL", "2024-01-01", "2024-03-31", &["AAPL 2024-01-19", "AAPL 2024-02-16", "AAPL 2024-03-15"])]
fn known_weeks(
    #[case] underlying: &str,
    #[case] from: &str,
    #[case] to: &str,
    #[case] expected: &[&str],
) {
    assert_eq!(dates(underlying, from, to), expected);
}

#[test]
fn spx_monthly_is_am_settled_and_kinds_are_labelled() {
    let e = expiries_between(NyseCalendar, "SPX", d("2019-05-17"), d("2019-05-17")).unwrap();
    assert_eq!(e[0].kind, ExpiryKind::Monthly);
    assert_eq!(e[0].settlement_time, SettlementTime::Am);
    assert_eq!(e[1].kind, ExpiryKind::Weekly);
    assert_eq!(e[1].settlement_time, SettlementTime::Pm);
    let shifted = expiries_between(NyseCalendar, "SPX", d("2019-05-28"), d("2019-05-28")).unwrap();
    assert_eq!(shifted[0].nominal_weekday, Weekday::Mon);
}

#[test]
fn monthlies_are_third_fridays_or_the_session_before() {
    for year in 1990..=2030 {
        for month in 1..=12 {
            let m = monthly_expiry(NyseCalendar, year, month).unwrap();
            assert!(
                (15..=21).contains(&m.day()) || m.weekday() == Weekday::Thu,
                "{m}"
            );
            assert!(NyseCalendar.is_session(m).unwrap());
        }
    }
    let all = expiries_between(NyseCalendar, "SPY", d("2023-01-01"), d("2023-12-31")).unwrap();
    assert_eq!(
        all.iter().filter(|e| e.kind == ExpiryKind::Monthly).count(),
        12
    );
    // Every session of 2023 is an SPY expiry.
    assert_eq!(all.len(), 250);
}

/// The SPX chain of 2019-04-25 (CBOE delayed quotes) lists every SPX/SPXW expiry; within the
/// four weeks that Cboe keeps Monday and Wednesday series listed, the schedule must match it,
/// apart from end-of-month series, which the schedule does not model.
#[test]
fn spx_schedule_matches_the_2019_chain() {
    let Some(path) = common::data_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let (from, to) = (d("2019-04-26"), d("2019-05-22"));
    let listed: BTreeSet<(String, NaiveDate)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            // `SPXW190426C00800000`: the root is what precedes the yymmdd date.
            let root = f[3].trim_end_matches(|c: char| c.is_ascii_digit() || c == 'C' || c == 'P');
            (
                root.to_owned(),
                NaiveDate::parse_from_str(f[5], "%m/%d/%Y").unwrap(),
            )
        })
        .filter(|(_, e)| (from..=to).contains(e))
        .collect();
    let ours: BTreeSet<(String, NaiveDate)> = expiries_between(NyseCalendar, "SPX", from, to)
        .unwrap()
        .into_iter()
        .map(|e| (e.root, e.date))
        .collect();
    let only_listed: Vec<_> = listed.difference(&ours).collect();
    let only_ours: Vec<_> = ours.difference(&listed).collect();
    assert!(
        only_ours.is_empty(),
        "scheduled but not listed: {only_ours:?}"
    );
    // 2019-04-30, a Tuesday, is the April end-of-month SPXW.
    assert_eq!(only_listed, [&("SPXW".to_owned(), d("2019-04-30"))]);
}

/// Every expiry in the 2021 SPY sample is a scheduled SPY expiry, except quarter-ends that fall
/// on no Mon/Wed/Fri (quarterlies are not modelled).
#[test]
fn spy_2021_sample_expiries_are_scheduled() {
    let Some(path) = common::data_file("options/SPY_sampled20_2021-01-04_to_2021-12-29.csv") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let listed: BTreeSet<NaiveDate> = text
        .lines()
        .skip(1)
        .map(|l| NaiveDate::parse_from_str(l.split(',').nth(4).unwrap(), "%Y-%m-%d").unwrap())
        .collect();
    let ours: BTreeSet<NaiveDate> =
        expiries_between(NyseCalendar, "SPY", d("2021-01-01"), d("2024-12-31"))
            .unwrap()
            .into_iter()
            .map(|e| e.date)
            .collect();
    let unscheduled: Vec<String> = listed.difference(&ours).map(ToString::to_string).collect();
    assert_eq!(
        unscheduled,
        ["2021-09-30", "2022-03-31"],
        "the Q3 2021 and Q1 2022 quarterlies (Thursdays) are not modelled"
    );
}
