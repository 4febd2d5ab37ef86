//! Reading a PostgreSQL row back: a [`Reader`] names the table, column and row of any value
//! that is not what the schema says ([`DataError::StoreCorrupt`]). Dates, times and decimals
//! are selected as text (`as_of::text`) and parsed by the codec SQLite uses
//! (`crate::store::codec`); counts, booleans and floats come in their binary forms.
//!
//! Writing helpers live here too: the text forms that the server casts, and the row format
//! of `COPY … FROM STDIN` (text).

use std::fmt::{Display, Write as _};

use chrono::{NaiveDateTime, Timelike};
use postgres::Row;
use postgres::types::FromSql;

pub(super) use crate::store::codec::{
    FromText, fmt_date, fmt_datetime, not_nan, occ_text, opt_text, side_text, to_i64,
};
use crate::{DataError, Result};

/// A time as the server's TIMESTAMP holds it (microseconds), or [`DataError::StoreValue`] for
/// a finer one: rounding would change the value silently.
pub(super) fn ts_text(t: NaiveDateTime, key: &dyn Display, field: &'static str) -> Result<String> {
    if !t.nanosecond().is_multiple_of(1_000) {
        return Err(DataError::StoreValue {
            key: key.to_string(),
            field,
            value: fmt_datetime(t),
            requirement: "a whole number of microseconds (PostgreSQL's TIMESTAMP)",
        });
    }
    Ok(fmt_datetime(t))
}

/// Appends one text-format `COPY` field: `\N` for NULL, else the value with the format's
/// special characters escaped (backslash, tab, newline, carriage return).
pub(super) fn copy_field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// Appends a float as `COPY` text that reads back bit for bit: Rust's shortest round-trip
/// digits, `Infinity` for infinities (NaN is refused before).
pub(super) fn copy_float(out: &mut String, value: Option<f64>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) if v == f64::INFINITY => out.push_str("Infinity"),
        Some(v) if v == f64::NEG_INFINITY => out.push_str("-Infinity"),
        Some(v) => {
            let _ = write!(out, "{v:?}");
        }
    }
}

/// Reads the values of one row, naming the table, column and row of any bad one.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    table: &'static str,
    row: &'a Row,
    key: &'a dyn Display,
}

impl<'a> Reader<'a> {
    /// A reader of `row` of `table`, which errors name by `key`.
    pub(super) fn new(table: &'static str, row: &'a Row, key: &'a dyn Display) -> Self {
        Self { table, row, key }
    }

    /// The same row, named by `key` from now on (once its own id has been read).
    pub(super) fn keyed<'b>(&self, key: &'b dyn Display) -> Reader<'b>
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

    /// Column `i` as `T`; a column of another type is a corrupt (or foreign) schema.
    fn get<T: FromSql<'a>>(
        &self,
        i: usize,
        column: &'static str,
        expected: &'static str,
    ) -> Result<T> {
        self.row
            .try_get(i)
            .map_err(|e| self.corrupt(column, &e.to_string(), expected))
    }

    /// Text of column `i`, which must not be NULL.
    pub(super) fn req_text(&self, i: usize, column: &'static str) -> Result<&'a str> {
        self.get::<Option<&str>>(i, column, "text")?
            .ok_or_else(|| self.corrupt(column, "NULL", "text"))
    }

    /// The value column `i` holds as text (NULL → `None`).
    pub(super) fn opt<T: FromText>(&self, i: usize, column: &'static str) -> Result<Option<T>> {
        self.get::<Option<&str>>(i, column, T::EXPECTED)?
            .map(|s| T::from_text(s).ok_or_else(|| self.corrupt(column, s, T::EXPECTED)))
            .transpose()
    }

    /// The value column `i` holds as text, which must not be NULL.
    pub(super) fn req<T: FromText>(&self, i: usize, column: &'static str) -> Result<T> {
        self.opt(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", T::EXPECTED))
    }

    pub(super) fn int(&self, i: usize, column: &'static str) -> Result<i64> {
        self.get(i, column, "an integer")
    }

    /// A non-negative integer (a volume, a row count).
    pub(super) fn count(&self, i: usize, column: &'static str) -> Result<u64> {
        let v = self.int(i, column)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, &v.to_string(), "non-negative"))
    }

    pub(super) fn flag(&self, i: usize, column: &'static str) -> Result<bool> {
        self.get(i, column, "a boolean")
    }

    pub(super) fn opt_real(&self, i: usize, column: &'static str) -> Result<Option<f64>> {
        self.get(i, column, "a number")
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
    fn copy_text_escapes_and_floats_round_trip() {
        let mut out = String::new();
        copy_field(&mut out, Some("a\tb\\c\nd\re"));
        out.push('|');
        copy_field(&mut out, None);
        assert_eq!(out, "a\\tb\\\\c\\nd\\re|\\N");
        for v in [
            0.1,
            -0.0,
            1e-300,
            1.7976931348623157e308,
            0.612_345_678_901_234_5,
        ] {
            let mut s = String::new();
            copy_float(&mut s, Some(v));
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{s}");
        }
        let mut s = String::new();
        copy_float(&mut s, Some(f64::NEG_INFINITY));
        assert_eq!(s, "-Infinity");
    }

    #[test]
    fn sub_microsecond_times_are_refused() {
        let d = chrono::NaiveDate::from_ymd_opt(2019, 4, 26).unwrap();
        let micro = d.and_hms_micro_opt(16, 0, 0, 123_456).unwrap();
        assert_eq!(
            ts_text(micro, &"k", "at").unwrap(),
            "2019-04-26 16:00:00.123456"
        );
        let nano = d.and_hms_nano_opt(16, 0, 0, 123_456_789).unwrap();
        assert!(matches!(
            ts_text(nano, &"k", "at"),
            Err(DataError::StoreValue { field: "at", .. })
        ));
    }
}
