//! The option chains of the synthetic market: smile, strike grid, quotes, interest.

use chrono::NaiveDateTime;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use volta_core::expiry::Expiry;
use volta_core::{ContractKey, OptionQuote, OptionRight, Price, Strike, VendorAnalytics};
use volta_pricing::{Vanilla, bsm};

use super::config::{ChainParams, ModelParams, SpreadModel};
use super::path::expected_variance;
use super::surface::{DaySurface, svi};
use crate::error::Result;

/// The implied-volatility surface of one session: an ATM term structure from the model's
/// risk-neutral expected variance, and a smile in standardised log-moneyness.
///
/// σ(K, T)² = σ_ATM(T)² · (1 + β(ρz + √(z² + c²) − c)), z = ln(K/F) / (σ_ATM(T)·√T):
/// Gatheral's SVI (2004; Gatheral and Jacquier 2014) in standardised log-moneyness, with
/// σ_ATM(T)² the risk-neutral expected average variance to T, F = S·e^{(r−q)T}, and β, ρ, c set
/// from [`ChainParams::skew`](super::ChainParams::skew) (the slope of σ/σ_ATM in z at the
/// money), [`ChainParams::curvature`](super::ChainParams::curvature) and
/// [`ChainParams::wing_asymmetry`](super::ChainParams::wing_asymmetry). SVI's wings are linear
/// in variance, so prices stay monotone and convex in strike far out (a polynomial in z is
/// not: its call wing turns up and breaks monotonicity on short expiries). Measured in
/// log-moneyness the skew is a/√T: steeper for short expiries, the 1/√T term structure of
/// equity-index skew (Gatheral 2006, "The Volatility Surface", ch. 7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smile {
    /// Spot, US dollars.
    pub spot: f64,
    /// Risk-free rate per year, continuously compounded.
    pub rate: f64,
    /// Dividend yield per year, continuously compounded.
    pub dividend_yield: f64,
    /// Instantaneous variance of the model at the close, per year.
    pub variance: f64,
    pub(crate) model: ModelParams,
    pub(crate) chain: ChainParams,
    /// The session's surface from the real volatility indices, when the market was built from
    /// them ([`super::SyntheticMarket::from_history_with`]): it replaces the model's ATM term
    /// structure and the config's slope and curvature.
    pub(crate) surface: Option<DaySurface>,
}

/// One option priced by a [`Smile`] and quoted as the synthetic chain would quote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelQuote {
    /// Implied vol per √year.
    pub implied_vol: f64,
    /// Model value, US dollars.
    pub price: f64,
    /// Bid, US dollars (on the tick grid, 0 for an option worth less than half its spread).
    pub bid: f64,
    /// Ask, US dollars.
    pub ask: f64,
    /// Black-Scholes-Merton delta at the implied vol.
    pub delta: f64,
}

impl Smile {
    /// Forward price for `years` to expiry, US dollars.
    #[must_use]
    pub fn forward(&self, years: f64) -> f64 {
        self.spot * ((self.rate - self.dividend_yield) * years).exp()
    }

    /// At-the-money-forward implied volatility for `years` (ACT/365) to expiry, per √year.
    #[must_use]
    pub fn atm_vol(&self, years: f64) -> f64 {
        match &self.surface {
            Some(surface) => surface.atm_vol(years),
            None => expected_variance(&self.model, self.variance, years).sqrt(),
        }
    }

    /// The surface from the real volatility indices this smile follows, if any.
    #[must_use]
    pub const fn surface(&self) -> Option<&DaySurface> {
        self.surface.as_ref()
    }

    /// The option of `right` at `strike` (US dollars), `years` to expiry (`days` calendar
    /// days), priced on the smile and quoted with the chain's spread model at volatility
    /// level `vix`: what [`super::SyntheticMarket::chain`] would quote for it.
    ///
    /// # Errors
    /// [`DataError::Pricing`](crate::DataError) if the pricer rejects an input.
    pub fn quote(
        &self,
        right: OptionRight,
        strike: f64,
        years: f64,
        vix: f64,
    ) -> Result<ModelQuote> {
        let atm = self.atm_vol(years);
        let vol = self.vol_with_atm(atm, strike, years);
        let z = (strike / self.forward(years)).ln() / (atm * years.sqrt());
        let option = Vanilla {
            right,
            spot: self.spot,
            strike,
            years,
            rate: self.rate,
            dividend_yield: self.dividend_yield,
        };
        let g = bsm::greeks(&option, vol)?;
        let (bid, ask) = bid_ask_cents(&self.chain, self.spot, g.price, z, years * 365.0, vix);
        Ok(ModelQuote {
            implied_vol: vol,
            price: g.price,
            bid: bid as f64 / 100.0,
            ask: ask as f64 / 100.0,
            delta: g.delta,
        })
    }

