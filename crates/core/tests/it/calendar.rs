//! The NYSE calendar against known dates, the real SPY and VIX histories, and the
//! `trading-calendar` crate.

use crate::common;

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveTime};
use rstest::rstest;
use volta_core::{Holiday, NyseCalendar};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const CAL: NyseCalendar = NyseCalendar;

#[rstest]
// Good Friday, several years (Easter from the USNO table).
#[case("1990-04-13", "Good Friday")]
#[case("2000-04-21", "Good Friday")]
#[case("2008-03-21", "Good Friday")]
#[case("2015-04-03", "Good Friday")]
#[case("2021-04-02", "Good Friday")]
#[case("2024-03-29", "Good Friday")]
// Unscheduled closures.
#[case("1994-04-27", "National Day of Mourning for Richard Nixon")]
#[case("2001-09-11", "September 11 attacks")]
#[case("2001-09-12", "September 11 attacks")]
#[case("2001-09-13", "September 11 attacks")]
#[case("2001-09-14", "September 11 attacks")]
#[case("2004-06-11", "National Day of Mourning for Ronald Reagan")]
#[case("2007-01-02", "National Day of Mourning for Gerald Ford")]
#[case("2012-10-29", "Hurricane Sandy")]
#[case("2012-10-30", "Hurricane Sandy")]
#[case("2018-12-05", "National Day of Mourning for George H. W. Bush")]
#[case("2025-01-09", "National Day of Mourning for Jimmy Carter")]
// Observance: Christmas on a Saturday closes Friday 24th; New Year on a Sunday closes Monday.
#[case("2021-12-24", "Christmas Day")]
#[case("2023-01-02", "New Year's Day")]
#[case("2020-07-03", "Independence Day")]
#[case("2022-06-20", "Juneteenth National Independence Day")]
#[case("2023-06-19", "Juneteenth National Independence Day")]
#[case("1998-01-19", "Martin Luther King Jr. Day")]
#[case("2019-11-28", "Thanksgiving Day")]
#[case("2019-09-02", "Labor Day")]
#[case("2019-05-27", "Memorial Day")]
#[case("2019-02-18", "Washington's Birthday")]
fn closed_with_name(#[case] date: &str, #[case] name: &str) {
    let date = d(date);
    assert!(!CAL.is_session(date).unwrap(), "{date} should be closed");
    assert_eq!(CAL.holiday(date).unwrap().map(Holiday::name), Some(name));
    assert_eq!(CAL.session_close(date).unwrap(), None);
}

#[rstest]
#[case("2021-06-18")] // Juneteenth became an NYSE holiday only in 2022.
#[case("2022-01-03")] // Saturday New Year 2022: no Monday closure ...
#[case("2021-12-31")] // ... and no Friday closure.
#[case("2010-12-31")] // Saturday New Year 2011.
#[case("1997-01-20")] // MLK day before NYSE observed it.
#[case("2001-09-17")] // Reopening after September 11.
#[case("2012-10-31")] // Reopening after Sandy.
fn open(#[case] date: &str) {
    assert!(
        CAL.is_session(d(date)).unwrap(),
        "{date} should be a session"
    );
}

#[rstest]
#[case("2019-07-03", 13, 0)]
#[case("2023-11-24", 13, 0)]
#[case("2024-12-24", 13, 0)]
#[case("2013-07-03", 13, 0)] // Wednesday rule from 2013.
#[case("2002-07-05", 13, 0)] // Friday after a Thursday Fourth, before 2013.
#[case("1992-11-27", 14, 0)]
#[case("1991-12-24", 14, 0)]
#[case("2003-12-26", 13, 0)]
#[case("2005-06-01", 15, 56)]
#[case("2002-07-03", 16, 0)] // Wednesday 3 July before 2013: full day.
#[case("2019-07-05", 16, 0)] // Friday 5 July after 2013: full day.
#[case("2022-07-01", 16, 0)] // Monday Fourth: Friday before is a full day.
#[case("1991-11-29", 16, 0)] // Day after Thanksgiving before 1992.
fn close_times(#[case] date: &str, #[case] hour: u32, #[case] minute: u32) {
    let date = d(date);
    let expected = NaiveTime::from_hms_opt(hour, minute, 0).unwrap();
    assert_eq!(CAL.session_close(date).unwrap(), Some(expected), "{date}");
    assert_eq!(CAL.is_early_close(date).unwrap(), hour < 16);
    assert_eq!(
        CAL.session_open(date).unwrap(),
        NaiveTime::from_hms_opt(9, 30, 0)
    );
}

#[rstest]
// NYSE published counts of trading days per year.
#[case(2001, 248)]
#[case(2012, 250)]
#[case(2018, 251)]
#[case(2019, 252)]
#[case(2021, 252)]
#[case(2022, 251)]
#[case(2023, 250)]
fn sessions_per_year(#[case] year: i32, #[case] count: usize) {
    let days = CAL
        .sessions_between(
            NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        )
        .unwrap();
    assert_eq!(days.len(), count, "{year}");
}

#[test]
fn next_and_previous_cross_holidays() {
    assert_eq!(CAL.next_session(d("2001-09-10")).unwrap(), d("2001-09-17"));
    assert_eq!(
        CAL.previous_session(d("2001-09-17")).unwrap(),
        d("2001-09-10")
    );
    assert_eq!(CAL.next_session(d("2021-12-23")).unwrap(), d("2021-12-27"));
    assert_eq!(
        CAL.previous_session(d("2024-04-01")).unwrap(),
        d("2024-03-28")
    );
    assert!(
        CAL.sessions_between(d("2024-01-05"), d("2024-01-01"))
            .unwrap()
            .is_empty()
    );
}

