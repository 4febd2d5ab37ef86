//! Black-76 for European options on forwards and futures (Black 1976; Haug 2007, §1.1.5):
//! the generalised Black-Scholes formula with cost of carry b = 0 and the forward as the
//! underlying.

use crate::error::{Result, finite_output};
use crate::gbs::{self, Carry, GbsInputs};
use crate::greeks::{Greeks, SecondOrderGreeks};
use crate::types::{FuturesOption, check_vol};

#[inline]
fn inputs(option: &FuturesOption, vol: f64) -> Result<GbsInputs> {
    option.validate()?;
    check_vol(vol)?;
    Ok(GbsInputs {
        right: option.right,
        s: option.forward,
        k: option.strike,
        t: option.years,
        r: option.rate,
        b: 0.0,
        v: vol,
        carry: Carry::Forward,
    })
}

/// The option's value at volatility `vol`.
///
/// # Errors
/// [`PricingError::InvalidInput`](crate::PricingError) when an input is NaN, infinite or out of
/// its domain; [`PricingError::Overflow`](crate::PricingError) when the value does not fit in
/// an `f64` (|r|·T or |q|·T in the hundreds).
#[inline]
pub fn price(option: &FuturesOption, vol: f64) -> Result<f64> {
    finite_output("price", gbs::price(&inputs(option, vol)?))
}

/// Price and every first-order greek. Delta and gamma are per 1.0 of the forward; rho holds the
/// forward fixed (−T·V); dividend rho is zero.
///
/// # Errors
/// As [`price`].
#[inline]
pub fn greeks(option: &FuturesOption, vol: f64) -> Result<Greeks> {
    gbs::greeks(&inputs(option, vol)?).checked()
}

/// Vanna, volga, charm, speed, zomma and colour, with respect to the forward.
///
/// # Errors
/// As [`price`].
pub fn second_order_greeks(option: &FuturesOption, vol: f64) -> Result<SecondOrderGreeks> {
    gbs::second_order(&inputs(option, vol)?).checked()
}

/// The Black-76 volatility (per √year) that reproduces `price`, to near machine precision
/// (Jäckel 2015, "Let's Be Rational"; see [`crate::implied`]).
///
/// # Errors
/// - [`PricingError::InvalidInput`](crate::PricingError) naming `forward`, `strike`, `years`,
///   `rate` or `price` when it is NaN, infinite or out of its domain (`years` > 0, price ≥ 0).
/// - [`PricingError::PriceBelowLowerBound`](crate::PricingError) below e^{−rT}·max(θ(F − K), 0);
///   exactly at it the volatility is 0.
/// - [`PricingError::PriceAboveUpperBound`](crate::PricingError) at or above e^{−rT}·F (call) or
///   e^{−rT}·K (put).
#[inline]
pub fn implied_vol(option: &FuturesOption, price: f64) -> Result<f64> {
    crate::error::positive("forward", option.forward)?;
    crate::error::positive("strike", option.strike)?;
    crate::error::positive("years", option.years)?;
    crate::error::finite("rate", option.rate)?;
    crate::error::non_negative("price", price)?;
    let df = (-option.rate * option.years).exp();
    crate::implied::solve(
        price,
        df,
        option.forward,
        option.strike,
        option.years,
        option.right,
    )
}
