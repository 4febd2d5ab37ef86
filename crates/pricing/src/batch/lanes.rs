//! Branch-free per-option math for the batch kernels.
//!
//! Every function here is straight-line code on `f64`s: no early return, no data-dependent
//! branch, no call into libm. Conditions are written as `if c { a } else { b }` on values that
//! are both already computed, which LLVM lowers to a select (a blend on SIMD lanes). The
//! chunk loop in [`super`] applies [`gbs`] to every lane of an array, and because the body has
//! no branches and no calls the loop vectoriser turns it into AVX-512/AVX2/SSE/NEON code under
//! the target features that `pulp` enabled at runtime.
//!
//! The const parameter `F` says whether the dispatched instruction set has fused multiply-add:
//! [`madd`] then uses `f64::mul_add` (one vfmadd), otherwise a separate multiply and add, so
//! that no path ever calls libm's software `fma`. Results therefore differ by rounding between
//! an FMA machine and one without, but are the same on every run on a given machine.
//!
//! Divisions are the costliest vector operations (a 512-bit `vdivpd` occupies the divider for
//! ~10-16 cycles), so the kernel shares them: one reciprocal of σ√T serves d1, gamma and theta,
//! and Φ(θd1), Φ(θd2) are finished with a single division between them (see
//! [`norm_cdf_pair`]).

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

/// a·b + c: fused (one rounding) when `F`, else a multiply then an add.
#[inline(always)]
pub(crate) fn madd<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// The polynomial c₀zⁿ⁻¹ + c₁zⁿ⁻² + … + cₙ₋₁ by Horner's rule (leading coefficient first).
#[inline(always)]
fn horner<const F: bool, const N: usize>(z: f64, c: [f64; N]) -> f64 {
    let mut p = c[0];
    for &ci in &c[1..] {
        p = madd::<F>(p, z, ci);
    }
    p
}

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

/// e^r on |r| ≤ ln2/2 by a degree-11 polynomial, highest power first: the Chebyshev
/// interpolant of e^r on that interval (near-minimax, computed with mpmath's `chebyfit` at 50
/// digits), whose error with the coefficients rounded to doubles is below 1.7e-17 relative —
/// as accurate as the degree-13 Taylor series in two fewer multiply-adds.
const EXP_POLY: [f64; 12] = [
    2.511_003_760_596_377_7e-08,
    2.763_263_963_904_103e-07,
    2.755_724_091_857_897e-06,
    2.480_148_548_232_849_4e-05,
    0.000_198_412_698_900_471_13,
    0.001_388_888_895_231_477_5,
    0.008_333_333_333_319_601,
    0.041_666_666_666_488_1,
    0.166_666_666_666_666_8,
    0.500_000_000_000_001_9,
    1.0,
    1.0,
];

/// e^x to about 1 ulp, branch-free, with IEEE behaviour at the ends: +∞ above ~709.78, 0
/// (through the subnormals) below ~−745.1, NaN for NaN.
///
/// Cody-Waite reduction x = n·ln 2 + r, |r| ≤ ln2/2, then e^r by the polynomial
/// [`EXP_POLY`] (error < 1.7e-17 relative), and the scale 2ⁿ applied as 2^⌊n/2⌉·2^(n−⌊n/2⌉)
/// so that results in the subnormal range and overflow to +∞ come out right.
#[inline(always)]
pub(crate) fn exp<const F: bool>(x: f64) -> f64 {
    // Beyond these bounds the result is 0 or +∞ anyway; clamping keeps n in pow2's range.
    let xc = x.clamp(-746.0, 710.0);
    let n = round_to_int(xc * LOG2_E);
    // n·LN2_HI is exact, so the first step is exact with or without fusing.
    let r = madd::<F>(-n, LN2_LO, madd::<F>(-n, LN2_HI, xc));
    let p = horner::<F, 12>(r, EXP_POLY);
    let half = round_to_int(n * 0.5);
    let y = p * pow2(half) * pow2(n - half);
    if x.is_nan() { x } else { y }
}

