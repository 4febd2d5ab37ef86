//! Realised-volatility estimators on daily bars: close-to-close, Parkinson, Garman-Klass,
//! Rogers-Satchell and Yang-Zhang, rolling over a window of sessions, annualised.
//!
//! # Conventions
//! * Output: one value per input bar, an annualised volatility as a decimal (0.18 = 18 %),
//!   `sqrt(252 × daily variance)`.
//! * Window: the value at index `i` uses the bars `i − n + 1 ..= i`; the close-to-close and
//!   Yang-Zhang estimators also use the close of bar `i − n`, since their returns start from
//!   the previous close. Nothing after `i` is read (no look-ahead).
//! * Warm-up: `NaN` until the window is full, i.e. at indices `< n − 1` for Parkinson,
//!   Garman-Klass and Rogers-Satchell and at indices `< n` for close-to-close and Yang-Zhang
//!   ([`Estimator::first_valid_index`]). `NaN` appears nowhere else.
//! * Bad input is an error, never a `NaN` or a panic: a price that is `NaN`, infinite, zero or
//!   negative, a high below the open or close, a low above them, slices of unequal length, a
//!   window below 2; on bars, dates out of order and missing NYSE sessions
//!   ([`check_sessions`]). Errors name the index (slice API) or the date (bar API).
//!
//! # Formulas
//! With `o, h, l, c` the natural logs of one bar's prices and `c₋₁` the previous close
//! (Sinclair, *Volatility Trading*, 2nd ed. 2013, ch. 2; Yang & Zhang, *J. Business* 73, 2000):
//! * close-to-close: the sample variance of `r = c − c₋₁` over `n` returns, **mean-adjusted**
//!   (the window's mean return is subtracted) with divisor `n − 1` — pandas'
//!   `rolling(n).std()`, which the original plan used;
//! * Parkinson (1980): `Σ (h − l)² / (4 ln 2 · n)`;
//! * Garman-Klass (1980): `(1/n) Σ [½ (h − l)² − (2 ln 2 − 1)(c − o)²]` (no overnight term);
//! * Rogers-Satchell (1991): `(1/n) Σ [(h − c)(h − o) + (l − c)(l − o)]`;
//! * Yang-Zhang (2000): `σ²_overnight + k σ²_open-close + (1 − k) σ²_RS`, where the first two
//!   are sample variances (mean-adjusted, divisor `n − 1`) of `o − c₋₁` and `c − o`, `σ²_RS`
//!   is the Rogers-Satchell variance above, and `k = 0.34 / (1.34 + (n + 1)/(n − 1))`.
//!
//! ```
//! use volta_features::realised::{Estimator, OhlcSlices, realised_vol};
//!
//! # fn main() -> volta_features::Result<()> {
//! let close = [100.0, 101.0, 99.0, 100.0, 102.0];
//! let high = [101.0, 102.0, 101.0, 100.5, 102.5];
//! let low = [99.0, 100.0, 98.5, 99.0, 100.0];
//! let open = [100.0, 100.5, 100.8, 99.2, 100.1];
//! let ohlc = OhlcSlices::new(&open, &high, &low, &close)?;
//! let cc = realised_vol(Estimator::CloseToClose, ohlc, 3)?;
//! assert!(cc[2].is_nan() && cc[3] > 0.0); // three returns need four closes
//! let pk = realised_vol(Estimator::Parkinson, ohlc, 3)?;
//! assert!(pk[1].is_nan() && pk[2] > 0.0);
//! # Ok(())
//! # }
//! ```

use chrono::{Datelike, NaiveDate, Weekday};
use volta_core::{DailyBar, NyseCalendar};

use crate::error::{FeatureError, Result};

/// Trading days per year: the annualisation factor of every estimator here.
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// The windows issue #5 asks for, in sessions.
pub const STANDARD_WINDOWS: [usize; 5] = [5, 10, 20, 60, 120];

/// A realised-volatility estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Estimator {
    /// Sample standard deviation of close-to-close log returns (mean-adjusted).
    CloseToClose,
    /// Parkinson's high-low range estimator.
    Parkinson,
    /// Garman-Klass: range plus open-to-close, no overnight jump.
    GarmanKlass,
    /// Rogers-Satchell: drift-independent range estimator.
    RogersSatchell,
    /// Yang-Zhang: overnight, open-to-close and Rogers-Satchell variances combined.
    YangZhang,
}

