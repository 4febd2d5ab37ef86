//! Metrics of one day's option chain: the options family's raw inputs.
//!
//! [`summarise`] reduces a [`ChainSnapshot`] to a [`ChainSummary`]: the 30-day constant-maturity
//! ATM implied vol, the 25-delta risk reversal and butterfly, the skew slope, front and back
//! ATM vols and the term slope, put/call volume and open-interest ratios, and a dealer gamma
//! exposure estimate. [`analyse`] also returns the per-expiry numbers the summary is built from
//! ([`ExpiryMetrics`]); [`summarise_series`] and [`summarise_snapshots`] run over many days.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_core::QualityPolicy;
//! use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
//! use volta_core::RatesAndYield;
//! use volta_features::chain_metrics::summarise;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SyntheticConfig {
//!     start: NaiveDate::from_ymd_opt(2019, 5, 1).unwrap(),
//!     end: NaiveDate::from_ymd_opt(2019, 5, 3).unwrap(),
//!     ..SyntheticConfig::default()
//! };
//! let market = SyntheticMarket::generate(&config)?;
//! let chain = market.chain(0)?;
//! let inputs = RatesAndYield::try_new(config.rate, config.dividend_yield)?;
//! let summary = summarise(&chain, &inputs, &QualityPolicy::default())?;
//! let atm = summary.atm_iv_30d.expect("weeklies bracket 30 days");
//! // The synthetic smile's 30-day ATM vol, recovered from bid/ask mids to a few hundredths
//! // of a vol point.
//! let model = market.smile(0).unwrap().atm_vol(30.0 / 365.0);
//! assert!((atm - model).abs() < 0.002);
//! assert!(summary.risk_reversal_25d.unwrap() < 0.0); // equity skew
//! # Ok(())
//! # }
//! ```
//!
//! # Method
//!
//! **Slices.** Quotes are grouped by expiry date *and* option root: on a third Friday SPX
//! (AM-settled at the open) and SPXW (PM-settled at the close) share a date but not a time to
//! expiry. Times to expiry, mids and quality flags come from
//! [`volta_core::chain_rows`] (minutes to the settlement instant, ACT/365).
//!
//! **Quality gate.** A quote is used when it has both sides, a positive bid, is not crossed,
//! not wider than the policy's spread fraction ([`QuoteFlag::WideSpread`]), not stale, its
//! expiry is still ahead, and the Black-76 IV of its mid at the slice's forward lies in
//! [[`MIN_IV`], [`MAX_IV`]] (deep in-the-money mids inside the spread of intrinsic value give
//! absurd IVs). [`ChainSummary::quotes_total`] counts every quote,
//! [`ChainSummary::quotes_used`] those that passed. Volume and open interest are counts, not
//! prices: the put/call ratios and the gamma exposure use every quote.
//!
//! **Forward.** Per slice, from put-call parity C − P = D·(F − K) on the [`PARITY_STRIKES`]
//! strikes where both sides pass the gate and |C − P| is smallest (the strikes nearest the
//! money), F = median of K + (C − P)/D with D = e^{−rT}. This needs neither the dividend yield
//! nor a synchronous spot: Cboe's delayed SPX snapshots carry an `underlying_last` that is not
//! always in step with the option quotes, and the implied forward is what the options price
//! off. A slice without such a pair (only calls, say) falls back to the carry forward
//! S·e^{(r−q)T} with the given inputs ([`ExpiryMetrics::forward_from_parity`] is then false).
//!
//! **Implied vol.** Recomputed from the mid with Black-76 on that forward
//! ([`volta_pricing::black76::implied_vol`]): no dividend yield needed, and the forward already
//! holds the market's carry. The vendor's IV is not used (Cboe's deep-wing IVs of 0 or above 5
//! show it is not reliable, and vendors differ in rate and dividend inputs). SPX options are
//! European; SPY, QQQ and IWM are American, for which the European formula on the forward is the
//! usual approximation for the out-of-the-money options the metrics use (their early-exercise
//! premium is negligible).
//!
//! **Smile.** Out-of-the-money options only: puts with K < F, calls with K ≥ F, as points
//! (k = ln(K/F), σ). The slice's ATM vol interpolates σ linearly in k between the points
//! bracketing k = 0, each within [`ATM_MAX_LOG_MONEYNESS`]. The 25-delta vols: each point's
//! forward delta N(d₁) (calls) or N(d₁) − 1 (puts), d₁ = (−k + σ²T/2)/(σ√T), at its own σ;
//! σ is interpolated linearly in delta between the first two points, going out from the money,
//! whose deltas bracket ±0.25. The skew slope is the least-squares slope of σ on k over the
//! points with |k| ≤ [`SKEW_BAND`] (at least three, with one each side of the money).
//!
//! **30 days.** The ATM and both 25-delta vols are interpolated linearly in total variance
//! σ²T between the slice nearest below 30 calendar days (with at least [`MIN_DAYS`] to run) and
//! the slice nearest above (Cboe's VIX white paper interpolates the same way); the skew slope
//! linearly in T with the same weights. Slices without an ATM vol are passed over. **No
//! extrapolation:** with no slice on one side of 30 days, the 30-day metrics are `None` — a
//! flat extrapolation would silently report a 9-day or a 60-day vol as the 30-day one.
//! RR25 = σ(25Δ call) − σ(25Δ put); BF25 = (σ(25Δ call) + σ(25Δ put))/2 − σ(ATM).
//!
//! **Term structure.** Front = the nearest slice with at least [`MIN_DAYS`] days and an ATM
//! vol; back = the nearest with at least [`BACK_MIN_DAYS`]; slope = back − front. (The index
//! version, VIX3M − VIX, is a difference of two published closes and needs no chain.)
//!
//! **Gamma exposure.** GEX = Σ sign·Γ·OI·100·S²·0.01 over every quote with open interest,
//! calls +, puts −: the dollars of underlying dealers must buy (GEX > 0) or sell per 1 % rise
//! of the underlying, under the usual assumption that dealers are long the calls and short the
//! puts customers hold. Γ is the spot gamma, per share per dollar, of Black-76 on the slice's
//! forward, Γ = (F/S)²·e^{−rT}·φ(d₁)/(Fσ√T), at the slice's smile vol at that strike (linear in
//! k, flat beyond the outermost points), so an in-the-money option with an unusable quote
//! still gets the gamma of its out-of-the-money twin. 100 is the contract multiplier. Slices
//! without a smile point contribute nothing.
//!
//! # Speed
//!
//! `benches/chain_metrics.rs`: [`summarise`] of the Cboe SPX day of 2019-04-25 (13 340 quotes,
//! 43 slices) takes 30-34 ms in a release build on a shared two-core machine, of which
//! 18.6 ms is [`volta_core::chain_rows`] (a contract and a calendar look-up per quote
//! for the settlement instant) and the rest mostly the ~12 000 Black-76 IV solves.
//!
//! # Bad input
//!
//! Never a panic; a metric the chain cannot support is `None`:
//!
//! | input | result |
//! |---|---|
//! | empty chain | every vol metric, both ratios and the GEX `None`; counts 0 |
//! | one expiry | that slice's metrics in [`ExpiryMetrics`]; 30-day metrics `None` (no bracket); front or back if it qualifies, term slope `None` |
//! | only calls (or only puts) | no OTM point on one side of the forward: ATM, 25-delta and skew `None`; the ratio's denominator 0 gives `None` (only puts) or its numerator gives 0 (only calls); GEX of the side present |
//! | every quote fails the gate (one-sided, zero bids, crossed) | vol metrics `None`, ratios and counts as published, GEX `None` |
//! | no volume (or no call open interest) | the ratio `None`, not ∞ or NaN |
//! | spot not positive | [`FeatureError::BadInput`] (a non-finite rate or yield cannot reach here: [`RatesAndYield::try_new`] refuses it) |
//! | a day missing from a source ([`DataError::NotAvailable`]) | no row in [`summarise_series`] |

