//! Branch-free elementary functions shared by the SIMD kernels (`batch`) and the American
//! approximations (`american`): e^x, ln x and Φ(x) on plain `f64`s, written so that a loop
//! applying them to every element of an array is vectorised by LLVM, and a runtime dispatch
//! ([`dispatch`]) that compiles a kernel for AVX-512/AVX2 with FMA where the CPU has them.
//!
//! Every function here is straight-line code: no early return, no data-dependent branch, no
//! call into libm. Conditions are written as `if c { a } else { b }` on values that are both
//! already computed, which LLVM lowers to a select (a blend on SIMD lanes), so the same code
//! serves one scalar and a vector of lanes.
//!
//! The const parameter `F` says whether the instruction set in use has fused multiply-add:
//! [`madd`] then uses `f64::mul_add` (one vfmadd), otherwise a separate multiply and add, so
//! that no path ever calls libm's software `fma`. Results therefore differ by rounding between
//! an FMA machine and one without, but are the same on every run on a given machine. A
//! function instantiated with `F = true` must be inlined into a kernel that [`dispatch`] runs
//! (or be compiled with FMA enabled statically, [`SCALAR_FMA`]).

#![expect(
    clippy::inline_always,
    reason = "pulp enables the SIMD target features on `with_simd` only; the kernels must be inlined into it to be compiled with them"
)]

#[cfg(feature = "simd")]
use std::sync::LazyLock;

use std::f64::consts::{FRAC_1_SQRT_2, LOG2_E};

use crate::normal::{A, B, C, D, P, Q};

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
pub(crate) fn horner<const F: bool, const N: usize>(z: f64, c: [f64; N]) -> f64 {
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

/// x = n·ln 2 + r, |r| ≤ ln2/2 (Cody-Waite reduction; n·`LN2_HI` is exact, so the first step
/// is exact with or without fusing), and e^r by the polynomial [`EXP_POLY`] (error < 1.7e-17
/// relative): returns (e^r, n) for |x| ≤ 746.
#[inline(always)]
fn exp_reduced<const F: bool>(x: f64) -> (f64, f64) {
    let n = round_to_int(x * LOG2_E);
    let r = madd::<F>(-n, LN2_LO, madd::<F>(-n, LN2_HI, x));
    (horner::<F, 12>(r, EXP_POLY), n)
}

/// e^x to about 1 ulp, branch-free, with IEEE behaviour at the ends: +∞ above ~709.78, 0
/// (through the subnormals) below ~−745.1, NaN for NaN.
///
/// [`exp_reduced`], and the scale 2ⁿ applied as 2^⌊n/2⌉·2^(n−⌊n/2⌉) so that results in the
/// subnormal range and overflow to +∞ come out right.
#[inline(always)]
pub(crate) fn exp<const F: bool>(x: f64) -> f64 {
    // Beyond these bounds the result is 0 or +∞ anyway; clamping keeps n in pow2's range.
    let xc = x.clamp(-746.0, 710.0);
    let (p, n) = exp_reduced::<F>(xc);
    let half = round_to_int(n * 0.5);
    let y = p * pow2(half) * pow2(n - half);
    if x.is_nan() { x } else { y }
}

/// Below this e^x is flushed to zero by [`exp_flush_subnormal`] (e^{−708} ≈ 3.3e-308).
const FLUSH: f64 = -708.0;

/// e^x to about 1 ulp for x ≤ 709 (not NaN), with results below e^{−708} ≈ 3.3e-308 flushed
/// to 0 (an absolute error under 3.3e-308): [`exp`] without the subnormal range, overflow and
/// NaN handling, so 2ⁿ is one exponent-field addition. For sums of many exponentials with
/// non-positive exponents (the bivariate normal's quadrature nodes).
#[inline(always)]
pub(crate) fn exp_flush_subnormal<const F: bool>(x: f64) -> f64 {
    let keep = x > FLUSH;
    let (p, n) = exp_reduced::<F>(if keep { x } else { FLUSH });
    // n ∈ [−1022, 1023]: 2ⁿ is a normal double.
    let y = p * pow2(n);
    if keep { y } else { 0.0 }
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
    cody_fraction_y::<F>(x.abs() * FRAC_1_SQRT_2)
}

/// [`cody_fraction`] at y = |x|/√2 ≥ 0 given directly: n/d = erf(y)/y for y ≤ 0.46875,
/// erfcx(y) above (the batch implied-volatility kernel's erfcx).
#[inline(always)]
pub(crate) fn cody_fraction_y<const F: bool>(y: f64) -> (f64, f64) {
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
#[inline(always)]
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

/// e^{−x²/2} to about 1 ulp for |x| < 37.6 (0 beyond): the rounding error of x² (x²/2 ulp of the exponent,
/// 1e-14 relative at |x| = 8) is recovered exactly — by a fused multiply-add, or by Dekker's
/// split product without FMA — and applied to first order: e^{−(p+e)/2} = e^{−p/2}(1 − e/2).
#[inline(always)]
pub(crate) fn exp_minus_half_square<const F: bool>(x: f64) -> f64 {
    // Beyond 40 the result is 0 anyway; the clamp keeps the split below from overflowing.
    let x = x.clamp(-40.0, 40.0);
    let p = x * x;
    let e = if F {
        x.mul_add(x, -p)
    } else {
        let c = 134_217_729.0 * x; // 2²⁷ + 1
        let hi = c - (c - x);
        let lo = x - hi;
        ((hi * hi - p) + 2.0 * hi * lo) + lo * lo
    };
    // The exponent is in [−800, 0]: no overflow or NaN to handle, and results below
    // e^{−708} (|x| > 37.6, where Φ(x) < 1e-308) are flushed to 0.
    let value = exp_flush_subnormal::<F>(-0.5 * p);
    madd::<F>(value, -0.5 * e, value)
}

/// Φ(x) to a few ulp, also in the far lower tail (the exponential is [`exp_minus_half_square`]),
/// branch-free.
#[inline(always)]
pub(crate) fn norm_cdf<const F: bool>(x: f64) -> f64 {
    norm_cdf_with_exp::<F>(x, exp_minus_half_square::<F>(x))
}

/// Whether scalar code outside [`dispatch`] may use fused multiply-adds: the target's baseline
/// has them (aarch64), or they are enabled at compile time (`-C target-cpu=native` …).
pub(crate) const SCALAR_FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));

