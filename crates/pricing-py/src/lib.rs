//! # volta-pricing-py
//!
//! The Python package `volta_pricing`: [`volta_pricing`]'s models over numpy arrays, for
//! researchers. This crate is the compiled part (`volta_pricing._volta_pricing`, built by
//! maturin); the package's `__init__.py` broadcasts the arguments, converts rights and chooses
//! what a bad row gives (NaN, codes or an exception), and calls the functions here with
//! contiguous one-dimensional `float64` columns of equal length.
//!
//! It is not a second implementation: every number comes from `volta-pricing` — the SIMD batch
//! kernels for European prices, greeks and implied volatility, the scalar API row by row for
//! the rest. The GIL is released for the whole computation, and `parallel = True` spreads the
//! rows over all cores (rayon's global pool); results are the same either way.
//!
//! Each function returns its output columns and a `uint8` column of
//! [`volta_pricing::ErrorCode`]s (0 = ok).
#![deny(missing_docs)]
#![expect(
    clippy::needless_pass_by_value,
    reason = "PyO3 hands #[pyfunction] arguments over by value (the arrays' readonly borrow guards)"
)]

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::prelude::*;
use volta_pricing::american::AmericanModel;
use volta_pricing::batch::{self, BatchInputs, FuturesBatchInputs, GreeksOut, QuoteInputs};
use volta_pricing::{ErrorCode, Greeks, OptionRight, PricingError, SecondOrderGreeks};

/// Why a call of the bindings was refused as a whole (a bad row is a code, not an error).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    /// A right that is neither +1 (call) nor −1 (put) after the Python layer's conversion.
    #[error("row {row}: right {value} is neither 1 (call) nor -1 (put)")]
    Right {
        /// The row.
        row: usize,
        /// The value found.
        value: i8,
    },
    /// An American model name the bindings do not know.
    #[error("unknown American model {0:?} (baw, bjs2002, lattice)")]
    Model(String),
    /// An error of the pricing crate that concerns the whole call (slice lengths).
    #[error(transparent)]
    Pricing(#[from] PricingError),
}

impl From<BindingError> for PyErr {
    fn from(e: BindingError) -> Self {
        PyValueError::new_err(e.to_string())
    }
}

/// A `float64` column as a slice (the Python layer passes contiguous arrays).
fn column<'a>(a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    Ok(a.as_slice()?)
}

/// Rights from ±1.
fn rights(a: &PyReadonlyArray1<'_, i8>) -> PyResult<Vec<OptionRight>> {
    let signs = a.as_slice()?;
    // A count of the invalid signs (vectorised), the offending row looked up only on failure, then a
    // plain map: a `collect` into `Result` per row was 8 % of a 10⁶-row greeks call.
    let invalid = signs.iter().filter(|&&v| v.unsigned_abs() != 1).count();
    if invalid > 0
        && let Some((row, &value)) = signs.iter().enumerate().find(|&(_, &v)| v != 1 && v != -1)
    {
        return Err(BindingError::Right { row, value }.into());
    }
    Ok(signs
        .iter()
        .map(|&v| {
            if v > 0 {
                OptionRight::Call
            } else {
                OptionRight::Put
            }
        })
        .collect())
}

/// An American model from its name and step count.
fn model(name: &str, steps: usize) -> Result<AmericanModel, BindingError> {
    match name.to_ascii_lowercase().as_str() {
        "baw" | "barone-adesi-whaley" => Ok(AmericanModel::BaroneAdesiWhaley),
        "bjs2002" | "bjerksund-stensland" => Ok(AmericanModel::BjerksundStensland2002),
        "lattice" | "leisen-reimer" => Ok(AmericanModel::Lattice { steps }),
        _ => Err(BindingError::Model(name.to_owned())),
    }
}

/// Output columns and codes as numpy arrays (moved, not copied).
type Columns<'py> = (Vec<Bound<'py, PyArray1<f64>>>, Bound<'py, PyArray1<u8>>);