    /// Implied volatility per √year at `strike` (US dollars) for `years` to expiry.
    #[must_use]
    pub fn vol(&self, strike: f64, years: f64) -> f64 {
        let atm = self.atm_vol(years);
        self.vol_with_atm(atm, strike, years)
    }

    fn vol_with_atm(&self, atm: f64, strike: f64, years: f64) -> f64 {
        let z = (strike / self.forward(years)).ln() / (atm * years.sqrt());
        let (beta, rho, c) = match &self.surface {
            Some(s) => svi(s.skew, s.curvature, self.chain.wing_asymmetry),
            None => self.chain.svi(),
        };
        atm * (1.0 + beta * (rho * z + (z * z + c * c).sqrt() - c)).sqrt()
    }
}

/// `raw` rounded up to 1, 2.5 or 5 × 10ⁿ, at least $0.10, in thousandths of a dollar.
fn nice_step_thousandths(raw: f64) -> i64 {
    let mut unit: i64 = 100; // $0.10
    loop {
        for mult in [10, 25, 50] {
            let step = unit * mult / 10;
            if step as f64 >= raw * 1000.0 || step >= 10_000_000 {
                return step;
            }
        }
        unit *= 10;
    }
}

/// Rounds `x` dollars down (`up = false`) or up to a multiple of `tick` cents, in cents.
fn to_ticks(x: f64, tick: u32, up: bool) -> i64 {
    let t = f64::from(tick);
    let n = x * 100.0 / t;
    // A relative nudge so that a price a rounding error off a tick stays on it.
    let n = if up {
        (n - 1e-9).ceil()
    } else {
        (n + 1e-9).floor()
    };
    (n as i64) * i64::from(tick)
}

/// The bid and ask in cents of an option worth `price` dollars, `z` standard deviations from
/// the money and `days` calendar days to expiry, at volatility level `vix`: the chain's spread
/// model around the price, on the tick grid (the linear model's rounded outwards, the fitted
/// one's to the nearest tick); the bid at least 0, the ask at least one tick.
fn bid_ask_cents(
    c: &ChainParams,
    spot: f64,
    price: f64,
    z: f64,
    days: f64,
    vix: f64,
) -> (i64, i64) {
    let tick = i64::from(c.tick_cents);
    match &c.spreads {
        SpreadModel::Linear => {
            let vix_factor = (vix / 20.0).max(0.1).powf(c.spread_vix_elasticity);
            let spread = (c.spread_base + c.spread_fraction * price)
                * (1.0 + c.spread_widening_per_sd * z.abs())
                * vix_factor;
            let bid = to_ticks(price - 0.5 * spread, c.tick_cents, false).max(0);
            let ask = to_ticks(price + 0.5 * spread, c.tick_cents, true).max(tick);
            (bid, ask)
        }
        SpreadModel::Fitted(f) => {
            // The fit is of the quoted spread itself: each side goes to the nearest tick (not
            // outwards, which would add a tick on average), at least one tick apart.
            let spread = f.spread(spot, price, z, days, vix);
            let nearest = |x: f64| (x * 100.0 / f64::from(c.tick_cents)).round() as i64 * tick;
            let bid = nearest(price - 0.5 * spread).max(0);
            let ask = nearest(price + 0.5 * spread).max(bid + tick);
            (bid, ask)
        }
    }
}

fn cents(c: i64) -> Result<Price> {
    Ok(Price::try_new(Decimal::new(c.max(0), 2))?)
}

/// One expiry to quote.
pub(crate) struct ExpiryToQuote<'a> {
    pub(crate) expiry: &'a Expiry,
    pub(crate) years: f64,
    pub(crate) days: f64,
}

