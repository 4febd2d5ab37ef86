//! What a broker reports: every state change of every order, and every expiry, exercise and
//! assignment, each exactly once and in the order it happened.

use crate::{Money, OptionContract, Price};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;

use super::order::{CancelReason, Fill, OrderId, OrderRequest, OrderTag, TimeInForce};

/// One report from the broker. `seq` counts from 1 without gaps, so a journal that stores
/// events can tell that none was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerEvent {
    /// Sequence number: 1, 2, 3, … per broker.
    pub seq: u64,
    /// When it happened, exchange time (the broker's clock).
    pub at: NaiveDateTime,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// An order was received (the first event of every order, also of one then rejected).
    Submitted {
        /// The order.
        order: OrderId,
        /// What was asked.
        request: OrderRequest,
        /// The caller's labels.
        tag: OrderTag,
        /// DAY or GTC.
        tif: TimeInForce,
    },
    /// A working order's limit changed.
    Modified {
        /// The order.
        order: OrderId,
        /// The limit before, per combo unit.
        old_limit: Decimal,
        /// The limit now, per combo unit.
        new_limit: Decimal,
    },
    /// An order filled completely.
    Filled(Fill),
    /// An order was cancelled.
    Cancelled {
        /// The order.
        order: OrderId,
        /// Why.
        reason: CancelReason,
    },
    /// An order was refused.
    Rejected {
        /// The order.
        order: OrderId,
        /// Why, in words.
        reason: String,
    },
    /// A physically settled position expiring today is within the pin band of its strike:
    /// the strategy may want to close it before the close (reported once per contract and
    /// expiry day, on the first chain that shows it).
    PinRisk(PinWarning),
    /// A long option was exercised (automatically at expiry: OCC exercise by exception).
    Exercised(OptionSettlement),
    /// A short option was assigned (at expiry, or early before an ex-dividend date).
    Assigned(OptionSettlement),
    /// An option expired worthless.
    Expired(OptionSettlement),
    /// A cash-settled option paid (or cost) its intrinsic value.
    CashSettled(OptionSettlement),
}

impl EventKind {
    /// The order the event is about, if any.
    #[must_use]
    pub const fn order_id(&self) -> Option<OrderId> {
        match self {
            Self::Submitted { order, .. }
            | Self::Modified { order, .. }
            | Self::Cancelled { order, .. }
            | Self::Rejected { order, .. } => Some(*order),
            Self::Filled(fill) => Some(fill.order),
            Self::PinRisk(_)
            | Self::Exercised(_)
            | Self::Assigned(_)
            | Self::Expired(_)
            | Self::CashSettled(_) => None,
        }
    }

    /// The settlement, for the four expiry events.
    #[must_use]
    pub const fn settlement(&self) -> Option<&OptionSettlement> {
        match self {
            Self::Exercised(s) | Self::Assigned(s) | Self::Expired(s) | Self::CashSettled(s) => {
                Some(s)
            }
            _ => None,
        }
    }
}

/// An expiring physically settled position near its strike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinWarning {
    /// The contract.
    pub contract: OptionContract,
    /// Signed contracts held.
    pub quantity: i64,
    /// The underlying's price that triggered the warning, in dollars.
    pub underlying_price: Price,
    /// |underlying − strike|, in dollars.
    pub distance: Decimal,
}

/// How one option position left the book at expiry (or by early assignment), with every
/// amount. Cash and P&L are in dollars; quantities are signed (positive long).
///
/// Accounting: the option is closed at its intrinsic value at the settlement price, and stock
/// delivered is booked at the settlement price; the cash that changes hands is the strike
/// (physical) or the intrinsic value (cash). The option's realised P&L is therefore its whole
/// trade result, and the delivered stock starts flat at the settlement price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSettlement {
    /// The contract.
    pub contract: OptionContract,
    /// Signed contracts held before settlement.
    pub quantity: i64,
    /// The underlying price used: the session's open for AM settlement, its close otherwise
    /// (and for early assignment).
    pub settlement_price: Price,
    /// Intrinsic value per share at `settlement_price`, in dollars (0 when out of the money).
    pub intrinsic: Price,
    /// Signed shares added to the stock position (0 when cash-settled or expired).
    pub stock_delivered: i64,
    /// Cash received (positive) or paid (negative), fees excluded.
    pub cash: Money,
    /// Exercise or assignment fee charged (non-negative).
    pub fee: Money,
    /// P&L realised on the option position, before fees.
    pub realised_pnl: Money,
    /// Whether the settlement price was within the configured pin band of the strike.
    pub near_pin: bool,
    /// Whether this was an early assignment before an ex-dividend date.
    pub early: bool,
}
