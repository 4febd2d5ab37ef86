//! The "Let's Be Rational" inversion of the normalised Black function (Jäckel 2015, §§4–6).
//!
//! For x ≤ 0 and 0 < β < `b_max` = e^{x/2}, find s with b(x, s) = β. The s axis is cut at the
//! inflection point `s_c` = √(2|x|) (b'' = 0 there) and at the two points `s_l` < `s_c` < `s_u` where
//! the tangent at `s_c` meets 0 and `b_max` (eqs. (4.6)–(4.8)), which gives four branches:
//!
//! - β < `b_l` (lowest): a rational cubic in β of the map f(s) = (2π/√27)·|x|·Φ(x/(√3 s))³, which
//!   is almost linear in β there, inverted in closed form (§6.1, eqs. (6.5)–(6.9)); for
//!   −3 < x ≤ −0.01 and β/`b_max` > 0.0005, Li and Lee's cheaper rational seed instead;
//! - `b_l` ≤ β < `b_c` and `b_c` ≤ β ≤ `b_u`: a rational cubic for s(β) itself, with slopes 1/b' at the
//!   ends and zero curvature at the inflection point (§6.2);
//! - β > `b_u` (highest): a rational cubic of f(s) = Φ(−s/2) (§6.3, eqs. (6.13)–(6.15)).
//!
//! The guess is then refined by at most two third-order Householder steps (§5, eq. (5.3)) on an
//! objective chosen per branch so that it is close to linear: 1/ln b(s) − 1/ln β on the lowest
//! branch (β may be as small as 1e-300), ln((`b_max` − β)/(`b_max` − b(s))) on the highest branch
//! when β > `b_max`/2, and b(s) − β elsewhere (§5, eqs. (5.7)–(5.10)). The derivative ratios come
//! from ∂ln b'/∂s = x²/s³ − s/4 (eq. (5.5)). On the lowest branch a cheap step on an
//! approximate objective runs first (as in the `implied-vol` crate's default solver), which
//! brings the guess close enough for one exact step to suffice.

use super::black::{SQRT_PI_OVER_2, otm_black, scaled_otm_black};
use super::fitted::{b_l_over_b_max, b_u_over_b_max};
use super::rational::{Side, control_parameter, interpolate};
use crate::normal::{
    ONE_OVER_SQRT_TWO_PI, SQRT_TWO_PI, erfc, erfcx_inline as erfcx, erfcx_inline_with_exp, estrin7,
    inverse_norm_cdf, inverse_norm_cdf_tail,
};
use std::f64::consts::{FRAC_1_SQRT_2, SQRT_2};

/// 1/√3.
pub(super) const FRAC_1_SQRT_3: f64 = 0.577_350_269_189_625_8;
/// 2π/√27, the constant of the lower map f (Jäckel 2015, eq. (6.5)).
pub(super) const TWO_PI_OVER_SQRT_27: f64 = 1.209_199_576_156_145_2;
/// ln √(2π).
pub(super) const LN_SQRT_TWO_PI: f64 = 0.918_938_533_204_672_8;
/// 2π/3.
pub(super) const TWO_PI_OVER_3: f64 = 2.094_395_102_393_195_5;
/// √(2/π).
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// 0.075³: for p below 0.075, Φ⁻¹(p) is in AS241's tail.
const AS241_TAIL_CUBED: f64 = 0.075 * 0.075 * 0.075;
/// Householder steps after the rational guess (Jäckel 2015, §7: two reach machine precision).
const MAX_STEPS: usize = 2;
/// A first Householder step shorter than this (relative to s) leaves an error of order
/// 1e-18 after a third-order method (error ≈ C·(ds/s)⁴ with C ≈ 400 measured over 10⁵ random
/// (x, s): steps in [1e-5, 1e-4) left at most 4 ulp), so the second step is skipped.
pub(super) const SKIP_SECOND_STEP: f64 = 1e-5;

/// One third-order Householder step for a Newton step ν and the ratios
/// h₂ = g''/g', h₃ = g'''/g' of the objective g (Jäckel 2015, eq. (5.3)).
#[inline]
fn householder3(nu: f64, h2: f64, h3: f64) -> f64 {
    nu * (1.0 + 0.5 * h2 * nu) / (1.0 + nu * (h2 + h3 * nu * (1.0 / 6.0)))
}

