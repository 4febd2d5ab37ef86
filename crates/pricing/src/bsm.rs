//! Black-Scholes-Merton for European options on an asset with a continuous dividend yield
//! (Merton 1973; Haug 2007, §1.1.6 with cost of carry b = r − q).

use crate::error::Result;
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
/// its domain.
#[inline]
pub fn price(option: &Vanilla, vol: f64) -> Result<f64> {
    Ok(gbs::price(&inputs(option, vol)?))
}

/// Price and every first-order greek, analytic, in one pass.
///
/// # Errors
/// As [`price`].
#[inline]
pub fn greeks(option: &Vanilla, vol: f64) -> Result<Greeks> {
    Ok(gbs::greeks(&inputs(option, vol)?))
}

/// Vanna, volga, charm, speed, zomma and colour, analytic.
///
/// # Errors
/// As [`price`].
pub fn second_order_greeks(option: &Vanilla, vol: f64) -> Result<SecondOrderGreeks> {
    Ok(gbs::second_order(&inputs(option, vol)?))
}