/// Φ(x) for scalar code: Cody's rational functions picked by branches (`normal`'s
/// evaluation, one of three forms rather than all three) with the inline exponential
/// [`exp_minus_half_square`]; to a few ulp, also in the far lower tail.
#[inline]
pub(crate) fn norm_cdf_scalar(x: f64) -> f64 {
    crate::normal::norm_cdf_with_exp(x, exp_minus_half_square::<SCALAR_FMA>(x))
}

/// A computation to be compiled once per instruction set and run with the best one: `run` is
/// called with `F` = whether that instruction set has FMA. `run` and everything it calls with
/// `F = true` must be `#[inline(always)]`, so that it is compiled with the target features.
pub(crate) trait Kernel {
    /// What the computation returns.
    type Output;
    /// The computation.
    fn run<const F: bool>(self) -> Self::Output;
}

/// A [`Kernel`] as a `pulp` operation with its FMA flag.
#[cfg(feature = "simd")]
struct WithFma<K, const F: bool>(K);

#[cfg(feature = "simd")]
impl<K: Kernel, const F: bool> pulp::WithSimd for WithFma<K, F> {
    type Output = K::Output;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> K::Output {
        self.0.run::<F>()
    }
}

/// The CPU's best instruction set, detected once (`pulp::Arch::new` tests a dozen feature
/// flags).
#[cfg(feature = "simd")]
static ARCH: LazyLock<pulp::Arch> = LazyLock::new(pulp::Arch::new);

