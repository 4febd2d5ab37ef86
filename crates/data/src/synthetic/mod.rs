//! The synthetic market: a seeded, deterministic generator of an underlying's daily bars, a
//! VIX-like index consistent with them, and full option chains, for use when there is no
//! network and no data.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
//!
//! # fn main() -> volta_data::Result<()> {
//! let config = SyntheticConfig {
//!     start: NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(),
//!     end: NaiveDate::from_ymd_opt(2023, 1, 31).unwrap(),
//!     ..SyntheticConfig::default()
//! };
//! let market = SyntheticMarket::generate(&config)?;
//! let day = &market.days()[0];
//! let chain = market.chain(0)?;
//! assert_eq!(chain.as_of().date(), day.bar.date);
//! // SPY had daily expiries in 2023: the first expiry is the session itself (0DTE).
//! assert_eq!(chain.expiries().next(), Some(day.bar.date));
//! // Same seed, same market.
//! assert_eq!(SyntheticMarket::generate(&config)?, market);
//! # Ok(())
//! # }
//! ```
//!
//! # Model
//!
//! The log-price follows Heston (1993) stochastic variance with compound-Poisson jumps whose
//! intensity rises with the variance (Bates 2000) and which come with a jump in the variance
//! (Duffie, Pan and Singleton 2000, "SVCJ"):
//!
//! - dv = κ(θ − v)dt + ξ√v dW_v + dJ_v, with corr(dW_S, dW_v) = ρ;
//! - d ln S = (μ − ½v − λ(v)k̄)dt + √v dW_S + dJ_S, λ(v) = λ₀ + λ₁v;
//! - a price jump is N(μ_J, σ_J²) in log-price and comes with an Exp(μ_V) jump in variance.
//!
//! It is discretised per NYSE session (dt = 1/252) with full truncation of the variance (Lord,
//! Koekkoek and van Dijk 2010), so that v⁺ = max(v, 0) keeps the square roots real. Jumps are
//! overnight gaps; the diffusion is split between night and day at a Brownian-bridge point,
//! and the day's high and low come from the exact marginal laws of a Brownian bridge's extremes
//! (Glasserman 2004, §6.4). Randomness is ChaCha8 seeded by [`SyntheticConfig::seed`]: stream 0
//! drives the path, stream 1 + i the chain of session i, stream 2⁶² + (the date's days from
//! the common era) the underlying's price at that session's snapshot, so chains can be built
//! in any order and each is a pure function of the config and the session.
//!
//! # VIX-like index
//!
//! VIX = 100·√(E^Q[average variance over the next 30 calendar days]), the variance-swap
//! definition of the VIX (Carr and Wu 2009), computed in closed form from the Heston
//! conditional mean of v, the jumps' contribution 2λ(E\[e^J\] − 1 − E\[J\]) and a variance risk
//! premium: E^Q = (1 + premium) × E^P. It is therefore a deterministic function of the state,
//! so it clusters and spikes with the variance.
//!
//! # Option chains
//!
//! Each session's chain is snapped 15 minutes before the close (15:45, 12:45 on half days, as
//! Cboe's end-of-day files), at an underlying price that is **not the close**: a point of a
//! Brownian bridge in log-price pinned at the session's open (09:30) and close, at the
//! snapshot's fraction f of the session (375/390 on a full day), drawn with the model's
//! variance of the day part, Var = f(1 − f)·(1 − ω)·v·dt (v the variance at the previous
//! close, ω the overnight share, dt one session), from its own seeded stream; a point beyond
//! the bar's high or low is reflected back inside, so the snapshot lies within the day's
//! range ([`SyntheticMarket::snapshot_price`]). The bars are unchanged. Why: the simulated
//! broker settles PM expiries at the close, and a chain priced off the close would hand a 0DTE
//! position opened at the snapshot its settlement in advance — a same-close look-ahead. With
//! the bridge, the 15:45 price has a standard deviation of about 0.2 of the day's
//! (√(f(1 − f)) ≈ 0.19) about the open-to-close line, and the close moves it only through
//! the pin: by f·Δ ln(close) for the same draw. Both [`SyntheticMarket::generate`] and
//! [`SyntheticMarket::from_history`] snap this way. Only the underlying's price is drawn on
//! the bridge: the smile's level is still the model's variance at the close (the day's VIX
//! close, for a history). A history with the VIX family and SKEW
//! ([`SyntheticMarket::from_history_with`]) replaces the model's term structure and the
//! config's skew by the session's [`DaySurface`] (see [`surface`]).
//!
//! At each snapshot the listed expiries are those of
//! [`volta_core::expiry::expiries_between`] for the symbol (for SPY: monthlies, Friday
//! weeklies from 2010, then Wednesdays, Mondays and the daily expiries of late 2022, so 0DTE
//! appears where the calendar has it) up to
//! [`ChainParams::max_days_all_expiries`], plus monthlies up to
//! [`ChainParams::max_days_monthlies`]. Strikes are a fine grid ($1 for SPY near $450) over
//! ±[`ChainParams::dense_range_sd`] standard deviations of the forward and a coarse grid out to
//! ±[`ChainParams::wide_range_sd`]. Volatilities come from the [`Smile`]: the ATM term
//! structure is the risk-neutral expected average variance to each expiry (it reverts from the
//! current variance to the long-run level), with a negative skew and a small curvature in
//! standardised log-moneyness. Prices are Black-Scholes-Merton with the config's rate and
//! dividend yield: SPY options are American, but early exercise of calls only pays just
//! before a dividend and of puts only deep in the money at high rates, and the European
//! price is what the smile is quoted in; the difference is ignored.
//!
//! Bid and ask straddle the model price with a spread of (base + fraction × price), widened by
//! (1 + w·|z|) away from the money (z in standard deviations) and by (VIX/20)^e in turbulent
//! markets, rounded outwards to the tick. A far out-of-the-money option worth less than half its
//! spread is quoted with a zero bid, which [`volta_core::OptionQuote::flags`] marks
//! [`volta_core::QuoteFlag::ZeroBid`]; nothing is dropped. Open interest falls off with |z| and
//! with days to expiry (monthlies carry more); volume is a turnover of it, higher near expiry
//! and with the VIX, both with lognormal noise. The model's IV and greeks are published as
//! [`volta_core::VendorAnalytics`] (theta per calendar day, vega per volatility point).
//!
//! # Calibration
//!
//! Targets (issue 4: annualised vol 15-20 %, VIX mean 18-20 with spikes over 40, negative
//! skew), the real figures (SPY 1999-2023 and ^GSPC 1990-2023 daily closes, VIX 1990-2023,
//! computed from the shared data folder), and the statistics of the default model over 50
//! simulated years (2000-2049) with seed 42 (`tests/synthetic.rs` asserts the targets for
//! seeds 0, 7, 42 and 2024, and across seeds 0-19):
//!
//! | statistic | target range (tested) | SPY / VIX, real | synthetic, seed 42 |
//! |---|---|---|---|
//! | annualised vol of daily log returns | 15-20 % | 19.7 % (SPY), 18.2 % (^GSPC) | 17.0 % |
//! | skewness of daily log returns | < 0 | −0.25 (SPY), −0.39 (^GSPC) | −0.34 |
//! | excess kurtosis | > 3 | 10.9 (SPY) | 5.4 |
//! | lag-1 autocorrelation of \|r\| | > 0.1 | 0.29 (SPY) | 0.24 |
//! | VIX mean | 18-20 | 19.6 | 18.7 |
//! | VIX maximum | > 40 | 82.7 | 54.2 |
//! | share of days with VIX > 40 | - | 2.4 % | 1.0 % |
//! | corr(VIX, next month's realised vol) | > 0.3 | - | 0.77 |
//!
//! Over twenty 50-year paths (seeds 0-19) realised vol ranged 16.2-19.3 % and skewness
//! −0.61 to −0.14; the VIX mean had median 19.2 and ranged 18.2-20.7 (one path above 20: a
//! 50-year mean of a persistent series still varies by about ±0.8 points). Tails are thinner
//! than SPY's (excess kurtosis 4-8 against 11) and the largest spikes lower (VIX maxima 47-60
//! against 2008's 80 and 2020's 83): a one-factor variance cannot produce both the calm years
//! and the extremes without overshooting the mean.
//!
//! Speed: ten years of daily SPY chains (2014-2023, 2516 sessions, 16.6 million quotes, with
//! the daily expiries of 2023 giving about 13 000 quotes a session) take 6.9 s in a release
//! build on one core (420 ns a quote, greeks, `Decimal` prices and contract keys included;
//! 10.8 s when the core was shared with other builds); the path alone takes about 1 ms. See `ten_years_of_chains_timing` in
//! `tests/synthetic.rs`.

