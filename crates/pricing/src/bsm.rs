//! Black-Scholes-Merton for European options on an asset with a continuous dividend yield
//! (Merton 1973; Haug 2007, §1.1.6 with cost of carry b = r − q).

use crate::error::{Result, finite_output};
use crate::gbs::{self, Carry, GbsInputs};
use crate::greeks::{Greeks, SecondOrderGreeks};
use crate::types::{Vanilla, check_vol};

#[inline]
fn inputs(option: &Vanilla, vol: f64) -> Result<GbsInputs> {
    option.validate()?;
    check_vol(vol)?;
    Ok(GbsInputs {
        right: option.right,
        s: option.spot,
        k: option.strike,
        t: option.years,
        r: option.rate,
        b: option.carry(),
        v: vol,
        carry: Carry::FollowsRate,
    })
}

/// The option's value at volatility `vol` (per year, 0.2 = 20 %).
///
/// # Errors
/// [`PricingError::InvalidInput`](crate::PricingError) when an input is NaN, infinite or out of
/// its domain; [`PricingError::Overflow`](crate::PricingError) when the value does not fit in
/// an `f64` (|r|·T or |q|·T in the hundreds).
#[inline]
pub fn price(option: &Vanilla, vol: f64) -> Result<f64> {
    finite_output("price", gbs::price(&inputs(option, vol)?))
}

/// Price and every first-order greek, analytic, in one pass.
///
/// # Errors
/// As [`price`].
#[inline]
pub fn greeks(option: &Vanilla, vol: f64) -> Result<Greeks> {
    gbs::greeks(&inputs(option, vol)?).checked()
}

/// Vanna, volga, charm, speed, zomma and colour, analytic.
///
/// # Errors
/// As [`price`].
pub fn second_order_greeks(option: &Vanilla, vol: f64) -> Result<SecondOrderGreeks> {
    gbs::second_order(&inputs(option, vol)?).checked()
}

/// The Black-Scholes-Merton volatility (per √year) that reproduces `price`, to near machine
/// precision (Jäckel 2015, "Let's Be Rational"; see [`crate::implied`]).
///
/// # Errors
/// - [`PricingError::InvalidInput`](crate::PricingError) naming `spot`, `strike`, `years`,
///   `rate`, `dividend_yield` or `price` when it is NaN, infinite or out of its domain (`years`
///   must be > 0, the price ≥ 0).
/// - [`PricingError::PriceBelowLowerBound`](crate::PricingError) below the discounted intrinsic
///   value of the forward, e^{−rT}·max(θ(F − K), 0) with F = S·e^{(r−q)T}; exactly at it the
///   volatility is 0.
/// - [`PricingError::PriceAboveUpperBound`](crate::PricingError) at or above S·e^{−qT} (call)
///   or K·e^{−rT} (put).
#[inline]
pub fn implied_vol(option: &Vanilla, price: f64) -> Result<f64> {
    crate::implied::bsm_row(
        option.right,
        option.spot,
        option.strike,
        option.years,
        option.rate,
        option.dividend_yield,
        price,
    )
}
