//! The volatility regime detector of the original plan: five regimes from the VIX level, the
//! VIX's 252-day IV rank and the ratio of the underlying's 20-day realised volatility to the
//! VIX, with hysteresis so that the regime does not flap from day to day.
//!
//! # Rules (plan §"Week 2", `RegimeDetector.detect_regime`)
//! With `vix` in index points, `rank` the VIX's [IV rank](crate::rank) over 252 sessions and
//! `ratio = rv20 / (vix / 100)` (both annualised), the first rule that holds wins, in the
//! plan's order:
//!
//! | regime | condition (defaults) |
//! |---|---|
//! | `low_vol` | `vix < 15` **and** `rank < 0.3` |
//! | `high_vol` | `vix > 25` **or** `rank > 0.8` |
//! | `iv_expansion` | `ratio > 0.9` **and** `rank > 0.5` |
//! | `iv_contraction` | `ratio < 0.6` **and** `rank < 0.5` |
//! | `neutral` | otherwise |
//!
//! `low_vol` and `high_vol` exclude each other; `high_vol` takes precedence over
//! `iv_expansion` (a market above VIX 25 is high-vol whatever realised vol does), which is the
//! plan's order. The `0.5` is hard-coded in the plan; here it is
//! [`RegimeConfig::vix_rank_mid`]. All comparisons are strict, as in the plan.
//!
//! Where the plan is silent or wrong, this module decides:
//! * **Warm-up**: no regime (`None`) until the rank (252 VIX sessions) and the realised vol
//!   (21 bars) exist. The plan's code said `neutral` there, a made-up signal.
//! * **Realised vol**: close-to-close over 20 returns, mean-adjusted, annualised with 252
//!   ([`crate::realised`]) — the plan's `rolling(20).std() * sqrt(252)`; configurable.
//!
//! # Hysteresis ([`Hysteresis`])
//! Two mechanisms, both configurable and both off in [`Hysteresis::NONE`]:
//! * **Bands** (a Schmitt trigger): the regime in force keeps its condition with thresholds
//!   relaxed by a band (e.g. `high_vol` lasts while `vix > 25 − 1` or `rank > 0.8 − 0.05`);
//!   entering a regime needs the plain thresholds. Rules are still tried in priority order, the
//!   current regime's with relaxed thresholds, so a regime of higher priority whose plain
//!   condition holds still takes over.
//! * **Minimum dwell**: a regime once entered is kept for at least `min_dwell_days` sessions
//!   (the entry day counts), except that a switch **to** `high_vol` is never delayed when
//!   `high_vol_overrides_dwell` is set (the default): risk limits key on it, and a crash does
//!   not wait.
//!
//! The state machine reads each day once, in order: the regime at `t` uses data up to `t` only.
//!
//! # Aligning the VIX with the underlying ([`RegimeDetector::run`])
//! * The output has one row per bar of the underlying from the VIX's first date on; earlier
//!   bars serve only as realised-vol history. If the bars run past the VIX's last date, that
//!   is an error: the VIX does not cover the range.
//! * The bars must be one per NYSE session with none missing ([`crate::realised::check_sessions`]).
//! * VIX rows on dates that are not NYSE sessions are dropped and listed in
//!   [`RegimeSeries::vix_dropped`] (CBOE published values on 12 exchange holidays: 2004-06-11 and
//!   11 in 2022–2023). The VIX's rank and percentile are computed over its own sessions.
//! * A session of the underlying without a VIX value takes the previous VIX value (and its rank)
//!   for at most [`RegimeConfig::max_vix_fill_days`] sessions in a row (default 1); the dates are
//!   listed in [`RegimeSeries::vix_filled`] (the real file lacks 1991-03-01, 1997-01-31,
//!   1997-11-26 and 1999-12-31). A longer hole is an error naming the first uncovered session.
//!
//! ```
//! use volta_features::regime::{Regime, RegimeConfig, RegimeInputs};
//!
//! let config = RegimeConfig::default();
//! let calm = RegimeInputs { vix: 11.0, vix_rank: 0.1, rv_vix_ratio: 0.7 };
//! assert_eq!(config.classify(&calm), Some(Regime::LowVol));
//! let storm = RegimeInputs { vix: 45.0, vix_rank: 0.95, rv_vix_ratio: 1.2 };
//! assert_eq!(config.classify(&storm).map(Regime::as_str), Some("high_vol"));
//! let unknown = RegimeInputs { vix: 20.0, vix_rank: f64::NAN, rv_vix_ratio: 0.7 };
//! assert_eq!(config.classify(&unknown), None);
//! ```

