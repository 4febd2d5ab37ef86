//! The text forms both stores share: dates and times as sortable text, prices and money as exact
//! decimal text, contract keys in their OCC form, sides as words. SQLite stores these texts; the
//! PostgreSQL store sends and reads its DATE, TIMESTAMP and NUMERIC columns in the same forms
//! (cast on the server), so one parser serves both.
//!
//! Writing is a set of small functions (`fmt_date`, `occ_text`, …) whose results are bound as
//! statement parameters. Reading goes through each store's reader, which names the table, column
//! and row of any value that does not parse ([`DataError::StoreCorrupt`]) using [`FromText`].

use std::fmt::Display;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use volta_core::{ContractKey, Money, OptionRight, Price, Underlying};

use super::Side;
use crate::{DataError, Result};

/// Timestamps as stored: sortable text that SQLite's date functions read. `%.f` writes the
/// fraction only when there is one (3, 6 or 9 digits), so whole seconds stay short.
pub(crate) const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";
pub(crate) const DATE_FORMAT: &str = "%Y-%m-%d";

// Dates and times are written and read by hand in their one stored form (`YYYY-MM-DD`,
// `YYYY-MM-DD HH:MM:SS`): chrono's format strings are interpreted item by item on every call,
// which made them the largest cost of loading a chain (a time per quote). Fractional seconds,
// years outside 0..=9999 and anything unexpected go through chrono.

pub(crate) fn fmt_date(d: NaiveDate) -> String {
    if (0..=9999).contains(&d.year()) {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        d.format(DATE_FORMAT).to_string()
    }
}

pub(crate) fn fmt_datetime(t: NaiveDateTime) -> String {
    if t.nanosecond() == 0 && (0..=9999).contains(&t.year()) {
        format!(
            "{} {:02}:{:02}:{:02}",
            fmt_date(t.date()),
            t.hour(),
            t.minute(),
            t.second()
        )
    } else {
        t.format(DATETIME_FORMAT).to_string()
    }
}

/// The number written in ASCII digits `b`, if they all are.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let year = i32::try_from(digits(&b[0..4])?).ok()?;
        return NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?);
    }
    NaiveDate::parse_from_str(s, DATE_FORMAT).ok()
}

/// `YYYY-MM-DD HH:MM:SS[.f]`.
pub(crate) fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() == 19 && b[10] == b' ' && b[13] == b':' && b[16] == b':' {
        return parse_date(&s[..10])?.and_hms_opt(
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
    }
    NaiveDateTime::parse_from_str(s, DATETIME_FORMAT).ok()
}

/// The first instant after `date`, as stored text: the exclusive end of a day's range.
pub(crate) fn day_after(date: NaiveDate) -> String {
    date.succ_opt()
        .map_or_else(|| "9999-99-99".to_owned(), fmt_date)
}

/// The 21-character OCC form of `key`, exactly as its `Display` writes it
/// (`SPXW  190517C02900000`), built without the formatting machinery: a bulk import writes a
/// million of them.
pub(crate) fn occ_text(key: &ContractKey) -> String {
    fn digits(out: &mut String, mut n: u32, width: usize) {
        let mut buf = [b'0'; 10];
        for slot in buf[..width].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend(buf[..width].iter().map(|&b| char::from(b)));
    }
    let mut out = String::with_capacity(21);
    out.push_str(key.root());
    for _ in key.root().len()..6 {
        out.push(' ');
    }
    let e = key.expiry();
    digits(&mut out, (e.year() % 100).cast_unsigned(), 2);
    digits(&mut out, e.month(), 2);
    digits(&mut out, e.day(), 2);
    out.push(match key.right() {
        OptionRight::Call => 'C',
        OptionRight::Put => 'P',
    });
    digits(&mut out, key.strike().thousandths(), 8);
    out
}

/// A decimal (a price, an amount of money) as stored text; `None` stays NULL.
pub(crate) fn opt_text<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|x| x.to_string())
}

pub(crate) const SIDE_BUY: &str = "buy";
pub(crate) const SIDE_SELL: &str = "sell";

/// A side as stored: `buy` or `sell`.
pub(crate) const fn side_text(side: Side) -> &'static str {
    match side {
        Side::Buy => SIDE_BUY,
        Side::Sell => SIDE_SELL,
    }
}

/// A count that SQLite's signed 64-bit integers hold, or [`DataError::StoreValue`].
pub(crate) fn to_i64(v: u64, key: &dyn Display, field: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| DataError::StoreValue {
        key: key.to_string(),
        field,
        value: v.to_string(),
        requirement: "at most 2^63 - 1",
    })
}

