//! Batch pricing over slices: structure of arrays in, preallocated outputs, SIMD kernels.
//!
//! The functions here price many European options in one call, under Black-Scholes-Merton
//! with a continuous dividend yield ([`bsm_prices_into`], [`bsm_greeks_into`]) or under
//! Black-76 ([`black76_prices_into`], [`black76_greeks_into`]). Inputs are parallel slices,
//! one per parameter ([`BatchInputs`], [`FuturesBatchInputs`]); outputs are slices the caller
//! allocates once and reuses ([`GreeksOut`]). Nothing is allocated per call or per option.
//!
//! # Errors per row, not per call
//! A bad row (NaN, a negative spot, strike, time or volatility, an infinite rate …) does not
//! stop the batch: its outputs are NaN and its [`ErrorCode`] says which input was wrong, the
//! first in the order spot, strike, years, rate, dividend yield, vol — the same check and code
//! as the scalar [`bsm::greeks`](crate::bsm::greeks) would report. Good rows get
//! [`ErrorCode::Ok`]. The call itself fails only when the slices have different lengths.
//!
//! # How it is vectorised
//! The options are processed in chunks of eight (one 512-bit vector). Each chunk runs one
//! branch-free kernel (the generalised Black-Scholes formula of Haug 2007, §1.1.6) over eight
//! lanes: exponentials and logarithms are evaluated in-line (Cody-Waite reduction and
//! polynomials, ≤ 1 ulp), Φ evaluates all three of Cody's rational forms for erfc and picks
//! one per lane by mask, and the zero-diffusion case (years = 0 or vol = 0) is blended in the
//! same way. With no branches and no library calls in the loop body, LLVM vectorises it.
//! Divisions, the slowest vector operations, are shared: five per option for the greeks (S/K,
//! one inside ln, 1/σ√T, one for both Φ values, and gamma's 1/S), four for the price. The
//! instruction set is chosen at runtime by [`pulp::Arch`]: AVX-512 (x86-64-v4) or AVX2
//! (x86-64-v3), both with FMA, where the CPU has them, else SSE2 on x86-64; NEON on aarch64;
//! so no `RUSTFLAGS` or `target-cpu` is needed. Full chunks are read and written with
//! fixed-size copies; the last, shorter chunk is padded with a harmless option whose outputs
//! are discarded. Error codes are looked up row by row only in a chunk that has an invalid
//! row. There is no `unsafe` code.
//!
//! # Accuracy
//! The kernel evaluates the scalar kernel's formulas with in-line `exp` and `ln` (≤ 1 ulp from
//! the standard library), Cody's rational functions with one shared division, reciprocals in
//! place of some divisions, and fused multiply-adds in the polynomials where the CPU has them.
//! Outputs therefore match the scalar reference ([`reference`](mod@reference)) to a few ulp
//! in general; where the formula amplifies rounding (deep out of the money prices, whose
//! relative error grows like d²·ulp, and greeks that are differences of two legs) the
//! agreement is ~1e-13 relative to the option's scale (see `tests/batch.rs`). The bits depend
//! on whether the instruction set has FMA (AVX2/AVX-512 and NEON do, SSE2 does not) but not on
//! anything else: a given machine always gives the same results, and the `par_*` functions
//! give the single-core ones. σ√T below the smallest normal double (2.2e-308) is treated as
//! zero diffusion.
//!
//! # Multi-core
//! With the `rayon` feature, the `par_*` functions split the batch into blocks and run the
//! single-core kernel on each in rayon's global pool; they give bit-for-bit the results of
//! the single-core functions.
//!
//! ```
//! use volta_pricing::{ErrorCode, OptionRight};
//! use volta_pricing::batch::{self, BatchInputs, GreeksOut};
//!
//! # fn main() -> Result<(), volta_pricing::PricingError> {
//! // Row 0: Haug (2007) §1.1.6's example, a put with S = 100, K = 95, six months, r = 10 %,
//! // q = 5 %, σ = 20 %, worth 2.4648. Row 1 has a NaN strike.
//! let inputs = BatchInputs {
//!     rights: &[OptionRight::Put, OptionRight::Put],
//!     spots: &[100.0, 100.0],
//!     strikes: &[95.0, f64::NAN],
//!     years: &[0.5, 0.5],
//!     rates: &[0.10, 0.10],
//!     dividend_yields: &[0.05, 0.05],
//!     vols: &[0.2, 0.2],
//! };
//! let mut buf = vec![[0.0; 2]; 7];
//! let [price, delta, gamma, vega, theta, rho, dividend_rho] = buf.as_mut_slice() else {
//!     unreachable!()
//! };
//! let mut codes = [ErrorCode::Ok; 2];
//! let mut out = GreeksOut { price, delta, gamma, vega, theta, rho, dividend_rho, codes: &mut codes };
//! batch::bsm_greeks_into(&inputs, &mut out)?;
//! assert!((out.price[0] - 2.4648).abs() < 5e-5);
//! assert!(out.price[1].is_nan());
//! assert_eq!(codes, [ErrorCode::Ok, ErrorCode::InvalidStrike]);
//! # Ok(())
//! # }
//! ```

#![expect(
    clippy::inline_always,
    reason = "pulp enables the SIMD target features on `with_simd` only; the kernel must be inlined into it to be compiled with them"
)]

mod lanes;
pub mod reference;

use crate::error::{ErrorCode, PricingError, Result};
use crate::greeks::Greeks;
use crate::types::OptionRight;
use crate::types::{FuturesOption, Vanilla};
use lanes::{Lane, LaneGreeks};

/// Options per kernel invocation: a multiple of every vector width in use (2, 4 or 8 doubles).
const LANES: usize = 8;

/// A batch of European options on a spot asset with a continuous dividend yield, for
/// Black-Scholes-Merton: one slice per input, all of the same length, row `i` of every slice
/// describing option `i`. Units as in [`Vanilla`].
#[derive(Debug, Clone, Copy)]
pub struct BatchInputs<'a> {
    /// Call or put.
    pub rights: &'a [OptionRight],
    /// Spot prices, > 0.
    pub spots: &'a [f64],
    /// Strikes, > 0.
    pub strikes: &'a [f64],
    /// Times to expiry in years, ≥ 0.
    pub years: &'a [f64],
    /// Continuously compounded risk-free rates per year (0.05 = 5 %).
    pub rates: &'a [f64],
    /// Continuously compounded dividend yields per year.
    pub dividend_yields: &'a [f64],
    /// Volatilities per √year (0.2 = 20 %), ≥ 0.
    pub vols: &'a [f64],
}

/// A batch of European options on forwards or futures, for Black-76. Units as in
/// [`FuturesOption`].
#[derive(Debug, Clone, Copy)]
pub struct FuturesBatchInputs<'a> {
    /// Call or put.
    pub rights: &'a [OptionRight],
    /// Forward (or futures) prices for each option's expiry, > 0.
    pub forwards: &'a [f64],
    /// Strikes, > 0.
    pub strikes: &'a [f64],
    /// Times to expiry in years, ≥ 0.
    pub years: &'a [f64],
    /// Continuously compounded rates per year used to discount the payoff.
    pub rates: &'a [f64],
    /// Volatilities per √year, ≥ 0.
    pub vols: &'a [f64],
}

