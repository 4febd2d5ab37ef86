//! The daily panel: one underlying's daily inputs aligned on its trading dates, the raw
//! material of the feature library.
//!
//! # Alignment and missing data (the panel's half of the NaN policy)
//!
//! - **The grid** is every NYSE session from the underlying's first bar to its last
//!   ([`volta_core::NyseCalendar`]). A bar dated on a day that is not a session is an error.
//!   A session with no bar (a gap in the file) stays in the grid as a row whose prices are
//!   missing, and is listed by [`DailyPanel::missing_sessions`]: every feature whose window
//!   touches it is NaN, so nothing is ever silently shifted by a row.
//! - **Prices** of the underlying must be finite and positive: anything else is
//!   [`FeatureError::BadInput`] naming the series, the field and the date.
//! - **Daily market series** (VIX, VIX3M, VIX9D, VVIX, SKEW, peers' closes, put/call ratios,
//!   chain summaries) join on the exact date: a session the series does not have is missing
//!   for that session. They are never forward-filled and never backward-filled; a series that
//!   starts after the grid (VIX3M in 2009) or ends before it leaves its features NaN there.
//!   A NaN value in such a series is a missing observation; an infinite, zero or negative
//!   value is an error.
//! - **Rates** move slowly and FRED leaves holidays blank: the rate of a session is the last
//!   observation at or before it, if that observation is at most
//!   [`RATE_MAX_STALENESS_DAYS`] calendar days old (an as-of join); otherwise missing.
//!
//! Missing values are nulls in the [`DailyPanel::to_dataframe`] frame; the feature matrix
//! turns them into NaN.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use volta_core::{DailyBar, NyseCalendar, Underlying, expiry};
use volta_data::DataDir;
use volta_data::import::{
    BarFormat, ImportedRates, IndexRecord, PUT_CALL_SERIES, PutCallRatios, RateSeries, import_bars,
    import_index, import_put_call_ratios, import_rates, known_splits, split_adjust,
};
use volta_data::store::MarketStore;

use crate::chain_metrics::ChainSummary;
use crate::error::{FeatureError, Result};

/// The oldest rate observation (calendar days) the as-of join of rates may carry forward.
/// Seven days bridge a holiday weekend and FRED's blank holiday rows; a longer hole is missing.
pub const RATE_MAX_STALENESS_DAYS: i64 = 7;

/// Where a series came from: recorded in the feature matrix's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provenance {
    /// A real market-data file (the shared data folder).
    RealFile,
    /// The market store.
    Store,
    /// Volta's synthetic market.
    Synthetic,
    /// Not supplied: the series' features are NaN.
    Missing,
}

