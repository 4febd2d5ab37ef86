//! The normalised Black function b(x, s) of Jäckel (2015), evaluated to full relative precision.
//!
//! With x = ln(F/K), s = σ√T, h = x/s and t = s/2, the undiscounted Black price divided by √(FK)
//! is (Jäckel 2015, eq. (2.2))
//!
//! b(x, s, θ) = θ·[e^{x/2}·Φ(θ·(h + t)) − e^{−x/2}·Φ(θ·(h − t))].
//!
//! Put-call symmetry b(x, s, −1) = b(−x, s, +1) and the split b = ι + b(−|x|, s) into the
//! normalised intrinsic value ι and an out-of-the-money part reduce everything to x ≤ 0, θ = +1,
//! which this module evaluates. There, writing Y(z) = Φ(z)/φ(z) (a Mills ratio),
//!
//! b(x, s) = φ(h)·e^{−t²/2}·[Y(h + t) − Y(h − t)]  (Jäckel 2015, eq. (2.4)),
//!
//! the bracket being the "scaled" normalised Black function b/b' (b' = ∂b/∂s is the normalised
//! vega). Three regions keep the relative error near machine precision (§3 of the paper):
//!
//! 1. h < η = −13 and h + t < −12.29 (deep out of the money, small s): the asymptotic
//!    expansion of Y at −∞ (Jäckel 2015, §3.1), summed here in a cancellation-free form
//!    (see [`asymptotic_scaled`]);
//! 2. t < τ = 2·ε^{1/16} (small total variance): the Taylor series of Y(h ± t) in t
//!    (Jäckel 2015, §3.2), whose odd derivatives follow from Y' = 1 + zY;
//! 3. elsewhere: Cody's erfc/erfcx, choosing per term the form without overflow or
//!    subtractive cancellation (Jäckel 2015, eq. (3.6)).

use crate::normal::{ONE_OVER_SQRT_TWO_PI, erfc_central, erfcx_inline as erfcx};
use std::f64::consts::FRAC_1_SQRT_2;

/// √(π/2).
pub(crate) const SQRT_PI_OVER_2: f64 = 1.253_314_137_315_500_3;
/// The threshold η of the asymptotic-expansion region (Jäckel 2015, §3.1).
pub(super) const ETA: f64 = -13.0;
/// τ = 2·ε^{1/16}, the small-t threshold (Jäckel 2015, §3.2).
pub(super) const TAU: f64 = 2.0 * 0.105_112_051_906_714_33;
/// Cody's switch between erfc and erfcx.
const CODY_THRESHOLD: f64 = 0.46875;

/// True in region 1 (asymptotic expansion).
#[inline]
pub(super) fn is_asymptotic(h: f64, t: f64) -> bool {
    h < ETA && h + t < TAU + 0.5 + ETA
}

/// True in region 2 (small-t Taylor series); region 1 is tested first.
#[inline]
fn is_small_t(h: f64, t: f64) -> bool {
    t < TAU && h >= ETA
}

/// Y(h + t) − Y(h − t) for h < −12 and |h| > t + 12, from Y(z) ~ −Σₖ (−1)ᵏ(2k−1)!!·z^{−(2k+1)}.
///
/// The difference of powers a^n − b^n with a = 1/(h − t), b = 1/(h + t) cancels when t ≪ |h|;
/// it equals (a − b)·Sₙ with a − b = 2t/(h² − t²) and Sₙ = Σⱼ aʲ b^{n−1−j}, a sum of positive
/// terms (n is odd) that obeys S_{n+2} = b²·Sₙ + aⁿ·(a + b), again a sum of positive terms. So
/// every coefficient of the asymptotic series is computed to full relative precision and only the
/// (rapidly converging, alternating) series itself is summed; |h + t| > 12.29 makes its first 20
/// terms enough for double precision (the (k+1)-th term is below (2k+1)!!/12.29^{2k}).
#[inline(never)]
fn asymptotic_scaled(h: f64, t: f64) -> f64 {
    let a = 1.0 / (h - t);
    let b = 1.0 / (h + t);
    let a2 = a * a;
    let b2 = b * b;
    let a_plus_b = a + b;
    let mut s_n: f64 = 1.0; // S₁
    let mut a_n = a; // aⁿ for n = 1
    let mut coefficient: f64 = 1.0; // (−1)ᵏ(2k−1)!!
    let mut sum: f64 = 0.0;
    for k in 0..24 {
        let term = coefficient * s_n;
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
        s_n = b2 * s_n + a_n * a_plus_b;
        a_n *= a2;
        coefficient *= -f64::from(2 * k + 1);
    }
    2.0 * t / ((h - t) * (h + t)) * sum
}

