//! What the dashboard shows: a snapshot of the run, built from the engine's events
//! ([`MonitorState::apply`]) or read back from a journal ([`MonitorState::from_journal`]).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use volta_data::store::{JournalStore, Side, SqliteStore};
use volta_engine::engine::reject_key;
use volta_engine::metrics::{EquitySample, drawdown_series};
use volta_engine::{EngineEvent, PositionView};

use crate::error::{MonitorError, Result};

/// How many recent orders, fills, rejections and alerts the dashboard keeps.
pub const RECENT: usize = 50;

/// The link to the broker, as the dashboard and the metrics show it. The simulated broker is
/// always [`ConnectionState::Simulated`]; a broker adapter (Interactive Brokers) reports its
/// changes through [`crate::Monitor::set_connection`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// No broker connection is needed: the simulated broker.
    Simulated,
    /// A journal read back: nothing is connected.
    Replay,
    /// Connecting (or reconnecting) to the broker.
    Connecting,
    /// Connected to the broker.
    Connected,
    /// The connection is lost.
    Disconnected {
        /// Why, in words.
        reason: String,
    },
}

impl ConnectionState {
    /// Its name: `simulated`, `replay`, `connecting`, `connected`, `disconnected`.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Simulated => "simulated",
            Self::Replay => "replay",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Disconnected { .. } => "disconnected",
        }
    }

    /// Every state's name, for metrics that show one of them as 1.
    pub const NAMES: [&'static str; 5] = [
        "simulated",
        "replay",
        "connecting",
        "connected",
        "disconnected",
    ];

    /// Whether orders can reach a broker (simulated counts as up).
    #[must_use]
    pub const fn is_up(&self) -> bool {
        matches!(self, Self::Simulated | Self::Connected)
    }
}

/// One point of the equity curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EquityRow {
    /// The session.
    #[serde(serialize_with = "ser::date")]
    pub date: NaiveDate,
    /// Equity at its close, US dollars.
    pub equity: f64,
    /// Cash at its close, US dollars.
    pub cash: f64,
}

/// An open position, as the positions table shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionRow {
    /// The engine's id.
    pub id: String,
    /// The strategy that opened it.
    pub strategy: String,
    /// Its underlying.
    pub underlying: String,
    /// Its structure.
    pub structure: String,
    /// Combos held.
    pub quantity: u32,
    /// When it was opened.
    #[serde(serialize_with = "ser::time")]
    pub opened_at: NaiveDateTime,
    /// Entry price per share, US dollars (negative: a credit).
    pub entry_price: f64,
    /// P&L so far after fees, at the marks, US dollars.
    pub pnl: f64,
    /// Worst loss at expiry, US dollars.
    pub max_loss: f64,
    /// Dollar delta at entry.
    pub dollar_delta: f64,
    /// Vega at entry, US dollars per volatility point.
    pub vega_per_point: f64,
}

impl PositionRow {
    fn from_view(p: &PositionView) -> Self {
        Self {
            id: p.position_id.to_string(),
            strategy: p.strategy.clone(),
            underlying: p.underlying.to_string(),
            structure: p.structure.clone(),
            quantity: p.quantity,
            opened_at: p.opened_at,
            entry_price: p.entry_price,
            pnl: p.pnl,
            max_loss: p.max_loss.to_f64(),
            dollar_delta: p.greeks.dollar_delta,
            vega_per_point: p.greeks.vega_per_point,
        }
    }
}

/// The portfolio's greeks against the risk manager's bands.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GreeksRow {
    /// Σ dollar delta of the open positions (at entry).
    pub dollar_delta: f64,
    /// The band: ± this.
    pub dollar_delta_band: f64,
    /// Σ vega, US dollars per volatility point.
    pub vega_per_point: f64,
    /// The band: ± this.
    pub vega_band: f64,
}

/// An order, as the orders table shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    /// The journal's id.
    pub id: String,
    /// When it was placed.
    #[serde(serialize_with = "ser::time")]
    pub at: NaiveDateTime,
    /// `open`, `close` or `flatten` (empty when read from a journal).
    pub purpose: String,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// What it trades.
    pub instrument: String,
    /// Quantity.
    pub quantity: u64,
    /// Limit per share, US dollars (none for a market order).
    pub limit: Option<f64>,
    /// `submitted`, `filled`, `cancelled`, `rejected`.
    pub status: String,
    /// Why it was placed, or how it ended.
    pub reason: String,
}

