//! Option expiry dates: standard monthlies, weeklies and the daily (0DTE) expiries of SPX,
//! SPY, QQQ and IWM, on the NYSE calendar.
//!
//! Each listed series is a row of the table below: its root, its nominal weekday (or the monthly
//! third Friday), its first nominal expiry and the source for that date. A nominal date that is
//! not a session moves to the previous session, except Monday series, which move to the next
//! (Cboe's terms for Monday Weeklys: "If the Monday … coincides with an Exchange holiday, the
//! expiration date will be on the next business day").
//!
//! Dates are last trading days. For monthly equity options before February 2015 the OCC symbol
//! carried the following Saturday; for AM-settled SPX monthlies the last trading day is the
//! session before the date returned, which is the day the settlement value is fixed.
//!
//! First dates, and how sure they are:
//!
//! | root | weekday | first nominal expiry | source |
//! |---|---|---|---|
//! | SPX | monthly, AM | before 1990 | SPX options listed 1983 |
//! | SPXW | Friday | 2005-10-28 | Cboe, "Weeklys Options" (introduced Oct 2005); exact first date approximate |
//! | SPXW | third Friday (PM) | 2017-05-19 | Cboe RG17-002: SPXPM series renamed SPXW on 2017-05-01 (SPXPM before that is not modelled) |
//! | SPXW | Wednesday | 2016-03-02 | Cboe Options Hub, 2016-02-22: first SPXW Wednesdays 2016-03-02 and 03-09 |
//! | SPXW | Monday | 2016-08-22 | Cboe press release, 2016-07-12: first Mondays 2016-08-22 and 08-29 |
//! | SPXW | Tuesday | 2022-04-26 | Cboe, 2022: Tuesdays listed from 2022-04-18, first expiry 04-26 (VIX and More, 2022-04-19) |
//! | SPXW | Thursday | 2022-05-19 | Cboe, 2022: Thursdays listed from 2022-05-11; first expiry approximate |
//! | SPY | monthly | 2005-01-21 | SPY options listed January 2005 |
//! | SPY | Friday | 2010-06-04 | Weeklys extended to ETFs in 2010; exact first date approximate |
//! | SPY | Wednesday | 2016-09-07 | earliest evidenced (`OptionsHouse` note, Sept 2016); may have started earlier in 2016 |
//! | SPY | Monday | 2018-02-26 | Cboe, listing from 2018-02-16 (Traders Magazine); first expiry approximate |
//! | SPY, QQQ, IWM | Tuesday, Thursday | 2022-11-15 / 2022-11-17 | Cboe rule filing SR-CBOE-2022-059 of 2022-11-14 (87 FR 70875) and Nasdaq ISE approval (87 FR 68769); first expiries approximate, IWM's least certain |
//! | QQQ | monthly | 1999-04-16 | QQQ listed March 1999; options shortly after (approximate) |
//! | QQQ, IWM | Friday | 2010-06-04 | as SPY |
//! | QQQ | Monday, Wednesday | 2021-05-03 / 2021-05-05 | Nasdaq Phlx approval 2021-04-20 (86 FR 22082); first expiries approximate |
//! | IWM | monthly | 2000-08-18 | IWM listed May 2000; options from mid-2000 (approximate) |
//! | IWM | Monday, Wednesday | 2021-10-11 / 2021-10-13 | Cboe filing effective 2021-10-01 (86 FR 56332), Phlx approval (86 FR 54749); first expiries approximate |
//!
//! End-of-month and quarterly expiries (SPXW EOM, SPY/QQQ/IWM quarterlies) are not modelled:
//! on days that also carry a daily expiry they coincide with one, otherwise they are missing.
//! Other underlyings get standard monthlies only.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::calendar::{NyseCalendar, nth_weekday};
use crate::contract::SettlementTime;
use crate::error::Result;

/// Which cycle an expiry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExpiryKind {
    /// The standard monthly: third Friday (Thursday if Friday is a holiday).
    Monthly,
    /// A weekly or daily (0DTE) series.
    Weekly,
}

