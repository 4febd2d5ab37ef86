//! # volta-monitor
//!
//! Watching Volta run: a web dashboard, Prometheus metrics and alerts, all fed by the engine's
//! event stream ([`volta_engine::events`]).
//!
//! - [`Monitor`] holds what the dashboard shows ([`MonitorState`]), the metrics ([`Metrics`])
//!   and the alert channels ([`alerts`]); [`Monitor::observer`] is the engine observer that
//!   keeps them up to date, and [`Monitor::halt`] is a person's halt (through the run's
//!   [`StopSignal`]).
//! - [`serve`] runs the dashboard's HTTP server on its own thread: `/` (the page, which polls
//!   `/api/state` and redraws its SVG charts every 2 s), `/metrics`, `POST /halt`.
//!   It binds 127.0.0.1 by default; any other address needs a token ([`DashboardConfig`]).
//!
//! It is not the engine (it only reads its events) and not a broker adapter (which reports
//! its link through [`Monitor::set_connection`] and its circuit breaker through
//! [`Monitor::circuit_breaker`]).
//!
//! ```
//! use std::sync::Arc;
//! use volta_engine::{Backtest, BacktestConfig, DataChoice, StopSignal};
//! use volta_monitor::{
//!     AlertConfig, ConnectionState, DashboardConfig, ManualClock, Monitor, MonitorState, serve,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let stop = StopSignal::new();
//! let monitor = Monitor::new(
//!     MonitorState::new("", "backtest", ConnectionState::Simulated),
//!     stop.clone(),
//!     Arc::new(ManualClock::default()),
//!     &AlertConfig::default(),
//!     Vec::new(),
//! )?;
//! let server = serve(&DashboardConfig::local(0), monitor.clone())?;
//! let backtest = Backtest {
//!     config: BacktestConfig::default(),
//!     config_text: None,
//!     start: chrono::NaiveDate::from_ymd_opt(2023, 1, 3).ok_or("date")?,
//!     end: chrono::NaiveDate::from_ymd_opt(2023, 1, 31).ok_or("date")?,
//!     data: DataChoice::Synthetic,
//!     journal: dir.path().join("journal.sqlite"),
//! };
//! let result = backtest.run_with_clock(
//!     "backtest",
//!     volta_engine::SimulatedClock::new,
//!     &mut |_, _| {},
//!     vec![Box::new(monitor.observer())],
//!     &stop,
//! )?;
//! // The dashboard shows the run's final equity, as the backtest reports it.
//! let shown = monitor.snapshot().equity.ok_or("no equity")?;
//! assert!((shown - result.summary.metrics.ending_equity).abs() < 1e-6);
//! assert!(monitor.metrics_text().contains("volta_equity_dollars"));
//! println!("dashboard was at http://{}", server.addr());
//! server.shutdown();
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod alerts;
mod error;
pub mod live;
pub mod metrics;
pub mod mlflow;
mod server;
pub mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Deserialize;
use volta_engine::{EngineEvent, Observer, StopSignal};

pub use alerts::{AlertConfig, Alerter, Channel};
pub use error::{MonitorError, Result};
pub use metrics::Metrics;
pub use server::{DashboardHandle, POLL_MS, serve};
pub use state::{ConnectionState, ModelRow, MonitorState};

use crate::alerts::{Alert, Severity};
use crate::state::AlertRow;

/// Monotonic wall time, injected (library crates read no clock): the alerts' deduplication and
/// rate limit, the data's staleness and the decision latency are measured with it.
pub trait WallClock: Send + Sync {
    /// Time since an arbitrary, fixed origin; never goes back.
    fn elapsed(&self) -> Duration;
}

/// A clock that moves only when told (tests, and runs where wall time does not matter).
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<Duration>);

