//! Strategy configuration: the settings of each strategy (serde tables, TOML-shaped), their
//! validation before any run, and the factory that builds strategies from them.
//!
//! ```
//! use volta_strategy::config::{StrategiesConfig, StrategyConfig};
//!
//! # fn main() -> volta_strategy::Result<()> {
//! // The registry: a kind's defaults by name.
//! let premium = StrategyConfig::defaults("iv_rank_premium")?;
//! assert_eq!(premium.name(), "iv_rank_premium");
//! assert!(StrategyConfig::defaults("iv_rank_premum").is_err());
//! // The default set: three strategies under the adaptive regime table.
//! let adaptive = StrategiesConfig::default().build()?;
//! assert_eq!(volta_strategy::Strategy::name(&adaptive), "adaptive");
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use volta_core::Regime;

use crate::adaptive::{Adaptive, AdaptiveConfig};
use crate::error::{Result, StrategyError};
use crate::strategies::{
    DefinedRiskStrangle, IvRankPremium, IvRankPremiumConfig, ShortVolConfig, Strategy,
    ZeroDteIronCondor,
};

/// The strategy kinds the factory knows, as written in configs.
pub const KINDS: [&str; 3] = [
    "iv_rank_premium",
    "defined_risk_strangle",
    "zero_dte_iron_condor",
];

/// The settings of one strategy, tagged by its kind (`kind = "iv_rank_premium"` in TOML).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StrategyConfig {
    /// [`IvRankPremium`].
    IvRankPremium(IvRankPremiumConfig),
    /// [`DefinedRiskStrangle`].
    DefinedRiskStrangle(ShortVolConfig),
    /// [`ZeroDteIronCondor`].
    ZeroDteIronCondor(ShortVolConfig),
}

impl StrategyConfig {
    /// The registry: the default settings of the kind named `kind` (one of [`KINDS`]).
    ///
    /// # Errors
    /// [`StrategyError::UnknownStrategy`] for any other name.
    pub fn defaults(kind: &str) -> Result<Self> {
        match kind {
            "iv_rank_premium" => Ok(Self::IvRankPremium(IvRankPremiumConfig::default())),
            "defined_risk_strangle" => Ok(Self::DefinedRiskStrangle(ShortVolConfig::default())),
            "zero_dte_iron_condor" => Ok(Self::ZeroDteIronCondor(ShortVolConfig::zero_dte())),
            _ => Err(StrategyError::UnknownStrategy {
                name: kind.to_owned(),
                known: KINDS.join(", "),
            }),
        }
    }

    /// The name positions are tagged with.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::IvRankPremium(c) => &c.name,
            Self::DefinedRiskStrangle(c) | Self::ZeroDteIronCondor(c) => &c.name,
        }
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] naming the strategy, the field and its value.
    pub fn validate(&self) -> Result<()> {
        self.build().map(drop)
    }

    /// The strategy (validated first).
    ///
    /// # Errors
    /// As [`StrategyConfig::validate`].
    pub fn build(&self) -> Result<Box<dyn Strategy>> {
        Ok(match self {
            Self::IvRankPremium(c) => Box::new(IvRankPremium::try_new(c.clone())?),
            Self::DefinedRiskStrangle(c) => Box::new(DefinedRiskStrangle::try_new(c.clone())?),
            Self::ZeroDteIronCondor(c) => Box::new(ZeroDteIronCondor::try_new(c.clone())?),
        })
    }
}

/// A whole configuration: the strategies and the adaptive table that picks among them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategiesConfig {
    /// The strategies (`[[strategies]]` tables).
    pub strategies: Vec<StrategyConfig>,
    /// The regime table and score threshold (`[adaptive]`).
    pub adaptive: AdaptiveConfig,
}

impl Default for StrategiesConfig {
    /// One strategy of each kind with its defaults, under [`AdaptiveConfig::default`].
    fn default() -> Self {
        Self {
            strategies: KINDS
                .iter()
                .filter_map(|k| StrategyConfig::defaults(k).ok())
                .collect(),
            adaptive: AdaptiveConfig::default(),
        }
    }
}