/// b''/b' and b'''/b' at (x, s) from eq. (5.5): with w = x²/s³, b''/b' = w − s/4 and
/// b'''/b' = (b''/b')² − 3w/s − 1/4.
#[inline]
fn black_derivative_ratios(h: f64, s: f64) -> (f64, f64) {
    let w = h * h / s;
    let b2 = w - 0.25 * s;
    (b2, b2 * b2 - 3.0 * w / s - 0.25)
}

/// Accepts a Householder update only if it keeps s positive and finite (Jäckel's safeguard).
#[inline]
fn step(s: f64, ds: f64) -> Option<f64> {
    let next = s + ds;
    (next > 0.0 && next.is_finite()).then_some(next)
}

/// 1/b'(s) = √(2π)·e^{(h² + t²)/2} at h = x/s, t = s/2.
#[inline]
fn inv_vega(h: f64, t: f64) -> f64 {
    SQRT_TWO_PI * (0.5 * (h * h + t * t)).exp()
}

/// s with b(x, s) = β for x ≤ 0, 0 < β < e^{x/2}; `half_x_exp` = (e^{x/2}, e^{−x/2}).
#[inline]
pub(crate) fn implied_normalised_otm(beta: f64, x: f64, half_x_exp: (f64, f64)) -> f64 {
    let b_max = half_x_exp.0;
    let sqrt_ax = (-x).sqrt();
    let s_c = SQRT_2 * sqrt_ax;
    // b(x, s_c) = b_max·(1 − erfcx(√|x|))/2 and b'(s_c) = b_max/√(2π) (eq. (4.5)).
    // Only the guess and the choice of branch depend on b_c (every branch's iteration converges
    // from either side of a boundary), so e^{x²} in erfcx may be the cheap one.
    let ome = 1.0 - erfcx_for_guess(sqrt_ax);
    let b_c = 0.5 * b_max * ome;
    let inv_vega_c = SQRT_TWO_PI / b_max;
    let guess = if beta < b_c {
        // s_l = s_c − b_c/b'(s_c) (eq. (4.7)); b(s_l) from Jäckel's 2024 fit.
        let s_l = s_c - SQRT_PI_OVER_2 * ome;
        let b_l = b_l_over_b_max(s_c) * b_max;
        if beta < b_l {
            return lowest_branch(beta, x, s_l, b_l, b_max);
        }
        let width = b_c - b_l;
        let d = (inv_vega(x / s_l, 0.5 * s_l), inv_vega_c);
        let r = control_parameter(Side::Right, width, s_c - s_l, d, 0.0, false);
        interpolate(beta - b_l, width, (s_l, s_c), d, r)
    } else {
        // s_u = s_c + (b_max − b_c)/b'(s_c) (eq. (4.8)); b(s_u) from Jäckel's 2024 fit.
        let s_u = s_c + SQRT_PI_OVER_2 * (2.0 - ome);
        let b_u = b_u_over_b_max(s_c) * b_max;
        if beta <= b_u {
            let width = b_u - b_c;
            let d = (inv_vega_c, inv_vega(x / s_u, 0.5 * s_u));
            let r = control_parameter(Side::Left, width, s_u - s_c, d, 0.0, false);
            interpolate(beta - b_c, width, (s_c, s_u), d, r)
        } else {
            let s = highest_branch_guess(beta, x, s_u, b_u, b_max);
            if beta > 0.5 * b_max {
                return upper_iterations(beta, x, s, b_max);
            }
            s
        }
    };
    middle_iterations(beta, x, guess, half_x_exp)
}

/// Householder on g(s) = b(s) − β (Jäckel 2015, eq. (5.7)).
#[inline]
fn middle_iterations(beta: f64, x: f64, mut s: f64, half_x_exp: (f64, f64)) -> f64 {
    for i in 0..MAX_STEPS {
        let at = otm_black(x, s, half_x_exp);
        if at.b == beta {
            break;
        }
        let h = x / s;
        let nu = (beta - at.b) * at.inv_vega();
        let (h2, h3) = black_derivative_ratios(h, s);
        let ds = householder3(nu, h2, h3);
        let Some(next) = step(s, ds) else { break };
        s = next;
        if i == 0 && ds.abs() < SKIP_SECOND_STEP * s {
            break;
        }
    }
    s
}