/// Where the batch greeks go: one slice per output, each as long as the inputs. Units as in
/// [`Greeks`]: per 1.0 of each input, theta per year. For Black-76, delta and
/// gamma are with respect to the forward, rho holds the forward fixed (−T·V) and dividend rho
/// is 0.
#[derive(Debug)]
pub struct GreeksOut<'a> {
    /// Option values.
    pub price: &'a mut [f64],
    /// ∂V/∂S (∂V/∂F for Black-76).
    pub delta: &'a mut [f64],
    /// ∂²V/∂S².
    pub gamma: &'a mut [f64],
    /// ∂V/∂σ, per 1.00 of volatility.
    pub vega: &'a mut [f64],
    /// ∂V/∂t, per year of calendar time passing (−∂V/∂T).
    pub theta: &'a mut [f64],
    /// ∂V/∂r.
    pub rho: &'a mut [f64],
    /// ∂V/∂q (0 for Black-76).
    pub dividend_rho: &'a mut [f64],
    /// [`ErrorCode::Ok`], or why the row's outputs are NaN.
    pub codes: &'a mut [ErrorCode],
}

/// Owned outputs of a batch greeks call: one `Vec` per column, allocated once and reused
/// across calls ([`GreeksColumns::view`] lends them as a [`GreeksOut`]), so that pricing a book
/// needs no eight separate vectors and no struct literal:
///
/// ```
/// use volta_pricing::{ErrorCode, OptionRight};
/// use volta_pricing::batch::{self, BatchInputs, GreeksColumns};
///
/// # fn main() -> Result<(), volta_pricing::PricingError> {
/// let n = 5_000;
/// let (rights, spots, strikes) = (vec![OptionRight::Call; n], vec![100.0; n], vec![105.0; n]);
/// let (years, rates, yields, vols) = (vec![0.25; n], vec![0.05; n], vec![0.01; n], vec![0.2; n]);
/// let inputs = BatchInputs {
///     rights: &rights,
///     spots: &spots,
///     strikes: &strikes,
///     years: &years,
///     rates: &rates,
///     dividend_yields: &yields,
///     vols: &vols,
/// };
/// let out = batch::bsm_greeks(&inputs)?; // or `bsm_greeks_into(&inputs, &mut columns.view())`
/// assert_eq!(out.len(), n);
/// assert!(out.codes.iter().all(|&c| c == ErrorCode::Ok));
/// // The same as the scalar API, to rounding.
/// let one = volta_pricing::Vanilla::try_new(OptionRight::Call, 100.0, 105.0, 0.25, 0.05, 0.01)?;
/// assert!((out.row(0).price - volta_pricing::bsm::price(&one, 0.2)?).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GreeksColumns {
    /// Option values.
    pub price: Vec<f64>,
    /// ∂V/∂S (∂V/∂F for Black-76).
    pub delta: Vec<f64>,
    /// ∂²V/∂S².
    pub gamma: Vec<f64>,
    /// ∂V/∂σ, per 1.00 of volatility.
    pub vega: Vec<f64>,
    /// −∂V/∂T, per year.
    pub theta: Vec<f64>,
    /// ∂V/∂r.
    pub rho: Vec<f64>,
    /// ∂V/∂q (0 for Black-76).
    pub dividend_rho: Vec<f64>,
    /// [`ErrorCode::Ok`], or why the row's outputs are NaN.
    pub codes: Vec<ErrorCode>,
}

impl GreeksColumns {
    /// Columns for `n` options (NaN, codes `Ok` until written).
    #[must_use]
    pub fn new(n: usize) -> Self {
        let mut columns = Self::default();
        columns.resize(n);
        columns
    }

    /// Resizes every column to `n` rows (keeping the allocations when shrinking).
    pub fn resize(&mut self, n: usize) {
        for column in [
            &mut self.price,
            &mut self.delta,
            &mut self.gamma,
            &mut self.vega,
            &mut self.theta,
            &mut self.rho,
            &mut self.dividend_rho,
        ] {
            column.resize(n, f64::NAN);
        }
        self.codes.resize(n, ErrorCode::Ok);
    }

    /// The number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The columns lent as the `*_into` functions' output.
    pub fn view(&mut self) -> GreeksOut<'_> {
        GreeksOut {
            price: &mut self.price,
            delta: &mut self.delta,
            gamma: &mut self.gamma,
            vega: &mut self.vega,
            theta: &mut self.theta,
            rho: &mut self.rho,
            dividend_rho: &mut self.dividend_rho,
            codes: &mut self.codes,
        }
    }

    /// Row `i` as [`Greeks`] (NaN fields for a row whose code is not `Ok`).
    ///
    /// # Panics
    /// If `i` is out of bounds.
    #[must_use]
    pub fn row(&self, i: usize) -> Greeks {
        Greeks {
            price: self.price[i],
            delta: self.delta[i],
            gamma: self.gamma[i],
            vega: self.vega[i],
            theta: self.theta[i],
            rho: self.rho[i],
            dividend_rho: self.dividend_rho[i],
        }
    }
}

/// [`bsm_greeks_into`] into newly allocated [`GreeksColumns`].
///
/// # Errors
/// As [`bsm_prices_into`].
pub fn bsm_greeks(inputs: &BatchInputs<'_>) -> Result<GreeksColumns> {
    let mut out = GreeksColumns::new(inputs.len_checked()?);
    bsm_greeks_into(inputs, &mut out.view())?;
    Ok(out)
}

/// [`black76_greeks_into`] into newly allocated [`GreeksColumns`].
///
/// # Errors
/// As [`bsm_prices_into`].
pub fn black76_greeks(inputs: &FuturesBatchInputs<'_>) -> Result<GreeksColumns> {
    let mut out = GreeksColumns::new(inputs.len_checked()?);
    black76_greeks_into(inputs, &mut out.view())?;
    Ok(out)
}

impl BatchInputs<'_> {
    /// Row `i` as the scalar API's terms (its volatility is `vols[i]`).
    ///
    /// # Panics
    /// If `i` is beyond a slice.
    #[must_use]
    pub fn option(&self, i: usize) -> Vanilla {
        vanilla_row(
            [
                self.spots,
                self.strikes,
                self.years,
                self.rates,
                self.dividend_yields,
            ],
            self.rights[i],
            i,
        )
    }

    /// The number of options, after checking that every slice has it.
    ///
    /// # Errors
    /// [`PricingError::SliceLength`] naming the first slice of another length.
    pub fn checked_len(&self) -> Result<usize> {
        self.len_checked()
    }

    fn len_checked(&self) -> Result<usize> {
        let n = self.rights.len();
        check_len(
            n,
            &[
                ("spots", self.spots.len()),
                ("strikes", self.strikes.len()),
                ("years", self.years.len()),
                ("rates", self.rates.len()),
                ("dividend_yields", self.dividend_yields.len()),
                ("vols", self.vols.len()),
            ],
        )?;
        Ok(n)
    }
}

