//! [`DefinedRiskStrangle`]: an iron condor or iron butterfly in a 30-45 day window.

use super::common::{finish, slice_in_window};
use super::short_vol::ShortVolConfig;
use crate::error::Result;
use crate::exit::ExitRules;
use crate::proposal::Proposal;
use crate::strategy::Strategy;
use crate::view::MarketView;

/// A short strangle or straddle with long wings (an iron condor or iron butterfly by delta),
/// in a 30-45 day window by default.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinedRiskStrangle {
    config: ShortVolConfig,
}

impl DefinedRiskStrangle {
    /// A validated strategy.
    ///
    /// # Errors
    /// As [`ShortVolConfig::validate`].
    pub fn try_new(config: ShortVolConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }
}

impl Strategy for DefinedRiskStrangle {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        let c = &self.config;
        let mut out = Vec::new();
        for u in view.underlyings() {
            if view.holds(&c.name, u.symbol()) || u.iv_rank() < c.min_iv_rank {
                continue;
            }
            let Some((slice, dte)) = slice_in_window(u, c.dte_min, c.dte_max) else {
                continue;
            };
            let why = format!(
                "{} iv rank {:.2} >= {:.2}",
                u.symbol(),
                u.iv_rank(),
                c.min_iv_rank
            );
            out.extend(finish(&c.name, c.build(&slice)?, &why, dte));
        }
        Ok(out)
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        (strategy == self.config.name).then_some(self.config.exit)
    }
}
