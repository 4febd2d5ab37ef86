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

/// 2^{j/64}, j = 0 … 63, correctly rounded (from 50-digit values).
const EXP2_TABLE: [f64; 64] = [
    f64::from_bits(0x3ff0000000000000),
    f64::from_bits(0x3ff02c9a3e778061),
    f64::from_bits(0x3ff059b0d3158574),
    f64::from_bits(0x3ff0874518759bc8),
    f64::from_bits(0x3ff0b5586cf9890f),
    f64::from_bits(0x3ff0e3ec32d3d1a2),
    f64::from_bits(0x3ff11301d0125b51),
    f64::from_bits(0x3ff1429aaea92de0),
    f64::from_bits(0x3ff172b83c7d517b),
    f64::from_bits(0x3ff1a35beb6fcb75),
    f64::from_bits(0x3ff1d4873168b9aa),
    f64::from_bits(0x3ff2063b88628cd6),
    f64::from_bits(0x3ff2387a6e756238),
    f64::from_bits(0x3ff26b4565e27cdd),
    f64::from_bits(0x3ff29e9df51fdee1),
    f64::from_bits(0x3ff2d285a6e4030b),
    f64::from_bits(0x3ff306fe0a31b715),
    f64::from_bits(0x3ff33c08b26416ff),
    f64::from_bits(0x3ff371a7373aa9cb),
    f64::from_bits(0x3ff3a7db34e59ff7),
    f64::from_bits(0x3ff3dea64c123422),
    f64::from_bits(0x3ff4160a21f72e2a),
    f64::from_bits(0x3ff44e086061892d),
    f64::from_bits(0x3ff486a2b5c13cd0),
    f64::from_bits(0x3ff4bfdad5362a27),
    f64::from_bits(0x3ff4f9b2769d2ca7),
    f64::from_bits(0x3ff5342b569d4f82),
    f64::from_bits(0x3ff56f4736b527da),
    f64::from_bits(0x3ff5ab07dd485429),
    f64::from_bits(0x3ff5e76f15ad2148),
    f64::from_bits(0x3ff6247eb03a5585),
    f64::from_bits(0x3ff6623882552225),
    f64::from_bits(0x3ff6a09e667f3bcd),
    f64::from_bits(0x3ff6dfb23c651a2f),
    f64::from_bits(0x3ff71f75e8ec5f74),
    f64::from_bits(0x3ff75feb564267c9),
    f64::from_bits(0x3ff7a11473eb0187),
    f64::from_bits(0x3ff7e2f336cf4e62),
    f64::from_bits(0x3ff82589994cce13),
    f64::from_bits(0x3ff868d99b4492ed),
    f64::from_bits(0x3ff8ace5422aa0db),
    f64::from_bits(0x3ff8f1ae99157736),
    f64::from_bits(0x3ff93737b0cdc5e5),
    f64::from_bits(0x3ff97d829fde4e50),
    f64::from_bits(0x3ff9c49182a3f090),
    f64::from_bits(0x3ffa0c667b5de565),
    f64::from_bits(0x3ffa5503b23e255d),
    f64::from_bits(0x3ffa9e6b5579fdbf),
    f64::from_bits(0x3ffae89f995ad3ad),
    f64::from_bits(0x3ffb33a2b84f15fb),
    f64::from_bits(0x3ffb7f76f2fb5e47),
    f64::from_bits(0x3ffbcc1e904bc1d2),
    f64::from_bits(0x3ffc199bdd85529c),
    f64::from_bits(0x3ffc67f12e57d14b),
    f64::from_bits(0x3ffcb720dcef9069),
    f64::from_bits(0x3ffd072d4a07897c),
    f64::from_bits(0x3ffd5818dcfba487),
    f64::from_bits(0x3ffda9e603db3285),
    f64::from_bits(0x3ffdfc97337b9b5f),
    f64::from_bits(0x3ffe502ee78b3ff6),
    f64::from_bits(0x3ffea4afa2a490da),
    f64::from_bits(0x3ffefa1bee615a27),
    f64::from_bits(0x3fff50765b6e4540),
    f64::from_bits(0x3fffa7c1819e90d8),
];

/// e^x for finite x ≤ [`EXP_MAX_ARG`] (above it the result is wrong, not infinite: callers
/// keep to the range); the quadrature nodes' exponents are all ≤ 0.
///
/// x = (64n + j)·ln2/64 + r with |r| ≤ ln2/128, e^x = 2ⁿ·2^{j/64}·e^r, e^r by its Taylor
/// polynomial of degree 5 (truncation r⁶/6! < 4e-17 relative).
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    const SCALE: f64 = 64.0 * std::f64::consts::LOG2_E;
    let keep = x > FLUSH;
    let xc = if keep { x } else { FLUSH };
    let shifted = xc * SCALE + ROUNDING_SHIFT;
    let kf = shifted - ROUNDING_SHIFT;
    // ln2/64 split: k·LN2_HI/64 is exact for |k| < 2²¹.
    let r = (xc - kf * (LN2_HI / 64.0)) - kf * (LN2_LO / 64.0);
    let k = shifted.to_bits().cast_signed() - ROUNDING_SHIFT.to_bits().cast_signed();
    let table = EXP2_TABLE[(k & 63) as usize];
    let q = r + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0))));
    // 2ⁿ·2^{j/64} by adding n to the table entry's exponent field (the result is normal:
    // n ∈ [−1022, 1010]).
    let scaled = f64::from_bits(
        table
            .to_bits()
            .wrapping_add(((k >> 6) << 52).cast_unsigned()),
    );
    let value = scaled + scaled * q;
    if keep { value } else { 0.0 }
}

/// e^{−x²/2} to about 1 ulp whatever |x|: x² is split exactly into p + e (Dekker's product,
/// no FMA needed) so that the rounding of x² — x²/2 ulp of the exponent, 1e-14 relative at
/// |x| = 8 — does not reach the result: e^{−(p+e)/2} = e^{−p/2}·(1 − e/2).
#[inline]
pub(crate) fn exp_minus_half_square(x: f64) -> f64 {
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

    #[test]
    fn table_holds_powers_of_two() {
        for (j, &t) in EXP2_TABLE.iter().enumerate() {
            let want = (j as f64 / 64.0).exp2();
            assert!(((t - want) / want).abs() <= f64::EPSILON, "{j}");
        }
    }

    /// Relative error against the platform exp over [−708, 0], including the reduction's
    /// boundaries (half-integer multiples of ln 2) and tiny arguments.
    #[test]
    fn exp_matches_the_platform_to_about_an_ulp() {
        let mut worst = 0.0_f64;
        let mut x = 0.0_f64;
        while x > -708.0 {
            for y in [x, x - std::f64::consts::LN_2 / 128.0, -1e-300 * x] {
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