impl FuturesBatchInputs<'_> {
    /// Row `i` as the scalar API's terms (its volatility is `vols[i]`).
    ///
    /// # Panics
    /// If `i` is beyond a slice.
    #[must_use]
    pub fn option(&self, i: usize) -> FuturesOption {
        FuturesOption {
            right: self.rights[i],
            forward: self.forwards[i],
            strike: self.strikes[i],
            years: self.years[i],
            rate: self.rates[i],
        }
    }

    /// The number of options, after checking that every slice has it.
    ///
    /// # Errors
    /// [`PricingError::SliceLength`] naming the first slice of another length.
    pub fn checked_len(&self) -> Result<usize> {
        self.len_checked()
    }

    fn len_checked(&self) -> Result<usize> {
        let n = self.rights.len();
        check_len(
            n,
            &[
                ("forwards", self.forwards.len()),
                ("strikes", self.strikes.len()),
                ("years", self.years.len()),
                ("rates", self.rates.len()),
                ("vols", self.vols.len()),
            ],
        )?;
        Ok(n)
    }
}

impl GreeksOut<'_> {
    /// The same slices, borrowed for a shorter time (to pass by value without giving them up).
    fn reborrow(&mut self) -> GreeksOut<'_> {
        GreeksOut {
            price: self.price,
            delta: self.delta,
            gamma: self.gamma,
            vega: self.vega,
            theta: self.theta,
            rho: self.rho,
            dividend_rho: self.dividend_rho,
            codes: self.codes,
        }
    }

    fn lens(&self) -> [(&'static str, usize); 8] {
        [
            ("price", self.price.len()),
            ("delta", self.delta.len()),
            ("gamma", self.gamma.len()),
            ("vega", self.vega.len()),
            ("theta", self.theta.len()),
            ("rho", self.rho.len()),
            ("dividend_rho", self.dividend_rho.len()),
            ("codes", self.codes.len()),
        ]
    }
}

/// Row `i` of the spot, strike, years, rate and dividend-yield columns.
fn vanilla_row(columns: [&[f64]; 5], right: OptionRight, i: usize) -> Vanilla {
    let [spot, strike, years, rate, dividend_yield] = columns.map(|c| c[i]);
    Vanilla {
        right,
        spot,
        strike,
        years,
        rate,
        dividend_yield,
    }
}

/// `Ok` when every length equals `n`.
fn check_len(n: usize, lens: &[(&'static str, usize)]) -> Result<()> {
    match lens.iter().find(|&&(_, len)| len != n) {
        None => Ok(()),
        Some(&(name, found)) => Err(PricingError::SliceLength {
            name,
            expected: n,
            found,
            reference: "rights",
        }),
    }
}

/// Rows of a batch: loads chunks of options into the kernel's format and gives a row's error code.
trait Rows: Sync {
    /// Black-76 (forward fixed) rather than Black-Scholes-Merton.
    const FORWARD: bool;
    fn len(&self) -> usize;
    /// Rows `start..start + n` (n ≤ [`LANES`]) in the kernel's format, the other lanes
    /// padded (see [`column`]).
    fn load(&self, start: usize, n: usize) -> ChunkIn;
    fn code(&self, i: usize) -> ErrorCode;
    /// Row `i` by the scalar API (the fallback for valid rows the kernel does not cover): the
    /// greeks, or with `greeks = false` the price alone (the other fields NaN).
    fn scalar(&self, i: usize, greeks: bool) -> Result<Greeks>;
    #[cfg(feature = "rayon")]
    fn split_at(&self, mid: usize) -> (Self, Self)
    where
        Self: Sized;
}

/// A price in a [`Greeks`] whose other fields are NaN (the price-only fallback).
fn price_only(price: f64) -> Greeks {
    Greeks {
        price,
        ..reference::NAN_GREEKS
    }
}

/// The first invalid input's code, in the scalar API's order.
#[inline(always)]
fn first_error(checks: &[(bool, ErrorCode)]) -> ErrorCode {
    checks
        .iter()
        .find(|(ok, _)| !ok)
        .map_or(ErrorCode::Ok, |&(_, code)| code)
}

fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

impl Rows for BatchInputs<'_> {
    const FORWARD: bool = false;
    fn len(&self) -> usize {
        self.rights.len()
    }
    #[inline(always)]
    fn load(&self, start: usize, n: usize) -> ChunkIn {
        let r = column(self.rates, start, n, 0.0);
        let q = column(self.dividend_yields, start, n, 0.0);
        ChunkIn {
            theta: signs(self.rights, start, n),
            s: column(self.spots, start, n, 1.0),
            k: column(self.strikes, start, n, 1.0),
            t: column(self.years, start, n, 0.0),
            r,
            b: std::array::from_fn(|j| r[j] - q[j]),
            v: column(self.vols, start, n, 0.0),
        }
    }
    #[inline(always)]
    fn code(&self, i: usize) -> ErrorCode {
        first_error(&[
            (non_negative(self.spots[i]), ErrorCode::InvalidSpot),
            (non_negative(self.strikes[i]), ErrorCode::InvalidStrike),
            (non_negative(self.years[i]), ErrorCode::InvalidYears),
            (self.rates[i].is_finite(), ErrorCode::InvalidRate),
            (
                self.dividend_yields[i].is_finite(),
                ErrorCode::InvalidDividendYield,
            ),
            (non_negative(self.vols[i]), ErrorCode::InvalidVol),
        ])
    }
    fn scalar(&self, i: usize, greeks: bool) -> Result<Greeks> {
        let option = self.option(i);
        if greeks {
            crate::bsm::greeks(&option, self.vols[i])
        } else {
            crate::bsm::price(&option, self.vols[i]).map(price_only)
        }
    }
    #[cfg(feature = "rayon")]
    fn split_at(&self, mid: usize) -> (Self, Self) {
        let (rights, rights2) = self.rights.split_at(mid);
        let (spots, spots2) = self.spots.split_at(mid);
        let (strikes, strikes2) = self.strikes.split_at(mid);
        let (years, years2) = self.years.split_at(mid);
        let (rates, rates2) = self.rates.split_at(mid);
        let (dividend_yields, dividend_yields2) = self.dividend_yields.split_at(mid);
        let (vols, vols2) = self.vols.split_at(mid);
        (
            BatchInputs {
                rights,
                spots,
                strikes,
                years,
                rates,
                dividend_yields,
                vols,
            },
            BatchInputs {
                rights: rights2,
                spots: spots2,
                strikes: strikes2,
                years: years2,
                rates: rates2,
                dividend_yields: dividend_yields2,
                vols: vols2,
            },
        )
    }
}

impl Rows for FuturesBatchInputs<'_> {
    const FORWARD: bool = true;
    fn len(&self) -> usize {
        self.rights.len()
    }
    #[inline(always)]
    fn load(&self, start: usize, n: usize) -> ChunkIn {
        ChunkIn {
            theta: signs(self.rights, start, n),
            s: column(self.forwards, start, n, 1.0),
            k: column(self.strikes, start, n, 1.0),
            t: column(self.years, start, n, 0.0),
            r: column(self.rates, start, n, 0.0),
            b: [0.0; LANES],
            v: column(self.vols, start, n, 0.0),
        }
    }
    #[inline(always)]
    fn code(&self, i: usize) -> ErrorCode {
        first_error(&[
            (non_negative(self.forwards[i]), ErrorCode::InvalidSpot),
            (non_negative(self.strikes[i]), ErrorCode::InvalidStrike),
            (non_negative(self.years[i]), ErrorCode::InvalidYears),
            (self.rates[i].is_finite(), ErrorCode::InvalidRate),
            (non_negative(self.vols[i]), ErrorCode::InvalidVol),
        ])
    }
    fn scalar(&self, i: usize, greeks: bool) -> Result<Greeks> {
        let option = self.option(i);
        if greeks {
            crate::black76::greeks(&option, self.vols[i])
        } else {
            crate::black76::price(&option, self.vols[i]).map(price_only)
        }
    }
    #[cfg(feature = "rayon")]
    fn split_at(&self, mid: usize) -> (Self, Self) {
        let (rights, rights2) = self.rights.split_at(mid);
        let (forwards, forwards2) = self.forwards.split_at(mid);
        let (strikes, strikes2) = self.strikes.split_at(mid);
        let (years, years2) = self.years.split_at(mid);
        let (rates, rates2) = self.rates.split_at(mid);
        let (vols, vols2) = self.vols.split_at(mid);
        (
            FuturesBatchInputs {
                rights,
                forwards,
                strikes,
                years,
                rates,
                vols,
            },
            FuturesBatchInputs {
                rights: rights2,
                forwards: forwards2,
                strikes: strikes2,
                years: years2,
                rates: rates2,
                vols: vols2,
            },
        )
    }
}

