//! The CSV layer shared by every importer: reading (gzip or plain), the truncation check, the
//! header, and cells that know their file, line and column for error messages.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use volta_core::Price;

use crate::error::{DataError, Result};

/// Reads a file, gunzipping it when it starts with the gzip magic bytes (the CBOE delayed
/// SPX chains are `.csv.gz`). The content, not the name, decides.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    let io = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// A parsed CSV file: trimmed header names and every data row with its line number.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) path: PathBuf,
    /// Header names, trimmed (the VXX file writes ` exchange` with a leading space).
    pub(crate) headers: Vec<String>,
    pub(crate) rows: Vec<Row>,
}

/// One data row.
#[derive(Debug)]
pub(crate) struct Row {
    /// 1-based line number; the header is line 1.
    pub(crate) line: u64,
    pub(crate) fields: csv::StringRecord,
}

/// A column located in the header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub(crate) index: usize,
    pub(crate) name: &'static str,
}

impl Table {
    /// Parses `bytes` (the content of `path`). Fails on a missing final newline (a file cut
    /// off mid-write: its last value may be a prefix of the real one, so it cannot be
    /// trusted), on rows whose field count differs from the header's, and on a file without
    /// data rows.
    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let path = path.to_owned();
        if bytes.is_empty() {
            return Err(DataError::Empty { path });
        }
        if bytes.last() != Some(&b'\n') {
            let line = bytes.split(|&b| b == b'\n').count() as u64;
            return Err(DataError::Truncated { path, line });
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let csv_err = |path: &PathBuf, source: csv::Error| DataError::Csv {
            path: path.clone(),
            line: source.position().map_or(0, csv::Position::line),
            source,
        };
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_err(&path, e))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let fields = record.map_err(|e| csv_err(&path, e))?;
            let line = fields.position().map_or(0, csv::Position::line);
            if fields.len() != headers.len() {
                return Err(DataError::FieldCount {
                    path,
                    line,
                    expected: headers.len(),
                    found: fields.len(),
                });
            }
            rows.push(Row { line, fields });
        }
        if rows.is_empty() {
            return Err(DataError::Empty { path });
        }
        Ok(Self {
            path,
            headers,
            rows,
        })
    }

    /// The header as one comma-joined line, for messages.
    pub(crate) fn header_line(&self) -> String {
        self.headers.join(",")
    }

    /// Whether the trimmed header is exactly `names`.
    pub(crate) fn header_is(&self, names: &[&str]) -> bool {
        self.headers.len() == names.len() && self.headers.iter().zip(names).all(|(h, n)| h == n)
    }

    /// Locates a required column.
    pub(crate) fn col(&self, name: &'static str, format: &'static str) -> Result<Col> {
        self.headers
            .iter()
            .position(|h| h == name)
            .map(|index| Col { index, name })
            .ok_or_else(|| DataError::MissingColumn {
                path: self.path.clone(),
                column: name,
                format,
            })
    }

    /// The cell of `row` in `col`.
    pub(crate) fn cell<'a>(&'a self, row: &'a Row, col: Col) -> Cell<'a> {
        Cell {
            path: &self.path,
            line: row.line,
            col,
            text: row.fields.get(col.index).unwrap_or(""),
        }
    }
}

/// Date layouts found in the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateFmt {
    /// `YYYY-MM-DD`.
    Iso,
    /// `MM/DD/YYYY` or `M/D/YYYY` (chrono's `%m` and `%d` accept one or two digits).
    Us,
    /// `YYYYMMDD`.
    Compact,
}