impl ManualClock {
    /// Moves the clock `by` forward.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl WallClock for ManualClock {
    fn elapsed(&self) -> Duration {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The environment variable holding the dashboard's token.
pub const TOKEN_VAR: &str = "VOLTA_DASHBOARD_TOKEN";

/// The dashboard's port by default (on 127.0.0.1).
pub const DEFAULT_PORT: u16 = 8050;

/// Where the dashboard listens and the token that guards it.
#[derive(Clone, PartialEq, Eq)]
pub struct DashboardConfig {
    /// The address to bind.
    pub bind: SocketAddr,
    /// The token: required by `POST /halt` always, and by every data route when `bind` is
    /// not a loopback address. Without one, the halt control is off.
    pub token: Option<String>,
}

impl std::fmt::Debug for DashboardConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardConfig")
            .field("bind", &self.bind)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl DashboardConfig {
    /// 127.0.0.1:`port`, no token.
    #[must_use]
    pub const fn local(port: u16) -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            token: None,
        }
    }

    /// `bind`, with the token from [`TOKEN_VAR`] if set.
    ///
    /// # Errors
    /// As [`DashboardConfig::validate`].
    pub fn from_env(bind: SocketAddr) -> Result<Self> {
        let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
        let config = Self { bind, token };
        config.validate()?;
        Ok(config)
    }

    /// Refuses an address beyond this machine without a token, and a token under 16
    /// characters.
    ///
    /// # Errors
    /// [`MonitorError::TokenRequired`], [`MonitorError::WeakToken`].
    pub fn validate(&self) -> Result<()> {
        if let Some(token) = &self.token
            && token.chars().count() < 16
        {
            return Err(MonitorError::WeakToken {
                var: TOKEN_VAR,
                len: token.chars().count(),
            });
        }
        if !self.is_local() && self.token.is_none() {
            return Err(MonitorError::TokenRequired {
                addr: self.bind,
                var: TOKEN_VAR,
            });
        }
        Ok(())
    }

    /// Whether only this machine can reach it.
    #[must_use]
    pub fn is_local(&self) -> bool {
        self.bind.ip().is_loopback()
    }

    /// What a person should know at start: where it is and what guards it (never the token).
    #[must_use]
    pub fn describe(&self, addr: SocketAddr) -> String {
        let guard = match (self.is_local(), self.token.is_some()) {
            (true, true) => format!("local only, the halt control takes the token in {TOKEN_VAR}"),
            (true, false) => format!("local only, halt control off: set {TOKEN_VAR} to enable it"),
            (false, _) => format!(
                "REACHABLE FROM OTHER MACHINES: every data route and the halt control need the \
                 token in {TOKEN_VAR} (header X-Volta-Token or Authorization: Bearer)"
            ),
        };
        format!("dashboard: http://{addr}/ — {guard}; metrics at http://{addr}/metrics")
    }
}

/// The monitor's settings file (TOML): an `[alerts]` table ([`AlertConfig`]); every field is
/// optional.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Alerts.
    pub alerts: AlertConfig,
}

impl MonitorConfig {
    /// Parses and checks `text`; `source_name` names it in errors.
    ///
    /// # Errors
    /// [`MonitorError::ConfigParse`], or [`MonitorError::Config`] for a bad value.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| MonitorError::ConfigParse {
            source_name: source_name.to_owned(),
            message: e.to_string(),
        })?;
        config.alerts.validate(source_name)?;
        Ok(config)
    }
}

struct Shared {
    state: Arc<RwLock<MonitorState>>,
    metrics: Metrics,
    alerter: Mutex<Option<Alerter>>,
    alert_config: AlertConfig,
    clock: Arc<dyn WallClock>,
    control: StopSignal,
    token_set: Mutex<bool>,
    last_data: Mutex<Option<Duration>>,
}

/// What the dashboard, the metrics and the alerts share: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Monitor(Arc<Shared>);

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Monitor")
    }
}

