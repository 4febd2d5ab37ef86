//! The run's journal: the run, its orders (as their status changes), fills, positions, signals
//! and equity curve. Orders, fills and positions are written as soon as a decision's orders
//! are placed and filled, and again at the close (cancellations, settlements); signals and the
//! equity point at the close.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use volta_data::store::{
    EquityPoint, FillRecord, JournalStore, OrderRecord, PositionRecord, RunRecord, SignalRecord,
};

use crate::error::Result;

/// Buffers records and writes them in batches (one transaction per table), so a crash never
/// leaves half a batch behind.
#[derive(Debug)]
pub struct Journal<S: JournalStore> {
    store: S,
    run_id: String,
    orders: Vec<OrderRecord>,
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

    /// Records a new order; returns its index for [`Journal::set_status`].
    pub fn order(&mut self, record: OrderRecord) -> usize {
        self.orders.push(record);
        let i = self.orders.len() - 1;
        self.dirty_orders.insert(i);
        i
    }

    /// Changes an order's status.
    pub fn set_status(&mut self, index: usize, status: &str) {
        if let Some(o) = self.orders.get_mut(index) {
            status.clone_into(&mut o.status);
            self.dirty_orders.insert(index);
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
