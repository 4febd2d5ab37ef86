//! Implied volatility of European options, after P. Jäckel, "Let's Be Rational", Wilmott
//! (2015) 40–53 ("LBR" below; equation numbers refer to that paper).
//!
//! # Units
//! Prices are in currency, forwards/spots/strikes in the same currency, `years` is the time to
//! expiry in years (> 0), rates and yields are continuously compounded per year, and the result
//! is a Black volatility per √year (0.2 = 20 %).
//!
//! # Algorithm
//! 1. **Normalise.** With x = ln(F/K) and s = σ√T, the undiscounted Black price is
//!    √(FK)·b(x, s, θ) (LBR eq. (2.2)). Put-call symmetry and subtracting the intrinsic value
//!    reduce every input to an out-of-the-money call, x ≤ 0, with normalised time value β.
//! 2. **Accurate forward function.** b(x, s) is evaluated to near machine *relative* precision,
//!    so deep out-of-the-money prices (down to ~1e-300) invert correctly: an asymptotic
//!    expansion for h = x/s < −13, a Taylor series for small t = s/2, and Cody's erfcx
//!    elsewhere (LBR §3; see [`black_price`]).
//! 3. **Rational initial guess.** The s axis splits at the inflection point `s_c` = √(2|x|) and
//!    the tangent intercepts `s_l`, `s_u` into four branches; on each, a shape-preserving rational
//!    cubic (Delbourgo-Gregory 1985) of a branch-specific map of β gives s to a few digits
//!    (LBR §§4, 6).
//! 4. **At most two Householder steps** of third order on a branch-specific objective
//!    (1/ln b on the lowest branch, ln(`b_max` − b) on the highest) reach machine precision
//!    (LBR §5); the second step is skipped when the first one moved s by less than 1e-5
//!    relative, since the error left after a third-order step is then of order 1e-18.
//!
//! The code is this crate's own; it follows the paper and, for the prices at the branch points
//! `s_l` and `s_u`, Jäckel's 2024 revision of "Let's Be Rational", whose fitted rational
//! approximations of b(`s_l`)/`b_max` and b(`s_u`)/`b_max` in `s_c` replace two full Black
//! evaluations (coefficients cross-checked against the `implied-vol` crate 2.1; see
//! `fitted.rs`). The 2024 revision's branch structure was also consulted.
//!
//! # Accuracy
//! Over |ln(F/K)| ≤ 700 and σ√T from 1e-8 until the price reaches its upper bound in double
//! precision (σ√T ≈ 30 near the money), the repriced option matches the input to about 1e-15
//! relative (worst seen 6e-16 on a grid of those extremes, 5e-14 over 1.9 million random cases)
//! wherever the option has time value above ~1e-14 of its price (below that, the price no longer
//! determines the volatility in double precision). The small-t series loses up to two digits
//! towards h = −13, keeping the relative error below ~1e-13 there.
//!
//! # Errors
//! No-arbitrage violations are reported with the bound that was crossed:
//! [`PricingError::PriceBelowLowerBound`] under the (discounted) intrinsic value of the forward,
//! [`PricingError::PriceAboveUpperBound`] at or above the discounted forward (call) or
//! discounted strike (put). A price at the lower bound, or within rounding under it (8 ulp of
//! max(F, K) discounted), has volatility 0.

mod black;
mod fitted;
pub(crate) mod lanes;
mod lbr;
mod rational;

use crate::error::{ErrorCode, PricingError, Result, finite, non_negative, positive};
use crate::types::OptionRight;

/// The normalised Black function b(x, s, θ) = θ·[e^{x/2}Φ(θ(x/s + s/2)) − e^{−x/2}Φ(θ(x/s − s/2))]
/// of LBR eq. (2.2): the undiscounted Black price divided by √(FK), with x = ln(F/K) and
/// s = σ√T (total volatility). Relative-accurate to a few ulp for out-of-the-money options down to
/// prices of ~1e-300.
///
/// Returns NaN if x or s is NaN or s < 0; s = 0 gives the normalised intrinsic value and s = ∞
/// the normalised upper bound (e^{x/2} for a call, e^{−x/2} for a put).
#[must_use]
pub fn normalised_black(x: f64, s: f64, right: OptionRight) -> f64 {
    if x.is_nan() || s.is_nan() || s < 0.0 {
        return f64::NAN;
    }
    // b(x, s, put) = b(−x, s, call): work with θx.
    let theta_x = right.sign() * x;
    if s == f64::INFINITY {
        return (0.5 * theta_x).exp();
    }
    let intrinsic = if theta_x > 0.0 {
        black::normalised_intrinsic(theta_x)
    } else {
        0.0
    };
    if s == 0.0 {
        return intrinsic;
    }
    let otm_x = -theta_x.abs();
    let half = ((0.5 * otm_x).exp(), (-0.5 * otm_x).exp());
    intrinsic + black::otm_black(otm_x, s, half).b
}