use chrono::NaiveDate;
use volta_core::DailyBar;

use crate::error::{FeatureError, Result};
use crate::rank::{RANK_WINDOW, percentile_unchecked, rank_unchecked};
use crate::realised::{Estimator, OhlcSlices, SessionTable, bad, columns_for, realised_vol};

// The regime lives in volta-core, so that risk and strategy name it without this crate.
pub use volta_core::Regime;

/// One day's inputs to the rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeInputs {
    /// VIX close, index points (volatility percent: 20 = 20 %).
    pub vix: f64,
    /// The VIX's IV rank over the trailing 252 sessions including today, in `[0, 1]`.
    pub vix_rank: f64,
    /// Realised volatility of the underlying over 20 sessions (annualised decimal) divided by
    /// `vix / 100`: 1 means realised equals implied.
    pub rv_vix_ratio: f64,
}

impl RegimeInputs {
    fn is_finite(&self) -> bool {
        self.vix.is_finite() && self.vix_rank.is_finite() && self.rv_vix_ratio.is_finite()
    }
}

/// Hysteresis settings (module docs). Bands are in the units of their inputs: VIX points,
/// rank (a fraction) and ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hysteresis {
    /// Sessions a regime is kept once entered (the entry day counts); 0 or 1 = no minimum.
    pub min_dwell_days: usize,
    /// How far past its VIX thresholds (15, 25) the current regime holds, VIX points.
    pub vix_band: f64,
    /// How far past its rank thresholds (0.3, 0.5, 0.8) the current regime holds.
    pub rank_band: f64,
    /// How far past its ratio thresholds (0.6, 0.9) the current regime holds.
    pub ratio_band: f64,
    /// Whether a switch to `high_vol` may cut a dwell short.
    pub high_vol_overrides_dwell: bool,
}

impl Hysteresis {
    /// No hysteresis: the smoothed series equals the raw one.
    pub const NONE: Self = Self {
        min_dwell_days: 0,
        vix_band: 0.0,
        rank_band: 0.0,
        ratio_band: 0.0,
        high_vol_overrides_dwell: true,
    };
}

impl Default for Hysteresis {
    /// Ten sessions' dwell (two trading weeks), bands of 1.5 VIX points, 0.075 rank and 0.1
    /// ratio. Chosen on 1990–2023 (docs/regime.md): they cut regime switches from 1105 to 409
    /// (^GSPC as the underlying), a mean regime of ~20 sessions instead of ~7.5, while keeping
    /// every session of Oct–Nov 2008 and March 2020 in `high_vol`. Longer dwells mostly add
    /// `high_vol` days (its entries are not delayed, its exits are).
    fn default() -> Self {
        Self {
            min_dwell_days: 10,
            vix_band: 1.5,
            rank_band: 0.075,
            ratio_band: 0.1,
            high_vol_overrides_dwell: true,
        }
    }
}

