//! Barone-Adesi & Whaley (1987), "Efficient analytic approximation of American option values",
//! Journal of Finance 42(2), 301-320, in the cost-of-carry form of Haug (2007), "The Complete
//! Guide to Option Pricing Formulas", 2nd ed., §3.3.1 (eqs. for the call and the put).
//!
//! The early-exercise premium solves an approximation of the Black-Scholes PDE (a quadratic
//! approximation in the early-exercise premium): with N = 2b/σ², M = 2r/σ², K(T) = 1 − e^{−rT},
//!
//! - call: q₂ = [−(N − 1) + √((N − 1)² + 4M/K)]/2, and for S < S*
//!   C = c(S) + A₂ (S/S*)^{q₂}, A₂ = (S*/q₂)(1 − e^{(b−r)T} Φ(d₁(S*))); C = S − X above S*;
//! - put: q₁ = [−(N − 1) − √((N − 1)² + 4M/K)]/2, and for S > S**
//!   P = p(S) + A₁ (S/S**)^{q₁}, A₁ = −(S**/q₁)(1 − e^{(b−r)T} Φ(−d₁(S**))); P = X − S below S**.
//!
//! The critical prices S*, S** solve the smooth-pasting condition
//! θ(S − X) = v(S) + θ(1 − e^{(b−r)T} Φ(θd₁(S))) S/q by Newton's method from Barone-Adesi and
//! Whaley's seed (Haug's `Kc`/`Kp` functions), safeguarded by bisection inside a bracket so it
//! cannot diverge (deep out-of-the-money, low-volatility, short-dated cases), and iterated to a
//! relative 1e-14 rather than Haug's 1e-6, so that finite-difference greeks of the price are not
//! polluted by solver noise.
//!
//! The value is European plus a non-negative premium, so it is never below the European price.
//! Typical error against an accurate lattice: a few cents at S = 100 for maturities up to a
//! year, growing for long maturities (the quadratic approximation drops a time-derivative term).

use super::{Inputs, checked_price, max_or_nan};
use crate::error::{PricingError, Result};
use crate::fastmath::{SCALAR_FMA, exp_minus_half_square, norm_cdf_scalar as fast_norm_cdf};
use crate::gbs;
use crate::normal::{ONE_OVER_SQRT_TWO_PI, norm_cdf, norm_cdf_with_exp};
use crate::types::Vanilla;

/// Barone-Adesi-Whaley value of the American option at volatility `vol` (per √year).
///
/// Years = 0 gives the intrinsic value, vol = 0 the exact deterministic value, and a call
/// without dividends (q ≤ 0, r ≥ 0) or a put with r ≤ 0 ≤ q the European price exactly.
///
/// # Errors
/// [`PricingError::InvalidInput`] for a NaN, infinite or out-of-domain input;
/// [`PricingError::NoConvergence`] if the critical-price Newton iteration fails (not observed
/// for finite inputs; reported rather than returning a wrong number).
/// [`PricingError::Overflow`] if the value does not fit in an `f64`. The value is held inside
/// the no-arbitrage bounds (see [`american::price`](super::price)).
pub fn price(option: &Vanilla, vol: f64) -> Result<f64> {
    checked_price(option, vol, 0.0, value)
}

/// The approximation proper, for inputs past the trivial cases.
fn value(o: &Inputs) -> Result<f64> {
    let theta = o.right.sign();
    let (s, x, t, r, b, v) = (o.spot, o.strike, o.years, o.rate, o.carry, o.vol);
    let v2 = v * v;
    let n = 2.0 * b / v2;
    // M/K = 2r / (σ²(1 − e^{−rT})), which tends to 2/(σ²T) as r → 0.
    let m_over_k = if (r * t).abs() < 1e-12 {
        2.0 / (v2 * t)
    } else {
        2.0 * r / (v2 * -(-r * t).exp_m1())
    };
    let root = ((n - 1.0) * (n - 1.0) + 4.0 * m_over_k).sqrt();
    let q = 0.5 * (-(n - 1.0) + theta * root);
    let european = gbs_price(o, s);
    if !q.is_finite() || q == 0.0 {
        return Err(no_convergence("the quadratic exponent is not finite"));
    }
    let Some(critical) = critical_price(o, q, m_over_k)? else {
        return Ok(european);
    };
    if theta * (critical - s) <= 0.0 {
        // At or beyond the exercise boundary.
        return Ok(theta * (s - x));
    }
    let carry_df = ((b - r) * t).exp();
    let d1 = d1(critical, x, t, b, v);
    let a = theta * (critical / q) * (1.0 - carry_df * norm_cdf(theta * d1));
    let premium = a * ((s / critical).ln() * q).exp();
    Ok(max_or_nan(european + premium, o.right.intrinsic(s, x)))
}

#[inline]
fn d1(s: f64, x: f64, t: f64, b: f64, v: f64) -> f64 {
    ((s / x).ln() + (b + 0.5 * v * v) * t) / (v * t.sqrt())
}

#[inline]
fn gbs_price(o: &Inputs, s: f64) -> f64 {
    gbs::price(&o.gbs_at(s))
}

