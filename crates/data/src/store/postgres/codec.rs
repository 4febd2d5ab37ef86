//! Reading a PostgreSQL row back: a [`Reader`] names the table, column and row of any value
//! that is not what the schema says ([`DataError::StoreCorrupt`]). Every column comes in its
//! binary form: NUMERIC, DATE and TIMESTAMP are decoded here ([`Numeric`], [`Date`],
//! [`Timestamp`]: a few lines each, rather than the client's `with-chrono` and `rust_decimal`'s
//! `db-postgres` features, which would turn on chrono's clock and tie `rust_decimal` to the
//! client for every crate above). Selecting them as text instead made the server's
//! `numeric_out` most of the cost of loading a chain.
//!
//! Writing helpers live here too: the text forms that the server casts (`$2::text::date`), and
//! the row format of `COPY … FROM STDIN` (text).

use std::error::Error;
use std::fmt::{Display, Write as _};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use postgres::Row;
use postgres::types::{FromSql, Type};
use rust_decimal::Decimal;
use volta_core::{Money, Price};

pub(super) use crate::store::codec::{
    FromText, fmt_date, fmt_datetime, not_nan, occ_text, opt_text, side_text, to_i64,
};
use crate::{DataError, Result};

/// PostgreSQL's epoch for DATE and TIMESTAMP in binary form.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

type DecodeError = Box<dyn Error + Sync + Send>;

/// A NUMERIC column read exactly (binary: digit groups in base 10 000, a weight, a sign, a
/// display scale). NaN, infinities and values beyond `Decimal`'s 28 digits are refused.
pub(super) struct Numeric(pub(super) Decimal);

/// A DATE column (binary: days since 2000-01-01). ±infinity is refused.
pub(super) struct Date(pub(super) NaiveDate);

/// A TIMESTAMP column (binary: microseconds since 2000-01-01 00:00). ±infinity is refused.
pub(super) struct Timestamp(pub(super) NaiveDateTime);

/// The exact decimal NUMERIC's binary form `raw` holds, if `Decimal` can hold it.
pub(super) fn decode_numeric(raw: &[u8]) -> Option<Decimal> {
    let word = |i: usize| raw.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)?.cast_signed());
    let sign = word(4)?;
    let dscale = u32::from(word(6)?);
    if (sign != 0x0000 && sign != 0x4000) || dscale > 28 {
        return None; // NaN, ±infinity, or more decimals than Decimal holds
    }
    if ndigits == 0 {
        return Some(Decimal::new(0, dscale));
    }
    // The digit groups as one integer, then scaled so that the result has `dscale` decimals:
    // value = groups × 10000^(weight − ndigits + 1).
    let mut m: i128 = 0;
    for i in 0..ndigits {
        let d = word(8 + 2 * i)?;
        if d >= 10_000 {
            return None;
        }
        m = m.checked_mul(10_000)?.checked_add(i128::from(d))?;
    }
    let exponent = 4 * (weight - i32::try_from(ndigits).ok()? + 1) + i32::try_from(dscale).ok()?;
    if exponent >= 0 {
        m = m.checked_mul(10i128.checked_pow(exponent.unsigned_abs())?)?;
    } else {
        let p = 10i128.checked_pow(exponent.unsigned_abs())?;
        if m % p != 0 {
            return None;
        }
        m /= p;
    }
    if sign == 0x4000 {
        m = -m;
    }
    Decimal::try_from_i128_with_scale(m, dscale).ok()
}

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        decode_numeric(raw)
            .map(Self)
            .ok_or_else(|| "a NUMERIC that is NaN, infinite or beyond 28 digits".into())
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl<'a> FromSql<'a> for Date {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        let days = i32::from_sql(ty, raw)?;
        pg_epoch()
            .date()
            .checked_add_signed(TimeDelta::days(i64::from(days)))
            .filter(|_| days != i32::MAX && days != i32::MIN)
            .map(Self)
            .ok_or_else(|| "an infinite or out-of-range DATE".into())
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }
}

