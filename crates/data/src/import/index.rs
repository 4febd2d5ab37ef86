//! CBOE index histories (VIX, VIX9D, VIX3M, VVIX, SKEW) and CBOE put/call ratios.

use std::path::Path;

use chrono::NaiveDate;

use super::table::{Col, DateFmt, FlagKind, RowFlag, Table, check_ascending, read_file};
use crate::error::{DataError, Result};

/// One day of an index, in index points, as CBOE published it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexRecord {
    /// The session.
    pub date: NaiveDate,
    /// Open; `None` in close-only files (VVIX, SKEW).
    pub open: Option<f64>,
    /// High; `None` in close-only files.
    pub high: Option<f64>,
    /// Low; `None` in close-only files.
    pub low: Option<f64>,
    /// Close.
    pub close: f64,
}

/// The CBOE history layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IndexFormat {
    /// `DATE,OPEN,HIGH,LOW,CLOSE` (VIX, VIX9D, VIX3M), dates `MM/DD/YYYY`.
    Ohlc,
    /// `DATE,<NAME>` close only (VVIX, SKEW), dates `MM/DD/YYYY`.
    CloseOnly,
}

/// An imported index history.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedIndex {
    /// The layout read.
    pub format: IndexFormat,
    /// The value column's name for close-only files (`VVIX`, `SKEW`); `None` for OHLC files,
    /// which do not name the index.
    pub name: Option<String>,
    /// Rows in ascending date order, all of them (flagged rows included, as published).
    pub records: Vec<IndexRecord>,
    /// Rows accepted as published but unusual: [`FlagKind::OhlcInconsistent`].
    pub flags: Vec<RowFlag>,
}

/// Reads a CBOE index history.
///
/// # Errors
/// As [`parse_index`], and [`DataError::Io`].
pub fn import_index(path: &Path, format: Option<IndexFormat>) -> Result<ImportedIndex> {
    parse_index(path, &read_file(path)?, format)
}

/// Parses a CBOE index history. OHLC rows whose high/low do not bracket open/close are kept
/// and flagged: CBOE published 47 such VIX rows (1992–2006), and rejecting
/// them would lose the whole history over a vendor's known error. Everything else is an
/// error.
///
/// # Errors
/// [`DataError::UnknownFormat`] for another header; [`DataError::BadValue`] for a bad date,
/// a non-number, NaN or a value ≤ 0; [`DataError::Duplicate`] / [`DataError::OutOfOrder`]
/// for dates that do not strictly ascend; the damaged-file errors of [`super::parse_bars`].
pub fn parse_index(
    path: &Path,
    bytes: &[u8],
    format: Option<IndexFormat>,
) -> Result<ImportedIndex> {
    const OHLC: [&str; 5] = ["DATE", "OPEN", "HIGH", "LOW", "CLOSE"];
    let table = Table::parse(path, bytes)?;
    let detected = if table.header_is(&OHLC) {
        Some(IndexFormat::Ohlc)
    } else if table.headers.len() == 2 && table.headers[0] == "DATE" && !table.headers[1].is_empty()
    {
        Some(IndexFormat::CloseOnly)
    } else {
        None
    };
    let format = match (format, detected) {
        (None, Some(d)) => d,
        (Some(f), Some(d)) if f == d => d,
        _ => {
            return Err(DataError::UnknownFormat {
                path: path.to_owned(),
                header: table.header_line(),
                expected: "DATE,OPEN,HIGH,LOW,CLOSE | DATE,<index name>".to_owned(),
            });
        }
    };
    let date = table.col("DATE", "CBOE index history")?;
    let cols: Vec<Col> = match format {
        IndexFormat::Ohlc => OHLC[1..]
            .iter()
            .map(|n| table.col(n, "CBOE index history"))
            .collect::<Result<_>>()?,
        IndexFormat::CloseOnly => vec![Col {
            index: 1,
            name: "value",
        }],
    };
    let name = (format == IndexFormat::CloseOnly).then(|| table.headers[1].clone());
    let mut records = Vec::with_capacity(table.rows.len());
    let mut flags = Vec::new();
    for row in &table.rows {
        let d = table.cell(row, date).date(DateFmt::Us)?;
        let mut v = [0.0; 4];
        for (x, c) in v.iter_mut().zip(&cols) {
            let mut cell = table.cell(row, *c);
            if format == IndexFormat::CloseOnly {
                // Name the column as the file does (`VVIX`), not by its role.
                cell.col.name = "";
            }
            *x = cell
                .positive_f64()
                .map_err(|e| rename(e, name.as_deref()))?;
        }
        let rec = match format {
            IndexFormat::Ohlc => {
                let [o, h, l, c] = v;
                let field = if h < o.max(c) {
                    Some("high")
                } else if l > o.min(c) {
                    Some("low")
                } else {
                    None
                };
                if let Some(field) = field {
                    flags.push(RowFlag {
                        line: row.line,
                        date: d,
                        kind: FlagKind::OhlcInconsistent { field },
                    });
                }
                IndexRecord {
                    date: d,
                    open: Some(o),
                    high: Some(h),
                    low: Some(l),
                    close: c,
                }
            }
            IndexFormat::CloseOnly => IndexRecord {
                date: d,
                open: None,
                high: None,
                low: None,
                close: v[0],
            },
        };
        records.push(rec);
    }
    check_ascending(
        &table,
        date,
        table
            .rows
            .iter()
            .map(|r| r.line)
            .zip(records.iter().map(|r| r.date)),
    )?;
    Ok(ImportedIndex {
        format,
        name,
        records,
        flags,
    })
}

