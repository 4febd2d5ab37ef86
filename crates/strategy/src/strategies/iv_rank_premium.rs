//! [`IvRankPremium`]: sells defined-risk premium when the IV rank is high.

use serde::Deserialize;
use volta_pricing::OptionRight;

use super::common::{DeltaBand, Width, finish, slice_in_window};
use crate::check::Check;
use crate::error::Result;
use crate::exit::ExitRules;
use crate::proposal::Proposal;
use crate::select::ExpirySlice;
use crate::strategy::Strategy;
use crate::structures::{
    Pricing, Trade, credit_spread, debit_spread, iron_condor, long_straddle, short_put_by_delta,
};
use crate::view::MarketView;

/// What [`IvRankPremium`] sells when the IV rank is high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HighIvAction {
    /// A put credit spread (bullish, short vega).
    PutCreditSpread,
    /// A call credit spread (bearish, short vega).
    CallCreditSpread,
    /// An iron condor (neutral, short vega).
    IronCondor,
    /// A cash-secured short put at the target delta (bullish, short vega; no wing). Its worst
    /// loss is the strike, so the risk limits must allow a whole put's strike per trade
    /// (docs/strategies.md).
    ShortPut,
}

/// What [`IvRankPremium`] does when the IV rank is low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LowIvAction {
    /// Nothing: premium is cheap, and long premium bleeds.
    Flat,
    /// A call debit spread.
    CallDebitSpread,
    /// A put debit spread.
    PutDebitSpread,
    /// A long at-the-money straddle (long vega).
    LongStraddle,
}

/// Settings of [`IvRankPremium`] (a config table; every field has a default).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IvRankPremiumConfig {
    /// Name positions are tagged with. Default `iv_rank_premium`.
    pub name: String,
    /// Sell premium at or above this IV rank (0..1). Default 0.5.
    pub iv_rank_high: f64,
    /// Apply `when_low` at or below this IV rank. Default 0.2.
    pub iv_rank_low: f64,
    /// Target |delta| of the short legs. Default 0.20.
    pub short_delta: f64,
    /// Lowest accepted |delta| of a short leg. Default 0.16.
    pub short_delta_min: f64,
    /// Highest accepted |delta| of a short leg. Default 0.30.
    pub short_delta_max: f64,
    /// Wing width. Default 5 strikes.
    pub width: Width,
    /// Fewest calendar days to expiry. Default 30.
    pub dte_min: i64,
    /// Most calendar days to expiry. Default 45.
    pub dte_max: i64,
    /// The structure when the rank is high. Default `put_credit_spread`.
    pub when_high: HighIvAction,
    /// The structure when the rank is low. Default `flat`.
    pub when_low: LowIvAction,
    /// |delta| of the bought leg of a debit spread. Default 0.40.
    pub debit_long_delta: f64,
    /// Limit between mid (0) and natural (1). Default 0.5.
    pub pricing_edge: f64,
    /// When positions close. Default [`ExitRules::default`].
    pub exit: ExitRules,
}

impl Default for IvRankPremiumConfig {
    fn default() -> Self {
        Self {
            name: "iv_rank_premium".to_owned(),
            iv_rank_high: 0.5,
            iv_rank_low: 0.2,
            short_delta: 0.20,
            short_delta_min: 0.16,
            short_delta_max: 0.30,
            width: Width::Strikes(5),
            dte_min: 30,
            dte_max: 45,
            when_high: HighIvAction::PutCreditSpread,
            when_low: LowIvAction::Flat,
            debit_long_delta: 0.40,
            pricing_edge: 0.5,
            exit: ExitRules::default(),
        }
    }
}

impl IvRankPremiumConfig {
    fn band(&self) -> DeltaBand {
        DeltaBand {
            target: self.short_delta,
            min: self.short_delta_min,
            max: self.short_delta_max,
        }
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`crate::StrategyError::InvalidConfig`] naming the first bad field and its value.
    pub fn validate(&self) -> Result<()> {
        let check = Check::new(&self.name)?;
        check.unit("iv_rank_low", self.iv_rank_low)?;
        check.unit("iv_rank_high", self.iv_rank_high)?;
        check.ordered(
            "iv_rank_low",
            self.iv_rank_low,
            "iv_rank_high",
            self.iv_rank_high,
        )?;
        self.band().check(&check)?;
        self.width.check(&check)?;
        check.dte(self.dte_min, self.dte_max)?;
        check.delta("debit_long_delta", self.debit_long_delta)?;
        check.unit("pricing_edge", self.pricing_edge)?;
        self.exit.validate(&self.name)
    }
}

