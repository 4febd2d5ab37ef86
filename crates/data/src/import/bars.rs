//! Daily OHLCV bars of stocks, ETFs and stock indices.

use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use volta_core::{CoreError, DailyBar, Price, Underlying};

use super::table::{Col, DateFmt, Table, check_ascending, read_file};
use crate::error::{DataError, Result};

/// The daily-bar file formats, recognised from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BarFormat {
    /// Alpha Vantage `TIME_SERIES_DAILY`: `date,1. open,2. high,3. low,4. close,5. volume`,
    /// dates `YYYY-MM-DD`. Raw prices (the adjusted endpoint has other columns).
    AlphaVantageDaily,
    /// Yahoo Finance's download: `Date,Open,High,Low,Close,Adj Close,Volume`, dates
    /// `YYYY-MM-DD` (Yahoo) or `M/D/YYYY` (the `arch` package's copies). OHLC are
    /// split-adjusted by Yahoo; `Adj Close` (also dividend-adjusted) is checked but not kept.
    Yahoo,
    /// Tiingo's daily prices: `symbol,date,close,high,low,open,volume,adjClose,…`. The raw
    /// columns are read, and `divCash` (see [`ImportedBars::dividends`]).
    Tiingo,
    /// `DATE,OPEN,HIGH,LOW,CLOSE`, dates `MM/DD/YYYY`, no volume (the ^GSPC and ^NDX
    /// histories). CBOE's volatility-index histories share this header but are read by
    /// [`super::import_index`], since their OHLC may be inconsistent as published.
    OhlcNoVolume,
}

impl BarFormat {
    const ALL: [Self; 4] = [
        Self::AlphaVantageDaily,
        Self::Yahoo,
        Self::Tiingo,
        Self::OhlcNoVolume,
    ];

    const fn header(self) -> &'static [&'static str] {
        match self {
            Self::AlphaVantageDaily => &[
                "date",
                "1. open",
                "2. high",
                "3. low",
                "4. close",
                "5. volume",
            ],
            Self::Yahoo => &[
                "Date",
                "Open",
                "High",
                "Low",
                "Close",
                "Adj Close",
                "Volume",
            ],
            Self::Tiingo => &[
                "symbol",
                "date",
                "close",
                "high",
                "low",
                "open",
                "volume",
                "adjClose",
                "adjHigh",
                "adjLow",
                "adjOpen",
                "adjVolume",
                "divCash",
                "splitFactor",
            ],
            Self::OhlcNoVolume => &["DATE", "OPEN", "HIGH", "LOW", "CLOSE"],
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::AlphaVantageDaily => "Alpha Vantage daily",
            Self::Yahoo => "Yahoo download",
            Self::Tiingo => "Tiingo daily",
            Self::OhlcNoVolume => "DATE,OPEN,HIGH,LOW,CLOSE",
        }
    }

    /// Recognises the format from a file's trimmed header.
    fn detect(table: &Table) -> Option<Self> {
        Self::ALL.into_iter().find(|f| table.header_is(f.header()))
    }
}

/// Whether a series' prices are as traded or adjusted for splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceBasis {
    /// As traded: a split shows as a price jump (Alpha Vantage `TIME_SERIES_DAILY`, Tiingo's
    /// raw columns). Apply [`super::split_adjust`] before computing returns.
    Raw,
    /// Adjusted for splits by the vendor (Yahoo's OHLC), or an index (no splits).
    SplitAdjusted,
}

/// The bars of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedBars {
    /// The format read.
    pub format: BarFormat,
    /// The symbol, when the file names it (Tiingo); otherwise the caller knows it.
    pub symbol: Option<Underlying>,
    /// Bars in ascending date order. Files without volume have volume 0 (see `has_volume`).
    pub bars: Vec<DailyBar>,
    /// Whether the file carries volume. When false every bar's volume is 0 and means
    /// "unknown", not "no trades".
    pub has_volume: bool,
    /// Raw or split-adjusted prices.
    pub basis: PriceBasis,
    /// The cash dividends of a file that carries them (Tiingo's `divCash`), ascending; rows
    /// with 0 are left out. Empty for the other formats.
    pub dividends: Vec<CashDividend>,
}