/// The undiscounted Black price of a European option on a forward, evaluated through the
/// normalised Black function: the accurate reference that [`implied_black_volatility`] inverts.
/// Multiply by the discount factor for a present value.
///
/// `forward` and `strike` in currency (> 0), `vol` per √year (≥ 0), `years` ≥ 0. Out-of-the-money
/// prices keep full relative precision far into the tail (the usual Φ-difference formula loses
/// it below ~1e-16 of the forward). Returns NaN for invalid inputs.
#[must_use]
pub fn black_price(forward: f64, strike: f64, vol: f64, years: f64, right: OptionRight) -> f64 {
    let valid = |v: f64| v.is_finite() && v > 0.0;
    let vol_ok = vol >= 0.0;
    let years_ok = years.is_finite() && years >= 0.0;
    if !valid(forward) || !valid(strike) || !vol_ok || !years_ok {
        return f64::NAN;
    }
    let intrinsic = right.intrinsic(forward, strike);
    let s = vol * years.sqrt();
    if s == 0.0 {
        return intrinsic;
    }
    if s == f64::INFINITY {
        return match right {
            OptionRight::Call => forward,
            OptionRight::Put => strike,
        };
    }
    let x = log_moneyness(forward, strike, forward / strike);
    let otm_x = -x.abs();
    let half = ((0.5 * otm_x).exp(), (-0.5 * otm_x).exp());
    intrinsic + forward.sqrt() * strike.sqrt() * black::otm_black(otm_x, s, half).b
}

/// ln(F/K) given `ratio` = F/K, through `ln_1p` of the relative difference near the money so
/// that neighbouring forwards give distinguishable x.
#[inline]
fn log_moneyness(forward: f64, strike: f64, ratio: f64) -> f64 {
    if (0.5..=2.0).contains(&ratio) {
        ((forward - strike) / strike).ln_1p()
    } else {
        ratio.ln()
    }
}

/// The Black volatility σ (per √year) that reproduces an undiscounted option price on a forward.
///
/// `undiscounted_price` is the option's value in forward terms (present value divided by the
/// discount factor); `forward`, `strike` > 0; `years` > 0.
///
/// # Errors
/// - [`PricingError::InvalidInput`] naming `price`, `forward`, `strike` or `years` when it is
///   NaN, infinite or out of its domain (the price must be ≥ 0, `years` > 0).
/// - [`PricingError::PriceBelowLowerBound`] when the price is below the intrinsic value
///   max(θ(F − K), 0); exactly at it, the volatility is 0.
/// - [`PricingError::PriceAboveUpperBound`] when the price is at or above F (call) or K (put).
pub fn implied_black_volatility(
    undiscounted_price: f64,
    forward: f64,
    strike: f64,
    years: f64,
    right: OptionRight,
) -> Result<f64> {
    non_negative("price", undiscounted_price)?;
    positive("forward", forward)?;
    positive("strike", strike)?;
    positive("years", years)?;
    solve(undiscounted_price, 1.0, forward, strike, years, right)
}

/// The common core: `price` is discounted by `df` (1 for an undiscounted price); bounds are
/// reported in the caller's (discounted) units. Inputs are validated by the caller.
#[inline]
pub(crate) fn solve(
    price: f64,
    df: f64,
    forward: f64,
    strike: f64,
    years: f64,
    right: OptionRight,
) -> Result<f64> {
    // The error path rebuilds the bound it reports; the hot path carries one byte of status.
    solve_code(price, df, forward, strike, years, right).map_err(|code| match code {
        ErrorCode::PriceBelowLowerBound => PricingError::PriceBelowLowerBound {
            price,
            bound: df * right.intrinsic(forward, strike),
        },
        ErrorCode::PriceAboveUpperBound => PricingError::PriceAboveUpperBound {
            price,
            bound: df * upper_bound(forward, strike, right),
        },
        _ => PricingError::NoConvergence {
            solver: "implied volatility (Let's Be Rational)",
            reason: format!(
                "no finite volatility for price {price:e} (forward {forward:e}, strike {strike:e})"
            ),
        },
    })
}

/// How many ulp of max(F, K)·df under the lower bound a price may fall and still be read as
/// at the bound: the rounding of the bound (a product and a difference) and of a price computed
/// from the same inputs.
const LOWER_BOUND_ULPS: f64 = 8.0;

/// The undiscounted upper price bound: F for a call, K for a put.
#[inline]
fn upper_bound(forward: f64, strike: f64, right: OptionRight) -> f64 {
    match right {
        OptionRight::Call => forward,
        OptionRight::Put => strike,
    }
}