use chrono::NaiveDate;
use volta_core::{
    ChainRow, ChainSnapshot, QualityPolicy, QuoteFlag, QuoteFlags, RatesAndYield, Underlying,
    chain_rows,
};
use volta_data::DataError;
use volta_data::source::{ChainDate, ExpirySelection, MarketDataSource};
use volta_pricing::normal::{norm_cdf, norm_pdf};
use volta_pricing::{FuturesOption, OptionRight, black76};

use crate::error::{FeatureError, Result};

/// One underlying's chain on one day, reduced to the numbers the feature library uses.
///
/// Volatilities are annualised decimals (0.18 = 18 %). A metric the chain cannot support
/// (no expiry on one side of 30 days, no 25-delta strike, no volume) is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSummary {
    /// The session.
    pub date: NaiveDate,
    /// The underlying.
    pub underlying: Underlying,
    /// The underlying's price at the snapshot.
    pub spot: f64,
    /// 30-calendar-day constant-maturity ATM implied vol, interpolated in total variance
    /// between the expiries around 30 days.
    pub atm_iv_30d: Option<f64>,
    /// ATM implied vol of the front expiry (the nearest with at least 7 days to run).
    pub atm_iv_front: Option<f64>,
    /// ATM implied vol of the back expiry (the nearest with at least 60 days to run).
    pub atm_iv_back: Option<f64>,
    /// 30-day 25-delta risk reversal: IV(25Δ call) − IV(25Δ put).
    pub risk_reversal_25d: Option<f64>,
    /// 30-day 25-delta butterfly: (IV(25Δ call) + IV(25Δ put)) / 2 − ATM IV.
    pub butterfly_25d: Option<f64>,
    /// 30-day skew slope: d IV / d ln(K/F) near the money (negative for equity skew).
    pub skew_slope: Option<f64>,
    /// Term-structure slope: back ATM IV − front ATM IV (positive in contango).
    pub term_slope: Option<f64>,
    /// Total put volume / total call volume.
    pub put_call_volume_ratio: Option<f64>,
    /// Total put open interest / total call open interest.
    pub put_call_oi_ratio: Option<f64>,
    /// Total call volume, contracts.
    pub call_volume: u64,
    /// Total put volume, contracts.
    pub put_volume: u64,
    /// Total call open interest, contracts.
    pub call_open_interest: u64,
    /// Total put open interest, contracts.
    pub put_open_interest: u64,
    /// Dealer gamma exposure in dollars per 1 % move of the underlying, assuming dealers are
    /// long the calls and short the puts customers trade (the usual convention).
    pub dealer_gamma_exposure: Option<f64>,
    /// Quotes in the chain.
    pub quotes_total: u32,
    /// Quotes that passed the quality gate and were used.
    pub quotes_used: u32,
}

