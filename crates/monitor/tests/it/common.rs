//! Shared by the tests: a short backtest, a monitor, HTTP calls, the metrics page parsed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use volta_engine::{Backtest, BacktestConfig, DataChoice, StopSignal};
use volta_monitor::alerts::Channel;
use volta_monitor::{AlertConfig, ConnectionState, ManualClock, Monitor, MonitorState};

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The default strategies on the synthetic market from `start` to `end`, journaled in `dir`.
pub(crate) fn backtest(dir: &Path, start: NaiveDate, end: NaiveDate) -> Backtest {
    Backtest {
        config: BacktestConfig::default(),
        config_text: None,
        start,
        end,
        data: DataChoice::Synthetic,
        journal: dir.join("journal.sqlite"),
    }
}

/// A monitor of a backtest halting through `stop`, on a manual clock, alerting on `channels`.
pub(crate) fn monitor(
    stop: &StopSignal,
    alerts: &AlertConfig,
    channels: Vec<Box<dyn Channel>>,
) -> Monitor {
    monitor_of("backtest", stop, alerts, channels)
}

/// As [`monitor`], of a run in `mode`.
pub(crate) fn monitor_of(
    mode: &str,
    stop: &StopSignal,
    alerts: &AlertConfig,
    channels: Vec<Box<dyn Channel>>,
) -> Monitor {
    Monitor::new(
        MonitorState::new("", mode, ConnectionState::Simulated),
        stop.clone(),
        Arc::new(ManualClock::default()),
        alerts,
        channels,
    )
    .unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// GET `url` with `headers`: the status, the content type and the body.
pub(crate) fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut request = agent().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut reply = request.call().unwrap();
    let kind = reply
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        reply.status().as_u16(),
        kind,
        reply.body_mut().read_to_string().unwrap(),
    )
}

/// POST (no body) to `url` with `headers`: the status and the body.
pub(crate) fn post(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = agent().post(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut reply = request.send_empty().unwrap();
    (
        reply.status().as_u16(),
        reply.body_mut().read_to_string().unwrap(),
    )
}

/// `/api/state` as JSON.
pub(crate) fn state(base: &str) -> serde_json::Value {
    let (status, _, body) = get(&format!("{base}/api/state"), &[]);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Prometheus' text format: each sample's `name{labels}` and value.
pub(crate) fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {l}"));
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {l}")),
            };
            (key.to_owned(), value)
        })
        .collect()
}