impl Monitor {
    /// A monitor starting from `state`, halting through `control`, timing with `clock`,
    /// alerting on `channels` under `alerts`' rules.
    ///
    /// # Errors
    /// [`MonitorError::Metrics`], or [`MonitorError::Server`] if a channel's thread cannot
    /// start.
    pub fn new(
        state: MonitorState,
        control: StopSignal,
        clock: Arc<dyn WallClock>,
        alerts: &AlertConfig,
        channels: Vec<Box<dyn Channel>>,
    ) -> Result<Self> {
        let metrics = Metrics::new()?;
        metrics.connection(&state.connection);
        let state = Arc::new(RwLock::new(state));
        let alerter = if channels.is_empty() {
            None
        } else {
            let hook_metrics = metrics.clone();
            let hook_state = Arc::clone(&state);
            let hook: alerts::FailureHook = Arc::new(move |channel, reason| {
                hook_metrics.alert_failed(channel);
                let mut state = hook_state.write().unwrap_or_else(PoisonError::into_inner);
                state.record_error(&format!("alert_{channel}"));
                let at = state.as_of;
                state.push_alert(AlertRow {
                    at,
                    kind: "error",
                    severity: Severity::Warning.as_str(),
                    text: format!("alert channel {channel} failed: {reason}"),
                });
            });
            Some(Alerter::new(alerts, channels, Arc::clone(&clock), &hook)?)
        };
        Ok(Self(Arc::new(Shared {
            state,
            metrics,
            alerter: Mutex::new(alerter),
            alert_config: alerts.clone(),
            clock,
            control,
            token_set: Mutex::new(false),
            last_data: Mutex::new(None),
        })))
    }

    /// The engine observer that keeps this monitor up to date. It never fails the run.
    #[must_use]
    pub fn observer(&self) -> MonitorObserver {
        MonitorObserver {
            monitor: self.clone(),
            decision_started: None,
            armed: vec![true; self.0.alert_config.drawdown_thresholds.len()],
            today: DayCounts::default(),
        }
    }

