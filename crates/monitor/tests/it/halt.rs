//! The halt control: the engine honours it, and only the token can use it.

use std::net::SocketAddr;
use std::sync::mpsc;

use chrono::NaiveDate;
use volta_engine::events::OrderPurpose;
use volta_engine::{ChannelObserver, EngineEvent, Observer, SimulatedClock, StopSignal};
use volta_monitor::{AlertConfig, DashboardConfig, Monitor, MonitorError, serve};

use crate::common::{self, date, get, parse_metrics, post};

/// Presses the dashboard's halt button (with `flatten`, the flatten one) at the start of a
/// session.
struct Person {
    monitor: Monitor,
    on: NaiveDate,
    flatten: bool,
}

impl Observer for Person {
    fn on_event(&mut self, event: &EngineEvent) -> volta_engine::Result<()> {
        if let EngineEvent::SessionStarted { date, .. } = event
            && *date == self.on
        {
            self.monitor.halt(self.flatten);
        }
        Ok(())
    }
}

/// Q1 2023 with the default strategies, a person halting on `halt` (date, flatten) if any:
/// the events and the monitor.
fn run(halt: Option<(NaiveDate, bool)>) -> (Vec<EngineEvent>, Monitor) {
    let dir = tempfile::tempdir().unwrap();
    let stop = StopSignal::new();
    let monitor = common::monitor(&stop, &AlertConfig::default(), Vec::new());
    let (tx, rx) = mpsc::channel();
    let mut observers: Vec<Box<dyn Observer + Send>> = vec![
        Box::new(monitor.observer()),
        Box::new(ChannelObserver::new(tx)),
    ];
    if let Some((on, flatten)) = halt {
        observers.insert(
            0,
            Box::new(Person {
                monitor: monitor.clone(),
                on,
                flatten,
            }),
        );
    }
    common::backtest(dir.path(), date(2023, 1, 3), date(2023, 3, 31))
        .run_with_clock(
            "backtest",
            SimulatedClock::new,
            &mut |_, _| {},
            observers,
            &stop,
        )
        .unwrap();
    (rx.try_iter().collect(), monitor)
}

/// The dates of the orders placed for `purpose`.
fn placed(events: &[EngineEvent], purpose: OrderPurpose) -> Vec<NaiveDate> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::OrderPlaced {
                order, purpose: p, ..
            } if *p == purpose => Some(order.created_at.date()),
            _ => None,
        })
        .collect()
}

/// The open positions after the last decision or close before the end of `day`.
fn held_after(events: &[EngineEvent], day: NaiveDate) -> usize {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            EngineEvent::Book { at, positions, .. } if at.date() <= day => Some(positions.len()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_halt_stops_new_openings_and_nothing_else() {
    let halt_on = date(2023, 2, 15);
    let (free, _) = run(None);
    let (halted, monitor) = run(Some((halt_on, false)));
    let free_opens = placed(&free, OrderPurpose::Open);
    let halted_opens = placed(&halted, OrderPurpose::Open);
    // Unhalted, the strategies open on and after the halt's day; halted, the same before it
    // and nothing from it on.
    assert!(free_opens.iter().any(|d| *d >= halt_on), "{free_opens:?}");
    let before: Vec<NaiveDate> = free_opens.into_iter().filter(|d| *d < halt_on).collect();
    assert!(!before.is_empty());
    assert_eq!(halted_opens, before);
    let halts: Vec<(NaiveDate, bool)> = halted
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Halted { at, flatten } => Some((at.date(), *flatten)),
            _ => None,
        })
        .collect();
    assert_eq!(halts, [(halt_on, false)]);
    let state = monitor.snapshot();
    assert!(state.halt.openings_halted && !state.halt.flattening);
    assert_eq!(
        parse_metrics(&monitor.metrics_text())["volta_trading_halted"],
        1.0
    );
}

#[test]
fn a_flatten_closes_every_position_at_the_next_decision() {
    // The position opened on 2023-01-04 is held until 2023-01-18 when nobody intervenes.
    let flatten_on = date(2023, 1, 10);
    let (free, _) = run(None);
    assert_eq!(held_after(&free, flatten_on), 1);
    let (flattened, monitor) = run(Some((flatten_on, true)));
    assert_eq!(held_after(&flattened, flatten_on - chrono::Days::new(1)), 1);
    assert_eq!(held_after(&flattened, flatten_on), 0);
    assert_eq!(placed(&flattened, OrderPurpose::Close), [flatten_on]);
    assert!(
        placed(&flattened, OrderPurpose::Open)
            .iter()
            .all(|d| *d < flatten_on)
    );
    let state = monitor.snapshot();
    assert!(state.halt.openings_halted && state.halt.flattening);
    assert!(state.positions.is_empty());
    let m = parse_metrics(&monitor.metrics_text());
    assert_eq!(m["volta_open_positions"], 0.0);
    assert_eq!(m["volta_alerts_total{kind=\"halt\"}"], 1.0);
    // The daily summaries since (more than the list keeps) have not pushed it out.
    assert!(m["volta_alerts_total{kind=\"daily_summary\"}"] > 50.0);
    let halts: Vec<&str> = state
        .alerts
        .iter()
        .filter(|a| a.kind == "halt")
        .map(|a| a.severity)
        .collect();
    assert_eq!(halts, ["critical"]);
    assert_eq!(state.alerts.len(), volta_monitor::state::RECENT);
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
    assert_eq!(
        post(&halt, &[("X-Volta-Token", "test-token-0123456788")]).0,
        401
    );
    assert_eq!(post(&halt, &[("X-Volta-Token", "short")]).0, 401);
    assert!(!stop.openings_halted());
    // Flattening without its confirmation is refused, and halts nothing.
    let (status, _) = post(&format!("{halt}?flatten=true"), &[("X-Volta-Token", TOKEN)]);
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
    assert!(
        matches!(err, MonitorError::WeakToken { len: 5, .. }),
        "{err}"
    );

    let config = DashboardConfig {
        bind: anywhere,
        token: Some(TOKEN.to_owned()),
    };
    let server = serve(&config, monitor).unwrap();
    let describe = config.describe(server.addr());
    assert!(describe.contains("REACHABLE FROM OTHER MACHINES") && !describe.contains(TOKEN));
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
