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

use serde::Deserialize;

use crate::adaptive::{Adaptive, AdaptiveConfig};
use crate::check::Check;
use crate::error::{Result, StrategyError};
use crate::strategies::{
    DefinedRiskStrangle, IvRankPremium, IvRankPremiumConfig, ShortVolConfig, ZeroDteIronCondor,
};
use crate::strategy::Strategy;

// The default table's old path, kept for callers: it lives beside the config it fills.
pub use crate::adaptive::default_regime_table;

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
    /// [`ZeroDteIronCondor`]. The fields a table leaves out take
    /// [`ShortVolConfig::zero_dte`]'s values.
    #[serde(deserialize_with = "over_zero_dte_defaults")]
    ZeroDteIronCondor(ShortVolConfig),
}

/// A zero-DTE table read over [`ShortVolConfig::zero_dte`]. Serde's own default for a missing
/// field is the strangle's ([`ShortVolConfig::default`]), whose name, 30-45-day window and
/// days-to-expiry exit are wrong for a position that settles the day it opens (and an exit
/// that is off, `None`, cannot be written in TOML).
fn over_zero_dte_defaults<'de, D: serde::Deserializer<'de>>(
    given: D,
) -> std::result::Result<ShortVolConfig, D::Error> {
    use serde::de::Error as _;
    let given = serde_json::Value::deserialize(given)?;
    let mut merged = serde_json::to_value(ShortVolConfig::zero_dte()).map_err(D::Error::custom)?;
    overlay(&mut merged, given);
    serde_json::from_value(merged).map_err(D::Error::custom)
}

/// Writes `top` over `base`. A table whose keys are all fields of `base`'s table there (the
/// exit rules given in part) is written field by field; anything else replaces `base`'s value
/// whole (another wing width variant, or a misspelt field, which the deserializer then
/// refuses by name).
fn overlay(base: &mut serde_json::Value, top: serde_json::Value) {
    use serde_json::Value;
    match (base, top) {
        (Value::Object(fields), Value::Object(given))
            if given.keys().all(|k| fields.contains_key(k)) =>
        {
            for (key, value) in given {
                if let Some(slot) = fields.get_mut(&key) {
                    overlay(slot, value);
                }
            }
        }
        (slot, value) => *slot = value,
    }
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
