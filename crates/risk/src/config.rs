//! The risk limits and their defaults.

use std::collections::BTreeMap;

use serde::Deserialize;
use volta_core::Regime;

use crate::error::{Result, RiskError};

/// Every limit the [`crate::RiskManager`] enforces. Fractions are of current equity
/// (0.02 = 2 %); dollar greeks are US dollars. Deserialises from a `[risk]` table: fields
/// left out keep their defaults, unknown fields are an error ([`RiskConfig::validate`] checks
/// the values).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Most a new trade may lose at worst, as a fraction of equity (before the regime scale).
    pub max_risk_per_trade: f64,
    /// Most all open trades together may lose at worst.
    pub max_total_risk: f64,
    /// Most open positions (combos) at once.
    pub max_open_positions: usize,
    /// Most open positions on one underlying.
    pub max_positions_per_underlying: usize,
    /// Most all open trades on one underlying may lose at worst.
    pub max_risk_per_underlying: f64,
    /// Portfolio dollar delta (Σ delta × multiplier × quantity × spot) must stay within
    /// ± this fraction of equity.
    pub max_dollar_delta: f64,
    /// Portfolio vega (US dollars per volatility point) must stay within ± this fraction of
    /// equity.
    pub max_vega_per_point: f64,
    /// No new trade once the day's loss (from the first equity of the session) reaches this
    /// fraction; trading resumes the next session.
    pub daily_loss_limit: f64,
    /// Drawdown from the equity peak that fires the kill switch: flatten, halt new orders,
    /// stay halted until a person resets it.
    pub kill_switch_drawdown: f64,
    /// Size multiplier per regime, keyed by its name in a config (`low_vol`, `neutral`,
    /// `iv_expansion`, `iv_contraction`, `high_vol`; any other name is a parse error naming
    /// it); a regime not listed trades at 1.0; 0 means no new trades in that regime.
    pub regime_scale: BTreeMap<Regime, f64>,
}

impl Default for RiskConfig {
    /// The original plan's risk table: 2 % per trade, 30 % in total, 10 positions (4 per
    /// underlying, 15 % of equity each), dollar delta within ±50 % and vega within ±1 % of
    /// equity per point, a 3 % daily loss limit, a 25 % drawdown kill switch; half size in
    /// high volatility and while implied volatility is expanding.
    fn default() -> Self {
        Self {
            max_risk_per_trade: 0.02,
            max_total_risk: 0.30,
            max_open_positions: 10,
            max_positions_per_underlying: 4,
            max_risk_per_underlying: 0.15,
            max_dollar_delta: 0.50,
            max_vega_per_point: 0.01,
            daily_loss_limit: 0.03,
            kill_switch_drawdown: 0.25,
            regime_scale: BTreeMap::from([
                (Regime::LowVol, 1.0),
                (Regime::Neutral, 1.0),
                (Regime::IvContraction, 1.0),
                (Regime::IvExpansion, 0.5),
                (Regime::HighVol, 0.5),
            ]),
        }
    }
}

fn fraction(field: &'static str, x: f64, upper: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 && x <= upper {
        Ok(())
    } else {
        Err(RiskError::InvalidConfig {
            field,
            value: x.to_string(),
            requirement: if upper <= 1.0 {
                "a fraction in (0, 1]"
            } else {
                "positive and finite"
            },
        })
    }
}

impl RiskConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] naming the first bad setting.
    pub fn validate(&self) -> Result<()> {
        fraction("max_risk_per_trade", self.max_risk_per_trade, 1.0)?;
        fraction("max_total_risk", self.max_total_risk, 1.0)?;
        fraction("max_risk_per_underlying", self.max_risk_per_underlying, 1.0)?;
        fraction("max_dollar_delta", self.max_dollar_delta, f64::MAX)?;
        fraction("max_vega_per_point", self.max_vega_per_point, 1.0)?;
        fraction("daily_loss_limit", self.daily_loss_limit, 1.0)?;
        fraction("kill_switch_drawdown", self.kill_switch_drawdown, 1.0)?;
        if self.max_risk_per_trade > self.max_total_risk {
            return Err(RiskError::InvalidConfig {
                field: "max_risk_per_trade",
                value: self.max_risk_per_trade.to_string(),
                requirement: "at most max_total_risk",
            });
        }
        for (field, n) in [
            ("max_open_positions", self.max_open_positions),
            (
                "max_positions_per_underlying",
                self.max_positions_per_underlying,
            ),
        ] {
            if n == 0 {
                return Err(RiskError::InvalidConfig {
                    field,
                    value: n.to_string(),
                    requirement: "at least 1",
                });
            }
        }
        for (name, scale) in &self.regime_scale {
            if !(scale.is_finite() && (0.0..=2.0).contains(scale)) {
                return Err(RiskError::InvalidConfig {
                    field: "regime_scale",
                    value: format!("{name} = {scale}"),
                    requirement: "between 0 and 2",
                });
            }
        }
        Ok(())
    }

    /// The size multiplier of a regime (1.0 when none is given or it is not listed).
    #[must_use]
    pub fn scale_for(&self, regime: Option<Regime>) -> f64 {
        regime
            .and_then(|r| self.regime_scale.get(&r).copied())
            .unwrap_or(1.0)
    }
}