impl StrategiesConfig {
    /// Validates everything and builds the adaptive strategy over the configured ones (with
    /// the default scorer; see [`Adaptive::with_scorer`]).
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] for a bad setting or a name used twice,
    /// [`StrategyError::UnknownStrategy`] for a table entry naming no configured strategy.
    pub fn build(&self) -> Result<Adaptive> {
        let mut members: Vec<Box<dyn Strategy>> = Vec::with_capacity(self.strategies.len());
        for config in &self.strategies {
            if members.iter().any(|m| m.name() == config.name()) {
                return Err(Check::new(config.name())?.bad(
                    "name",
                    config.name(),
                    "unique among the strategies",
                ));
            }
            members.push(config.build()?);
        }
        Adaptive::try_new(&self.adaptive, members)
    }
}

/// Parses a regime's snake-case name (`low_vol`, …).
#[must_use]
pub fn parse_regime(name: &str) -> Option<Regime> {
    Regime::ALL.into_iter().find(|r| r.as_str() == name)
}

/// The default regime table (see `docs/strategies.md` for the reasons).
#[must_use]
pub fn default_regime_table() -> BTreeMap<String, Vec<String>> {
    let row = |regime: Regime, names: &[&str]| {
        (
            regime.as_str().to_owned(),
            names.iter().map(|&n| n.to_owned()).collect(),
        )
    };
    BTreeMap::from([
        row(Regime::LowVol, &[]),
        row(Regime::HighVol, &["iv_rank_premium"]),
        row(Regime::IvExpansion, &[]),
        row(
            Regime::IvContraction,
            &[
                "iv_rank_premium",
                "defined_risk_strangle",
                "zero_dte_iron_condor",
            ],
        ),
        row(
            Regime::Neutral,
            &["defined_risk_strangle", "zero_dte_iron_condor"],
        ),
    ])
}

/// Validation helpers that name the strategy, the field and the value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Check<'a> {
    strategy: &'a str,
}

impl<'a> Check<'a> {
    /// A checker for `strategy`, whose name must not be empty.
    pub(crate) fn new(strategy: &'a str) -> Result<Self> {
        let check = Self { strategy };
        if strategy.trim().is_empty() {
            return Err(check.bad("name", strategy, "a non-empty name"));
        }
        Ok(check)
    }

    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers pass temporaries (numbers, format!): by value keeps them short"
    )]
    pub(crate) fn bad(
        self,
        field: &'static str,
        value: impl ToString,
        requirement: &'static str,
    ) -> StrategyError {
        StrategyError::InvalidConfig {
            strategy: self.strategy.to_owned(),
            field,
            value: value.to_string(),
            requirement,
        }
    }

    /// A |delta| in (0, 0.5): out of the money, not zero.
    pub(crate) fn delta(self, field: &'static str, v: f64) -> Result<()> {
        if v > 0.0 && v < 0.5 {
            Ok(())
        } else {
            Err(self.bad(field, v, "a |delta| in (0, 0.5)"))
        }
    }

    /// A fraction in 0..=1.
    pub(crate) fn unit(self, field: &'static str, v: f64) -> Result<()> {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(self.bad(field, v, "in 0..=1"))
        }
    }

    /// Finite and above zero.
    pub(crate) fn positive(self, field: &'static str, v: f64) -> Result<()> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.bad(field, v, "finite and above zero"))
        }
    }

    /// `low <= high` (reported on the `high` field).
    pub(crate) fn ordered(
        self,
        low_field: &'static str,
        low: f64,
        high_field: &'static str,
        high: f64,
    ) -> Result<()> {
        if low <= high {
            Ok(())
        } else {
            Err(self.bad(
                high_field,
                format!("{high} (< {low_field} = {low})"),
                "at least the lower bound",
            ))
        }
    }

    /// A days-to-expiry window `0 <= min <= max`.
    pub(crate) fn dte(self, min: i64, max: i64) -> Result<()> {
        if min < 0 {
            return Err(self.bad("dte_min", min, "0 or more days"));
        }
        if min > max {
            return Err(self.bad(
                "dte_min",
                format!("{min} (> dte_max = {max})"),
                "at most dte_max",
            ));
        }
        Ok(())
    }

    /// Exactly zero.
    pub(crate) fn zero(self, field: &'static str, v: i64) -> Result<()> {
        if v == 0 {
            Ok(())
        } else {
            Err(self.bad(field, v, "0 (the session's own expiry)"))
        }
    }
}