/// The lowest branch: a guess, then Householder on g(s) = 1/ln b(s) − 1/ln β (eq. (5.8)),
/// with ln b = ln(b/b') + ln b' so that prices far below the smallest normal double still
/// converge. The guess is Li's rational seed where it is tested (−3 < x ≤ −0.01 and
/// β/`b_max` > 0.0005: within 23 % there, and the pre-step takes it within 1e-4): a dozen
/// multiply-adds and one division, against several exponentials, Φ⁻¹ and a cube root for the
/// rational guess of f(β) (Jäckel 2015, eqs. (6.5)–(6.9)), which serves everywhere else (Li's
/// seed and the asymptotic one of the `implied-vol` crate are off by up to 68 % deeper out of
/// the money, too far for the pre-step).
fn lowest_branch(beta: f64, x: f64, s_l: f64, b_l: f64, b_max: f64) -> f64 {
    let ln_beta = beta.ln();
    // Off the dependent chain: both steps below divide by ln β.
    let inv_ln_beta = 1.0 / ln_beta;
    let c = beta / b_max;
    let guess = if x > -3.0 && x <= -0.01 && c > 0.0005 {
        li_seed(x, c)
    } else {
        lowest_branch_guess(beta, x, s_l, b_l)
    };
    let mut s = lowest_branch_pre_step(guess, x, (ln_beta, inv_ln_beta));
    for i in 0..MAX_STEPS {
        let h = x / s;
        let t = 0.5 * s;
        let scaled = scaled_otm_black(h, t);
        let Some(ds) = lowest_branch_step(s, h, t, scaled, (ln_beta, inv_ln_beta), f64::ln) else {
            break;
        };
        let Some(next) = step(s, ds) else { break };
        s = next;
        if i == 0 && ds.abs() < SKIP_SECOND_STEP * s {
            break;
        }
    }
    s
}

/// One Householder step from the rational guess on an approximate objective: b/b' as the
/// plain difference of Cody's erfcx (both arguments are positive on the lowest branch, so no
/// exponential is needed and no small-t series runs) and [`ln_for_guess`]. The guess is only
/// 1e-5 to 1e-1 accurate in the middle of the branch (the rational cubic cannot follow f's
/// logarithmic approach to f(β) = β as β → 0); after this step it is within 5e-7 over the
/// grid of the unit test below, so the first exact step moves s by less than
/// `SKIP_SECOND_STEP` and the second one is skipped. The approximation limits only this
/// step: the exact steps that follow set the result.
#[inline]
fn lowest_branch_pre_step(s: f64, x: f64, ln_beta: (f64, f64)) -> f64 {
    let h = x / s;
    let t = 0.5 * s;
    let scaled =
        SQRT_PI_OVER_2 * (erfcx(-FRAC_1_SQRT_2 * (h + t)) - erfcx(-FRAC_1_SQRT_2 * (h - t)));
    if scaled > 0.0
        && let Some(ds) = lowest_branch_step(s, h, t, scaled, ln_beta, ln_for_guess)
        && let Some(next) = step(s, ds)
    {
        return next;
    }
    s
}

/// The Householder step on g(s) = 1/ln b(s) − 1/ln β at s, h = x/s, t = s/2, given
/// b/b' = `scaled` and (ln β, 1/ln β); `None` at the root.
#[inline]
fn lowest_branch_step(
    s: f64,
    h: f64,
    t: f64,
    scaled: f64,
    (ln_beta, inv_ln_beta): (f64, f64),
    ln: impl Fn(f64) -> f64,
) -> Option<f64> {
    let q = 0.5 * (h * h + t * t);
    let ln_b = ln(scaled) - q - LN_SQRT_TWO_PI;
    if ln_b == ln_beta {
        return None;
    }
    let p = 1.0 / scaled; // b'/b
    let (b2, b3) = black_derivative_ratios(h, s);
    let lambda = 1.0 / ln_b;
    let one_plus_two_lambda = 1.0 + 2.0 * lambda;
    let nu = (ln_beta - ln_b) * ln_b * inv_ln_beta * scaled;
    let h2 = b2 - p * one_plus_two_lambda;
    let h3 =
        b3 + p * p * (2.0 + 6.0 * lambda * (1.0 + lambda)) - 3.0 * b2 * p * one_plus_two_lambda;
    Some(householder3(nu, h2, h3))
}