/// [`solve`] with the outcome as an [`ErrorCode`]: no allocation and no error payload, for the
/// slice APIs' inner loop.
#[inline]
fn solve_code(
    price: f64,
    df: f64,
    forward: f64,
    strike: f64,
    years: f64,
    right: OptionRight,
) -> std::result::Result<f64, ErrorCode> {
    let intrinsic = right.intrinsic(forward, strike);
    if price < df * intrinsic {
        // A price within rounding of the bound (a model's own price of a deep in-the-money,
        // short-dated option can land a few ulp under it) has the boundary answer. The bound's
        // rounding scales with max(F, K), not with the intrinsic value it is the difference of.
        let slack = LOWER_BOUND_ULPS * f64::EPSILON * df * forward.max(strike);
        if df * intrinsic - price > slack {
            return Err(ErrorCode::PriceBelowLowerBound);
        }
        return Ok(0.0);
    }
    if price >= df * upper_bound(forward, strike, right) {
        return Err(ErrorCode::PriceAboveUpperBound);
    }
    let time_value = price / df - intrinsic;
    if time_value <= 0.0 {
        return Ok(0.0);
    }
    let ratio = forward / strike;
    let x = -log_moneyness(forward, strike, ratio).abs();
    // e^{x/2} = √(min(F, K)/max(F, K)) for x = −|ln(F/K)|, and √(FK) = K·√(F/K): one square
    // root and one division for e^{±x/2} and the normalisation.
    let sqrt_ratio = ratio.sqrt();
    let inv_sqrt_ratio = 1.0 / sqrt_ratio;
    let (e, inv_e) = if forward < strike {
        (sqrt_ratio, inv_sqrt_ratio)
    } else {
        (inv_sqrt_ratio, sqrt_ratio)
    };
    let beta = time_value / (strike * sqrt_ratio);
    if beta >= e {
        // Within rounding of the upper bound: no finite volatility.
        return Err(ErrorCode::PriceAboveUpperBound);
    }
    let s = lbr::implied_normalised_otm(beta, x, (e, inv_e));
    let vol = s / years.sqrt();
    if vol.is_finite() && vol >= 0.0 {
        Ok(vol)
    } else {
        Err(ErrorCode::NoConvergence)
    }
}

/// Validates one BSM row and solves it: the scalar [`crate::bsm::implied_vol`] and the slice
/// APIs share this.
#[inline]
pub(crate) fn bsm_row(
    right: OptionRight,
    spot: f64,
    strike: f64,
    years: f64,
    rate: f64,
    dividend_yield: f64,
    price: f64,
) -> Result<f64> {
    positive("spot", spot)?;
    positive("strike", strike)?;
    positive("years", years)?;
    finite("rate", rate)?;
    finite("dividend_yield", dividend_yield)?;
    non_negative("price", price)?;
    let df = (-rate * years).exp();
    let forward = spot * ((rate - dividend_yield) * years).exp();
    solve(price, df, forward, strike, years, right)
}

/// [`bsm_row`] with an [`ErrorCode`] outcome: the same checks in the same order (the first
/// failing field is reported), without building a [`PricingError`].
#[inline]
pub(crate) fn bsm_row_code(
    right: OptionRight,
    spot: f64,
    strike: f64,
    years: f64,
    rate: f64,
    dividend_yield: f64,
    price: f64,
) -> std::result::Result<f64, ErrorCode> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let code = if !positive(spot) {
        ErrorCode::InvalidSpot
    } else if !positive(strike) {
        ErrorCode::InvalidStrike
    } else if !positive(years) {
        ErrorCode::InvalidYears
    } else if !rate.is_finite() {
        ErrorCode::InvalidRate
    } else if !dividend_yield.is_finite() {
        ErrorCode::InvalidDividendYield
    } else if !(price.is_finite() && price >= 0.0) {
        ErrorCode::InvalidPrice
    } else {
        ErrorCode::Ok
    };
    if code != ErrorCode::Ok {
        return Err(code);
    }
    let df = (-rate * years).exp();
    let forward = spot * ((rate - dividend_yield) * years).exp();
    solve_code(price, df, forward, strike, years, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_black_symmetries() {
        let (x, s) = (0.3, 0.7);
        let call = normalised_black(x, s, OptionRight::Call);
        let put = normalised_black(x, s, OptionRight::Put);
        // Put-call parity in normalised units: b_call − b_put = e^{x/2} − e^{−x/2}.
        assert!((call - put - 2.0 * (0.5 * x).sinh()).abs() < 1e-15);
        assert_eq!(put, normalised_black(-x, s, OptionRight::Call));
        assert_eq!(normalised_black(x, 0.0, OptionRight::Put), 0.0);
        assert_eq!(
            normalised_black(-x, f64::INFINITY, OptionRight::Call),
            (-0.5 * x).exp()
        );
        assert!(normalised_black(f64::NAN, s, OptionRight::Call).is_nan());
    }

    #[test]
    fn mismatched_slices_are_an_error() {
        let mut vols = [0.0; 2];
        let mut codes = [ErrorCode::Ok; 2];
        let quotes = crate::batch::QuoteInputs {
            rights: &[OptionRight::Call; 2],
            spots: &[100.0; 2],
            strikes: &[100.0; 2],
            years: &[1.0; 2],
            rates: &[0.0; 2],
            dividend_yields: &[0.0; 1],
            prices: &[10.0; 2],
        };
        let err = crate::batch::bsm_implied_vols_into(&quotes, &mut vols, &mut codes).unwrap_err();
        assert!(matches!(
            err,
            PricingError::SliceLength {
                name: "dividend_yields",
                expected: 2,
                found: 1,
                ..
            }
        ));
    }
}
