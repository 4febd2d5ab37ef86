//! The New York Stock Exchange trading calendar from 1990: sessions, holidays, early closes.
//!
//! Rules of our own, since no maintained Rust crate covers the range: `trading-calendar` 0.2
//! answers only 2020-2030 and gets NYSE's observance wrong in places (it closes on Monday after
//! a Saturday New Year's Day, and on Juneteenth 2021); the tests cross-check it over 2020-2030
//! and list the differences. The history follows NYSE's own record as transcribed by
//! `pandas_market_calendars` (`holidays_nyse.py`, from the NYSE "Closings" document).
//!
//! Full-day holidays (weekdays only; a holiday on a weekend is observed as stated):
//! - New Year's Day, 1 Jan; on a Sunday, the Monday after. **On a Saturday, no holiday**: NYSE
//!   does not close on Friday 31 Dec, as in 1994, 2000, 2005, 2011 and 2022.
//! - Martin Luther King Jr. Day, third Monday of January, from 1998.
//! - Washington's Birthday (Presidents' Day), third Monday of February.
//! - Good Friday, two days before Easter Sunday (Gregorian computus).
//! - Memorial Day, last Monday of May.
//! - Juneteenth, 19 June, from 2022; Saturday → Friday, Sunday → Monday.
//! - Independence Day, 4 July; Saturday → Friday, Sunday → Monday.
//! - Labor Day, first Monday of September.
//! - Thanksgiving, fourth Thursday of November.
//! - Christmas, 25 December; Saturday → Friday, Sunday → Monday.
//! - Unscheduled closures: 1994-04-27 (Nixon), 2001-09-11..14 (September 11), 2004-06-11
//!   (Reagan), 2007-01-02 (Ford), 2012-10-29/30 (Hurricane Sandy), 2018-12-05 (G. H. W.
//!   Bush), 2025-01-09 (Carter).
//!
//! Early closes (13:00 unless noted):
//! - 3 July when a Monday, Tuesday or Thursday, from 1995; when a Wednesday, from 2013.
//! - Friday 5 July from 1996 to 2012 (before 2013 the half day followed a Thursday 4 July).
//! - The day after Thanksgiving: 14:00 in 1992, 13:00 from 1993.
//! - Christmas Eve on a weekday session: 14:00 in 1990-1992, 13:00 from 1996.
//! - 26 December 1997 and 2003.
//! - Unscheduled: 1994-02-11 14:30 (snow), 1996-01-08 14:00 (snow), 1997-10-27 15:30
//!   (circuit breaker), 2005-06-01 15:56 (systems problem).
//!
//! Late openings (e.g. 1996-01-08 at 11:00, moments of silence at 09:32) are not modelled:
//! [`NyseCalendar::session_open`] is always 09:30. Unscheduled closures after this crate's
//! release are not known to it.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};

use crate::error::{CoreError, Result};

/// Why the exchange is closed on a weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Holiday {
    /// New Year's Day (or the Monday after).
    NewYearsDay,
    /// Martin Luther King Jr. Day.
    MartinLutherKingJrDay,
    /// Washington's Birthday.
    PresidentsDay,
    /// Good Friday.
    GoodFriday,
    /// Memorial Day.
    MemorialDay,
    /// Juneteenth National Independence Day.
    Juneteenth,
    /// Independence Day (or its observed day).
    IndependenceDay,
    /// Labor Day.
    LaborDay,
    /// Thanksgiving Day.
    Thanksgiving,
    /// Christmas (or its observed day).
    Christmas,
    /// An unscheduled closure; the text says why.
    Special(&'static str),
}

impl Holiday {
    /// The holiday's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NewYearsDay => "New Year's Day",
            Self::MartinLutherKingJrDay => "Martin Luther King Jr. Day",
            Self::PresidentsDay => "Washington's Birthday",
            Self::GoodFriday => "Good Friday",
            Self::MemorialDay => "Memorial Day",
            Self::Juneteenth => "Juneteenth National Independence Day",
            Self::IndependenceDay => "Independence Day",
            Self::LaborDay => "Labor Day",
            Self::Thanksgiving => "Thanksgiving Day",
            Self::Christmas => "Christmas Day",
            Self::Special(reason) => reason,
        }
    }
}

impl std::fmt::Display for Holiday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Unscheduled full-day closures since 1990.
const SPECIAL_CLOSURES: [((i32, u32, u32), &str); 11] = [
    ((1994, 4, 27), "National Day of Mourning for Richard Nixon"),
    ((2001, 9, 11), "September 11 attacks"),
    ((2001, 9, 12), "September 11 attacks"),
    ((2001, 9, 13), "September 11 attacks"),
    ((2001, 9, 14), "September 11 attacks"),
    ((2004, 6, 11), "National Day of Mourning for Ronald Reagan"),
    ((2007, 1, 2), "National Day of Mourning for Gerald Ford"),
    ((2012, 10, 29), "Hurricane Sandy"),
    ((2012, 10, 30), "Hurricane Sandy"),
    (
        (2018, 12, 5),
        "National Day of Mourning for George H. W. Bush",
    ),
    ((2025, 1, 9), "National Day of Mourning for Jimmy Carter"),
];

