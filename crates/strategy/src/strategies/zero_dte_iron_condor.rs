//! [`ZeroDteIronCondor`]: an iron condor on the session's own expiry.

use volta_core::Regime;

use super::common::finish;
use super::short_vol::{Body, ShortVolConfig};
use crate::check::Check;
use crate::error::Result;
use crate::exit::ExitRules;
use crate::proposal::Proposal;
use crate::select::ExpirySlice;
use crate::strategy::Strategy;
use crate::view::MarketView;

/// An iron condor on the expiry of the decision date itself (0DTE), only on sessions whose
/// chain lists that expiry, and never in the `high_vol` regime or before the regime is known
/// (the original plan's risk table: "avoid 0DTE in high vol" against flash crashes).
#[derive(Debug, Clone, PartialEq)]
pub struct ZeroDteIronCondor {
    config: ShortVolConfig,
}

impl ZeroDteIronCondor {
    /// A validated strategy. The body is always a strangle and the window 0 days.
    ///
    /// # Errors
    /// As [`ShortVolConfig::validate`], and [`crate::StrategyError::InvalidConfig`] for a
    /// days-to-expiry window other than 0..=0.
    pub fn try_new(config: ShortVolConfig) -> Result<Self> {
        config.validate()?;
        let check = Check::new(&config.name)?;
        check.zero("dte_max", config.dte_max)?;
        Ok(Self {
            config: ShortVolConfig {
                body: Body::Strangle,
                ..config
            },
        })
    }
}

impl Strategy for ZeroDteIronCondor {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        let c = &self.config;
        let mut out = Vec::new();
        if matches!(view.regime(), None | Some(Regime::HighVol)) {
            return Ok(out);
        }
        let today = view.as_of().date();
        for u in view.underlyings() {
            if view.holds(&c.name, u.symbol()) || u.iv_rank() < c.min_iv_rank {
                continue;
            }
            // The expiry must be the decision date, not merely 0 days from a stale chain.
            if !u.chain().expiries().any(|e| e == today) {
                continue;
            }
            let slice = ExpirySlice::new(u.chain(), today, u.rates());
            let why = format!("{} expires today, regime not high_vol", u.symbol());
            out.extend(finish(&c.name, c.build(&slice)?, &why, 0));
        }
        Ok(out)
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        (strategy == self.config.name).then_some(self.config.exit)
    }
}