/// 1/(2k+1)! for k = 1..=8, the small-t series' factors.
pub(super) const INV_ODD_FACTORIALS: [f64; 8] = [
    1.0 / 6.0,
    1.0 / 120.0,
    1.0 / 5040.0,
    1.0 / 362_880.0,
    1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];

/// Y(h + t) − Y(h − t) for t < τ by the odd Taylor terms 2·Σₖ Y^{(2k+1)}(h)·t^{2k+1}/(2k+1)!,
/// with Y' = 1 + hY and Y^{(n+1)} = n·Y^{(n−1)} + h·Y^{(n)} (differentiate Y' = 1 + zY).
///
/// For h ≥ −13 the recursion loses at most log₁₀(h²) digits in Y' (about 2 at h = −13) and the
/// higher terms carry t^{2k} ≤ 0.044ᵏ, so the relative error stays below ~1e-13 in the worst
/// corner of the region and at a few ulp near the money.
#[inline]
fn small_t_scaled(h: f64, t: f64) -> f64 {
    let y0 = SQRT_PI_OVER_2 * erfcx(-FRAC_1_SQRT_2 * h);
    let mut prev = y0; // Y^{(n−1)}
    let mut cur = 1.0 + h * y0; // Y^{(n)}, n = 1
    let t2 = t * t;
    let mut t_power = 1.0; // t^{2k}
    let mut sum = cur;
    let mut n = 1.0;
    // With t < τ the k-th term is at most 0.044ᵏ·2ᵏk!/(2k+1)! relative to the first (the odd
    // derivatives are positive and largest at h = 0, where Y^{(2k+1)}(0) = 2ᵏk!): eight terms
    // reach ε for any t < τ, and the terms decrease so fast that the first negligible one ends
    // the sum (at typical t = 0.06, after five terms).
    for inv_factorial in INV_ODD_FACTORIALS {
        // Two steps of the recursion: n → n + 1 → n + 2.
        let next = n * prev + h * cur;
        let next2 = (n + 1.0) * cur + h * next;
        prev = next;
        cur = next2;
        n += 2.0;
        t_power *= t2;
        let term = cur * t_power * inv_factorial;
        sum += term;
        if term <= 1e-17 * sum {
            break;
        }
    }
    2.0 * t * sum
}

/// The scaled normalised Black function b/b' = Y(h + t) − Y(h − t) for x ≤ 0 (h ≤ 0, t > 0).
#[inline]
pub(crate) fn scaled_otm_black(h: f64, t: f64) -> f64 {
    if is_asymptotic(h, t) {
        asymptotic_scaled(h, t)
    } else if is_small_t(h, t) {
        small_t_scaled(h, t)
    } else {
        SQRT_PI_OVER_2 * (erfcx(-FRAC_1_SQRT_2 * (h + t)) - erfcx(-FRAC_1_SQRT_2 * (h - t)))
    }
}

/// The terms of the normalised Black function at one point, reused by the solver.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OtmBlack {
    /// b(x, s), x ≤ 0.
    pub(crate) b: f64,
    /// q = (h² + t²)/2: the normalised vega is e^{−q}/√(2π).
    pub(crate) q: f64,
    /// e^{−q} (zero once it underflows).
    pub(crate) exp_minus_q: f64,
}

impl OtmBlack {
    /// 1/b'(s) = √(2π)·e^{q}, from the stored e^{−q} while that is a normal number.
    #[inline]
    pub(crate) fn inv_vega(&self) -> f64 {
        if self.exp_minus_q >= f64::MIN_POSITIVE {
            crate::normal::SQRT_TWO_PI / self.exp_minus_q
        } else {
            crate::normal::SQRT_TWO_PI * self.q.exp()
        }
    }
}