fn to_numpy(py: Python<'_>, columns: Vec<Vec<f64>>, codes: Vec<u8>) -> Columns<'_> {
    (
        columns.into_iter().map(|c| c.into_pyarray(py)).collect(),
        codes.into_pyarray(py),
    )
}

fn codes_of(codes: Vec<ErrorCode>) -> Vec<u8> {
    codes.into_iter().map(|c| c as u8).collect()
}

/// Rows `0..n` through `f`, in order, on all cores when `parallel`: K output columns and the
/// codes (NaN outputs for a row whose `f` fails).
fn by_row<const K: usize>(
    n: usize,
    parallel: bool,
    f: impl Fn(usize) -> Result<[f64; K], PricingError> + Sync,
) -> (Vec<Vec<f64>>, Vec<u8>) {
    let one = |i: usize| match f(i) {
        Ok(values) => (values, ErrorCode::Ok as u8),
        Err(e) => ([f64::NAN; K], ErrorCode::from(&e) as u8),
    };
    let rows: Vec<([f64; K], u8)> = if parallel {
        (0..n).into_par_iter().with_min_len(256).map(one).collect()
    } else {
        (0..n).map(one).collect()
    };
    let mut columns = vec![Vec::with_capacity(n); K];
    let mut codes = Vec::with_capacity(n);
    for (values, code) in rows {
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
        codes.push(code);
    }
    (columns, codes)
}

fn greeks_array(g: &Greeks) -> [f64; 7] {
    [
        g.price,
        g.delta,
        g.gamma,
        g.vega,
        g.theta,
        g.rho,
        g.dividend_rho,
    ]
}

fn second_order_array(g: &SecondOrderGreeks) -> [f64; 6] {
    [g.vanna, g.volga, g.charm, g.speed, g.zomma, g.colour]
}

/// The columns of a spot-asset call: the terms and one last column (vol or price).
struct SpotColumns<'a> {
    rights: Vec<OptionRight>,
    spots: &'a [f64],
    strikes: &'a [f64],
    years: &'a [f64],
    rates: &'a [f64],
    dividend_yields: &'a [f64],
    last: &'a [f64],
}

impl<'a> SpotColumns<'a> {
    fn new(
        right: &PyReadonlyArray1<'_, i8>,
        spot: &'a PyReadonlyArray1<'_, f64>,
        strike: &'a PyReadonlyArray1<'_, f64>,
        years: &'a PyReadonlyArray1<'_, f64>,
        rate: &'a PyReadonlyArray1<'_, f64>,
        dividend_yield: &'a PyReadonlyArray1<'_, f64>,
        last: &'a PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Self> {
        Ok(Self {
            rights: rights(right)?,
            spots: column(spot)?,
            strikes: column(strike)?,
            years: column(years)?,
            rates: column(rate)?,
            dividend_yields: column(dividend_yield)?,
            last: column(last)?,
        })
    }

    /// With the last column as volatilities.
    fn batch(&self) -> BatchInputs<'_> {
        BatchInputs {
            rights: &self.rights,
            spots: self.spots,
            strikes: self.strikes,
            years: self.years,
            rates: self.rates,
            dividend_yields: self.dividend_yields,
            vols: self.last,
        }
    }

    /// With the spots as forwards (the dividend yields unused).
    fn futures(&self) -> FuturesBatchInputs<'_> {
        FuturesBatchInputs {
            rights: &self.rights,
            forwards: self.spots,
            strikes: self.strikes,
            years: self.years,
            rates: self.rates,
            vols: self.last,
        }
    }

    /// With the last column as prices.
    fn quotes(&self) -> QuoteInputs<'_> {
        QuoteInputs {
            rights: &self.rights,
            spots: self.spots,
            strikes: self.strikes,
            years: self.years,
            rates: self.rates,
            dividend_yields: self.dividend_yields,
            prices: self.last,
        }
    }
}

