//! The Prometheus metrics (`/metrics`): a recorder of its own per [`crate::Monitor`] (no global
//! recorder, so several monitors, and tests, live in one process), rendered in Prometheus' text
//! format.

use std::sync::Arc;

use metrics::{counter, gauge, histogram, with_local_recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use volta_engine::EngineEvent;
use volta_engine::engine::reject_key;

use crate::error::{MonitorError, Result};
use crate::state::{ConnectionState, MonitorState};

/// Every metric's name, as the alert rules and the Grafana dashboard use them.
pub mod names {
    /// Equity at the last mark, US dollars (gauge).
    pub const EQUITY: &str = "volta_equity_dollars";
    /// Today's P&L, US dollars (gauge).
    pub const DAILY_PNL: &str = "volta_daily_pnl_dollars";
    /// Drawdown below the equity peak, a fraction (gauge).
    pub const DRAWDOWN: &str = "volta_drawdown_ratio";
    /// Open positions (gauge).
    pub const OPEN_POSITIONS: &str = "volta_open_positions";
    /// Portfolio dollar delta (gauge).
    pub const DOLLAR_DELTA: &str = "volta_portfolio_dollar_delta";
    /// Portfolio vega per volatility point (gauge).
    pub const VEGA: &str = "volta_portfolio_vega_per_point";
    /// Orders entering each state (`submitted`, `filled`, `cancelled`, `rejected`) (counter).
    pub const ORDERS: &str = "volta_orders_total";
    /// Fills (counter).
    pub const FILLS: &str = "volta_fills_total";
    /// Risk refusals by reason (counter).
    pub const REJECTIONS: &str = "volta_risk_rejections_total";
    /// Errors by source (`broker`, `engine`, `alert_webhook`, …) (counter).
    pub const ERRORS: &str = "volta_errors_total";
    /// Seconds since the last market event (gauge, at scrape time).
    pub const STALENESS: &str = "volta_data_staleness_seconds";
    /// Wall time from a decision's start to its orders placed and filled (histogram).
    pub const DECISION_LATENCY: &str = "volta_decision_latency_seconds";
    /// 1 while the broker link is up (simulated counts), else 0 (gauge).
    pub const CONNECTION_UP: &str = "volta_connection_up";
    /// 1 for the current connection state, 0 for the others (gauge, label `state`).
    pub const CONNECTION_STATE: &str = "volta_connection_state";
    /// 1 once the drawdown kill switch has fired (gauge).
    pub const KILL_SWITCH: &str = "volta_kill_switch_engaged";
    /// 1 while a person's halt holds new openings (gauge).
    pub const HALTED: &str = "volta_trading_halted";
    /// 1 while the broker adapter's circuit breaker stops new orders (gauge).
    pub const CIRCUIT_BREAKER: &str = "volta_circuit_breaker_tripped";
    /// Sessions closed (counter).
    pub const SESSIONS: &str = "volta_sessions_total";
    /// Alerts raised by kind (counter).
    pub const ALERTS: &str = "volta_alerts_total";
    /// Alerts dropped by the deduplication or the rate limit (counter, label `why`).
    pub const ALERTS_SUPPRESSED: &str = "volta_alerts_suppressed_total";
    /// Alert deliveries that failed after every retry, by channel (counter).
    pub const ALERT_FAILURES: &str = "volta_alert_delivery_failures_total";

    /// Every name above.
    pub const ALL: [&str; 22] = [
        EQUITY,
        DAILY_PNL,
        DRAWDOWN,
        OPEN_POSITIONS,
        DOLLAR_DELTA,
        VEGA,
        ORDERS,
        FILLS,
        REJECTIONS,
        ERRORS,
        STALENESS,
        DECISION_LATENCY,
        CONNECTION_UP,
        CONNECTION_STATE,
        KILL_SWITCH,
        HALTED,
        CIRCUIT_BREAKER,
        SESSIONS,
        ALERTS,
        ALERTS_SUPPRESSED,
        ALERT_FAILURES,
        "volta_vix",
    ];
}

/// The decision latency histogram's buckets, seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// A Prometheus recorder and its handle.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A recorder with the latency histogram's buckets.
    ///
    /// # Errors
    /// [`MonitorError::Metrics`] if the exporter refuses the buckets.
    pub fn new() -> Result<Self> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(names::DECISION_LATENCY.to_owned()),
                &LATENCY_BUCKETS,
            )
            .map_err(|e| MonitorError::Metrics(e.to_string()))?
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self {
            recorder: Arc::new(recorder),
            handle,
        };
        // Every counter exists from the start (a scrape shows 0, not nothing).
        metrics.record(|| {
            counter!(names::FILLS).absolute(0);
            counter!(names::SESSIONS).absolute(0);
            for state in ["submitted", "filled", "cancelled", "rejected"] {
                counter!(names::ORDERS, "state" => state).absolute(0);
            }
            gauge!(names::KILL_SWITCH).set(0.0);
            gauge!(names::HALTED).set(0.0);
            gauge!(names::CIRCUIT_BREAKER).set(0.0);
        });
        Ok(metrics)
    }

    fn record(&self, f: impl FnOnce()) {
        with_local_recorder(self.recorder.as_ref(), f);
    }

    /// Counts `event` and sets the gauges from `state` (the state after it).
    pub fn on_event(&self, event: &EngineEvent, state: &MonitorState) {
        self.record(|| {
            match event {
                EngineEvent::OrderPlaced { .. } => {
                    counter!(names::ORDERS, "state" => "submitted").increment(1);
                }
                EngineEvent::Filled { .. } => {
                    counter!(names::ORDERS, "state" => "filled").increment(1);
                    counter!(names::FILLS).increment(1);
                }
                EngineEvent::OrderEnded { end, .. } => {
                    counter!(names::ORDERS, "state" => end.status()).increment(1);
                    if matches!(end, volta_engine::events::OrderEnd::Rejected(_)) {
                        counter!(names::ERRORS, "source" => "broker").increment(1);
                    }
                }
                EngineEvent::RiskRejected { reason, .. } => {
                    counter!(names::REJECTIONS, "reason" => reject_key(reason)).increment(1);
                }
                EngineEvent::KillSwitch { .. } => gauge!(names::KILL_SWITCH).set(1.0),
                EngineEvent::Halted { .. } => gauge!(names::HALTED).set(1.0),
                EngineEvent::SessionClosed { .. } => counter!(names::SESSIONS).increment(1),
                _ => {}
            }
            if let Some(equity) = state.equity {
                gauge!(names::EQUITY).set(equity);
            }
            gauge!(names::DAILY_PNL).set(state.daily_pnl);
            gauge!(names::DRAWDOWN).set(state.drawdown);
            gauge!(names::OPEN_POSITIONS).set(state.positions.len() as f64);
            gauge!(names::DOLLAR_DELTA).set(state.greeks.dollar_delta);
            gauge!(names::VEGA).set(state.greeks.vega_per_point);
            if let Some(vix) = state.vix {
                gauge!("volta_vix").set(vix);
            }
        });
    }

    /// A decision took `seconds` of wall time.
    pub fn decision_latency(&self, seconds: f64) {
        self.record(|| histogram!(names::DECISION_LATENCY).record(seconds));
    }

    /// The broker link is now `state`.
    pub fn connection(&self, state: &ConnectionState) {
        self.record(|| {
            gauge!(names::CONNECTION_UP).set(if state.is_up() { 1.0 } else { 0.0 });
            for name in ConnectionState::NAMES {
                let v = if name == state.as_str() { 1.0 } else { 0.0 };
                gauge!(names::CONNECTION_STATE, "state" => name).set(v);
            }
        });
    }

    /// The circuit breaker tripped (`true`) or was reset.
    pub fn circuit_breaker(&self, tripped: bool) {
        self.record(|| gauge!(names::CIRCUIT_BREAKER).set(if tripped { 1.0 } else { 0.0 }));
    }

    /// An error from `source`.
    pub fn error(&self, source: &str) {
        let source = source.to_owned();
        self.record(|| counter!(names::ERRORS, "source" => source).increment(1));
    }

    /// An alert of `kind` raised.
    pub fn alert(&self, kind: &'static str) {
        self.record(|| counter!(names::ALERTS, "kind" => kind).increment(1));
    }

    /// An alert dropped: `why` is `duplicate` or `rate_limit` or `queue_full`.
    pub fn alert_suppressed(&self, why: &'static str) {
        self.record(|| counter!(names::ALERTS_SUPPRESSED, "why" => why).increment(1));
    }

    /// A delivery on `channel` failed after every retry.
    pub fn alert_failed(&self, channel: &'static str) {
        self.record(|| {
            counter!(names::ALERT_FAILURES, "channel" => channel).increment(1);
            counter!(names::ERRORS, "source" => format!("alert_{channel}")).increment(1);
        });
    }

    /// The page in Prometheus' text format, with the data staleness (seconds since the last
    /// market event; none before the first) and whether a person's halt holds.
    #[must_use]
    pub fn render(&self, staleness_seconds: Option<f64>, halted: bool) -> String {
        self.record(|| {
            if let Some(s) = staleness_seconds {
                gauge!(names::STALENESS).set(s);
            }
            gauge!(names::HALTED).set(if halted { 1.0 } else { 0.0 });
        });
        self.handle.render()
    }
}