/// Puts the file's own column name into an error from a close-only file.
fn rename(e: DataError, name: Option<&str>) -> DataError {
    match (e, name) {
        (
            DataError::BadValue {
                path,
                line,
                column_index,
                text,
                expected,
                ..
            },
            Some(n),
        ) => DataError::BadValue {
            path,
            line,
            column: n.to_owned(),
            column_index,
            text,
            expected,
        },
        (e, _) => e,
    }
}

/// One day of CBOE put/call ratios.
#[derive(Debug, Clone, PartialEq)]
pub struct PutCallDay {
    /// The session.
    pub date: NaiveDate,
    /// One ratio per column of [`PutCallRatios::columns`]; `None` where the file is blank
    /// (products not yet listed or not reported that day).
    pub ratios: Vec<Option<f64>>,
}

/// CBOE daily put/call ratios.
#[derive(Debug, Clone, PartialEq)]
pub struct PutCallRatios {
    /// The ratio columns, as in the header (`TOTAL_PUT_CALL_RATIO`, …).
    pub columns: Vec<String>,
    /// Days in ascending order.
    pub days: Vec<PutCallDay>,
}

/// The put/call ratios a store keeps, each as an index series (its daily value as the close):
/// (the file's column, the store's symbol). The three the feature library reads; the others
/// (per product: VIX, SPX+SPXW, …) have names longer than a symbol and no reader.
pub const PUT_CALL_SERIES: [(&str, &str); 3] = [
    ("TOTAL_PUT_CALL_RATIO", "PCR.TOTAL"),
    ("EQUITY_PUT_CALL_RATIO", "PCR.EQUITY"),
    ("INDEX_PUT_CALL_RATIO", "PCR.INDEX"),
];

impl PutCallRatios {
    /// The days of column `column` that have a value, as close-only index records.
    #[must_use]
    pub fn series(&self, column: &str) -> Option<Vec<IndexRecord>> {
        let k = self.columns.iter().position(|c| c == column)?;
        Some(
            self.days
                .iter()
                .filter_map(|d| {
                    d.ratios.get(k).copied().flatten().map(|close| IndexRecord {
                        date: d.date,
                        open: None,
                        high: None,
                        low: None,
                        close,
                    })
                })
                .collect(),
        )
    }

    /// Ratios from per-column series (as a store keeps them): one day per date any column
    /// has, `None` where a column has no value that day.
    #[must_use]
    pub fn from_series(series: &[(String, Vec<IndexRecord>)]) -> Self {
        let mut days: std::collections::BTreeMap<NaiveDate, Vec<Option<f64>>> =
            std::collections::BTreeMap::new();
        for (k, (_, records)) in series.iter().enumerate() {
            for r in records {
                days.entry(r.date)
                    .or_insert_with(|| vec![None; series.len()])[k] = Some(r.close);
            }
        }
        Self {
            columns: series.iter().map(|(c, _)| c.clone()).collect(),
            days: days
                .into_iter()
                .map(|(date, ratios)| PutCallDay { date, ratios })
                .collect(),
        }
    }
}

/// Reads CBOE put/call ratios: a date column (`Fecha` or `DATE`, `YYYY-MM-DD`) followed by
/// `*_PUT_CALL_RATIO` columns.
///
/// # Errors
/// As [`parse_put_call_ratios`], and [`DataError::Io`].
pub fn import_put_call_ratios(path: &Path) -> Result<PutCallRatios> {
    parse_put_call_ratios(path, &read_file(path)?)
}

/// Parses CBOE put/call ratios. Blank cells are missing (`None`); a ratio must be a finite
/// number ≥ 0.
///
/// # Errors
/// [`DataError::UnknownFormat`] unless every column after the first ends in
/// `_PUT_CALL_RATIO`; [`DataError::BadValue`] for a bad date, non-number, NaN or negative
/// ratio; [`DataError::Duplicate`] / [`DataError::OutOfOrder`] for dates.
pub fn parse_put_call_ratios(path: &Path, bytes: &[u8]) -> Result<PutCallRatios> {
    let table = Table::parse(path, bytes)?;
    let ok = table.headers.len() >= 2
        && matches!(table.headers[0].as_str(), "Fecha" | "DATE" | "date")
        && table.headers[1..]
            .iter()
            .all(|h| h.ends_with("_PUT_CALL_RATIO"));
    if !ok {
        return Err(DataError::UnknownFormat {
            path: path.to_owned(),
            header: table.header_line(),
            expected: "Fecha,<X>_PUT_CALL_RATIO,…".to_owned(),
        });
    }
    let date = Col {
        index: 0,
        name: match table.headers[0].as_str() {
            "DATE" => "DATE",
            "date" => "date",
            _ => "Fecha",
        },
    };
    let mut days = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let d = table.cell(row, date).date(DateFmt::Iso)?;
        let mut ratios = Vec::with_capacity(table.headers.len() - 1);
        for index in 1..table.headers.len() {
            let c = table.cell(row, Col { index, name: "" });
            let x = c
                .opt_f64()
                .map_err(|e| rename(e, Some(&table.headers[index])))?;
            if x.is_some_and(|x| x < 0.0) {
                return Err(rename(c.bad("a ratio ≥ 0"), Some(&table.headers[index])));
            }
            ratios.push(x);
        }
        days.push(PutCallDay { date: d, ratios });
    }
    check_ascending(
        &table,
        date,
        table
            .rows
            .iter()
            .map(|r| r.line)
            .zip(days.iter().map(|d| d.date)),
    )?;
    Ok(PutCallRatios {
        columns: table.headers[1..].to_vec(),
        days,
    })
}
