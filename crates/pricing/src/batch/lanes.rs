//! Branch-free per-option math for the batch kernels.
//!
//! Every function here is straight-line code on `f64`s: no early return, no data-dependent
//! branch, no call into libm. Conditions are written as `if c { a } else { b }` on values that
//! are both already computed, which LLVM lowers to a select (a blend on SIMD lanes). The
//! chunk loop in [`super`] applies [`gbs`] to every lane of an array, and because the body has
//! no branches and no calls the loop vectoriser turns it into AVX-512/AVX2/SSE code under the
//! target features that `pulp` enabled at runtime.
//!
//! No fused multiply-add is used (Rust never contracts `a * b + c`), so the results are the
//! same bits whatever instruction set the dispatcher picked.

#![expect(
    clippy::inline_always,
    reason = "pulp enables the SIMD target features on `with_simd` only; the kernel must be inlined into it to be compiled with them"
)]

use std::f64::consts::{FRAC_1_SQRT_2, LOG2_E};

use crate::normal::{A, B, C, D, ONE_OVER_SQRT_TWO_PI, P, Q};

/// 1.5·2⁵²: adding and subtracting it rounds |x| < 2⁵¹ to the nearest integer, and the low
/// bits of `x + ROUNDER` are that integer in two's complement.
const ROUNDER: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that n·`LN2_HI` is exact for |n| < 2²⁰ (fdlibm's `ln2_hi`, `ln2_lo`).
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// 1/√π.
const ONE_OVER_SQRT_PI: f64 = 0.564_189_583_547_756_3;

/// x rounded to the nearest integer (ties to even), for |x| < 2⁵¹.
#[inline(always)]
fn round_to_int(x: f64) -> f64 {
    (x + ROUNDER) - ROUNDER
}

/// 2ⁿ for an integer-valued n in [−1022, 1023], built from its exponent bits.
#[inline(always)]
fn pow2(n: f64) -> f64 {
    let n_bits = (n + ROUNDER).to_bits().wrapping_sub(ROUNDER.to_bits());
    f64::from_bits(n_bits.wrapping_add(1023) << 52)
}

/// e^x to about 1 ulp, branch-free, with IEEE behaviour at the ends: +∞ above ~709.78, 0
/// (through the subnormals) below ~−745.1, NaN for NaN.
///
/// Cody-Waite reduction x = n·ln 2 + r, |r| ≤ ln2/2, then e^r by its Taylor series to r¹³
/// (truncation error r¹⁴/14! < 5e-18 relative), and the scale 2ⁿ applied as 2^⌊n/2⌉·2^(n−⌊n/2⌉)
/// so that results in the subnormal range and overflow to +∞ come out right.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    // Beyond these bounds the result is 0 or +∞ anyway; clamping keeps n in pow2's range.
    let xc = x.clamp(-746.0, 710.0);
    let n = round_to_int(xc * LOG2_E);
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // Taylor coefficients 1/j!, Horner from the top.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let half = round_to_int(n * 0.5);
    let y = p * pow2(half) * pow2(n - half);
    if x.is_nan() { x } else { y }
}

/// ln x to within 1 ulp for x > 0 (−∞ at 0, +∞ at +∞), branch-free: fdlibm's `__ieee754_log`
/// (Sun Microsystems 1993), as written in musl: x = 2ᵏ·(1+f) with 1+f in [√½, √2), then
/// ln(1+f) = 2·atanh(s), s = f/(2+f), by a minimax polynomial in s² (error < 2⁻⁵⁸·⁴⁵).
#[inline(always)]
pub(crate) fn ln(x: f64) -> f64 {
    const LG1: f64 = 6.666_666_666_666_735_130e-01;
    const LG2: f64 = 3.999_999_999_940_941_908e-01;
    const LG3: f64 = 2.857_142_874_366_239_149e-01;
    const LG4: f64 = 2.222_219_843_214_978_396e-01;
    const LG5: f64 = 1.818_357_216_161_805_012e-01;
    const LG6: f64 = 1.531_383_769_920_937_332e-01;
    const LG7: f64 = 1.479_819_860_511_658_591e-01;
    const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
    const TWO_POW_54: f64 = 18_014_398_509_481_984.0;
    // Subnormals: scale into the normal range first and take 54 off the exponent.
    let subnormal = x < f64::MIN_POSITIVE;
    let xs = if subnormal { x * TWO_POW_54 } else { x };
    // Shift the mantissa range [1, 2) to [√½, √2) by moving the exponent boundary.
    let ix = xs
        .to_bits()
        .wrapping_add(0x3ff0_0000_0000_0000 - 0x3fe6_a09e_0000_0000);
    let biased_k = ix >> 52;
    // The biased exponent (0..2047) as a double: 2⁵² + k_b has k_b in its low mantissa bits.
    let k_unbiased = (f64::from_bits(0x4330_0000_0000_0000 | biased_k) - TWO_POW_52) - 1023.0;
    let k = if subnormal {
        k_unbiased - 54.0
    } else {
        k_unbiased
    };
    let m = f64::from_bits((ix & 0x000f_ffff_ffff_ffff).wrapping_add(0x3fe6_a09e_0000_0000));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let y = s * (hfsq + r) + k * LN2_LO - hfsq + f + k * LN2_HI;
    let y = if x == 0.0 { f64::NEG_INFINITY } else { y };
    if x == f64::INFINITY { x } else { y }
}

