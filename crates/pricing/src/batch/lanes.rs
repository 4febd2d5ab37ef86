//! Branch-free per-option math for the batch kernels (the elementary functions e^x, ln x and
//! Φ come from [`crate::fastmath`], which the American approximations share).
//!
//! Every function here is straight-line code on `f64`s: no early return, no data-dependent
//! branch, no call into libm. Conditions are written as `if c { a } else { b }` on values that
//! are both already computed, which LLVM lowers to a select (a blend on SIMD lanes). The
//! chunk loop in [`super`] applies [`gbs`] to every lane of an array, and because the body has
//! no branches and no calls the loop vectoriser turns it into AVX-512/AVX2/SSE/NEON code under
//! the target features that `pulp` enabled at runtime.
//!
//! The const parameter `F` says whether the dispatched instruction set has fused multiply-add
//! (see [`crate::fastmath`]).
//!
//! Divisions are the costliest vector operations (a 512-bit `vdivpd` occupies the divider for
//! ~10-16 cycles), so the kernel shares them: one reciprocal of σ√T serves d1, gamma and theta,
//! and Φ(θd1), Φ(θd2) are finished with a single division between them (see
//! [`norm_cdf_pair`]).

#![expect(
    clippy::inline_always,
    reason = "pulp enables the SIMD target features on `with_simd` only; the kernel must be inlined into it to be compiled with them"
)]

use crate::fastmath::{exp, ln, madd, norm_cdf_pair};
use crate::normal::ONE_OVER_SQRT_TWO_PI;

/// One option's inputs for the generalised Black-Scholes kernel (Haug's cost of carry b).
#[derive(Clone, Copy)]
pub(crate) struct Lane {
    /// +1 call, −1 put.
    pub(crate) theta: f64,
    pub(crate) s: f64,
    pub(crate) k: f64,
    pub(crate) t: f64,
    pub(crate) r: f64,
    pub(crate) b: f64,
    pub(crate) v: f64,
}

/// One option's price and first-order greeks, and whether its inputs were valid.
#[derive(Clone, Copy, Default)]
pub(crate) struct LaneGreeks {
    pub(crate) price: f64,
    pub(crate) delta: f64,
    pub(crate) gamma: f64,
    pub(crate) vega: f64,
    pub(crate) theta: f64,
    pub(crate) rho: f64,
    pub(crate) dividend_rho: f64,
    pub(crate) valid: bool,
    /// Every greek (not the price) is finite; the caller checks the price itself.
    pub(crate) greeks_finite: bool,
}

/// Whether a lane's inputs are in the models' domain: spot and strike finite and > 0, years
/// finite and ≥ 0, rate and carry finite, vol finite and ≥ 0. Non-short-circuit `&` keeps it a
/// chain of vector compares.
#[inline(always)]
#[expect(
    clippy::needless_bitwise_bool,
    reason = "`&` keeps the checks branch-free (vector compares)"
)]
pub(crate) fn is_valid(o: &Lane) -> bool {
    // A NaN fails every comparison; `x < ∞` suffices for finiteness once x ≥ 0.
    let in_range =
        |x: f64, positive: bool| (if positive { x > 0.0 } else { x >= 0.0 }) & (x < f64::INFINITY);
    let finite = |x: f64| x.abs() < f64::INFINITY;
    in_range(o.s, true)
        & in_range(o.k, true)
        & in_range(o.t, false)
        & finite(o.r)
        & finite(o.b)
        & in_range(o.v, false)
}