/// One chunk's inputs, structure of arrays so that the kernel loop reads contiguous lanes.
struct ChunkIn {
    theta: [f64; LANES],
    s: [f64; LANES],
    k: [f64; LANES],
    t: [f64; LANES],
    r: [f64; LANES],
    b: [f64; LANES],
    v: [f64; LANES],
}

/// One chunk's outputs.
#[derive(Default)]
struct ChunkOut {
    price: [f64; LANES],
    delta: [f64; LANES],
    gamma: [f64; LANES],
    vega: [f64; LANES],
    theta: [f64; LANES],
    rho: [f64; LANES],
    dividend_rho: [f64; LANES],
    /// Whether each lane's inputs were in the kernel's domain and its outputs finite.
    valid: [bool; LANES],
}

/// `x[start..start + n]` as a chunk, lanes `n..` set to `pad`. Called with `n = LANES` for
/// all but the last chunk, where (after inlining) it is one bounds check and a fixed-size
/// copy; the padded lanes hold an at-the-money option with no time left, which is valid and
/// cheap, and whose results are never stored.
#[inline(always)]
fn column(x: &[f64], start: usize, n: usize, pad: f64) -> [f64; LANES] {
    let mut c = [pad; LANES];
    if n == LANES {
        c.copy_from_slice(&x[start..start + LANES]);
    } else {
        c[..n].copy_from_slice(&x[start..start + n]);
    }
    c
}

/// ±1 for the calls and puts in `rights[start..start + n]`, as [`column`].
#[inline(always)]
fn signs(rights: &[OptionRight], start: usize, n: usize) -> [f64; LANES] {
    let rights = &rights[start..start + n];
    std::array::from_fn(|j| rights.get(j).map_or(1.0, |r| r.sign()))
}

/// `src[..n]` to `dst[start..start + n]`, with a fixed-size copy when `n = LANES`.
#[inline(always)]
fn put(dst: &mut [f64], start: usize, n: usize, src: &[f64; LANES]) {
    if n == LANES {
        dst[start..start + LANES].copy_from_slice(src);
    } else {
        dst[start..start + n].copy_from_slice(&src[..n]);
    }
}

impl ChunkIn {
    /// Runs the kernel on every lane. `forward` selects Black-76; `greeks = false` stores the
    /// price only. Both are constants after inlining, so the greeks' arithmetic is then dead
    /// code.
    #[inline(always)]
    #[expect(
        clippy::needless_bitwise_bool,
        reason = "`&` keeps the validity flag branch-free (vector compares)"
    )]
    fn eval<const F: bool>(&self, forward: bool, greeks: bool, out: &mut ChunkOut) {
        for j in 0..LANES {
            let lane = Lane {
                theta: self.theta[j],
                s: self.s[j],
                k: self.k[j],
                t: self.t[j],
                r: self.r[j],
                b: self.b[j],
                v: self.v[j],
            };
            let g: LaneGreeks = lanes::gbs::<F>(&lane, forward);
            out.price[j] = g.price;
            // A lane whose result is not finite (an overflow the scalar path reports as an
            // error, or a zero spot or strike, which the kernel leaves to the scalar path)
            // is redone by the scalar kernel.
            out.valid[j] = g.valid & (g.price.abs() < f64::INFINITY) & (!greeks | g.greeks_finite);
            if greeks {
                out.delta[j] = g.delta;
                out.gamma[j] = g.gamma;
                out.vega[j] = g.vega;
                out.theta[j] = g.theta;
                out.rho[j] = g.rho;
                out.dividend_rho[j] = g.dividend_rho;
            }
        }
    }
}

/// Where a kernel's results go.
trait Sink: Send {
    const GREEKS: bool;
    /// Stores lanes `0..n` of `out` at rows `start..start + n`.
    fn store(&mut self, start: usize, n: usize, out: &ChunkOut);
    fn codes(&mut self) -> &mut [ErrorCode];
    /// Stores one row's result (NaN everywhere for an error).
    fn store_row(&mut self, i: usize, g: &Greeks);
    #[cfg(feature = "rayon")]
    fn split_at(self, mid: usize) -> (Self, Self)
    where
        Self: Sized;
}

/// Price-only outputs.
struct PricesOut<'a> {
    prices: &'a mut [f64],
    codes: &'a mut [ErrorCode],
}

impl Sink for PricesOut<'_> {
    const GREEKS: bool = false;
    #[inline(always)]
    fn store(&mut self, start: usize, n: usize, out: &ChunkOut) {
        put(self.prices, start, n, &out.price);
    }
    #[inline(always)]
    fn codes(&mut self) -> &mut [ErrorCode] {
        self.codes
    }
    fn store_row(&mut self, i: usize, g: &Greeks) {
        self.prices[i] = g.price;
    }
    #[cfg(feature = "rayon")]
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (prices, prices2) = self.prices.split_at_mut(mid);
        let (codes, codes2) = self.codes.split_at_mut(mid);
        (
            Self { prices, codes },
            Self {
                prices: prices2,
                codes: codes2,
            },
        )
    }
}