/// erf(y)/y, Cody's first interval (used for |y| ≤ 0.46875). Same operations, in the same
/// order, as `normal::erf_small_ratio`.
#[inline(always)]
fn erf_small_ratio(y: f64) -> f64 {
    let ysq = y * y;
    let mut num = A[4] * ysq;
    let mut den = ysq;
    for i in 0..3 {
        num = (num + A[i]) * ysq;
        den = (den + B[i]) * ysq;
    }
    (num + A[3]) / (den + B[3])
}

/// erfcx(y), Cody's second interval (used for 0.46875 < y ≤ 4).
#[inline(always)]
fn erfcx_middle(y: f64) -> f64 {
    let mut num = C[8] * y;
    let mut den = y;
    for i in 0..7 {
        num = (num + C[i]) * y;
        den = (den + D[i]) * y;
    }
    (num + C[7]) / (den + D[7])
}

/// erfcx(y), Cody's third interval (used for y > 4). Without the scalar code's shortcut to
/// 1/(y√π) above 6.71e7, which this form reproduces to rounding (and 0 at y = ∞).
#[inline(always)]
fn erfcx_large(y: f64) -> f64 {
    let ysq = 1.0 / (y * y);
    let mut num = P[5] * ysq;
    let mut den = ysq;
    for i in 0..4 {
        num = (num + P[i]) * ysq;
        den = (den + Q[i]) * ysq;
    }
    let r = ysq * (num + P[4]) / (den + Q[4]);
    (ONE_OVER_SQRT_PI - r) / y
}

/// Φ(x) given e^{−x²/2}: `normal::norm_cdf_with_exp` without branches. All three of Cody's
/// rational forms are evaluated and the right one is picked by mask; the forms that do not
/// apply may produce ∞ or NaN in their lane, which the selects discard.
#[inline(always)]
pub(crate) fn norm_cdf_with_exp(x: f64, exp_minus_half_x_squared: f64) -> f64 {
    let y = x.abs() * FRAC_1_SQRT_2;
    let central = 0.5 + 0.5 * x * FRAC_1_SQRT_2 * erf_small_ratio(y);
    let scaled = if y <= 4.0 {
        erfcx_middle(y)
    } else {
        erfcx_large(y)
    };
    let lower_tail = 0.5 * scaled * exp_minus_half_x_squared;
    let tail = if x < 0.0 {
        lower_tail
    } else {
        1.0 - lower_tail
    };
    if y <= 0.46875 { central } else { tail }
}

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

/// One option's price and first-order greeks.
#[derive(Clone, Copy, Default)]
pub(crate) struct LaneGreeks {
    pub(crate) price: f64,
    pub(crate) delta: f64,
    pub(crate) gamma: f64,
    pub(crate) vega: f64,
    pub(crate) theta: f64,
    pub(crate) rho: f64,
    pub(crate) dividend_rho: f64,
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
    let finite = |x: f64| x.abs() < f64::INFINITY;
    (o.s > 0.0)
        & finite(o.s)
        & (o.k > 0.0)
        & finite(o.k)
        & (o.t >= 0.0)
        & finite(o.t)
        & finite(o.r)
        & finite(o.b)
        & (o.v >= 0.0)
        & finite(o.v)
}

