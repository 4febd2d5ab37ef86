//! Importing files into a store, end to end: parse a whole file with the importers of
//! [`crate::import`] (all or nothing), then write it with one store call (one transaction).
//! A file that fails leaves the store exactly as it was; importing the same file again
//! changes nothing (the summary says 0 rows changed).
//!
//! - [`ingest_bars`]: daily bars (SPY, QQQ, IWM, ^GSPC, …), split-adjusted on request;
//! - [`ingest_index`]: CBOE index histories (VIX, VIX9D, VIX3M, VVIX, SKEW);
//! - [`ingest_rates`]: FRED rate series (DTB3, DFF);
//! - [`ingest_put_call`]: CBOE's total, equity and index put/call ratios, kept as index series
//!   ([`PUT_CALL_SERIES`]);
//! - [`ingest_chains`]: option chains, every CSV layout of [`crate::import`] and Volta's Parquet
//!   layout ([`crate::parquet`]), recognised by its magic bytes `PAR1`;
//! - [`ingest_daily_history`]: the daily history (bars, indices, put/call ratios, rates) of
//!   some underlyings, without the chain files;
//! - [`ingest_data_dir`]: every known file of the shared data folder, with a progress callback.
//!
//! # Snapshot times
//!
//! A chain snapshot is keyed by its time (`as_of`, exchange time), which the CSV files do not
//! give. [`SnapshotTime::FormatDefault`] stamps:
//! - end-of-day vendors (iVolatility, historicaloptiondata, the lambdaclass SPY sample,
//!   `QuantConnect`) at the session close of [`NyseCalendar::session_close`]: 16:00, 13:00 on
//!   half days;
//! - the CBOE delayed SPX files, scraped at an unrecorded time of day, **15 minutes before the
//!   session close** (15:45, 12:45 on half days such as 2019-07-03). Not the close, because
//!   their `underlying_last` equals the official close on only 7 of 56 days: stamping them at
//!   16:00 would claim a closing chain they are not, and a true end-of-day chain imported later
//!   for the same day gets its own snapshot (and is the one [`MarketStore::chain_on`] returns,
//!   being the day's last).
//!
//! A quote date that is not an NYSE session is an error (the README of the data folder notes
//! stale copies dated on holidays).
//!
//! ```no_run
//! use std::path::Path;
//! use volta_data::ingest::{BarsOptions, ingest_bars};
//! use volta_data::store::SqliteStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut store = SqliteStore::open("volta.db")?;
//! let options = BarsOptions { adjust_splits: true, ..BarsOptions::default() };
//! let summary = ingest_bars(&mut store, Path::new("QQQ_daily_unadjusted.csv"), &options)?;
//! println!("{summary}");
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use volta_core::{ChainSnapshot, NyseCalendar, Underlying};

use crate::DataDir;
use crate::error::{DataError, Result};
use crate::import::{
    BarFormat, ChainFormat, ChainRequest, PUT_CALL_SERIES, PriceBasis, RateSeries, RowFlag, Split,
    import_bars, import_chains, import_index, import_put_call_ratios, import_rates, known_splits,
    split_adjust,
};
#[cfg(feature = "parquet")]
use crate::parquet::read_chains_parquet;
use crate::store::MarketStore;

/// What kind of data a file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IngestKind {
    /// Underlying daily bars.
    Bars,
    /// An index history (VIX, SKEW, …).
    Index,
    /// A rate series (DTB3, DFF).
    Rates,
    /// Option chains.
    Chains,
}

impl fmt::Display for IngestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bars => "bars",
            Self::Index => "index",
            Self::Rates => "rates",
            Self::Chains => "chains",
        })
    }
}

/// What importing one file did.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestSummary {
    /// The file.
    pub file: PathBuf,
    /// What it held.
    pub kind: IngestKind,
    /// The layout read (`Alpha Vantage daily`, `CboeDelayed`, `Parquet`, …).
    pub format: String,
    /// The symbols written: the bar symbol, the index symbol, the rate series, or the chains'
    /// underlyings.
    pub symbols: Vec<String>,
    /// Data rows read: bars, index values, rate observations, or option quotes.
    pub rows_read: u64,
    /// Rows the store inserted or changed (snapshot and quote rows for chains); 0 when the
    /// store already held exactly this file.
    pub rows_changed: u64,
    /// The first and last date read.
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// Rows accepted as published but flagged (see [`crate::import`]'s table of quirks).
    pub flags: Vec<RowFlag>,
    /// The splits applied to raw bars (empty unless split adjustment was asked for and the
    /// file is raw across a known split).
    pub splits_applied: Vec<Split>,
    /// For chains: the snapshot times written, one per (underlying, quote date).
    pub snapshot_times: Vec<NaiveDateTime>,
}

