//! What the rule-based strategies share: the wing width, the band their short deltas must fall
//! in, the expiry window, and the sanity check that turns a built structure into a proposal.

use serde::Deserialize;
use volta_core::order::{Instrument, LegAction};
use volta_pricing::OptionRight;

use crate::check::Check;
use crate::error::Result;
use crate::proposal::Proposal;
use crate::select::{ExpirySlice, choose_expiry, days_to};
use crate::structures::Trade;
use crate::view::UnderlyingView;

/// How far a wing sits from its short strike.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
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
pub(super) struct DeltaBand {
    pub(super) target: f64,
    pub(super) min: f64,
    pub(super) max: f64,
}

impl DeltaBand {
    pub(super) fn check(self, check: &Check<'_>) -> Result<()> {
        check.delta("short_delta_min", self.min)?;
        check.delta("short_delta_max", self.max)?;
        check.delta("short_delta", self.target)?;
        check.ordered("short_delta_min", self.min, "short_delta", self.target)?;
        check.ordered("short_delta", self.target, "short_delta_max", self.max)
    }

    /// Whether every sold leg of `trade` has |delta| in the band.
    pub(super) fn holds(self, slice: &ExpirySlice<'_>, trade: &Trade) -> bool {
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
pub(super) fn slice_in_window(
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
pub(super) fn finish(
    strategy: &str,
    trade: Option<Trade>,
    why: &str,
    dte: i64,
) -> Option<Proposal> {
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