/// Sells defined-risk premium when the IV rank is high (mean reversion of implied volatility:
/// rich premium tends to cheapen), and does `when_low` when it is low; in between, nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct IvRankPremium {
    config: IvRankPremiumConfig,
}

impl IvRankPremium {
    /// A validated strategy.
    ///
    /// # Errors
    /// As [`IvRankPremiumConfig::validate`].
    pub fn try_new(config: IvRankPremiumConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// Its settings.
    #[must_use]
    pub const fn config(&self) -> &IvRankPremiumConfig {
        &self.config
    }

    fn high(&self, slice: &ExpirySlice<'_>) -> Result<Option<Trade>> {
        let c = &self.config;
        let pricing = Pricing {
            edge: c.pricing_edge,
        };
        let width = |right| {
            slice
                .by_delta(right, c.short_delta)
                .and_then(|s| c.width.dollars(slice, right, s.strike))
        };
        let trade = match c.when_high {
            HighIvAction::PutCreditSpread => width(OptionRight::Put)
                .map(|w| credit_spread(slice, OptionRight::Put, c.short_delta, w, pricing)),
            HighIvAction::CallCreditSpread => width(OptionRight::Call)
                .map(|w| credit_spread(slice, OptionRight::Call, c.short_delta, w, pricing)),
            HighIvAction::IronCondor => {
                width(OptionRight::Put).map(|w| iron_condor(slice, c.short_delta, w, pricing))
            }
            HighIvAction::ShortPut => Some(short_put_by_delta(slice, c.short_delta, pricing)),
        };
        Ok(trade
            .transpose()?
            .flatten()
            .filter(|t| self.config.band().holds(slice, t)))
    }

    fn low(&self, slice: &ExpirySlice<'_>) -> Result<Option<Trade>> {
        let c = &self.config;
        let pricing = Pricing {
            edge: c.pricing_edge,
        };
        let debit = |right| {
            // The long leg `debit_spread` picks: with |delta| < 0.5 it is out of the money,
            // where `by_delta` looks.
            let long = slice.by_delta(right, c.debit_long_delta)?;
            let w = c.width.dollars(slice, right, long.strike)?;
            Some(debit_spread(slice, right, c.debit_long_delta, w, pricing))
        };
        let trade = match c.when_low {
            LowIvAction::Flat => None,
            LowIvAction::CallDebitSpread => debit(OptionRight::Call),
            LowIvAction::PutDebitSpread => debit(OptionRight::Put),
            LowIvAction::LongStraddle => Some(long_straddle(slice, pricing)),
        };
        Ok(trade.transpose()?.flatten())
    }
}

impl Strategy for IvRankPremium {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        let c = &self.config;
        let mut out = Vec::new();
        for u in view.underlyings() {
            if view.holds(&c.name, u.symbol()) {
                continue;
            }
            let rank = u.iv_rank();
            let high = rank >= c.iv_rank_high;
            if !high && (rank > c.iv_rank_low || c.when_low == LowIvAction::Flat) {
                continue;
            }
            let Some((slice, dte)) = slice_in_window(u, c.dte_min, c.dte_max) else {
                continue;
            };
            let (trade, why) = if high {
                let why = format!("{} iv rank {rank:.2} >= {:.2}", u.symbol(), c.iv_rank_high);
                (self.high(&slice)?, why)
            } else {
                let why = format!("{} iv rank {rank:.2} <= {:.2}", u.symbol(), c.iv_rank_low);
                (self.low(&slice)?, why)
            };
            out.extend(finish(&c.name, trade, &why, dte));
        }
        Ok(out)
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        (strategy == self.config.name).then_some(self.config.exit)
    }
}