#![expect(
    clippy::doc_markdown,
    reason = "the docs write formulas (σ_ATM, dW_v, N(μ_J, σ_J²)), not code"
)]

mod chain;
mod config;
mod path;
mod persist;
pub mod surface;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;
use volta_core::calendar::{REGULAR_CLOSE, REGULAR_OPEN};
use volta_core::chain_analytics::MINUTES_PER_YEAR;
use volta_core::expiry::{Expiry, ExpiryKind, expiries_between};
use volta_core::{
    ChainSnapshot, ContractKey, DailyBar, NyseCalendar, Price, SettlementTime, Underlying,
};

pub use chain::{ModelQuote, Smile};
pub use config::{ChainParams, FittedSpreads, ModelParams, SpreadModel, SyntheticConfig};
pub use persist::{
    CHAIN_DAYS_PER_BATCH, SYNTHETIC_VIX_SYMBOL, StoredMarket, conflicting_bar, store_market,
};
pub use surface::{DaySurface, TermStructure, VolHistory};
// The chain analytics moved to volta-core; re-exported at their old path.
pub use volta_core::chain_analytics::{ChainRow, IvSource, chain_rows};

use crate::dividends::{ExDividend, estimated_schedule};
use crate::error::Result;

/// One simulated session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticDay {
    /// The session's bar, prices rounded to cents: open after the overnight move (and any jump),
    /// high ≥ max(open, close), low ≤ min(open, close).
    pub bar: DailyBar,
    /// The VIX-like index at the close, in volatility points (20.0 = 20 %).
    pub vix: f64,
    /// The model's instantaneous variance at the close, per year.
    pub variance: f64,
    /// Price jumps during the session (overnight gaps).
    pub jumps: u32,
}