/// Unscheduled early closes since 1990: date, hour, minute.
const SPECIAL_EARLY_CLOSES: [((i32, u32, u32), u32, u32); 6] = [
    ((1994, 2, 11), 14, 30),
    ((1996, 1, 8), 14, 0),
    ((1997, 10, 27), 15, 30),
    ((1997, 12, 26), 13, 0),
    ((2003, 12, 26), 13, 0),
    ((2005, 6, 1), 15, 56),
];

const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid constant date"),
    }
}

const fn hm(h: u32, m: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, m, 0) {
        Some(t) => t,
        None => panic!("invalid constant time"),
    }
}

/// Regular open, 09:30 New York time.
pub const REGULAR_OPEN: NaiveTime = hm(9, 30);
/// Regular close, 16:00 New York time.
pub const REGULAR_CLOSE: NaiveTime = hm(16, 0);
/// The scheduled early close of half days, 13:00 New York time.
pub const EARLY_CLOSE: NaiveTime = hm(13, 0);

/// The NYSE calendar, 1990-01-01 to 2099-12-31. Holidays after today's date are the scheduled
/// ones; unscheduled closures cannot be foreseen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NyseCalendar;

impl NyseCalendar {
    /// First date the rules cover.
    pub const FIRST_DATE: NaiveDate = ymd(1990, 1, 1);
    /// Last date the rules cover.
    pub const LAST_DATE: NaiveDate = ymd(2099, 12, 31);

    fn check(date: NaiveDate) -> Result<()> {
        if (Self::FIRST_DATE..=Self::LAST_DATE).contains(&date) {
            Ok(())
        } else {
            Err(CoreError::DateOutOfRange {
                date,
                first: Self::FIRST_DATE,
                last: Self::LAST_DATE,
            })
        }
    }

    /// The holiday that closes the exchange on `date`, if any (weekends are not holidays).
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] outside 1990-2099.
    pub fn holiday(self, date: NaiveDate) -> Result<Option<Holiday>> {
        Self::check(date)?;
        Ok(holiday_unchecked(date))
    }

    /// Whether the exchange holds a session on `date`.
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] outside 1990-2099.
    pub fn is_session(self, date: NaiveDate) -> Result<bool> {
        Self::check(date)?;
        Ok(is_session_unchecked(date))
    }

    /// The first session strictly after `date`.
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] if `date` or the answer is outside 1990-2099.
    pub fn next_session(self, date: NaiveDate) -> Result<NaiveDate> {
        Self::check(date)?;
        let mut d = date;
        loop {
            d = d.succ_opt().unwrap_or(NaiveDate::MAX);
            Self::check(d)?;
            if is_session_unchecked(d) {
                return Ok(d);
            }
        }
    }

    /// The last session strictly before `date`.
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] if `date` or the answer is outside 1990-2099.
    pub fn previous_session(self, date: NaiveDate) -> Result<NaiveDate> {
        Self::check(date)?;
        let mut d = date;
        loop {
            d = d.pred_opt().unwrap_or(NaiveDate::MIN);
            Self::check(d)?;
            if is_session_unchecked(d) {
                return Ok(d);
            }
        }
    }

    /// The sessions from `from` to `to`, both included, ascending (empty if `from > to`).
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] if either end is outside 1990-2099.
    pub fn sessions_between(self, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>> {
        Self::check(from)?;
        Self::check(to)?;
        Ok(from
            .iter_days()
            .take_while(|d| *d <= to)
            .filter(|d| is_session_unchecked(*d))
            .collect())
    }

    /// The session's opening time (09:30 New York), or `None` if `date` is not a session.
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] outside 1990-2099.
    pub fn session_open(self, date: NaiveDate) -> Result<Option<NaiveTime>> {
        Ok(self.is_session(date)?.then_some(REGULAR_OPEN))
    }

    /// The session's closing time, New York: 16:00, 13:00 on half days, or an unscheduled
    /// early close; `None` if `date` is not a session.
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] outside 1990-2099.
    pub fn session_close(self, date: NaiveDate) -> Result<Option<NaiveTime>> {
        if !self.is_session(date)? {
            return Ok(None);
        }
        Ok(Some(early_close_unchecked(date).unwrap_or(REGULAR_CLOSE)))
    }

    /// Whether `date` is a session that closes before 16:00.
    ///
    /// # Errors
    /// [`CoreError::DateOutOfRange`] outside 1990-2099.
    pub fn is_early_close(self, date: NaiveDate) -> Result<bool> {
        Ok(self.session_close(date)?.is_some_and(|t| t < REGULAR_CLOSE))
    }
}

/// `n`-th (1-based) `weekday` of a month.
pub(crate) fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).unwrap_or(NaiveDate::MIN)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5)
        .unwrap_or_else(|| nth_weekday(year, month, weekday, 4))
}