/// The constant maturity of the headline metrics, calendar days.
pub const TARGET_DAYS: f64 = 30.0;
/// Slices closer to expiry than this many calendar days are not used for the 30-day
/// interpolation nor as the front month: their smiles are dominated by the next few sessions.
pub const MIN_DAYS: f64 = 7.0;
/// The back month has at least this many calendar days to run.
pub const BACK_MIN_DAYS: f64 = 60.0;
/// Lowest implied vol accepted by the quality gate (per √year).
pub const MIN_IV: f64 = 0.01;
/// Highest implied vol accepted by the quality gate (per √year).
pub const MAX_IV: f64 = 4.0;
/// Strikes (nearest the money by |C − P|) whose parity forwards are combined by their median.
pub const PARITY_STRIKES: usize = 5;
/// The points bracketing the forward must lie within this |ln(K/F)| for an ATM vol.
pub const ATM_MAX_LOG_MONEYNESS: f64 = 0.1;
/// The skew slope is fitted over |ln(K/F)| ≤ this.
pub const SKEW_BAND: f64 = 0.1;
/// The absolute forward delta of the risk reversal and butterfly wings.
pub const WING_DELTA: f64 = 0.25;
/// Contract multiplier of index and ETF options: shares (or index units) per contract.
pub const CONTRACT_MULTIPLIER: f64 = 100.0;

const DAYS_PER_YEAR: f64 = 365.0;

/// The metrics of one slice of the chain: one expiry date and option root.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiryMetrics {
    /// The expiry date.
    pub expiry: NaiveDate,
    /// The option root (`SPX`, `SPXW`, `SPY`).
    pub root: String,
    /// Time to the settlement instant, years (ACT/365, in minutes); ≤ 0 once settled.
    pub years: f64,
    /// The forward, in the underlying's currency; `None` for a settled slice.
    pub forward: Option<f64>,
    /// Whether the forward came from put-call parity (else the carry forward S·e^{(r−q)T}).
    pub forward_from_parity: bool,
    /// ATM-forward implied vol.
    pub atm_iv: Option<f64>,
    /// Implied vol of the 25-delta call.
    pub call_25d_iv: Option<f64>,
    /// Implied vol of the 25-delta put.
    pub put_25d_iv: Option<f64>,
    /// d σ / d ln(K/F) over |ln(K/F)| ≤ [`SKEW_BAND`].
    pub skew_slope: Option<f64>,
    /// This slice's gamma exposure, dollars per 1 % move (see the module docs); `None` when
    /// the slice has no smile to take gammas from or no open interest.
    pub gamma_exposure: Option<f64>,
    /// Quotes in the slice.
    pub quotes_total: u32,
    /// Quotes that passed the quality gate.
    pub quotes_used: u32,
}

impl ExpiryMetrics {
    /// Calendar days to settlement.
    #[must_use]
    pub fn days(&self) -> f64 {
        self.years * DAYS_PER_YEAR
    }
}