impl IngestSummary {
    /// The flags counted by kind ([`crate::import::FlagKind::name`]).
    #[must_use]
    pub fn flag_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.flags {
            *counts.entry(f.kind.name()).or_insert(0) += 1;
        }
        counts
    }
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({}), {} rows read, {} changed",
            self.file.display(),
            self.kind,
            self.symbols.join(","),
            self.format,
            self.rows_read,
            self.rows_changed
        )?;
        if let Some((first, last)) = self.dates {
            write!(f, ", {first} to {last}")?;
        }
        for (kind, n) in self.flag_counts() {
            write!(f, ", {n} flagged {kind}")?;
        }
        for s in &self.splits_applied {
            write!(
                f,
                ", adjusted for the {}:{} split of {}",
                s.new_shares, s.old_shares, s.effective
            )?;
        }
        Ok(())
    }
}

/// How to import a bar file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BarsOptions {
    /// The symbol to file the bars under. `None`: the file's own symbol (Tiingo), else the
    /// file name up to its first `_` or `.` (`QQQ_daily_unadjusted.csv` → `QQQ`). A given
    /// symbol that contradicts the file's own is an error.
    pub symbol: Option<Underlying>,
    /// Force a format instead of detecting it from the header.
    pub format: Option<BarFormat>,
    /// Adjust raw bars ([`PriceBasis::Raw`]) for the splits of [`known_splits`] (QQQ 2:1 on
    /// 2000-03-20, IWM 2:1 on 2005-06-09): prices before the split divided by the ratio,
    /// volumes multiplied. Files already adjusted are written as read.
    pub adjust_splits: bool,
}

/// When a chain snapshot is stamped (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotTime {
    /// The format's own choice: the session close for end-of-day vendors, 15 minutes before
    /// it for the CBOE delayed files.
    #[default]
    FormatDefault,
    /// The session close ([`NyseCalendar::session_close`]: 16:00, 13:00 on half days).
    SessionClose,
    /// A fixed time of day, exchange time.
    At(NaiveTime),
}

/// How long before the session close the CBOE delayed files are stamped.
pub const CBOE_DELAYED_BEFORE_CLOSE: TimeDelta = TimeDelta::minutes(15);