impl Sink for GreeksOut<'_> {
    const GREEKS: bool = true;
    #[inline(always)]
    fn store(&mut self, start: usize, n: usize, out: &ChunkOut) {
        put(self.price, start, n, &out.price);
        put(self.delta, start, n, &out.delta);
        put(self.gamma, start, n, &out.gamma);
        put(self.vega, start, n, &out.vega);
        put(self.theta, start, n, &out.theta);
        put(self.rho, start, n, &out.rho);
        put(self.dividend_rho, start, n, &out.dividend_rho);
    }
    #[inline(always)]
    fn codes(&mut self) -> &mut [ErrorCode] {
        self.codes
    }
    fn store_row(&mut self, i: usize, g: &Greeks) {
        self.price[i] = g.price;
        self.delta[i] = g.delta;
        self.gamma[i] = g.gamma;
        self.vega[i] = g.vega;
        self.theta[i] = g.theta;
        self.rho[i] = g.rho;
        self.dividend_rho[i] = g.dividend_rho;
    }
    #[cfg(feature = "rayon")]
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (price, price2) = self.price.split_at_mut(mid);
        let (delta, delta2) = self.delta.split_at_mut(mid);
        let (gamma, gamma2) = self.gamma.split_at_mut(mid);
        let (vega, vega2) = self.vega.split_at_mut(mid);
        let (theta, theta2) = self.theta.split_at_mut(mid);
        let (rho, rho2) = self.rho.split_at_mut(mid);
        let (dividend_rho, dividend_rho2) = self.dividend_rho.split_at_mut(mid);
        let (codes, codes2) = self.codes.split_at_mut(mid);
        (
            GreeksOut {
                price,
                delta,
                gamma,
                vega,
                theta,
                rho,
                dividend_rho,
                codes,
            },
            GreeksOut {
                price: price2,
                delta: delta2,
                gamma: gamma2,
                vega: vega2,
                theta: theta2,
                rho: rho2,
                dividend_rho: dividend_rho2,
                codes: codes2,
            },
        )
    }
}

/// One chunk, rows `start..start + n`: kernel, results, codes. The codes are written per row
/// only in a chunk with an invalid row; otherwise the chunk's codes are all `Ok`.
#[inline(always)]
fn chunk<R: Rows, K: Sink, const F: bool>(
    rows: &R,
    sink: &mut K,
    out: &mut ChunkOut,
    start: usize,
    n: usize,
) {
    rows.load(start, n).eval::<F>(R::FORWARD, K::GREEKS, out);
    sink.store(start, n, out);
    if out.valid.iter().fold(true, |all, &v| all & v) {
        sink.codes()[start..start + n].fill(ErrorCode::Ok);
    } else {
        fallback(rows, sink, out, start, n);
    }
}

/// The rows of a chunk with a lane the kernel did not settle: the code of each row and, for a
/// valid row (a zero spot or strike, or a non-finite kernel result), the scalar API's answer —
/// its value, or NaN and the code of its error (e.g. [`ErrorCode::Overflow`]).
#[cold]
#[inline(never)]
fn fallback<R: Rows, K: Sink>(rows: &R, sink: &mut K, out: &ChunkOut, start: usize, n: usize) {
    for i in 0..n {
        let row = start + i;
        let mut code = rows.code(row);
        if code == ErrorCode::Ok && !out.valid[i] {
            match rows.scalar(row, K::GREEKS) {
                Ok(g) => sink.store_row(row, &g),
                Err(e) => {
                    sink.store_row(row, &reference::NAN_GREEKS);
                    code = ErrorCode::from(&e);
                }
            }
        }
        sink.codes()[row] = code;
    }
}

/// The whole batch on one core, chunk by chunk; `F`: the instruction set has FMA.
#[inline(always)]
fn run<R: Rows, K: Sink, const F: bool>(rows: &R, sink: &mut K) {
    let len = rows.len();
    let full = len - len % LANES;
    let mut out = ChunkOut::default();
    let mut start = 0;
    while start < full {
        chunk::<R, K, F>(rows, sink, &mut out, start, LANES);
        start += LANES;
    }
    if full < len {
        chunk::<R, K, F>(rows, sink, &mut out, full, len - full);
    }
}

/// `run` as a `pulp` operation, so that it is compiled once per instruction set and the
/// best one available is picked at runtime.
#[cfg(feature = "simd")]
struct Job<'r, 'k, R, K, const F: bool> {
    rows: &'r R,
    sink: &'k mut K,
}

#[cfg(feature = "simd")]
impl<R: Rows, K: Sink, const F: bool> pulp::WithSimd for Job<'_, '_, R, K, F> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        run::<R, K, F>(self.rows, self.sink);
    }
}

/// Whether the baseline instruction set of a target without runtime-detected extensions has
/// fused multiply-add (aarch64's does; x86-64's SSE2 does not).
#[cfg(feature = "simd")]
const BASELINE_FMA: bool = cfg!(target_arch = "aarch64");

/// Runs the batch with the best instruction set of this CPU: AVX-512 (x86-64-v4) or AVX2
/// (x86-64-v3), both with FMA, where available; else the target's baseline.
#[cfg(feature = "simd")]
fn dispatch<R: Rows, K: Sink>(rows: &R, sink: &mut K) {
    let arch = pulp::Arch::new();
    #[cfg(target_arch = "x86_64")]
    match arch {
        pulp::Arch::V4(simd) => {
            return pulp::Simd::vectorize(simd, Job::<R, K, true> { rows, sink });
        }
        pulp::Arch::V3(simd) => {
            return pulp::Simd::vectorize(simd, Job::<R, K, true> { rows, sink });
        }
        _ => {}
    }
    arch.dispatch(Job::<R, K, BASELINE_FMA> { rows, sink });
}

/// Without the `simd` feature (and without `pulp`): the same branch-free kernel compiled for
/// the target's baseline instruction set (SSE2 on x86-64, NEON on aarch64) or whatever
/// `-C target-cpu` enables — the same results as the runtime-dispatched path on a CPU of that
/// baseline.
#[cfg(not(feature = "simd"))]
fn dispatch<R: Rows, K: Sink>(rows: &R, sink: &mut K) {
    run::<R, K, { crate::fastmath::SCALAR_FMA }>(rows, sink);
}

/// Rows per rayon task: large enough to amortise the task, a multiple of [`LANES`].
#[cfg(feature = "rayon")]
const PAR_BLOCK: usize = 16 * 1024;

/// Splits the batch in halves (at multiples of [`LANES`]) down to [`PAR_BLOCK`] rows and
/// runs the blocks on rayon's pool. Each row's result does not depend on its chunk, so this
/// gives the single-core results bit for bit.
#[cfg(feature = "rayon")]
fn par_dispatch<R: Rows, K: Sink>(rows: &R, sink: K) {
    let len = rows.len();
    let mut sink = sink;
    if len <= PAR_BLOCK {
        dispatch(rows, &mut sink);
        return;
    }
    let mid = (len / 2).next_multiple_of(LANES);
    let (rows_lo, rows_hi) = rows.split_at(mid);
    let (sink_lo, sink_hi) = sink.split_at(mid);
    rayon::join(
        || par_dispatch(&rows_lo, sink_lo),
        || par_dispatch(&rows_hi, sink_hi),
    );
}