/// Thresholds, windows and hysteresis of the detector. [`Default`] gives the plan's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeConfig {
    /// `low_vol` needs the VIX below this, points (plan: 15).
    pub vix_low: f64,
    /// `high_vol` when the VIX is above this, points (plan: 25).
    pub vix_high: f64,
    /// `low_vol` needs the rank below this (plan: 0.3).
    pub vix_rank_low: f64,
    /// The rank that splits `iv_expansion` (above) from `iv_contraction` (below) (plan: 0.5).
    pub vix_rank_mid: f64,
    /// `high_vol` when the rank is above this (plan: 0.8).
    pub vix_rank_high: f64,
    /// `iv_contraction` needs the RV/VIX ratio below this (plan: 0.6).
    pub ratio_contraction: f64,
    /// `iv_expansion` needs the RV/VIX ratio above this (plan: 0.9).
    pub ratio_expansion: f64,
    /// Look-back of the VIX rank, VIX sessions (plan: 252).
    pub rank_window: usize,
    /// Window of the realised vol, sessions (plan: 20).
    pub rv_window: usize,
    /// Estimator of the realised vol (plan: close-to-close).
    pub rv_estimator: Estimator,
    /// Sessions in a row on which a missing VIX value is carried forward (0 = never).
    pub max_vix_fill_days: usize,
    /// Hysteresis of the smoothed series.
    pub hysteresis: Hysteresis,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            vix_low: 15.0,
            vix_high: 25.0,
            vix_rank_low: 0.3,
            vix_rank_mid: 0.5,
            vix_rank_high: 0.8,
            ratio_contraction: 0.6,
            ratio_expansion: 0.9,
            rank_window: RANK_WINDOW,
            rv_window: 20,
            rv_estimator: Estimator::CloseToClose,
            max_vix_fill_days: 1,
            hysteresis: Hysteresis::default(),
        }
    }
}

