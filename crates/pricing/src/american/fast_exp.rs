//! An inlinable e^x for x ≤ 0 and Φ built on it, for the inner loops of Bjerksund-Stensland
//! (the quadrature nodes of the bivariate normal, about 300 exponentials per option).
//!
//! The platform `exp` is a call through the dynamic linker with special-case handling
//! (overflow, errno); here every argument is finite and non-positive, so a branch-free
//! Cody-Waite reduction plus a polynomial is enough, and the compiler can inline and vectorise
//! it across quadrature nodes. Accuracy: about 1 ulp relative for x ∈ [−708, 0] (tested
//! against `f64::exp`); below −708 the result is flushed to 0, an absolute error under
//! 2.3e-308.

use crate::normal::norm_cdf_with_exp;

/// 1.5·2⁵²: adding it rounds a double of magnitude below 2⁵¹ to an integer, which then sits in
/// the low bits of the sum's mantissa.
const ROUNDING_SHIFT: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that n·`LN2_HI` is exact for |n| < 2²¹ (fdlibm's constants).
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// Below this e^x is subnormal or zero: flushed to zero.
const FLUSH: f64 = -708.0;
/// Largest argument [`exp_nonpositive`] accepts (2ⁿ with n ≤ 1010 stays a normal double).
pub(crate) const EXP_MAX_ARG: f64 = 700.0;

/// Taylor coefficients 1/j! for j = 2 ..= 13: on |r| ≤ ln2/2 the truncation error
/// r¹⁴/14! < 5e-18 relative.
const INV_FACTORIAL: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// e^x for finite x ≤ [`EXP_MAX_ARG`] (above it the result is wrong, not infinite: callers
/// keep to the range); the quadrature nodes' exponents are all ≤ 0.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    let keep = x > FLUSH;
    let xc = if keep { x } else { FLUSH };
    // x = n·ln 2 + r, |r| ≤ ln2/2 (+ rounding), n ∈ [−1022, 1010].
    let shifted = xc * std::f64::consts::LOG2_E + ROUNDING_SHIFT;
    let n = shifted - ROUNDING_SHIFT;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = INV_FACTORIAL[11];
    for &c in INV_FACTORIAL[..11].iter().rev() {
        p = p * r + c;
    }
    let er = 1.0 + (r + r * r * p);
    // 2ⁿ from the integer in the low mantissa bits of `shifted`.
    let n_bits = shifted.to_bits().wrapping_sub(ROUNDING_SHIFT.to_bits());
    let scale = f64::from_bits(n_bits.wrapping_add(1023) << 52);
    if keep { er * scale } else { 0.0 }
}

/// e^{−x²/2} to about 1 ulp whatever |x|: x² is split exactly into p + e (Dekker's product,
/// no FMA needed) so that the rounding of x² — x²/2 ulp of the exponent, 1e-14 relative at
/// |x| = 8 — does not reach the result: e^{−(p+e)/2} = e^{−p/2}·(1 − e/2).
#[inline(always)]
fn exp_minus_half_square(x: f64) -> f64 {
    // Beyond 40 the result is 0 anyway; the clamp keeps the split below from overflowing.
    let x = x.clamp(-40.0, 40.0);
    let c = 134_217_729.0 * x; // 2²⁷ + 1
    let hi = c - (c - x);
    let lo = x - hi;
    let p = x * x;
    let e = ((hi * hi - p) + 2.0 * hi * lo) + lo * lo;
    exp_nonpositive(-0.5 * p) * (1.0 - 0.5 * e)
}

/// Φ(x) with the inline exponential: Cody's rational approximations as
/// [`crate::normal::norm_cdf`], to a few ulp of it.
#[inline]
pub(crate) fn norm_cdf(x: f64) -> f64 {
    norm_cdf_with_exp(x, exp_minus_half_square(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error against the platform exp over [−708, 0], including the reduction's
    /// boundaries (half-integer multiples of ln 2) and tiny arguments.
    #[test]
    fn exp_matches_the_platform_to_about_an_ulp() {
        let mut worst = 0.0_f64;
        let mut x = 0.0_f64;
        while x > -708.0 {
            for y in [x, x - 0.5 * std::f64::consts::LN_2, -1e-300 * x] {
                if y <= FLUSH {
                    continue;
                }
                let want = y.exp();
                worst = worst.max(((exp_nonpositive(y) - want) / want).abs());
            }
            x -= 0.013_7;
        }
        assert!(worst < 3.0 * f64::EPSILON, "{worst:e}");
        for x in [1e-300, 0.3, 1.0, 17.25, 345.5, 699.9] {
            let want = f64::exp(x);
            assert!(
                ((exp_nonpositive(x) - want) / want).abs() < 3.0 * f64::EPSILON,
                "{x}"
            );
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-708.5), 0.0);
        assert_eq!(exp_nonpositive(-1e300), 0.0);
    }

    /// Against 20-digit values (mpmath `ncdf`), including the far tail, where this is more
    /// accurate than `normal::norm_cdf` (that one rounds x/√2 before squaring it: a relative
    /// error ≈ x²·ulp, 2e-13 at x = −37).
    #[test]
    fn norm_cdf_matches_high_precision_values() {
        for (x, want) in [
            (-36.98179999999999, 1.1230889776374957819e-299),
            (-20.5, 1.0764673258790960335e-93),
            (-8.25, 7.919726314642477341e-17),
            (-1.5, 0.066807201268858066004),
            (0.3, 0.61791142218895263307),
            (2.75, 0.99702023676494544325),
        ] {
            let got = norm_cdf(x);
            assert!(
                ((got - want) / want).abs() < 4.0 * f64::EPSILON,
                "x={x}: {got:e} vs {want:e}"
            );
        }
        assert_eq!(norm_cdf(-1e300), 0.0);
        assert_eq!(norm_cdf(1e300), 1.0);
    }

    /// Agrees with the crate's Φ everywhere, within that one's x²·ulp tail error.
    #[test]
    fn norm_cdf_agrees_with_the_crate_implementation() {
        let mut x = -37.0_f64;
        while x < 9.0 {
            let want = crate::normal::norm_cdf(x);
            let tol = 4.0 * f64::EPSILON * x.mul_add(x, 1.0);
            assert!(((norm_cdf(x) - want) / want).abs() < tol, "x={x}");
            x += 0.001_3;
        }
    }
}
