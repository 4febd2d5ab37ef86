//! Position management: the closing proposals of the positions whose exit rule fires (see
//! [`crate::exit`] for the rules), and the kill switch's flattening.

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use crate::error::Result;
use crate::proposal::{Intent, Proposal};
use crate::structures::Pricing;
use crate::view::{MarketView, OpenPosition};

// The exit rules' old paths (`manage::ExitRules`, …), kept for callers.
pub use crate::exit::{ClosingQuote, ExitReason, ExitRules, Held, closing_quote, exit_reason};

/// The closing proposals of a decision time: for each open position of `view` whose strategy
/// has exit rules (`rules` returns `None` for positions of other strategies: they are left
/// alone), [`exit_reason`] on the position's closing quote from its underlying's gated chain.
/// A firing rule gives a SELL of the position's legs and quantity, naming the position's id
/// ([`Intent::Close`]), limited `pricing.edge` of
/// the way from mid to natural (rounded down to the cent, toward natural). Without a
/// two-sided quote on every leg (only calendar rules can fire then) the limit is the worst
/// payoff of the legs — minus the width for a credit spread, zero for long premium — which any
/// counterparty beats.
///
/// # Errors
/// [`crate::StrategyError::Core`] on decimal overflow of a limit.
pub fn closing_proposals(
    view: &MarketView,
    rules: &dyn Fn(&str) -> Option<ExitRules>,
    pricing: Pricing,
) -> Result<Vec<Proposal>> {
    let mut out = Vec::new();
    for position in view.positions() {
        let (Some(rules), Some(held)) = (rules(&position.strategy), position.held()) else {
            continue;
        };
        let quote = view
            .underlying(position.underlying())
            .and_then(|u| closing_quote(u.chain(), &position.order));
        if let Some(reason) = exit_reason(&rules, held, quote, view.as_of()) {
            out.push(closing_proposal(view, position, reason, pricing)?);
        }
    }
    Ok(out)
}

/// The SELL that closes `position` now, for `reason`, priced as [`closing_proposals`]
/// describes (`pricing.edge` of the way from mid to natural on the view's quotes, else the
/// legs' worst payoff). The kill switch flattens with it at `edge = 1` (natural).
///
/// # Errors
/// [`crate::StrategyError::Core`] on decimal overflow of a limit.
pub fn closing_proposal(
    view: &MarketView,
    position: &OpenPosition,
    reason: ExitReason,
    pricing: Pricing,
) -> Result<Proposal> {
    let quote = view
        .underlying(position.underlying())
        .and_then(|u| closing_quote(u.chain(), &position.order));
    let (limit, mid, natural, priced) = if let Some(q) = quote {
        let raw = q.mid + pricing.edge * (q.natural - q.mid);
        let cents = Decimal::from_f64((raw * 100.0).floor() / 100.0)
            .unwrap_or_default()
            .round_dp(2);
        // A SELL: toward natural is down, onto the grid of the position's contracts.
        let limit = position.order.closing(Decimal::ZERO).to_grid(cents, false);
        (limit, q.mid, q.natural, format!("mid {:.2}", q.mid))
    } else {
        let units =
            Decimal::from(position.order.multiplier()) * Decimal::from(position.order.quantity());
        let worst = position
            .order
            .max_loss_at(Decimal::ZERO)?
            .map_or(Decimal::ZERO, |m| -m.value() / units);
        let worst = position.order.closing(Decimal::ZERO).to_grid(worst, false);
        let w = worst.to_f64().unwrap_or_default();
        (worst, w, w, "no two-sided quotes".to_owned())
    };
    Ok(Proposal {
        strategy: position.strategy.clone(),
        intent: Intent::Close {
            position: position.id.clone(),
            reason,
        },
        structure: position.structure,
        order: position.order.closing(limit),
        mid,
        natural,
        greeks: None,
        reason: format!(
            "{reason}: {} {} opened {} at {:.2}, {priced}",
            position.underlying(),
            position.structure,
            position.entered,
            position.entry
        ),
    })
}