/// A fill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FillRow {
    /// The order filled.
    pub order_id: String,
    /// When.
    #[serde(serialize_with = "ser::time")]
    pub at: NaiveDateTime,
    /// Quantity.
    pub quantity: u64,
    /// Net price per share, US dollars.
    pub price: f64,
    /// Fees, US dollars.
    pub fees: f64,
}

/// A risk refusal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectionRow {
    /// When.
    #[serde(serialize_with = "ser::time")]
    pub at: NaiveDateTime,
    /// The strategy refused.
    pub strategy: String,
    /// The underlying.
    pub underlying: String,
    /// The reason's key (`max_open_positions`, `daily_loss_limit`, …), as the metrics label it.
    pub key: String,
    /// The reason in words.
    pub reason: String,
}

/// An alert raised (whether or not a channel delivered it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    /// Exchange time of the event that raised it.
    #[serde(serialize_with = "ser::opt_time")]
    pub at: Option<NaiveDateTime>,
    /// Its kind (`drawdown`, `kill_switch`, …).
    pub kind: &'static str,
    /// `info`, `warning` or `critical`.
    pub severity: &'static str,
    /// The message.
    pub text: String,
}

/// The kill switch (or a person's halt), as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HaltRow {
    /// When the drawdown kill switch fired, if it did.
    #[serde(serialize_with = "ser::opt_time")]
    pub kill_switch_at: Option<NaiveDateTime>,
    /// Its description.
    pub kill_switch: Option<String>,
    /// New openings halted by a person.
    pub openings_halted: bool,
    /// Every position being closed on a person's request.
    pub flattening: bool,
    /// Why the broker adapter's circuit breaker stopped new orders, while it does.
    pub circuit_breaker: Option<String>,
}

/// The model filtering the adaptive strategy's openings, as the registry holds it: its
/// out-of-sample metrics overall and per market regime (models degrade differently by regime;
/// the dashboard shows where this one has been right).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRow {
    /// The registry id.
    pub id: String,
    /// `gbm`, `logistic`, …
    pub kind: String,
    /// The first decision date of its training data.
    #[serde(serialize_with = "ser::date")]
    pub train_from: NaiveDate,
    /// The last decision date of its training data.
    #[serde(serialize_with = "ser::date")]
    pub train_to: NaiveDate,
    /// Whether it is the registry's promoted model.
    pub promoted: bool,
    /// Openings it scores below this probability are not taken.
    pub min_score: f64,
    /// Out-of-sample metrics (`auc`, `log_loss`, `brier`, `samples`, …).
    pub metrics: BTreeMap<String, f64>,
    /// The same per regime (`high_vol`, `neutral`, …).
    pub regimes: BTreeMap<String, BTreeMap<String, f64>>,
}