/// A simulated market: the sessions of the config's range, and chains built on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticMarket {
    config: SyntheticConfig,
    underlying: Underlying,
    days: Vec<SyntheticDay>,
    /// Each session's surface from the real volatility indices
    /// ([`SyntheticMarket::from_history_with`]); empty when the chains follow the model.
    surfaces: Vec<Option<DaySurface>>,
    /// Every expiry from the first session to the last plus the monthly horizon, by date.
    expiries: Vec<Expiry>,
}

/// Thirty calendar days in years: the VIX's horizon.
const VIX_YEARS: f64 = 30.0 / 365.0;

/// The first ChaCha8 stream of the snapshots' bridge draws: the session of date d draws from
/// stream `BRIDGE_STREAMS + d.num_days_from_ce()`. Far above the chains' streams (1 + session
/// index), so no chain's noise is shared with a bridge; keyed by date rather than index, so
/// that two markets of the same seed whose spans overlap draw the same bridge on a common date.
const BRIDGE_STREAMS: u64 = 1 << 62;

/// The session's open and close as timestamps: 09:30 and 16:00 (13:00 on half days), the
/// regular hours for a date the calendar does not know as a session (a history's bar may be
/// dated so).
fn session_hours(date: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let open = NyseCalendar
        .session_open(date)
        .ok()
        .flatten()
        .unwrap_or(REGULAR_OPEN);
    let close = NyseCalendar
        .session_close(date)
        .ok()
        .flatten()
        .unwrap_or(REGULAR_CLOSE);
    (date.and_time(open), date.and_time(close))
}