/// Black-Scholes-Merton prices of every option in `inputs`, written to `prices`, with a code
/// per row in `codes` (NaN price and the code of the first bad input for an invalid row).
///
/// # Errors
/// [`PricingError::SliceLength`] if any slice (input or output) is not as long as
/// `inputs.rights`.
pub fn bsm_prices_into(
    inputs: &BatchInputs<'_>,
    prices: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    check_len(
        inputs.len_checked()?,
        &[("prices", prices.len()), ("codes", codes.len())],
    )?;
    dispatch(inputs, &mut PricesOut { prices, codes });
    Ok(())
}

/// Black-Scholes-Merton price and every first-order greek of every option in `inputs`, in
/// one pass, written to `out` (NaN outputs and a code for an invalid row).
///
/// # Errors
/// As [`bsm_prices_into`].
pub fn bsm_greeks_into(inputs: &BatchInputs<'_>, out: &mut GreeksOut<'_>) -> Result<()> {
    check_len(inputs.len_checked()?, &out.lens())?;
    dispatch(inputs, &mut out.reborrow());
    Ok(())
}

/// Black-76 prices of every option in `inputs`, as [`bsm_prices_into`].
///
/// # Errors
/// As [`bsm_prices_into`].
pub fn black76_prices_into(
    inputs: &FuturesBatchInputs<'_>,
    prices: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    check_len(
        inputs.len_checked()?,
        &[("prices", prices.len()), ("codes", codes.len())],
    )?;
    dispatch(inputs, &mut PricesOut { prices, codes });
    Ok(())
}

/// Black-76 price and every first-order greek, as [`bsm_greeks_into`] (see [`GreeksOut`] for
/// what delta and rho mean under Black-76).
///
/// # Errors
/// As [`bsm_prices_into`].
pub fn black76_greeks_into(inputs: &FuturesBatchInputs<'_>, out: &mut GreeksOut<'_>) -> Result<()> {
    check_len(inputs.len_checked()?, &out.lens())?;
    dispatch(inputs, &mut out.reborrow());
    Ok(())
}

/// [`bsm_prices_into`] on all cores (rayon's global pool); identical results.
///
/// # Errors
/// As [`bsm_prices_into`].
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
pub fn par_bsm_prices_into(
    inputs: &BatchInputs<'_>,
    prices: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    check_len(
        inputs.len_checked()?,
        &[("prices", prices.len()), ("codes", codes.len())],
    )?;
    par_dispatch(inputs, PricesOut { prices, codes });
    Ok(())
}

/// [`bsm_greeks_into`] on all cores (rayon's global pool); identical results.
///
/// # Errors
/// As [`bsm_prices_into`].
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
pub fn par_bsm_greeks_into(inputs: &BatchInputs<'_>, out: &mut GreeksOut<'_>) -> Result<()> {
    check_len(inputs.len_checked()?, &out.lens())?;
    par_dispatch(inputs, out.reborrow());
    Ok(())
}

/// [`black76_prices_into`] on all cores (rayon's global pool); identical results.
///
/// # Errors
/// As [`bsm_prices_into`].
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
pub fn par_black76_prices_into(
    inputs: &FuturesBatchInputs<'_>,
    prices: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    check_len(
        inputs.len_checked()?,
        &[("prices", prices.len()), ("codes", codes.len())],
    )?;
    par_dispatch(inputs, PricesOut { prices, codes });
    Ok(())
}

/// [`black76_greeks_into`] on all cores (rayon's global pool); identical results.
///
/// # Errors
/// As [`bsm_prices_into`].
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
pub fn par_black76_greeks_into(
    inputs: &FuturesBatchInputs<'_>,
    out: &mut GreeksOut<'_>,
) -> Result<()> {
    check_len(inputs.len_checked()?, &out.lens())?;
    par_dispatch(inputs, out.reborrow());
    Ok(())
}

/// A batch of quoted European options for implied volatility: the terms of [`BatchInputs`]
/// with each option's price in place of its volatility.
#[derive(Debug, Clone, Copy)]
pub struct QuoteInputs<'a> {
    /// Call or put.
    pub rights: &'a [OptionRight],
    /// Spot prices, > 0.
    pub spots: &'a [f64],
    /// Strikes, > 0.
    pub strikes: &'a [f64],
    /// Times to expiry in years, > 0.
    pub years: &'a [f64],
    /// Continuously compounded risk-free rates per year.
    pub rates: &'a [f64],
    /// Continuously compounded dividend yields per year.
    pub dividend_yields: &'a [f64],
    /// Option prices (discounted, as quoted), within their no-arbitrage bounds.
    pub prices: &'a [f64],
}

impl QuoteInputs<'_> {
    /// Row `i` as the scalar API's terms (its price is `prices[i]`).
    ///
    /// # Panics
    /// If `i` is beyond a slice.
    #[must_use]
    pub fn option(&self, i: usize) -> Vanilla {
        vanilla_row(
            [
                self.spots,
                self.strikes,
                self.years,
                self.rates,
                self.dividend_yields,
            ],
            self.rights[i],
            i,
        )
    }

    /// The number of quotes, after checking that every slice has it.
    ///
    /// # Errors
    /// [`PricingError::SliceLength`] naming the first slice of another length.
    pub fn checked_len(&self) -> Result<usize> {
        self.len_checked(&[])
    }

    /// The number of quotes, after checking that every slice (and each output) has it.
    fn len_checked(&self, outputs: &[(&'static str, usize)]) -> Result<usize> {
        let n = self.rights.len();
        check_len(
            n,
            &[
                ("spots", self.spots.len()),
                ("strikes", self.strikes.len()),
                ("years", self.years.len()),
                ("rates", self.rates.len()),
                ("dividend_yields", self.dividend_yields.len()),
                ("prices", self.prices.len()),
            ],
        )?;
        check_len(n, outputs)?;
        Ok(n)
    }
}

/// Black-Scholes-Merton implied volatilities of a batch of quotes, one pass, no allocation.
/// Eight quotes at a time run Let's Be Rational branch-free on SIMD lanes (the rational guess
/// and third-order Householder steps of [`bsm::implied_vol`](crate::bsm::implied_vol), every
/// branch computed and one kept per lane); the rows that kernel does not settle — invalid
/// inputs, prices at or beyond a no-arbitrage bound, the highest branch (very large total
/// variance), far out of the money (h < −13), or no convergence in three steps — are solved
/// by the scalar solver. Both agree to the scalar solver's accuracy (the settled lanes reprice
/// to ~1e-15 relative; `tests/batch.rs` holds them to 1e-12 of the scalar answer). A row that
/// cannot be solved gets NaN and its [`ErrorCode`] (the first bad input, or the no-arbitrage
/// bound it crosses).
///
/// # Errors
/// [`PricingError::SliceLength`] when the slices differ in length.
pub fn bsm_implied_vols_into(
    quotes: &QuoteInputs<'_>,
    vols: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    let n = quotes.len_checked(&[("vols", vols.len()), ("codes", codes.len())])?;
    crate::fastmath::dispatch(ImpliedVols {
        quotes,
        vols: &mut vols[..n],
        codes: &mut codes[..n],
    });
    Ok(())
}

/// The batch implied-volatility loop as a [`crate::fastmath::Kernel`]: compiled for
/// AVX-512/AVX2 with FMA and picked at run time.
struct ImpliedVols<'q, 'a, 'o> {
    quotes: &'q QuoteInputs<'a>,
    vols: &'o mut [f64],
    codes: &'o mut [ErrorCode],
}