/// b(x, s) for x ≤ 0, s > 0, with `half_x_exp = (e^{x/2}, e^{−x/2})` precomputed (they do not
/// change while the solver iterates on s).
#[inline]
pub(crate) fn otm_black(x: f64, s: f64, half_x_exp: (f64, f64)) -> OtmBlack {
    let h = x / s;
    let t = 0.5 * s;
    let q = 0.5 * (h * h + t * t);
    let exp_minus_q = (-q).exp();
    if is_asymptotic(h, t) || is_small_t(h, t) {
        let bx = if is_asymptotic(h, t) {
            asymptotic_scaled(h, t)
        } else {
            small_t_scaled(h, t)
        };
        return OtmBlack {
            b: bx * ONE_OVER_SQRT_TWO_PI * exp_minus_q,
            q,
            exp_minus_q,
        };
    }
    // Jäckel 2015, eq. (3.6): 2b = e^{x/2}·erfc(q₁) − e^{−x/2}·erfc(q₂) with
    // q₁,₂ = −(h ± t)/√2, and e^{±x/2}·erfc(qᵢ) = e^{−q}·erfcx(qᵢ) because x/2 − q₁² =
    // −x/2 − q₂² = −q. Each term takes the form free of overflow and cancellation.
    let q1 = -FRAC_1_SQRT_2 * (h + t);
    let q2 = -FRAC_1_SQRT_2 * (h - t);
    let first = erfc_term(q1, half_x_exp.0, exp_minus_q);
    let second = erfc_term(q2, half_x_exp.1, exp_minus_q);
    OtmBlack {
        b: (0.5 * (first - second)).max(0.0),
        q,
        exp_minus_q,
    }
}

/// e^{±x/2}·erfc(q) given e^{±x/2} and e^{−q} = e^{±x/2 − q²}: Cody's rational form for erfc
/// on |q| ≤ 0.46875, e^{−q}·erfcx(q) above (erfc would underflow), and
/// 2e^{±x/2} − e^{−q}·erfcx(−q) below (no second exponential, no overflow, and no
/// cancellation since the subtrahend is below half the first term).
#[inline]
fn erfc_term(q: f64, exp_half_x: f64, exp_minus_q: f64) -> f64 {
    if q >= CODY_THRESHOLD {
        exp_minus_q * erfcx(q)
    } else if q > -CODY_THRESHOLD {
        exp_half_x * erfc_central(q)
    } else {
        2.0 * exp_half_x - exp_minus_q * erfcx(-q)
    }
}

/// The normalised intrinsic value ι = e^{x/2} − e^{−x/2} = 2·sinh(x/2) for x > 0.
#[inline]
pub(crate) fn normalised_intrinsic(x: f64) -> f64 {
    // sinh via expm1 keeps full relative precision for small x.
    let e = (0.5 * x).exp_m1();
    e + e / (1.0 + e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference b(x, s) = e^{x/2}Φ(x/s + s/2) − e^{−x/2}Φ(x/s − s/2), computed with mpmath at
    /// 60 digits from the same binary64 inputs.
    #[test]
    fn otm_black_matches_high_precision_references_in_every_region() {
        let cases: [(f64, f64, f64, f64); 12] = [
            // Cody region.
            (-0.5, 1.0, 0.1856830129966638584, 4e-16),
            (-1.0, 8.0, 0.60646776222399163518, 4e-16),
            (-30.0, 2.3, 3.1380418923394156822e-40, 2e-14),
            (-12.0, 0.95, 4.6989859104367233102e-38, 2e-14),
            // Small t: near the money, at the money, and towards h = −13.
            (-0.01, 0.05, 0.015342759237307299123, 4e-16),
            (0.0, 0.3, 0.11923538474048503154, 4e-16),
            (-0.3, 0.2, 0.005840207178144786016, 2e-15),
            (-3.0, 0.41, 6.7191949642524512584e-15, 2e-14),
            (-1.2, 0.1, 1.4587197790646221504e-35, 5e-14),
            (-5.0, 0.4, 1.1565253242158328945e-37, 5e-14),
            // Asymptotic region.
            (-2.0, 0.15, 8.218114160111014973e-43, 2e-14),
            (-20.0, 1.0, 1.2097749726121600911e-90, 2e-14),
        ];
        for (x, s, want, tol) in cases {
            let got = otm_black(x, s, ((0.5 * x).exp(), (-0.5 * x).exp())).b;
            let rel = ((got - want) / want).abs();
            assert!(
                rel <= tol,
                "b({x}, {s}) = {got:e}, want {want:e}, rel {rel:e}"
            );
        }
    }

    #[test]
    fn normalised_intrinsic_is_two_sinh_half_x() {
        // 2·sinh(0.05) and 2·sinh(5) to 17 digits (mpmath).
        assert!((normalised_intrinsic(0.1) - 0.10004167187531004).abs() < 3e-17);
        assert!((normalised_intrinsic(10.0) - 148.40642115557752).abs() < 1e-13);
        assert!((normalised_intrinsic(1e-20) - 1e-20).abs() < 1e-36);
    }
}