fn no_convergence(reason: &str) -> PricingError {
    PricingError::NoConvergence {
        solver: "Barone-Adesi-Whaley critical price",
        reason: reason.to_owned(),
    }
}

/// The critical price S* (call) or S** (put): the root of
/// f(S) = θ(S − X) − v(S) − θ(1 − e^{(b−r)T} Φ(θd₁)) S/q, by Newton from the Barone-Adesi-Whaley
/// seed (Haug 2007, §3.3.1 `Kc`, `Kp`), safeguarded by bisection inside a sign-change bracket.
/// `None` when there is no finite critical price (no early-exercise premium).
fn critical_price(o: &Inputs, q: f64, m_over_k: f64) -> Result<Option<f64>> {
    let theta = o.right.sign();
    let (x, t, r, b, v) = (o.strike, o.years, o.rate, o.carry, o.vol);
    let v2 = v * v;
    let n = 2.0 * b / v2;
    let sqrt_t = t.sqrt();
    // Seed: the perpetual critical price (T → ∞, where K → 1) blended toward the strike.
    let m = m_over_k * -(-r * t).exp_m1();
    let q_inf = 0.5 * (-(n - 1.0) + theta * ((n - 1.0) * (n - 1.0) + 4.0 * m).sqrt());
    let s_inf = x / (1.0 - 1.0 / q_inf);
    let mut s = if s_inf.is_finite() && theta * (s_inf - x) > 0.0 {
        let h = -(b * t + theta * 2.0 * v * sqrt_t) * x / (s_inf - x);
        if theta > 0.0 {
            x + (s_inf - x) * (1.0 - h.exp())
        } else {
            s_inf + (x - s_inf) * h.exp()
        }
    } else {
        x
    };
    if !(s.is_finite() && s > 0.0) {
        s = x;
    }
    let carry_df = ((b - r) * t).exp();
    let df = (-r * t).exp();
    let v_sqrt_t = v * sqrt_t;
    let drift = (b + 0.5 * v2) * t;
    // f and f′ of the smooth-pasting condition, with the European value written out
    // (θ[S e^{(b−r)T} Φ(θd₁) − X e^{−rT} Φ(θd₂)], as `gbs::price`) so that the discount factors,
    // Φ(θd₁) and e^{−d₁²/2} (for φ(d₁)) are computed once per step, with the inline exponential.
    let eval = |s: f64| {
        let d1 = ((s / x).ln() + drift) / v_sqrt_t;
        let e1 = exp_minus_half_square::<SCALAR_FMA>(d1);
        let cdf = norm_cdf_with_exp(theta * d1, e1);
        let cdf2 = fast_norm_cdf(theta * (d1 - v_sqrt_t));
        let european = (theta * (s * carry_df * cdf - x * df * cdf2)).max(0.0);
        let f = theta * (s - x) - european - theta * (1.0 - carry_df * cdf) * s / q;
        let df = theta - theta * carry_df * cdf - theta * (1.0 - carry_df * cdf) / q
            + carry_df * ONE_OVER_SQRT_TWO_PI * e1 / (v_sqrt_t * q);
        (f, df)
    };
    // Fast path: plain Newton from the seed, which converges in a handful of steps in all but
    // extreme cases; the safeguarded iteration below takes over if it leaves the in-the-money
    // side or stalls.
    let mut trial = s;
    for _ in 0..12 {
        let (f, df) = eval(trial);
        let next = trial - f / df;
        if !(next.is_finite() && theta * (next - x) > 0.0) {
            break;
        }
        if (next - trial).abs() <= 1e-14 * trial {
            return Ok(Some(next));
        }
        trial = next;
    }
    // Bracket: f < 0 at the strike, f > 0 far enough in the money (S → ∞ for a call, S → 0
    // for a put). Without a sign change there is no finite boundary and no premium.
    if eval(x).0 >= 0.0 {
        return Ok(Some(x));
    }
    let mut negative = x;
    let mut positive = if theta * (s - x) > 0.0 {
        s
    } else {
        x * 2.0_f64.powf(theta)
    };
    let mut found = false;
    for _ in 0..1100 {
        if eval(positive).0 > 0.0 {
            found = true;
            break;
        }
        negative = positive;
        positive *= 2.0_f64.powf(theta);
        if !(positive.is_finite() && positive > 0.0) {
            break;
        }
    }
    if !found {
        return Ok(None);
    }
    if !(theta * (s - negative) > 0.0 && theta * (positive - s) > 0.0) {
        s = 0.5 * (negative + positive);
    }
    // Newton, safeguarded by bisection inside the bracket.
    for _ in 0..200 {
        let (f, df) = eval(s);
        if f < 0.0 {
            negative = s;
        } else {
            positive = s;
        }
        let mut next = s - f / df;
        if !(theta * (next - negative) > 0.0 && theta * (positive - next) > 0.0) {
            next = 0.5 * (negative + positive);
        }
        if (next - s).abs() <= 1e-14 * s || (positive - negative).abs() <= 4.0 * f64::EPSILON * s {
            return Ok(Some(next));
        }
        s = next;
    }
    Err(no_convergence(
        "no convergence in 200 safeguarded Newton iterations",
    ))
}