impl RegimeConfig {
    /// Checks the settings: thresholds finite and ordered (`0 < vix_low < vix_high`,
    /// `0 ≤ rank_low < rank_mid < rank_high ≤ 1`, `0 < ratio_contraction < ratio_expansion`),
    /// windows of at least 2, bands finite, non-negative and narrower than half the gap they
    /// sit in (so that the relaxed zones of two opposite regimes never overlap).
    ///
    /// # Errors
    /// [`FeatureError::InvalidConfig`] naming the first bad setting.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, value: f64, requirement| {
            Err(FeatureError::InvalidConfig {
                field,
                value: value.to_string(),
                requirement,
            })
        };
        let h = &self.hysteresis;
        let finite = [
            ("vix_low", self.vix_low),
            ("vix_high", self.vix_high),
            ("vix_rank_low", self.vix_rank_low),
            ("vix_rank_mid", self.vix_rank_mid),
            ("vix_rank_high", self.vix_rank_high),
            ("ratio_contraction", self.ratio_contraction),
            ("ratio_expansion", self.ratio_expansion),
            ("hysteresis.vix_band", h.vix_band),
            ("hysteresis.rank_band", h.rank_band),
            ("hysteresis.ratio_band", h.ratio_band),
        ];
        for (field, v) in finite {
            if !v.is_finite() {
                return invalid(field, v, "finite");
            }
        }
        if self.vix_low <= 0.0 {
            return invalid("vix_low", self.vix_low, "positive");
        }
        if self.vix_high <= self.vix_low {
            return invalid("vix_high", self.vix_high, "above vix_low");
        }
        if self.vix_rank_low < 0.0 {
            return invalid("vix_rank_low", self.vix_rank_low, "at least 0");
        }
        if self.vix_rank_mid <= self.vix_rank_low {
            return invalid("vix_rank_mid", self.vix_rank_mid, "above vix_rank_low");
        }
        if self.vix_rank_high <= self.vix_rank_mid || self.vix_rank_high > 1.0 {
            return invalid(
                "vix_rank_high",
                self.vix_rank_high,
                "above vix_rank_mid and at most 1",
            );
        }
        if self.ratio_contraction <= 0.0 {
            return invalid("ratio_contraction", self.ratio_contraction, "positive");
        }
        if self.ratio_expansion <= self.ratio_contraction {
            return invalid(
                "ratio_expansion",
                self.ratio_expansion,
                "above ratio_contraction",
            );
        }
        for (field, w) in [
            ("rank_window", self.rank_window),
            ("rv_window", self.rv_window),
        ] {
            if w < 2 {
                return invalid(field, w as f64, "at least 2 sessions");
            }
        }
        let rank_gap =
            (self.vix_rank_mid - self.vix_rank_low).min(self.vix_rank_high - self.vix_rank_mid);
        let bands = [
            (
                "hysteresis.vix_band",
                h.vix_band,
                self.vix_high - self.vix_low,
            ),
            ("hysteresis.rank_band", h.rank_band, rank_gap),
            (
                "hysteresis.ratio_band",
                h.ratio_band,
                self.ratio_expansion - self.ratio_contraction,
            ),
        ];
        for (field, band, gap) in bands {
            if band < 0.0 || 2.0 * band >= gap {
                return invalid(
                    field,
                    band,
                    "non-negative and below half the gap between the thresholds it widens",
                );
            }
        }
        Ok(())
    }

    /// The plan's rules without hysteresis. `None` if an input is `NaN` or infinite (warm-up).
    #[must_use]
    pub fn classify(&self, inputs: &RegimeInputs) -> Option<Regime> {
        self.classify_from(inputs, None)
    }

    /// The rules with the thresholds of `current` (if any) relaxed by the hysteresis bands.
    fn classify_from(&self, x: &RegimeInputs, current: Option<Regime>) -> Option<Regime> {
        if !x.is_finite() {
            return None;
        }
        let h = &self.hysteresis;
        // (vix, rank, ratio) bands for regime r: only the regime in force is relaxed.
        let bands = |r: Regime| {
            if current == Some(r) {
                (h.vix_band, h.rank_band, h.ratio_band)
            } else {
                (0.0, 0.0, 0.0)
            }
        };
        let (v, k, _) = bands(Regime::LowVol);
        if x.vix < self.vix_low + v && x.vix_rank < self.vix_rank_low + k {
            return Some(Regime::LowVol);
        }
        let (v, k, _) = bands(Regime::HighVol);
        if x.vix > self.vix_high - v || x.vix_rank > self.vix_rank_high - k {
            return Some(Regime::HighVol);
        }
        let (_, k, q) = bands(Regime::IvExpansion);
        if x.rv_vix_ratio > self.ratio_expansion - q && x.vix_rank > self.vix_rank_mid - k {
            return Some(Regime::IvExpansion);
        }
        let (_, k, q) = bands(Regime::IvContraction);
        if x.rv_vix_ratio < self.ratio_contraction + q && x.vix_rank < self.vix_rank_mid + k {
            return Some(Regime::IvContraction);
        }
        Some(Regime::Neutral)
    }

    /// The regime per day with hysteresis (module docs), reading `inputs` in order. A day
    /// without inputs (`None` or non-finite) has no regime and does not count toward a dwell;
    /// the state carries over it.
    #[must_use]
    pub fn smooth(&self, inputs: &[Option<RegimeInputs>]) -> Vec<Option<Regime>> {
        let h = &self.hysteresis;
        let mut current: Option<Regime> = None;
        let mut dwell = 0_usize;
        inputs
            .iter()
            .map(|x| {
                let candidate = self.classify_from(x.as_ref()?, current)?;
                match current {
                    Some(r) if r == candidate => dwell += 1,
                    Some(_)
                        if dwell < h.min_dwell_days
                            && !(h.high_vol_overrides_dwell && candidate == Regime::HighVol) =>
                    {
                        dwell += 1;
                    }
                    _ => {
                        current = Some(candidate);
                        dwell = 1;
                    }
                }
                current
            })
            .collect()
    }
}

/// Regime changes between consecutive classified days (days without a regime are skipped).
#[must_use]
pub fn count_switches(regimes: &[Option<Regime>]) -> usize {
    let mut last = None;
    let mut switches = 0;
    for r in regimes.iter().flatten() {
        if last.is_some_and(|l| l != *r) {
            switches += 1;
        }
        last = Some(*r);
    }
    switches
}

/// Which of the two regime series of a [`RegimeSeries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Smoothing {
    /// The plan's rules day by day.
    Raw,
    /// With hysteresis.
    Hysteresis,
}