impl crate::fastmath::Kernel for ImpliedVols<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    fn run<const F: bool>(self) {
        use crate::implied::lanes::{self, BLOCK, CHUNKS, QuoteLanes, VolLanes};
        let n = self.vols.len();
        let q = self.quotes;
        let mut out = [VolLanes::default(); CHUNKS];
        let mut start = 0;
        while start < n {
            let chunks: [QuoteLanes; CHUNKS] = std::array::from_fn(|c| {
                let from = (start + c * LANES).min(n);
                let r = from..(from + LANES).min(n);
                let rights = &q.rights[r.clone()];
                QuoteLanes::load(
                    r.len(),
                    |j| rights[j].sign(),
                    &q.spots[r.clone()],
                    &q.strikes[r.clone()],
                    &q.years[r.clone()],
                    &q.rates[r.clone()],
                    &q.dividend_yields[r.clone()],
                    &q.prices[r],
                )
            });
            lanes::solve_block::<F>(&chunks, &mut out);
            for (c, out) in out.iter().enumerate() {
                let from = start + c * LANES;
                if from >= n {
                    break;
                }
                let m = (n - from).min(LANES);
                put(self.vols, from, m, &out.vol);
                if out.settled[..m].iter().fold(true, |all, &v| all & v) {
                    self.codes[from..from + m].fill(ErrorCode::Ok);
                } else {
                    implied_fallback(q, self.vols, self.codes, out, from, m);
                }
            }
            start += BLOCK;
        }
    }
}

/// The rows of a chunk the SIMD kernel did not settle, by the scalar solver.
#[cold]
#[inline(never)]
fn implied_fallback(
    quotes: &QuoteInputs<'_>,
    vols: &mut [f64],
    codes: &mut [ErrorCode],
    out: &crate::implied::lanes::VolLanes,
    start: usize,
    n: usize,
) {
    for i in 0..n {
        let row = start + i;
        (vols[row], codes[row]) = if out.settled[i] {
            (out.vol[i], ErrorCode::Ok)
        } else {
            scalar_row(quotes, row)
        };
    }
}

/// The scalar solver row by row: the reference the SIMD kernel is tested against.
#[cfg(test)]
pub(crate) fn bsm_implied_vols_scalar(
    quotes: &QuoteInputs<'_>,
    vols: &mut [f64],
    codes: &mut [ErrorCode],
) {
    for row in 0..vols.len() {
        (vols[row], codes[row]) = scalar_row(quotes, row);
    }
}

/// Row `row` by the scalar solver: its volatility and code (`NaN` with the error).
fn scalar_row(quotes: &QuoteInputs<'_>, row: usize) -> (f64, ErrorCode) {
    match crate::implied::bsm_row_code(
        quotes.rights[row],
        quotes.spots[row],
        quotes.strikes[row],
        quotes.years[row],
        quotes.rates[row],
        quotes.dividend_yields[row],
        quotes.prices[row],
    ) {
        Ok(v) => (v, ErrorCode::Ok),
        Err(e) => (f64::NAN, e),
    }
}

