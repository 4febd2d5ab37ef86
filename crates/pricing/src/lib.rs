//! # volta-pricing
//!
//! Option pricing for Volta, usable on its own: European options under Black-Scholes-Merton
//! with a continuous dividend yield and under Black-76, analytic greeks to second order,
//! implied volatility to near machine precision (after Jäckel's "Let's Be Rational"), American
//! options (Barone-Adesi-Whaley 1987, Bjerksund-Stensland 2002, a Leisen-Reimer lattice) with
//! their implied volatility, and batch kernels over slices.
//!
//! It is not a market-data or a risk library: it knows nothing of contracts, calendars or
//! money; inputs are plain `f64` in consistent units (years, continuously compounded annual
//! rates, volatility per √year).
//!
//! Units: every greek is a partial derivative per 1.0 of its input (theta per year, vega per
//! 1.00 of volatility); [`Greeks`] has helpers for the trader's conventions (theta per calendar
//! day, vega per volatility point, rho per rate point).
//!
//! ```
//! use volta_pricing::{bsm, OptionRight, Vanilla};
//!
//! # fn main() -> Result<(), volta_pricing::PricingError> {
//! // Hull, "Options, Futures and Other Derivatives", Example 15.6: S = 42, K = 40,
//! // r = 10 %, σ = 20 %, six months: the call is worth 4.76.
//! let call = Vanilla::try_new(OptionRight::Call, 42.0, 40.0, 0.5, 0.10, 0.0)?;
//! let greeks = bsm::greeks(&call, 0.20)?;
//! assert!((greeks.price - 4.7594).abs() < 1e-4);
//! println!("delta {:.4}, theta/day {:.4}", greeks.delta, greeks.theta_per_calendar_day());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod american;
pub mod batch;
pub mod black76;
pub mod bsm;
mod error;
mod fastmath;
mod gbs;
mod greeks;
pub mod implied;
pub mod normal;
mod types;

pub use error::{ErrorCode, PricingError, Result};
pub use greeks::{CALENDAR_DAYS_PER_YEAR, Greeks, SecondOrderGreeks};
pub use types::{FuturesOption, OptionRight, Vanilla};

/// The crate README's examples, compiled and run as doc tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