impl ModelRow {
    /// The row of a registry record used with `min_score`.
    #[must_use]
    pub fn new(record: &volta_data::store::ModelRecord, min_score: f64) -> Self {
        Self {
            id: record.id.clone(),
            kind: record.kind.clone(),
            train_from: record.train_from,
            train_to: record.train_to,
            promoted: record.promoted,
            min_score,
            metrics: record.metrics.clone(),
            regimes: record.regime_metrics.clone(),
        }
    }
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorState {
    /// The run (journal id), if known.
    pub run_id: String,
    /// `sim-paper`, `backtest`, `ib-paper`, …
    pub mode: String,
    /// Exchange time of the last event.
    #[serde(serialize_with = "ser::opt_time")]
    pub as_of: Option<NaiveDateTime>,
    /// Equity now (the last mark), US dollars.
    pub equity: Option<f64>,
    /// Cash at the last close, US dollars.
    pub cash: Option<f64>,
    /// Equity at the previous session's close (the base of today's P&L).
    pub previous_close: Option<f64>,
    /// Today's P&L: equity now less the previous close, US dollars.
    pub daily_pnl: f64,
    /// The highest equity seen, US dollars.
    pub peak: Option<f64>,
    /// Drawdown below the peak now, a fraction.
    pub drawdown: f64,
    /// Equity at each close.
    pub equity_curve: Vec<EquityRow>,
    /// Open positions.
    pub positions: Vec<PositionRow>,
    /// The portfolio's greeks and the bands.
    pub greeks: GreeksRow,
    /// The regime at the last decision.
    pub regime: Option<String>,
    /// The model filtering openings, if the run uses one.
    pub model: Option<ModelRow>,
    /// The volatility index's previous close.
    pub vix: Option<f64>,
    /// Its 252-session rank.
    pub vix_rank: Option<f64>,
    /// Recent orders, newest first.
    pub orders: VecDeque<OrderRow>,
    /// Recent fills, newest first.
    pub fills: VecDeque<FillRow>,
    /// Recent risk refusals, newest first.
    pub rejections: VecDeque<RejectionRow>,
    /// Recent alerts, newest first.
    pub alerts: VecDeque<AlertRow>,
    /// The broker link.
    pub connection: ConnectionState,
    /// The kill switch and a person's halt.
    pub halt: HaltRow,
    /// Orders by their latest status, counted over the run.
    pub orders_by_state: BTreeMap<String, u64>,
    /// Fills over the run.
    pub fills_total: u64,
    /// Risk refusals by reason key, over the run.
    pub rejections_by_reason: BTreeMap<String, u64>,
    /// Errors by source, over the run.
    pub errors_by_source: BTreeMap<String, u64>,
    /// Sessions closed.
    pub sessions: u64,
    /// Whether the run has ended.
    pub finished: bool,
    /// Events applied so far (a page can tell a fresh snapshot from an old one).
    pub events: u64,
}

impl MonitorState {
    /// An empty state for run `run_id` in `mode`.
    #[must_use]
    pub fn new(
        run_id: impl Into<String>,
        mode: impl Into<String>,
        connection: ConnectionState,
    ) -> Self {
        Self {
            run_id: run_id.into(),
            mode: mode.into(),
            as_of: None,
            equity: None,
            cash: None,
            previous_close: None,
            daily_pnl: 0.0,
            peak: None,
            drawdown: 0.0,
            equity_curve: Vec::new(),
            positions: Vec::new(),
            greeks: GreeksRow::default(),
            regime: None,
            model: None,
            vix: None,
            vix_rank: None,
            orders: VecDeque::new(),
            fills: VecDeque::new(),
            rejections: VecDeque::new(),
            alerts: VecDeque::new(),
            connection,
            halt: HaltRow::default(),
            orders_by_state: BTreeMap::new(),
            fills_total: 0,
            rejections_by_reason: BTreeMap::new(),
            errors_by_source: BTreeMap::new(),
            sessions: 0,
            finished: false,
            events: 0,
        }
    }

    /// The equity curve as the engine's samples (for its chart functions).
    #[must_use]
    pub fn equity_samples(&self) -> Vec<EquitySample> {
        self.equity_curve
            .iter()
            .map(|r| EquitySample {
                date: r.date,
                cash: r.cash,
                equity: r.equity,
                open_positions: 0,
            })
            .collect()
    }

    /// Equity marked now: the peak, the drawdown and today's P&L follow it.
    fn mark(&mut self, equity: f64) {
        self.equity = Some(equity);
        let peak = self.peak.map_or(equity, |p| p.max(equity));
        self.peak = Some(peak);
        self.drawdown = if peak > 0.0 {
            ((peak - equity) / peak).max(0.0)
        } else {
            0.0
        };
        self.daily_pnl = self.previous_close.map_or(0.0, |c| equity - c);
    }