/// Price and first-order greeks of one option, the operations of `gbs::greeks` rewritten
/// without branches. `forward` (a constant after inlining) selects Black-76's rho (−T·V, dividend rho 0) over
/// Black-Scholes-Merton's. Invalid inputs (see [`is_valid`]) are replaced by a harmless option
/// before the arithmetic and give NaN in every output.
#[inline(always)]
pub(crate) fn gbs(input: &Lane, forward: bool) -> LaneGreeks {
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
    let df = exp(-r * t);
    let carry_df = exp((b - r) * t);
    let sqrt_t = t.sqrt();
    let v_sqrt_t = v * sqrt_t;
    let diffusion = v_sqrt_t > 0.0;
    // Without diffusion the formulas divide by zero; compute them on a dummy 1 and blend.
    let vst = if diffusion { v_sqrt_t } else { 1.0 };
    let log_moneyness = ln(s / k) + b * t;
    let d1 = log_moneyness / vst + 0.5 * vst;
    let d2 = d1 - vst;
    let e1 = exp(-0.5 * d1 * d1);
    // φ(d2) = φ(d1)·F/K (as in gbs::terms): one exponential serves both tails.
    let forward_over_strike = exp(log_moneyness);
    let e2 = e1 * forward_over_strike;
    // At zero diffusion Φ(θd) is the indicator of finishing in the money, F > K for a call.
    // (The scalar kernel compares S·e^{bT} with K; F/K > 1 is the same test up to rounding
    // at the money, where the value is zero either way.)
    let itm = if theta_sign * (forward_over_strike - 1.0) > 0.0 {
        1.0
    } else {
        0.0
    };
    let cdf_d1 = if diffusion {
        norm_cdf_with_exp(theta_sign * d1, e1)
    } else {
        itm
    };
    let cdf_d2 = if diffusion {
        norm_cdf_with_exp(theta_sign * d2, e2)
    } else {
        itm
    };
    let pdf_d1 = if diffusion {
        ONE_OVER_SQRT_TWO_PI * e1
    } else {
        0.0
    };

    let spot_leg = s * carry_df;
    let strike_leg = k * df;
    let price = (theta_sign * (spot_leg * cdf_d1 - strike_leg * cdf_d2)).max(0.0);
    let delta = theta_sign * carry_df * cdf_d1;
    // pdf_d1 = 0 without diffusion, so these vanish there as in the scalar kernel.
    let gamma = carry_df * pdf_d1 / (s * vst);
    let vega = spot_leg * pdf_d1 * sqrt_t;
    let diffusion_theta = if diffusion {
        -spot_leg * pdf_d1 * v / (2.0 * sqrt_t)
    } else {
        0.0
    };
    let theta = diffusion_theta
        - theta_sign * (b - r) * spot_leg * cdf_d1
        - theta_sign * r * strike_leg * cdf_d2;
    let carry_rho = theta_sign * t * spot_leg * cdf_d1;
    let (rho, dividend_rho) = if forward {
        (-t * price, 0.0)
    } else {
        (theta_sign * t * strike_leg * cdf_d2, -carry_rho)
    };
    let out = |x: f64| if valid { x } else { f64::NAN };
    LaneGreeks {
        price: out(price),
        delta: out(delta),
        gamma: out(gamma),
        vega: out(vega),
        theta: out(theta),
        rho: out(rho),
        dividend_rho: out(dividend_rho),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64 (Steele, Lea & Flood 2014), for seeded test inputs.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        a.to_bits()
            .cast_signed()
            .abs_diff(b.to_bits().cast_signed())
    }

    #[test]
    fn exp_is_within_one_ulp_of_std_over_its_range() {
        let mut state = 1;
        let mut worst = 0;
        for _ in 0..200_000 {
            let u = (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            let x = -745.0 + u * (709.7 + 745.0);
            worst = worst.max(ulps(exp(x), x.exp()));
            let small = (u - 0.5) * 2.0;
            worst = worst.max(ulps(exp(small), small.exp()));
        }
        assert!(worst <= 1, "worst {worst} ulp");
    }

    #[test]
    fn exp_handles_the_ends_like_ieee() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(-746.0), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        // Subnormal results: e^{−740} ≈ 4.2e-322.
        assert!(ulps(exp(-740.0), (-740.0f64).exp()) <= 1);
        assert_eq!(exp(709.78), 709.78f64.exp());
    }

    #[test]
    fn ln_is_within_one_ulp_of_std_including_subnormals() {
        let mut state = 2;
        let mut worst = 0;
        for _ in 0..200_000 {
            let bits = splitmix(&mut state) & 0x7fef_ffff_ffff_ffff;
            let x = f64::from_bits(bits.max(1));
            worst = worst.max(ulps(ln(x), x.ln()));
            let near_one = 1.0 + (f64::from_bits(bits) % 1.0 - 0.5) * 1e-3;
            worst = worst.max(ulps(ln(near_one), near_one.ln()));
        }
        assert!(worst <= 1, "worst {worst} ulp");
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn branch_free_norm_cdf_matches_the_scalar_one() {
        let mut state = 3;
        for _ in 0..100_000 {
            let u = (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            let x = (u - 0.5) * 80.0;
            let e = (-0.5 * x * x).exp();
            let want = crate::normal::norm_cdf_with_exp(x, e);
            let got = norm_cdf_with_exp(x, e);
            // Identical operations except erfcx above y = 6.71e7, which |x| ≤ 40 never reaches.
            assert_eq!(got.to_bits(), want.to_bits(), "x = {x}");
        }
        assert_eq!(norm_cdf_with_exp(f64::INFINITY, 0.0), 1.0);
        assert_eq!(norm_cdf_with_exp(f64::NEG_INFINITY, 0.0), 0.0);
    }
}