impl Provenance {
    /// The tag written to metadata: `real`, `store`, `synthetic` or `none`.
    #[must_use]
    pub const fn tag(self) -> &'static str {
        match self {
            Self::RealFile => "real",
            Self::Store => "store",
            Self::Synthetic => "synthetic",
            Self::Missing => "none",
        }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A source of the panel: each has one [`Provenance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The underlying's own daily bars.
    Bars,
    /// CBOE VIX closes.
    Vix,
    /// CBOE VIX3M closes.
    Vix3m,
    /// CBOE VIX9D closes.
    Vix9d,
    /// CBOE VVIX closes.
    Vvix,
    /// CBOE SKEW closes.
    Skew,
    /// The risk-free rate (FRED).
    Rate,
    /// The first peer underlying's closes (cross-asset features).
    Peer1,
    /// The second peer underlying's closes.
    Peer2,
    /// CBOE daily put/call ratios.
    PutCall,
    /// Option-chain summaries of the underlying.
    Chains,
}

impl Source {
    /// Every source, in column order.
    pub const ALL: [Self; 11] = [
        Self::Bars,
        Self::Vix,
        Self::Vix3m,
        Self::Vix9d,
        Self::Vvix,
        Self::Skew,
        Self::Rate,
        Self::Peer1,
        Self::Peer2,
        Self::PutCall,
        Self::Chains,
    ];

    /// The source's name in metadata and errors.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bars => "bars",
            Self::Vix => "VIX",
            Self::Vix3m => "VIX3M",
            Self::Vix9d => "VIX9D",
            Self::Vvix => "VVIX",
            Self::Skew => "SKEW",
            Self::Rate => "rate",
            Self::Peer1 => "peer1",
            Self::Peer2 => "peer2",
            Self::PutCall => "put_call",
            Self::Chains => "chains",
        }
    }
}

/// The CBOE index closes a panel can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexSeries {
    /// VIX: 30-day implied volatility of the S&P 500, index points (= percent).
    Vix,
    /// VIX3M: 3-month implied volatility, index points.
    Vix3m,
    /// VIX9D: 9-day implied volatility, index points.
    Vix9d,
    /// VVIX: implied volatility of VIX options, index points.
    Vvix,
    /// CBOE SKEW index.
    Skew,
}

impl IndexSeries {
    /// All of them.
    pub const ALL: [Self; 5] = [Self::Vix, Self::Vix3m, Self::Vix9d, Self::Vvix, Self::Skew];

    const fn source(self) -> Source {
        match self {
            Self::Vix => Source::Vix,
            Self::Vix3m => Source::Vix3m,
            Self::Vix9d => Source::Vix9d,
            Self::Vvix => Source::Vvix,
            Self::Skew => Source::Skew,
        }
    }

    /// The panel column (`vix`, `vix3m`, …).
    #[must_use]
    pub const fn column(self) -> &'static str {
        match self {
            Self::Vix => "vix",
            Self::Vix3m => "vix3m",
            Self::Vix9d => "vix9d",
            Self::Vvix => "vvix",
            Self::Skew => "skew",
        }
    }

    /// CBOE's ticker (`VIX`, `VIX3M`, …): the name of its history in the data folder
    /// ([`DataDir::cboe_index`]) and in the store.
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        self.source().name()
    }
}

/// One row of raw daily prices (US dollars) and volume (shares), validated by
/// [`DailyPanel::from_rows`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarRow {
    /// The session.
    pub date: NaiveDate,
    /// Open.
    pub open: f64,
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
    /// Shares traded; `None` when the source has no volume.
    pub volume: Option<f64>,
}

impl BarRow {
    /// The row of a validated bar (`with_volume` false for files without volume).
    #[must_use]
    pub fn from_bar(bar: &DailyBar, with_volume: bool) -> Self {
        let o = &bar.ohlcv;
        Self {
            date: bar.date,
            open: o.open().to_f64(),
            high: o.high().to_f64(),
            low: o.low().to_f64(),
            close: o.close().to_f64(),
            volume: with_volume.then_some(o.volume() as f64),
        }
    }
}

/// Chain-summary columns of the panel, with the accessor of each.
type ChainField = (&'static str, fn(&ChainSummary) -> Option<f64>);

/// The chain-summary columns (all `f64`, null when the chain cannot support the metric).
pub(crate) const CHAIN_COLUMNS: [ChainField; 14] = [
    ("ch_atm_iv_30d", |c| c.atm_iv_30d),
    ("ch_atm_iv_front", |c| c.atm_iv_front),
    ("ch_atm_iv_back", |c| c.atm_iv_back),
    ("ch_rr25", |c| c.risk_reversal_25d),
    ("ch_fly25", |c| c.butterfly_25d),
    ("ch_skew_slope", |c| c.skew_slope),
    ("ch_term_slope", |c| c.term_slope),
    ("ch_pc_volume", |c| c.put_call_volume_ratio),
    ("ch_pc_oi", |c| c.put_call_oi_ratio),
    ("ch_call_volume", |c| Some(c.call_volume as f64)),
    ("ch_put_volume", |c| Some(c.put_volume as f64)),
    ("ch_call_oi", |c| Some(c.call_open_interest as f64)),
    ("ch_put_oi", |c| Some(c.put_open_interest as f64)),
    ("ch_gex", |c| c.dealer_gamma_exposure),
];

/// The CBOE put/call ratio columns used, and the panel column of each.
const PUT_CALL_COLUMNS: [(&str, &str); 3] = [
    ("TOTAL_PUT_CALL_RATIO", "pc_total"),
    ("EQUITY_PUT_CALL_RATIO", "pc_equity"),
    ("INDEX_PUT_CALL_RATIO", "pc_index"),
];

/// One underlying's daily inputs on its session grid. See the module docs for the alignment
/// and missing-data rules.
#[derive(Debug, Clone)]
pub struct DailyPanel {
    symbol: String,
    dates: Vec<NaiveDate>,
    /// Open, high, low, close, volume; `None` on missing sessions (volume also when unknown).
    ohlcv: [Vec<Option<f64>>; 5],
    /// Auxiliary columns by panel column name.
    aux: BTreeMap<&'static str, Vec<Option<f64>>>,
    sources: BTreeMap<Source, Provenance>,
    peer_names: [Option<String>; 2],
    missing_sessions: Vec<NaiveDate>,
}

impl DailyPanel {
    /// A panel of `symbol` from raw rows, validated: dates strictly ascending and NYSE sessions,
    /// prices finite and positive, volume finite and ≥ 0. Sessions between the first and last
    /// row that have no row become missing rows (see the module docs).
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] naming the series, the field and the date; an empty input.
    pub fn from_rows(symbol: &str, rows: &[BarRow], provenance: Provenance) -> Result<Self> {
        let series = format!("{symbol} bars");
        let bad = |reason: String| FeatureError::BadInput {
            series: series.clone(),
            reason,
        };
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Err(bad("no rows".to_owned()));
        };
        for pair in rows.windows(2) {
            if pair[1].date <= pair[0].date {
                return Err(bad(format!(
                    "dates not strictly ascending: {} follows {}",
                    pair[1].date, pair[0].date
                )));
            }
        }
        for r in rows {
            for (field, x) in [
                ("open", r.open),
                ("high", r.high),
                ("low", r.low),
                ("close", r.close),
            ] {
                if !(x.is_finite() && x > 0.0) {
                    return Err(bad(format!(
                        "{field} on {} is {x}: prices must be finite and positive",
                        r.date
                    )));
                }
            }
            if r.high < r.open.max(r.close).max(r.low) || r.low > r.open.min(r.close) {
                return Err(bad(format!(
                    "on {} high {} / low {} do not bracket open {} and close {}",
                    r.date, r.high, r.low, r.open, r.close
                )));
            }
            if let Some(v) = r.volume
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(bad(format!(
                    "volume on {} is {v}: must be finite and ≥ 0",
                    r.date
                )));
            }
        }
        let cal = NyseCalendar;
        let dates = cal.sessions_between(first.date, last.date)?;
        let mut ohlcv: [Vec<Option<f64>>; 5] = std::array::from_fn(|_| vec![None; dates.len()]);
        let mut missing_sessions = Vec::new();
        let mut it = rows.iter().peekable();
        for (i, d) in dates.iter().enumerate() {
            match it.peek() {
                Some(r) if r.date == *d => {
                    ohlcv[0][i] = Some(r.open);
                    ohlcv[1][i] = Some(r.high);
                    ohlcv[2][i] = Some(r.low);
                    ohlcv[3][i] = Some(r.close);
                    ohlcv[4][i] = r.volume;
                    it.next();
                }
                Some(r) if r.date < *d => {
                    return Err(bad(format!("{} is not an NYSE session", r.date)));
                }
                _ => missing_sessions.push(*d),
            }
        }
        if let Some(r) = it.next() {
            return Err(bad(format!("{} is not an NYSE session", r.date)));
        }
        let mut sources = BTreeMap::new();
        sources.insert(Source::Bars, provenance);
        Ok(Self {
            symbol: symbol.to_owned(),
            dates,
            ohlcv,
            aux: BTreeMap::new(),
            sources,
            peer_names: [None, None],
            missing_sessions,
        })
    }

    /// A panel from validated bars; `with_volume` false when the source had no volume.
    ///
    /// # Errors
    /// As [`DailyPanel::from_rows`].
    pub fn from_bars(
        symbol: &Underlying,
        bars: &[DailyBar],
        with_volume: bool,
        provenance: Provenance,
    ) -> Result<Self> {
        let rows: Vec<BarRow> = bars
            .iter()
            .map(|b| BarRow::from_bar(b, with_volume))
            .collect();
        Self::from_rows(symbol.as_str(), &rows, provenance)
    }

    /// The underlying.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    /// The session grid, ascending.
    #[must_use]
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// Sessions of the grid with no bar.
    #[must_use]
    pub fn missing_sessions(&self) -> &[NaiveDate] {
        &self.missing_sessions
    }

    /// The provenance of each source (missing sources are [`Provenance::Missing`]).
    #[must_use]
    pub fn sources(&self) -> BTreeMap<Source, Provenance> {
        Source::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    self.sources.get(s).copied().unwrap_or(Provenance::Missing),
                )
            })
            .collect()
    }

    /// The peers' symbols (slot 1, slot 2), where set.
    #[must_use]
    pub fn peer_names(&self) -> [Option<&str>; 2] {
        [self.peer_names[0].as_deref(), self.peer_names[1].as_deref()]
    }

    /// Joins a daily series on the exact date (see the module docs); NaN is missing,
    /// non-finite or non-positive values are errors when `positive`.
    fn join_exact(
        &self,
        series: &str,
        points: &[(NaiveDate, f64)],
        positive: bool,
    ) -> Result<Vec<Option<f64>>> {
        check_ascending(series, points.iter().map(|p| p.0))?;
        let mut out = vec![None; self.dates.len()];
        let mut j = 0;
        for (i, d) in self.dates.iter().enumerate() {
            while j < points.len() && points[j].0 < *d {
                j += 1;
            }
            if j < points.len() && points[j].0 == *d {
                let x = points[j].1;
                if x.is_nan() {
                    continue;
                }
                if !x.is_finite() || (positive && x <= 0.0) || x < 0.0 {
                    return Err(FeatureError::BadInput {
                        series: series.to_owned(),
                        reason: format!(
                            "value on {d} is {x}: must be finite and {}",
                            if positive { "positive" } else { "≥ 0" }
                        ),
                    });
                }
                out[i] = Some(x);
            }
        }
        Ok(out)
    }

    /// Adds a CBOE index's closes (index points).
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] for dates out of order or a non-positive or infinite value.
    pub fn with_index(
        mut self,
        series: IndexSeries,
        closes: &[(NaiveDate, f64)],
        provenance: Provenance,
    ) -> Result<Self> {
        let col = self.join_exact(series.source().name(), closes, true)?;
        self.aux.insert(series.column(), col);
        self.sources.insert(series.source(), provenance);
        Ok(self)
    }

    /// Adds a CBOE index from imported records (their closes).
    ///
    /// # Errors
    /// As [`DailyPanel::with_index`].
    pub fn with_index_records(
        self,
        series: IndexSeries,
        records: &[IndexRecord],
        provenance: Provenance,
    ) -> Result<Self> {
        let closes: Vec<(NaiveDate, f64)> = records.iter().map(|r| (r.date, r.close)).collect();
        self.with_index(series, &closes, provenance)
    }

    /// Adds the risk-free rate (continuously compounded, per 1.0) by an as-of join of at most
    /// [`RATE_MAX_STALENESS_DAYS`] calendar days.
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] for dates out of order.
    pub fn with_rate(mut self, rates: &ImportedRates, provenance: Provenance) -> Result<Self> {
        let points: Vec<(NaiveDate, f64)> = rates
            .observations
            .iter()
            .filter_map(|o| o.continuous.map(|r| (o.date, r)))
            .collect();
        check_ascending("rate", points.iter().map(|p| p.0))?;
        let mut out = vec![None; self.dates.len()];
        let mut j = 0;
        for (i, d) in self.dates.iter().enumerate() {
            while j + 1 < points.len() && points[j + 1].0 <= *d {
                j += 1;
            }
            if let Some((pd, r)) = points.get(j)
                && *pd <= *d
                && (*d - *pd).num_days() <= RATE_MAX_STALENESS_DAYS
                && r.is_finite()
            {
                out[i] = Some(*r);
            }
        }
        self.aux.insert("rate", out);
        self.sources.insert(Source::Rate, provenance);
        Ok(self)
    }

    /// Adds a peer underlying's closes (split-adjusted, US dollars) in slot 1 or 2, for the
    /// cross-asset features.
    ///
    /// # Errors
    /// [`FeatureError::InvalidConfig`] for a slot other than 1 or 2;
    /// [`FeatureError::BadInput`] for dates out of order or a non-positive price.
    pub fn with_peer(
        mut self,
        slot: usize,
        name: &str,
        closes: &[(NaiveDate, f64)],
        provenance: Provenance,
    ) -> Result<Self> {
        let (source, column) = match slot {
            1 => (Source::Peer1, "peer1_close"),
            2 => (Source::Peer2, "peer2_close"),
            _ => {
                return Err(FeatureError::InvalidConfig {
                    field: "peer slot",
                    value: slot.to_string(),
                    requirement: "1 or 2",
                });
            }
        };
        let col = self.join_exact(&format!("{name} closes"), closes, true)?;
        self.aux.insert(column, col);
        self.sources.insert(source, provenance);
        self.peer_names[slot - 1] = Some(name.to_owned());
        Ok(self)
    }

    /// Adds CBOE's total, equity and index put/call ratios.
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] if a column is absent, dates are out of order or a ratio is
    /// negative or infinite.
    pub fn with_put_call(mut self, ratios: &PutCallRatios, provenance: Provenance) -> Result<Self> {
        for (file_col, column) in PUT_CALL_COLUMNS {
            let k = ratios
                .columns
                .iter()
                .position(|c| c == file_col)
                .ok_or_else(|| FeatureError::BadInput {
                    series: "put/call ratios".to_owned(),
                    reason: format!("no column {file_col}"),
                })?;
            let points: Vec<(NaiveDate, f64)> = ratios
                .days
                .iter()
                .map(|d| {
                    (
                        d.date,
                        d.ratios.get(k).copied().flatten().unwrap_or(f64::NAN),
                    )
                })
                .collect();
            let col = self.join_exact(file_col, &points, false)?;
            self.aux.insert(column, col);
        }
        self.sources.insert(Source::PutCall, provenance);
        Ok(self)
    }

    /// Adds the underlying's option-chain summaries (one per day at most), joined on the date.
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] for dates out of order or repeated, a summary of another
    /// underlying, or an infinite metric.
    pub fn with_chains(mut self, chains: &[ChainSummary], provenance: Provenance) -> Result<Self> {
        check_ascending("chain summaries", chains.iter().map(|c| c.date))?;
        if let Some(c) = chains.iter().find(|c| c.underlying.as_str() != self.symbol) {
            return Err(FeatureError::BadInput {
                series: "chain summaries".to_owned(),
                reason: format!(
                    "summary of {} on {} in the panel of {}",
                    c.underlying, c.date, self.symbol
                ),
            });
        }
        for (column, get) in CHAIN_COLUMNS {
            let points: Vec<(NaiveDate, f64)> = chains
                .iter()
                .map(|c| (c.date, get(c).unwrap_or(f64::NAN)))
                .collect();
            // Risk reversals, skew slopes, term slopes and GEX may be negative.
            let mut col = vec![None; self.dates.len()];
            let mut j = 0;
            for (i, d) in self.dates.iter().enumerate() {
                while j < points.len() && points[j].0 < *d {
                    j += 1;
                }
                if let Some((pd, x)) = points.get(j)
                    && pd == d
                    && !x.is_nan()
                {
                    if !x.is_finite() {
                        return Err(FeatureError::BadInput {
                            series: "chain summaries".to_owned(),
                            reason: format!("{column} on {d} is {x}"),
                        });
                    }
                    col[i] = Some(*x);
                }
            }
            self.aux.insert(column, col);
        }
        self.sources.insert(Source::Chains, provenance);
        Ok(self)
    }

    /// The panel as a polars frame: `date`, OHLCV, every auxiliary column (all null for a
    /// source not supplied) and the calendar columns `cal_*` (see [`calendar_columns`]).
    ///
    /// # Errors
    /// [`FeatureError::Core`] if a date is outside the calendar's range (1990–2099 less the
    /// look-forward to the next expiry); [`FeatureError::Polars`] if polars fails.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let n = self.dates.len();
        let mut columns: Vec<Column> = Vec::with_capacity(48);
        let dates: Vec<i32> = self.dates.iter().map(|d| days_since_epoch(*d)).collect();
        columns.push(
            Series::new("date".into(), dates)
                .cast(&DataType::Date)?
                .into(),
        );
        for (name, col) in ["open", "high", "low", "close", "volume"]
            .iter()
            .zip(&self.ohlcv)
        {
            columns.push(Series::new((*name).into(), col.clone()).into());
        }
        for name in aux_columns() {
            let col = self.aux.get(name).cloned().unwrap_or_else(|| vec![None; n]);
            columns.push(Series::new(name.into(), col).into());
        }
        for (name, col) in calendar_columns(&self.dates)? {
            columns.push(Series::new(name.into(), col).into());
        }
        Ok(DataFrame::new(n, columns)?)
    }
}

/// Every auxiliary column of the panel frame, in order.
pub(crate) fn aux_columns() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = IndexSeries::ALL.iter().map(|s| s.column()).collect();
    v.extend(["rate", "peer1_close", "peer2_close"]);
    v.extend(PUT_CALL_COLUMNS.iter().map(|c| c.1));
    v.extend(CHAIN_COLUMNS.iter().map(|c| c.0));
    v
}

fn check_ascending(series: &str, dates: impl Iterator<Item = NaiveDate>) -> Result<()> {
    let mut prev: Option<NaiveDate> = None;
    for d in dates {
        if let Some(p) = prev
            && d <= p
        {
            return Err(FeatureError::BadInput {
                series: series.to_owned(),
                reason: format!("dates not strictly ascending: {d} follows {p}"),
            });
        }
        prev = Some(d);
    }
    Ok(())
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    // Polars' Date is days since 1970-01-01.
    d.num_days_from_ce() - 719_163
}

/// Calendar columns of a session grid, computed from the NYSE calendar and the monthly
/// expiries (facts known in advance, not market data): `cal_dow` (1 = Monday … 5),
/// `cal_month`, `cal_day`, `cal_quarter`, `cal_sessions_to_opex` and `cal_days_to_opex`
/// (sessions and calendar days to the next standard monthly expiry, 0 on it),
/// `cal_opex_week` (1 in the week of a monthly expiry), `cal_days_to_holiday` (calendar
/// days to the next weekday exchange holiday), `cal_pre_holiday` (1 if the next weekday is a
/// holiday), `cal_tdom` (session of the month, 1-based), `cal_tdleft` (sessions left in the
/// month after this one), `cal_sessions_to_qend` (sessions to the quarter's last session),
/// `cal_gap_days` (calendar days since the previous session).
///
/// # Errors
/// [`FeatureError::Core`] outside the calendar's range.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the grid, column by column"
)]
pub fn calendar_columns(dates: &[NaiveDate]) -> Result<Vec<(&'static str, Vec<f64>)>> {
    let cal = NyseCalendar;
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return Ok(Vec::new());
    };
    // Every day from a week before the first date's month to 100 days after the last: long
    // enough to reach back to the month's first session and the previous session, and
    // forward to the next monthly expiry, holiday and quarter end.
    let lo = first.with_day(1).unwrap_or(first) - chrono::Days::new(7);
    let hi = last + chrono::Days::new(100);
    let days: Vec<NaiveDate> = lo.iter_days().take_while(|d| *d <= hi).collect();
    let mut session = Vec::with_capacity(days.len());
    let mut holiday = Vec::with_capacity(days.len());
    for d in &days {
        session.push(cal.is_session(*d)?);
        holiday.push(cal.holiday(*d)?.is_some());
    }
    let index_of = |d: NaiveDate| (d - lo).num_days() as usize;
    // Monthly expiries from the first month to three months after the last.
    let mut opex = Vec::new();
    let (mut y, mut m) = (first.year(), first.month());
    loop {
        let e = expiry::monthly_expiry(cal, y, m)?;
        opex.push(e);
        if e > last {
            break;
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    // Sessions counted from `lo`: sessions_up_to[i] = sessions in days[..=i].
    let mut sessions_up_to = Vec::with_capacity(days.len());
    let mut acc = 0_i64;
    for s in &session {
        acc += i64::from(*s);
        sessions_up_to.push(acc);
    }
    let sessions_between = |a: NaiveDate, b: NaiveDate| -> f64 {
        (sessions_up_to[index_of(b)] - sessions_up_to[index_of(a)]) as f64
    };
    let n = dates.len();
    let mut cols: Vec<(&'static str, Vec<f64>)> = [
        "cal_dow",
        "cal_month",
        "cal_day",
        "cal_quarter",
        "cal_sessions_to_opex",
        "cal_days_to_opex",
        "cal_opex_week",
        "cal_days_to_holiday",
        "cal_pre_holiday",
        "cal_tdom",
        "cal_tdleft",
        "cal_sessions_to_qend",
        "cal_gap_days",
    ]
    .into_iter()
    .map(|name| (name, Vec::with_capacity(n)))
    .collect();
    let mut k = 0;
    for &d in dates {
        while opex[k] < d {
            k += 1;
        }
        let e = opex[k];
        let i = index_of(d);
        let next_holiday = (i + 1..days.len()).find(|&j| holiday[j]);
        let days_to_holiday = next_holiday.map_or(f64::NAN, |j| (j - i) as f64);
        let next_weekday = (i + 1..days.len())
            .find(|&j| days[j].weekday().number_from_monday() <= 5)
            .is_some_and(|j| holiday[j]);
        let month_start = d.with_day(1).unwrap_or(d);
        let tdom = sessions_up_to[i] - sessions_up_to[index_of(month_start)]
            + i64::from(session[index_of(month_start)]);
        let next_month = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        }
        .unwrap_or(d);
        let month_end = next_month.pred_opt().unwrap_or(d);
        let q_end_month = d.month().div_ceil(3) * 3;
        let q_end = if q_end_month == 12 {
            NaiveDate::from_ymd_opt(d.year(), 12, 31)
        } else {
            NaiveDate::from_ymd_opt(d.year(), q_end_month + 1, 1).and_then(|x| x.pred_opt())
        }
        .unwrap_or(d);
        let prev = (0..i).rev().find(|&j| session[j]);
        let week_monday = d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()));
        let opex_week = opex
            .iter()
            .any(|x| *x >= week_monday && (*x - week_monday).num_days() < 7);
        let values = [
            f64::from(d.weekday().number_from_monday()),
            f64::from(d.month()),
            f64::from(d.day()),
            f64::from(d.month().div_ceil(3)),
            sessions_between(d, e),
            (e - d).num_days() as f64,
            f64::from(u8::from(opex_week)),
            days_to_holiday,
            f64::from(u8::from(next_weekday)),
            tdom as f64,
            sessions_between(d, month_end),
            sessions_between(d, q_end),
            prev.map_or(f64::NAN, |j| (i - j) as f64),
        ];
        for (c, v) in cols.iter_mut().zip(values) {
            c.1.push(v);
        }
    }
    Ok(cols)
}

/// What [`load_from_dir`] reads besides the underlying's bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Peer underlyings for the cross-asset features (at most two), by symbol.
    pub peers: Vec<String>,
    /// Read VIX, VIX3M, VIX9D, VVIX and SKEW.
    pub indices: bool,
    /// Read the fed funds rate (DFF: it covers every date of the bar files; DTB3 starts 2006).
    pub rate: bool,
    /// Read CBOE's put/call ratios.
    pub put_call: bool,
}

impl LoadOptions {
    /// Everything, with the other two of SPY, QQQ and IWM as peers.
    #[must_use]
    pub fn full(symbol: &str) -> Self {
        Self {
            peers: default_peers(symbol),
            indices: true,
            rate: true,
            put_call: true,
        }
    }
}

/// The peers of SPY, QQQ and IWM: the other two, in the order SPY, QQQ, IWM (slot 1 first).
#[must_use]
pub fn default_peers(symbol: &str) -> Vec<String> {
    ["SPY", "QQQ", "IWM"]
        .iter()
        .filter(|s| **s != symbol)
        .map(|s| (*s).to_owned())
        .collect()
}

/// Split-adjusted bars of `symbol` from its raw daily bars in the data folder
/// ([`DataDir::daily_bars`]), up to `end` (prices are not dividend-adjusted: returns omit
/// dividends, ~2 % a year for SPY).
///
/// # Errors
/// [`FeatureError::Data`] if the file cannot be read or parsed.
pub fn load_bars(data: &DataDir, symbol: &str, end: NaiveDate) -> Result<(Vec<DailyBar>, bool)> {
    let imported = import_bars(&data.daily_bars(symbol), Some(BarFormat::AlphaVantageDaily))?;
    let und = Underlying::try_new(symbol)?;
    let bars = split_adjust(&und, &imported.bars, &known_splits())?;
    Ok((
        bars.into_iter().filter(|b| b.date <= end).collect(),
        imported.has_volume,
    ))
}

/// Loads a panel from the shared data folder's files: the bars of `symbol` up to `end`
/// (all the history before, for the warm-up), and what `options` asks for. Every source is
/// tagged [`Provenance::RealFile`].
///
/// # Errors
/// [`FeatureError::Data`] for a file that cannot be read or parsed; as the `with_*`
/// methods of [`DailyPanel`].
pub fn load_from_dir(
    data: &DataDir,
    symbol: &str,
    end: NaiveDate,
    options: &LoadOptions,
) -> Result<DailyPanel> {
    check_peer_count(options)?;
    let (bars, with_volume) = load_bars(data, symbol, end)?;
    let und = Underlying::try_new(symbol)?;
    let mut panel = DailyPanel::from_bars(&und, &bars, with_volume, Provenance::RealFile)?;
    if options.indices {
        for s in IndexSeries::ALL {
            let imported = import_index(&data.cboe_index(s.symbol()), None)?;
            panel = panel.with_index_records(s, &imported.records, Provenance::RealFile)?;
        }
    }
    if options.rate {
        let rates = import_rates(&data.fred_rate(RateSeries::Dff), Some(RateSeries::Dff))?;
        panel = panel.with_rate(&rates, Provenance::RealFile)?;
    }
    for (k, peer) in options.peers.iter().enumerate() {
        let (bars, _) = load_bars(data, peer, end)?;
        let closes: Vec<(NaiveDate, f64)> = bars
            .iter()
            .map(|b| (b.date, b.ohlcv.close().to_f64()))
            .collect();
        panel = panel.with_peer(k + 1, peer, &closes, Provenance::RealFile)?;
    }
    if options.put_call {
        let ratios = import_put_call_ratios(&data.put_call_ratios())?;
        panel = panel.with_put_call(&ratios, Provenance::RealFile)?;
    }
    Ok(panel)
}

/// The first date a read of the whole history asks a store for: before anything it can hold.
pub(crate) const STORE_HISTORY_START: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01 is a date"),
};

/// The last date a read of a whole series asks a store for.
const STORE_HISTORY_END: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31 is a date"),
};

/// Loads a panel from a market store, as [`load_from_dir`] does from the data folder: the bars
/// of `symbol` up to `end` (all the history before, for the warm-up) and what `options` asks
/// for — the CBOE indices and the put/call ratios as the store's index series (`VIX`, …,
/// [`PUT_CALL_SERIES`]), the fed funds rate (DFF), the
/// peers' bars. A store built from the data folder (`volta-data import-dir`, split-adjusted,
/// the default) gives exactly [`load_from_dir`]'s panel; every source is tagged
/// [`Provenance::Store`].
///
/// # Errors
/// [`FeatureError::Data`] if the store fails; [`FeatureError::BadInput`] naming the series
/// when the store holds none of it (a store built before it was imported: import the data
/// folder again), or no bars or rates up to `end`; as the `with_*` methods of [`DailyPanel`].
pub fn load_from_store(
    store: &dyn MarketStore,
    symbol: &str,
    end: NaiveDate,
    options: &LoadOptions,
) -> Result<DailyPanel> {
    check_peer_count(options)?;
    let absent = |series: &str| FeatureError::BadInput {
        series: series.to_owned(),
        reason: format!(
            "the store holds none up to {end}: import it (volta-data import-dir imports the \
             data folder)"
        ),
    };
    let und = Underlying::try_new(symbol)?;
    let bars = store.daily_bars(&und, STORE_HISTORY_START, end)?;
    if bars.is_empty() {
        return Err(absent(&format!("{symbol} bars")));
    }
    let with_volume = bars.iter().any(|b| b.ohlcv.volume() > 0);
    let mut panel = DailyPanel::from_bars(&und, &bars, with_volume, Provenance::Store)?;
    // A series that starts after `end` (the put/call ratios in 2019, VIX9D in 2011) leaves its
    // features NaN there, as the folder's files do; one the store never got is refused.
    let index = |name: &str| -> Result<Vec<IndexRecord>> {
        let symbol = Underlying::try_new(name)?;
        let records = store.index_values(&symbol, STORE_HISTORY_START, end)?;
        if records.is_empty()
            && store
                .index_values(&symbol, end, STORE_HISTORY_END)?
                .is_empty()
        {
            return Err(absent(name));
        }
        Ok(records)
    };
    if options.indices {
        for s in IndexSeries::ALL {
            panel = panel.with_index_records(s, &index(s.source().name())?, Provenance::Store)?;
        }
    }
    if options.rate {
        let observations = store.rates(RateSeries::Dff, STORE_HISTORY_START, end)?;
        if observations.is_empty() {
            return Err(absent("DFF"));
        }
        let rates = ImportedRates {
            series: RateSeries::Dff,
            observations,
            flags: Vec::new(),
        };
        panel = panel.with_rate(&rates, Provenance::Store)?;
    }
    for (k, peer) in options.peers.iter().enumerate() {
        let closes: Vec<(NaiveDate, f64)> = store
            .daily_bars(&Underlying::try_new(peer)?, STORE_HISTORY_START, end)?
            .iter()
            .map(|b| (b.date, b.ohlcv.close().to_f64()))
            .collect();
        if closes.is_empty() {
            return Err(absent(&format!("{peer} bars")));
        }
        panel = panel.with_peer(k + 1, peer, &closes, Provenance::Store)?;
    }
    if options.put_call {
        let series = PUT_CALL_SERIES
            .iter()
            .map(|(column, symbol)| Ok(((*column).to_owned(), index(symbol)?)))
            .collect::<Result<Vec<_>>>()?;
        panel = panel.with_put_call(&PutCallRatios::from_series(&series), Provenance::Store)?;
    }
    Ok(panel)
}

fn check_peer_count(options: &LoadOptions) -> Result<()> {
    if options.peers.len() > 2 {
        return Err(FeatureError::InvalidConfig {
            field: "peers",
            value: options.peers.join(","),
            requirement: "at most two symbols",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn row(date: NaiveDate, c: f64) -> BarRow {
        BarRow {
            date,
            open: c,
            high: c * 1.01,
            low: c * 0.99,
            close: c,
            volume: Some(1000.0),
        }
    }

    #[test]
    fn a_gap_becomes_a_missing_row_not_a_shift() {
        // 2024-01-02..05 are sessions; drop the 3rd.
        let rows = [
            row(d(2024, 1, 2), 100.0),
            row(d(2024, 1, 4), 101.0),
            row(d(2024, 1, 5), 102.0),
        ];
        let p = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile).unwrap();
        assert_eq!(p.dates().len(), 4);
        assert_eq!(p.missing_sessions(), &[d(2024, 1, 3)]);
        assert_eq!(
            p.ohlcv[3],
            vec![Some(100.0), None, Some(101.0), Some(102.0)]
        );
    }

    #[test]
    fn a_weekend_bar_is_an_error_naming_the_date() {
        let rows = [row(d(2024, 1, 5), 100.0), row(d(2024, 1, 6), 101.0)];
        let e = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile).unwrap_err();
        assert!(
            e.to_string().contains("2024-01-06 is not an NYSE session"),
            "{e}"
        );
    }

    #[test]
    fn rates_are_carried_at_most_seven_days() {
        let rows: Vec<BarRow> = NyseCalendar
            .sessions_between(d(2024, 1, 2), d(2024, 1, 31))
            .unwrap()
            .into_iter()
            .map(|x| row(x, 100.0))
            .collect();
        let p = DailyPanel::from_rows("SPY", &rows, Provenance::RealFile).unwrap();
        let obs = |date, r| volta_data::import::RateObservation {
            date,
            published_percent: Some(r * 100.0),
            continuous: Some(r),
        };
        let rates = ImportedRates {
            series: RateSeries::Dff,
            observations: vec![obs(d(2024, 1, 3), 0.05)],
            flags: vec![],
        };
        let p = p.with_rate(&rates, Provenance::RealFile).unwrap();
        let col = &p.aux["rate"];
        // Jan 2 is before the observation (never back-filled); Jan 3..10 within 7 days.
        assert_eq!(col[0], None);
        assert_eq!(col[1], Some(0.05));
        let jan10 = p.dates().iter().position(|x| *x == d(2024, 1, 10)).unwrap();
        assert_eq!(col[jan10], Some(0.05));
        assert_eq!(col[jan10 + 1], None);
    }

    #[test]
    fn calendar_columns_on_known_dates() {
        // 2024-03-15 was the March monthly expiry (third Friday); 2024-03-29 Good Friday.
        let dates = NyseCalendar
            .sessions_between(d(2024, 3, 11), d(2024, 3, 28))
            .unwrap();
        let cols: BTreeMap<_, _> = calendar_columns(&dates).unwrap().into_iter().collect();
        let at = |name: &str, date| cols[name][dates.iter().position(|x| *x == date).unwrap()];
        assert_eq!(at("cal_sessions_to_opex", d(2024, 3, 11)), 4.0);
        assert_eq!(at("cal_days_to_opex", d(2024, 3, 15)), 0.0);
        assert_eq!(at("cal_opex_week", d(2024, 3, 11)), 1.0);
        assert_eq!(at("cal_opex_week", d(2024, 3, 18)), 0.0);
        assert_eq!(at("cal_days_to_holiday", d(2024, 3, 28)), 1.0);
        assert_eq!(at("cal_pre_holiday", d(2024, 3, 28)), 1.0);
        assert_eq!(at("cal_pre_holiday", d(2024, 3, 27)), 0.0);
        // 2024-03-28 is the quarter's last session (03-29 is Good Friday).
        assert_eq!(at("cal_sessions_to_qend", d(2024, 3, 28)), 0.0);
        assert_eq!(at("cal_tdleft", d(2024, 3, 28)), 0.0);
        assert_eq!(at("cal_tdom", d(2024, 3, 11)), 7.0);
        assert_eq!(at("cal_gap_days", d(2024, 3, 18)), 3.0);
        assert_eq!(at("cal_dow", d(2024, 3, 15)), 5.0);
    }
}