/// A cash dividend as a bar file records it: Tiingo puts `divCash` on the row of the
/// ex-dividend date (SPY's 1.2778 on 2021-03-19, its ex-date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CashDividend {
    /// The ex-dividend date: the row's date.
    pub ex_date: NaiveDate,
    /// Dollars per share, > 0.
    pub amount: Price,
    /// The row's line in the file, 1-based (the header is line 1).
    pub line: u64,
}

/// Reads a daily-bar file (plain or gzipped), detecting its format from the header unless
/// `format` forces one.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read; otherwise as [`parse_bars`].
pub fn import_bars(path: &Path, format: Option<BarFormat>) -> Result<ImportedBars> {
    parse_bars(path, &read_file(path)?, format)
}

/// Parses daily bars from `bytes` (`path` only names the file in errors). All or nothing: any
/// bad row fails the whole file.
///
/// # Errors
/// [`DataError::UnknownFormat`] for an unknown header (or not `format`'s);
/// [`DataError::Truncated`], [`DataError::FieldCount`], [`DataError::Empty`] for damaged files;
/// [`DataError::BadValue`] for a bad date, a non-number, NaN, a non-positive price, a
/// fractional or negative volume, a negative dividend, or high/low not bracketing open/close
/// (stock and index bar vendors publish consistent bars, so an inconsistent one is damage);
/// [`DataError::Duplicate`] / [`DataError::OutOfOrder`] for dates that do not strictly ascend;
/// [`DataError::UnknownSymbol`] if a Tiingo file mixes symbols.
#[expect(
    clippy::too_many_lines,
    reason = "one linear pass over the columns of four layouts"
)]
pub fn parse_bars(path: &Path, bytes: &[u8], format: Option<BarFormat>) -> Result<ImportedBars> {
    let table = Table::parse(path, bytes)?;
    let format = match format {
        Some(f) if table.header_is(f.header()) => f,
        Some(f) => {
            return Err(DataError::UnknownFormat {
                path: path.to_owned(),
                header: table.header_line(),
                expected: f.header().join(","),
            });
        }
        None => BarFormat::detect(&table).ok_or_else(|| DataError::UnknownFormat {
            path: path.to_owned(),
            header: table.header_line(),
            expected: BarFormat::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(" | "),
        })?,
    };
    let h = format.header();
    let name = format.name();
    let col = |n: &'static str| table.col(n, name);
    let (date, open, high, low, close, volume, dates) = match format {
        BarFormat::AlphaVantageDaily => (
            col(h[0])?,
            col(h[1])?,
            col(h[2])?,
            col(h[3])?,
            col(h[4])?,
            Some(col(h[5])?),
            &[DateFmt::Iso][..],
        ),
        BarFormat::Yahoo => (
            col("Date")?,
            col("Open")?,
            col("High")?,
            col("Low")?,
            col("Close")?,
            Some(col("Volume")?),
            &[DateFmt::Iso, DateFmt::Us][..],
        ),
        BarFormat::Tiingo => (
            col("date")?,
            col("open")?,
            col("high")?,
            col("low")?,
            col("close")?,
            Some(col("volume")?),
            &[DateFmt::Iso][..],
        ),
        BarFormat::OhlcNoVolume => (
            col("DATE")?,
            col("OPEN")?,
            col("HIGH")?,
            col("LOW")?,
            col("CLOSE")?,
            None,
            &[DateFmt::Us][..],
        ),
    };
    let adj_close = (format == BarFormat::Yahoo)
        .then(|| col("Adj Close"))
        .transpose()?;
    let symbol_col = (format == BarFormat::Tiingo)
        .then(|| col("symbol"))
        .transpose()?;
    let dividend_col = (format == BarFormat::Tiingo)
        .then(|| col("divCash"))
        .transpose()?;

    let mut symbol: Option<(Underlying, u64)> = None;
    let mut bars = Vec::with_capacity(table.rows.len());
    let mut lines = Vec::with_capacity(table.rows.len());
    let mut dividends = Vec::new();
    for row in &table.rows {
        let cell = |c: Col| table.cell(row, c);
        if let Some(sc) = symbol_col {
            let c = cell(sc);
            let s = Underlying::try_new(c.trimmed()).map_err(|_| c.bad("a ticker"))?;
            match &symbol {
                None => symbol = Some((s, row.line)),
                Some((first, first_line)) if *first != s => {
                    return Err(DataError::UnknownSymbol {
                        path: path.to_owned(),
                        line: row.line,
                        column: sc.name.to_owned(),
                        column_index: sc.index,
                        symbol: s.to_string(),
                        expected: format!("{first} (the symbol on line {first_line})"),
                    });
                }
                Some(_) => {}
            }
        }
        let d = cell(date).date_any(dates)?;
        let (o, hi, lo, c) = (
            cell(open).positive_price()?,
            cell(high).positive_price()?,
            cell(low).positive_price()?,
            cell(close).positive_price()?,
        );
        let v = volume.map(|vc| cell(vc).count()).transpose()?.unwrap_or(0);
        if let Some(ac) = adj_close {
            cell(ac).positive_f64()?;
        }
        if let Some(dc) = dividend_col {
            let c = cell(dc);
            let amount = c
                .price()
                .map_err(|_| c.bad("a non-negative dividend in dollars per share"))?;
            if !amount.value().is_zero() {
                dividends.push(CashDividend {
                    ex_date: d,
                    amount,
                    line: row.line,
                });
            }
        }
        let bar = DailyBar::try_new(d, o, hi, lo, c, v).map_err(|e| match e {
            CoreError::InvalidBar {
                field, requirement, ..
            } => {
                let which = match field {
                    "open" => open,
                    "high" => high,
                    "low" => low,
                    _ => close,
                };
                cell(which).bad(requirement)
            }
            other => DataError::Core(other),
        })?;
        bars.push(bar);
        lines.push(row.line);
    }
    check_ascending(
        &table,
        date,
        lines.iter().copied().zip(bars.iter().map(|b| b.date)),
    )?;
    Ok(ImportedBars {
        format,
        symbol: symbol.map(|(s, _)| s),
        bars,
        has_volume: volume.is_some(),
        basis: match format {
            BarFormat::AlphaVantageDaily | BarFormat::Tiingo => PriceBasis::Raw,
            BarFormat::Yahoo | BarFormat::OhlcNoVolume => PriceBasis::SplitAdjusted,
        },
        dividends,
    })
}

