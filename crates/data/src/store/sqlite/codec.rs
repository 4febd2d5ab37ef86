//! How Rust values are written to and read from SQL columns: dates and times as sortable text,
//! prices and money as exact decimal text, contract keys in their OCC form, sides as words.
//!
//! Writing is a set of small functions (`fmt_date`, `occ_text`, …) whose results are bound as
//! statement parameters. Reading goes through a [`Reader`], which names the table, column and
//! row of any value that does not parse ([`DataError::StoreCorrupt`]).

use std::fmt::Display;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rusqlite::Row;
use rusqlite::types::ValueRef;
use volta_core::{ContractKey, Money, OptionRight, Price, Underlying};

use super::sql_err;
use crate::store::Side;
use crate::{DataError, Result};

/// Timestamps as stored: sortable text that SQLite's date functions read. `%.f` writes the
/// fraction only when there is one (3, 6 or 9 digits), so whole seconds stay short.
const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";
const DATE_FORMAT: &str = "%Y-%m-%d";

// Dates and times are written and read by hand in their one stored form (`YYYY-MM-DD`,
// `YYYY-MM-DD HH:MM:SS`): chrono's format strings are interpreted item by item on every call,
// which made them the largest cost of loading a chain (a time per quote). Fractional seconds,
// years outside 0..=9999 and anything unexpected go through chrono.

pub(super) fn fmt_date(d: NaiveDate) -> String {
    if (0..=9999).contains(&d.year()) {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        d.format(DATE_FORMAT).to_string()
    }
}

pub(super) fn fmt_datetime(t: NaiveDateTime) -> String {
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
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let year = i32::try_from(digits(&b[0..4])?).ok()?;
        return NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?);
    }
    NaiveDate::parse_from_str(s, DATE_FORMAT).ok()
}

/// `YYYY-MM-DD HH:MM:SS[.f]`.
fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
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
pub(super) fn day_after(date: NaiveDate) -> String {
    date.succ_opt()
        .map_or_else(|| "9999-99-99".to_owned(), fmt_date)
}

/// The 21-character OCC form of `key`, exactly as its `Display` writes it
/// (`SPXW  190517C02900000`), built without the formatting machinery: a bulk import writes a
/// million of them.
pub(super) fn occ_text(key: &ContractKey) -> String {
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
pub(super) fn opt_text<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|x| x.to_string())
}

const SIDE_BUY: &str = "buy";
const SIDE_SELL: &str = "sell";

/// A side as stored: `buy` or `sell`.
pub(super) const fn side_text(side: Side) -> &'static str {
    match side {
        Side::Buy => SIDE_BUY,
        Side::Sell => SIDE_SELL,
    }
}

/// A count that SQLite's signed 64-bit integers hold, or [`DataError::StoreValue`].
pub(super) fn to_i64(v: u64, key: &dyn Display, field: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| DataError::StoreValue {
        key: key.to_string(),
        field,
        value: v.to_string(),
        requirement: "at most 2^63 - 1",
    })
}

/// SQLite stores a NaN as NULL: refuse it rather than read back a different value.
pub(super) fn not_nan(
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
pub(super) trait FromText: Sized {
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

/// Reads the stored values of one row back, naming the table, column and row (its key) of any
/// value that is not what the schema says ([`DataError::StoreCorrupt`]).
#[derive(Clone, Copy)]
pub(super) struct Reader<'a, 'stmt> {
    table: &'static str,
    row: &'a Row<'stmt>,
    key: &'a dyn Display,
}

impl<'a, 'stmt> Reader<'a, 'stmt> {
    /// A reader of `row` of `table`, which errors name by `key`.
    pub(super) fn new(table: &'static str, row: &'a Row<'stmt>, key: &'a dyn Display) -> Self {
        Self { table, row, key }
    }

    /// The same row, named by `key` from now on (once its own id has been read).
    pub(super) fn keyed<'b>(&self, key: &'b dyn Display) -> Reader<'b, 'stmt>
    where
        'a: 'b,
    {
        Reader::new(self.table, self.row, key)
    }

    fn corrupt(&self, column: &'static str, value: &str, expected: &'static str) -> DataError {
        DataError::StoreCorrupt {
            table: self.table,
            column,
            key: self.key.to_string(),
            value: value.to_owned(),
            expected,
        }
    }

    fn value(&self, i: usize) -> Result<ValueRef<'a>> {
        self.row.get_ref(i).map_err(sql_err("read", self.key))
    }

    /// Text of column `i` (NULL → `None`).
    fn text(&self, i: usize, column: &'static str) -> Result<Option<&'a str>> {
        match self.value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| self.corrupt(column, "<invalid UTF-8>", "UTF-8 text")),
            other => Err(self.corrupt(column, &format!("{other:?}"), "text")),
        }
    }

    /// Text of column `i`, which must not be NULL.
    pub(super) fn req_text(&self, i: usize, column: &'static str) -> Result<&'a str> {
        self.text(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", "text"))
    }

    /// The value column `i` holds as text (NULL → `None`).
    pub(super) fn opt<T: FromText>(&self, i: usize, column: &'static str) -> Result<Option<T>> {
        self.text(i, column)?
            .map(|s| T::from_text(s).ok_or_else(|| self.corrupt(column, s, T::EXPECTED)))
            .transpose()
    }

    /// The value column `i` holds as text, which must not be NULL.
    pub(super) fn req<T: FromText>(&self, i: usize, column: &'static str) -> Result<T> {
        self.opt(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", T::EXPECTED))
    }

    pub(super) fn int(&self, i: usize, column: &'static str) -> Result<i64> {
        match self.value(i)? {
            ValueRef::Integer(v) => Ok(v),
            other => Err(self.corrupt(column, &format!("{other:?}"), "an integer")),
        }
    }

    /// A non-negative integer (a volume, a row count).
    pub(super) fn count(&self, i: usize, column: &'static str) -> Result<u64> {
        let v = self.int(i, column)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, &v.to_string(), "non-negative"))
    }

    pub(super) fn opt_real(&self, i: usize, column: &'static str) -> Result<Option<f64>> {
        match self.value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            // SQLite may store a whole REAL as an integer in an untyped expression.
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            other => Err(self.corrupt(column, &format!("{other:?}"), "a number")),
        }
    }

    pub(super) fn real(&self, i: usize, column: &'static str) -> Result<f64> {
        self.opt_real(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", "a number"))
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
