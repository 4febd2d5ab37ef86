//! How faithful the modelled chains are (issue 16 §2): every real chain of the shared data
//! (SPX 2019 Cboe, the SPY 2021 sample, SPX 2011 iVolatility, SPX 2015 `QuantConnect`) priced
//! by the modelled chain of its day — the chain's own underlying price, that day's VIX, VIX9D,
//! VIX3M, SKEW and DTB3 — and the error reported in vol points (modelled IV − the vendor's IV)
//! by delta bucket × days to expiry, with the relative error of the bid/ask spread.
//!
//! Two models through one code path ([`SyntheticMarket::from_history_with`], then
//! [`Smile::quote`]): **before**, the VIX alone and the hand-set linear spreads
//! ([`VolHistory::vix_only`], the config's defaults: what the backtests on the real history
//! used before issue 16); **after**, every index and the fitted spreads
//! ([`SyntheticConfig::with_fitted_spreads`]). Which quotes count: out of the money (calls at or
//! above the underlying, puts below), the vendor's IV in (0.02, 2), its call delta (a put's
//! delta + 1) in (0.05, 0.95), at least one calendar day to expiry; spreads where the real bid
//! is above 0 and below the ask.
//!
//! It also measures the variance risk premium of the real data and of the synthetic market
//! ([`measure_vrp`]). The `volta-data calibrate-chains` command writes the report.

use std::path::Path;

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use volta_core::chain_analytics::MINUTES_PER_YEAR;
use volta_core::{DailyBar, OptionRight, Price, Underlying};

use crate::DataDir;
use crate::error::{DataError, Result};
use crate::import::{
    ChainDay, ChainRequest, RateSeries, import_bars, import_chains, import_index, import_rates,
};
use crate::synthetic::{
    FittedSpreads, ModelParams, Smile, SyntheticConfig, SyntheticMarket, VolHistory,
};
use volta_pricing::{Vanilla, bsm};

pub mod shape;

pub use shape::{
    SYNTHETIC_SHAPE_END, SYNTHETIC_SHAPE_START, SYNTHETIC_SHAPE_STRIDE, ShapeCell, ShapeErrors,
};
use shape::{ShapeAcc, synthetic_shape};

/// Call-delta buckets, (low, high, label): the lower bound is inclusive.
pub const DELTA_BUCKETS: [(f64, f64, &str); 5] = [
    (0.05, 0.15, "0.05-0.15"),
    (0.15, 0.35, "0.15-0.35"),
    (0.35, 0.65, "0.35-0.65"),
    (0.65, 0.85, "0.65-0.85"),
    (0.85, 0.95, "0.85-0.95"),
];

/// Days-to-expiry buckets (calendar days, both bounds inclusive).
pub const DAYS_BUCKETS: [(i64, i64, &str); 4] = [
    (1, 7, "1-7"),
    (8, 30, "8-30"),
    (31, 90, "31-90"),
    (91, i64::MAX, "91+"),
];

/// The error of one group of quotes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Quotes in the group.
    pub quotes: usize,
    /// Mean of modelled − real, vol points (or relative, for spreads).
    pub mean: f64,
    /// Root mean square of modelled − real, same unit.
    pub rms: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: usize,
    sum: f64,
    sum_sq: f64,
}

impl Acc {
    fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    fn merge(&mut self, o: &Self) {
        self.n += o.n;
        self.sum += o.sum;
        self.sum_sq += o.sum_sq;
    }

    fn stats(&self) -> ErrorStats {
        if self.n == 0 {
            return ErrorStats::default();
        }
        let n = self.n as f64;
        ErrorStats {
            quotes: self.n,
            mean: self.sum / n,
            rms: (self.sum_sq / n).sqrt(),
        }
    }
}

/// One cell of the delta × days table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The delta bucket's label.
    pub delta: &'static str,
    /// The days bucket's label.
    pub days: &'static str,
    /// The vol error in the cell, vol points.
    pub vol: ErrorStats,
}