    /// Takes one event of the engine.
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per event, in the enum's order"
    )]
    pub fn apply(&mut self, event: &EngineEvent) {
        self.events += 1;
        match event {
            EngineEvent::SessionStarted { at, .. } => {
                self.as_of = Some(*at);
                // The first session's base is the starting equity, known at the first mark.
                self.previous_close = self.equity_curve.last().map(|r| r.equity);
            }
            EngineEvent::Decision {
                at,
                regime,
                vix,
                vix_rank,
                equity,
            } => {
                self.as_of = Some(*at);
                self.regime = regime.map(|r| r.to_string());
                self.vix = *vix;
                self.vix_rank = *vix_rank;
                let equity = equity.to_f64();
                if self.previous_close.is_none() {
                    self.previous_close = Some(equity);
                }
                self.mark(equity);
            }
            EngineEvent::RiskRejected {
                at,
                strategy,
                underlying,
                reason,
            } => {
                let key = reject_key(reason);
                *self.rejections_by_reason.entry(key.clone()).or_insert(0) += 1;
                push_recent(
                    &mut self.rejections,
                    RejectionRow {
                        at: *at,
                        strategy: strategy.clone(),
                        underlying: underlying.to_string(),
                        key,
                        reason: reason.to_string(),
                    },
                );
            }
            EngineEvent::OrderPlaced {
                order,
                purpose,
                reason,
                ..
            } => {
                self.as_of = Some(order.created_at);
                *self
                    .orders_by_state
                    .entry("submitted".to_owned())
                    .or_insert(0) += 1;
                push_recent(
                    &mut self.orders,
                    OrderRow {
                        id: order.order_id.clone(),
                        at: order.created_at,
                        purpose: purpose.as_str().to_owned(),
                        side: side_name(order.side),
                        instrument: order.instrument.clone(),
                        quantity: order.quantity,
                        limit: order.limit_price.map(volta_core::Money::to_f64),
                        status: order.status.clone(),
                        reason: reason.clone(),
                    },
                );
            }
            EngineEvent::Filled { fill, .. } => {
                self.fills_total += 1;
                self.set_status(&fill.order_id, "filled", None);
                push_recent(
                    &mut self.fills,
                    FillRow {
                        order_id: fill.order_id.clone(),
                        at: fill.at,
                        quantity: fill.quantity,
                        price: fill.price.to_f64(),
                        fees: fill.fees.to_f64(),
                    },
                );
            }
            EngineEvent::OrderEnded { order_id, end, .. } => {
                if matches!(end, volta_engine::events::OrderEnd::Rejected(_)) {
                    *self
                        .errors_by_source
                        .entry("broker".to_owned())
                        .or_insert(0) += 1;
                }
                self.set_status(order_id, end.status(), Some(end.why()));
            }
            EngineEvent::KillSwitch {
                at,
                equity,
                peak,
                drawdown,
            } => {
                self.halt.kill_switch_at = Some(*at);
                self.halt.kill_switch = Some(format!(
                    "equity {:.2} is {:.2} % under its peak {:.2}: every position flattened, no \
                     new orders",
                    equity.to_f64(),
                    drawdown * 100.0,
                    peak.to_f64()
                ));
            }
            EngineEvent::Halted { flatten, .. } => {
                self.halt.openings_halted = true;
                self.halt.flattening |= *flatten;
            }
            EngineEvent::Book {
                at,
                positions,
                dollar_delta_band,
                vega_band,
            } => {
                self.as_of = Some(*at);
                self.positions = positions.iter().map(PositionRow::from_view).collect();
                self.greeks = GreeksRow {
                    dollar_delta: positions.iter().map(|p| p.greeks.dollar_delta).sum(),
                    dollar_delta_band: *dollar_delta_band,
                    vega_per_point: positions.iter().map(|p| p.greeks.vega_per_point).sum(),
                    vega_band: *vega_band,
                };
            }
            EngineEvent::Equity { point, .. } => {
                self.as_of = Some(point.at);
                self.run_id.clone_from(&point.run_id);
                let equity = point.equity.to_f64();
                if self.previous_close.is_none() {
                    self.previous_close = Some(equity);
                }
                self.mark(equity);
                self.cash = Some(point.cash.to_f64());
                self.equity_curve.push(EquityRow {
                    date: point.at.date(),
                    equity,
                    cash: point.cash.to_f64(),
                });
            }
            EngineEvent::SessionClosed { at, .. } => {
                self.as_of = Some(*at);
                self.sessions += 1;
            }
            EngineEvent::Signal(_)
            | EngineEvent::DataGap { .. }
            | EngineEvent::Settled { .. }
            | EngineEvent::PositionChanged(_)
            | EngineEvent::DecisionDone { .. } => {}
        }
    }

    /// Counts an error from `source` (a broker adapter, an alert channel, the engine's end).
    pub fn record_error(&mut self, source: &str) {
        *self.errors_by_source.entry(source.to_owned()).or_insert(0) += 1;
    }

    /// Adds an alert to the recent list. Past [`RECENT`], the oldest `info` alert goes first
    /// (a daily summary never pushes out a kill switch).
    pub fn push_alert(&mut self, alert: AlertRow) {
        self.alerts.push_front(alert);
        if self.alerts.len() > RECENT {
            match self.alerts.iter().rposition(|a| a.severity == "info") {
                Some(i) => {
                    self.alerts.remove(i);
                }
                None => {
                    self.alerts.pop_back();
                }
            }
        }
    }

    fn set_status(&mut self, order_id: &str, status: &str, why: Option<&str>) {
        if let Some(row) = self.orders.iter_mut().find(|o| o.id == order_id) {
            status.clone_into(&mut row.status);
            if let Some(why) = why {
                row.reason = format!("{}; {status}: {why}", row.reason);
            }
        }
        if let Some(n) = self.orders_by_state.get_mut("submitted") {
            *n = n.saturating_sub(1);
        }
        *self.orders_by_state.entry(status.to_owned()).or_insert(0) += 1;
    }

    /// The state of run `run` (the latest run when `None`) of the journal at `path`, read back:
    /// its equity curve, its orders (with their final status), fills and open positions (the
    /// journal keeps no greeks or risk refusals: those stay empty).
    ///
    /// # Errors
    /// [`MonitorError::NoJournal`] for no file at `path`, [`MonitorError::Data`] for a journal
    /// that cannot be opened or read,
    /// [`MonitorError::NoSuchRun`] for a run it does not hold.
    pub fn from_journal(path: &Path, run: Option<&str>) -> Result<Self> {
        if !path.is_file() {
            return Err(MonitorError::NoJournal(path.display().to_string()));
        }
        let store = SqliteStore::open(path)?;
        let runs = store.runs()?;
        let found = match run {
            Some(id) => runs.iter().find(|r| r.run_id == id),
            None => runs.iter().max_by_key(|r| r.started_at),
        };
        let Some(record) = found else {
            return Err(MonitorError::NoSuchRun {
                journal: path.display().to_string(),
                run: run.unwrap_or("latest").to_owned(),
                known: if runs.is_empty() {
                    "none".to_owned()
                } else {
                    runs.iter()
                        .map(|r| r.run_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            });
        };
        let mut state = Self::new(&record.run_id, &record.mode, ConnectionState::Replay);
        state.finished = true;
        for point in store.equity_curve(&record.run_id)? {
            let equity = point.equity.to_f64();
            state.previous_close = state.equity_curve.last().map(|r| r.equity);
            state.mark(equity);
            state.cash = Some(point.cash.to_f64());
            state.as_of = Some(point.at);
            state.equity_curve.push(EquityRow {
                date: point.at.date(),
                equity,
                cash: point.cash.to_f64(),
            });
        }
        state.sessions = state.equity_curve.len() as u64;
        let orders = store.orders(&record.run_id)?;
        for order in &orders {
            *state
                .orders_by_state
                .entry(order.status.clone())
                .or_insert(0) += 1;
        }
        for order in orders.iter().rev().take(RECENT) {
            state.orders.push_back(OrderRow {
                id: order.order_id.clone(),
                at: order.created_at,
                purpose: String::new(),
                side: side_name(order.side),
                instrument: order.instrument.clone(),
                quantity: order.quantity,
                limit: order.limit_price.map(volta_core::Money::to_f64),
                status: order.status.clone(),
                reason: String::new(),
            });
        }
        let fills = store.fills(&record.run_id)?;
        state.fills_total = fills.len() as u64;
        for fill in fills.iter().rev().take(RECENT) {
            state.fills.push_back(FillRow {
                order_id: fill.order_id.clone(),
                at: fill.at,
                quantity: fill.quantity,
                price: fill.price.to_f64(),
                fees: fill.fees.to_f64(),
            });
        }
        state.positions = store
            .positions(&record.run_id)?
            .into_iter()
            .filter(|p| p.closed_at.is_none())
            .map(|p| PositionRow {
                id: p
                    .position_id
                    .rsplit('/')
                    .next()
                    .unwrap_or(&p.position_id)
                    .to_owned(),
                strategy: String::new(),
                underlying: p
                    .instrument
                    .split_whitespace()
                    .find(|w| w.chars().all(|c| c.is_ascii_uppercase()))
                    .unwrap_or_default()
                    .to_owned(),
                structure: p.instrument,
                quantity: u32::try_from(p.quantity.unsigned_abs()).unwrap_or(u32::MAX),
                opened_at: p.opened_at,
                entry_price: p.average_price.to_f64(),
                pnl: p.realized_pnl.to_f64(),
                max_loss: 0.0,
                dollar_delta: 0.0,
                vega_per_point: 0.0,
            })
            .collect();
        Ok(state)
    }

    /// The drawdown at each close, fractions (for checks against the chart).
    #[must_use]
    pub fn drawdowns(&self) -> Vec<f64> {
        drawdown_series(&self.equity_samples())
    }
}

/// Times as ISO 8601 text (`2023-01-03T15:45:00`), dates as `2023-01-03` (chrono's serde
/// feature is not enabled in the workspace).
mod ser {
    use chrono::{NaiveDate, NaiveDateTime};
    use serde::Serializer;

    const TIME: &str = "%Y-%m-%dT%H:%M:%S";

    pub(super) fn time<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&t.format(TIME))
    }

    #[expect(clippy::ref_option, reason = "serde's serialize_with passes &Option")]
    pub(super) fn opt_time<S: Serializer>(
        t: &Option<NaiveDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(&t.format(TIME)),
            None => s.serialize_none(),
        }
    }

    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's serialize_with passes a reference"
    )]
    pub(super) fn date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }
}

const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn push_recent<T>(list: &mut VecDeque<T>, item: T) {
    list.push_front(item);
    list.truncate(RECENT);
}