/// A chain's summary with the per-slice metrics behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainAnalysis {
    /// The summary.
    pub summary: ChainSummary,
    /// One entry per (expiry, root), by time to expiry.
    pub expiries: Vec<ExpiryMetrics>,
}

/// The chain's [`ChainSummary`]; see the module docs for the method and the bad-input cases.
///
/// # Errors
/// As [`analyse`].
pub fn summarise(
    chain: &ChainSnapshot,
    market: &RatesAndYield,
    policy: &QualityPolicy,
) -> Result<ChainSummary> {
    Ok(analyse(chain, market, policy)?.summary)
}

/// The chain's summary and per-slice metrics.
///
/// # Errors
/// [`FeatureError::BadInput`] if the underlying price is not positive.
pub fn analyse(
    chain: &ChainSnapshot,
    market: &RatesAndYield,
    policy: &QualityPolicy,
) -> Result<ChainAnalysis> {
    let spot = chain.underlying_price().to_f64();
    let date = chain.as_of().date();
    if !(spot > 0.0 && spot.is_finite()) {
        return Err(FeatureError::BadInput {
            series: format!("{} chain", chain.underlying()),
            reason: format!("underlying price {spot} on {date} is not positive"),
        });
    }
    let rows = chain_rows(chain, *market, policy);
    let mut expiries = Vec::new();
    let mut slice: Vec<&ChainRow<'_>> = Vec::new();
    // Rows come by expiry, then strike, right and root: collect an expiry's rows, then split
    // them by root (one or two roots per expiry, so a linear scan for each is cheapest).
    let mut start = 0;
    while start < rows.len() {
        let expiry = rows[start].quote.key.expiry();
        let end = start + rows[start..].partition_point(|r| r.quote.key.expiry() == expiry);
        let group = &rows[start..end];
        let mut roots: Vec<&str> = Vec::new();
        for r in group {
            if !roots.contains(&r.quote.key.root()) {
                roots.push(r.quote.key.root());
            }
        }
        for root in roots {
            slice.clear();
            slice.extend(group.iter().filter(|r| r.quote.key.root() == root));
            expiries.push(slice_metrics(&slice, spot, market));
        }
        start = end;
    }
    expiries.sort_by(|a, b| a.years.total_cmp(&b.years));
    let summary = combine(chain, spot, &rows, &expiries);
    Ok(ChainAnalysis { summary, expiries })
}

/// The flags that keep a quote out of the analytics.
fn gated_out(flags: QuoteFlags) -> bool {
    [
        QuoteFlag::MissingBid,
        QuoteFlag::MissingAsk,
        QuoteFlag::ZeroBid,
        QuoteFlag::Crossed,
        QuoteFlag::WideSpread,
        QuoteFlag::Stale,
    ]
    .into_iter()
    .any(|f| flags.contains(f))
}

/// A row's mid if its quote passes the price part of the gate.
fn gated_mid(row: &ChainRow<'_>) -> Option<f64> {
    if gated_out(row.flags) {
        return None;
    }
    row.mid.filter(|m| *m > 0.0 && m.is_finite())
}

/// An out-of-the-money point of a slice's smile.
#[derive(Debug, Clone, Copy)]
struct SmilePoint {
    /// ln(K/F).
    k: f64,
    /// Black-76 implied vol.
    iv: f64,
}