/// A stock split: from `effective` on, one old share is `new_shares / old_shares` new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Split {
    /// The ticker.
    pub symbol: &'static str,
    /// The first session that trades at the post-split price.
    pub effective: NaiveDate,
    /// New shares per `old_shares` (2 for a 2:1 split).
    pub new_shares: u32,
    /// Old shares (1 for a 2:1 split).
    pub old_shares: u32,
}

/// The splits of the symbols whose raw histories are in the shared data, checked against the
/// files themselves (the close halves between the two sessions, e.g. QQQ 221.6 on 2000-03-17
/// then 107.7 on 2000-03-20; IWM 123.43 on 2005-06-08 then 62.32 on 2005-06-09):
///
/// | symbol | effective | ratio |
/// |---|---|---|
/// | QQQ | 2000-03-20 | 2:1 |
/// | IWM | 2005-06-09 | 2:1 |
///
/// SPY has never split.
#[must_use]
pub fn known_splits() -> Vec<Split> {
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or(NaiveDate::MIN);
    vec![
        Split {
            symbol: "QQQ",
            effective: d(2000, 3, 20),
            new_shares: 2,
            old_shares: 1,
        },
        Split {
            symbol: "IWM",
            effective: d(2005, 6, 9),
            new_shares: 2,
            old_shares: 1,
        },
    ]
}