/// Li's rational seed for s in (x, c = β/`b_max`): a rational function of degree 3 in x and
/// c, with the coefficients of M. Li and K. Lee, MPRA paper 6867, eq. (42), as the
/// `implied-vol` crate 2.1 uses them for its `FlashIV` seed (copied from its source).
#[inline]
fn li_seed(x: f64, c: f64) -> f64 {
    let m0 = ((-0.216_197_632_156_68 * x + 0.089_753_944_048_51) * x - 0.406_619_903_654_27) * x
        - 0.000_061_030_981_65;
    let m1 = (3.838_158_853_945_65 * x - 36.194_052_215_990_28) * x + 5.339_676_433_576_88;
    let m2 = 41.217_726_327_328_34 * x + 3.250_234_253_323_60;
    let numerator = ((83.845_932_244_177_96 * c + m2) * c + m1) * c + m0;
    let n0 =
        ((-0.033_269_442_900_44 * x + 0.430_276_195_531_68) * x - 0.484_665_363_616_20) * x + 1.0;
    let n1 = (-0.047_638_023_588_53 * x - 1.341_022_799_820_50) * x + 22.963_021_090_107_94;
    let n2 = 2.457_825_742_942_44 * x - 0.772_688_245_324_68;
    let denominator = ((-5.705_315_006_451_09 * c + n2) * c + n1) * c + n0;
    numerator / denominator
}

/// The rational guess on the lowest branch (Jäckel 2015, eqs. (6.5)–(6.9)).
fn lowest_branch_guess(beta: f64, x: f64, s_l: f64, b_l: f64) -> f64 {
    // 1/s_l and 1/(2π/√27·|x|) are off the dependent chain; the chain then multiplies.
    let inv_s_l = 1.0 / s_l;
    let inv_f_scale = 1.0 / (TWO_PI_OVER_SQRT_27 * -x);
    let h = x * inv_s_l;
    let z = FRAC_1_SQRT_3 * h;
    // Y(z) = Φ(z)/φ(z), so that φ(z)/Φ(z) = 1/Y(z) without underflow, and Φ(z) = φ(z)·Y(z)
    // with a single exponential.
    let mills_z = SQRT_PI_OVER_2 * erfcx_for_guess(-FRAC_1_SQRT_2 * z);
    // e^{−z²/2} = e^{−h²/6}; with e^{q} = e^{h²/2 + s²/8} it also gives e^{h²/3 + s²/8}.
    let exp_minus_half_z2 = exp_for_guess(-0.5 * z * z);
    let exp_q = exp_for_guess(0.5 * h * h + 0.125 * s_l * s_l);
    let cdf_z = ONE_OVER_SQRT_TWO_PI * exp_minus_half_z2 * mills_z;
    let f_l = TWO_PI_OVER_SQRT_27 * (-x) * cdf_z * cdf_z * cdf_z;
    // f'(β) = f'(s)/b'(s) = (2π/3)·h²·Φ(z)²·e^{h²/3 + s²/8}.
    let d1 = TWO_PI_OVER_3 * h * h * cdf_z * cdf_z * (exp_q * exp_minus_half_z2);
    // f''(β) = (∂ ln f'(β)/∂s)·f'(β)/b'(s).
    let dlog = (-2.0 - 2.0 * z / mills_z - (2.0 / 3.0) * h * h) * inv_s_l + 0.25 * s_l;
    let d2 = d1 * dlog * (SQRT_TWO_PI * exp_q);
    let r = control_parameter(Side::Right, b_l, f_l, (1.0, d1), d2, true);
    let mut f = interpolate(beta, b_l, (0.0, f_l), (1.0, d1), r);
    if f.is_nan() || f <= 0.0 {
        let u = beta / b_l;
        f = (f_l * u + b_l * (1.0 - u)) * u;
    }
    // Invert f: Φ(z) = (f/((2π/√27)|x|))^{1/3} =: p, s = x/(√3 z) (eq. (6.9)). In AS241's
    // tail (p < 0.075, i.e. p³ < 0.075³) Φ⁻¹ needs only ln p = ln(p³)/3, not p itself.
    let p3 = f * inv_f_scale;
    let z = if p3 <= 0.0 {
        f64::NEG_INFINITY
    } else if p3 < AS241_TAIL_CUBED {
        -inverse_norm_cdf_tail((p3.ln() * (-1.0 / 3.0)).sqrt())
    } else {
        inverse_norm_cdf(guess_cbrt(p3))
    };
    (x * FRAC_1_SQRT_3 / z).abs()
}