/// ln x to within 1 ulp for x > 0 (−∞ at 0, +∞ at +∞), branch-free: fdlibm's `__ieee754_log`
/// (Sun Microsystems 1993), as written in musl: x = 2ᵏ·(1+f) with 1+f in [√½, √2), then
/// ln(1+f) = 2·atanh(s), s = f/(2+f), by a minimax polynomial in s² (error < 2⁻⁵⁸·⁴⁵).
#[inline(always)]
pub(crate) fn ln<const F: bool>(x: f64) -> f64 {
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
    let t1 = w * horner::<F, 3>(w, [LG6, LG4, LG2]);
    let t2 = z * horner::<F, 4>(w, [LG7, LG5, LG3, LG1]);
    let r = t2 + t1;
    let y = s * (hfsq + r) + k * LN2_LO - hfsq + f + k * LN2_HI;
    let y = if x == 0.0 { f64::NEG_INFINITY } else { y };
    if x == f64::INFINITY { x } else { y }
}

/// Above this y = |x|/√2 the lower tail e^{−x²/2} has underflowed to 0, so erfcx need only be
/// finite there; clamping y to it keeps the polynomials of [`cody_fraction`] in range.
const Y_CAP: f64 = 64.0;

/// Cody's (1969) rational approximation for Φ(x) as a numerator and a denominator, picked
/// per lane among his three intervals of y = |x|/√2 (the coefficients of `normal`): for
/// y ≤ 0.46875, n/d = erf(y)/y; for y ≤ 4, n/d = erfcx(y); beyond, n/d = erfcx(y) again from
/// his asymptotic form. All three are evaluated and the pick is a blend, so the division can
/// be shared by the caller.
///
/// The asymptotic form erfcx(y) = (1/√π − z·N(z)/D(z))/y, z = 1/y², is rewritten with the
/// degree-5 polynomials N, D reversed into polynomials Ñ(u) = u⁵N(1/u), D̃(u) = u⁵D(1/u) in
/// u = y²: erfcx(y) = (u·D̃/√π − Ñ)/(u·D̃·y), the same value with no division of its own. Its
/// coefficients are all positive, so the Horner sums do not cancel.
#[inline(always)]
fn cody_fraction<const F: bool>(x: f64) -> (f64, f64) {
    let y = x.abs() * FRAC_1_SQRT_2;
    let ysq = y * y;
    let small = (
        horner::<F, 5>(ysq, [A[4], A[0], A[1], A[2], A[3]]),
        horner::<F, 5>(ysq, [1.0, B[0], B[1], B[2], B[3]]),
    );
    let middle = (
        horner::<F, 9>(y, [C[8], C[0], C[1], C[2], C[3], C[4], C[5], C[6], C[7]]),
        horner::<F, 9>(y, [1.0, D[0], D[1], D[2], D[3], D[4], D[5], D[6], D[7]]),
    );
    let yc = y.min(Y_CAP);
    let u = yc * yc;
    let n_rev = horner::<F, 6>(u, [P[4], P[3], P[2], P[1], P[0], P[5]]);
    let u_d_rev = u * horner::<F, 6>(u, [Q[4], Q[3], Q[2], Q[1], Q[0], 1.0]);
    let large = (madd::<F>(u_d_rev, ONE_OVER_SQRT_PI, -n_rev), u_d_rev * yc);
    if y <= 0.46875 {
        small
    } else if y <= 4.0 {
        middle
    } else {
        large
    }
}

/// Φ(x) from q = the value of [`cody_fraction`]`(x)` and e^{−x²/2}.
#[inline(always)]
fn finish_cdf<const F: bool>(x: f64, q: f64, exp_minus_half_x_squared: f64) -> f64 {
    let central = madd::<F>(0.5 * x * FRAC_1_SQRT_2, q, 0.5);
    let lower_tail = 0.5 * q * exp_minus_half_x_squared;
    let tail = if x < 0.0 {
        lower_tail
    } else {
        1.0 - lower_tail
    };
    if x.abs() * FRAC_1_SQRT_2 <= 0.46875 {
        central
    } else {
        tail
    }
}