impl SnapshotTime {
    /// The stamp of a chain of `format` quoted on `date` (`None`: a Parquet file, whose rows
    /// carry their time).
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`] if `date` is not an NYSE session (for the close-based
    /// policies); [`DataError::Core`] outside the calendar's 1990-2099.
    pub fn stamp(self, format: ChainFormat, date: NaiveDate) -> Result<NaiveDateTime> {
        let close = || -> Result<NaiveDateTime> {
            let t = NyseCalendar
                .session_close(date)?
                .ok_or_else(|| DataError::InvalidRequest {
                    reason: format!("chain quote date {date} is not an NYSE session"),
                })?;
            Ok(date.and_time(t))
        };
        match self {
            Self::At(t) => Ok(date.and_time(t)),
            Self::FormatDefault if format == ChainFormat::CboeDelayed => {
                Ok(close()? - CBOE_DELAYED_BEFORE_CLOSE)
            }
            Self::SessionClose | Self::FormatDefault => close(),
        }
    }
}

/// The part of a file name before its first `_` or `.`, upper-cased, as a ticker
/// (`VIX_History.csv` → `VIX`).
fn symbol_from_name(path: &Path) -> Option<Underlying> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split(['_', '.']).next()?;
    Underlying::try_new(&stem.to_ascii_uppercase()).ok()
}

fn cannot_infer(path: &Path, what: &str) -> DataError {
    DataError::InvalidRequest {
        reason: format!(
            "{}: cannot infer the {what} from the file name (expected `<SYMBOL>_….csv`): give it",
            path.display()
        ),
    }
}

fn span(dates: impl Iterator<Item = NaiveDate> + Clone) -> Option<(NaiveDate, NaiveDate)> {
    Some((dates.clone().min()?, dates.max()?))
}

/// Imports a daily bar file into `store` under one symbol (see [`BarsOptions`]).
///
/// # Errors
/// The importer's errors ([`crate::import::parse_bars`]); [`DataError::InvalidRequest`] when
/// no symbol is given and none can be inferred, or the given one contradicts the file's;
/// the store's errors ([`MarketStore::upsert_daily_bars`]). The store is unchanged then.
pub fn ingest_bars(
    store: &mut dyn MarketStore,
    path: &Path,
    options: &BarsOptions,
) -> Result<IngestSummary> {
    let imported = import_bars(path, options.format)?;
    let symbol = match (&options.symbol, &imported.symbol) {
        (Some(given), Some(file)) if given != file => {
            return Err(DataError::InvalidRequest {
                reason: format!(
                    "{}: symbol {given} was asked for but the file holds {file}",
                    path.display()
                ),
            });
        }
        (Some(s), _) | (None, Some(s)) => s.clone(),
        (None, None) => symbol_from_name(path).ok_or_else(|| cannot_infer(path, "symbol"))?,
    };
    let mut splits_applied = Vec::new();
    let bars = if options.adjust_splits && imported.basis == PriceBasis::Raw {
        let splits = known_splits();
        if let (Some(first), Some(last)) = (imported.bars.first(), imported.bars.last()) {
            splits_applied = splits
                .iter()
                .filter(|s| {
                    s.symbol == symbol.as_str()
                        && first.date < s.effective
                        && s.effective <= last.date
                })
                .copied()
                .collect();
        }
        split_adjust(&symbol, &imported.bars, &splits)?
    } else {
        imported.bars
    };
    let rows_changed = store.upsert_daily_bars(&symbol, &bars)?;
    Ok(IngestSummary {
        file: path.to_owned(),
        kind: IngestKind::Bars,
        format: format!("{:?}", imported.format),
        symbols: vec![symbol.to_string()],
        rows_read: bars.len() as u64,
        rows_changed,
        dates: span(bars.iter().map(|b| b.date)),
        flags: Vec::new(),
        splits_applied,
        snapshot_times: Vec::new(),
    })
}

/// Imports a CBOE index history (`DATE,OPEN,HIGH,LOW,CLOSE` or `DATE,<NAME>`) under `symbol`;
/// `None`: the close-only file's column name (`VVIX`), else the file name up to its first `_`
/// (`VIX_History.csv` → `VIX`).
///
/// # Errors
/// The importer's errors ([`crate::import::parse_index`]); [`DataError::InvalidRequest`] when
/// no symbol is given and none can be inferred; the store's errors. The store is unchanged
/// then.
pub fn ingest_index(
    store: &mut dyn MarketStore,
    path: &Path,
    symbol: Option<&Underlying>,
) -> Result<IngestSummary> {
    let imported = import_index(path, None)?;
    let symbol = match symbol {
        Some(s) => s.clone(),
        None => imported
            .name
            .as_deref()
            .and_then(|n| Underlying::try_new(n).ok())
            .or_else(|| symbol_from_name(path))
            .ok_or_else(|| cannot_infer(path, "index symbol"))?,
    };
    let rows_changed = store.upsert_index_values(&symbol, &imported.records)?;
    Ok(IngestSummary {
        file: path.to_owned(),
        kind: IngestKind::Index,
        format: format!("{:?}", imported.format),
        symbols: vec![symbol.to_string()],
        rows_read: imported.records.len() as u64,
        rows_changed,
        dates: span(imported.records.iter().map(|r| r.date)),
        flags: imported.flags,
        splits_applied: Vec::new(),
        snapshot_times: Vec::new(),
    })
}

/// Imports CBOE's put/call ratios file: the columns of [`PUT_CALL_SERIES`], each as an index
/// series under its store symbol (`PCR.TOTAL`, …), blank days left out. The whole file is
/// parsed and checked before anything is written; the three series are three writes, each
/// all or nothing, so a store failure between them leaves a series to be imported again
/// (which is harmless: importing is idempotent).
///
/// # Errors
/// The importer's errors ([`crate::import::parse_put_call_ratios`]);
/// [`DataError::InvalidRequest`] if a column of [`PUT_CALL_SERIES`] is absent; the store's
/// errors.
pub fn ingest_put_call(store: &mut dyn MarketStore, path: &Path) -> Result<IngestSummary> {
    let ratios = import_put_call_ratios(path)?;
    let mut series = Vec::with_capacity(PUT_CALL_SERIES.len());
    for (column, symbol) in PUT_CALL_SERIES {
        let records = ratios
            .series(column)
            .ok_or_else(|| DataError::InvalidRequest {
                reason: format!("{}: no column {column}", path.display()),
            })?;
        series.push((ticker(symbol)?, records));
    }
    let mut rows_changed = 0;
    for (symbol, records) in &series {
        rows_changed += store.upsert_index_values(symbol, records)?;
    }
    Ok(IngestSummary {
        file: path.to_owned(),
        kind: IngestKind::Index,
        format: "CboePutCallRatios".to_owned(),
        symbols: series.iter().map(|(s, _)| s.to_string()).collect(),
        rows_read: ratios.days.len() as u64,
        rows_changed,
        dates: span(ratios.days.iter().map(|d| d.date)),
        flags: Vec::new(),
        splits_applied: Vec::new(),
        snapshot_times: Vec::new(),
    })
}

/// Imports the daily history of the data folder `data` — without the option-chain files —
/// for `symbols`: their daily bars (split-adjusted), the CBOE indices
/// ([`DataDir::CBOE_INDICES`]), CBOE's put/call ratios and FRED's DTB3 and DFF. What a
/// backtest on modelled chains and the day features read.
///
/// # Errors
/// The first file's error (a missing or malformed file, the store's errors); the files before
/// it stay imported.
pub fn ingest_daily_history(
    store: &mut dyn MarketStore,
    data: &DataDir,
    symbols: &[&str],
) -> Result<Vec<IngestSummary>> {
    let mut done = Vec::new();
    for symbol in symbols {
        let options = BarsOptions {
            symbol: Some(ticker(symbol)?),
            format: None,
            adjust_splits: true,
        };
        done.push(ingest_bars(store, &data.daily_bars(symbol), &options)?);
    }
    for index in DataDir::CBOE_INDICES {
        done.push(ingest_index(
            store,
            &data.cboe_index(index),
            Some(&ticker(index)?),
        )?);
    }
    done.push(ingest_put_call(store, &data.put_call_ratios())?);
    for series in [RateSeries::Dtb3, RateSeries::Dff] {
        done.push(ingest_rates(store, &data.fred_rate(series), Some(series))?);
    }
    Ok(done)
}

/// Imports a FRED rate file. `series`: `None` reads it from the file name (`DFF.csv`) when
/// that names a known series, else from the header. Holiday rows without a value are stored
/// as missing (NULL), not skipped and never 0.
///
/// # Errors
/// The importer's errors ([`crate::import::parse_rates`]: a header that contradicts the
/// series, …); the store's errors. The store is unchanged then.
pub fn ingest_rates(
    store: &mut dyn MarketStore,
    path: &Path,
    series: Option<RateSeries>,
) -> Result<IngestSummary> {
    let series = series.or_else(|| {
        let name = path.file_name()?.to_str()?;
        RateSeries::from_name(name.split(['_', '.']).next()?)
    });
    let imported = import_rates(path, series)?;
    let rows_changed = store.upsert_rates(imported.series, &imported.observations)?;
    Ok(IngestSummary {
        file: path.to_owned(),
        kind: IngestKind::Rates,
        format: format!("FRED {}", imported.series),
        symbols: vec![imported.series.to_string()],
        rows_read: imported.observations.len() as u64,
        rows_changed,
        dates: span(imported.observations.iter().map(|o| o.date)),
        flags: imported.flags,
        splits_applied: Vec::new(),
        snapshot_times: Vec::new(),
    })
}

/// The trailing `_YYYYMMDD` of a file stem (`SPX_quantconnect_universe_20151222.csv`).
fn date_from_name(path: &Path) -> Option<NaiveDate> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    let tail = stem.rsplit('_').next()?;
    NaiveDate::parse_from_str(tail, "%Y%m%d").ok()
}

/// Imports an option-chain file: a CSV layout of [`crate::import`] (plain or gzipped) or a
/// Parquet file of [`crate::parquet`] (recognised by its magic bytes).
///
/// CSV files: an empty `request.allowed` allows the one underlying the file name starts with
/// (`SPX_20190425.csv.gz` → `SPX`); a missing `request.quote_date` is taken from a trailing
/// `_YYYYMMDD` of the file name (the `QuantConnect` universes). Each (underlying, quote date)
/// becomes one snapshot stamped by `time`. Parquet files carry their snapshot times, so `time`
/// does not apply; a non-empty `request.allowed` still restricts their underlyings.
///
/// # Errors
/// The importer's errors ([`crate::import::parse_chains`],
/// [`crate::parquet::read_chains_parquet`]); [`DataError::InvalidRequest`] for an underlying
/// that cannot be inferred, a day without underlying price, or a quote date that is not a
/// session; [`DataError::UnknownSymbol`] for a Parquet underlying not allowed; the store's
/// errors. The store is unchanged then.
pub fn ingest_chains(
    store: &mut dyn MarketStore,
    path: &Path,
    request: &ChainRequest,
    time: SnapshotTime,
) -> Result<IngestSummary> {
    let (format, snapshots, flags) = if is_parquet(path)? {
        let snapshots = read_parquet(path)?;
        if !request.allowed.is_empty()
            && let Some(s) = snapshots
                .iter()
                .find(|s| !request.allowed.contains(s.underlying()))
        {
            return Err(DataError::UnknownSymbol {
                path: path.to_owned(),
                line: 0,
                column: "underlying".to_owned(),
                column_index: 2,
                symbol: s.underlying().to_string(),
                expected: format!(
                    "one of [{}]",
                    request
                        .allowed
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        ("Parquet".to_owned(), snapshots, Vec::new())
    } else {
        let mut request = request.clone();
        if request.allowed.is_empty() {
            request
                .allowed
                .push(symbol_from_name(path).ok_or_else(|| cannot_infer(path, "underlying"))?);
        }
        if request.quote_date.is_none() {
            request.quote_date = date_from_name(path);
        }
        let imported = import_chains(path, &request)?;
        let format = imported.format;
        let snapshots = imported
            .days
            .into_iter()
            .map(|d| {
                time.stamp(format, d.quote_date)
                    .and_then(|at| d.into_snapshot(at))
                    .map_err(|e| match e {
                        DataError::InvalidRequest { reason } => DataError::InvalidRequest {
                            reason: format!("{}: {reason}", path.display()),
                        },
                        other => other,
                    })
            })
            .collect::<Result<Vec<ChainSnapshot>>>()?;
        (format!("{format:?}"), snapshots, imported.flags)
    };
    let rows_changed = store.upsert_chains(&snapshots)?;
    let mut symbols: Vec<String> = snapshots
        .iter()
        .map(|s| s.underlying().to_string())
        .collect();
    symbols.sort();
    symbols.dedup();
    Ok(IngestSummary {
        file: path.to_owned(),
        kind: IngestKind::Chains,
        format,
        symbols,
        rows_read: snapshots.iter().map(|s| s.len() as u64).sum(),
        rows_changed,
        dates: span(snapshots.iter().map(|s| s.as_of().date())),
        flags,
        splits_applied: Vec::new(),
        snapshot_times: snapshots.iter().map(ChainSnapshot::as_of).collect(),
    })
}

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path) -> Result<Vec<ChainSnapshot>> {
    read_chains_parquet(path)
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(path: &Path) -> Result<Vec<ChainSnapshot>> {
    Err(DataError::InvalidRequest {
        reason: format!(
            "{} is a Parquet file: this build of volta-data has no `parquet` feature",
            path.display()
        ),
    })
}

/// How [`ingest_data_dir`] imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataDirOptions {
    /// Split-adjust raw bar files (QQQ, IWM), as [`BarsOptions::adjust_splits`].
    pub adjust_splits: bool,
    /// How chain snapshots are stamped.
    pub snapshot_time: SnapshotTime,
}

/// What [`ingest_data_dir`] reports as it goes: one `Started` and one `Finished` per file, in
/// order; `total` counts the files it will import (skipped ones excluded).
#[derive(Debug)]
pub enum Progress<'a> {
    /// A file is about to be parsed.
    Started {
        /// 0-based position among the files to import.
        index: usize,
        /// Files to import.
        total: usize,
        /// The file.
        file: &'a Path,
    },
    /// A file is done, imported or not.
    Finished {
        /// 0-based position among the files to import.
        index: usize,
        /// Files to import.
        total: usize,
        /// The file.
        file: &'a Path,
        /// Its summary, or why it failed (the store is unchanged by it then).
        outcome: std::result::Result<&'a IngestSummary, &'a DataError>,
    },
}

/// What [`ingest_data_dir`] did.
#[derive(Debug, Default)]
pub struct DataDirReport {
    /// The files imported, in order.
    pub imported: Vec<IngestSummary>,
    /// The files that failed, each with its error; each left the store unchanged.
    pub failed: Vec<(PathBuf, DataError)>,
    /// Files found but not imported, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// The first four bytes of every Parquet file.
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Whether the file at `path` starts with the Parquet magic bytes `PAR1`.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be opened or read.
pub fn is_parquet(path: &Path) -> Result<bool> {
    let io = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut filled = 0;
    while filled < head.len() {
        let n = file.read(&mut head[filled..]).map_err(io)?;
        if n == 0 {
            return Ok(false);
        }
        filled += n;
    }
    Ok(&head == PARQUET_MAGIC)
}

/// How the directory helper imports one known file.
#[derive(Debug, Clone)]
enum Plan {
    Bars(Option<&'static str>),
    Index,
    PutCall,
    Rates,
    Chains(&'static str),
    /// A `QuantConnect` universe of SPX: the price is the stored ^GSPC close of the day.
    ChainsPricedBy(&'static str, &'static str),
    Skip(&'static str),
}

/// The files of the shared data folder (its README) and how each is imported. Bars come
/// first: the `QuantConnect` chains take their price from the ^GSPC bars.
fn known_files(data: &DataDir) -> Vec<(PathBuf, Plan)> {
    let quantconnect = |day: &str| {
        (
            data.options_file(&format!("SPX_quantconnect_universe_{day}.csv")),
            Plan::ChainsPricedBy("SPX", "^GSPC"),
        )
    };
    let mut known: Vec<(PathBuf, Plan)> = ["SPY", "QQQ", "IWM"]
        .into_iter()
        .map(|s| (data.daily_bars(s), Plan::Bars(Some(s))))
        .collect();
    known.extend([
        // Tiingo names its symbol (SPY); its 2021 raw bars equal the Alpha Vantage ones, so the
        // second write changes nothing.
        (data.tiingo_bars("SPY", 2021), Plan::Bars(None)),
        (data.index_daily_ohlc("GSPC"), Plan::Bars(Some("^GSPC"))),
        (data.index_daily_ohlc("NDX"), Plan::Bars(Some("^NDX"))),
        (
            data.underlying_file("GSPC_daily_ohlcv_arch_1999_2018.csv"),
            Plan::Skip(
                "the same ^GSPC series as GSPC_daily_ohlc.csv rounded differently: writing both \
                 under one symbol would make every re-import change 5031 rows",
            ),
        ),
        (
            data.underlying_file("IXIC_daily_ohlcv_arch_1999_2018.csv"),
            Plan::Bars(Some("^IXIC")),
        ),
    ]);
    known.extend(
        DataDir::CBOE_INDICES
            .into_iter()
            .map(|index| (data.cboe_index(index), Plan::Index)),
    );
    known.push((data.put_call_ratios(), Plan::PutCall));
    known.extend(
        [RateSeries::Dtb3, RateSeries::Dff]
            .into_iter()
            .map(|series| (data.fred_rate(series), Plan::Rates)),
    );
    known.extend([
        (
            data.options_file("SPY_sampled20_2021-01-04_to_2021-12-29.csv"),
            Plan::Chains("SPY"),
        ),
        (
            data.options_file("SPX_ivolatility_2011-01-03_to_2011-01-06.csv"),
            Plan::Chains("SPX"),
        ),
        (
            data.options_file("AAPL_ivolatility_2014-08-07_to_2014-08-08.csv"),
            Plan::Skip(
                "its 2014-08-08 rows are labelled SPY with AAPL's prices: importing them would \
                 file AAPL quotes under SPY",
            ),
        ),
        (
            data.options_file("VXX_historicaloptiondata_2016-12-01_to_2016-12-29.csv"),
            Plan::Chains("VXX"),
        ),
        (
            data.options_file("A_historicaloptiondata_2016-01-05.csv"),
            Plan::Chains("A"),
        ),
        quantconnect("20151222"),
        quantconnect("20151223"),
    ]);
    known
}

/// Every file under `dir`, recursively, sorted.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| DataError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn ticker(s: &str) -> Result<Underlying> {
    Ok(Underlying::try_new(s)?)
}

/// Imports every known file of the data folder `data` (see [`DataDir`] for its layout: bars,
/// CBOE indices, FRED rates, option chains, the CBOE SPX days), one transaction per file,
/// calling `progress` before and after each. A file that fails is reported and leaves the
/// store unchanged; the others still go in. Parquet files anywhere in the folder are imported
/// as chains; other files (the README, the Yahoo JSON fixtures, …) are listed as skipped with
/// the reason.
///
/// # Errors
/// [`DataError::Io`] if the folder cannot be listed; per-file errors are in the report.
pub fn ingest_data_dir(
    store: &mut dyn MarketStore,
    data: &DataDir,
    options: &DataDirOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<DataDirReport> {
    let mut report = DataDirReport::default();
    let mut plan: Vec<(PathBuf, Plan)> = known_files(data)
        .into_iter()
        .filter(|(path, _)| path.is_file())
        .collect();
    for path in walk(data.root())? {
        if plan.iter().any(|(p, _)| *p == path) {
            continue;
        }
        let in_cboe = path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|p| p == DataDir::CBOE_SPX_2019);
        // `SPX_20190425.csv` and `SPX_20190425.csv.gz`.
        let csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("gz"));
        if in_cboe && csv {
            plan.push((path, Plan::Chains("SPX")));
        } else if is_parquet(&path)? {
            plan.push((path, Plan::Chains("")));
        } else {
            report
                .skipped
                .push((path, "not a known data file".to_owned()));
        }
    }
    let (skip, work): (Vec<_>, Vec<_>) = plan
        .into_iter()
        .partition(|(_, p)| matches!(p, Plan::Skip(_)));
    for (path, p) in skip {
        if let Plan::Skip(reason) = p {
            report.skipped.push((path, reason.to_owned()));
        }
    }
    let total = work.len();
    for (index, (path, p)) in work.into_iter().enumerate() {
        progress(Progress::Started {
            index,
            total,
            file: &path,
        });
        let outcome = ingest_planned(store, &path, &p, options);
        progress(Progress::Finished {
            index,
            total,
            file: &path,
            outcome: outcome.as_ref(),
        });
        match outcome {
            Ok(summary) => report.imported.push(summary),
            Err(e) => report.failed.push((path, e)),
        }
    }
    Ok(report)
}

fn ingest_planned(
    store: &mut dyn MarketStore,
    path: &Path,
    plan: &Plan,
    options: &DataDirOptions,
) -> Result<IngestSummary> {
    match plan {
        Plan::Bars(symbol) => {
            let bars = BarsOptions {
                symbol: symbol.map(ticker).transpose()?,
                format: None,
                adjust_splits: options.adjust_splits,
            };
            ingest_bars(store, path, &bars)
        }
        Plan::Index => ingest_index(store, path, None),
        Plan::PutCall => ingest_put_call(store, path),
        Plan::Rates => ingest_rates(store, path, None),
        Plan::Chains(underlying) => {
            let request = ChainRequest {
                allowed: if underlying.is_empty() {
                    Vec::new()
                } else {
                    vec![ticker(underlying)?]
                },
                ..ChainRequest::default()
            };
            ingest_chains(store, path, &request, options.snapshot_time)
        }
        Plan::ChainsPricedBy(underlying, price_symbol) => {
            let date = date_from_name(path).ok_or_else(|| cannot_infer(path, "quote date"))?;
            let bars = store.daily_bars(&ticker(price_symbol)?, date, date)?;
            let bar = bars.first().ok_or_else(|| DataError::InvalidRequest {
                reason: format!(
                    "{}: no {price_symbol} bar on {date} in the store to price the chain",
                    path.display()
                ),
            })?;
            let request = ChainRequest {
                allowed: vec![ticker(underlying)?],
                quote_date: Some(date),
                underlying_price: Some(bar.ohlcv.close()),
                ..ChainRequest::default()
            };
            ingest_chains(store, path, &request, options.snapshot_time)
        }
        Plan::Skip(reason) => Err(DataError::InvalidRequest {
            reason: format!("{}: skipped: {reason}", path.display()),
        }),
    }
}