/// Share of each regime among the classified days of a date range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeShares {
    /// Classified days in the range.
    pub days: usize,
    /// Fraction of those days in each regime, indexed by [`Regime::index`]; all 0 if `days = 0`.
    pub share: [f64; 5],
}

impl RegimeShares {
    /// The fraction of days in `regime`.
    #[must_use]
    pub const fn of(&self, regime: Regime) -> f64 {
        self.share[regime.index()]
    }
}

/// The detector's output: one row per session of the underlying (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct RegimeSeries {
    /// The sessions.
    pub dates: Vec<NaiveDate>,
    /// VIX close used, points (carried forward on [`Self::vix_filled`] dates).
    pub vix: Vec<f64>,
    /// VIX IV rank over [`RegimeConfig::rank_window`] VIX sessions; `NaN` in warm-up.
    pub vix_rank: Vec<f64>,
    /// VIX IV percentile over the previous [`RegimeConfig::rank_window`] VIX sessions (not a
    /// rule input; reported beside the rank); `NaN` in warm-up.
    pub vix_percentile: Vec<f64>,
    /// Realised volatility of the underlying, annualised decimal; `NaN` in warm-up.
    pub rv: Vec<f64>,
    /// `rv / (vix / 100)`; `NaN` in warm-up.
    pub rv_vix_ratio: Vec<f64>,
    /// The regime by the plain rules; `None` in warm-up.
    pub raw: Vec<Option<Regime>>,
    /// The regime with hysteresis; `None` in warm-up.
    pub smoothed: Vec<Option<Regime>>,
    /// Sessions of the underlying on which the VIX had no value and the previous one was used.
    pub vix_filled: Vec<NaiveDate>,
    /// VIX dates dropped because they are not NYSE sessions.
    pub vix_dropped: Vec<NaiveDate>,
}

impl RegimeSeries {
    /// The series chosen.
    #[must_use]
    pub fn regimes(&self, which: Smoothing) -> &[Option<Regime>] {
        match which {
            Smoothing::Raw => &self.raw,
            Smoothing::Hysteresis => &self.smoothed,
        }
    }

    /// Regime switches in the chosen series ([`count_switches`]).
    #[must_use]
    pub fn switches(&self, which: Smoothing) -> usize {
        count_switches(self.regimes(which))
    }

    /// The regime on `date`, if the date is in the series and classified.
    #[must_use]
    pub fn on(&self, date: NaiveDate, which: Smoothing) -> Option<Regime> {
        let i = self.dates.binary_search(&date).ok()?;
        self.regimes(which)[i]
    }

    /// Share of each regime among the classified days from `from` to `to`, both included.
    #[must_use]
    pub fn shares(&self, which: Smoothing, from: NaiveDate, to: NaiveDate) -> RegimeShares {
        let lo = self.dates.partition_point(|d| *d < from);
        let hi = self.dates.partition_point(|d| *d <= to);
        let mut counts = [0_usize; 5];
        for r in self.regimes(which)[lo..hi.max(lo)].iter().flatten() {
            counts[r.index()] += 1;
        }
        let days: usize = counts.iter().sum();
        let share = counts.map(|c| {
            if days == 0 {
                0.0
            } else {
                c as f64 / days as f64
            }
        });
        RegimeShares { days, share }
    }
}

/// Runs the rules over a history: VIX closes and the underlying's daily bars in, one regime per
/// session out, raw and with hysteresis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeDetector {
    config: RegimeConfig,
}

