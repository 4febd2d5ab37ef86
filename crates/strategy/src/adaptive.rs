//! Adaptive selection: which strategies run in which regime, and a [`Scorer`] hook (a model,
//! later) with a minimum score that proposals must reach.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use volta_core::Regime;

use crate::check::Check;
use crate::error::{Result, StrategyError};
use crate::exit::ExitRules;
use crate::proposal::{Intent, Proposal};
use crate::strategy::Strategy;
use crate::view::MarketView;

/// Scores a proposal in 0..1 (1 = take it). Out-of-range scores are clamped; NaN is 0.
pub trait Scorer: fmt::Debug + Send + Sync {
    /// The score of `proposal` at `view`.
    fn score(&self, view: &MarketView, proposal: &Proposal) -> f64;
}

/// The default scorer: every proposal scores 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcceptAll;

impl Scorer for AcceptAll {
    fn score(&self, _view: &MarketView, _proposal: &Proposal) -> f64 {
        1.0
    }
}

/// Scores credit structures by credit ÷ width (the share of the worst loss collected up
/// front; a 25-wide spread for 5.00 scores 0.2). Debits and structures without a width score
/// 1: this scorer has no view on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreditToWidth;

impl Scorer for CreditToWidth {
    fn score(&self, _view: &MarketView, proposal: &Proposal) -> f64 {
        match proposal.width() {
            Some(w) if proposal.credit() > 0.0 => proposal.credit() / w,
            _ => 1.0,
        }
    }
}

/// Settings of [`Adaptive`] (`[adaptive]` in TOML).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptiveConfig {
    /// Name of the adaptive strategy. Default `adaptive`.
    pub name: String,
    /// Regime name (`low_vol`, `high_vol`, `iv_expansion`, `iv_contraction`, `neutral`) →
    /// the strategies run in it, by name. A regime missing from the table runs nothing.
    /// Default [`default_regime_table`].
    pub table: BTreeMap<String, Vec<String>>,
    /// Openings scoring below this (0..1) are dropped. Default 0: everything passes.
    pub min_score: f64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            name: "adaptive".to_owned(),
            table: default_regime_table(),
            min_score: 0.0,
        }
    }
}

impl AdaptiveConfig {
    /// A table that runs the one strategy `name` in every regime (no selection by regime).
    #[must_use]
    pub fn everywhere(name: &str) -> Self {
        Self {
            table: Regime::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), vec![name.to_owned()]))
                .collect(),
            ..Self::default()
        }
    }
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

/// Runs the strategies the regime table lists for the view's regime (nothing while the
/// regime is unknown), keeps the openings that reach the minimum score, and manages the
/// positions of every member whatever the regime.
#[derive(Debug)]
pub struct Adaptive {
    name: String,
    members: Vec<Box<dyn Strategy>>,
    /// Per regime (by [`Regime::index`]), indices into `members`.
    table: [Vec<usize>; 5],
    scorer: Box<dyn Scorer>,
    min_score: f64,
}

impl Adaptive {
    /// The adaptive strategy over `members` with the default scorer ([`AcceptAll`]).
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] for an unknown regime name or a minimum score outside
    /// 0..=1; [`StrategyError::UnknownStrategy`] for a table entry naming no member.
    pub fn try_new(config: &AdaptiveConfig, members: Vec<Box<dyn Strategy>>) -> Result<Self> {
        let check = Check::new(&config.name)?;
        check.unit("min_score", config.min_score)?;
        let mut table: [Vec<usize>; 5] = Default::default();
        for (regime, names) in &config.table {
            let Ok(r) = regime.parse::<Regime>() else {
                return Err(check.bad(
                    "table",
                    regime,
                    "a regime: low_vol, high_vol, iv_expansion, iv_contraction or neutral",
                ));
            };
            for name in names {
                let Some(i) = members.iter().position(|m| m.name() == name) else {
                    return Err(StrategyError::UnknownStrategy {
                        name: name.clone(),
                        known: members
                            .iter()
                            .map(|m| m.name().to_owned())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                table[r.index()].push(i);
            }
        }
        Ok(Self {
            name: config.name.clone(),
            members,
            table,
            scorer: Box::new(AcceptAll),
            min_score: config.min_score,
        })
    }

    /// The same strategy with another scorer and threshold.
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] for a minimum score outside 0..=1.
    pub fn with_scorer(self, scorer: Box<dyn Scorer>, min_score: f64) -> Result<Self> {
        Check::new(&self.name)?.unit("min_score", min_score)?;
        Ok(Self {
            scorer,
            min_score,
            ..self
        })
    }

    /// The names of the strategies run in the view's regime.
    #[must_use]
    pub fn active(&self, view: &MarketView) -> Vec<&str> {
        view.regime()
            .map(|r| {
                self.table[r.index()]
                    .iter()
                    .map(|&i| self.members[i].name())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `proposal` reaches the minimum score (closings always do).
    #[must_use]
    pub fn passes(&self, view: &MarketView, proposal: &Proposal) -> bool {
        if proposal.intent != Intent::Open {
            return true;
        }
        let s = self.scorer.score(view, proposal);
        let s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
        s >= self.min_score
    }
}

impl Strategy for Adaptive {
    fn name(&self) -> &str {
        &self.name
    }

    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        let Some(regime) = view.regime() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for &i in &self.table[regime.index()] {
            let proposals = self.members[i].propose(view)?;
            out.extend(proposals.into_iter().filter(|p| self.passes(view, p)));
        }
        Ok(out)
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        self.members.iter().find_map(|m| m.exit_rules(strategy))
    }
}