impl Estimator {
    /// All five, in the order of the module docs.
    pub const ALL: [Self; 5] = [
        Self::CloseToClose,
        Self::Parkinson,
        Self::GarmanKlass,
        Self::RogersSatchell,
        Self::YangZhang,
    ];

    /// A snake-case name (`close_to_close`, `parkinson`, …), for column names.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CloseToClose => "close_to_close",
            Self::Parkinson => "parkinson",
            Self::GarmanKlass => "garman_klass",
            Self::RogersSatchell => "rogers_satchell",
            Self::YangZhang => "yang_zhang",
        }
    }

    /// Whether the estimator reads the previous session's close (close-to-close, Yang-Zhang).
    #[must_use]
    pub const fn uses_previous_close(self) -> bool {
        matches!(self, Self::CloseToClose | Self::YangZhang)
    }

    /// Whether the estimator reads open, high and low (all but close-to-close).
    #[must_use]
    pub const fn uses_range(self) -> bool {
        !matches!(self, Self::CloseToClose)
    }

    /// The first index with a value for a window of `window` sessions: `window` if the
    /// estimator reads the previous close, else `window − 1`.
    #[must_use]
    pub const fn first_valid_index(self, window: usize) -> usize {
        if self.uses_previous_close() {
            window
        } else {
            window.saturating_sub(1)
        }
    }
}

impl std::fmt::Display for Estimator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Daily open, high, low and close as parallel slices (US dollars or index points; only ratios
/// matter), oldest first. The slice API the polars feature library cross-checks against.
#[derive(Debug, Clone, Copy)]
pub struct OhlcSlices<'a> {
    open: &'a [f64],
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
}

impl<'a> OhlcSlices<'a> {
    /// Four slices of one length. Values are checked by the estimators, which know which
    /// columns they read.
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] if the lengths differ.
    pub fn new(open: &'a [f64], high: &'a [f64], low: &'a [f64], close: &'a [f64]) -> Result<Self> {
        let n = close.len();
        if open.len() != n || high.len() != n || low.len() != n {
            return Err(bad(
                "OHLC",
                format!(
                    "columns of unequal length: open {}, high {}, low {}, close {}",
                    open.len(),
                    high.len(),
                    low.len(),
                    n
                ),
            ));
        }
        Ok(Self {
            open,
            high,
            low,
            close,
        })
    }

    /// Number of bars.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.close.len()
    }

    /// Whether there are no bars.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.close.is_empty()
    }
}

/// Rolling annualised realised volatility of `ohlc` over `window` sessions (see the module
/// docs for the window, warm-up and formulas). Close-to-close reads only `close`.
///
/// # Errors
/// [`FeatureError::InvalidConfig`] if `window < 2`; [`FeatureError::BadInput`] naming the index
/// of the first price that is not finite and positive, or of a bar whose high/low do not
/// bracket its open and close (range estimators only).
pub fn realised_vol(estimator: Estimator, ohlc: OhlcSlices<'_>, window: usize) -> Result<Vec<f64>> {
    check_window(window)?;
    validate(estimator, ohlc).map_err(|e| e.into_error("OHLC", |i| format!("index {i}")))?;
    Ok(compute(estimator, ohlc, window))
}

/// Rolling annualised close-to-close volatility of `closes` over `window` returns: the
/// [`Estimator::CloseToClose`] column of [`realised_vol`] without the other columns.
///
/// # Errors
/// As [`realised_vol`].
pub fn close_to_close(closes: &[f64], window: usize) -> Result<Vec<f64>> {
    realised_vol(
        Estimator::CloseToClose,
        OhlcSlices::new(closes, closes, closes, closes)?,
        window,
    )
}

/// Rolling annualised realised volatility of daily bars over `window` sessions, aligned to
/// `bars` (see the module docs). The bars must be one per NYSE session with none missing
/// ([`check_sessions`]); the prices are converted to `f64` (exact to the cent and beyond).
///
/// # Errors
/// As [`check_sessions`], and [`FeatureError::InvalidConfig`] if `window < 2`.
pub fn realised_vol_bars(
    estimator: Estimator,
    bars: &[DailyBar],
    window: usize,
) -> Result<Vec<f64>> {
    check_window(window)?;
    let dates: Vec<NaiveDate> = bars.iter().map(|b| b.date).collect();
    check_sessions("bars", &dates)?;
    let [open, high, low, close] = bar_columns(bars);
    let ohlc = OhlcSlices::new(&open, &high, &low, &close)?;
    // `DailyBar` already guarantees positive, consistent prices; the check stays because an
    // f64 conversion is the one place a surprise could enter, and it costs one pass.
    validate(estimator, ohlc).map_err(|e| e.into_error("bars", |i| dates[i].to_string()))?;
    Ok(compute(estimator, ohlc, window))
}

