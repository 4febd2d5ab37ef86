//! Risk-free rates from FRED: DTB3 (3-month T-bill, discount basis) and DFF (effective
//! federal funds rate), converted to continuously compounded annual rates.

use std::path::Path;

use chrono::NaiveDate;

use super::table::{Col, DateFmt, FlagKind, RowFlag, Table, check_ascending, read_file};
use crate::error::{DataError, Result};

/// Days to maturity of a 3-month (13-week) Treasury bill.
pub const DTB3_DAYS: f64 = 91.0;

/// The FRED series read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateSeries {
    /// DTB3: 3-month T-bill secondary-market rate, percent, **bank discount basis**.
    /// Header `observation_date,DTB3` (FRED's download) or `DATE,DTB3`.
    Dtb3,
    /// DFF: effective federal funds rate, percent, simple annual rate on an actual/360 basis.
    /// Header `observation_date,DFF` or `DATE,DFF`; the generic `date,value` layout (as in the
    /// shared copy) is read only when this series is named explicitly.
    Dff,
}

impl RateSeries {
    /// Every series, in a fixed order.
    pub const ALL: [Self; 2] = [Self::Dtb3, Self::Dff];

    /// FRED's name of the series (`DTB3`, `DFF`): the key the store files it under.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dtb3 => "DTB3",
            Self::Dff => "DFF",
        }
    }

    /// The series FRED names `name` (ASCII case ignored), if known.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for RateSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateObservation {
    /// The date.
    pub date: NaiveDate,
    /// The value as published, percent; `None` where FRED left it empty (holidays).
    pub published_percent: Option<f64>,
    /// The continuously compounded annual rate per 1.0 (0.05 = 5 %), ACT/365; `None` with the
    /// published value.
    pub continuous: Option<f64>,
}

/// An imported rate series.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRates {
    /// The series.
    pub series: RateSeries,
    /// Every row, ascending, including the empty ones.
    pub observations: Vec<RateObservation>,
    /// Rows with no value ([`FlagKind::MissingValue`]).
    pub flags: Vec<RowFlag>,
}

/// Continuously compounded rate (per 1.0, ACT/365) of a T-bill quoted at discount yield
/// `discount_percent` with `days` to maturity.
///
/// Treasury bills are quoted on a bank discount basis: price per 1 of face
/// P = 1 − d·t/360 (treasurydirect.gov, "Understanding Pricing and Interest Rates"; Fabozzi,
/// *Bond Markets, Analysis and Strategies*, ch. on money-market instruments). The continuously
/// compounded rate that grows P to 1 over t days on an ACT/365 basis is r = −ln(P)·365/t.
#[must_use]
pub fn discount_to_continuous(discount_percent: f64, days: f64) -> f64 {
    let price = 1.0 - discount_percent / 100.0 * days / 360.0;
    -price.ln() * 365.0 / days
}

/// Continuously compounded rate (per 1.0, ACT/365) of an overnight rate quoted simple
/// annual on ACT/360 (the money-market convention of federal funds), compounded daily over
/// the 365 calendar days of a year: r = 365 · ln(1 + s/360).
///
/// Daily compounding is the assumption: a deposit rolled overnight earns s/360 per calendar
/// day (weekends accrue at Friday's rate, as fed funds do).
#[must_use]
pub fn overnight_to_continuous(simple_percent: f64) -> f64 {
    365.0 * (simple_percent / 100.0 / 360.0).ln_1p()
}

/// Reads a FRED rate file.
///
/// # Errors
/// As [`parse_rates`], and [`DataError::Io`].
pub fn import_rates(path: &Path, series: Option<RateSeries>) -> Result<ImportedRates> {
    parse_rates(path, &read_file(path)?, series)
}

/// Parses a FRED rate file. An empty value (or FRED's `.`) is missing, kept as `None` and
/// flagged, never read as 0: a zero rate is a real observation (2009–2015, 2020–2021).
///
/// # Errors
/// [`DataError::UnknownFormat`] for another header (or `date,value` without a named
/// series); [`DataError::BadValue`] for a bad date, a non-number, NaN, or a rate outside
/// −5 %…30 % (far outside anything published, so damage); [`DataError::Duplicate`] /
/// [`DataError::OutOfOrder`] for dates.
pub fn parse_rates(path: &Path, bytes: &[u8], series: Option<RateSeries>) -> Result<ImportedRates> {
    let table = Table::parse(path, bytes)?;
    let h: Vec<&str> = table.headers.iter().map(String::as_str).collect();
    let detected = match h.as_slice() {
        ["observation_date" | "DATE", "DTB3"] => Some(RateSeries::Dtb3),
        ["observation_date" | "DATE", "DFF"] => Some(RateSeries::Dff),
        ["date", "value"] => series.filter(|s| *s == RateSeries::Dff),
        _ => None,
    };
    let series = match (series, detected) {
        (None, Some(d)) => d,
        (Some(s), Some(d)) if s == d => d,
        _ => {
            return Err(DataError::UnknownFormat {
                path: path.to_owned(),
                header: table.header_line(),
                expected: "observation_date,DTB3 | observation_date,DFF | date,value (DFF named)"
                    .to_owned(),
            });
        }
    };
    let date = Col {
        index: 0,
        name: match h[0] {
            "observation_date" => "observation_date",
            "DATE" => "DATE",
            _ => "date",
        },
    };
    let value = Col {
        index: 1,
        name: match h[1] {
            "DTB3" => "DTB3",
            "DFF" => "DFF",
            _ => "value",
        },
    };
    let mut observations = Vec::with_capacity(table.rows.len());
    let mut flags = Vec::new();
    for row in &table.rows {
        let d = table.cell(row, date).date(DateFmt::Iso)?;
        let c = table.cell(row, value);
        let published = if c.is_empty() || c.trimmed() == "." {
            flags.push(RowFlag {
                line: row.line,
                date: d,
                kind: FlagKind::MissingValue,
            });
            None
        } else {
            let x = c.f64()?;
            if !(-5.0..=30.0).contains(&x) {
                return Err(c.bad("a rate in percent within -5…30"));
            }
            Some(x)
        };
        observations.push(RateObservation {
            date: d,
            published_percent: published,
            continuous: published.map(|x| match series {
                RateSeries::Dtb3 => discount_to_continuous(x, DTB3_DAYS),
                RateSeries::Dff => overnight_to_continuous(x),
            }),
        });
    }
    check_ascending(
        &table,
        date,
        table
            .rows
            .iter()
            .map(|r| r.line)
            .zip(observations.iter().map(|o| o.date)),
    )?;
    Ok(ImportedRates {
        series,
        observations,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtb3_conversion_by_hand() {
        // d = 5.28 % (2023-11-08): P = 1 − 0.0528·91/360 = 0.98665333…,
        // r = −ln(0.98665333…)·365/91 = 0.05389379… (computed with bc -l).
        let r = discount_to_continuous(5.28, DTB3_DAYS);
        assert!((r - 0.053_893_790).abs() < 1e-9, "{r}");
        assert_eq!(discount_to_continuous(0.0, DTB3_DAYS), 0.0);
        // Negative discount (DTB3 printed −0.05 in 2020–2021): a price above par.
        assert!(discount_to_continuous(-0.05, DTB3_DAYS) < 0.0);
    }

    #[test]
    fn dff_conversion_by_hand() {
        // s = 5.33 %: 365·ln(1 + 0.0533/360) = 0.05403628… (bc -l).
        let r = overnight_to_continuous(5.33);
        assert!((r - 0.054_036_278).abs() < 1e-9, "{r}");
    }
}