/// Runs `kernel` with the best instruction set of this CPU: AVX-512 (x86-64-v4) or AVX2
/// (x86-64-v3), both with FMA, where available; else the target's baseline (with FMA on
/// aarch64).
#[cfg(feature = "simd")]
#[inline]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    let arch = *ARCH;
    #[cfg(target_arch = "x86_64")]
    match arch {
        pulp::Arch::V4(simd) => return pulp::Simd::vectorize(simd, WithFma::<K, true>(kernel)),
        pulp::Arch::V3(simd) => return pulp::Simd::vectorize(simd, WithFma::<K, true>(kernel)),
        _ => {}
    }
    arch.dispatch(WithFma::<K, SCALAR_FMA>(kernel))
}

/// Without the `simd` feature: the same kernel compiled for the target's baseline (or the
/// features enabled at compile time), with no runtime detection and no `pulp`.
#[cfg(not(feature = "simd"))]
#[inline]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<SCALAR_FMA>()
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
    fn exp_flush_subnormal_is_exp_above_the_flush_point() {
        for f in [exp_flush_subnormal::<false>, exp_flush_subnormal::<true>] {
            let mut state = 4;
            let mut worst = 0;
            for _ in 0..100_000 {
                let u = (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
                let x = -707.9 + u * (709.0 + 707.9);
                worst = worst.max(ulps(f(x), x.exp()));
            }
            assert!(worst <= 1, "worst {worst} ulp");
            assert_eq!(f(0.0), 1.0);
            assert_eq!(f(-708.0), 0.0);
            assert_eq!(f(f64::NEG_INFINITY), 0.0);
        }
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
    /// Against 20-digit values (mpmath `ncdf`), including the far tail, where this is more
    /// accurate than `normal::norm_cdf` (that one rounds x/√2 before squaring it: a relative
    /// error ≈ x²·ulp, 2e-13 at x = −37).
    #[test]
    fn norm_cdf_matches_high_precision_values() {
        for f in [norm_cdf::<false>, norm_cdf::<true>, norm_cdf_scalar] {
            for (x, want) in [
                (-36.98179999999999, 1.1230889776374957819e-299),
                (-20.5, 1.0764673258790960335e-93),
                (-8.25, 7.919726314642477341e-17),
                (-1.5, 0.066807201268858066004),
                (0.3, 0.61791142218895263307),
                (2.75, 0.99702023676494544325),
            ] {
                let got = f(x);
                assert!(
                    ((got - want) / want).abs() < 4.0 * f64::EPSILON,
                    "x={x}: {got:e} vs {want:e}"
                );
            }
            assert_eq!(f(-1e300), 0.0);
            assert_eq!(f(1e300), 1.0);
        }
    }

    /// Agrees with the crate's Φ everywhere, within that one's x²·ulp tail error.
    #[test]
    fn norm_cdf_agrees_with_the_crate_implementation() {
        for f in [norm_cdf::<false>, norm_cdf::<true>, norm_cdf_scalar] {
            let mut x = -37.0_f64;
            while x < 9.0 {
                let want = crate::normal::norm_cdf(x);
                let tol = 8.0 * f64::EPSILON * x.mul_add(x, 1.0);
                assert!(((f(x) - want) / want).abs() < tol, "x={x}");
                x += 0.001_3;
            }
        }
    }

    /// e^{−x²/2} to within 2 ulp of the exact value, with the rounding of x² compensated: at
    /// |x| = 30 the naive exp(−x²/2) is off by up to ~225 ulp.
    #[test]
    fn exp_minus_half_square_compensates_the_square() {
        for f in [
            exp_minus_half_square::<false>,
            exp_minus_half_square::<true>,
        ] {
            // x = k/8 has an exact square, so e^{−x²/2} from the platform is accurate.
            for k in -300..=300 {
                let x = f64::from(k) / 8.0;
                assert!(ulps(f(x), (-0.5 * x * x).exp()) <= 1, "x={x}");
            }
            // Inexact squares, against mpmath at 30 digits (of the doubles nearest 30.1 and
            // −12.345678).
            for (x, want) in [
                (30.1, 1.829_903_658_477_807_733_1e-197),
                (-12.345_678, 8.004_553_137_405_642_149_5e-34),
            ] {
                assert!(((f(x) - want) / want).abs() < 2.0 * f64::EPSILON, "x={x}");
            }
            assert_eq!(f(1e300), 0.0);
        }
    }
}