/// The columns `estimator` reads as `f64`: all four, or for close-to-close the closes in every
/// slot (the decimal-to-`f64` conversion is a third of the detector's time; skip what is not read).
pub(crate) fn columns_for(estimator: Estimator, bars: &[DailyBar]) -> [Vec<f64>; 4] {
    if estimator.uses_range() {
        bar_columns(bars)
    } else {
        let close: Vec<f64> = bars.iter().map(|b| b.ohlcv.close().to_f64()).collect();
        [close.clone(), close.clone(), close.clone(), close]
    }
}

/// The open, high, low and close columns of `bars` as `f64`.
#[must_use]
pub fn bar_columns(bars: &[DailyBar]) -> [Vec<f64>; 4] {
    let col = |f: fn(&DailyBar) -> f64| bars.iter().map(f).collect::<Vec<f64>>();
    [
        col(|b| b.ohlcv.open().to_f64()),
        col(|b| b.ohlcv.high().to_f64()),
        col(|b| b.ohlcv.low().to_f64()),
        col(|b| b.ohlcv.close().to_f64()),
    ]
}

/// Checks that `dates` ascend strictly and skip no NYSE session: each date after the first
/// must be the session following its predecessor. A gap would make one "daily" return span
/// several sessions and shift every window after it, so it is an error rather than a `NaN`.
/// The calendar covers 1990–2099 ([`NyseCalendar::FIRST_DATE`]); dates before 1990 are checked
/// for order only.
///
/// # Errors
/// [`FeatureError::BadInput`] naming `series` and the dates: a date not after its
/// predecessor, a date that is not an NYSE session, or a missing session.
pub fn check_sessions(series: &str, dates: &[NaiveDate]) -> Result<()> {
    let table = match (dates.first(), dates.last()) {
        (Some(&a), Some(&b)) => SessionTable::new(a, b)?,
        _ => return Ok(()),
    };
    table.check(series, dates)
}

/// Which days from `first` on are NYSE sessions, computed once per call: the calendar works out
/// a year's holidays on each query (a few hundred ns), and a series of 8 500 sessions would
/// otherwise ask it ~20 000 times. Only weekdays are asked. Covers the calendar's range only.
#[derive(Debug)]
pub(crate) struct SessionTable {
    first: NaiveDate,
    session: Vec<bool>,
}

impl SessionTable {
    /// The table for `from..=to` clipped to the calendar's range (empty if outside it).
    pub(crate) fn new(from: NaiveDate, to: NaiveDate) -> Result<Self> {
        let first = from.max(NyseCalendar::FIRST_DATE);
        let last = to.min(NyseCalendar::LAST_DATE);
        let cal = NyseCalendar;
        let mut session = Vec::new();
        for d in first.iter_days().take_while(|d| *d <= last) {
            let weekday = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            session.push(weekday && cal.is_session(d)?);
        }
        Ok(Self { first, session })
    }

    /// `Some(whether d is a session)` inside the table, `None` outside it.
    pub(crate) fn is_session(&self, d: NaiveDate) -> Option<bool> {
        let i = usize::try_from((d - self.first).num_days()).ok()?;
        self.session.get(i).copied()
    }

    /// The first session after `d`, if the table reaches it.
    fn next_session(&self, d: NaiveDate) -> Option<NaiveDate> {
        let i = usize::try_from((d - self.first).num_days()).ok()?;
        let k = self.session.get(i + 1..)?.iter().position(|s| *s)?;
        Some(d + chrono::Days::new(k as u64 + 1))
    }