/// One model's errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelErrors {
    /// Vol error per delta × days cell (empty cells left out), delta-major.
    pub cells: Vec<Cell>,
    /// Vol error over every quote, vol points.
    pub vol: ErrorStats,
    /// Vol error per source, vol points.
    pub vol_by_source: Vec<(String, ErrorStats)>,
    /// Relative spread error (modelled − real) / real over every quote with a real spread.
    pub spread: ErrorStats,
    /// Relative spread error per source.
    pub spread_by_source: Vec<(String, ErrorStats)>,
}

impl ModelErrors {
    /// The cell of `delta` × `days` labels.
    #[must_use]
    pub fn cell(&self, delta: &str, days: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.delta == delta && c.days == days)
    }
}

/// A real chain source read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    /// Its name (`SPX 2019`, …).
    pub name: String,
    /// Days read.
    pub days: usize,
    /// Quotes that count (see the module docs).
    pub quotes: usize,
}

/// The variance risk premium of a volatility index against the realised vol that followed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VrpMeasure {
    /// First session counted (ISO date).
    pub from: String,
    /// Last session counted (ISO date).
    pub to: String,
    /// Sessions with both the index and a full forward window.
    pub sessions: usize,
    /// Mean of the index, vol points.
    pub index_mean: f64,
    /// Mean of the realised vol over the next [`VRP_HORIZON_SESSIONS`], vol points.
    pub realised_mean: f64,
    /// `index_mean − realised_mean`, vol points.
    pub gap: f64,
}

/// The forward window of [`measure_vrp`]: 21 sessions, the VIX's 30 calendar days.
pub const VRP_HORIZON_SESSIONS: usize = 21;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationReport {
    /// The sources read.
    pub sources: Vec<SourceInfo>,
    /// The VIX alone, the linear spreads.
    pub before: ModelErrors,
    /// VIX9D/VIX/VIX3M, SKEW, DTB3 and the fitted spreads.
    pub after: ModelErrors,
    /// The shape ([`shape`]) of the modelled chains (after) on the real quotes.
    pub shape_modelled: ShapeErrors,
    /// The shape of `just backtest`'s generated market with its own chains (the model's term
    /// structure and slope, the linear spreads): [`backtest_synthetic_config`]`(false)`.
    pub shape_synthetic_before: ShapeErrors,
    /// The same market with the surface through its VIX-family indices and the fitted spreads:
    /// [`backtest_synthetic_config`]`(true)`.
    pub shape_synthetic_after: ShapeErrors,
    /// The real VRP: VIX against ^GSPC's realised vol, 1990-2018.
    pub real_vrp: VrpMeasure,
    /// The synthetic market's VRP with the default premium ([`synthetic_vrp`]).
    pub synthetic_vrp: VrpMeasure,
    /// The premium ([`ModelParams::variance_risk_premium`]) whose synthetic gap equals the
    /// real one ([`premium_for_gap`]).
    pub matching_premium: f64,
    /// The synthetic market's VRP at that premium.
    pub synthetic_vrp_matched: VrpMeasure,
}

/// The synthetic market's variance risk premium at `premium`: its VIX-like index against its
/// own realised vol ([`measure_vrp`]) over fifty years (2000-2049, the default config, seed
/// 42). The premium moves only the index: the path is the same for every premium.
///
/// # Errors
/// The errors of [`SyntheticMarket::generate`] (a premium of −1 or below).
pub fn synthetic_vrp(premium: f64) -> Result<VrpMeasure> {
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    let mut config = SyntheticConfig {
        start: ymd(2000, 1, 3),
        end: ymd(2049, 12, 31),
        ..SyntheticConfig::default()
    };
    config.model.variance_risk_premium = premium;
    let market = SyntheticMarket::generate(&config)?;
    let vix: Vec<(NaiveDate, f64)> = market.days().iter().map(|d| (d.bar.date, d.vix)).collect();
    let closes: Vec<(NaiveDate, f64)> = market
        .days()
        .iter()
        .map(|d| (d.bar.date, d.bar.ohlcv.close().to_f64()))
        .collect();
    Ok(measure_vrp(&vix, &closes, config.start, config.end))
}

