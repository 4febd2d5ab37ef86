//! # volta-core
//!
//! Volta's domain types, shared by every crate above the pricing kernels: underlyings, option
//! contracts and their stable OCC key, quotes with quality flags, chain snapshots and their
//! derived columns ([`chain_rows`]: times to settlement, mids, implied vols), daily and
//! intraday bars, exact decimal money, the volatility [`Regime`], the checked
//! [`RatesAndYield`] every analytic reads a chain with, the [`PositionId`] that names a combo
//! position, and the NYSE trading calendar with the option expiries (monthlies, weeklies, and
//! the daily 0DTE expiries of SPX, SPY, QQQ and IWM) from 1990.
//!
//! It is not a data source, a store or a pricing library: it holds and validates values, and
//! answers calendar questions by rule, with no I/O, no wall clock and no randomness.
//! Timestamps are exchange time (`America/New_York`) as [`chrono::NaiveDateTime`]; see
//! [`ChainSnapshot`] for why.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_core::{ContractKey, NyseCalendar, OptionContract, OptionQuote, Price, expiry};
//!
//! # fn main() -> Result<(), volta_core::CoreError> {
//! let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
//! let cal = NyseCalendar;
//!
//! // Good Friday 2024 was a holiday; the Saturday New Year's Day of 2022 closed nothing.
//! assert!(!cal.is_session(date(2024, 3, 29))?);
//! assert!(cal.is_session(date(2021, 12, 31))?);
//! assert_eq!(cal.next_session(date(2024, 3, 28))?, date(2024, 4, 1));
//!
//! // The OCC symbol, as IB's localSymbol writes it, parses to a contract with its terms.
//! let key: ContractKey = "SPY   250321C00450000".parse()?;
//! let contract = OptionContract::from_key(key.clone());
//! assert_eq!(contract.multiplier(), 100);
//! assert_eq!(key.to_string(), "SPY   250321C00450000");
//!
//! // Quotes keep missing sides as None and derive mid and spread exactly.
//! let quote = OptionQuote::new(key, Some("2.76".parse()?), Some("2.78".parse()?));
//! assert_eq!(quote.mid(), Some("2.77".parse::<Price>()?));
//!
//! // SPY expired every session from late 2022: five expiries in the week of 2023-01-09.
//! let week = expiry::expiries_between(cal, "SPY", date(2023, 1, 9), date(2023, 1, 13))?;
//! assert_eq!(week.len(), 5);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod bar;
pub mod broker;
pub mod calendar;
mod chain;
pub mod chain_analytics;
mod contract;
mod error;
pub mod expiry;
mod money;
pub mod order;
mod position;
mod quote;
mod rates;
mod regime;
pub mod tick;

pub use bar::{DailyBar, IntradayBar, Ohlcv};
pub use calendar::{Holiday, NyseCalendar};
pub use chain::ChainSnapshot;
pub use chain_analytics::{ChainRow, IvSource, chain_rows};
pub use contract::{
    ContractKey, ExerciseStyle, OptionContract, STANDARD_MULTIPLIER, SettlementTime,
    SettlementType, Strike, Underlying,
};
pub use error::{CoreError, Result};
pub use money::{Money, Price};
pub use position::PositionId;
pub use quote::{OptionQuote, QualityPolicy, QuoteFlag, QuoteFlags, VendorAnalytics};
pub use rates::RatesAndYield;
pub use regime::Regime;
/// Call or put, shared with the pricing crate.
pub use volta_pricing::OptionRight;
