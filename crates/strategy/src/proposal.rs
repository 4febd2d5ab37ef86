//! What a strategy hands on: a [`Proposal`] to open or close one combo, with its reason.

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use volta_core::order::{ComboOrder, DollarGreeks, Instrument};
use volta_core::{PositionId, Underlying};
use volta_pricing::OptionRight;

use crate::exit::ExitReason;
use crate::structures::{Structure, Trade};

/// Opening a new position or closing a held one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Intent {
    /// A BUY of the legs as they will be held.
    Open,
    /// A SELL of a held position's legs, for this reason.
    Close {
        /// The position closed (its [`crate::OpenPosition::id`]).
        position: PositionId,
        /// Why.
        reason: ExitReason,
    },
}

/// One combo order a strategy wants placed. Sizing (the quantity) and the risk checks are the
/// risk manager's; the strategy proposes one unit to open, the held quantity to close.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The strategy proposing it (the name positions are tagged with).
    pub strategy: String,
    /// Open or close.
    pub intent: Intent,
    /// The shape.
    pub structure: Structure,
    /// The order, priced (see [`volta_core::order`] for the sign convention).
    pub order: ComboOrder,
    /// Net mid price per unit, in the order's leg convention (negative: a credit).
    pub mid: f64,
    /// Net price per unit crossing every spread.
    pub natural: f64,
    /// Dollar greeks of one unit, for openings.
    pub greeks: Option<DollarGreeks>,
    /// Why, in words (for the signal log and the dashboard).
    pub reason: String,
}

impl Proposal {
    /// An opening proposal from a built structure.
    #[must_use]
    pub fn open(strategy: &str, trade: Trade, reason: String) -> Self {
        Self {
            strategy: strategy.to_owned(),
            intent: Intent::Open,
            structure: trade.structure,
            order: trade.order,
            mid: trade.mid,
            natural: trade.natural,
            greeks: Some(trade.greeks),
            reason,
        }
    }

    /// The underlying.
    #[must_use]
    pub fn underlying(&self) -> &Underlying {
        self.order.underlying()
    }

    /// Credit per share received at the limit when opening (negative: a debit paid).
    #[must_use]
    pub fn credit(&self) -> f64 {
        (-self.order.limit()).to_f64().unwrap_or(f64::NAN)
    }

    /// The widest distance, in dollars of strike, between two legs of the same right: the
    /// width of a vertical, the wider wing of a condor or butterfly. `None` when no right has
    /// two legs (a straddle).
    #[must_use]
    pub fn width(&self) -> Option<f64> {
        [OptionRight::Put, OptionRight::Call]
            .into_iter()
            .filter_map(|right| {
                let strikes = self
                    .order
                    .legs()
                    .iter()
                    .filter_map(|l| match &l.instrument {
                        Instrument::Option(c) if c.right() == right => Some(c.strike().to_f64()),
                        _ => None,
                    });
                let (lo, hi) = strikes.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), k| {
                    (lo.min(k), hi.max(k))
                });
                (hi > lo).then_some(hi - lo)
            })
            .max_by(f64::total_cmp)
    }

    /// The most an opening proposal can lose at expiry if filled at its limit, dollars, for
    /// all its units (`None`: unbounded, or not an opening).
    #[must_use]
    pub fn max_loss(&self) -> Option<f64> {
        if self.intent != Intent::Open {
            return None;
        }
        self.order
            .max_loss_at(self.order.limit())
            .ok()
            .flatten()
            .map(volta_core::Money::to_f64)
    }

    /// The order's limit per unit, dollars.
    #[must_use]
    pub fn limit(&self) -> Decimal {
        self.order.limit()
    }
}

impl fmt::Display for Proposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let intent = match &self.intent {
            Intent::Open => "open".to_owned(),
            Intent::Close { reason, .. } => format!("close ({reason})"),
        };
        write!(
            f,
            "{}: {intent} {} {} at {}: {}",
            self.strategy,
            self.underlying(),
            self.structure,
            self.order.limit(),
            self.reason
        )
    }
}
