//! What the engine did, as a stream of typed events that any number of [`Observer`]s take.
//!
//! Every event is delivered to every observer, in the order it happened, before the engine
//! goes on. The run's journal is one observer ([`crate::Journal`]): the orders, fills,
//! positions, signals and equity points it writes are the ones these events carry. A
//! dashboard, a metrics exporter or an alerting channel are others; [`ChannelObserver`] hands
//! the stream to another thread, [`EventLog`] keeps it in memory.
//!
//! An observer that fails ([`Observer::on_event`] returns an error) stops the run, as a
//! journal write that fails must: an observer whose failures should not stop trading (an
//! alert channel, say) handles its own errors and returns `Ok`.

use std::io::Write;
use std::sync::mpsc::Sender;

use chrono::{NaiveDate, NaiveDateTime};
use volta_broker::{CancelReason, OptionSettlement};
use volta_core::order::DollarGreeks;
use volta_core::{Money, PositionId, Regime, Underlying};
use volta_data::store::{EquityPoint, FillRecord, OrderRecord, PositionRecord, SignalRecord};
use volta_risk::RejectReason;

use crate::error::{EngineError, Result};

/// Why an order was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderPurpose {
    /// Opens a position a strategy proposed and the risk manager approved.
    Open,
    /// Closes a position (exit rule, or the kill switch).
    Close,
    /// Flattens stock that an exercise or assignment delivered.
    Flatten,
}

impl OrderPurpose {
    /// `open`, `close` or `flatten`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Close => "close",
            Self::Flatten => "flatten",
        }
    }
}

/// How an order ended without a fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEnd {
    /// Cancelled (on request, at the end of the day, or because a leg expired).
    Cancelled(CancelReason),
    /// Refused by the broker, with its reason.
    Rejected(String),
}

impl OrderEnd {
    /// The journal's status: `cancelled` or `rejected`.
    #[must_use]
    pub const fn status(&self) -> &'static str {
        match self {
            Self::Cancelled(_) => "cancelled",
            Self::Rejected(_) => "rejected",
        }
    }

    /// Why, in words: `at the day's end`, `on request`, `a leg expired`, or the rejection's
    /// reason.
    #[must_use]
    pub fn why(&self) -> &str {
        match self {
            Self::Cancelled(CancelReason::Requested) => "on request",
            Self::Cancelled(CancelReason::DayEnd) => "unfilled at the day's end",
            Self::Cancelled(CancelReason::ContractExpired) => "a leg stopped trading",
            Self::Rejected(reason) => reason,
        }
    }
}

/// How an option position settled at expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettlementKind {
    /// A long option exercised (into stock, or for cash).
    Exercised,
    /// A short option assigned.
    Assigned,
    /// Expired worthless.
    Expired,
    /// A cash-settled option settled for its intrinsic value.
    CashSettled,
}

/// An open position as a person watching the run sees it (in [`EngineEvent::Book`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionView {
    /// The engine's id (`p1`, `p2`, …).
    pub position_id: PositionId,
    /// The strategy that opened it.
    pub strategy: String,
    /// Its underlying.
    pub underlying: Underlying,
    /// Its structure (`iron condor`, `put credit spread`, …).
    pub structure: String,
    /// Combos held.
    pub quantity: u32,
    /// When the opening order filled.
    pub opened_at: NaiveDateTime,
    /// Net entry price per share, US dollars (negative: a credit received).
    pub entry_price: f64,
    /// P&L so far after fees, US dollars: its cash flows plus its legs at the venue's marks.
    pub pnl: f64,
    /// Its worst loss at expiry from the entry, US dollars (the risk manager's measure).
    pub max_loss: Money,
    /// Its dollar greeks at entry, all units (what the risk manager's bands count).
    pub greeks: DollarGreeks,
}