impl RegimeDetector {
    /// A detector with validated settings.
    ///
    /// # Errors
    /// As [`RegimeConfig::validate`].
    pub fn new(config: RegimeConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The settings.
    #[must_use]
    pub const fn config(&self) -> &RegimeConfig {
        &self.config
    }

    /// The regime per session of `bars` from the VIX's first date on (module docs:
    /// alignment). `vix_dates` and `vix_close` are the VIX history (points), ascending.
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] naming the series and date: VIX dates and closes of unequal
    /// length, a VIX date out of order, a VIX close that is not finite and positive, empty
    /// input, bars out of order or missing a session, bars that end after the VIX or before it
    /// starts, or more than [`RegimeConfig::max_vix_fill_days`] sessions in a row without a VIX
    /// value.
    pub fn run(
        &self,
        vix_dates: &[NaiveDate],
        vix_close: &[f64],
        bars: &[DailyBar],
    ) -> Result<RegimeSeries> {
        let c = &self.config;
        let (Some(&vix_first_raw), Some(&vix_last_raw), Some(first_bar)) =
            (vix_dates.first(), vix_dates.last(), bars.first())
        else {
            return Err(bad("VIX and bars", "no data (empty input)".to_owned()));
        };
        // One session table for both series (the calendar is the slow part otherwise).
        let last_bar_date = bars[bars.len() - 1].date;
        let table = SessionTable::new(
            vix_first_raw.min(first_bar.date),
            vix_last_raw.max(last_bar_date),
        )?;
        let (v_dates, v_close, vix_dropped) = vix_sessions(&table, vix_dates, vix_close)?;
        let (Some(&vix_first), Some(&vix_last), Some(last_bar)) =
            (v_dates.first(), v_dates.last(), bars.last())
        else {
            return Err(bad("VIX", "no NYSE session in the series".to_owned()));
        };
        if last_bar.date > vix_last {
            return Err(bad(
                "VIX",
                format!(
                    "ends on {vix_last} but the underlying's bars run to {}: the VIX must cover \
                     every session of the underlying",
                    last_bar.date
                ),
            ));
        }
        let dates: Vec<NaiveDate> = bars.iter().map(|b| b.date).collect();
        table.check("underlying bars", &dates)?;
        let start = dates.partition_point(|d| *d < vix_first);
        let [open, high, low, close] = columns_for(c.rv_estimator, bars);
        let rv = realised_vol(
            c.rv_estimator,
            OhlcSlices::new(&open, &high, &low, &close)?,
            c.rv_window,
        )?;
        let rank = rank_unchecked(&v_close, c.rank_window);
        let pct = percentile_unchecked(&v_close, c.rank_window);

        let rows = dates.len() - start;
        let mut out = RegimeSeries {
            dates: dates[start..].to_vec(),
            vix: Vec::with_capacity(rows),
            vix_rank: Vec::with_capacity(rows),
            vix_percentile: Vec::with_capacity(rows),
            rv: rv[start..].to_vec(),
            rv_vix_ratio: Vec::with_capacity(rows),
            raw: Vec::with_capacity(rows),
            smoothed: Vec::new(),
            vix_filled: Vec::new(),
            vix_dropped,
        };
        let mut inputs = Vec::with_capacity(rows);
        // `j`: the last VIX session on or before the bar's date (exists: date ≥ vix_first).
        let mut j = 0;
        let mut fill_run = 0;
        for (&d, &rv_d) in out.dates.iter().zip(&out.rv) {
            while v_dates.get(j + 1).is_some_and(|&n| n <= d) {
                j += 1;
            }
            if v_dates[j] == d {
                fill_run = 0;
            } else {
                fill_run += 1;
                if fill_run > c.max_vix_fill_days {
                    return Err(bad(
                        "VIX",
                        format!(
                            "no value on the session {d} (last value on {}); at most {} \
                             missing session(s) in a row are carried forward",
                            v_dates[j], c.max_vix_fill_days
                        ),
                    ));
                }
                out.vix_filled.push(d);
            }
            let vix = v_close[j];
            let ratio = rv_d / (vix / 100.0);
            out.vix.push(vix);
            out.vix_rank.push(rank[j]);
            out.vix_percentile.push(pct[j]);
            out.rv_vix_ratio.push(ratio);
            let x = RegimeInputs {
                vix,
                vix_rank: rank[j],
                rv_vix_ratio: ratio,
            };
            let x = x.is_finite().then_some(x);
            out.raw.push(x.as_ref().and_then(|x| c.classify(x)));
            inputs.push(x);
        }
        out.smoothed = c.smooth(&inputs);
        Ok(out)
    }
}