/// The rational guess on the highest branch (Jäckel 2015, eqs. (6.13)–(6.15)):
/// f(s) = Φ(−s/2) with f'(β) = −e^{h²/2}/2 and f''(β) = √(π/2)·e^{h² + s²/8}·h²/s.
fn highest_branch_guess(beta: f64, x: f64, s_u: f64, b_u: f64, b_max: f64) -> f64 {
    let h = x / s_u;
    let f_u = 0.5 * erfc(0.5 * FRAC_1_SQRT_2 * s_u);
    let d1 = -0.5 * (0.5 * h * h).exp();
    let d2 = SQRT_PI_OVER_2 * (h * h + 0.125 * s_u * s_u).exp() * h * h / s_u;
    let width = b_max - b_u;
    let d = (d1, -0.5);
    let mut f = if d2.is_finite() {
        let r = control_parameter(Side::Left, width, -f_u, d, d2, true);
        interpolate(beta - b_u, width, (f_u, 0.0), d, r)
    } else {
        f64::NAN
    };
    if f.is_nan() || f <= 0.0 {
        let u = (beta - b_u) / width;
        f = (f_u * (1.0 - u) + 0.5 * width * u) * (1.0 - u);
    }
    -2.0 * inverse_norm_cdf(f)
}

/// erfcx to about 1e-9 relative, with [`exp_for_guess`] on Cody's central interval.
#[inline]
fn erfcx_for_guess(x: f64) -> f64 {
    erfcx_inline_with_exp(x, exp_for_guess)
}

/// e^v to about 1e-9 relative, for the lowest-branch guess only (whose interpolation error is
/// of order 1e-2, so this is invisible after the Householder steps) and several times cheaper
/// than `f64::exp`: v = n·ln 2 + r with |r| ≤ ln2/2, e^r by its degree-8 Taylor polynomial
/// (remainder below 0.35⁹/9! < 3e-10), and 2ⁿ put into the exponent bits. Outside ±700 (2ⁿ
/// would leave the normal range) it defers to `f64::exp`.
#[inline]
fn exp_for_guess(v: f64) -> f64 {
    // Adding 1.5·2⁵² rounds to an integer, which the low mantissa bits then hold.
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    if v.is_nan() || v.abs() > 700.0 {
        return v.exp();
    }
    let shifted = v * std::f64::consts::LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = v - n * std::f64::consts::LN_2;
    // Estrin's scheme: the guess is latency-bound, and this halves the polynomial's chain.
    let r2 = r * r;
    let r4 = r2 * r2;
    let taylor = [
        1.0,
        1.0,
        0.5,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
    ];
    let p = estrin7(&taylor, r, r2, r4) + (1.0 / 40_320.0) * (r4 * r4);
    // 2ⁿ: n + 1023 into the exponent field (|n| ≤ 1010, so the biased exponent is in 13..2033).
    let biased = shifted
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(1023);
    p * f64::from_bits(biased << 52)
}

