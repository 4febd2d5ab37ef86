//! The [`Strategy`] trait and the rule-based strategies: [`IvRankPremium`],
//! [`DefinedRiskStrangle`] and [`ZeroDteIronCondor`]. Each proposes per underlying of the
//! [`MarketView`], at most one open position per underlying and strategy.

use std::fmt;

use serde::Deserialize;
use volta_core::order::{Instrument, LegAction};
use volta_core::Regime;
use volta_pricing::OptionRight;

use crate::config::Check;
use crate::error::Result;
use crate::manage::{ExitRules, closing_proposals};
use crate::proposal::Proposal;
use crate::select::{ExpirySlice, choose_expiry, days_to};
use crate::structures::{
    Pricing, Trade, credit_spread, debit_spread, iron_butterfly, iron_condor, long_straddle,
};
use crate::view::{MarketView, UnderlyingView};

/// A strategy: from what is known at a decision time, the combos to open (and, through
/// [`Strategy::manage`], the held ones to close).
pub trait Strategy: fmt::Debug + Send + Sync {
    /// The name its positions are tagged with (unique in a configuration).
    fn name(&self) -> &str;

    /// The opening proposals for this decision time, over every underlying of the view.
    ///
    /// # Errors
    /// Only if a combo cannot be built from listed contracts.
    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>>;

    /// The exit rules of positions tagged `strategy`, if this strategy (or one of its
    /// members) opened them.
    fn exit_rules(&self, strategy: &str) -> Option<ExitRules>;

    /// The closing proposals for the positions of the view this strategy owns whose exit rule
    /// fires now (see [`closing_proposals`]).
    ///
    /// # Errors
    /// As [`closing_proposals`].
    fn manage(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        closing_proposals(view, &|s| self.exit_rules(s), Pricing::default())
    }
}

/// How far a wing sits from its short strike.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Width {
    /// This many dollars of strike (the listed strike nearest).
    Dollars(f64),
    /// This many strikes further out of the money, counting the strikes with usable
    /// (gated, two-sided) quotes (scales across underlyings: 5 is $5 on SPY's $1 grid, $25 on
    /// SPX's $5 grid).
    Strikes(u32),
}

impl Width {
    /// The width in dollars for a wing of `right` beyond `short_strike` in `slice`; `None` when
    /// fewer than the required strikes are listed.
    #[must_use]
    pub fn dollars(
        self,
        slice: &ExpirySlice<'_>,
        right: OptionRight,
        short_strike: f64,
    ) -> Option<f64> {
        match self {
            Self::Dollars(d) => Some(d),
            Self::Strikes(n) => {
                let mut beyond: Vec<f64> = slice
                    .side(right)
                    .iter()
                    .filter(|c| match right {
                        OptionRight::Put => c.strike < short_strike,
                        OptionRight::Call => c.strike > short_strike,
                    })
                    .map(|c| (c.strike - short_strike).abs())
                    .collect();
                beyond.sort_by(f64::total_cmp);
                // A strike listed under two roots (SPX and SPXW) counts once.
                beyond.dedup();
                beyond.get((n as usize).checked_sub(1)?).copied()
            }
        }
    }

    pub(crate) fn check(self, check: &Check<'_>) -> Result<()> {
        match self {
            Self::Dollars(d) => check.positive("width.dollars", d),
            Self::Strikes(n) => check.positive("width.strikes", f64::from(n)),
        }
    }
}

/// The short |delta| a strategy targets and the band its short legs must fall in.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DeltaBand {
    target: f64,
    min: f64,
    max: f64,
}

impl DeltaBand {
    fn check(self, check: &Check<'_>) -> Result<()> {
        check.delta("short_delta_min", self.min)?;
        check.delta("short_delta_max", self.max)?;
        check.delta("short_delta", self.target)?;
        check.ordered("short_delta_min", self.min, "short_delta", self.target)?;
        check.ordered("short_delta", self.target, "short_delta_max", self.max)
    }

    /// Whether every sold leg of `trade` has |delta| in the band.
    fn holds(self, slice: &ExpirySlice<'_>, trade: &Trade) -> bool {
        trade
            .order
            .legs()
            .iter()
            .filter(|l| l.action == LegAction::Sell)
            .all(|l| {
                let Instrument::Option(c) = &l.instrument else {
                    return false;
                };
                slice
                    .side(c.right())
                    .iter()
                    .find(|x| x.quote.key == *c.key())
                    .is_some_and(|x| (self.min..=self.max).contains(&x.delta.abs()))
            })
    }
}

/// The slice of the listed expiry nearest the middle of `dte_min..=dte_max`, with its days.
fn slice_in_window(
    u: &UnderlyingView,
    dte_min: i64,
    dte_max: i64,
) -> Option<(ExpirySlice<'_>, i64)> {
    let chain = u.chain();
    let expiry = choose_expiry(chain, dte_min, dte_max, dte_min.midpoint(dte_max))?;
    Some((
        ExpirySlice::new(chain, expiry, u.rates()),
        days_to(chain.as_of(), expiry),
    ))
}

/// Turns a built structure into a proposal if it is sane: a credit (or debit) strictly
/// between zero and the width, so that the worst loss is bounded by the width and the trade
/// can make money at all (quotes occasionally violate this far from the money).
fn finish(strategy: &str, trade: Option<Trade>, why: &str, dte: i64) -> Option<Proposal> {
    let trade = trade?;
    let structure = trade.structure;
    let mut proposal = Proposal::open(strategy, trade, String::new());
    let credit = proposal.credit();
    if credit == 0.0 || proposal.width().is_some_and(|w| credit.abs() >= w) {
        return None;
    }
    let money = if credit > 0.0 {
        format!("credit {credit:.2}")
    } else {
        format!("debit {:.2}", -credit)
    };
    let width = proposal
        .width()
        .map_or_else(String::new, |w| format!(" on {w:.2} wide"));
    proposal.reason = format!("{why}: {structure}, {dte} DTE, {money}{width}");
    Some(proposal)
}

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

/// The body of a [`DefinedRiskStrangle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// Short out-of-the-money put and call by delta: an iron condor.
    Strangle,
    /// Short at-the-money put and call: an iron butterfly.
    Straddle,
}

/// Settings of [`DefinedRiskStrangle`] and [`ZeroDteIronCondor`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// The defaults of [`ZeroDteIronCondor`]: a 10-delta condor on the expiring session.
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
        self.band().check(&check)?;
        self.width.check(&check)?;
        check.dte(self.dte_min, self.dte_max)?;
        check.unit("min_iv_rank", self.min_iv_rank)?;
        check.unit("pricing_edge", self.pricing_edge)?;
        self.exit.validate(&self.name)
    }

    /// The condor or butterfly of this config on `slice`, short legs within the band.
    fn build(&self, slice: &ExpirySlice<'_>) -> Result<Option<Trade>> {
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
