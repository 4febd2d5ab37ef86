//! How the SQLite store reads its columns back: a [`Reader`] over a rusqlite row, which names
//! the table, column and row of any value that does not parse ([`DataError::StoreCorrupt`]).
//! The text forms themselves are shared with the PostgreSQL store (`crate::store::codec`).

use std::fmt::Display;

use rusqlite::Row;
use rusqlite::types::ValueRef;

use super::sql_err;
pub(super) use crate::store::codec::{
    FromText, day_after, fmt_date, fmt_datetime, not_nan, occ_text, opt_text, side_text, to_i64,
};
use crate::{DataError, Result};

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

    /// A BLOB column (NULL → `None`), borrowed from the row.
    pub(super) fn opt_blob(&self, i: usize, column: &'static str) -> Result<Option<&'a [u8]>> {
        match self.value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Ok(Some(b)),
            other => Err(self.corrupt(column, &format!("{other:?}"), "a blob")),
        }
    }

    pub(super) fn real(&self, i: usize, column: &'static str) -> Result<f64> {
        self.opt_real(i, column)?
            .ok_or_else(|| self.corrupt(column, "NULL", "a number"))
    }
}