/// ln v to about 2e-11 absolute, for the lowest-branch pre-step only: v = 2ᵉ·m with
/// m in [√½, √2) from the bit pattern, then ln m = 2·atanh(u), u = (m − 1)/(m + 1), by its
/// series to u¹¹ (|u| ≤ 0.172, so the first omitted term is below 2e-11). Zero, subnormal,
/// negative and non-finite arguments defer to `f64::ln`.
#[inline]
fn ln_for_guess(v: f64) -> f64 {
    const MANTISSA: u64 = (1 << 52) - 1;
    const ONE_BITS: u64 = 1023 << 52;
    if !v.is_normal() || v < 0.0 {
        return v.ln();
    }
    let bits = v.to_bits();
    #[expect(clippy::cast_possible_wrap, reason = "the biased exponent has 11 bits")]
    let mut e = (bits >> 52) as i64 - 1023;
    let mut m = f64::from_bits((bits & MANTISSA) | ONE_BITS);
    if m > SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let u = (m - 1.0) / (m + 1.0);
    let u2 = u * u;
    let u4 = u2 * u2;
    // Σ u²ᵏ/(2k+1) for k ≤ 5 by Estrin's scheme (the pre-step is latency-bound).
    let p = (1.0 + u2 * (1.0 / 3.0))
        + u4 * ((1.0 / 5.0 + u2 * (1.0 / 7.0)) + u4 * (1.0 / 9.0 + u2 * (1.0 / 11.0)));
    #[expect(clippy::cast_precision_loss, reason = "|e| < 1100 is exact")]
    let e = e as f64;
    e * std::f64::consts::LN_2 + 2.0 * u * p
}

/// ∛v to about 1e-12 relative, enough for an initial guess and several times cheaper than
/// `f64::cbrt` (a software routine): the exponent divided by three on the bit pattern
/// (W. Kahan's trick, error below 4 %), then two Halley steps y ← y·(y³ + 2v)/(2y³ + v), each
/// cubing the relative error.
#[inline]
fn guess_cbrt(v: f64) -> f64 {
    if !v.is_normal() || v < 0.0 {
        return v.cbrt();
    }
    let mut y = f64::from_bits(v.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * v) / (2.0 * y3 + v);
    }
    y
}