    /// A copy of what the dashboard shows now.
    #[must_use]
    pub fn snapshot(&self) -> MonitorState {
        self.read().clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, MonitorState> {
        self.0.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, MonitorState> {
        self.0.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The model filtering openings is now `model` (at the start, and after a retraining
    /// promoted another): the dashboard shows it with its metrics per regime. A change of
    /// model after the first raises an info alert.
    pub fn set_model(&self, model: ModelRow) {
        let (id, kind, train_to) = (model.id.clone(), model.kind.clone(), model.train_to);
        let (previous, at) = {
            let mut state = self.write();
            let previous = state.model.replace(model).map(|m| m.id);
            (previous, state.as_of)
        };
        if let Some(previous) = previous.filter(|p| *p != id) {
            self.raise(Alert {
                kind: "model",
                severity: Severity::Info,
                key: format!("model:{id}"),
                at,
                text: format!(
                    "the model in use is now {id} ({kind}, trained to {train_to}), replacing \
                     {previous}"
                ),
            });
        }
    }

    /// The broker link changed (a broker adapter calls this); a disconnect raises an alert.
    pub fn set_connection(&self, connection: ConnectionState) {
        self.0.metrics.connection(&connection);
        let alert = match &connection {
            ConnectionState::Disconnected { reason } => Some(Alert {
                kind: "disconnect",
                severity: Severity::Warning,
                key: format!("disconnect:{reason}"),
                at: self.read().as_of,
                text: format!("the broker connection is lost: {reason}"),
            }),
            _ => None,
        };
        self.write().connection = connection;
        if let Some(alert) = alert {
            self.raise(alert);
        }
    }

    /// The broker adapter's circuit breaker tripped (`Some(reason)`: no new orders until a
    /// person resets it) or was reset (`None`). A trip raises a critical alert.
    pub fn circuit_breaker(&self, tripped: Option<&str>) {
        self.0.metrics.circuit_breaker(tripped.is_some());
        let at = {
            let mut state = self.write();
            state.halt.circuit_breaker = tripped.map(str::to_owned);
            state.as_of
        };
        if let Some(reason) = tripped {
            self.raise(Alert {
                kind: "circuit_breaker",
                severity: Severity::Critical,
                key: format!("circuit_breaker:{reason}"),
                at,
                text: format!("the broker's circuit breaker stopped new orders: {reason}"),
            });
        }
    }

    /// An error from `source` (`engine`, `broker`, …): counted, shown and alerted.
    pub fn record_error(&self, source: &str, message: &str) {
        self.0.metrics.error(source);
        let at = {
            let mut state = self.write();
            state.record_error(source);
            state.as_of
        };
        self.raise(Alert {
            kind: "error",
            severity: Severity::Warning,
            key: format!("error:{source}:{message}"),
            at,
            text: format!("{source}: {message}"),
        });
    }

    /// A person's halt: no new openings from the next decision on; with `flatten`, every
    /// position is closed too. Raises a critical alert.
    pub fn halt(&self, flatten: bool) {
        if flatten {
            self.0.control.flatten();
        } else {
            self.0.control.halt_openings();
        }
        let at = {
            let mut state = self.write();
            state.halt.openings_halted = true;
            state.halt.flattening |= flatten;
            state.as_of
        };
        self.raise(Alert {
            kind: "halt",
            severity: Severity::Critical,
            key: format!("halt:{flatten}"),
            at,
            text: if flatten {
                "halt requested from the dashboard: no new openings, every position closing at \
                 the next decision"
                    .to_owned()
            } else {
                "halt requested from the dashboard: no new openings from the next decision"
                    .to_owned()
            },
        });
    }

    /// Whether a person's halt holds.
    #[must_use]
    pub fn halted(&self) -> bool {
        self.0.control.openings_halted()
    }

    /// Raises `alert`: shown on the dashboard, counted, and queued to the channels unless it
    /// is a duplicate or over the rate limit.
    pub fn raise(&self, alert: Alert) {
        self.0.metrics.alert(alert.kind);
        let dropped = self
            .0
            .alerter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|a| a.raise(&alert));
        if let Some(Err(why)) = dropped {
            self.0.metrics.alert_suppressed(why.as_str());
        }
        self.write().push_alert(AlertRow {
            at: alert.at,
            kind: alert.kind,
            severity: alert.severity.as_str(),
            text: alert.text,
        });
    }

    /// Seconds since the last market event (none before the first, or when reading a
    /// journal).
    #[must_use]
    pub fn staleness_seconds(&self) -> Option<f64> {
        let last = *self
            .0
            .last_data
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last.map(|t| self.0.clock.elapsed().saturating_sub(t).as_secs_f64())
    }

    /// `/metrics`, in Prometheus' text format.
    #[must_use]
    pub fn metrics_text(&self) -> String {
        self.0
            .metrics
            .render(self.staleness_seconds(), self.halted())
    }

    /// The run ended: the page says so, queued alerts are delivered (this waits for them).
    pub fn finish(&self) {
        self.write().finished = true;
        let alerter = self
            .0
            .alerter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(alerter) = alerter {
            alerter.shutdown();
        }
    }

    /// Replaces the whole state (a journal read again by `volta-monitor`).
    pub fn replace_state(&self, state: MonitorState) {
        self.0.metrics.connection(&state.connection);
        *self.write() = state;
    }

    fn set_token_configured(&self, set: bool) {
        *self
            .0
            .token_set
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = set;
    }

    fn token_configured(&self) -> bool {
        *self
            .0
            .token_set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// What today (the session under way) did, for the daily summary.
#[derive(Debug, Default, Clone, Copy)]
struct DayCounts {
    orders: u64,
    fills: u64,
    rejections: u64,
}

/// The engine observer of a [`Monitor`] ([`Monitor::observer`]).
pub struct MonitorObserver {
    monitor: Monitor,
    decision_started: Option<Duration>,
    armed: Vec<bool>,
    today: DayCounts,
}

impl std::fmt::Debug for MonitorObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MonitorObserver")
    }
}

impl MonitorObserver {
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per event that alerts, then the drawdown thresholds"
    )]
    fn alerts_for(&mut self, event: &EngineEvent, state: &MonitorState) -> Vec<Alert> {
        let config = &self.monitor.0.alert_config;
        let mut out = Vec::new();
        let mut alert = |kind, severity, key: String, at, text: String| {
            out.push(Alert {
                kind,
                severity,
                key,
                at,
                text,
            });
        };
        match event {
            EngineEvent::SessionStarted { .. } => self.today = DayCounts::default(),
            EngineEvent::OrderPlaced { .. } => self.today.orders += 1,
            EngineEvent::KillSwitch {
                at,
                drawdown,
                equity,
                peak,
            } => alert(
                "kill_switch",
                Severity::Critical,
                "kill_switch".to_owned(),
                Some(*at),
                format!(
                    "the drawdown kill switch fired at {at}: equity {:.2} is {:.2} % under its \
                     peak {:.2}; every position is being flattened and nothing new opens",
                    equity.to_f64(),
                    drawdown * 100.0,
                    peak.to_f64()
                ),
            ),
            EngineEvent::RiskRejected { at, reason, .. } => {
                self.today.rejections += 1;
                if let volta_risk::RejectReason::DailyLossLimit { loss } = reason {
                    alert(
                        "circuit_breaker",
                        Severity::Warning,
                        format!("circuit_breaker:{}", at.date()),
                        Some(*at),
                        format!(
                            "the daily loss limit stopped new trades on {} ({:.2} % lost today)",
                            at.date(),
                            loss * 100.0
                        ),
                    );
                }
            }
            EngineEvent::OrderEnded {
                order_id,
                at,
                end: volta_engine::events::OrderEnd::Rejected(reason),
            } => alert(
                "error",
                Severity::Warning,
                format!("broker_rejected:{reason}"),
                Some(*at),
                format!("the broker rejected order {order_id}: {reason}"),
            ),
            EngineEvent::DataGap { at, what } => alert(
                "error",
                Severity::Warning,
                format!("data_gap:{at}"),
                Some(*at),
                format!("market data missing, check skipped: {what}"),
            ),
            EngineEvent::Filled { fill, position_id } => {
                self.today.fills += 1;
                if config.fills {
                    alert(
                        "fill",
                        Severity::Info,
                        format!("fill:{}", fill.fill_id),
                        Some(fill.at),
                        format!(
                            "{position_id}: order {} filled x{} at {:.2} (fees {:.2})",
                            fill.order_id,
                            fill.quantity,
                            fill.price.to_f64(),
                            fill.fees.to_f64()
                        ),
                    );
                }
            }
            EngineEvent::SessionClosed { date, at } if config.daily_summary => alert(
                "daily_summary",
                Severity::Info,
                format!("daily_summary:{date}"),
                Some(*at),
                format!(
                    "{date}: equity {:.2}, today's P&L {:+.2}, drawdown {:.2} %, {} open; \
                     today {} orders, {} fills, {} risk refusals",
                    state.equity.unwrap_or(0.0),
                    state.daily_pnl,
                    state.drawdown * 100.0,
                    state.positions.len(),
                    self.today.orders,
                    self.today.fills,
                    self.today.rejections
                ),
            ),
            _ => {}
        }
        if matches!(
            event,
            EngineEvent::Decision { .. } | EngineEvent::Equity { .. }
        ) {
            for (i, t) in config.drawdown_thresholds.iter().enumerate() {
                if state.drawdown <= 0.0 {
                    self.armed[i] = true;
                } else if state.drawdown >= *t && self.armed[i] {
                    self.armed[i] = false;
                    alert(
                        "drawdown",
                        Severity::Warning,
                        format!("drawdown:{t}"),
                        state.as_of,
                        format!(
                            "drawdown {:.2} % passed the {:.0} % threshold: equity {:.2}, peak \
                             {:.2}",
                            state.drawdown * 100.0,
                            t * 100.0,
                            state.equity.unwrap_or(0.0),
                            state.peak.unwrap_or(0.0)
                        ),
                    );
                }
            }
        }
        out
    }
}

impl Observer for MonitorObserver {
    fn on_event(&mut self, event: &EngineEvent) -> volta_engine::Result<()> {
        let shared = &self.monitor.0;
        let now = shared.clock.elapsed();
        match event {
            EngineEvent::Decision { .. } => self.decision_started = Some(now),
            EngineEvent::DecisionDone { .. } => {
                if let Some(start) = self.decision_started.take() {
                    shared
                        .metrics
                        .decision_latency(now.saturating_sub(start).as_secs_f64());
                }
            }
            _ => {}
        }
        if matches!(
            event,
            EngineEvent::SessionStarted { .. }
                | EngineEvent::Decision { .. }
                | EngineEvent::Equity { .. }
        ) {
            *shared
                .last_data
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(now);
        }
        let state = {
            let mut state = self.monitor.write();
            state.apply(event);
            state.clone()
        };
        shared.metrics.on_event(event, &state);
        for alert in self.alerts_for(event, &state) {
            self.monitor.raise(alert);
        }
        Ok(())
    }
}