    /// [`check_sessions`] with this table, which must span `dates` where the calendar does.
    pub(crate) fn check(&self, series: &str, dates: &[NaiveDate]) -> Result<()> {
        for (i, &d) in dates.iter().enumerate() {
            if self.is_session(d) == Some(false) {
                return Err(bad(series, format!("{d} is not an NYSE session")));
            }
            let Some(&prev) = i.checked_sub(1).and_then(|j| dates.get(j)) else {
                continue;
            };
            if d <= prev {
                return Err(bad(
                    series,
                    format!("date {d} does not come after {prev} (dates must strictly ascend)"),
                ));
            }
            if self.is_session(prev).is_some() && self.is_session(d).is_some() {
                // `d` is a session after `prev`, so the table has a next session.
                let expected = self.next_session(prev).unwrap_or(d);
                if expected != d {
                    return Err(bad(
                        series,
                        format!("gap: no row for the session {expected} between {prev} and {d}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn bad(series: &str, reason: String) -> FeatureError {
    FeatureError::BadInput {
        series: series.to_owned(),
        reason,
    }
}

fn check_window(window: usize) -> Result<()> {
    if window < 2 {
        return Err(FeatureError::InvalidConfig {
            field: "window",
            value: window.to_string(),
            requirement: "at least 2 sessions",
        });
    }
    Ok(())
}

/// A bad value found by [`validate`], before it is given a label (index or date).
struct BadValue {
    index: usize,
    field: &'static str,
    value: f64,
    requirement: &'static str,
}

impl BadValue {
    fn into_error(self, series: &str, label: impl Fn(usize) -> String) -> FeatureError {
        bad(
            series,
            format!(
                "{} {} at {} must be {}",
                self.field,
                self.value,
                label(self.index),
                self.requirement
            ),
        )
    }
}

fn validate(estimator: Estimator, ohlc: OhlcSlices<'_>) -> std::result::Result<(), BadValue> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    for i in 0..ohlc.len() {
        let (o, h, l, c) = (ohlc.open[i], ohlc.high[i], ohlc.low[i], ohlc.close[i]);
        let fail = |field, value, requirement| BadValue {
            index: i,
            field,
            value,
            requirement,
        };
        if !positive(c) {
            return Err(fail("close", c, "finite and positive"));
        }
        if !estimator.uses_range() {
            continue;
        }
        for (field, x) in [("open", o), ("high", h), ("low", l)] {
            if !positive(x) {
                return Err(fail(field, x, "finite and positive"));
            }
        }
        if h < o.max(c) {
            return Err(fail("high", h, "at least max(open, close)"));
        }
        if l > o.min(c) {
            return Err(fail("low", l, "at most min(open, close)"));
        }
    }
    Ok(())
}

/// The estimators on validated input. Per-bar terms are computed once; each window is then
/// summed directly (two passes for the sample variances). That is O(len × window), a few
/// hundred thousand flops for 20 years at n = 20, and it keeps every window exact: running
/// sums would let cancellation leave a small negative variance for flat prices.
fn compute(estimator: Estimator, ohlc: OhlcSlices<'_>, window: usize) -> Vec<f64> {
    let len = ohlc.len();
    let n = window;
    let mut out = vec![f64::NAN; len];
    let first = estimator.first_valid_index(n);
    if first >= len {
        return out;
    }
    let ln = |a: f64, b: f64| (a / b).ln();
    let rs_term = |i: usize| {
        let (o, h, l, c) = (ohlc.open[i], ohlc.high[i], ohlc.low[i], ohlc.close[i]);
        ln(h, c) * ln(h, o) + ln(l, c) * ln(l, o)
    };
    let nf = n as f64;
    // Each arm hands its per-window variance to the generic `fill`, monomorphised per arm:
    // no dynamic dispatch in the loop over windows.
    match estimator {
        Estimator::CloseToClose => {
            let r = prev_close_term(len, |i| ln(ohlc.close[i], ohlc.close[i - 1]));
            fill(&mut out, first, |i| sample_variance(&r[i + 1 - n..=i]));
        }
        Estimator::Parkinson => {
            let t: Vec<f64> = (0..len)
                .map(|i| ln(ohlc.high[i], ohlc.low[i]).powi(2))
                .collect();
            let scale = 1.0 / (4.0 * std::f64::consts::LN_2 * nf);
            fill(&mut out, first, |i| {
                t[i + 1 - n..=i].iter().sum::<f64>() * scale
            });
        }
        Estimator::GarmanKlass => {
            let co_weight = 2.0 * std::f64::consts::LN_2 - 1.0;
            let t: Vec<f64> = (0..len)
                .map(|i| {
                    0.5 * ln(ohlc.high[i], ohlc.low[i]).powi(2)
                        - co_weight * ln(ohlc.close[i], ohlc.open[i]).powi(2)
                })
                .collect();
            fill(&mut out, first, |i| {
                t[i + 1 - n..=i].iter().sum::<f64>() / nf
            });
        }
        Estimator::RogersSatchell => {
            let t: Vec<f64> = (0..len).map(rs_term).collect();
            fill(&mut out, first, |i| {
                t[i + 1 - n..=i].iter().sum::<f64>() / nf
            });
        }
        Estimator::YangZhang => {
            let overnight = prev_close_term(len, |i| ln(ohlc.open[i], ohlc.close[i - 1]));
            let open_close: Vec<f64> = (0..len).map(|i| ln(ohlc.close[i], ohlc.open[i])).collect();
            let rs: Vec<f64> = (0..len).map(rs_term).collect();
            let k = 0.34 / (1.34 + (nf + 1.0) / (nf - 1.0));
            fill(&mut out, first, |i| {
                let w = i + 1 - n..=i;
                sample_variance(&overnight[w.clone()])
                    + k * sample_variance(&open_close[w.clone()])
                    + (1.0 - k) * rs[w].iter().sum::<f64>() / nf
            });
        }
    }
    out
}

/// Writes the annualised volatility of each window ending at `first..` into `out`.
fn fill(out: &mut [f64], first: usize, daily_variance: impl Fn(usize) -> f64) {
    for (i, v) in out.iter_mut().enumerate().skip(first) {
        // Rounding can leave −1e−20 where the variance is 0 (flat prices): clamp, then sqrt.
        *v = (TRADING_DAYS_PER_YEAR * daily_variance(i).max(0.0)).sqrt();
    }
}

/// Term `i ≥ 1` of a sum that reads the previous close; index 0 (no previous close) is never
/// inside a window and holds 0.
fn prev_close_term(len: usize, f: impl Fn(usize) -> f64) -> Vec<f64> {
    (0..len).map(|i| if i == 0 { 0.0 } else { f(i) }).collect()
}

/// Mean-adjusted sample variance (divisor `len − 1`), two-pass; `len ≥ 2`.
fn sample_variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn warm_up_is_nan_then_values() {
        let c = [100.0, 101.0, 100.5, 102.0, 101.0, 103.0];
        for est in Estimator::ALL {
            let ohlc = OhlcSlices::new(&c, &c, &c, &c).unwrap();
            let v = realised_vol(est, ohlc, 3).unwrap();
            let first = est.first_valid_index(3);
            assert!(v[..first].iter().all(|x| x.is_nan()), "{est}");
            assert!(v[first..].iter().all(|x| x.is_finite()), "{est}");
        }
    }

    #[test]
    fn too_short_input_is_all_nan() {
        let v = close_to_close(&[100.0, 101.0], 5).unwrap();
        assert!(v.iter().all(|x| x.is_nan()));
        assert!(close_to_close(&[], 5).unwrap().is_empty());
    }

    #[test]
    fn rejects_small_windows_and_bad_prices() {
        assert!(matches!(
            close_to_close(&[1.0, 2.0, 3.0], 1),
            Err(FeatureError::InvalidConfig {
                field: "window",
                ..
            })
        ));
        for bad_price in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = close_to_close(&[100.0, bad_price, 101.0], 2).unwrap_err();
            assert!(err.to_string().contains("index 1"), "{err}");
        }
        let (o, h, l, c) = ([10.0, 10.0], [11.0, 9.5], [9.0, 9.0], [10.0, 10.0]);
        let err = realised_vol(
            Estimator::Parkinson,
            OhlcSlices::new(&o, &h, &l, &c).unwrap(),
            2,
        )
        .unwrap_err();
        assert!(err.to_string().contains("high 9.5 at index 1"), "{err}");
        assert!(OhlcSlices::new(&o, &h, &l, &c[..1]).is_err());
    }

    #[test]
    fn sessions_check_names_gaps_and_disorder() {
        // 1999-11-05 is a Friday; the Monday 1999-11-08 follows it.
        assert!(check_sessions("x", &[d(1999, 11, 4), d(1999, 11, 5), d(1999, 11, 8)]).is_ok());
        let gap = check_sessions("x", &[d(1999, 11, 4), d(1999, 11, 8)]).unwrap_err();
        assert!(gap.to_string().contains("session 1999-11-05"), "{gap}");
        let order = check_sessions("x", &[d(1999, 11, 5), d(1999, 11, 4)]).unwrap_err();
        assert!(order.to_string().contains("does not come after"), "{order}");
        let dup = check_sessions("x", &[d(1999, 11, 5), d(1999, 11, 5)]).unwrap_err();
        assert!(dup.to_string().contains("does not come after"), "{dup}");
        // 2004-06-11: NYSE closed for President Reagan's funeral.
        let holiday = check_sessions("x", &[d(2004, 6, 11)]).unwrap_err();
        assert!(
            holiday.to_string().contains("not an NYSE session"),
            "{holiday}"
        );
        // Before 1990 only the order is checked.
        assert!(check_sessions("x", &[d(1989, 12, 1), d(1989, 12, 20)]).is_ok());
    }
}
