//! Orders as a broker holds them: ids, tags, time in force, states and fills.

use std::fmt;

use crate::order::{ComboOrder, ComboSide, Instrument};
use crate::{Money, Price, Underlying};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;

/// A broker's order id: sequential from 1, never reused, so the journal can key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(u64);

impl OrderId {
    /// An id from its number (the IB adapter maps IB's order ids through this).
    #[must_use]
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Free-form labels an order carries for the journal: which strategy sent it, which position
/// it opens or closes, and why. The broker never interprets them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct OrderTag {
    /// The strategy's name.
    pub strategy: String,
    /// The strategy's id for the position the order opens, adjusts or closes.
    pub position_id: String,
    /// Why the order was sent ("open", "take profit", "flatten assignment", …).
    pub reason: String,
}

impl OrderTag {
    /// Whether the order opens a position (the engine's reasons for openings start with
    /// "open"): a circuit breaker stops these and lets closing orders go.
    #[must_use]
    pub fn opens_position(&self) -> bool {
        self.reason.starts_with("open")
    }

    /// A tag from its three strings.
    #[must_use]
    pub fn new(
        strategy: impl Into<String>,
        position_id: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            strategy: strategy.into(),
            position_id: position_id.into(),
            reason: reason.into(),
        }
    }
}

/// How long an unfilled order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeInForce {
    /// Until the close of the session it was placed in (or, placed after a close, of the next
    /// session): then [`CancelReason::DayEnd`]. The default, as at IB.
    #[default]
    Day,
    /// Until cancelled, filled, or the last trading day of one of its option legs.
    Gtc,
}

/// A market order for shares, used to flatten stock delivered by exercise or assignment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StockOrder {
    /// The shares' underlying.
    pub underlying: Underlying,
    /// Buy or sell.
    pub side: ComboSide,
    /// Shares, at least 1.
    pub quantity: u32,
}

impl StockOrder {
    /// The market order that brings a signed share position `shares` to zero (`None` for 0).
    #[must_use]
    pub fn flatten(underlying: Underlying, shares: i64) -> Option<Self> {
        let quantity = u32::try_from(shares.unsigned_abs()).ok()?;
        (quantity > 0).then_some(Self {
            underlying,
            side: if shares > 0 {
                ComboSide::Sell
            } else {
                ComboSide::Buy
            },
            quantity,
        })
    }
}

/// What was asked of the broker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderRequest {
    /// A limit order for a combo (IB BAG price convention, see [`crate::order`]). A
    /// single-leg combo is an ordinary option (or stock) limit order.
    Combo(ComboOrder),
    /// A stock market order.
    StockMarket(StockOrder),
}

impl OrderRequest {
    /// The underlying traded.
    #[must_use]
    pub fn underlying(&self) -> &Underlying {
        match self {
            Self::Combo(c) => c.underlying(),
            Self::StockMarket(s) => &s.underlying,
        }
    }

    /// The net limit price per unit, `None` for a market order.
    #[must_use]
    pub fn limit(&self) -> Option<Decimal> {
        match self {
            Self::Combo(c) => Some(c.limit()),
            Self::StockMarket(_) => None,
        }
    }
}

/// Why an order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// [`super::Broker::cancel`] was called.
    Requested,
    /// A DAY order still working at the session close.
    DayEnd,
    /// A GTC order with an option leg past its last trading day.
    ContractExpired,
}

/// Where an order is in its life: `Submitted` → (modified)* → `Filled` | `Cancelled` |
/// `Rejected`. The last three are terminal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Accepted and working.
    Submitted,
    /// Filled completely (the simulated broker fills all or nothing).
    Filled,
    /// Cancelled, with why.
    Cancelled(CancelReason),
    /// Refused, with the broker's reason.
    Rejected(String),
}

impl OrderStatus {
    /// Whether the order is done: filled, cancelled or rejected.
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        !matches!(self, Self::Submitted)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Submitted => f.write_str("submitted"),
            Self::Filled => f.write_str("filled"),
            Self::Cancelled(r) => write!(f, "cancelled ({r:?})"),
            Self::Rejected(r) => write!(f, "rejected ({r})"),
        }
    }
}

/// One leg of a fill: what changed hands at what price.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LegFill {
    /// The instrument.
    pub instrument: Instrument,
    /// Signed units added to the position: contracts for options (positive bought), shares
    /// for stock.
    pub quantity: i64,
    /// The price per share (per option share: × multiplier for a contract's cash), in dollars.
    pub price: Price,
}

/// A complete fill of one order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fill {
    /// The order filled.
    pub order: OrderId,
    /// When, exchange time.
    pub at: NaiveDateTime,
    /// The net price per combo unit in the IB BAG convention (for a stock order, the price per
    /// share); always on the cent for combos.
    pub net_price: Decimal,
    /// Combo units (shares for a stock order).
    pub quantity: u32,
    /// Per leg, in the order's leg order. The legs' prices reproduce `net_price` exactly.
    pub legs: Vec<LegFill>,
    /// Cash received (positive) or paid (negative), before commission, in dollars.
    pub cash: Money,
    /// Commission charged for this fill, in dollars (non-negative).
    pub commission: Money,
}

/// A broker's view of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    /// The id.
    pub id: OrderId,
    /// The order as it stands (with the latest limit after modifications).
    pub request: OrderRequest,
    /// The caller's labels.
    pub tag: OrderTag,
    /// DAY or GTC.
    pub tif: TimeInForce,
    /// Where it is.
    pub status: OrderStatus,
    /// When it was placed, exchange time.
    pub submitted_at: NaiveDateTime,
    /// How many times its limit was modified.
    pub modifications: u32,
    /// The fill, once filled.
    pub fill: Option<Fill>,
}

impl OrderState {
    /// An order as a broker first records it: working, never modified, not filled.
    #[must_use]
    pub const fn submitted(
        id: OrderId,
        request: OrderRequest,
        tag: OrderTag,
        tif: TimeInForce,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            id,
            request,
            tag,
            tif,
            status: OrderStatus::Submitted,
            submitted_at: at,
            modifications: 0,
            fill: None,
        }
    }
}