/// One thing the engine did.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// A session began: its open.
    SessionStarted {
        /// The session.
        date: NaiveDate,
        /// Its opening time, exchange time.
        at: NaiveDateTime,
    },
    /// The strategies are about to decide, with what they know: the signals of the previous
    /// close and the account marked at the snapshot.
    Decision {
        /// The decision time (the session's latest chain snapshot).
        at: NaiveDateTime,
        /// The regime, if known (none during the rank's warm-up).
        regime: Option<Regime>,
        /// The volatility index's previous close.
        vix: Option<f64>,
        /// Its 252-session rank.
        vix_rank: Option<f64>,
        /// Equity marked at the snapshot, before this decision's orders.
        equity: Money,
    },
    /// A signal the decision used, as journaled.
    Signal(SignalRecord),
    /// The risk manager refused an opening.
    RiskRejected {
        /// When.
        at: NaiveDateTime,
        /// The strategy that proposed it.
        strategy: String,
        /// Its underlying.
        underlying: Underlying,
        /// Why.
        reason: RejectReason,
    },
    /// An order went to the venue.
    OrderPlaced {
        /// The order as journaled (status `submitted`).
        order: OrderRecord,
        /// The engine's position it belongs to (`p1`, `p2`, …).
        position_id: PositionId,
        /// Why it was placed.
        purpose: OrderPurpose,
        /// The strategy's or the engine's reason, in words.
        reason: String,
    },
    /// An order filled (the journal's fill; the order's status becomes `filled`).
    Filled {
        /// The fill as journaled.
        fill: FillRecord,
        /// The engine's position it belongs to.
        position_id: PositionId,
    },
    /// An order ended without a fill.
    OrderEnded {
        /// The journal's id of the order.
        order_id: String,
        /// When.
        at: NaiveDateTime,
        /// How.
        end: OrderEnd,
    },
    /// Options of a position settled at expiry.
    Settled {
        /// When.
        at: NaiveDateTime,
        /// How.
        kind: SettlementKind,
        /// The broker's account of it.
        settlement: OptionSettlement,
        /// The positions it touched.
        position_ids: Vec<PositionId>,
    },
    /// A position's state changed (opened, filled, settled, closed): its journal row.
    PositionChanged(PositionRecord),
    /// The decision's orders are placed and filled against the snapshot: its trading records
    /// are complete (the journal writes them now).
    DecisionDone {
        /// The decision time.
        at: NaiveDateTime,
    },
    /// Market data a check needed could not be read (a live market's error): the check was
    /// skipped; the run goes on.
    DataGap {
        /// When.
        at: NaiveDateTime,
        /// What failed, in words.
        what: String,
    },
    /// The kill switch fired: every position is flattened, no new orders after it.
    KillSwitch {
        /// When.
        at: NaiveDateTime,
        /// Equity then.
        equity: Money,
        /// Its peak.
        peak: Money,
        /// The drawdown from the peak, a fraction.
        drawdown: f64,
    },
    /// A person halted the run (through [`crate::StopSignal`]): from this decision on nothing
    /// new is opened, and with `flatten` every position is closed.
    Halted {
        /// The decision at which the engine first honoured it.
        at: NaiveDateTime,
        /// Whether every position is being closed too.
        flatten: bool,
    },
    /// The open positions and the risk manager's greek bands, after each decision and at each
    /// close.
    Book {
        /// When.
        at: NaiveDateTime,
        /// Every open position, in opening order.
        positions: Vec<PositionView>,
        /// The portfolio's dollar delta must stay within ± this, US dollars.
        dollar_delta_band: f64,
        /// The portfolio's vega must stay within ± this, US dollars per volatility point.
        vega_band: f64,
    },
    /// Equity at the session's close.
    Equity {
        /// The point as journaled.
        point: EquityPoint,
        /// Positions still open.
        open_positions: usize,
    },
    /// The session closed and the engine's book agrees with the broker's positions.
    SessionClosed {
        /// The session.
        date: NaiveDate,
        /// Its closing time.
        at: NaiveDateTime,
    },
}

/// Takes the engine's events.
pub trait Observer {
    /// Called once for each event, in order.
    ///
    /// # Errors
    /// Whatever the observer cannot do; the engine stops the run with it.
    fn on_event(&mut self, event: &EngineEvent) -> Result<()>;
}

/// Keeps every event in memory (tests, reports of short runs).
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    /// The events so far, in order.
    pub events: Vec<EngineEvent>,
}

impl Observer for EventLog {
    fn on_event(&mut self, event: &EngineEvent) -> Result<()> {
        self.events.push(event.clone());
        Ok(())
    }
}

/// Sends every event down a channel, for an observer on another thread (a dashboard). A
/// receiver that has gone away is not an error: trading does not depend on who watches it.
#[derive(Debug, Clone)]
pub struct ChannelObserver {
    sender: Sender<EngineEvent>,
}

impl ChannelObserver {
    /// An observer sending to `sender`.
    #[must_use]
    pub const fn new(sender: Sender<EngineEvent>) -> Self {
        Self { sender }
    }
}