impl<'a> FromSql<'a> for Timestamp {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        let micros = i64::from_sql(ty, raw)?;
        pg_epoch()
            .checked_add_signed(TimeDelta::microseconds(micros))
            .filter(|_| micros != i64::MAX && micros != i64::MIN)
            .map(Self)
            .ok_or_else(|| "an infinite or out-of-range TIMESTAMP".into())
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }
}

/// A value stored as NUMERIC: a price (non-negative) or an amount of money.
pub(super) trait FromDecimal: Sized {
    /// What the value must be, for [`DataError::StoreCorrupt`].
    const EXPECTED: &'static str;
    /// The value, if `d` is one.
    fn from_decimal(d: Decimal) -> Option<Self>;
}

impl FromDecimal for Price {
    const EXPECTED: &'static str = "a non-negative decimal";
    fn from_decimal(d: Decimal) -> Option<Self> {
        Self::try_new(d).ok()
    }
}

impl FromDecimal for Money {
    const EXPECTED: &'static str = "a decimal";
    fn from_decimal(d: Decimal) -> Option<Self> {
        Some(Self::new(d))
    }
}

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

    /// The NUMERIC column `i` as a price or money (NULL → `None`).
    pub(super) fn opt_dec<T: FromDecimal>(
        &self,
        i: usize,
        column: &'static str,
    ) -> Result<Option<T>> {
        self.get::<Option<Numeric>>(i, column, T::EXPECTED)?
            .map(|Numeric(d)| {
                T::from_decimal(d).ok_or_else(|| self.corrupt(column, &d.to_string(), T::EXPECTED))
            })
            .transpose()
    }

    /// The NUMERIC column `i`, which must not be NULL.
    pub(super) fn dec<T: FromDecimal>(&self, i: usize, column: &'static str) -> Result<T> {
        self.opt_dec(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", T::EXPECTED))
    }

    /// The TIMESTAMP column `i` (NULL → `None`).
    pub(super) fn opt_time(&self, i: usize, column: &'static str) -> Result<Option<NaiveDateTime>> {
        Ok(self
            .get::<Option<Timestamp>>(i, column, "a TIMESTAMP")?
            .map(|t| t.0))
    }

    /// The TIMESTAMP column `i`, which must not be NULL.
    pub(super) fn time(&self, i: usize, column: &'static str) -> Result<NaiveDateTime> {
        self.opt_time(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", "a TIMESTAMP"))
    }

    /// The DATE column `i`, which must not be NULL.
    pub(super) fn date(&self, i: usize, column: &'static str) -> Result<NaiveDate> {
        self.get::<Option<Date>>(i, column, "a DATE")?
            .map(|d| d.0)
            .ok_or_else(|| self.corrupt(column, "NULL", "a DATE"))
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

    /// NUMERIC's binary form: `ndigits, weight, sign, dscale`, then base-10 000 digit groups.
    fn numeric(weight: i16, sign: u16, dscale: u16, groups: &[u16]) -> Vec<u8> {
        let mut raw = Vec::new();
        for w in [
            u16::try_from(groups.len()).unwrap(),
            weight.cast_unsigned(),
            sign,
            dscale,
        ]
        .into_iter()
        .chain(groups.iter().copied())
        {
            raw.extend(w.to_be_bytes());
        }
        raw
    }

    #[test]
    fn numerics_decode_exactly() {
        let cases: [(Vec<u8>, &str); 8] = [
            (numeric(0, 0, 2, &[2, 7600]), "2.76"),
            (numeric(0, 0x4000, 2, &[12, 5000]), "-12.50"),
            (numeric(0, 0, 4, &[135, 5625]), "135.5625"),
            (numeric(1, 0, 2, &[10, 0, 100]), "100000.01"),
            (numeric(-1, 0, 2, &[100]), "0.01"),
            (numeric(-2, 0, 5, &[1000]), "0.00001"),
            (numeric(0, 0, 0, &[]), "0"),
            (numeric(2, 0, 0, &[1]), "100000000"),
        ];
        for (raw, text) in cases {
            let d = decode_numeric(&raw).unwrap();
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(decode_numeric(&numeric(0, 0xC000, 0, &[])), None); // NaN
        assert_eq!(decode_numeric(&numeric(0, 0, 29, &[1])), None);
        assert_eq!(decode_numeric(&[0, 1]), None); // truncated
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
