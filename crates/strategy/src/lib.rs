//! # volta-strategy
//!
//! What Volta trades and when: the chain quality gate, contract selection by days to expiry
//! and delta, the option structures (credit and debit spreads, iron condors and butterflies,
//! straddles) as combo orders priced from the quotes, the strategies, adaptive selection by
//! regime, and position management.
//!
//! It is not the risk manager (sizing, limits: `volta-risk`) nor the engine (clocks, fills):
//! a [`Strategy`] reads a [`MarketView`] — only what is known at the decision time, see
//! [`view`] — and returns [`Proposal`]s, one unit each, for the risk manager to size.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_core::{QualityPolicy, RatesAndYield, Regime};
//! use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
//! use volta_strategy::{MarketView, Strategy, UnderlyingView, config::StrategyConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let market = SyntheticMarket::generate(&SyntheticConfig {
//!     start: NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
//!     end: NaiveDate::from_ymd_opt(2023, 3, 3).unwrap(),
//!     ..SyntheticConfig::default()
//! })?;
//! let chain = market.chain(0)?;
//! let rates = RatesAndYield::try_new(0.02, 0.015)?;
//! let spy = UnderlyingView::gated(&chain, &QualityPolicy::default(), 0.7, rates)?;
//! let view = MarketView::new(chain.as_of(), Some(Regime::Neutral), Some(19.0))?
//!     .with_underlying(spy)?;
//! let premium = StrategyConfig::defaults("iv_rank_premium")?.build()?;
//! let proposals = premium.propose(&view)?;
//! assert_eq!(proposals.len(), 1); // IV rank 0.7 ≥ 0.5: a put credit spread on SPY
//! assert!(proposals[0].credit() > 0.0);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod adaptive;
mod check;
pub mod config;
mod error;
pub mod exit;
pub mod manage;
pub mod proposal;
pub mod select;
pub mod strategies;
pub mod strategy;
pub mod structures;
pub mod view;

pub use adaptive::{AcceptAll, Adaptive, AdaptiveConfig, CreditToWidth, Scorer};
pub use error::{Result, StrategyError};
pub use proposal::{Intent, Proposal};
pub use strategies::{
    DefinedRiskStrangle, IvRankPremium, IvRankPremiumConfig, PutWrite, ShortVolConfig,
    ZeroDteIronCondor,
};
pub use strategy::Strategy;
pub use view::{MarketView, OpenPosition, UnderlyingView};
