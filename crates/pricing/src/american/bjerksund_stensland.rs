//! Bjerksund & Stensland (2002), "Closed form valuation of American options", Discussion paper,
//! Norwegian School of Economics (NHH); in the notation of Haug (2007), "The Complete Guide to
//! Option Pricing Formulas", 2nd ed., §3.3.3.
//!
//! The holder is assumed to follow a two-step flat exercise boundary: exercise as soon as S
//! reaches I₁ during [0, t₁] or I₂ during [t₁, T], with t₁ = ½(√5 − 1)T. The value of that
//! feasible policy is a lower bound of the American price (and, in practice, within a few
//! cents of it at S = 100); it is priced in closed form with the univariate and bivariate
//! normal distributions. For a call with b < r (with b ≥ r early exercise is never optimal):
//!
//! C = α₂S^β − α₂φ(S, t₁, β, I₂, I₂) + φ(S, t₁, 1, I₂, I₂) − φ(S, t₁, 1, I₁, I₂)
//!   − Xφ(S, t₁, 0, I₂, I₂) + Xφ(S, t₁, 0, I₁, I₂) + α₁φ(S, t₁, β, I₁, I₂)
//!   − α₁ψ(S, T, β, I₁, I₂, I₁, t₁) + ψ(S, T, 1, I₁, I₂, I₁, t₁) − ψ(S, T, 1, X, I₂, I₁, t₁)
//!   − Xψ(S, T, 0, I₁, I₂, I₁, t₁) + Xψ(S, T, 0, X, I₂, I₁, t₁),
//!
//! with αᵢ = (Iᵢ − X)Iᵢ^{−β}, β = (½ − b/σ²) + √((b/σ² − ½)² + 2r/σ²), B∞ = βX/(β − 1),
//! B₀ = max(X, rX/(r − b)), Iᵢ = B₀ + (B∞ − B₀)(1 − e^{h(tᵢ)}),
//! h(t) = −(bt + 2σ√t)·X²/((B∞ − B₀)B₀), and C = S − X when S ≥ I₂. φ is the value of a
//! knock-out power claim (one normal distribution) and ψ its two-period analogue (bivariate
//! normal with correlation √(t₁/T)); see `phi` and `psi` in the source.
//!
//! Puts use the put-call transformation (Bjerksund & Stensland 1993; Haug 2007, §3.3):
//! P(S, X, T, r, b, σ) = C(X, S, T, r − b, −b, σ).
//!
//! Powers such as S^β and (I/S)^κ are evaluated in log space and combined with log Φ, so that
//! small volatilities (β, κ ~ 2b/σ² large) neither overflow nor produce ∞·0.
//!
//! The one case outside the formula's domain — a transformed call with r < 0 and b ≥ r (a call
//! with r < 0 ≤ −q, or a put with q < 0 and r ≤ 0), where early exercise is driven by negative
//! rates and β has no root above 1 — is priced on the Leisen-Reimer lattice with
//! [`IMPLIED_VOL_LATTICE_STEPS`] steps instead.

use std::sync::LazyLock;

use super::bivariate::FixedCorrelation;
use super::{IMPLIED_VOL_LATTICE_STEPS, Prepared, european_price, lattice, prepare};
use crate::error::Result;
use crate::normal::{erfcx, norm_cdf};
use crate::types::{OptionRight, Vanilla};

/// Bjerksund-Stensland (2002) value of the American option at volatility `vol` (per √year).
///
/// The result is floored at the European price and at the immediate-exercise value, both
/// no-arbitrage lower bounds of the American price (the approximation itself, the value of a
/// feasible exercise policy, is very nearly always above them already).
///
/// # Errors
/// [`PricingError::InvalidInput`](crate::PricingError) for a NaN, infinite or out-of-domain
/// input.
pub fn price(option: &Vanilla, vol: f64) -> Result<f64> {
    match prepare(option, vol)? {
        Prepared::Done(value) => Ok(value),
        Prepared::Model(o) => {
            let (s, x, r, b) = match o.right {
                OptionRight::Call => (o.spot, o.strike, o.rate, o.carry),
                OptionRight::Put => (o.strike, o.spot, o.rate - o.carry, -o.carry),
            };
            if b >= r {
                // Negative-rate corner outside the formula's domain (module notes).
                return lattice::price_inputs(&o, IMPLIED_VOL_LATTICE_STEPS);
            }
            let value = call(s, x, o.years, r, b, o.vol);
            Ok(value
                .max(european_price(&o))
                .max(o.right.intrinsic(o.spot, o.strike)))
        }
    }
}