/// Easter Sunday by the anonymous Gregorian algorithm (Meeus, "Astronomical Algorithms", 1991,
/// ch. 8; valid for every Gregorian year).
#[must_use]
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // month ∈ {3, 4} and day ∈ 1..=31 by construction.
    NaiveDate::from_ymd_opt(year, month.cast_unsigned(), day.cast_unsigned())
        .unwrap_or(NaiveDate::MIN)
}

/// A fixed-date holiday moved off the weekend: Saturday → Friday, Sunday → Monday.
fn nearest_weekday(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date.pred_opt().unwrap_or(date),
        Weekday::Sun => date.succ_opt().unwrap_or(date),
        _ => date,
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The scheduled holidays observed in `year`, on weekdays.
fn scheduled_holidays(year: i32) -> impl Iterator<Item = (NaiveDate, Holiday)> {
    let new_year = ymd(year, 1, 1);
    // Saturday New Year's Day: no closure (the Friday before is a session).
    let new_year = match new_year.weekday() {
        Weekday::Sat => None,
        Weekday::Sun => new_year.succ_opt(),
        _ => Some(new_year),
    };
    let fixed = |m, d| Some(nearest_weekday(ymd(year, m, d)));
    [
        (new_year, Holiday::NewYearsDay),
        (
            (year >= 1998).then(|| nth_weekday(year, 1, Weekday::Mon, 3)),
            Holiday::MartinLutherKingJrDay,
        ),
        (
            Some(nth_weekday(year, 2, Weekday::Mon, 3)),
            Holiday::PresidentsDay,
        ),
        (
            easter_sunday(year).checked_sub_days(chrono::Days::new(2)),
            Holiday::GoodFriday,
        ),
        (
            Some(last_weekday(year, 5, Weekday::Mon)),
            Holiday::MemorialDay,
        ),
        (
            if year >= 2022 { fixed(6, 19) } else { None },
            Holiday::Juneteenth,
        ),
        (fixed(7, 4), Holiday::IndependenceDay),
        (
            Some(nth_weekday(year, 9, Weekday::Mon, 1)),
            Holiday::LaborDay,
        ),
        (
            Some(nth_weekday(year, 11, Weekday::Thu, 4)),
            Holiday::Thanksgiving,
        ),
        (fixed(12, 25), Holiday::Christmas),
    ]
    .into_iter()
    .filter_map(|(d, h)| d.map(|d| (d, h)))
}

fn holiday_unchecked(date: NaiveDate) -> Option<Holiday> {
    if is_weekend(date) {
        return None;
    }
    if let Some((_, reason)) = SPECIAL_CLOSURES
        .iter()
        .find(|((y, m, d), _)| date == ymd(*y, *m, *d))
    {
        return Some(Holiday::Special(reason));
    }
    scheduled_holidays(date.year())
        .find(|(d, _)| *d == date)
        .map(|(_, h)| h)
}

fn is_session_unchecked(date: NaiveDate) -> bool {
    !is_weekend(date) && holiday_unchecked(date).is_none()
}

/// The early close of a session, if it has one (the caller has checked it is a session).
fn early_close_unchecked(date: NaiveDate) -> Option<NaiveTime> {
    let (y, m, d) = (date.year(), date.month(), date.day());
    if let Some((_, h, min)) = SPECIAL_EARLY_CLOSES
        .iter()
        .find(|((sy, sm, sd), _, _)| (*sy, *sm, *sd) == (y, m, d))
    {
        return Some(hm(*h, *min));
    }
    let weekday = date.weekday();
    let before_independence_day = m == 7
        && d == 3
        && match weekday {
            Weekday::Mon | Weekday::Tue | Weekday::Thu => y >= 1995,
            Weekday::Wed => y >= 2013,
            _ => false,
        };
    let after_independence_day =
        m == 7 && d == 5 && weekday == Weekday::Fri && (1996..=2012).contains(&y);
    if before_independence_day || after_independence_day {
        return Some(EARLY_CLOSE);
    }
    if date == nth_weekday(y, 11, Weekday::Thu, 4) + chrono::Days::new(1) {
        return match y {
            1992 => Some(hm(14, 0)),
            1993.. => Some(EARLY_CLOSE),
            _ => None,
        };
    }
    if m == 12 && d == 24 {
        return match y {
            1990..=1992 => Some(hm(14, 0)),
            1996.. => Some(EARLY_CLOSE),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_matches_published_dates() {
        // Easter Sunday dates from the US Naval Observatory's table.
        for (y, m, d) in [
            (1990, 4, 15),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), ymd(y, m, d), "{y}");
        }
    }

    #[test]
    fn out_of_range_dates_are_errors() {
        let cal = NyseCalendar;
        assert!(matches!(
            cal.is_session(ymd(1989, 12, 29)),
            Err(CoreError::DateOutOfRange { .. })
        ));
        assert!(cal.is_session(ymd(2100, 1, 4)).is_err());
        assert!(cal.previous_session(ymd(1990, 1, 2)).is_err());
        assert!(cal.next_session(ymd(2099, 12, 31)).is_err());
    }
}