/// The VIX validated (ascending, finite and positive) and restricted to NYSE sessions; the
/// dropped dates are returned.
fn vix_sessions(
    table: &SessionTable,
    dates: &[NaiveDate],
    close: &[f64],
) -> Result<(Vec<NaiveDate>, Vec<f64>, Vec<NaiveDate>)> {
    if dates.len() != close.len() {
        return Err(bad(
            "VIX",
            format!("{} dates but {} closes", dates.len(), close.len()),
        ));
    }
    let mut kept_dates = Vec::with_capacity(dates.len());
    let mut kept_close = Vec::with_capacity(dates.len());
    let mut dropped = Vec::new();
    for (i, (&d, &x)) in dates.iter().zip(close).enumerate() {
        if !(x.is_finite() && x > 0.0) {
            return Err(bad(
                "VIX",
                format!("close {x} on {d} must be finite and positive"),
            ));
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|p| dates.get(p))
            && d <= prev
        {
            return Err(bad(
                "VIX",
                format!("date {d} does not come after {prev} (dates must strictly ascend)"),
            ));
        }
        // Outside the calendar's range (`None`) the row is kept: nothing to check it against.
        if table.is_session(d) == Some(false) {
            dropped.push(d);
        } else {
            kept_dates.push(d);
            kept_close.push(x);
        }
    }
    Ok((kept_dates, kept_close, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inputs(vix: f64, vix_rank: f64, rv_vix_ratio: f64) -> RegimeInputs {
        RegimeInputs {
            vix,
            vix_rank,
            rv_vix_ratio,
        }
    }

    #[test]
    fn plan_rules_and_priority() {
        let c = RegimeConfig::default();
        let cases = [
            (inputs(14.0, 0.2, 0.5), Regime::LowVol),
            // VIX below 15 but rank 0.3 (not strictly below): not low_vol; contraction.
            (inputs(14.0, 0.3, 0.5), Regime::IvContraction),
            (inputs(26.0, 0.1, 0.5), Regime::HighVol),
            (inputs(18.0, 0.81, 0.5), Regime::HighVol),
            // high_vol outranks iv_expansion.
            (inputs(30.0, 0.9, 1.5), Regime::HighVol),
            (inputs(20.0, 0.6, 0.95), Regime::IvExpansion),
            // 25 exactly is not above 25.
            (inputs(25.0, 0.6, 0.7), Regime::Neutral),
            (inputs(20.0, 0.4, 0.55), Regime::IvContraction),
            (inputs(20.0, 0.5, 0.55), Regime::Neutral),
        ];
        for (x, want) in cases {
            assert_eq!(c.classify(&x), Some(want), "{x:?}");
        }
    }

    #[test]
    fn names_are_the_plans() {
        let names: Vec<&str> = Regime::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "low_vol",
                "high_vol",
                "iv_expansion",
                "iv_contraction",
                "neutral"
            ]
        );
        assert!(Regime::ALL.iter().enumerate().all(|(i, r)| r.index() == i));
    }

    #[test]
    fn validate_rejects_bad_settings() {
        let ok = RegimeConfig::default();
        assert!(ok.validate().is_ok());
        let field = |c: RegimeConfig| match c.validate() {
            Err(FeatureError::InvalidConfig { field, .. }) => field,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(
            field(RegimeConfig {
                vix_high: 14.0,
                ..ok
            }),
            "vix_high"
        );
        assert_eq!(
            field(RegimeConfig {
                vix_low: f64::NAN,
                ..ok
            }),
            "vix_low"
        );
        assert_eq!(
            field(RegimeConfig {
                vix_rank_high: 1.2,
                ..ok
            }),
            "vix_rank_high"
        );
        assert_eq!(
            field(RegimeConfig {
                rank_window: 1,
                ..ok
            }),
            "rank_window"
        );
        let wide = Hysteresis {
            vix_band: 5.0,
            ..Hysteresis::default()
        };
        assert_eq!(
            field(RegimeConfig {
                hysteresis: wide,
                ..ok
            }),
            "hysteresis.vix_band"
        );
    }

    #[test]
    fn bands_hold_the_current_regime() {
        let c = RegimeConfig::default();
        // VIX 24.5 after a high_vol day: still high_vol with the 1.5-point band, neutral raw.
        let x = inputs(24.5, 0.6, 0.7);
        assert_eq!(c.classify(&x), Some(Regime::Neutral));
        assert_eq!(
            c.classify_from(&x, Some(Regime::HighVol)),
            Some(Regime::HighVol)
        );
        // The band belongs to the current regime only: 24.5 does not enter high_vol.
        assert_eq!(
            c.classify_from(&x, Some(Regime::Neutral)),
            Some(Regime::Neutral)
        );
        // A higher-priority regime still takes over from a relaxed lower one.
        let spike = inputs(40.0, 0.95, 0.95);
        assert_eq!(
            c.classify_from(&spike, Some(Regime::IvExpansion)),
            Some(Regime::HighVol)
        );
    }

    #[test]
    fn dwell_holds_except_for_high_vol() {
        use Regime::{HighVol as H, LowVol as L, Neutral as N};
        let c = RegimeConfig {
            hysteresis: Hysteresis {
                min_dwell_days: 3,
                ..Hysteresis::NONE
            },
            ..RegimeConfig::default()
        };
        let low = Some(inputs(12.0, 0.1, 0.7));
        let neutral = Some(inputs(20.0, 0.55, 0.7));
        let high = Some(inputs(30.0, 0.9, 0.7));
        let got = c.smooth(&[low, neutral, neutral, neutral, low, None, low, high, low]);
        // Low held 3 days (dwell), neutral from day 4, held 3 days across the gap day (which
        // does not count), low again, then high_vol overrides the dwell at once.
        assert_eq!(
            got,
            [
                Some(L),
                Some(L),
                Some(L),
                Some(N),
                Some(N),
                None,
                Some(N),
                Some(H),
                Some(H)
            ]
        );
        assert_eq!(count_switches(&got), 2);
    }

    proptest! {
        #[test]
        fn no_hysteresis_means_smoothed_equals_raw(
            xs in prop::collection::vec((5.0f64..60.0, 0.0f64..1.0, 0.2f64..2.0), 0..200),
        ) {
            let c = RegimeConfig { hysteresis: Hysteresis::NONE, ..RegimeConfig::default() };
            let xs: Vec<Option<RegimeInputs>> =
                xs.into_iter().map(|(v, k, q)| Some(inputs(v, k, q))).collect();
            let raw: Vec<Option<Regime>> =
                xs.iter().map(|x| x.as_ref().and_then(|x| c.classify(x))).collect();
            prop_assert_eq!(c.smooth(&xs), raw);
        }

        #[test]
        fn hysteresis_never_adds_switches_with_dwell_only(
            xs in prop::collection::vec((5.0f64..60.0, 0.0f64..1.0, 0.2f64..2.0), 0..200),
            dwell in 0usize..10,
        ) {
            // Dwell alone can only suppress switches: each smoothed switch lands on a day whose
            // raw regime is the new one, and between two smoothed switches the raw series has
            // switched at least once.
            let c = RegimeConfig {
                hysteresis: Hysteresis { min_dwell_days: dwell, ..Hysteresis::NONE },
                ..RegimeConfig::default()
            };
            let xs: Vec<Option<RegimeInputs>> =
                xs.into_iter().map(|(v, k, q)| Some(inputs(v, k, q))).collect();
            let raw: Vec<Option<Regime>> =
                xs.iter().map(|x| x.as_ref().and_then(|x| c.classify(x))).collect();
            let smooth = c.smooth(&xs);
            prop_assert!(count_switches(&smooth) <= count_switches(&raw));
            for i in 1..smooth.len() {
                if smooth[i] != smooth[i - 1] {
                    prop_assert_eq!(smooth[i], raw[i]);
                }
            }
        }
    }
}