/// The correlation of ψ's bivariate normals, √(t₁/T) = √((√5 − 1)/2) for every option, and
/// its quadrature tables (positive and negative), built once. Twelve Gauss-Legendre points are
/// exact to ~1e-15 at this |ρ| ≈ 0.786 (tested in `bivariate`).
static CORRELATION: LazyLock<[FixedCorrelation; 2]> = LazyLock::new(|| {
    let rho = (0.5 * (5.0_f64.sqrt() - 1.0)).sqrt();
    [
        FixedCorrelation::twelve_point(rho),
        FixedCorrelation::twelve_point(-rho),
    ]
});

/// Rate, carry and volatility of one valuation.
#[derive(Clone, Copy)]
struct Market {
    r: f64,
    b: f64,
    v: f64,
}

/// The 2002 call for b < r (Haug 2007, §3.3.3).
fn call(s: f64, x: f64, t: f64, r: f64, b: f64, v: f64) -> f64 {
    let m = Market { r, b, v };
    let v2 = v * v;
    let beta = (0.5 - b / v2) + ((b / v2 - 0.5).powi(2) + 2.0 * r / v2).sqrt();
    let b_inf = beta / (beta - 1.0) * x;
    let b_0 = if r / (r - b) > 1.0 {
        r / (r - b) * x
    } else {
        x
    };
    let t1 = 0.5 * (5.0_f64.sqrt() - 1.0) * t;
    let trigger = |u: f64| {
        let h = -(b * u + 2.0 * v * u.sqrt()) * x * x / ((b_inf - b_0) * b_0);
        b_0 - (b_inf - b_0) * h.exp_m1()
    };
    let i1 = trigger(t1);
    let i2 = trigger(t);
    if s >= i2 {
        return s - x;
    }
    // αᵢ·(power claim with exponent β) = (Iᵢ − X)·(claim)/Iᵢ^β: scale by Iᵢ (ref level).
    // Every logarithm the terms need is a combination of these four.
    let l = Logs {
        s: s.ln(),
        x: x.ln(),
        i1: i1.ln(),
        i2: i2.ln(),
    };
    let a1 = i1 - x;
    let a2 = i2 - x;
    let first = a2 * (beta * (l.s - l.i2)).exp();
    let phis = -a2 * phi(t1, beta, l.i2, l.i2, l.i2, &l, m)
        + s * phi(t1, 1.0, l.i2, l.i2, l.s, &l, m)
        - s * phi(t1, 1.0, l.i1, l.i2, l.s, &l, m)
        - x * phi(t1, 0.0, l.i2, l.i2, 0.0, &l, m)
        + x * phi(t1, 0.0, l.i1, l.i2, 0.0, &l, m)
        + a1 * phi(t1, beta, l.i1, l.i2, l.i1, &l, m);
    let psis = -a1 * psi(t, t1, beta, l.i1, l.i1, &l, m) + s * psi(t, t1, 1.0, l.i1, l.s, &l, m)
        - s * psi(t, t1, 1.0, l.x, l.s, &l, m)
        - x * psi(t, t1, 0.0, l.i1, 0.0, &l, m)
        + x * psi(t, t1, 0.0, l.x, 0.0, &l, m);
    first + phis + psis
}

/// Natural logarithms of the spot, strike and the two trigger prices.
struct Logs {
    s: f64,
    x: f64,
    i1: f64,
    i2: f64,
}

/// ln Φ(x), accurate in the far left tail through the scaled complementary error function:
/// Φ(x) = ½·erfcx(−x/√2)·e^{−x²/2}.
fn log_norm_cdf(x: f64) -> f64 {
    if x < -5.0 {
        (0.5 * erfcx(-x * std::f64::consts::FRAC_1_SQRT_2)).ln() - 0.5 * x * x
    } else {
        norm_cdf(x).ln()
    }
}

/// e^{a}·m for m ≥ 0 without overflow in e^{a} when the product is representable.
#[inline]
fn exp_times(a: f64, m: f64) -> f64 {
    if m <= 0.0 { 0.0 } else { (a + m.ln()).exp() }
}

