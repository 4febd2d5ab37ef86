//! The halt control: the engine honours it, and only the token can use it.

use std::net::SocketAddr;
use std::sync::mpsc;

use chrono::NaiveDate;
use volta_engine::events::OrderPurpose;
use volta_engine::{ChannelObserver, EngineEvent, Observer, SimulatedClock, StopSignal};
use volta_monitor::{AlertConfig, DashboardConfig, Monitor, MonitorError, serve};

use crate::common::{self, date, get, parse_metrics, post};

/// Presses the dashboard's buttons at the start of two sessions.
struct Person {
    monitor: Monitor,
    halt_on: NaiveDate,
    flatten_on: NaiveDate,
}

impl Observer for Person {
    fn on_event(&mut self, event: &EngineEvent) -> volta_engine::Result<()> {
        if let EngineEvent::SessionStarted { date, .. } = event {
            if *date == self.halt_on {
                self.monitor.halt(false);
            } else if *date == self.flatten_on {
                self.monitor.halt(true);
            }
        }
        Ok(())
    }
}

#[test]
fn a_halt_stops_openings_and_a_flatten_closes_every_position() {
    let dir = tempfile::tempdir().unwrap();
    let stop = StopSignal::new();
    let monitor = common::monitor(&stop, &AlertConfig::default(), Vec::new());
    let (halt_on, flatten_on) = (date(2023, 2, 15), date(2023, 3, 1));
    let (tx, rx) = mpsc::channel();
    common::backtest(dir.path(), date(2023, 1, 3), date(2023, 3, 31))
        .run_with_clock(
            "backtest",
            SimulatedClock::new,
            &mut |_, _| {},
            vec![
                Box::new(Person {
                    monitor: monitor.clone(),
                    halt_on,
                    flatten_on,
                }),
                Box::new(monitor.observer()),
                Box::new(ChannelObserver::new(tx)),
            ],
            &stop,
        )
        .unwrap();
    let events: Vec<EngineEvent> = rx.try_iter().collect();
    let opened: Vec<NaiveDate> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::OrderPlaced {
                order,
                purpose: OrderPurpose::Open,
                ..
            } => Some(order.created_at.date()),
            _ => None,
        })
        .collect();
    assert!(opened.iter().any(|d| *d < halt_on), "{opened:?}");
    assert!(opened.iter().all(|d| *d < halt_on), "{opened:?}");
    let halts: Vec<(NaiveDate, bool)> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Halted { at, flatten } => Some((at.date(), *flatten)),
            _ => None,
        })
        .collect();
    assert_eq!(halts, [(halt_on, false), (flatten_on, true)]);
    // Open before the flatten, none after it (each close filled at the snapshot).
    let held = |on: NaiveDate| {
        events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::Book { at, positions, .. } if at.date() < on => Some(positions.len()),
                _ => None,
            })
            .last()
            .unwrap()
    };
    assert!(held(flatten_on) > 0, "positions open when flattening");
    let last_book = events
        .iter()
        .rev()
        .find_map(|e| match e {
            EngineEvent::Book { positions, .. } => Some(positions.len()),
            _ => None,
        })
        .unwrap();
    assert_eq!(last_book, 0);
    let state = monitor.snapshot();
    assert!(state.halt.openings_halted && state.halt.flattening);
    assert!(state.positions.is_empty());
    assert_eq!(
        state.alerts.iter().filter(|a| a.kind == "halt").count(),
        2,
        "{:?}",
        state.alerts
    );
    let m = parse_metrics(&monitor.metrics_text());
    assert_eq!(m["volta_trading_halted"], 1.0);
    assert_eq!(m["volta_open_positions"], 0.0);
}

const TOKEN: &str = "test-token-0123456789";

#[test]
fn the_halt_control_takes_the_token_and_a_confirmation_to_flatten() {
    let stop = StopSignal::new();
    let monitor = common::monitor(&stop, &AlertConfig::default(), Vec::new());

    // Without a token the control is off.
    let server = serve(&DashboardConfig::local(0), monitor.clone()).unwrap();
    let (status, body) = post(&format!("http://{}/halt", server.addr()), &[]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("VOLTA_DASHBOARD_TOKEN"));
    server.shutdown();

    let config = DashboardConfig {
        token: Some(TOKEN.to_owned()),
        ..DashboardConfig::local(0)
    };
    let server = serve(&config, monitor.clone()).unwrap();
    let halt = format!("http://{}/halt", server.addr());
    assert_eq!(post(&halt, &[]).0, 401);
    assert_eq!(post(&halt, &[("X-Volta-Token", "test-token-0123456788")]).0, 401);
    assert_eq!(post(&halt, &[("X-Volta-Token", "short")]).0, 401);
    assert!(!stop.openings_halted());
    // Flattening without its confirmation is refused, and halts nothing.
    let (status, _) = post(
        &format!("{halt}?flatten=true"),
        &[("X-Volta-Token", TOKEN)],
    );
    assert_eq!(status, 400);
    assert!(!stop.openings_halted());
    let (status, body) = post(&halt, &[("X-Volta-Token", TOKEN)]);
    assert_eq!(status, 200, "{body}");
    assert!(stop.openings_halted() && !stop.flatten_requested());
    let bearer = format!("Bearer {TOKEN}");
    let (status, body) = post(
        &format!("{halt}?flatten=true&confirm=flatten"),
        &[("Authorization", bearer.as_str())],
    );
    assert_eq!(status, 200, "{body}");
    assert!(stop.flatten_requested() && !stop.is_raised());
    let state = common::state(&format!("http://{}", server.addr()));
    assert_eq!(state["halt"]["flattening"], true);
    assert_eq!(state["halt_control"], true);
}

#[test]
fn a_bind_beyond_this_machine_needs_a_token_and_then_every_read_does() {
    let stop = StopSignal::new();
    let monitor = common::monitor(&stop, &AlertConfig::default(), Vec::new());
    let anywhere: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = serve(
        &DashboardConfig {
            bind: anywhere,
            token: None,
        },
        monitor.clone(),
    )
    .unwrap_err();
    assert!(matches!(err, MonitorError::TokenRequired { .. }), "{err}");
    assert!(err.to_string().contains("VOLTA_DASHBOARD_TOKEN"), "{err}");
    let err = serve(
        &DashboardConfig {
            bind: anywhere,
            token: Some("short".to_owned()),
        },
        monitor.clone(),
    )
    .unwrap_err();
    assert!(matches!(err, MonitorError::WeakToken { len: 5, .. }), "{err}");

    let config = DashboardConfig {
        bind: anywhere,
        token: Some(TOKEN.to_owned()),
    };
    let server = serve(&config, monitor).unwrap();
    let describe = config.describe(server.addr());
    assert!(describe.contains("reachable from other machines") && !describe.contains(TOKEN));
    let base = format!("http://127.0.0.1:{}", server.addr().port());
    for path in ["/api/state", "/metrics", "/chart/equity.svg"] {
        assert_eq!(get(&format!("{base}{path}"), &[]).0, 401, "{path}");
        assert_eq!(
            get(&format!("{base}{path}"), &[("X-Volta-Token", TOKEN)]).0,
            200,
            "{path}"
        );
    }
    // The page itself holds no data: it loads, then asks for the token.
    assert_eq!(get(&format!("{base}/"), &[]).0, 200);
}