impl DateFmt {
    const fn pattern(self) -> &'static str {
        match self {
            Self::Iso => "%Y-%m-%d",
            Self::Us => "%m/%d/%Y",
            Self::Compact => "%Y%m%d",
        }
    }

    /// Parses `text`: the fixed-width form (`04/25/2019`, `2019-04-25`, `20190425`) by hand,
    /// since a chain file has two dates per row and chrono's format interpreter costs about
    /// as much as the rest of the row; anything else (`1/4/1999`) through chrono.
    fn parse(self, text: &str) -> Option<NaiveDate> {
        self.fast(text.as_bytes())
            .or_else(|| NaiveDate::parse_from_str(text, self.pattern()).ok())
    }

    fn fast(self, b: &[u8]) -> Option<NaiveDate> {
        let num = |r: &[u8]| -> Option<u32> {
            r.iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let (y, m, d) = match (self, b.len()) {
            (Self::Us, 10) if b[2] == b'/' && b[5] == b'/' => {
                (num(&b[6..10])?, num(&b[0..2])?, num(&b[3..5])?)
            }
            (Self::Iso, 10) if b[4] == b'-' && b[7] == b'-' => {
                (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?)
            }
            (Self::Compact, 8) => (num(&b[0..4])?, num(&b[4..6])?, num(&b[6..8])?),
            _ => return None,
        };
        NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
    }

    const fn describe(self) -> &'static str {
        match self {
            Self::Iso => "a date YYYY-MM-DD",
            Self::Us => "a date MM/DD/YYYY",
            Self::Compact => "a date YYYYMMDD",
        }
    }
}

/// One cell with its location.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell<'a> {
    pub(crate) path: &'a Path,
    pub(crate) line: u64,
    pub(crate) col: Col,
    pub(crate) text: &'a str,
}

impl Cell<'_> {
    /// A [`DataError::BadValue`] at this cell.
    pub(crate) fn bad(&self, expected: impl Into<String>) -> DataError {
        DataError::BadValue {
            path: self.path.to_owned(),
            line: self.line,
            column: self.col.name.to_owned(),
            column_index: self.col.index,
            text: self.text.to_owned(),
            expected: expected.into(),
        }
    }

    /// The text without surrounding blanks.
    pub(crate) fn trimmed(&self) -> &str {
        self.text.trim()
    }

    /// Whether the cell is empty (or blank).
    pub(crate) fn is_empty(&self) -> bool {
        self.trimmed().is_empty()
    }

    /// A date in `fmt`.
    pub(crate) fn date(&self, fmt: DateFmt) -> Result<NaiveDate> {
        fmt.parse(self.trimmed())
            .ok_or_else(|| self.bad(fmt.describe()))
    }

    /// A date in the first of `fmts` that parses.
    pub(crate) fn date_any(&self, fmts: &[DateFmt]) -> Result<NaiveDate> {
        fmts.iter()
            .find_map(|f| f.parse(self.trimmed()))
            .ok_or_else(|| {
                self.bad(
                    fmts.iter()
                        .map(|f| f.describe())
                        .collect::<Vec<_>>()
                        .join(" or "),
                )
            })
    }

    /// A finite number (`NaN`, `inf` and empty cells are errors: Rust's `f64` parser would
    /// accept the first two).
    pub(crate) fn f64(&self) -> Result<f64> {
        self.trimmed()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.bad("a finite number"))
    }

    /// A finite number, or `None` for an empty cell.
    pub(crate) fn opt_f64(&self) -> Result<Option<f64>> {
        if self.is_empty() {
            Ok(None)
        } else {
            self.f64().map(Some)
        }
    }

    /// A finite number > 0.
    pub(crate) fn positive_f64(&self) -> Result<f64> {
        let x = self.f64()?;
        if x > 0.0 {
            Ok(x)
        } else {
            Err(self.bad("a positive number"))
        }
    }

    /// A non-negative price, exact: the decimal text itself when it is plain decimal, the
    /// shortest round-trip decimal of the `f64` when it uses an exponent (`1.1e-05`).
    pub(crate) fn price(&self) -> Result<Price> {
        let t = self.trimmed();
        let d = Decimal::from_str(t)
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .and_then(|x| Price::from_f64(x.abs()).ok().map(|p| p.value() * sign(x)))
            })
            .ok_or_else(|| self.bad("a finite number"))?;
        Price::try_new(d).map_err(|_| self.bad("a non-negative price"))
    }

    /// A price > 0.
    pub(crate) fn positive_price(&self) -> Result<Price> {
        let p = self.price()?;
        if p.value() > Decimal::ZERO {
            Ok(p)
        } else {
            Err(self.bad("a positive price"))
        }
    }

    /// A non-negative price, or `None` for an empty cell.
    pub(crate) fn opt_price(&self) -> Result<Option<Price>> {
        if self.is_empty() {
            Ok(None)
        } else {
            self.price().map(Some)
        }
    }

    /// A count (volume, open interest): a non-negative whole number, also when printed as a
    /// float (`4006500.0`, as the Alpha Vantage files do).
    pub(crate) fn count(&self) -> Result<u64> {
        let t = self.trimmed();
        if let Ok(n) = t.parse::<u64>() {
            return Ok(n);
        }
        // 2^53: beyond it f64 no longer holds every integer.
        t.parse::<f64>()
            .ok()
            .filter(|x| {
                x.is_finite() && *x >= 0.0 && x.fract() == 0.0 && *x <= 9_007_199_254_740_992.0
            })
            .map(|x| x as u64)
            .ok_or_else(|| self.bad("a non-negative whole number"))
    }

    /// A count, or 0 for an empty cell (vendors leave open interest blank for none).
    pub(crate) fn count_or_zero(&self) -> Result<u64> {
        if self.is_empty() { Ok(0) } else { self.count() }
    }
}