impl Observer for ChannelObserver {
    fn on_event(&mut self, event: &EngineEvent) -> Result<()> {
        let _ = self.sender.send(event.clone());
        Ok(())
    }
}

/// The observers an engine hands its events to, after its journal.
#[derive(Default)]
pub(crate) struct Observers(Vec<Box<dyn Observer + Send>>);

impl Observers {
    pub(crate) fn push(&mut self, observer: Box<dyn Observer + Send>) {
        self.0.push(observer);
    }

    pub(crate) fn emit(&mut self, event: &EngineEvent) -> Result<()> {
        for observer in &mut self.0 {
            observer.on_event(event)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Observers({})", self.0.len())
    }
}

/// An observer writing one line per order, fill, cancellation, risk refusal, settlement, kill
/// switch and session close, for a person watching a paper or live run in a terminal. A write
/// that fails (a closed pipe) stops the run, as the journal's would: a trader who cannot see
/// what happens should not trade.
pub struct TextLog<W: Write> {
    out: W,
}

impl<W: Write> TextLog<W> {
    /// Lines to `out`.
    pub const fn new(out: W) -> Self {
        Self { out }
    }

    /// The writer back (a test's buffer).
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The line for `event`, if it gets one.
    fn line(event: &EngineEvent) -> Option<String> {
        let money = |m: &volta_core::Money| format!("{:.2}", m.to_f64());
        Some(match event {
            EngineEvent::OrderPlaced {
                order,
                position_id,
                purpose,
                reason,
            } => format!(
                "{} order   {:<7} {position_id} {:?} {} x{} limit {} — {reason}",
                order.created_at.format("%Y-%m-%d %H:%M"),
                purpose.as_str(),
                order.side,
                order.instrument,
                order.quantity,
                order
                    .limit_price
                    .as_ref()
                    .map_or("market".to_owned(), money),
            ),
            EngineEvent::Filled { fill, position_id } => format!(
                "{} fill    {position_id} x{} at {} (fees {})",
                fill.at.format("%Y-%m-%d %H:%M"),
                fill.quantity,
                money(&fill.price),
                money(&fill.fees)
            ),
            EngineEvent::OrderEnded { order_id, at, end } => format!(
                "{} {:<7} order {order_id}: {}",
                at.format("%Y-%m-%d %H:%M"),
                end.status(),
                end.why()
            ),
            EngineEvent::RiskRejected {
                at,
                strategy,
                underlying,
                reason,
            } => format!(
                "{} refused {strategy} on {underlying}: {reason}",
                at.format("%Y-%m-%d %H:%M")
            ),
            EngineEvent::Settled {
                at,
                kind,
                settlement,
                ..
            } => format!(
                "{} settled {:?} {} x{} at {}",
                at.format("%Y-%m-%d %H:%M"),
                kind,
                settlement.contract,
                settlement.quantity,
                settlement.settlement_price
            ),
            EngineEvent::KillSwitch {
                at,
                equity,
                peak,
                drawdown,
            } => format!(
                "{} KILL SWITCH: equity {} is {:.2} % under its peak {}; no new openings",
                at.format("%Y-%m-%d %H:%M"),
                money(equity),
                drawdown * 100.0,
                money(peak)
            ),
            EngineEvent::DataGap { at, what } => format!(
                "{} DATA GAP: {what}; check skipped",
                at.format("%Y-%m-%d %H:%M")
            ),
            EngineEvent::Halted { at, flatten } => format!(
                "{} HALTED by request: no new openings{}",
                at.format("%Y-%m-%d %H:%M"),
                if *flatten {
                    ", every position closing"
                } else {
                    ""
                }
            ),
            EngineEvent::Equity {
                point,
                open_positions,
            } => format!(
                "{} close   equity {} cash {}, {open_positions} open",
                point.at.format("%Y-%m-%d"),
                money(&point.equity),
                money(&point.cash)
            ),
            _ => return None,
        })
    }
}

impl<W: Write> std::fmt::Debug for TextLog<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextLog")
    }
}

impl<W: Write> Observer for TextLog<W> {
    fn on_event(&mut self, event: &EngineEvent) -> Result<()> {
        if let Some(line) = Self::line(event) {
            writeln!(self.out, "{line}").map_err(|e| EngineError::Observer {
                observer: "text log",
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }
}