/// Φ(x) given e^{−x²/2}: `normal::norm_cdf_with_exp` without branches (one division).
#[cfg(test)]
pub(crate) fn norm_cdf_with_exp<const F: bool>(x: f64, exp_minus_half_x_squared: f64) -> f64 {
    let (num, den) = cody_fraction::<F>(x);
    finish_cdf::<F>(x, num / den, exp_minus_half_x_squared)
}

/// Φ(x₀) and Φ(x₁) given e^{−xᵢ²/2}, with one division for both: 1/(d₀d₁) times d₁ or d₀.
/// The denominators lie between ~2.8e3 and ~1e21 (y is capped at [`Y_CAP`]), so neither the
/// product nor its reciprocal can overflow; the cost is two extra roundings.
#[inline(always)]
pub(crate) fn norm_cdf_pair<const F: bool>(
    x: [f64; 2],
    exp_minus_half_x_squared: [f64; 2],
) -> [f64; 2] {
    let (n0, d0) = cody_fraction::<F>(x[0]);
    let (n1, d1) = cody_fraction::<F>(x[1]);
    let inv = 1.0 / (d0 * d1);
    [
        finish_cdf::<F>(x[0], n0 * d1 * inv, exp_minus_half_x_squared[0]),
        finish_cdf::<F>(x[1], n1 * d0 * inv, exp_minus_half_x_squared[1]),
    ]
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
    let price = (spot_value - strike_value).max(0.0);
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
    LaneGreeks {
        price: out(price),
        delta: out(delta),
        gamma: out(gamma),
        vega: out(vega),
        theta: out(theta),
        rho: out(rho),
        dividend_rho: out(dividend_rho),
        valid,
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
        check_exp::<false>();
        check_exp::<true>();
    }

    fn check_exp<const F: bool>() {
        let exp = exp::<F>;
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
        let exp = exp::<true>;
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
        check_ln::<false>();
        check_ln::<true>();
    }

    fn check_ln<const F: bool>() {
        let ln = ln::<F>;
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

    /// Worst relative difference, in units of 2⁻⁵², between the branch-free Φ (alone and in
    /// pairs) and `normal::norm_cdf_with_exp` for x uniform in [−40, 40], over the results
    /// that are normal doubles.
    fn worst_cdf_error<const F: bool>() -> f64 {
        let mut state = 3;
        let mut worst: f64 = 0.0;
        let uniform = |state: &mut u64| {
            let u = (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64;
            (u - 0.5) * 80.0
        };
        for _ in 0..100_000 {
            let (x0, x1) = (uniform(&mut state), uniform(&mut state));
            let (e0, e1) = ((-0.5 * x0 * x0).exp(), (-0.5 * x1 * x1).exp());
            let want = [
                crate::normal::norm_cdf_with_exp(x0, e0),
                crate::normal::norm_cdf_with_exp(x1, e1),
            ];
            let pair = norm_cdf_pair::<F>([x0, x1], [e0, e1]);
            let single = norm_cdf_with_exp::<F>(x0, e0);
            for (got, want) in [(pair[0], want[0]), (pair[1], want[1]), (single, want[0])] {
                if want >= f64::MIN_POSITIVE {
                    worst = worst.max((got - want).abs() / want / f64::EPSILON);
                } else {
                    // Subnormal tails (x < −37.5) carry fewer bits: compare absolutely.
                    assert!((got - want).abs() <= 64.0 * 5e-324, "{got} vs {want}");
                }
            }
        }
        worst
    }

    #[test]
    fn branch_free_norm_cdf_matches_the_scalar_one() {
        // Same rational functions as the scalar Φ, evaluated with a shared division (two
        // extra roundings), the asymptotic form rewritten in y² (see `cody_fraction`), and
        // with or without fused multiply-adds: a few ulp relative, also in the far lower tail
        // (measured worst: 4.7).
        for worst in [worst_cdf_error::<false>(), worst_cdf_error::<true>()] {
            assert!(worst <= 8.0, "worst {worst} ulp");
        }
        for f in [norm_cdf_with_exp::<false>, norm_cdf_with_exp::<true>] {
            assert_eq!(f(f64::INFINITY, 0.0), 1.0);
            assert_eq!(f(f64::NEG_INFINITY, 0.0), 0.0);
            assert_eq!(f(0.0, 1.0), 0.5);
        }
    }
}