fn sign(x: f64) -> Decimal {
    if x.is_sign_negative() {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    }
}

/// Checks that dates ascend strictly: an equal date is a [`DataError::Duplicate`], an earlier
/// one [`DataError::OutOfOrder`].
pub(crate) fn check_ascending(
    table: &Table,
    col: Col,
    dates: impl IntoIterator<Item = (u64, NaiveDate)>,
) -> Result<()> {
    let mut prev: Option<(u64, NaiveDate)> = None;
    for (line, date) in dates {
        if let Some((previous_line, previous)) = prev {
            if date == previous {
                return Err(DataError::Duplicate {
                    path: table.path.clone(),
                    line,
                    column: col.name.to_owned(),
                    column_index: col.index,
                    key: format!("date {date}"),
                    first_line: previous_line,
                });
            }
            if date < previous {
                return Err(DataError::OutOfOrder {
                    path: table.path.clone(),
                    line,
                    column: col.name.to_owned(),
                    column_index: col.index,
                    date,
                    previous,
                    previous_line,
                });
            }
        }
        prev = Some((line, date));
    }
    Ok(())
}

/// Something accepted as published but worth knowing, at a line of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFlag {
    /// The line, 1-based (the header is line 1).
    pub line: u64,
    /// The row's date.
    pub date: NaiveDate,
    /// What is unusual.
    pub kind: FlagKind,
}

/// The quirks that are flagged rather than rejected (see the module docs for why each is).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlagKind {
    /// An index row whose high/low do not bracket its open/close, as CBOE published it.
    OhlcInconsistent {
        /// The first field that breaks the bracket (`high` or `low`).
        field: &'static str,
    },
    /// A value left empty by the publisher (FRED's holiday rows): kept as `None`, never 0.
    MissingValue,
    /// An option quote with bid above ask, as the vendor published it.
    Crossed {
        /// The contract, OCC form.
        contract: String,
    },
}

impl FlagKind {
    /// A short name of the kind, for counts in summaries: `ohlc_inconsistent`,
    /// `missing_value`, `crossed`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::OhlcInconsistent { .. } => "ohlc_inconsistent",
            Self::MissingValue => "missing_value",
            Self::Crossed { .. } => "crossed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_date_path_agrees_with_chrono() {
        let cases = [
            (DateFmt::Us, "04/25/2019"),
            (DateFmt::Us, "1/4/1999"),
            (DateFmt::Us, "02/29/2020"),
            (DateFmt::Us, "02/29/2019"),
            (DateFmt::Us, "13/01/2019"),
            (DateFmt::Us, "04-25-2019"),
            (DateFmt::Us, "0a/25/2019"),
            (DateFmt::Iso, "2019-04-25"),
            (DateFmt::Iso, "2019-4-25"),
            (DateFmt::Iso, "2019-04-31"),
            (DateFmt::Compact, "20190425"),
            (DateFmt::Compact, "20190432"),
            (DateFmt::Compact, "2019042"),
        ];
        for (fmt, text) in cases {
            assert_eq!(
                fmt.parse(text),
                NaiveDate::parse_from_str(text, fmt.pattern()).ok(),
                "{fmt:?} {text}"
            );
        }
        assert_eq!(
            DateFmt::Us.fast(b"04/25/2019"),
            NaiveDate::from_ymd_opt(2019, 4, 25)
        );
    }
}
