//! The rule-based strategies, one file each: [`IvRankPremium`], [`DefinedRiskStrangle`] and
//! [`ZeroDteIronCondor`]; and [`PutWrite`], the backtest's PUT-write yardstick. Each proposes
//! per underlying of the [`crate::MarketView`], at most one open position per underlying and
//! strategy.

mod common;
mod defined_risk_strangle;
mod iv_rank_premium;
mod put_write;
mod short_vol;
mod zero_dte_iron_condor;

pub use common::Width;
pub use defined_risk_strangle::DefinedRiskStrangle;
pub use iv_rank_premium::{HighIvAction, IvRankPremium, IvRankPremiumConfig, LowIvAction};
pub use put_write::{PutWrite, next_monthly_expiry};
pub use short_vol::{Body, ShortVolConfig};
pub use zero_dte_iron_condor::ZeroDteIronCondor;

// The trait's old path (`strategies::Strategy`), kept for callers.
pub use crate::strategy::Strategy;