/// The quotes of one session's chain, in chain order (expiry, strike, call before put). The
/// strikes of `held` contracts are quoted on their expiry even outside the day's strike range.
pub(crate) fn quotes(
    smile: &Smile,
    vix: f64,
    as_of: NaiveDateTime,
    expiries: &[ExpiryToQuote<'_>],
    held: &[ContractKey],
    rng: &mut ChaCha8Rng,
) -> Result<Vec<OptionQuote>> {
    let c = &smile.chain;
    let s = smile.spot;
    let fine = nice_step_thousandths(s * c.strike_step_fraction);
    let mut out = Vec::new();
    let mut strikes: Vec<i64> = Vec::new();
    for e in expiries {
        let t = e.years;
        let f = smile.forward(t);
        let atm = smile.atm_vol(t);
        let sd = atm * t.sqrt();
        let f_th = f * 1000.0;
        strike_grid(c, f_th, sd, fine, &mut strikes);
        strikes.extend(
            held.iter()
                .filter(|h| h.expiry() == e.expiry.date && h.root() == e.expiry.root)
                .filter_map(|h| (h.strike().value() * Decimal::ONE_THOUSAND).to_i64()),
        );
        strikes.sort_unstable();
        strikes.dedup();
        strikes.retain(|&k| k > 0 && k <= 99_999_999);
        let monthly = e.expiry.kind == volta_core::expiry::ExpiryKind::Monthly;
        for &k_th in &strikes {
            let k = k_th as f64 / 1000.0;
            let vol = smile.vol_with_atm(atm, k, t);
            let z = (k / f).ln() / sd;
            let strike = Strike::try_new(Decimal::new(k_th, 3))?;
            // Open interest: a bell in z (σ = 2), more on monthlies, less on far expiries.
            let oi_mean =
                c.open_interest_scale * (-z * z / 8.0).exp() * if monthly { 1.0 } else { 0.4 }
                    / (1.0 + e.days / 60.0);
            // Volume: a turnover of the open interest, higher near expiry, near the money
            // and in turbulent markets.
            let turnover = c.volume_turnover
                * (1.0 + 4.0 * (-e.days / 5.0).exp())
                * (-z * z / 8.0).exp()
                * vix
                / 20.0;
            for right in [OptionRight::Call, OptionRight::Put] {
                let option = Vanilla {
                    right,
                    spot: s,
                    strike: k,
                    years: t,
                    rate: smile.rate,
                    dividend_yield: smile.dividend_yield,
                };
                let g = bsm::greeks(&option, vol)?;
                let (bid, ask) = bid_ask_cents(c, s, g.price, z, e.days, vix);
                let (z_oi, z_vol): (f64, f64) =
                    (rng.sample(StandardNormal), rng.sample(StandardNormal));
                // Lognormal noise of mean 1: σ = 0.5 for open interest, 0.7 for volume.
                let oi = oi_mean * (0.5 * z_oi - 0.125).exp();
                let volume = oi * turnover * (0.7 * z_vol - 0.245).exp();
                let mut q = OptionQuote::new(
                    ContractKey::try_new(&e.expiry.root, e.expiry.date, right, strike)?,
                    Some(cents(bid)?),
                    Some(cents(ask)?),
                );
                q.volume = volume as u64;
                q.open_interest = oi as u64;
                q.updated_at = Some(as_of);
                q.vendor = Some(VendorAnalytics {
                    implied_vol: Some(vol),
                    delta: Some(g.delta),
                    gamma: Some(g.gamma),
                    theta: Some(g.theta_per_calendar_day()),
                    vega: Some(g.vega_per_vol_point()),
                });
                out.push(q);
            }
        }
    }
    Ok(out)
}

/// The day's strikes of one expiry, in thousandths of a dollar, ascending: the fine grid over
/// the dense range (at least `min_strikes_each_side` each side of the money) and the wide grid
/// beyond it. `f_th` is the forward in thousandths, `sd` the ATM standard deviation to expiry.
fn strike_grid(c: &ChainParams, f_th: f64, sd: f64, fine: i64, strikes: &mut Vec<i64>) {
    let wide = fine * i64::from(c.wide_step_multiple);
    let atm_i = (f_th / fine as f64).round() as i64;
    let min_each = i64::from(c.min_strikes_each_side);
    let lo = ((f_th * (-c.dense_range_sd * sd).exp() / fine as f64).floor() as i64)
        .min(atm_i - min_each)
        .max(1);
    let hi =
        ((f_th * (c.dense_range_sd * sd).exp() / fine as f64).ceil() as i64).max(atm_i + min_each);
    let wide_lo = ((f_th * (-c.wide_range_sd * sd).exp() / wide as f64).ceil() as i64).max(1);
    let wide_hi = (f_th * (c.wide_range_sd * sd).exp() / wide as f64).floor() as i64;
    strikes.clear();
    // Wide strikes below the dense range, the dense range, wide strikes above: ascending.
    let (dense_lo_th, dense_hi_th) = (lo * fine, hi * fine);
    for i in wide_lo..=wide_hi {
        let k = i * wide;
        if k < dense_lo_th {
            strikes.push(k);
        }
    }
    strikes.extend((lo..=hi).map(|i| i * fine));
    for i in wide_lo..=wide_hi {
        let k = i * wide;
        if k > dense_hi_th {
            strikes.push(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_nice() {
        assert_eq!(nice_step_thousandths(450.0 * 0.0025), 2_500);
        assert_eq!(nice_step_thousandths(0.9), 1_000);
        assert_eq!(nice_step_thousandths(0.01), 100);
        assert_eq!(nice_step_thousandths(4500.0 * 0.0025), 25_000);
        assert_eq!(nice_step_thousandths(3.0), 5_000);
    }

    #[test]
    fn ticks_round_outwards() {
        assert_eq!(to_ticks(1.234, 1, false), 123);
        assert_eq!(to_ticks(1.234, 1, true), 124);
        assert_eq!(to_ticks(1.23, 1, true), 123);
        assert_eq!(to_ticks(1.23, 5, true), 125);
        assert_eq!(to_ticks(-0.004, 1, false), -1);
    }
}
