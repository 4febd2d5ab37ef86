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
use std::fmt::Display;

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

/// A time as microseconds since PostgreSQL's epoch (TIMESTAMP's binary form), or
/// [`DataError::StoreValue`] for a finer time, which rounding would change silently, or one
/// beyond TIMESTAMP's range.
pub(super) fn ts_micros(t: NaiveDateTime, key: &dyn Display, field: &'static str) -> Result<i64> {
    ts_text(t, key, field)?;
    (t - pg_epoch())
        .num_microseconds()
        .ok_or_else(|| DataError::StoreValue {
            key: key.to_string(),
            field,
            value: fmt_datetime(t),
            requirement: "within PostgreSQL's TIMESTAMP range",
        })
}

/// Appends `d` in NUMERIC's binary form (`ndigits, weight, sign, dscale`, then base-10 000
/// digit groups, most significant first), exactly: the display scale is `d`'s scale.
pub(super) fn encode_numeric(d: Decimal, out: &mut Vec<u8>) {
    let scale = d.scale(); // at most 28
    let fraction_groups = scale.div_ceil(4);
    // The digits shifted so that the fraction fills whole groups: < 2^96 × 1000, fits u128.
    let mut m = d.mantissa().unsigned_abs() * 10u128.pow(fraction_groups * 4 - scale);
    let mut groups = Vec::with_capacity(10); // least significant first
    while m > 0 {
        groups.push((m % 10_000) as u16);
        m /= 10_000;
    }
    // The weight (power of 10 000) of the most significant group, before trailing zero groups
    // are dropped (the server stores them stripped).
    // At most 10 groups and 7 fraction groups: no cast below can wrap.
    let weight =
        i32::try_from(groups.len()).unwrap_or(i32::MAX) - fraction_groups.cast_signed() - 1;
    let zeros = groups.iter().take_while(|&&g| g == 0).count();
    let digits = &groups[zeros..];
    let (weight, sign) = if digits.is_empty() {
        (0, 0x0000)
    } else if d.is_sign_negative() {
        (weight, 0x4000)
    } else {
        (weight, 0x0000)
    };
    out.extend_from_slice(&(digits.len() as u16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&u16::to_be_bytes(sign));
    out.extend_from_slice(&(scale as u16).to_be_bytes());
    for g in digits.iter().rev() {
        out.extend_from_slice(&g.to_be_bytes());
    }
}

/// The start of a binary `COPY … FROM STDIN (FORMAT binary)` stream: the signature, no flags,
/// no header extension.
pub(super) const COPY_BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of a binary `COPY` stream: a field count of −1.
pub(super) const COPY_BINARY_TRAILER: &[u8] = &[0xff, 0xff];

/// Appends one row of a binary `COPY` stream: each field its length (−1 for NULL) and its
/// bytes in the column type's binary form.
pub(super) struct CopyRow<'a>(&'a mut Vec<u8>);

impl<'a> CopyRow<'a> {
    /// A row of `fields` fields, appended to `out`.
    pub(super) fn new(out: &'a mut Vec<u8>, fields: u16) -> Self {
        out.extend_from_slice(&fields.to_be_bytes());
        Self(out)
    }

    fn field(&mut self, bytes: &[u8]) {
        // Every field here is at most a few dozen bytes.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
    }

    fn null(&mut self) {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// A BIGINT.
    pub(super) fn bigint(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    /// A TEXT.
    pub(super) fn text(&mut self, v: &str) {
        self.field(v.as_bytes());
    }

    /// A BOOLEAN.
    pub(super) fn boolean(&mut self, v: bool) {
        self.field(&[u8::from(v)]);
    }

    /// A DOUBLE PRECISION or NULL.
    pub(super) fn float(&mut self, v: Option<f64>) {
        match v {
            Some(v) => self.field(&v.to_be_bytes()),
            None => self.null(),
        }
    }

    /// A TIMESTAMP (microseconds since 2000-01-01, see [`ts_micros`]) or NULL.
    pub(super) fn timestamp(&mut self, micros: Option<i64>) {
        match micros {
            Some(v) => self.field(&v.to_be_bytes()),
            None => self.null(),
        }
    }

    /// A NUMERIC or NULL.
    pub(super) fn numeric(&mut self, v: Option<Decimal>) {
        match v {
            Some(d) => {
                let at = self.0.len();
                self.0.extend_from_slice(&[0; 4]);
                encode_numeric(d, self.0);
                let len = i32::try_from(self.0.len() - at - 4).unwrap_or(i32::MAX);
                self.0[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
            None => self.null(),
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

    /// The BYTEA column `i` (NULL → `None`), borrowed from the row.
    pub(super) fn opt_bytes(&self, i: usize, column: &'static str) -> Result<Option<&'a [u8]>> {
        self.get(i, column, "a BYTEA")
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
    fn numerics_encode_as_the_server_stores_them_and_decode_back() {
        let encoded = |s: &str| {
            let mut out = Vec::new();
            encode_numeric(s.parse().unwrap(), &mut out);
            out
        };
        // The server's own forms (`SELECT numeric_send('…')`).
        assert_eq!(encoded("12.35"), numeric(0, 0, 2, &[12, 3500]));
        assert_eq!(encoded("-0.05"), numeric(-1, 0x4000, 2, &[500]));
        assert_eq!(encoded("20000"), numeric(1, 0, 0, &[2]));
        assert_eq!(encoded("0.00"), numeric(0, 0, 2, &[]));
        assert_eq!(
            encoded("0.0000000000000000000000000001"),
            numeric(-7, 0, 28, &[1])
        );
    }

    proptest::proptest! {
        #[test]
        fn every_decimal_round_trips_through_numeric(m in proptest::num::i128::ANY, scale in 0u32..=28) {
            let m = m >> 32; // Decimal holds 96 bits
            let d = Decimal::from_i128_with_scale(m, scale);
            let mut out = Vec::new();
            encode_numeric(d, &mut out);
            let back = decode_numeric(&out).unwrap();
            proptest::prop_assert_eq!(back, d);
            proptest::prop_assert_eq!(back.scale(), d.scale());
        }
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