/// The premium whose [`synthetic_vrp`] gap is `gap` vol points, by bisection on \[−0.5, 3\]
/// to 10⁻⁴ (the gap rises with the premium).
///
/// # Errors
/// As [`synthetic_vrp`].
pub fn premium_for_gap(gap: f64) -> Result<f64> {
    let (mut lo, mut hi) = (-0.5, 3.0);
    while hi - lo > 1e-4 {
        let mid = f64::midpoint(lo, hi);
        if synthetic_vrp(mid)?.gap < gap {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(f64::midpoint(lo, hi))
}

/// The variance risk premium: for each session from `from` to `to` with an index close and
/// [`VRP_HORIZON_SESSIONS`] closes after it, the index against the realised vol of the next 21
/// close-to-close log returns (√(252 · mean r²)); the report gives the means of both, in vol
/// points. `index` in points, ascending; `closes` ascending.
#[must_use]
pub fn measure_vrp(
    index: &[(NaiveDate, f64)],
    closes: &[(NaiveDate, f64)],
    from: NaiveDate,
    to: NaiveDate,
) -> VrpMeasure {
    let h = VRP_HORIZON_SESSIONS;
    let (mut n, mut sum_index, mut sum_rv) = (0usize, 0.0, 0.0);
    let (mut first, mut last) = (None, None);
    for (i, (date, _)) in closes.iter().enumerate() {
        if *date < from || *date > to || i + h >= closes.len() {
            continue;
        }
        let Ok(j) = index.binary_search_by_key(date, |(d, _)| *d) else {
            continue;
        };
        let sum_sq: f64 = closes[i..=i + h]
            .windows(2)
            .map(|w| (w[1].1 / w[0].1).ln().powi(2))
            .sum();
        sum_rv += (252.0 * sum_sq / h as f64).sqrt() * 100.0;
        sum_index += index[j].1;
        n += 1;
        first = first.or(Some(*date));
        last = Some(*date);
    }
    let d = n.max(1) as f64;
    VrpMeasure {
        from: first.unwrap_or(from).to_string(),
        to: last.unwrap_or(to).to_string(),
        sessions: n,
        index_mean: sum_index / d,
        realised_mean: sum_rv / d,
        gap: (sum_index - sum_rv) / d,
    }
}

/// The volatility history the calibration prices with.
struct Inputs {
    history: VolHistory,
    dtb3: Vec<(NaiveDate, f64)>,
    gspc: Vec<DailyBar>,
}

fn closes(path: &Path) -> Result<Vec<(NaiveDate, f64)>> {
    Ok(import_index(path, None)?
        .records
        .into_iter()
        .map(|r| (r.date, r.close))
        .collect())
}

fn read_inputs(data: &DataDir) -> Result<Inputs> {
    let history = VolHistory {
        vix: closes(&data.vix())?,
        vix9d: closes(&data.cboe_index("VIX9D"))?,
        vix3m: closes(&data.cboe_index("VIX3M"))?,
        skew: closes(&data.cboe_index("SKEW"))?,
        level_scale: Vec::new(),
    };
    let dtb3 = import_rates(&data.fred_rate(RateSeries::Dtb3), Some(RateSeries::Dtb3))?
        .observations
        .into_iter()
        .filter_map(|o| o.continuous.map(|r| (o.date, r)))
        .collect();
    let gspc = import_bars(&data.index_daily_ohlc("GSPC"), None)?.bars;
    Ok(Inputs {
        history,
        dtb3,
        gspc,
    })
}

/// One real source: its name, chain days and the snapshot time of its quotes.
struct Source {
    name: &'static str,
    days: Vec<ChainDay>,
    as_of: NaiveTime,
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn read_sources(data: &DataDir, gspc: &[DailyBar]) -> Result<Vec<Source>> {
    let spx = Underlying::try_new("SPX")?;
    let spy = Underlying::try_new("SPY")?;
    let only = |u: &Underlying| ChainRequest {
        allowed: vec![u.clone()],
        ..ChainRequest::default()
    };
    let mut spx_2019 = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(data.cboe_spx_2019_dir())
        .map_err(|e| DataError::Io {
            path: data.cboe_spx_2019_dir(),
            source: e,
        })?
        .filter_map(std::result::Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    files.sort();
    for f in &files {
        spx_2019.extend(import_chains(f, &only(&spx))?.days);
    }
    let mut spx_2015 = Vec::new();
    for (name, date) in [("20151222", (2015, 12, 22)), ("20151223", (2015, 12, 23))] {
        let date = NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap_or(NaiveDate::MIN);
        let close = gspc
            .iter()
            .find(|b| b.date == date)
            .map(|b| b.ohlcv.close());
        let request = ChainRequest {
            quote_date: Some(date),
            underlying_price: close,
            ..only(&spx)
        };
        let path = data.options_file(&format!("SPX_quantconnect_universe_{name}.csv"));
        spx_2015.extend(import_chains(&path, &request)?.days);
    }
    let file = |name: &str, u: &Underlying| -> Result<Vec<ChainDay>> {
        Ok(import_chains(&data.options_file(name), &only(u))?.days)
    };
    Ok(vec![
        Source {
            name: "SPX 2019",
            days: spx_2019,
            as_of: time(15, 45),
        },
        Source {
            name: "SPY 2021",
            days: file("SPY_sampled20_2021-01-04_to_2021-12-29.csv", &spy)?,
            as_of: time(16, 0),
        },
        Source {
            name: "SPX 2011",
            days: file("SPX_ivolatility_2011-01-03_to_2011-01-06.csv", &spx)?,
            as_of: time(16, 0),
        },
        Source {
            name: "SPX 2015",
            days: spx_2015,
            as_of: time(16, 0),
        },
    ])
}

/// Per (source, delta bucket, days bucket) accumulators of one model.
struct ModelAcc {
    vol: Vec<[[Acc; 4]; 5]>,
    spread: Vec<Acc>,
}

impl ModelAcc {
    fn new(sources: usize) -> Self {
        Self {
            vol: vec![[[Acc::default(); 4]; 5]; sources],
            spread: vec![Acc::default(); sources],
        }
    }

    fn finish(&self, names: &[&str]) -> ModelErrors {
        let mut cells = Vec::new();
        let mut all = Acc::default();
        let mut by_source = Vec::new();
        for (d, (_, _, dl)) in DELTA_BUCKETS.iter().enumerate() {
            for (t, (_, _, tl)) in DAYS_BUCKETS.iter().enumerate() {
                let mut acc = Acc::default();
                for s in &self.vol {
                    acc.merge(&s[d][t]);
                }
                if acc.n > 0 {
                    cells.push(Cell {
                        delta: dl,
                        days: tl,
                        vol: acc.stats(),
                    });
                }
                all.merge(&acc);
            }
        }
        for (s, name) in self.vol.iter().zip(names) {
            let mut acc = Acc::default();
            for row in s {
                for a in row {
                    acc.merge(a);
                }
            }
            by_source.push(((*name).to_owned(), acc.stats()));
        }
        let mut spread = Acc::default();
        for a in &self.spread {
            spread.merge(a);
        }
        ModelErrors {
            cells,
            vol: all.stats(),
            vol_by_source: by_source,
            spread: spread.stats(),
            spread_by_source: self
                .spread
                .iter()
                .zip(names)
                .map(|(a, n)| ((*n).to_owned(), a.stats()))
                .collect(),
        }
    }
}

/// A real quote that counts, reduced to what the comparison needs.
struct RealQuote {
    right: OptionRight,
    strike: f64,
    years: f64,
    delta_bucket: usize,
    days_bucket: usize,
    iv: f64,
    /// (bid, ask) where both are usable.
    spread: Option<f64>,
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// `right`'s call delta: a put's delta + 1.
fn call_delta(right: OptionRight, delta: f64) -> f64 {
    match right {
        OptionRight::Call => delta,
        OptionRight::Put => 1.0 + delta,
    }
}

/// The delta and days buckets of a quote that counts (module docs): out of the money, IV in
/// (0.02, 2), call delta in (0.05, 0.95), at least a day to expiry; `None` otherwise.
fn buckets(
    right: OptionRight,
    strike: f64,
    spot: f64,
    delta: f64,
    days: i64,
    iv: f64,
) -> Option<(usize, usize)> {
    let otm = match right {
        OptionRight::Call => strike >= spot,
        OptionRight::Put => strike < spot,
    };
    if !otm || !(0.02..2.0).contains(&iv) {
        return None;
    }
    let call_delta = call_delta(right, delta);
    let d = DELTA_BUCKETS
        .iter()
        .position(|(lo, hi, _)| call_delta >= *lo && call_delta < *hi)?;
    let t = DAYS_BUCKETS
        .iter()
        .position(|(lo, hi, _)| days >= *lo && days <= *hi)?;
    Some((d, t))
}

/// The quotes of `day` that count (module docs), with their years to expiry from `as_of`
/// on the quote date: to 09:30 of the expiry for AM-settled SPX monthlies (root `SPX`), to
/// 16:00 otherwise.
fn real_quotes(day: &ChainDay, spot: f64, as_of: NaiveTime) -> Vec<RealQuote> {
    let mut out = Vec::new();
    for q in &day.quotes {
        let Some(v) = q.vendor else { continue };
        let (Some(iv), Some(delta)) = (v.implied_vol, v.delta) else {
            continue;
        };
        let right = q.key.right();
        let strike = to_f64(q.key.strike().value());
        let days = (q.key.expiry() - day.quote_date).num_days();
        let Some((delta_bucket, days_bucket)) = buckets(right, strike, spot, delta, days, iv)
        else {
            continue;
        };
        let settle = if q.key.root() == "SPX" {
            time(9, 30)
        } else {
            time(16, 0)
        };
        let minutes =
            (q.key.expiry().and_time(settle) - day.quote_date.and_time(as_of)).num_minutes();
        let spread = match (q.bid, q.ask) {
            (Some(b), Some(a)) if b.value() > Decimal::ZERO && a.value() > b.value() => {
                Some(to_f64(a.value() - b.value()))
            }
            _ => None,
        };
        out.push(RealQuote {
            right,
            strike,
            years: minutes.max(1) as f64 / MINUTES_PER_YEAR,
            delta_bucket,
            days_bucket,
            iv,
            spread,
        });
    }
    out
}

/// The modelled smile of a real chain's day and its volatility level, through
/// [`SyntheticMarket::from_history_with`] on a one-session history at the chain's price.
fn day_smile(
    config: &SyntheticConfig,
    history: &VolHistory,
    date: NaiveDate,
    spot: Price,
) -> Result<(Smile, f64)> {
    let bar = DailyBar::try_new(date, spot, spot, spot, spot, 0)?;
    let market = SyntheticMarket::from_history_with(config, &[bar], history)?;
    let smile = market
        .smile_at(0, spot)
        .ok_or_else(|| DataError::InvalidRequest {
            reason: format!("no smile for {date}"),
        })?;
    Ok((smile, market.days()[0].vix))
}

fn add_quotes(
    acc: &mut ModelAcc,
    source: usize,
    smile: &Smile,
    vix: f64,
    quotes: &[RealQuote],
    mut shapes: Option<&mut Shapes>,
) -> Result<()> {
    for q in quotes {
        let m = smile.quote(q.right, q.strike, q.years, vix)?;
        acc.vol[source][q.delta_bucket][q.days_bucket].add((m.implied_vol - q.iv) * 100.0);
        if let Some(real) = q.spread {
            acc.spread[source].add((m.ask - m.bid - real) / real);
        }
        if let Some(shapes) = shapes.as_deref_mut() {
            let vega = |vol| vega_per_point(smile, q, vol);
            let (d, t) = (q.delta_bucket, q.days_bucket);
            // Spreads against the ETF's real chains only: the generated market is SPY, and an
            // index's ticks and quotes are wider (FittedSpreads).
            let etf = |spread: Option<f64>| spread.filter(|_| shapes.etf);
            let real_spread = etf(q.spread)
                .map(|s| vega(q.iv).map(|v| s / v))
                .transpose()?;
            shapes.real.add(d, t, q.iv * 100.0 - vix, real_spread);
            let model_spread = (shapes.etf && m.bid > 0.0 && m.ask > m.bid)
                .then(|| Ok::<_, DataError>((m.ask - m.bid) / vega(m.implied_vol)?))
                .transpose()?;
            shapes
                .modelled
                .add(d, t, m.implied_vol * 100.0 - vix, model_spread);
        }
    }
    Ok(())
}

/// The real quotes' shape and the modelled chains' on them ([`shape`]).
#[derive(Default)]
struct Shapes {
    real: ShapeAcc,
    modelled: ShapeAcc,
    /// Whether the quotes being added are an ETF's (their spreads count).
    etf: bool,
}

/// The vega of one vol point of `q` at `vol`, on `smile`'s spot, rate and yield.
fn vega_per_point(smile: &Smile, q: &RealQuote, vol: f64) -> Result<f64> {
    let option = Vanilla {
        right: q.right,
        spot: smile.spot,
        strike: q.strike,
        years: q.years,
        rate: smile.rate,
        dividend_yield: smile.dividend_yield,
    };
    Ok(bsm::greeks(&option, vol)?.vega_per_vol_point())
}

/// `just backtest`'s generated market as the synthetic shape measures it: SPY, seed 42, the
/// backtest's rate and yield, the measured premium; with `fitted`, the surface through its own
/// VIX-family indices and the fitted spreads (the backtest's `synthetic_fitted_chains`).
#[must_use]
pub fn backtest_synthetic_config(fitted: bool) -> SyntheticConfig {
    let mut config = SyntheticConfig {
        seed: 42,
        symbol: "SPY".to_owned(),
        rate: 0.02,
        dividend_yield: 0.015,
        ..SyntheticConfig::default()
    };
    config.model.variance_risk_premium = ModelParams::MEASURED_VARIANCE_RISK_PREMIUM;
    if fitted {
        config = config.with_fitted_chains();
    }
    config
}

/// Prices every real chain of `data` with the modelled chain of its day, before and after
/// issue 16's inputs, and measures the real variance risk premium (module docs).
///
/// # Errors
/// The import errors of any file of the data folder it reads (a missing file is
/// [`DataError::Io`]); [`DataError::InvalidRequest`] for a chain day without a VIX close.
pub fn calibrate_chains(data: &DataDir) -> Result<CalibrationReport> {
    let inputs = read_inputs(data)?;
    let sources = read_sources(data, &inputs.gspc)?;
    let names: Vec<&str> = sources.iter().map(|s| s.name).collect();
    let mut before = ModelAcc::new(sources.len());
    let mut after = ModelAcc::new(sources.len());
    let mut shapes = Shapes::default();
    let vix_only = VolHistory::vix_only(&inputs.history.vix);
    let mut infos = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let mut counted = 0;
        for day in &source.days {
            let Some(spot) = day.underlying_price else {
                continue;
            };
            let symbol = day.underlying.as_str();
            let quotes = real_quotes(day, spot.to_f64(), source.as_of);
            counted += quotes.len();
            let old = SyntheticConfig {
                symbol: symbol.to_owned(),
                ..SyntheticConfig::default()
            };
            let (smile, vix) = day_smile(&old, &vix_only, day.quote_date, spot)?;
            add_quotes(&mut before, i, &smile, vix, &quotes, None)?;
            let rate = crate::synthetic::surface::value_on(&inputs.dtb3, day.quote_date, 7)
                .unwrap_or(old.rate);
            let new = SyntheticConfig { rate, ..old }.with_fitted_spreads();
            shapes.etf = FittedSpreads::for_symbol(symbol) == FittedSpreads::ETF;
            let (smile, vix) = day_smile(&new, &inputs.history, day.quote_date, spot)?;
            add_quotes(&mut after, i, &smile, vix, &quotes, Some(&mut shapes))?;
        }
        infos.push(SourceInfo {
            name: source.name.to_owned(),
            days: source.days.len(),
            quotes: counted,
        });
    }
    let gspc: Vec<(NaiveDate, f64)> = inputs
        .gspc
        .iter()
        .map(|b| (b.date, b.ohlcv.close().to_f64()))
        .collect();
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    let real_vrp = measure_vrp(
        &inputs.history.vix,
        &gspc,
        ymd(1990, 1, 1),
        ymd(2018, 12, 31),
    );
    let default_vrp = synthetic_vrp(ModelParams::default().variance_risk_premium)?;
    let matching_premium = premium_for_gap(real_vrp.gap)?;
    let synthetic = |fitted| {
        synthetic_shape(&backtest_synthetic_config(fitted))
            .map(|model| ShapeAcc::compare(&shapes.real, &model))
    };
    Ok(CalibrationReport {
        sources: infos,
        before: before.finish(&names),
        after: after.finish(&names),
        shape_modelled: ShapeAcc::compare(&shapes.real, &shapes.modelled),
        shape_synthetic_before: synthetic(false)?,
        shape_synthetic_after: synthetic(true)?,
        real_vrp,
        synthetic_vrp: default_vrp,
        synthetic_vrp_matched: synthetic_vrp(matching_premium)?,
        matching_premium,
    })
}

impl CalibrationReport {
    /// The shape section of [`Self::to_markdown`]: per cell, the mean IV − VIX and the mean
    /// spread in vol points of the real quotes and of each model, then each model's RMS.
    fn shape_markdown(&self, s: &mut String) {
        use std::fmt::Write as _;
        s.push_str(
            "\n## Shape: the synthetic market against the real chains\n\nPer cell, mean IV − VIX (vol points) and mean bid/ask spread in vol points (spread ÷ vega per point): real | modelled (real history) | synthetic before | synthetic after. Quotes: real / synthetic after.\n\n| call delta | days | IV − VIX | spread | quotes |\n|---|---|---|---|---|\n",
        );
        let models = [
            &self.shape_modelled,
            &self.shape_synthetic_before,
            &self.shape_synthetic_after,
        ];
        for real in &self.shape_modelled.cells {
            let cells: Vec<Option<&ShapeCell>> = models
                .iter()
                .map(|m| m.cell(real.delta, real.days))
                .collect();
            let col = |real_value: f64, model_value: fn(&ShapeCell) -> f64| {
                let mut out = format!("{real_value:+.2}");
                for c in &cells {
                    match c {
                        Some(c) => {
                            let _ = write!(out, " \\| {:+.2}", model_value(c));
                        }
                        None => out.push_str(" \\| —"),
                    }
                }
                out
            };
            let synthetic_quotes = cells[2].map_or(0, |c| c.model_quotes);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} / {} |",
                real.delta,
                real.days,
                col(real.real_smile, |c| c.model_smile),
                col(real.real_spread, |c| c.model_spread),
                real.real_quotes,
                synthetic_quotes
            );
        }
        for (name, m) in [
            ("modelled chains (real history)", &self.shape_modelled),
            ("synthetic market, before", &self.shape_synthetic_before),
            ("synthetic market, after", &self.shape_synthetic_after),
        ] {
            let _ = writeln!(
                s,
                "\n{name}: IV − VIX RMS error {:.2} vol points, spread RMS relative error {:.1} %.",
                m.smile_rms,
                m.spread_rms * 100.0
            );
        }
    }

    /// The report as pretty-printed JSON.
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`] if a number cannot be written (not finite).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| DataError::InvalidRequest {
            reason: format!("the calibration report as JSON: {e}"),
        })
    }

    /// The report as markdown: the sources, the vol error table before and after (mean / RMS
    /// per cell), the errors per source, the spreads and the VRP.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::from("# Modelled chains against the real ones\n\n");
        s.push_str("| source | days | quotes |\n|---|---|---|\n");
        for i in &self.sources {
            let _ = writeln!(s, "| {} | {} | {} |", i.name, i.days, i.quotes);
        }
        for (title, m) in [
            ("Before (VIX alone, linear spreads)", &self.before),
            (
                "After (VIX9D/VIX/VIX3M, SKEW, DTB3, fitted spreads)",
                &self.after,
            ),
        ] {
            let _ = write!(
                s,
                "\n## {title}\n\nVol error, modelled − real IV, vol points: mean / RMS (quotes).\n\n| call delta |"
            );
            for (_, _, l) in DAYS_BUCKETS {
                let _ = write!(s, " {l} days |");
            }
            s.push_str("\n|---|---|---|---|---|\n");
            for (_, _, dl) in DELTA_BUCKETS {
                let _ = write!(s, "| {dl} |");
                for (_, _, tl) in DAYS_BUCKETS {
                    match m.cell(dl, tl) {
                        Some(c) => {
                            let _ = write!(
                                s,
                                " {:+.2} / {:.2} ({}) |",
                                c.vol.mean, c.vol.rms, c.vol.quotes
                            );
                        }
                        None => s.push_str(" — |"),
                    }
                }
                s.push('\n');
            }
            let _ = writeln!(
                s,
                "\nAll quotes: {:+.2} / {:.2} vol points ({}).\n\n| source | vol error mean / RMS | spread error mean / RMS (quotes) |\n|---|---|---|",
                m.vol.mean, m.vol.rms, m.vol.quotes
            );
            for ((name, v), (_, sp)) in m.vol_by_source.iter().zip(&m.spread_by_source) {
                let spread = if sp.quotes == 0 {
                    "no bid/ask".to_owned()
                } else {
                    format!(
                        "{:+.1} % / {:.1} % ({})",
                        sp.mean * 100.0,
                        sp.rms * 100.0,
                        sp.quotes
                    )
                };
                let _ = writeln!(s, "| {name} | {:+.2} / {:.2} | {spread} |", v.mean, v.rms);
            }
            let _ = writeln!(
                s,
                "| all | {:+.2} / {:.2} | {:+.1} % / {:.1} % ({}) |",
                m.vol.mean,
                m.vol.rms,
                m.spread.mean * 100.0,
                m.spread.rms * 100.0,
                m.spread.quotes
            );
        }
        self.shape_markdown(&mut s);
        let v = &self.real_vrp;
        let _ = writeln!(
            s,
            "\n## Variance risk premium\n\nVIX mean {:.2} against ^GSPC's realised vol over the next {} sessions {:.2}: a gap of {:.2} vol points ({} sessions, {} to {}).",
            v.index_mean, VRP_HORIZON_SESSIONS, v.realised_mean, v.gap, v.sessions, v.from, v.to
        );
        let (d, m) = (&self.synthetic_vrp, &self.synthetic_vrp_matched);
        let _ = writeln!(
            s,
            "\nThe synthetic market (fifty years, seed 42) at the default premium {:.2}: index mean {:.2}, realised {:.2}, gap {:.2}. At a premium of {:.4}: index mean {:.2}, realised {:.2}, gap {:.2}.",
            ModelParams::default().variance_risk_premium,
            d.index_mean,
            d.realised_mean,
            d.gap,
            self.matching_premium,
            m.index_mean,
            m.realised_mean,
            m.gap
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vrp_of_a_constant_index_over_constant_moves() {
        // Closes alternating ±1 %: every realised vol is √252 · ln 1.01 = 15.795… points.
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let closes: Vec<(NaiveDate, f64)> = (0..60)
            .map(|i| {
                let d = start + chrono::Days::new(i);
                (d, if i % 2 == 0 { 100.0 } else { 101.0 })
            })
            .collect();
        let index: Vec<(NaiveDate, f64)> = closes.iter().map(|(d, _)| (*d, 20.0)).collect();
        let m = measure_vrp(&index, &closes, start, start + chrono::Days::new(100));
        // 60 closes: sessions 0..=38 have 21 closes after them.
        assert_eq!(m.sessions, 39);
        let rv = 252f64.sqrt() * 1.01f64.ln() * 100.0;
        assert!((m.realised_mean - rv).abs() < 1e-9, "{}", m.realised_mean);
        assert!((m.gap - (20.0 - rv)).abs() < 1e-9);
        assert!((rv - 15.795).abs() < 1e-3);
    }
}