/// Price and first-order greeks of one option: the formulas of `gbs::greeks` (Haug 2007,
/// §1.1.6 and §2.1) without branches. `forward` (a constant after inlining) selects Black-76's
/// rho (−T·V, dividend rho 0) over Black-Scholes-Merton's. Invalid inputs (see [`is_valid`])
/// are replaced by a harmless option before the arithmetic and give NaN in every output.
///
/// Where the scalar kernel divides, this one multiplies by shared reciprocals: d1 =
/// ln(F/K)·(1/σ√T) + σ√T/2, σ/√T = σ²·(1/σ√T) in theta, and e^{(b−r)T} = e^{bT}·e^{−rT},
/// F/K = (S/K)·e^{bT} save an exponential. σ√T below the smallest normal double (whose
/// reciprocal would overflow) counts as no diffusion, like σ√T = 0.
#[inline(always)]
pub(crate) fn gbs<const F: bool>(input: &Lane, forward: bool) -> LaneGreeks {
    let valid = is_valid(input);
    let pick = |x: f64, benign: f64| if valid { x } else { benign };
    let (theta_sign, s, k, t, r, b, v) = (
        pick(input.theta, 1.0),
        pick(input.s, 1.0),
        pick(input.k, 1.0),
        pick(input.t, 0.0),
        pick(input.r, 0.0),
        pick(input.b, 0.0),
        pick(input.v, 0.0),
    );
    // Black-76 has b = 0: e^{bT} = 1 without an exponential.
    let bt = if forward { 0.0 } else { b * t };
    let growth = if forward { 1.0 } else { exp::<F>(bt) };
    let df = exp::<F>(-r * t);
    let carry_df = growth * df;
    let sqrt_t = t.sqrt();
    let v_sqrt_t = v * sqrt_t;
    let diffusion = v_sqrt_t >= f64::MIN_POSITIVE;
    // Without diffusion the formulas divide by zero; compute them on a dummy 1 and blend.
    let vst = if diffusion { v_sqrt_t } else { 1.0 };
    let inv_vst = 1.0 / vst;
    let ratio = s / k;
    let log_moneyness = ln::<F>(ratio) + bt;
    let d1 = madd::<F>(log_moneyness, inv_vst, 0.5 * vst);
    let d2 = d1 - vst;
    let e1 = exp::<F>(-0.5 * d1 * d1);
    // φ(d2) = φ(d1)·F/K (as in gbs::terms): one exponential serves both tails.
    let forward_over_strike = ratio * growth;
    let e2 = e1 * forward_over_strike;
    // At zero diffusion Φ(θd) is the indicator of finishing in the money, F > K for a call.
    // (The scalar kernel compares S·e^{bT} with K; F/K > 1 is the same test up to rounding
    // at the money, where the value is zero either way.)
    let itm = if theta_sign * (forward_over_strike - 1.0) > 0.0 {
        1.0
    } else {
        0.0
    };
    let [phi1, phi2] = norm_cdf_pair::<F>([theta_sign * d1, theta_sign * d2], [e1, e2]);
    let cdf_d1 = if diffusion { phi1 } else { itm };
    let cdf_d2 = if diffusion { phi2 } else { itm };
    let pdf_d1 = if diffusion {
        ONE_OVER_SQRT_TWO_PI * e1
    } else {
        0.0
    };

    let spot_leg = s * carry_df;
    let strike_leg = k * df;
    // The two legs' values, θ·S·e^{(b−r)T}·Φ(θd1) and θ·K·e^{−rT}·Φ(θd2) (θ = ±1 exactly):
    // the price is their difference and theta and the rhos are multiples of them.
    let signed_cdf_d1 = theta_sign * cdf_d1;
    let spot_value = signed_cdf_d1 * spot_leg;
    let strike_value = theta_sign * cdf_d2 * strike_leg;
    let raw_price = spot_value - strike_value;
    // Not `max(0.0)`, which would turn a NaN (overflowed e^{bT}, 0·∞) into 0.
    let price = if raw_price < 0.0 { 0.0 } else { raw_price };
    let delta = signed_cdf_d1 * carry_df;
    // pdf_d1 = 0 without diffusion, so these vanish there as in the scalar kernel.
    let gamma = carry_df * pdf_d1 * inv_vst / s;
    let vega = spot_leg * pdf_d1 * sqrt_t;
    // S·e^{(b−r)T}·φ(d1)·σ/(2√T), with σ/√T = σ²/(σ√T).
    let diffusion_theta = -0.5 * spot_leg * pdf_d1 * (v * (v * inv_vst));
    let theta = madd::<F>(
        -(b - r),
        spot_value,
        madd::<F>(-r, strike_value, diffusion_theta),
    );
    let carry_rho = t * spot_value;
    let (rho, dividend_rho) = if forward {
        (-t * price, 0.0)
    } else {
        (t * strike_value, -carry_rho)
    };
    let out = |x: f64| if valid { x } else { f64::NAN };
    let greeks_finite = [delta, gamma, vega, theta, rho, dividend_rho]
        .iter()
        .fold(true, |all, x| all & (x.abs() < f64::INFINITY));
    LaneGreeks {
        price: out(price),
        delta: out(delta),
        gamma: out(gamma),
        vega: out(vega),
        theta: out(theta),
        rho: out(rho),
        dividend_rho: out(dividend_rho),
        valid,
        greeks_finite,
    }
}