/// Dates of a CSV's first column, parsed with `format`.
fn csv_dates(path: &std::path::Path, format: &str) -> Vec<NaiveDate> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let field = l.split(',').next().unwrap();
            NaiveDate::parse_from_str(field, format).unwrap_or_else(|e| panic!("{field}: {e}"))
        })
        .collect()
}

#[test]
fn spy_history_matches_the_sessions_exactly() {
    let Some(path) = common::data_file("underlying/SPY_daily_unadjusted.csv") else {
        return;
    };
    let file: BTreeSet<NaiveDate> = csv_dates(&path, "%Y-%m-%d").into_iter().collect();
    let sessions: BTreeSet<NaiveDate> = CAL
        .sessions_between(d("1999-11-01"), d("2023-11-08"))
        .unwrap()
        .into_iter()
        .collect();
    let not_sessions: Vec<_> = file.difference(&sessions).collect();
    let missing: Vec<_> = sessions.difference(&file).collect();
    assert!(
        not_sessions.is_empty(),
        "SPY traded on non-sessions: {not_sessions:?}"
    );
    assert!(
        missing.is_empty(),
        "sessions without a SPY bar: {missing:?}"
    );
    assert_eq!(file.len(), 6045);
    let in_2019 = file.iter().filter(|d| d.year() == 2019).count();
    assert_eq!(in_2019, 252);
}

#[test]
fn vix_history_dates_match_nyse_sessions_apart_from_known_exceptions() {
    let Some(path) = common::data_file("vol/VIX_History.csv") else {
        return;
    };
    let dates = csv_dates(&path, "%m/%d/%Y");
    assert_eq!(dates.len(), 8538);
    let not_sessions: Vec<_> = dates
        .iter()
        .copied()
        .filter(|d| !CAL.is_session(*d).unwrap())
        .collect();
    // CBOE's file has rows on NYSE holidays in two cases, both as published: a flat, stale row
    // (O = H = L = C = 15.04) on the Reagan closure, and, from Memorial Day 2022, every NYSE
    // holiday on which Cboe's extended (global) trading hours session computed the index. Any
    // other row off the NYSE calendar would be a calendar bug.
    let cboe_open_on_nyse_holidays = [
        "2004-06-11",
        "2022-05-30",
        "2022-06-20",
        "2022-07-04",
        "2022-09-05",
        "2022-11-24",
        "2023-01-16",
        "2023-02-20",
        "2023-05-29",
        "2023-06-19",
        "2023-07-04",
        "2023-09-04",
    ]
    .map(d);
    assert_eq!(
        not_sessions, cboe_open_on_nyse_holidays,
        "VIX rows on NYSE non-sessions"
    );
    // And the other way: CBOE published VIX on every NYSE session from 1990-01-02 to 2023-11-08.
    let file: BTreeSet<_> = dates.into_iter().collect();
    let missing: Vec<_> = CAL
        .sessions_between(d("1990-01-02"), d("2023-11-08"))
        .unwrap()
        .into_iter()
        .filter(|d| !file.contains(d))
        .collect();
    // Four NYSE sessions have no row in CBOE's file (gaps in the published history, each a
    // full trading day on the NYSE: no calendar rule closes them).
    assert_eq!(
        missing,
        ["1991-03-01", "1997-01-31", "1997-11-26", "1999-12-31"].map(d),
        "sessions without VIX"
    );
}

/// `trading-calendar` 0.2 covers 2020-2030 only. It differs from NYSE's rules on the dates
/// listed here (checked against NYSE's published holiday calendars); everything else agrees.
#[test]
fn agrees_with_trading_calendar_2020_2030_except_known_errors() {
    use trading_calendar::{Market, TradingCalendar};
    let theirs = TradingCalendar::new(Market::NYSE).unwrap();
    let mut session_diffs = Vec::new();
    let mut close_diffs = Vec::new();
    for date in d("2020-01-01")
        .iter_days()
        .take_while(|x| *x <= d("2030-12-31"))
    {
        let ours = CAL.is_session(date).unwrap();
        if ours != theirs.is_trading_day(date).unwrap() {
            session_diffs.push(date.to_string());
        } else if ours {
            let their_close = theirs.trading_hours(date).market_close();
            if CAL.session_close(date).unwrap() != Some(their_close) {
                close_diffs.push(date.to_string());
            }
        }
    }
    // Where the two disagree, NYSE's published calendars side with ours: the crate moves a
    // Saturday holiday to Monday, where NYSE closes on the Friday (Christmas, Juneteenth) or
    // not at all (New Year's Day), and it observes Juneteenth from 2021.
    assert_eq!(
        session_diffs,
        [
            "2021-06-21", // Juneteenth 2021 (Sat → Mon): NYSE open, first closure was 2022.
            "2021-12-24", // Christmas 2021 (Sat): NYSE closed Friday 24th ...
            "2021-12-27", // ... and open Monday 27th.
            "2022-01-03", // New Year 2022 (Sat): NYSE open Monday 3rd.
            "2025-01-09", // Carter's national day of mourning, not in the crate.
            "2027-06-18", // Juneteenth 2027 (Sat): NYSE closed Friday 18th ...
            "2027-06-21", // ... and open Monday 21st.
            "2027-12-24", // Christmas 2027 (Sat): closed Friday 24th ...
            "2027-12-27", // ... open Monday 27th.
            "2028-01-03", // New Year 2028 (Sat): open Monday 3rd.
        ]
    );
    // Early closes agree on every session both call a session.
    assert!(
        close_diffs.is_empty(),
        "close times differ: {close_diffs:?}"
    );
}
