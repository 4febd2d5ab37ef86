//! Scalar reference implementations of the batch API: one call of [`bsm::greeks`] or
//! [`black76::greeks`] (the tested scalar kernel) per row, with the same signatures and the
//! same NaN-and-code contract as the SIMD functions in [`super`]. They exist to test the SIMD
//! kernels against and to measure them by; use the SIMD functions otherwise.

use crate::error::{ErrorCode, Result};
use crate::greeks::Greeks;
use crate::types::{FuturesOption, Vanilla};
use crate::{black76, bsm};

use super::{BatchInputs, FuturesBatchInputs, GreeksOut, check_len};

pub(super) const NAN_GREEKS: Greeks = Greeks {
    price: f64::NAN,
    delta: f64::NAN,
    gamma: f64::NAN,
    vega: f64::NAN,
    theta: f64::NAN,
    rho: f64::NAN,
    dividend_rho: f64::NAN,
};

/// Writes one row's result or, on error, NaN and the error's code.
fn write_row(out: &mut GreeksOut<'_>, i: usize, result: Result<Greeks>) {
    let (g, code) = match result {
        Ok(g) => (g, ErrorCode::Ok),
        Err(e) => (NAN_GREEKS, ErrorCode::from(&e)),
    };
    out.price[i] = g.price;
    out.delta[i] = g.delta;
    out.gamma[i] = g.gamma;
    out.vega[i] = g.vega;
    out.theta[i] = g.theta;
    out.rho[i] = g.rho;
    out.dividend_rho[i] = g.dividend_rho;
    out.codes[i] = code;
}

fn vanilla(inputs: &BatchInputs<'_>, i: usize) -> Vanilla {
    inputs.option(i)
}

fn futures(inputs: &FuturesBatchInputs<'_>, i: usize) -> FuturesOption {
    inputs.option(i)
}

/// A price result as the batch writes it.
fn price_row(result: Result<f64>) -> (f64, ErrorCode) {
    match result {
        Ok(p) => (p, ErrorCode::Ok),
        Err(e) => (f64::NAN, ErrorCode::from(&e)),
    }
}

/// Scalar reference for [`super::bsm_greeks_into`].
///
/// # Errors
/// As [`super::bsm_greeks_into`]: only on slices of different lengths.
pub fn bsm_greeks_into(inputs: &BatchInputs<'_>, out: &mut GreeksOut<'_>) -> Result<()> {
    check_len(inputs.len_checked()?, &out.lens())?;
    for i in 0..inputs.rights.len() {
        write_row(out, i, bsm::greeks(&vanilla(inputs, i), inputs.vols[i]));
    }
    Ok(())
}

/// Scalar reference for [`super::bsm_prices_into`] (one [`bsm::price`] per row).
///
/// # Errors
/// As [`super::bsm_prices_into`].
pub fn bsm_prices_into(
    inputs: &BatchInputs<'_>,
    prices: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    check_len(
        inputs.len_checked()?,
        &[("prices", prices.len()), ("codes", codes.len())],
    )?;
    for i in 0..inputs.rights.len() {
        (prices[i], codes[i]) = price_row(bsm::price(&vanilla(inputs, i), inputs.vols[i]));
    }
    Ok(())
}

/// Scalar reference for [`super::black76_greeks_into`].
///
/// # Errors
/// As [`super::black76_greeks_into`].
pub fn black76_greeks_into(inputs: &FuturesBatchInputs<'_>, out: &mut GreeksOut<'_>) -> Result<()> {
    check_len(inputs.len_checked()?, &out.lens())?;
    for i in 0..inputs.rights.len() {
        write_row(out, i, black76::greeks(&futures(inputs, i), inputs.vols[i]));
    }
    Ok(())
}

/// Scalar reference for [`super::black76_prices_into`].
///
/// # Errors
/// As [`super::black76_prices_into`].
pub fn black76_prices_into(
    inputs: &FuturesBatchInputs<'_>,
    prices: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    check_len(
        inputs.len_checked()?,
        &[("prices", prices.len()), ("codes", codes.len())],
    )?;
    for i in 0..inputs.rights.len() {
        (prices[i], codes[i]) = price_row(black76::price(&futures(inputs, i), inputs.vols[i]));
    }
    Ok(())
}