/// European prices (`greeks = False`: `[price]`) or price and first-order greeks `[price,
/// delta, gamma, vega, theta, rho, dividend_rho]` by the SIMD batch kernel: Black-Scholes-Merton,
/// or with `forward = True` Black-76 (`spot` is the forward; `dividend_yield` is ignored).
#[pyfunction]
#[pyo3(signature = (right, spot, strike, years, rate, dividend_yield, vol, forward, greeks, parallel))]
#[expect(
    clippy::too_many_arguments,
    reason = "one column per model input, as in Python"
)]
fn european<'py>(
    py: Python<'py>,
    right: PyReadonlyArray1<'py, i8>,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    years: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend_yield: PyReadonlyArray1<'py, f64>,
    vol: PyReadonlyArray1<'py, f64>,
    forward: bool,
    greeks: bool,
    parallel: bool,
) -> PyResult<Columns<'py>> {
    let c = SpotColumns::new(&right, &spot, &strike, &years, &rate, &dividend_yield, &vol)?;
    let n = c.batch().checked_len().map_err(BindingError::from)?;
    // The output columns are numpy's own arrays, written in place: numpy asks the kernel for
    // huge pages on large arrays (madvise), so 10⁶ rows × 7 columns fault in a few dozen
    // pages rather than ~14 000 (a third of the call's time with Rust-allocated vectors).
    let arrays: Vec<Bound<'py, PyArray1<f64>>> = (0..if greeks { 7 } else { 1 })
        .map(|_| PyArray1::<f64>::zeros(py, n, false))
        .collect();
    let mut guards = arrays
        .iter()
        .map(numpy::PyArrayMethods::readwrite)
        .collect::<Vec<_>>();
    let mut slices = guards
        .iter_mut()
        .map(|g| g.as_slice_mut())
        .collect::<Result<Vec<&mut [f64]>, _>>()?;
    let codes = py.detach(|| -> Result<_, BindingError> {
        let (spot_inputs, futures_inputs) = (c.batch(), c.futures());
        let mut codes = vec![ErrorCode::Ok; n];
        if let [price, delta, gamma, vega, theta, rho, dividend_rho] = slices.as_mut_slice() {
            let view = &mut GreeksOut {
                price,
                delta,
                gamma,
                vega,
                theta,
                rho,
                dividend_rho,
                codes: &mut codes,
            };
            match (forward, parallel) {
                (false, false) => batch::bsm_greeks_into(&spot_inputs, view)?,
                (false, true) => batch::par_bsm_greeks_into(&spot_inputs, view)?,
                (true, false) => batch::black76_greeks_into(&futures_inputs, view)?,
                (true, true) => batch::par_black76_greeks_into(&futures_inputs, view)?,
            }
        } else if let [p] = slices.as_mut_slice() {
            let k = &mut codes;
            match (forward, parallel) {
                (false, false) => batch::bsm_prices_into(&spot_inputs, p, k)?,
                (false, true) => batch::par_bsm_prices_into(&spot_inputs, p, k)?,
                (true, false) => batch::black76_prices_into(&futures_inputs, p, k)?,
                (true, true) => batch::par_black76_prices_into(&futures_inputs, p, k)?,
            }
        }
        Ok(codes_of(codes))
    })?;
    drop(guards);
    Ok((arrays, codes.into_pyarray(py)))
}

/// Second-order greeks `[vanna, volga, charm, speed, zomma, colour]`, Black-Scholes-Merton or
/// (`forward = True`) Black-76.
#[pyfunction]
#[pyo3(signature = (right, spot, strike, years, rate, dividend_yield, vol, forward, parallel))]
#[expect(
    clippy::too_many_arguments,
    reason = "one column per model input, as in Python"
)]
fn second_order<'py>(
    py: Python<'py>,
    right: PyReadonlyArray1<'py, i8>,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    years: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend_yield: PyReadonlyArray1<'py, f64>,
    vol: PyReadonlyArray1<'py, f64>,
    forward: bool,
    parallel: bool,
) -> PyResult<Columns<'py>> {
    let c = SpotColumns::new(&right, &spot, &strike, &years, &rate, &dividend_yield, &vol)?;
    let (columns, codes) = py.detach(|| -> Result<_, BindingError> {
        let (spot_inputs, futures_inputs) = (c.batch(), c.futures());
        let n = spot_inputs.checked_len()?;
        Ok(by_row(n, parallel, |i| {
            let g = if forward {
                volta_pricing::black76::second_order_greeks(&futures_inputs.option(i), c.last[i])?
            } else {
                volta_pricing::bsm::second_order_greeks(&spot_inputs.option(i), c.last[i])?
            };
            Ok(second_order_array(&g))
        }))
    })?;
    Ok(to_numpy(py, columns, codes))
}