/// SQLite stores a NaN as NULL: refuse it rather than read back a different value.
pub(crate) fn not_nan(
    v: Option<f64>,
    key: &dyn Display,
    field: &'static str,
) -> Result<Option<f64>> {
    match v {
        Some(x) if x.is_nan() => Err(DataError::StoreValue {
            key: key.to_string(),
            field,
            value: "NaN".to_owned(),
            requirement: "a number (use None for a missing value)",
        }),
        _ => Ok(v),
    }
}

/// A value stored as text in one form, read back by [`Reader::opt`] and [`Reader::req`].
pub(crate) trait FromText: Sized {
    /// What the stored text should have been, for [`DataError::StoreCorrupt`].
    const EXPECTED: &'static str;
    /// The value the text holds, if it is one.
    fn from_text(s: &str) -> Option<Self>;
}

/// `FromText` for types stored in their `Display` form and read back with their `FromStr`.
macro_rules! from_text_by_parse {
    ($($t:ty => $expected:literal),* $(,)?) => {$(
        impl FromText for $t {
            const EXPECTED: &'static str = $expected;
            fn from_text(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}

from_text_by_parse!(
    Price => "a non-negative decimal",
    Money => "a decimal",
    Underlying => "a ticker",
    ContractKey => "an OCC option symbol",
);

impl FromText for NaiveDate {
    const EXPECTED: &'static str = "a date YYYY-MM-DD";
    fn from_text(s: &str) -> Option<Self> {
        parse_date(s)
    }
}

impl FromText for NaiveDateTime {
    const EXPECTED: &'static str = "a time YYYY-MM-DD HH:MM:SS[.f]";
    fn from_text(s: &str) -> Option<Self> {
        parse_datetime(s)
    }
}

impl FromText for Side {
    const EXPECTED: &'static str = "`buy` or `sell`";
    fn from_text(s: &str) -> Option<Self> {
        match s {
            SIDE_BUY => Some(Self::Buy),
            SIDE_SELL => Some(Self::Sell),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_forms_agree_with_chrono() {
        for (y, m, d, h, mi, sec) in [
            (1990, 1, 2, 9, 30, 0),
            (2019, 12, 31, 23, 59, 59),
            (2024, 2, 29, 0, 0, 0),
            (99, 7, 4, 16, 15, 5),
        ] {
            let t = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, mi, sec)
                .unwrap();
            let text = fmt_datetime(t);
            assert_eq!(text, t.format(DATETIME_FORMAT).to_string());
            assert_eq!(fmt_date(t.date()), t.format(DATE_FORMAT).to_string());
            assert_eq!(parse_datetime(&text), Some(t));
            assert_eq!(parse_date(&text[..10]), Some(t.date()));
        }
        for bad in [
            "2019-13-01 00:00:00",
            "2019-02-30 00:00:00",
            "2019-01-01 24:00:00",
            "2019-01-01T00:00:00",
            "2019-01-0x 00:00:00",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2019-02-29"), None);
    }

    #[test]
    fn timestamps_sort_as_text_and_round_trip() {
        let d = NaiveDate::from_ymd_opt(2019, 4, 26).unwrap();
        let whole = d.and_hms_opt(16, 0, 0).unwrap();
        let frac = d.and_hms_milli_opt(16, 0, 0, 500).unwrap();
        let next = d.and_hms_opt(16, 0, 1).unwrap();
        let (a, b, c) = (fmt_datetime(whole), fmt_datetime(frac), fmt_datetime(next));
        assert_eq!(a, "2019-04-26 16:00:00");
        assert_eq!(b, "2019-04-26 16:00:00.500");
        assert!(a < b && b < c);
        assert!(fmt_date(d) < a && a < day_after(d));
        for (s, t) in [(a, whole), (b, frac), (c, next)] {
            assert_eq!(
                NaiveDateTime::parse_from_str(&s, DATETIME_FORMAT).unwrap(),
                t
            );
        }
    }

    #[test]
    fn occ_text_is_the_display_form() {
        for text in [
            "SPXW  190517C02900000",
            "SPY   250321P00450500",
            "A     160115C00040000",
            "SPXPM 110122P99999999",
            "QQQ   000101C00000001",
        ] {
            let key: ContractKey = text.parse().unwrap();
            assert_eq!(occ_text(&key), key.to_string());
            assert_eq!(occ_text(&key), text);
            assert_eq!(ContractKey::from_text(text), Some(key));
        }
    }

    #[test]
    fn sides_round_trip_and_nothing_else_reads_as_one() {
        for side in [Side::Buy, Side::Sell] {
            assert_eq!(Side::from_text(side_text(side)), Some(side));
        }
        for bad in ["BUY", "", "short"] {
            assert_eq!(Side::from_text(bad), None, "{bad}");
        }
    }
}
