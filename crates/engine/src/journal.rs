//! The run's journal: the run, its orders (as their status changes), fills, positions, signals
//! and equity curve. Orders, fills and positions are written as soon as a decision's orders
//! are placed and filled, and again at the close (cancellations, settlements); signals and the
//! equity point at the close.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use volta_data::store::{
    EquityPoint, FillRecord, JournalStore, OrderRecord, PositionRecord, RunRecord, SignalRecord,
};

use crate::error::Result;
use crate::events::{EngineEvent, Observer};

/// Buffers records and writes them in batches (one transaction per table), so a crash never
/// leaves half a batch behind.
#[derive(Debug)]
pub struct Journal<S: JournalStore> {
    store: S,
    run_id: String,
    orders: Vec<OrderRecord>,
    order_index: HashMap<String, usize>,
    dirty_orders: BTreeSet<usize>,
    fills: Vec<FillRecord>,
    positions: Vec<PositionRecord>,
    signals: Vec<SignalRecord>,
    equity: Vec<EquityPoint>,
}

impl<S: JournalStore> Journal<S> {
    /// Opens the journal of `run` in `store` (the run row is written now).
    ///
    /// # Errors
    /// The store's, if it refuses the run.
    pub fn start(mut store: S, run: &RunRecord) -> Result<Self> {
        store.upsert_run(run)?;
        Ok(Self {
            store,
            run_id: run.run_id.clone(),
            orders: Vec::new(),
            order_index: HashMap::new(),
            dirty_orders: BTreeSet::new(),
            fills: Vec::new(),
            positions: Vec::new(),
            signals: Vec::new(),
            equity: Vec::new(),
        })
    }

    /// The run's id.
    #[must_use]
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The journal's id of a broker order: run id and the broker's number.
    #[must_use]
    pub fn order_id(&self, broker_id: u64) -> String {
        let mut s = String::with_capacity(self.run_id.len() + 8);
        let _ = write!(s, "{}/o{broker_id}", self.run_id);
        s
    }

    /// Records a new order.
    pub fn order(&mut self, record: OrderRecord) {
        self.order_index
            .insert(record.order_id.clone(), self.orders.len());
        self.dirty_orders.insert(self.orders.len());
        self.orders.push(record);
    }

    /// Changes the status of the order with the journal's id `order_id`.
    pub fn set_status(&mut self, order_id: &str, status: &str) {
        if let Some(&i) = self.order_index.get(order_id)
            && let Some(o) = self.orders.get_mut(i)
        {
            status.clone_into(&mut o.status);
            self.dirty_orders.insert(i);
        }
    }

    /// Records a fill.
    pub fn fill(&mut self, record: FillRecord) {
        self.fills.push(record);
    }

    /// Records a position's state.
    pub fn position(&mut self, record: PositionRecord) {
        self.positions.push(record);
    }

    /// Records a signal.
    pub fn signal(&mut self, record: SignalRecord) {
        self.signals.push(record);
    }

    /// Records a point of the equity curve.
    pub fn equity(&mut self, point: EquityPoint) {
        self.equity.push(point);
    }

    /// Orders recorded so far.
    #[must_use]
    pub fn orders(&self) -> &[OrderRecord] {
        &self.orders
    }

    /// Writes the orders, fills and positions buffered so far, in that order (fills name
    /// orders). The engine calls it right after each decision's orders are placed and filled,
    /// so a crash later in the session loses none of them.
    ///
    /// # Errors
    /// The store's; the buffers are kept then, so nothing is lost from memory.
    pub fn flush_trading(&mut self) -> Result<()> {
        if !self.dirty_orders.is_empty() {
            let batch: Vec<OrderRecord> = self
                .dirty_orders
                .iter()
                .map(|&i| self.orders[i].clone())
                .collect();
            self.store.upsert_orders(&batch)?;
            self.dirty_orders.clear();
        }
        if !self.fills.is_empty() {
            self.store.record_fills(&self.fills)?;
            self.fills.clear();
        }
        if !self.positions.is_empty() {
            self.store.upsert_positions(&self.positions)?;
            self.positions.clear();
        }
        Ok(())
    }

    /// Writes everything buffered: the trading records, then the signals and the equity curve.
    ///
    /// # Errors
    /// As [`Journal::flush_trading`].
    pub fn flush(&mut self) -> Result<()> {
        self.flush_trading()?;
        if !self.signals.is_empty() {
            self.store.upsert_signals(&self.signals)?;
            self.signals.clear();
        }
        if !self.equity.is_empty() {
            self.store.upsert_equity(&self.equity)?;
            self.equity.clear();
        }
        Ok(())
    }

    /// Flushes and hands the store back.
    ///
    /// # Errors
    /// As [`Journal::flush`].
    pub fn finish(mut self) -> Result<S> {
        self.flush()?;
        Ok(self.store)
    }
}

/// The journal is the first observer of the engine's events: what it writes is what they say.
/// Records are buffered and written after each decision ([`EngineEvent::DecisionDone`]) and
/// at the close ([`EngineEvent::SessionClosed`]).
impl<S: JournalStore> Observer for Journal<S> {
    fn on_event(&mut self, event: &EngineEvent) -> Result<()> {
        match event {
            EngineEvent::OrderPlaced { order, .. } => self.order(order.clone()),
            EngineEvent::Filled { fill, .. } => {
                self.set_status(&fill.order_id, "filled");
                self.fill(fill.clone());
            }
            EngineEvent::OrderEnded { order_id, end, .. } => {
                self.set_status(order_id, end.status());
            }
            EngineEvent::PositionChanged(record) => self.position(record.clone()),
            EngineEvent::Signal(record) => self.signal(record.clone()),
            EngineEvent::Equity { point, .. } => self.equity(point.clone()),
            EngineEvent::DecisionDone { .. } => self.flush_trading()?,
            EngineEvent::SessionClosed { .. } => self.flush()?,
            EngineEvent::SessionStarted { .. }
            | EngineEvent::Decision { .. }
            | EngineEvent::RiskRejected { .. }
            | EngineEvent::Settled { .. }
            | EngineEvent::KillSwitch { .. }
            | EngineEvent::Halted { .. }
            | EngineEvent::DataGap { .. }
            | EngineEvent::Book { .. } => {}
        }
        Ok(())
    }
}
