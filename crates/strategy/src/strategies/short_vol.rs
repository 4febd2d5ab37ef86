//! [`ShortVolConfig`]: the settings shared by [`super::DefinedRiskStrangle`] and
//! [`super::ZeroDteIronCondor`], and the condor or butterfly they build.

use serde::Deserialize;
use volta_pricing::OptionRight;

use super::common::{DeltaBand, Width};
use crate::check::Check;
use crate::error::Result;
use crate::exit::ExitRules;
use crate::select::ExpirySlice;
use crate::structures::{Pricing, Trade, iron_butterfly, iron_condor};

/// The body of a [`DefinedRiskStrangle`](super::DefinedRiskStrangle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// Short out-of-the-money put and call by delta: an iron condor.
    Strangle,
    /// Short at-the-money put and call: an iron butterfly.
    Straddle,
}

/// Settings of [`DefinedRiskStrangle`](super::DefinedRiskStrangle) and
/// [`ZeroDteIronCondor`](super::ZeroDteIronCondor).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShortVolConfig {
    /// Name positions are tagged with. Default `defined_risk_strangle` (`zero_dte_iron_condor`).
    pub name: String,
    /// Strangle (iron condor) or straddle (iron butterfly). Default strangle (the 0DTE
    /// strategy is always a condor).
    pub body: Body,
    /// Target |delta| of the short legs of a strangle. Default 0.16 (0.10 for 0DTE).
    pub short_delta: f64,
    /// Lowest accepted |delta| of a short strangle leg. Default 0.10 (0.05).
    pub short_delta_min: f64,
    /// Highest accepted |delta| of a short strangle leg. Default 0.25 (0.20).
    pub short_delta_max: f64,
    /// Wing width. Default 5 strikes.
    pub width: Width,
    /// Fewest calendar days to expiry. Default 30 (0DTE: fixed at 0).
    pub dte_min: i64,
    /// Most calendar days to expiry. Default 45 (0DTE: fixed at 0).
    pub dte_max: i64,
    /// Only at or above this IV rank (0..1). Default 0.
    pub min_iv_rank: f64,
    /// Limit between mid (0) and natural (1). Default 0.5.
    pub pricing_edge: f64,
    /// When positions close. Default [`ExitRules::default`] (0DTE: 50 % target, 2× stop, no
    /// days-to-expiry exit, held into the settlement).
    pub exit: ExitRules,
}

impl Default for ShortVolConfig {
    fn default() -> Self {
        Self {
            name: "defined_risk_strangle".to_owned(),
            body: Body::Strangle,
            short_delta: 0.16,
            short_delta_min: 0.10,
            short_delta_max: 0.25,
            width: Width::Strikes(5),
            dte_min: 30,
            dte_max: 45,
            min_iv_rank: 0.0,
            pricing_edge: 0.5,
            exit: ExitRules::default(),
        }
    }
}

impl ShortVolConfig {
    /// The defaults of [`ZeroDteIronCondor`](super::ZeroDteIronCondor): a 10-delta condor on
    /// the expiring session.
    #[must_use]
    pub fn zero_dte() -> Self {
        Self {
            name: "zero_dte_iron_condor".to_owned(),
            short_delta: 0.10,
            short_delta_min: 0.05,
            short_delta_max: 0.20,
            dte_min: 0,
            dte_max: 0,
            // Opened at the last snapshot of its only session: a days-to-expiry exit or an
            // expiry-day close would close it at once; it settles.
            exit: ExitRules {
                exit_days_to_expiry: None,
                close_on_expiry_day: false,
                ..ExitRules::default()
            },
            ..Self::default()
        }
    }

    pub(super) fn band(&self) -> DeltaBand {
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
        self.band().check(&check)?;
        self.width.check(&check)?;
        check.dte(self.dte_min, self.dte_max)?;
        check.unit("min_iv_rank", self.min_iv_rank)?;
        check.unit("pricing_edge", self.pricing_edge)?;
        self.exit.validate(&self.name)
    }

    /// The condor or butterfly of this config on `slice`, short legs within the band.
    pub(super) fn build(&self, slice: &ExpirySlice<'_>) -> Result<Option<Trade>> {
        let pricing = Pricing {
            edge: self.pricing_edge,
        };
        let trade = match self.body {
            Body::Strangle => slice
                .by_delta(OptionRight::Put, self.short_delta)
                .and_then(|s| self.width.dollars(slice, OptionRight::Put, s.strike))
                .map(|w| iron_condor(slice, self.short_delta, w, pricing))
                .transpose()?
                .flatten()
                .filter(|t| self.band().holds(slice, t)),
            Body::Straddle => slice
                .at_the_money(OptionRight::Call)
                .and_then(|s| self.width.dollars(slice, OptionRight::Put, s.strike))
                .map(|w| iron_butterfly(slice, w, pricing))
                .transpose()?
                .flatten(),
        };
        Ok(trade)
    }
}