/// How old a VIX close may be, in calendar days, when [`SyntheticMarket::from_history`] finds
/// none on a session (CBOE's history misses four NYSE sessions; a long weekend is 4 days).
pub const MAX_VIX_STALENESS_DAYS: i64 = 5;

fn round_cents(x: f64, up: Option<bool>) -> i64 {
    let c = x * 100.0;
    let c = match up {
        None => c.round(),
        Some(true) => c.ceil(),
        Some(false) => c.floor(),
    };
    (c as i64).max(1)
}

impl SyntheticMarket {
    /// Simulates the underlying and the VIX-like index over the config's sessions.
    ///
    /// # Errors
    /// [`DataError::InvalidSyntheticConfig`](crate::DataError) naming a bad setting;
    /// [`DataError::Core`](crate::DataError) if a price leaves the representable range.
    pub fn generate(config: &SyntheticConfig) -> Result<Self> {
        config.validate()?;
        let cal = NyseCalendar;
        let underlying = Underlying::try_new(&config.symbol)?;
        let sessions = cal.sessions_between(config.start, config.end)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(0);
        let p = &config.model;
        let mut ln_s = config.initial_spot.ln();
        let mut v = p.initial_variance;
        let mut days = Vec::with_capacity(sessions.len());
        for date in sessions {
            let step = path::step(p, &mut rng, &mut ln_s, &mut v);
            let open = round_cents(step.open, None);
            let close = round_cents(step.close, None);
            let high = round_cents(step.high, Some(true)).max(open.max(close));
            let low = round_cents(step.low, Some(false)).min(open.min(close));
            let price = |c: i64| Price::try_new(Decimal::new(c, 2));
            let bar = DailyBar::try_new(
                date,
                price(open)?,
                price(high)?,
                price(low)?,
                price(close)?,
                step.volume as u64,
            )?;
            let vix = 100.0 * path::expected_variance(p, step.variance, VIX_YEARS).sqrt();
            days.push(SyntheticDay {
                bar,
                vix: (vix * 100.0).round() / 100.0,
                variance: step.variance,
                jumps: step.jumps,
            });
        }
        let surfaces = if config.chain.surface_from_indices {
            days.iter()
                .map(|d| {
                    let index = |days: f64| {
                        100.0 * path::expected_variance(p, d.variance, days / 365.0).sqrt()
                    };
                    DaySurface::new(
                        &config.chain,
                        [
                            Some(index(surface::VIX9D_DAYS)),
                            Some(d.vix),
                            Some(index(surface::VIX3M_DAYS) * surface::GENERATED_VIX3M_SCALE),
                        ],
                        Some(surface::GENERATED_SKEW_INDEX),
                        1.0,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        Self::with_days(config.clone(), underlying, days, surfaces)
    }

    /// A market on a real history: the given daily bars and VIX closes drive the chains,
    /// priced with the synthetic smile model (the reading of the issue's "chains priced from the
    /// real underlying and VIX history"). Each session's instantaneous variance is the one whose
    /// model VIX equals the real VIX close (the model's VIX is affine in the variance, so this
    /// is exact), so the smile's level, skew and term structure follow the real volatility
    /// regime while the bars are the real ones. Sessions have no simulated jumps.
    ///
    /// The config supplies the symbol, rates, model and chain settings and the seed of the
    /// quotes' noise and of the snapshots' bridges; its `start`, `end` and `initial_spot` are
    /// replaced by the bars' span, and its model's `initial_variance` by the variance of the
    /// last VIX close before the first bar (the first session's own if there is none), so that
    /// the first snapshot's bridge, like every other, diffuses with a variance known at the
    /// open.
    ///
    /// VIX policy: a session uses the VIX close of its date, or the last one before it if that
    /// is at most [`MAX_VIX_STALENESS_DAYS`] calendar days older (CBOE's file misses a few
    /// sessions); otherwise it is an error naming the session.
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`](crate::DataError) for no bars, bars not strictly ascending,
    /// a session without a usable VIX close or a VIX that is not positive and finite;
    /// the errors of [`SyntheticConfig::validate`].
    pub fn from_history(
        config: &SyntheticConfig,
        bars: &[DailyBar],
        vix: &[(NaiveDate, f64)],
    ) -> Result<Self> {
        Self::from_history_with(config, bars, &VolHistory::vix_only(vix))
    }

    /// A market on a real history with the volatility indices beyond the VIX (issue 16 §2):
    /// as [`Self::from_history`] when `history` holds the VIX alone (bit for bit); otherwise
    /// each session's smile is a [`DaySurface`]:
    ///
    /// - the ATM term structure passes through the session's VIX9D, VIX and VIX3M closes
    ///   (those that exist, each at most [`MAX_VIX_STALENESS_DAYS`] old) as variance-swap
    ///   rates: total variance linear in time between them, flat vol outside
    ///   ([`TermStructure::total_variance`]), ATM variance = that × [`DaySurface::atm_per_index_variance`];
    /// - the smile's slope follows the CBOE SKEW close ([`surface::slope_from_skew_index`]),
    ///   the config's where there is none;
    /// - every index level is multiplied by `history.level_scale` of the session (QQQ and
    ///   IWM: [`surface::realised_vol_ratios`] against SPY), 1 where it has none; the session's
    ///   VIX (its spreads' level and the variance its snapshot's bridge diffuses with) is the
    ///   scaled one.
    ///
    /// The spreads are the config's ([`ChainParams::spreads`]).
    ///
    /// # Errors
    /// As [`Self::from_history`].
    pub fn from_history_with(
        config: &SyntheticConfig,
        bars: &[DailyBar],
        history: &VolHistory,
    ) -> Result<Self> {
        let vix = &history.vix[..];
        let invalid = |reason: String| crate::DataError::InvalidRequest { reason };
        let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
            return Err(invalid(
                "a market from history needs at least one bar".to_owned(),
            ));
        };
        let mut config = config.clone();
        config.start = first.date;
        config.end = last.date;
        config.initial_spot = first.ohlcv.close().to_f64();
        config.validate()?;
        let underlying = Underlying::try_new(&config.symbol)?;
        if let Some(w) = bars.windows(2).find(|w| w[0].date >= w[1].date) {
            return Err(invalid(format!(
                "{} bars must ascend strictly: {} follows {}",
                config.symbol, w[1].date, w[0].date
            )));
        }
        if let Some(w) = vix.windows(2).find(|w| w[0].0 >= w[1].0) {
            return Err(invalid(format!(
                "VIX closes must ascend strictly: {} follows {}",
                w[1].0, w[0].0
            )));
        }
        // The model variance whose 30-day expectation is a VIX close `close` (of `date`).
        let variance_at = |date: NaiveDate, close: f64| {
            if close.is_finite() && close > 0.0 {
                let target = (close / 100.0).powi(2);
                Ok(path::variance_for_expected(
                    &config.model,
                    target,
                    VIX_YEARS,
                ))
            } else {
                Err(invalid(format!(
                    "VIX close {close} for {date} is not a positive number"
                )))
            }
        };
        let mut days = Vec::with_capacity(bars.len());
        for bar in bars {
            let at = vix.partition_point(|(d, _)| *d <= bar.date);
            let close = at
                .checked_sub(1)
                .map(|i| vix[i])
                .filter(|(d, _)| (bar.date - *d).num_days() <= MAX_VIX_STALENESS_DAYS)
                .ok_or_else(|| {
                    invalid(format!(
                        "no VIX close on or up to {MAX_VIX_STALENESS_DAYS} days before {}",
                        bar.date
                    ))
                })?
                .1;
            let scale = surface::value_on(&history.level_scale, bar.date, MAX_VIX_STALENESS_DAYS)
                .unwrap_or(1.0);
            let close = if history.level_scale.is_empty() {
                close
            } else {
                close * scale
            };
            days.push(SyntheticDay {
                bar: *bar,
                vix: close,
                variance: variance_at(bar.date, close)?,
                jumps: 0,
            });
        }
        let surfaces = if history.has_surface_inputs() {
            days.iter()
                .map(|d| {
                    let on = |series: &[(NaiveDate, f64)]| {
                        surface::value_on(series, d.bar.date, MAX_VIX_STALENESS_DAYS)
                    };
                    // `d.vix` is already scaled: the other indices take the same scale.
                    let scale = on(&history.level_scale).unwrap_or(1.0);
                    DaySurface::new(
                        &config.chain,
                        [
                            on(&history.vix9d).map(|x| x * scale),
                            Some(d.vix),
                            on(&history.vix3m).map(|x| x * scale),
                        ],
                        on(&history.skew),
                        1.0,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        // The first session's intraday bridge must not see its own close, the VIX's included:
        // it diffuses with the variance of the last VIX close before it, as every later
        // session does with its predecessor's (`session_variance`). Only a history that starts
        // on the first bar's date falls back to that session's own.
        let before = vix.partition_point(|(d, _)| *d < first.date);
        config.model.initial_variance = match before.checked_sub(1) {
            Some(i) => variance_at(vix[i].0, vix[i].1)?,
            None => days[0].variance,
        };
        Self::with_days(config, underlying, days, surfaces)
    }

    /// Lists the expiries from the first session to the last plus the monthly horizon.
    fn with_days(
        config: SyntheticConfig,
        underlying: Underlying,
        days: Vec<SyntheticDay>,
        surfaces: Vec<Option<DaySurface>>,
    ) -> Result<Self> {
        let expiries = match (days.first(), days.last()) {
            (Some(first), Some(last)) => {
                let horizon = (last.bar.date
                    + chrono::Days::new(u64::from(config.chain.max_days_monthlies)))
                .min(NyseCalendar::LAST_DATE);
                expiries_between(NyseCalendar, &config.symbol, first.bar.date, horizon)?
            }
            _ => Vec::new(),
        };
        Ok(Self {
            config,
            underlying,
            days,
            surfaces,
            expiries,
        })
    }

    /// The config the market was built from.
    #[must_use]
    pub const fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// The simulated sessions, ascending.
    #[must_use]
    pub fn days(&self) -> &[SyntheticDay] {
        &self.days
    }

    /// The daily bars, ascending.
    pub fn bars(&self) -> impl Iterator<Item = DailyBar> + '_ {
        self.days.iter().map(|d| d.bar)
    }

    /// The ex-dividends of the underlying after the first session, at the config's dividend
    /// yield: SPY's quarterly dates, amount = yield / 4 × the close before
    /// ([`crate::dividends::estimated_schedule`]). Every symbol gets SPY's dates. An ex-date on
    /// the first session is left out: its close before is not in the market, and the evening
    /// it matters to early assignment precedes the market.
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`](crate::DataError) for a negative dividend yield.
    pub fn dividends(&self) -> Result<Vec<ExDividend>> {
        let (Some(first), Some(last)) = (self.days.first(), self.days.last()) else {
            return Ok(Vec::new());
        };
        let Some(from) = first.bar.date.succ_opt() else {
            return Ok(Vec::new());
        };
        let bars: Vec<DailyBar> = self.bars().collect();
        estimated_schedule(
            &self.underlying,
            from,
            last.bar.date,
            &bars,
            self.config.dividend_yield,
        )
    }

    /// When session `index`'s chain is snapped: the close (16:00, or 13:00 on half days) less
    /// [`ChainParams::snapshot_minutes_before_close`], exchange time. `None` past the end.
    #[must_use]
    pub fn snapshot_time(&self, index: usize) -> Option<NaiveDateTime> {
        let (_, close) = session_hours(self.days.get(index)?.bar.date);
        Some(close - TimeDelta::minutes(i64::from(self.config.chain.snapshot_minutes_before_close)))
    }

    /// The model's instantaneous variance over session `index`, per year: the variance at the
    /// previous session's close (the config's `initial_variance` before the first), the one the
    /// session's diffusion used in the simulated path and the one known at its open.
    fn session_variance(&self, index: usize) -> f64 {
        index
            .checked_sub(1)
            .and_then(|i| self.days.get(i))
            .map_or(self.config.model.initial_variance, |d| d.variance)
            .max(0.0)
    }

    /// The underlying's price at session `index`'s snapshot, the price its chain is quoted
    /// at: a point of a Brownian bridge in log-price pinned at the bar's open (09:30) and close
    /// (16:00, 13:00 on half days), at the snapshot's fraction f of the session's clock time,
    /// with variance f(1 − f)·(1 − ω)·v·dt — the model's variance of the day part (open to
    /// close) for the session's variance v (that of the previous close, known at the open),
    /// as the path draws the day's high and low with. The draw is a standard normal from
    /// ChaCha8 stream `2⁶² + date.num_days_from_ce()` of the config's seed: the same seed gives
    /// the same snapshots, run after run. A point beyond the bar's high or low is reflected
    /// back inside (in log-price), then rounded to the cent and kept within \[low, high\], so
    /// the snapshot agrees with the daily bar, which it does not change. A snapshot set at or
    /// before the open (a half day snapped more than 210 minutes before its close) is at the
    /// open.
    ///
    /// Why not the close: the chain is snapped before the close, and the simulated broker
    /// settles PM expiries at the close; priced off the close, a 0DTE position opened at the
    /// snapshot would know its settlement. Given the draw, the close enters only through the
    /// bridge's pin: the snapshot's log-price moves by f·Δ ln(close) (before reflection and
    /// rounding). `None` past the end.
    #[must_use]
    pub fn snapshot_price(&self, index: usize) -> Option<Price> {
        let day = self.days.get(index)?;
        let (open, close) = session_hours(day.bar.date);
        let elapsed = (self.snapshot_time(index)? - open).num_seconds() as f64;
        let fraction = elapsed / (close - open).num_seconds().max(1) as f64;
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(BRIDGE_STREAMS + u64::from(day.bar.date.num_days_from_ce().unsigned_abs()));
        let z: f64 = rng.sample(StandardNormal);
        let bar = &day.bar.ohlcv;
        let ln = |p: Price| p.to_f64().ln();
        let point = path::bridge_point(
            ln(bar.open()),
            ln(bar.close()),
            path::day_variance(&self.config.model, self.session_variance(index)),
            fraction,
            z,
        );
        let inside = path::reflect_into(point, ln(bar.low()), ln(bar.high()));
        // Positive cents: the price is valid. The bounds are re-applied after rounding for a
        // history whose bars carry fractions of a cent.
        let price = Price::try_new(Decimal::new(round_cents(inside.exp(), None), 2)).ok()?;
        Some(price.max(bar.low()).min(bar.high()))
    }

    /// The implied-volatility surface of session `index` at its snapshot, priced at
    /// [`Self::snapshot_price`] with the model's variance at the close. `None` past the end.
    #[must_use]
    pub fn smile(&self, index: usize) -> Option<Smile> {
        let spot = self.snapshot_price(index)?;
        self.smile_at(index, spot)
    }

    /// The smile of session `index` at the underlying price `spot` (the calibration prices a
    /// real chain's day at the chain's own price). `None` past the end.
    #[must_use]
    pub fn smile_at(&self, index: usize, spot: Price) -> Option<Smile> {
        let day = self.days.get(index)?;
        Some(Smile {
            spot: spot.to_f64(),
            rate: self.config.rate,
            dividend_yield: self.config.dividend_yield,
            variance: day.variance,
            model: self.config.model,
            chain: self.config.chain,
            surface: self.surfaces.get(index).copied().flatten(),
        })
    }

    /// The option chain of session `index` (see the module docs): every listed expiry still
    /// trading at the snapshot, calls and puts on the strike grid, quoted around the smile.
    /// Sessions before the symbol's first listed expiry give an empty chain.
    ///
    /// # Errors
    /// [`DataError::InvalidSyntheticConfig`](crate::DataError) naming `index` past the end;
    /// [`DataError::Core`](crate::DataError) for an expiry outside the OCC symbol's years
    /// (2000-2099); [`DataError::Pricing`](crate::DataError) if the pricer rejects an input.
    pub fn chain(&self, index: usize) -> Result<ChainSnapshot> {
        self.chain_with(index, &[])
    }

    /// The chain of session `index` as [`Self::chain`], also quoting the strikes of the `held`
    /// contracts still trading (on their expiry, both rights) where the day's strike range no
    /// longer reaches them. The day's grid is centred on the current price and narrows as an
    /// expiry nears, but an exchange never delists a strike before expiry: a position opened
    /// 45 days out must still be quoted, and closable, a week before expiry. Without holdings
    /// it is exactly [`Self::chain`]; with them only the open interest and volume noise of the
    /// quotes after an added strike differ.
    ///
    /// # Errors
    /// As [`Self::chain`].
    pub fn chain_with(&self, index: usize, held: &[ContractKey]) -> Result<ChainSnapshot> {
        let spot = self.snapshot_price(index);
        let (Some(day), Some(as_of), Some(spot), Some(smile)) = (
            self.days.get(index),
            self.snapshot_time(index),
            spot,
            spot.and_then(|s| self.smile_at(index, s)),
        ) else {
            return Err(crate::DataError::InvalidSyntheticConfig {
                field: "chain index",
                value: index.to_string(),
                requirement: "below the number of sessions",
            });
        };
        let date = day.bar.date;
        let c = &self.config.chain;
        let start = self.expiries.partition_point(|e| e.date < date);
        let mut listed = Vec::new();
        for e in &self.expiries[start..] {
            let days_out = (e.date - date).num_days();
            if days_out > i64::from(c.max_days_monthlies) {
                break;
            }
            if days_out > i64::from(c.max_days_all_expiries) && e.kind != ExpiryKind::Monthly {
                continue;
            }
            let settle = match e.settlement_time {
                SettlementTime::Am => volta_core::calendar::REGULAR_OPEN,
                SettlementTime::Pm => NyseCalendar.session_close(e.date)?.unwrap_or(REGULAR_CLOSE),
            };
            let minutes = (e.date.and_time(settle) - as_of).num_minutes();
            if minutes <= 0 {
                continue;
            }
            let years = minutes as f64 / MINUTES_PER_YEAR;
            listed.push(chain::ExpiryToQuote {
                expiry: e,
                years,
                days: years * 365.0,
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(1 + index as u64);
        let quotes = chain::quotes(&smile, day.vix, as_of, &listed, held, &mut rng)?;
        Ok(ChainSnapshot::try_new(
            as_of,
            self.underlying.clone(),
            spot,
            quotes,
        )?)
    }

    /// Every session's chain, in order; see [`Self::chain`].
    pub fn chains(&self) -> impl Iterator<Item = Result<ChainSnapshot>> + '_ {
        (0..self.days.len()).map(|i| self.chain(i))
    }

    /// The session index of `date`, if it was simulated.
    #[must_use]
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        self.days.binary_search_by_key(&date, |d| d.bar.date).ok()
    }
}