/// φ(S, T, γ, H, I)·ref^{−γ} (Haug 2007, §3.3.3), from the logarithms of H, I and ref:
/// φ = e^{λT} S^γ [Φ(d) − (I/S)^κ Φ(d − 2 ln(I/S)/(σ√T))], with
/// λ = −r + γb + ½γ(γ − 1)σ², d = −[ln(S/H) + (b + (γ − ½)σ²)T]/(σ√T), κ = 2b/σ² + 2γ − 1.
fn phi(t: f64, gamma: f64, ln_h: f64, ln_i: f64, ln_ref: f64, l: &Logs, m: Market) -> f64 {
    let Market { r, b, v } = m;
    let v2 = v * v;
    let v_sqrt_t = v * t.sqrt();
    let lambda = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2;
    let kappa = 2.0 * b / v2 + 2.0 * gamma - 1.0;
    let d = -((l.s - ln_h) + (b + (gamma - 0.5) * v2) * t) / v_sqrt_t;
    let log_i_over_s = ln_i - l.s;
    let log_front = lambda * t + gamma * (l.s - ln_ref);
    (log_front + log_norm_cdf(d)).exp()
        - (log_front + kappa * log_i_over_s + log_norm_cdf(d - 2.0 * log_i_over_s / v_sqrt_t)).exp()
}

/// ψ(S, T, γ, H, I₂, I₁, t₁)·ref^{−γ} (Haug 2007, §3.3.3), from the logarithms of H and ref:
/// ψ = e^{λT} S^γ [M(−e₁, −f₁, ρ) − (I₂/S)^κ M(−e₂, −f₂, ρ) − (I₁/S)^κ M(−e₃, −f₃, −ρ)
///      + (I₁/I₂)^κ M(−e₄, −f₄, −ρ)], ρ = √(t₁/T), with e₁..e₄ over t₁ and f₁..f₄ over T:
/// e₁,₃ = [ln(S/I₁) ± μt₁]/(σ√t₁), e₂,₄ = [ln(I₂²/(SI₁)) ± μt₁]/(σ√t₁),
/// f₁ = [ln(S/H) + μT]/(σ√T), f₂ = [ln(I₂²/(SH)) + μT]/(σ√T), f₃ = [ln(I₁²/(SH)) + μT]/(σ√T),
/// f₄ = [ln(SI₁²/(HI₂²)) + μT]/(σ√T), μ = b + (γ − ½)σ².
fn psi(t: f64, t1: f64, gamma: f64, ln_h: f64, ln_ref: f64, l: &Logs, m: Market) -> f64 {
    let Market { r, b, v } = m;
    let v2 = v * v;
    let drift = b + (gamma - 0.5) * v2;
    let (s1, s2) = (v * t1.sqrt(), v * t.sqrt());
    let ln_s_i1 = l.s - l.i1;
    let ln_i2sq_s_i1 = 2.0 * l.i2 - l.s - l.i1;
    let e1 = (ln_s_i1 + drift * t1) / s1;
    let e2 = (ln_i2sq_s_i1 + drift * t1) / s1;
    let e3 = (ln_s_i1 - drift * t1) / s1;
    let e4 = (ln_i2sq_s_i1 - drift * t1) / s1;
    let f1 = ((l.s - ln_h) + drift * t) / s2;
    let f2 = ((2.0 * l.i2 - l.s - ln_h) + drift * t) / s2;
    let f3 = ((2.0 * l.i1 - l.s - ln_h) + drift * t) / s2;
    let f4 = ((l.s + 2.0 * l.i1 - ln_h - 2.0 * l.i2) + drift * t) / s2;
    // ρ = √(t₁/T) is the same for every option (t₁ is a fixed fraction of T).
    let [plus, minus] = &*CORRELATION;
    let lambda = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2;
    let kappa = 2.0 * b / v2 + 2.0 * gamma - 1.0;
    let log_front = lambda * t + gamma * (l.s - ln_ref);
    exp_times(log_front, plus.cdf(-e1, -f1))
        - exp_times(log_front + kappa * (l.i2 - l.s), plus.cdf(-e2, -f2))
        - exp_times(log_front + kappa * (l.i1 - l.s), minus.cdf(-e3, -f3))
        + exp_times(log_front + kappa * (l.i1 - l.i2), minus.cdf(-e4, -f4))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_norm_cdf_is_continuous_and_accurate_in_the_tail() {
        assert!((log_norm_cdf(-5.0 - 1e-12) - norm_cdf(-5.0).ln()).abs() < 1e-9);
        // ln Φ(−40) = −804.608 (Φ(−40) underflows an f64): asymptotically
        // ln Φ(x) ≈ −x²/2 − ln(−x√(2π)) − 1/x² …
        let x = -40.0_f64;
        let asymptotic =
            -0.5 * x * x - (-x * (2.0 * std::f64::consts::PI).sqrt()).ln() - 1.0 / (x * x);
        assert!((log_norm_cdf(x) - asymptotic).abs() < 1e-5);
    }
}