/// Householder on g(s) = ln(`b_max` − β) − ln(`b_max` − b(s)) (Jäckel 2015, eq. (5.10)), with
/// (`b_max` − b)/b' = √(π/2)·[erfcx((t + h)/√2) + erfcx((t − h)/√2)] free of cancellation.
fn upper_iterations(beta: f64, x: f64, mut s: f64, b_max: f64) -> f64 {
    let beta_bar = b_max - beta;
    for i in 0..MAX_STEPS {
        let h = x / s;
        let t = 0.5 * s;
        // g' = b'/(b_max − b).
        let gp = SQRT_2_OVER_PI / (erfcx(FRAC_1_SQRT_2 * (t + h)) + erfcx(FRAC_1_SQRT_2 * (t - h)));
        let q = 0.5 * (h * h + t * t);
        let g = (beta_bar * gp).ln() + q + LN_SQRT_TWO_PI;
        if g == 0.0 {
            break;
        }
        let (b2, b3) = black_derivative_ratios(h, s);
        let nu = -g / gp;
        let h2 = b2 + gp;
        let h3 = b3 + gp * (3.0 * b2 + 2.0 * gp);
        let ds = householder3(nu, h2, h3);
        let Some(next) = step(s, ds) else { break };
        s = next;
        if i == 0 && ds.abs() < SKIP_SECOND_STEP * s {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guess_cbrt_is_accurate_for_a_guess() {
        for v in [
            1e-300_f64, 3.7e-120, 1e-9, 0.123, 1.0, 2.0, 27.0, 1e15, 7e250,
        ] {
            let y = guess_cbrt(v);
            assert!(((y - v.cbrt()) / v.cbrt()).abs() < 1e-12, "∛{v}: {y}");
        }
        assert_eq!(guess_cbrt(0.0), 0.0);
    }

    #[test]
    fn exp_for_guess_is_accurate_for_a_guess() {
        for v in [
            -745.0, -700.0, -123.456, -1.0, -0.3, 0.0, 1e-9, 0.346, 2.5, 57.0, 699.9, 710.0,
        ] {
            let (got, want) = (exp_for_guess(v), v.exp());
            assert!(
                got == want || ((got - want) / want).abs() < 1e-9,
                "e^{v}: {got} vs {want}"
            );
        }
        assert!(exp_for_guess(f64::NAN).is_nan());
    }

    #[test]
    fn ln_for_guess_is_accurate_for_a_guess() {
        for v in [
            1e-300_f64, 3.7e-120, 1e-9, 0.123, 0.707, 0.708, 1.0, 1.414, 1.415, 2.0, 1e15, 7e250,
        ] {
            let (got, want) = (ln_for_guess(v), v.ln());
            assert!((got - want).abs() < 3e-11, "ln {v}: {got} vs {want}");
        }
        assert_eq!(ln_for_guess(0.0), f64::NEG_INFINITY);
        assert!(ln_for_guess(-1.0).is_nan());
    }
}

#[cfg(test)]
mod pre_step_tests {
    use super::*;
    use crate::implied::black::otm_black;

    /// Over |x| from 0.01 to 50 and s from 5 % to 99 % of `s_l`, the rational guess followed by
    /// the pre-step is within 1e-5 of the exact s (so a single exact step suffices), and never
    /// further from it than the guess alone.
    #[test]
    fn pre_step_brings_the_lowest_branch_guess_within_1e_5() {
        let mut worst: f64 = 0.0;
        for x in [
            -0.01, -0.05, -0.135, -0.3, -0.69, -1.5, -3.0, -10.0, -50.0_f64,
        ] {
            let sqrt_ax = (-x).sqrt();
            let s_c = SQRT_2 * sqrt_ax;
            let s_l = s_c - SQRT_PI_OVER_2 * (1.0 - crate::normal::erfcx(sqrt_ax));
            let half = ((0.5 * x).exp(), (-0.5 * x).exp());
            let b_l = b_l_over_b_max(s_c) * half.0;
            for i in 0..=40 {
                let s = s_l * (0.05 + 0.94 * f64::from(i) / 40.0);
                let beta = otm_black(x, s, half).b;
                if !(beta > f64::MIN_POSITIVE && beta < b_l) {
                    continue;
                }
                let guess = lowest_branch_guess(beta, x, s_l, b_l);
                let pre = lowest_branch_pre_step(guess, x, (beta.ln(), 1.0 / beta.ln()));
                let (e_guess, e_pre) = (((guess - s) / s).abs(), ((pre - s) / s).abs());
                assert!(
                    e_pre <= e_guess.max(1e-14),
                    "x {x} s {s}: {e_pre:e} > {e_guess:e}"
                );
                worst = worst.max(e_pre);
            }
        }
        // Observed: 3.2e-6 at x = −50, below 5e-7 for |x| ≤ 10.
        assert!(
            worst < 1e-5,
            "worst relative error after the pre-step {worst:e}"
        );
    }

    /// Where Li's seed is used (the lowest branch with −3 < x ≤ −0.01 and β/`b_max` > 0.0005),
    /// the pre-step brings it within 1e-4 of the exact s (so at most two exact steps run, the
    /// second only where the first moved s by more than `SKIP_SECOND_STEP`), and the solver
    /// reprices to 2e-14 relative. Observed on a 300 × 400 grid: seed within 23 %, after the
    /// pre-step 8e-5, repricing 8.5e-15.
    #[test]
    fn li_seed_and_the_pre_step_reach_full_precision() {
        let (mut worst_pre, mut worst_price, mut cases): (f64, f64, usize) = (0.0, 0.0, 0);
        for i in 0..=150 {
            let x = -0.01 - 2.99 * f64::from(i) / 150.0;
            let sqrt_ax = (-x).sqrt();
            let s_c = SQRT_2 * sqrt_ax;
            let s_l = s_c - SQRT_PI_OVER_2 * (1.0 - crate::normal::erfcx(sqrt_ax));
            let half = ((0.5 * x).exp(), (-0.5 * x).exp());
            let b_l = b_l_over_b_max(s_c) * half.0;
            for j in 1..=200 {
                let s = s_l * f64::from(j) / 200.0;
                let beta = otm_black(x, s, half).b;
                let c = beta / half.0;
                if !(beta < b_l && c > 0.0005) {
                    continue;
                }
                cases += 1;
                let pre = lowest_branch_pre_step(li_seed(x, c), x, (beta.ln(), 1.0 / beta.ln()));
                worst_pre = worst_pre.max(((pre - s) / s).abs());
                let solved = implied_normalised_otm(beta, x, half);
                worst_price = worst_price.max(((otm_black(x, solved, half).b - beta) / beta).abs());
            }
        }
        assert!(cases > 5_000, "{cases} cases");
        assert!(worst_pre < 1e-4, "worst after the pre-step {worst_pre:e}");
        assert!(worst_price < 2e-14, "worst repricing error {worst_price:e}");
    }
}