/// [`bsm_implied_vols_into`] over rayon's global pool, in blocks of 4096 quotes; the same
/// results, bit for bit.
///
/// # Errors
/// As [`bsm_implied_vols_into`].
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
pub fn par_bsm_implied_vols_into(
    quotes: &QuoteInputs<'_>,
    vols: &mut [f64],
    codes: &mut [ErrorCode],
) -> Result<()> {
    use rayon::prelude::*;
    const BLOCK: usize = 4096;
    quotes.len_checked(&[("vols", vols.len()), ("codes", codes.len())])?;
    vols.par_chunks_mut(BLOCK)
        .zip(codes.par_chunks_mut(BLOCK))
        .enumerate()
        .try_for_each(|(block, (vols, codes))| {
            let r = block * BLOCK..block * BLOCK + vols.len();
            let part = QuoteInputs {
                rights: &quotes.rights[r.clone()],
                spots: &quotes.spots[r.clone()],
                strikes: &quotes.strikes[r.clone()],
                years: &quotes.years[r.clone()],
                rates: &quotes.rates[r.clone()],
                dividend_yields: &quotes.dividend_yields[r.clone()],
                prices: &quotes.prices[r],
            };
            bsm_implied_vols_into(&part, vols, codes)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64 (Steele, Lea & Flood 2014), for seeded test inputs.
    fn uniform(state: &mut u64, lo: f64, hi: f64) -> f64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        lo + (hi - lo) * ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Random quotes over a wide domain (1 hour to 10 years, σ 1 %-300 %, strikes ±6
    /// standard deviations, r −5 %..10 %, q 0-8 %, calls and puts) and edge rows: the SIMD
    /// solver against the scalar one, row by row. Returns the rows' quotes.
    fn random_quotes(n: usize, seed: u64) -> [Vec<f64>; 7] {
        let mut state = seed;
        let mut cols: [Vec<f64>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
        let (lo, hi) = ((1.0_f64 / 8760.0).ln(), 10.0_f64.ln());
        for i in 0..n {
            let years = (lo + uniform(&mut state, 0.0, 1.0) * (hi - lo)).exp();
            let vol = (uniform(&mut state, 0.01_f64.ln(), 3.0_f64.ln())).exp();
            let rate = uniform(&mut state, -0.05, 0.10);
            let q = uniform(&mut state, 0.0, 0.08);
            let sd = vol * years.sqrt();
            let strike = 100.0 * (uniform(&mut state, -6.0, 6.0) * sd).exp();
            let theta = if uniform(&mut state, 0.0, 1.0) < 0.5 {
                1.0
            } else {
                -1.0
            };
            let right = if theta > 0.0 {
                OptionRight::Call
            } else {
                OptionRight::Put
            };
            let option = Vanilla {
                right,
                spot: 100.0,
                strike,
                years,
                rate,
                dividend_yield: q,
            };
            let mut price = crate::bsm::price(&option, vol).unwrap_or(f64::NAN);
            // Edge rows: at the lower bound, a hair above it, at the upper bound, invalid.
            match i % 97 {
                1 => price = 0.0,
                2 => {
                    let df = (-rate * years).exp();
                    let intrinsic = (theta * (option.forward() - strike)).max(0.0);
                    price = df * intrinsic * (1.0 + 1e-15) + 1e-300;
                }
                3 => price = 1e9,
                4 => price = f64::NAN,
                5 => price = -1.0,
                _ => {}
            }
            for (c, v) in cols
                .iter_mut()
                .zip([theta, 100.0, strike, years, rate, q, price])
            {
                c.push(v);
            }
        }
        cols
    }

    #[test]
    fn simd_implied_vols_agree_with_the_scalar_solver() {
        let n = 40_003;
        let [theta, spots, strikes, years, rates, yields, prices] = random_quotes(n, 11);
        let rights: Vec<_> = theta
            .iter()
            .map(|&t| {
                if t > 0.0 {
                    OptionRight::Call
                } else {
                    OptionRight::Put
                }
            })
            .collect();
        let quotes = QuoteInputs {
            rights: &rights,
            spots: &spots,
            strikes: &strikes,
            years: &years,
            rates: &rates,
            dividend_yields: &yields,
            prices: &prices,
        };
        let (mut vols, mut codes) = (vec![0.0; n], vec![ErrorCode::Ok; n]);
        bsm_implied_vols_into(&quotes, &mut vols, &mut codes).unwrap();
        let (mut want, mut want_codes) = (vec![0.0; n], vec![ErrorCode::Ok; n]);
        bsm_implied_vols_scalar(&quotes, &mut want, &mut want_codes);
        let (mut worst_price, mut worst_vol) = (0.0_f64, 0.0_f64);
        for i in 0..n {
            assert_eq!(codes[i], want_codes[i], "row {i}");
            if codes[i] != ErrorCode::Ok {
                assert!(vols[i].is_nan());
                continue;
            }
            if want[i] == 0.0 {
                assert_eq!(vols[i], 0.0, "row {i}");
                continue;
            }
            let option = quotes.option(i);
            // Repriced by the accurate Black function (`bsm::price`'s two legs cancel near
            // the money at small σ√T, by up to 1e-11 of the price).
            let (df, forward) = ((-rates[i] * years[i]).exp(), option.forward());
            let reprice = |v: f64| {
                df * crate::implied::black_price(forward, strikes[i], v, years[i], rights[i])
            };
            let (got, exact) = (reprice(vols[i]), reprice(want[i]));
            // Repricing error: within 1e-12 of the price, or no worse than twice the scalar
            // solver's own.
            let (e_got, e_scalar) = (
                (got - prices[i]).abs() / prices[i],
                (exact - prices[i]).abs() / prices[i],
            );
            worst_price = worst_price.max(e_got);
            assert!(
                e_got <= 1e-12_f64.max(2.0 * e_scalar),
                "row {i}: reprices to {got} for {} ({e_got:e}; scalar {e_scalar:e})",
                prices[i]
            );
            // Where the price determines σ well (vega·σ ≥ 1e-3 of the price), σ itself.
            let vega = crate::bsm::greeks(&option, want[i]).unwrap().vega;
            if vega * want[i] >= 1e-3 * prices[i] {
                let e_vol = ((vols[i] - want[i]) / want[i]).abs();
                worst_vol = worst_vol.max(e_vol);
                assert!(
                    e_vol <= 1e-9,
                    "row {i}: vol {} vs {} ({e_vol:e})",
                    vols[i],
                    want[i]
                );
            }
        }
        eprintln!("worst relative price error {worst_price:e}, vol {worst_vol:e}");
    }

    /// The kernel settles most rows itself (else the batch is the scalar solver plus overhead):
    /// over the domain above, everything but the highest branch and the edge rows.
    #[test]
    fn simd_implied_vol_kernel_settles_most_rows() {
        use crate::implied::lanes::{self, BLOCK, CHUNKS, QuoteLanes, VolLanes};
        let n = BLOCK * 500;
        let cols = random_quotes(n, 5);
        let mut settled = 0;
        for start in (0..n).step_by(BLOCK) {
            let chunks: [QuoteLanes; CHUNKS] = std::array::from_fn(|c| {
                let from = start + c * LANES;
                let lane = |k: usize| &cols[k][from..from + LANES];
                QuoteLanes::load(
                    LANES,
                    |j| cols[0][from + j],
                    lane(1),
                    lane(2),
                    lane(3),
                    lane(4),
                    lane(5),
                    lane(6),
                )
            });
            let mut out = [VolLanes::default(); CHUNKS];
            lanes::solve_block::<false>(&chunks, &mut out);
            settled += out.iter().flat_map(|o| o.settled).filter(|&s| s).count();
        }
        let share = settled as f64 / n as f64;
        eprintln!(
            "settled by the SIMD kernel: {share:.4}; chunks with a third step {} of {}",
            lanes::THIRD_STEPS.load(std::sync::atomic::Ordering::Relaxed),
            n / LANES
        );
        assert!(share > 0.8, "only {share} settled");
    }

    /// All seven outputs of `run::<_, _, F>` on `inputs`, whatever this CPU's dispatch picks.
    fn run_with<const F: bool>(inputs: &BatchInputs<'_>) -> [Vec<f64>; 7] {
        let n = inputs.rights.len();
        let mut cols: [Vec<f64>; 7] = std::array::from_fn(|_| vec![0.0; n]);
        let mut codes = vec![ErrorCode::Ok; n];
        let [price, delta, gamma, vega, theta, rho, dividend_rho] = &mut cols;
        let mut out = GreeksOut {
            price,
            delta,
            gamma,
            vega,
            theta,
            rho,
            dividend_rho,
            codes: &mut codes,
        };
        run::<_, _, F>(inputs, &mut out);
        cols
    }

    /// The dispatcher picks the FMA kernel on AVX2/AVX-512 machines and the plain one
    /// elsewhere, and the integration tests check whichever the test machine runs against the
    /// scalar reference. Here both are run directly (`mul_add` without the FMA target feature
    /// is a correct, slow library call) and must agree to the integration tests' tolerance:
    /// 1e-13 of max(|value|, S + K), with S + K over S²σ√T for gamma.
    #[test]
    fn fused_and_unfused_kernels_agree() {
        let mut state = 7;
        let n = 203;
        let rights: Vec<_> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    OptionRight::Put
                } else {
                    OptionRight::Call
                }
            })
            .collect();
        let mut col =
            |lo, hi| -> Vec<f64> { (0..n).map(|_| uniform(&mut state, lo, hi)).collect() };
        let (spots, strikes, years) = (col(50.0, 150.0), col(40.0, 180.0), col(0.0, 3.0));
        let (rates, dividend_yields, vols) = (col(-0.01, 0.08), col(0.0, 0.05), col(0.0, 0.8));
        let inputs = BatchInputs {
            rights: &rights,
            spots: &spots,
            strikes: &strikes,
            years: &years,
            rates: &rates,
            dividend_yields: &dividend_yields,
            vols: &vols,
        };
        let (fused, plain) = (run_with::<true>(&inputs), run_with::<false>(&inputs));
        for (c, (a, b)) in fused.iter().zip(&plain).enumerate() {
            for i in 0..n {
                let money = spots[i] + strikes[i];
                let scale = if c == 2 {
                    money / (spots[i] * spots[i] * (vols[i] * years[i].sqrt()).max(1e-3))
                } else {
                    money
                };
                let tol = 1e-13 * a[i].abs().max(scale);
                assert!(
                    (a[i] - b[i]).abs() <= tol,
                    "output {c} row {i}: {} vs {}",
                    a[i],
                    b[i]
                );
            }
        }
    }
}