/// One expiry of one option root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expiry {
    /// The expiry date (the last trading day, except AM-settled SPX: see the module docs).
    pub date: NaiveDate,
    /// The option root: `SPX`, `SPXW`, `SPY`, …
    pub root: String,
    /// Monthly or weekly/daily.
    pub kind: ExpiryKind,
    /// The weekday the series nominally expires on (Friday for monthlies); differs from
    /// `date`'s weekday when a holiday moved it.
    pub nominal_weekday: Weekday,
    /// AM (SPX monthlies) or PM.
    pub settlement_time: SettlementTime,
}

/// One listed series: a root expiring on a nominal weekday (or the third Friday).
#[derive(Debug, Clone, Copy)]
struct Series {
    root: &'static str,
    /// `None` for the monthly third Friday.
    weekday: Option<Weekday>,
    first: NaiveDate,
    settlement_time: SettlementTime,
    /// Whether a weekly series skips the week of the standard monthly (true for SPXW Fridays
    /// before the SPXPM → SPXW change).
    skips_monthly_until: Option<NaiveDate>,
}

const fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, day) {
        Some(date) => date,
        None => panic!("invalid constant date"),
    }
}

const fn s(root: &'static str, weekday: Option<Weekday>, first: NaiveDate) -> Series {
    Series {
        root,
        weekday,
        first,
        settlement_time: SettlementTime::Pm,
        skips_monthly_until: None,
    }
}

use Weekday::{Fri, Mon, Thu, Tue, Wed};

const SPX: [Series; 6] = [
    Series {
        root: "SPX",
        weekday: None,
        first: d(1990, 1, 1),
        settlement_time: SettlementTime::Am,
        skips_monthly_until: None,
    },
    Series {
        root: "SPXW",
        weekday: Some(Fri),
        first: d(2005, 10, 28),
        settlement_time: SettlementTime::Pm,
        skips_monthly_until: Some(d(2017, 5, 1)),
    },
    s("SPXW", Some(Wed), d(2016, 3, 2)),
    s("SPXW", Some(Mon), d(2016, 8, 22)),
    s("SPXW", Some(Tue), d(2022, 4, 26)),
    s("SPXW", Some(Thu), d(2022, 5, 19)),
];

const SPY: [Series; 6] = [
    s("SPY", None, d(2005, 1, 21)),
    s("SPY", Some(Fri), d(2010, 6, 4)),
    s("SPY", Some(Wed), d(2016, 9, 7)),
    s("SPY", Some(Mon), d(2018, 2, 26)),
    s("SPY", Some(Tue), d(2022, 11, 15)),
    s("SPY", Some(Thu), d(2022, 11, 17)),
];

const QQQ: [Series; 6] = [
    s("QQQ", None, d(1999, 4, 16)),
    s("QQQ", Some(Fri), d(2010, 6, 4)),
    s("QQQ", Some(Mon), d(2021, 5, 3)),
    s("QQQ", Some(Wed), d(2021, 5, 5)),
    s("QQQ", Some(Tue), d(2022, 11, 15)),
    s("QQQ", Some(Thu), d(2022, 11, 17)),
];

const IWM: [Series; 6] = [
    s("IWM", None, d(2000, 8, 18)),
    s("IWM", Some(Fri), d(2010, 6, 4)),
    s("IWM", Some(Mon), d(2021, 10, 11)),
    s("IWM", Some(Wed), d(2021, 10, 13)),
    s("IWM", Some(Tue), d(2022, 11, 15)),
    s("IWM", Some(Thu), d(2022, 11, 17)),
];

/// The listed series of an underlying (`SPX` covers SPX and SPXW); `None` for underlyings
/// without a table.
fn series(underlying: &str) -> Option<&'static [Series]> {
    match underlying {
        "SPX" | "SPXW" => Some(&SPX),
        "SPY" => Some(&SPY),
        "QQQ" => Some(&QQQ),
        "IWM" => Some(&IWM),
        _ => None,
    }
}

/// The standard monthly expiry of a month: the third Friday, or the session before it when
/// it is a holiday (e.g. Good Friday 2014-04-18 → Thursday 2014-04-17).
///
/// # Errors
/// [`crate::CoreError::DateOutOfRange`] outside the calendar's range.
pub fn monthly_expiry(calendar: NyseCalendar, year: i32, month: u32) -> Result<NaiveDate> {
    let third_friday = nth_weekday(year, month, Fri, 3);
    if calendar.is_session(third_friday)? {
        Ok(third_friday)
    } else {
        calendar.previous_session(third_friday)
    }
}