/// Implied volatilities `[vol]` of prices: Black-Scholes-Merton (the batch solver) or, with
/// `forward = True`, Black-76.
#[pyfunction]
#[pyo3(signature = (right, spot, strike, years, rate, dividend_yield, price, forward, parallel))]
#[expect(
    clippy::too_many_arguments,
    reason = "one column per model input, as in Python"
)]
fn implied_vol<'py>(
    py: Python<'py>,
    right: PyReadonlyArray1<'py, i8>,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    years: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend_yield: PyReadonlyArray1<'py, f64>,
    price: PyReadonlyArray1<'py, f64>,
    forward: bool,
    parallel: bool,
) -> PyResult<Columns<'py>> {
    let c = SpotColumns::new(
        &right,
        &spot,
        &strike,
        &years,
        &rate,
        &dividend_yield,
        &price,
    )?;
    let (columns, codes) = py.detach(|| -> Result<_, BindingError> {
        let quotes = c.quotes();
        let n = quotes.checked_len()?;
        if forward {
            let futures_inputs = c.futures();
            return Ok(by_row(n, parallel, |i| {
                Ok([volta_pricing::black76::implied_vol(
                    &futures_inputs.option(i),
                    c.last[i],
                )?])
            }));
        }
        let (mut vols, mut codes) = (vec![0.0; n], vec![ErrorCode::Ok; n]);
        if parallel {
            batch::par_bsm_implied_vols_into(&quotes, &mut vols, &mut codes)?;
        } else {
            batch::bsm_implied_vols_into(&quotes, &mut vols, &mut codes)?;
        }
        Ok((vec![vols], codes_of(codes)))
    })?;
    Ok(to_numpy(py, columns, codes))
}

/// American prices (`greeks = False`: `[price]`) or price and first-order greeks under
/// `model` (`baw`, `bjs2002`, `lattice` with `steps`); with `implied = True` the last column
/// holds prices and the result is their implied volatility `[vol]`.
#[pyfunction]
#[pyo3(signature = (right, spot, strike, years, rate, dividend_yield, last, model, steps, greeks, implied, parallel))]
#[expect(
    clippy::too_many_arguments,
    reason = "one column per model input, as in Python"
)]
fn american<'py>(
    py: Python<'py>,
    right: PyReadonlyArray1<'py, i8>,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    years: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend_yield: PyReadonlyArray1<'py, f64>,
    last: PyReadonlyArray1<'py, f64>,
    model: &str,
    steps: usize,
    greeks: bool,
    implied: bool,
    parallel: bool,
) -> PyResult<Columns<'py>> {
    let model = self::model(model, steps)?;
    let c = SpotColumns::new(
        &right,
        &spot,
        &strike,
        &years,
        &rate,
        &dividend_yield,
        &last,
    )?;
    let (columns, codes) = py.detach(|| -> Result<_, BindingError> {
        let inputs = c.batch();
        let n = inputs.checked_len()?;
        let (option, x) = (|i| inputs.option(i), |i: usize| c.last[i]);
        Ok(if implied {
            by_row(n, parallel, |i| {
                Ok([volta_pricing::american::implied_vol_with(
                    model,
                    &option(i),
                    x(i),
                )?])
            })
        } else if greeks {
            by_row(n, parallel, |i| {
                Ok(greeks_array(&volta_pricing::american::greeks(
                    model,
                    &option(i),
                    x(i),
                )?))
            })
        } else {
            by_row(n, parallel, |i| {
                Ok([volta_pricing::american::price(model, &option(i), x(i))?])
            })
        })
    })?;
    Ok(to_numpy(py, columns, codes))
}

/// `[(code, name, description)]` for every [`ErrorCode`], in code order.
#[pyfunction]
fn error_codes() -> Vec<(u8, String, &'static str)> {
    [
        ErrorCode::Ok,
        ErrorCode::InvalidSpot,
        ErrorCode::InvalidStrike,
        ErrorCode::InvalidYears,
        ErrorCode::InvalidRate,
        ErrorCode::InvalidDividendYield,
        ErrorCode::InvalidVol,
        ErrorCode::InvalidPrice,
        ErrorCode::PriceBelowLowerBound,
        ErrorCode::PriceAboveUpperBound,
        ErrorCode::NoConvergence,
        ErrorCode::InvalidInput,
        ErrorCode::Overflow,
    ]
    .into_iter()
    .map(|c| (c as u8, format!("{c:?}"), c.description()))
    .collect()
}

/// The compiled module `volta_pricing._volta_pricing`.
#[pymodule]
fn _volta_pricing(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(european, m)?)?;
    m.add_function(wrap_pyfunction!(second_order, m)?)?;
    m.add_function(wrap_pyfunction!(implied_vol, m)?)?;
    m.add_function(wrap_pyfunction!(american, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