/// The forward from put-call parity (see the module docs), or `None` without a usable pair.
fn parity_forward(slice: &[&ChainRow<'_>], discount: f64) -> Option<f64> {
    // (|C − P|, implied forward) per strike with both sides usable. Within a slice a strike's
    // call comes right before its put.
    let mut pairs: Vec<(f64, f64)> = slice
        .windows(2)
        .filter_map(|w| {
            let (c, p) = (w[0], w[1]);
            if c.quote.key.right() != OptionRight::Call
                || p.quote.key.right() != OptionRight::Put
                || c.quote.key.strike() != p.quote.key.strike()
            {
                return None;
            }
            let diff = gated_mid(c)? - gated_mid(p)?;
            let forward = c.quote.key.strike().to_f64() + diff / discount;
            Some((diff.abs(), forward))
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs.truncate(PARITY_STRIKES);
    let mut forwards: Vec<f64> = pairs.into_iter().map(|(_, f)| f).collect();
    forwards.sort_by(f64::total_cmp);
    let n = forwards.len();
    let median = if n % 2 == 1 {
        forwards[n / 2]
    } else {
        0.5 * (forwards[n / 2 - 1] + forwards[n / 2])
    };
    (median > 0.0 && median.is_finite()).then_some(median)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The metrics of one slice (rows of one expiry and root, in chain order).
fn slice_metrics(slice: &[&ChainRow<'_>], spot: f64, market: &RatesAndYield) -> ExpiryMetrics {
    let first = slice[0];
    let years = first.years;
    let mut metrics = ExpiryMetrics {
        expiry: first.quote.key.expiry(),
        root: first.quote.key.root().to_owned(),
        years,
        forward: None,
        forward_from_parity: false,
        atm_iv: None,
        call_25d_iv: None,
        put_25d_iv: None,
        skew_slope: None,
        gamma_exposure: None,
        quotes_total: count(slice.len()),
        quotes_used: 0,
    };
    if years <= 0.0 {
        return metrics;
    }
    let discount = (-market.rate() * years).exp();
    let (forward, from_parity) = match parity_forward(slice, discount) {
        Some(f) => (f, true),
        None => (
            spot * ((market.rate() - market.dividend_yield()) * years).exp(),
            false,
        ),
    };
    metrics.forward = Some(forward);
    metrics.forward_from_parity = from_parity;

    let mut used = 0;
    let mut points: Vec<SmilePoint> = Vec::new();
    for row in slice {
        let Some(mid) = gated_mid(row) else { continue };
        let right = row.quote.key.right();
        let strike = row.quote.key.strike().to_f64();
        let option = FuturesOption {
            right,
            forward,
            strike,
            years,
            rate: market.rate(),
        };
        let Ok(iv) = black76::implied_vol(&option, mid) else {
            continue;
        };
        if !(MIN_IV..=MAX_IV).contains(&iv) {
            continue;
        }
        used += 1;
        let otm = match right {
            OptionRight::Put => strike < forward,
            OptionRight::Call => strike >= forward,
        };
        if otm {
            // Rows go by strike, so the points go by k.
            points.push(SmilePoint {
                k: (strike / forward).ln(),
                iv,
            });
        }
    }
    metrics.quotes_used = count(used);
    metrics.atm_iv = atm_vol(&points);
    let sqrt_t = years.sqrt();
    metrics.call_25d_iv = wing_vol(&points, sqrt_t, OptionRight::Call);
    metrics.put_25d_iv = wing_vol(&points, sqrt_t, OptionRight::Put);
    metrics.skew_slope = skew_slope(&points);
    metrics.gamma_exposure = gamma_exposure(slice, &points, spot, forward, years, discount);
    metrics
}

/// σ at k = 0 by linear interpolation between the points bracketing it.
fn atm_vol(points: &[SmilePoint]) -> Option<f64> {
    let j = points.partition_point(|p| p.k < 0.0);
    let upper = points.get(j)?;
    if upper.k == 0.0 {
        return Some(upper.iv);
    }
    let lower = points.get(j.checked_sub(1)?)?;
    if lower.k < -ATM_MAX_LOG_MONEYNESS || upper.k > ATM_MAX_LOG_MONEYNESS {
        return None;
    }
    let w = -lower.k / (upper.k - lower.k);
    Some(lower.iv + w * (upper.iv - lower.iv))
}

/// |forward delta| of an out-of-the-money point: N(d₁) for a call, N(−d₁) for a put.
fn abs_delta(p: SmilePoint, sqrt_t: f64, right: OptionRight) -> f64 {
    let s = p.iv * sqrt_t;
    let d1 = -p.k / s + 0.5 * s;
    match right {
        OptionRight::Call => norm_cdf(d1),
        OptionRight::Put => norm_cdf(-d1),
    }
}

/// σ at |Δ| = [`WING_DELTA`] on the `right` wing, linear in delta between the first two
/// points (going out from the money) that bracket it.
fn wing_vol(points: &[SmilePoint], sqrt_t: f64, right: OptionRight) -> Option<f64> {
    let j = points.partition_point(|p| p.k < 0.0);
    match right {
        OptionRight::Call => wing_crossing(points[j..].iter(), sqrt_t, right),
        OptionRight::Put => wing_crossing(points[..j].iter().rev(), sqrt_t, right),
    }
}

/// The first crossing of |Δ| = [`WING_DELTA`] along `wing`, ordered from the money outwards.
fn wing_crossing<'a>(
    wing: impl Iterator<Item = &'a SmilePoint>,
    sqrt_t: f64,
    right: OptionRight,
) -> Option<f64> {
    let mut previous: Option<(f64, f64)> = None;
    for p in wing {
        let delta = abs_delta(*p, sqrt_t, right);
        if delta < WING_DELTA {
            // The first point past the target: interpolate from the one before, if any (none
            // when the nearest usable strike is already beyond 25 delta).
            let (d0, v0) = previous?;
            let w = (d0 - WING_DELTA) / (d0 - delta);
            return Some(v0 + w * (p.iv - v0));
        }
        previous = Some((delta, p.iv));
    }
    None
}

/// Least-squares slope of σ on k over |k| ≤ [`SKEW_BAND`].
fn skew_slope(points: &[SmilePoint]) -> Option<f64> {
    let band = points.iter().filter(|p| p.k.abs() <= SKEW_BAND);
    let (mut n, mut below, mut above) = (0.0, false, false);
    let (mut sk, mut sv, mut skk, mut skv) = (0.0, 0.0, 0.0, 0.0);
    for p in band {
        n += 1.0;
        below |= p.k < 0.0;
        above |= p.k > 0.0;
        sk += p.k;
        sv += p.iv;
        skk += p.k * p.k;
        skv += p.k * p.iv;
    }
    if n < 3.0 || !below || !above {
        return None;
    }
    let var = skk - sk * sk / n;
    (var > 0.0).then(|| (skv - sk * sv / n) / var)
}

/// σ of the slice's smile at `k`: linear between points, flat beyond the outermost.
fn smile_vol(points: &[SmilePoint], k: f64) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    if k <= first.k {
        return Some(first.iv);
    }
    if k >= last.k {
        return Some(last.iv);
    }
    let j = points.partition_point(|p| p.k < k);
    let (a, b) = (points[j - 1], points[j]);
    if b.k == a.k {
        return Some(b.iv);
    }
    Some(a.iv + (k - a.k) / (b.k - a.k) * (b.iv - a.iv))
}

/// Σ sign·Γ·OI·100·S²·0.01 over the slice's quotes with open interest (see the module docs).
fn gamma_exposure(
    slice: &[&ChainRow<'_>],
    points: &[SmilePoint],
    spot: f64,
    forward: f64,
    years: f64,
    discount: f64,
) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let sqrt_t = years.sqrt();
    // Spot gamma = forward gamma × (dF/dS)², dF/dS = F/S; per 1 % move: × S·0.01 × S.
    let scale =
        discount * (forward / spot).powi(2) / forward * CONTRACT_MULTIPLIER * spot * spot / 100.0;
    let mut total = 0.0;
    let mut any = false;
    for row in slice.iter().filter(|r| r.quote.open_interest > 0) {
        let k = (row.quote.key.strike().to_f64() / forward).ln();
        let sigma = smile_vol(points, k)?;
        let s = sigma * sqrt_t;
        let gamma_per_scale = norm_pdf(-k / s + 0.5 * s) / s;
        let sign = match row.quote.key.right() {
            OptionRight::Call => 1.0,
            OptionRight::Put => -1.0,
        };
        total += sign * gamma_per_scale * row.quote.open_interest as f64;
        any = true;
    }
    any.then_some(total * scale)
}

/// The linear-in-total-variance interpolation of two slices' vols to `target` years.
fn interpolate_variance(t1: f64, v1: f64, t2: f64, v2: f64, target: f64) -> f64 {
    if t2 == t1 {
        return v1;
    }
    let w = (target - t1) / (t2 - t1);
    let total = (1.0 - w) * v1 * v1 * t1 + w * v2 * v2 * t2;
    (total.max(0.0) / target).sqrt()
}

/// Assembles the summary from the slices (sorted by years) and the raw rows.
fn combine(
    chain: &ChainSnapshot,
    spot: f64,
    rows: &[ChainRow<'_>],
    expiries: &[ExpiryMetrics],
) -> ChainSummary {
    let (mut call_volume, mut put_volume, mut call_oi, mut put_oi) = (0u64, 0u64, 0u64, 0u64);
    for r in rows {
        let q = r.quote;
        match q.key.right() {
            OptionRight::Call => {
                call_volume = call_volume.saturating_add(q.volume);
                call_oi = call_oi.saturating_add(q.open_interest);
            }
            OptionRight::Put => {
                put_volume = put_volume.saturating_add(q.volume);
                put_oi = put_oi.saturating_add(q.open_interest);
            }
        }
    }
    let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);

    let with_atm = |e: &&ExpiryMetrics| e.atm_iv.is_some();
    let front = expiries
        .iter()
        .filter(with_atm)
        .find(|e| e.days() >= MIN_DAYS);
    let back = expiries
        .iter()
        .filter(with_atm)
        .find(|e| e.days() >= BACK_MIN_DAYS);
    let atm_iv_front = front.and_then(|e| e.atm_iv);
    let atm_iv_back = back.and_then(|e| e.atm_iv);

    let target = TARGET_DAYS / DAYS_PER_YEAR;
    let near = expiries
        .iter()
        .filter(with_atm)
        .rfind(|e| e.days() >= MIN_DAYS && e.years <= target);
    let far = expiries
        .iter()
        .filter(with_atm)
        .find(|e| e.years >= target && e.days() >= MIN_DAYS);
    let (mut atm_iv_30d, mut rr, mut bf, mut skew) = (None, None, None, None);
    if let (Some(a), Some(b)) = (near, far) {
        let interp = |va: Option<f64>, vb: Option<f64>| {
            Some(interpolate_variance(a.years, va?, b.years, vb?, target))
        };
        let atm = interp(a.atm_iv, b.atm_iv);
        let call = interp(a.call_25d_iv, b.call_25d_iv);
        let put = interp(a.put_25d_iv, b.put_25d_iv);
        atm_iv_30d = atm;
        if let (Some(atm), Some(call), Some(put)) = (atm, call, put) {
            rr = Some(call - put);
            bf = Some(0.5 * (call + put) - atm);
        }
        if let (Some(sa), Some(sb)) = (a.skew_slope, b.skew_slope) {
            let w = if b.years == a.years {
                0.0
            } else {
                (target - a.years) / (b.years - a.years)
            };
            skew = Some((1.0 - w) * sa + w * sb);
        }
    }

    let gex: Vec<f64> = expiries.iter().filter_map(|e| e.gamma_exposure).collect();
    ChainSummary {
        date: chain.as_of().date(),
        underlying: chain.underlying().clone(),
        spot,
        atm_iv_30d,
        atm_iv_front,
        atm_iv_back,
        risk_reversal_25d: rr,
        butterfly_25d: bf,
        skew_slope: skew,
        term_slope: atm_iv_back.zip(atm_iv_front).map(|(b, f)| b - f),
        put_call_volume_ratio: ratio(put_volume, call_volume),
        put_call_oi_ratio: ratio(put_oi, call_oi),
        call_volume,
        put_volume,
        call_open_interest: call_oi,
        put_open_interest: put_oi,
        dealer_gamma_exposure: (!gex.is_empty()).then(|| gex.iter().sum()),
        quotes_total: count(rows.len()),
        quotes_used: expiries.iter().map(|e| e.quotes_used).sum(),
    }
}

/// Summaries of `symbol`'s chains on `dates`, read from `source`, each with the inputs
/// `market` gives for its date. A date the source has no chain for
/// ([`DataError::NotAvailable`]) gives no row: the result has one row per date served, in the
/// order of `dates`, and a caller joining on [`ChainSummary::date`] sees the gap.
///
/// # Errors
/// Any other error of the source ([`FeatureError::Data`]); as [`summarise`] for each chain.
pub fn summarise_series(
    source: &dyn MarketDataSource,
    symbol: &Underlying,
    dates: &[NaiveDate],
    market: impl Fn(NaiveDate) -> RatesAndYield,
    policy: &QualityPolicy,
) -> Result<Vec<ChainSummary>> {
    let mut out = Vec::with_capacity(dates.len());
    for &date in dates {
        let chain = match source.chain(symbol, ChainDate::On(date), ExpirySelection::All) {
            Ok(chain) => chain,
            Err(DataError::NotAvailable { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        out.push(summarise(&chain, &market(date), policy)?);
    }
    Ok(out)
}

/// Summaries of snapshots already in hand, in their order, each with the inputs `market`
/// gives for its date.
///
/// # Errors
/// As [`summarise`], for the first chain that fails.
pub fn summarise_snapshots<'a>(
    snapshots: impl IntoIterator<Item = &'a ChainSnapshot>,
    market: impl Fn(NaiveDate) -> RatesAndYield,
    policy: &QualityPolicy,
) -> Result<Vec<ChainSummary>> {
    snapshots
        .into_iter()
        .map(|chain| summarise(chain, &market(chain.as_of().date()), policy))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn linear_smile(atm: f64, slope: f64, ks: &[f64]) -> Vec<SmilePoint> {
        ks.iter()
            .map(|&k| SmilePoint {
                k,
                iv: atm + slope * k,
            })
            .collect()
    }

    const KS: [f64; 9] = [-0.12, -0.08, -0.05, -0.02, 0.01, 0.03, 0.06, 0.09, 0.15];

    #[test]
    fn atm_needs_a_near_bracket() {
        let far = linear_smile(0.2, -0.5, &[-0.15, 0.12]);
        assert_eq!(atm_vol(&far), None);
        assert_eq!(atm_vol(&linear_smile(0.2, -0.5, &[-0.05, -0.01])), None);
        let at = linear_smile(0.2, -0.5, &[-0.05, 0.0, 0.05]);
        assert_eq!(atm_vol(&at), Some(0.2));
    }

    #[test]
    fn smile_is_flat_beyond_its_ends() {
        let s = linear_smile(0.2, -0.5, &KS);
        assert_eq!(smile_vol(&s, -1.0), Some(0.2 + 0.5 * 0.12));
        assert_eq!(smile_vol(&s, 1.0), Some(0.2 - 0.5 * 0.15));
        assert!((smile_vol(&s, 0.02).unwrap() - 0.19).abs() < 1e-15);
        assert_eq!(smile_vol(&[], 0.0), None);
    }

    #[test]
    fn wing_of_a_flat_smile_is_its_vol_at_the_bs_strike() {
        // Flat 20 %, T = 30 days: the 25-delta call sits at k = σ√T(0.6745 + σ√T/2).
        let t: f64 = 30.0 / 365.0;
        let s = 0.2 * t.sqrt();
        let k25 = s * (0.674_489_750_196_081_7 + 0.5 * s);
        let points = linear_smile(0.2, 0.0, &[0.0, 0.5 * k25, 0.9 * k25, 1.2 * k25, 2.0 * k25]);
        assert_eq!(wing_vol(&points, t.sqrt(), OptionRight::Call), Some(0.2));
        // The strike nearest the money is already past 25 delta: no crossing to interpolate.
        let coarse = linear_smile(0.2, 0.0, &[1.5 * k25, 2.0 * k25]);
        assert_eq!(wing_vol(&coarse, t.sqrt(), OptionRight::Call), None);
        let d = abs_delta(SmilePoint { k: k25, iv: 0.2 }, t.sqrt(), OptionRight::Call);
        assert!((d - 0.25).abs() < 1e-12, "{d}");
    }

    proptest! {
        #[test]
        fn linear_smiles_are_recovered(atm in 0.05..1.0f64, slope in -2.0..2.0f64) {
            let points = linear_smile(atm, slope, &KS);
            prop_assume!(points.iter().all(|p| p.iv > 0.0));
            prop_assert!((atm_vol(&points).unwrap() - atm).abs() < 1e-12);
            prop_assert!((skew_slope(&points).unwrap() - slope).abs() < 1e-9);
        }

        #[test]
        fn total_variance_interpolation_hits_its_ends_and_stays_between(
            t1 in 0.01..0.5f64, dt in 0.001..0.5f64, v1 in 0.05..1.0f64, v2 in 0.05..1.0f64,
            w in 0.0..1.0f64,
        ) {
            let t2 = t1 + dt;
            prop_assert!((interpolate_variance(t1, v1, t2, v2, t1) - v1).abs() < 1e-12);
            prop_assert!((interpolate_variance(t1, v1, t2, v2, t2) - v2).abs() < 1e-12);
            let t = t1 + w * dt;
            let total = interpolate_variance(t1, v1, t2, v2, t).powi(2) * t;
            let (a, b) = (v1 * v1 * t1, v2 * v2 * t2);
            prop_assert!(total >= a.min(b) - 1e-12 && total <= a.max(b) + 1e-12);
        }

        #[test]
        fn wing_vols_lie_between_their_neighbours(
            atm in 0.08..0.6f64, slope in -1.0..0.0f64, days in 7.0..120.0f64,
        ) {
            let points = linear_smile(atm, slope, &KS);
            let sqrt_t = (days / 365.0).sqrt();
            for right in [OptionRight::Call, OptionRight::Put] {
                if let Some(v) = wing_vol(&points, sqrt_t, right) {
                    let lo = points.iter().map(|p| p.iv).fold(f64::INFINITY, f64::min);
                    let hi = points.iter().map(|p| p.iv).fold(0.0, f64::max);
                    prop_assert!(v >= lo && v <= hi);
                }
            }
            // The put wing sits above the call wing on a downward-sloping smile.
            if let (Some(c), Some(p)) = (
                wing_vol(&points, sqrt_t, OptionRight::Call),
                wing_vol(&points, sqrt_t, OptionRight::Put),
            ) {
                prop_assert!(c <= p + 1e-12);
            }
        }
    }
}