/// Adjusts a raw series for `symbol`'s splits in `splits`: every bar before a split's
/// effective date has its prices divided by the ratio and its volume multiplied by it (volume
/// rounded to the nearest share for non-integer ratios), so that returns across the split are
/// market returns. Bars must be in ascending order, as the importers return them.
///
/// # Errors
/// [`DataError::InvalidRequest`] for a split with a zero share count;
/// [`DataError::Core`] if an adjusted bar overflows.
pub fn split_adjust(
    symbol: &Underlying,
    bars: &[DailyBar],
    splits: &[Split],
) -> Result<Vec<DailyBar>> {
    let mine: Vec<&Split> = splits
        .iter()
        .filter(|s| s.symbol == symbol.as_str())
        .collect();
    if let Some(s) = mine.iter().find(|s| s.new_shares == 0 || s.old_shares == 0) {
        return Err(DataError::InvalidRequest {
            reason: format!(
                "split of {} on {} has a zero share count",
                s.symbol, s.effective
            ),
        });
    }
    bars.iter()
        .map(|b| {
            // Cumulative factor of every split after this bar.
            let factor = mine
                .iter()
                .filter(|s| b.date < s.effective)
                .fold(Decimal::ONE, |f, s| {
                    f * Decimal::from(s.new_shares) / Decimal::from(s.old_shares)
                });
            if factor == Decimal::ONE {
                return Ok(*b);
            }
            let p = |x: Price| Price::try_new(x.value() / factor);
            let o = &b.ohlcv;
            let volume = (Decimal::from(o.volume()) * factor).round();
            let volume = u64::try_from(volume).map_err(|_| DataError::InvalidRequest {
                reason: format!("adjusted volume {volume} on {} overflows", b.date),
            })?;
            Ok(DailyBar::try_new(
                b.date,
                p(o.open())?,
                p(o.high())?,
                p(o.low())?,
                p(o.close())?,
                volume,
            )?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ImportedBars> {
        parse_bars(Path::new("t.csv"), s.as_bytes(), None)
    }

    #[test]
    fn detects_each_format_from_its_header() {
        let av = "date,1. open,2. high,3. low,4. close,5. volume\n1999-11-01,136.5,137.0,135.5625,135.5625,4006500.0\n";
        let y = "Date,Open,High,Low,Close,Adj Close,Volume\n1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000\n";
        let o = "DATE,OPEN,HIGH,LOW,CLOSE\n12/30/1927,17.65999984741211,17.65999984741211,17.65999984741211,17.65999984741211\n";
        assert_eq!(parse(av).unwrap().format, BarFormat::AlphaVantageDaily);
        assert_eq!(parse(y).unwrap().format, BarFormat::Yahoo);
        let idx = parse(o).unwrap();
        assert_eq!(idx.format, BarFormat::OhlcNoVolume);
        assert!(!idx.has_volume);
        assert_eq!(idx.bars[0].ohlcv.close().to_string(), "17.65999984741211");
    }

    #[test]
    fn override_must_match_the_header() {
        let av = "date,1. open,2. high,3. low,4. close,5. volume\n1999-11-01,1,1,1,1,1\n";
        let e = parse_bars(Path::new("t.csv"), av.as_bytes(), Some(BarFormat::Yahoo)).unwrap_err();
        assert!(matches!(e, DataError::UnknownFormat { .. }), "{e}");
    }

    #[test]
    fn split_adjust_divides_before_the_effective_date() {
        let d = |m, dd| NaiveDate::from_ymd_opt(2000, m, dd).unwrap();
        let p = |s: &str| s.parse::<Price>().unwrap();
        let bars = [
            DailyBar::try_new(
                d(3, 17),
                p("216"),
                p("222.1"),
                p("215.9"),
                p("221.6"),
                15_711_200,
            )
            .unwrap(),
            DailyBar::try_new(
                d(3, 20),
                p("111"),
                p("111.5"),
                p("106.3"),
                p("107.7"),
                10_583_600,
            )
            .unwrap(),
        ];
        let qqq = Underlying::try_new("QQQ").unwrap();
        let adj = split_adjust(&qqq, &bars, &known_splits()).unwrap();
        assert_eq!(adj[0].ohlcv.close(), p("110.8"));
        assert_eq!(adj[0].ohlcv.volume(), 31_422_400);
        assert_eq!(adj[1], bars[1]);
        let spy = Underlying::try_new("SPY").unwrap();
        assert_eq!(split_adjust(&spy, &bars, &known_splits()).unwrap(), bars);
    }
}
