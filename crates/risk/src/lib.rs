//! # volta-risk
//!
//! The risk manager every order passes before it reaches a broker: per-trade and portfolio
//! limits, sizing (by worst loss, scaled by regime), Reg-T buying power for defined-risk
//! spreads, portfolio delta and vega bands, a daily loss limit, and the drawdown kill switch
//! (default 25 % from the peak: flatten, halt new orders, stay halted until a person resets it).
//! Every refusal carries its reason and is recorded.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
//! use volta_core::{Money, Regime};
//! use volta_risk::{Decision, DollarGreeks, Portfolio, Proposal, RiskConfig, RiskManager};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let at = NaiveDate::from_ymd_opt(2025, 2, 20).unwrap().and_hms_opt(15, 45, 0).unwrap();
//! let mut risk = RiskManager::new(RiskConfig::default())?;
//! // A 10-wide SPY put credit spread for 1.50: worst loss 8.50 × 100 = $850 a spread.
//! let legs = vec![
//!     Leg::option("SPY   250321P00400000".parse()?, LegAction::Sell, 1)?,
//!     Leg::option("SPY   250321P00390000".parse()?, LegAction::Buy, 1)?,
//! ];
//! let order = ComboOrder::new(legs, ComboSide::Buy, 10, "-1.50".parse()?)?;
//! let proposal = Proposal {
//!     at,
//!     strategy: "iv_rank".into(),
//!     order,
//!     unit_greeks: DollarGreeks { dollar_delta: 6_000.0, vega_per_point: -8.0 },
//!     regime: Some(Regime::Neutral),
//! };
//! let portfolio = Portfolio { equity: "100000".parse::<Money>()?, open: vec![] };
//! // 2 % of $100,000 = $2,000 of risk: two spreads.
//! let Decision::Approved { order, buying_power } = risk.check(&proposal, &portfolio)? else {
//!     panic!("approved");
//! };
//! assert_eq!(order.quantity(), 2);
//! assert_eq!(buying_power, "1700".parse::<Money>()?);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod config;
mod error;
mod manager;

pub use config::RiskConfig;
pub use error::{Result, RiskError};
pub use manager::{
    Decision, KillSwitchEvent, OpenRisk, Portfolio, Proposal, RejectReason, Rejection, RiskManager,
};
pub use volta_core::order::DollarGreeks;