/// Every expiry of `underlying`'s options with a date from `from` to `to` (both included),
/// sorted by date, then monthly before weekly, then root. `underlying` is `SPX` (SPX and SPXW),
/// `SPY`, `QQQ`, `IWM`, or any other symbol (standard monthlies only). Where two series of one
/// root land on the same date (a Friday weekly in a monthly's week, a Monday moved to a listed
/// Tuesday), the date is returned once, as the monthly or the first series in the table.
///
/// # Errors
/// [`crate::CoreError::DateOutOfRange`] if the range reaches outside the calendar.
pub fn expiries_between(
    calendar: NyseCalendar,
    underlying: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Expiry>> {
    const GENERIC: [Series; 1] = [s("", None, NyseCalendar::FIRST_DATE)];
    let table: &[Series] = series(underlying).unwrap_or(&GENERIC);
    // The generic row's empty root stands for the underlying's own symbol.
    let root_of = |series: &Series| {
        if series.root.is_empty() {
            underlying.to_owned()
        } else {
            series.root.to_owned()
        }
    };
    let mut out = Vec::new();
    if from > to {
        return Ok(out);
    }
    // Nominal dates can move one or two sessions; scan a week beyond both ends.
    let scan_from = from - chrono::Days::new(7);
    let scan_to = to + chrono::Days::new(7);
    for series in table {
        match series.weekday {
            None => {
                let mut year = scan_from.year();
                let mut month = scan_from.month();
                while (year, month) <= (scan_to.year(), scan_to.month()) {
                    let nominal = nth_weekday(year, month, Fri, 3);
                    if nominal >= series.first
                        && nominal >= NyseCalendar::FIRST_DATE
                        && nominal <= NyseCalendar::LAST_DATE
                    {
                        let date = monthly_expiry(calendar, year, month)?;
                        out.push(Expiry {
                            date,
                            root: root_of(series),
                            kind: ExpiryKind::Monthly,
                            nominal_weekday: Fri,
                            settlement_time: series.settlement_time,
                        });
                    }
                    (year, month) = if month == 12 {
                        (year + 1, 1)
                    } else {
                        (year, month + 1)
                    };
                }
            }
            Some(weekday) => {
                let offset = (7 + weekday.num_days_from_monday()
                    - scan_from.weekday().num_days_from_monday())
                    % 7;
                let mut nominal = scan_from + chrono::Days::new(u64::from(offset));
                while nominal <= scan_to {
                    let skip = series.skips_monthly_until.is_some_and(|until| {
                        nominal < until
                            && nominal == nth_weekday(nominal.year(), nominal.month(), Fri, 3)
                    });
                    let in_calendar = nominal > NyseCalendar::FIRST_DATE + chrono::Days::new(7)
                        && nominal < NyseCalendar::LAST_DATE - chrono::Days::new(7);
                    if nominal >= series.first && !skip && in_calendar {
                        let date = if calendar.is_session(nominal)? {
                            nominal
                        } else if weekday == Mon {
                            calendar.next_session(nominal)?
                        } else {
                            calendar.previous_session(nominal)?
                        };
                        out.push(Expiry {
                            date,
                            root: root_of(series),
                            kind: ExpiryKind::Weekly,
                            nominal_weekday: weekday,
                            settlement_time: series.settlement_time,
                        });
                    }
                    nominal = nominal + chrono::Days::new(7);
                }
            }
        }
    }
    out.retain(|e| (from..=to).contains(&e.date));
    out.sort_by(|a, b| (a.date, a.kind, &a.root).cmp(&(b.date, b.kind, &b.root)));
    out.dedup_by(|later, earlier| later.date == earlier.date && later.root == earlier.root);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_moves_off_good_friday() {
        assert_eq!(
            monthly_expiry(NyseCalendar, 2014, 4).unwrap(),
            d(2014, 4, 17)
        );
        assert_eq!(
            monthly_expiry(NyseCalendar, 2025, 4).unwrap(),
            d(2025, 4, 17)
        );
        assert_eq!(
            monthly_expiry(NyseCalendar, 2025, 3).unwrap(),
            d(2025, 3, 21)
        );
    }
}
