//! The dashboard over a real run: what it shows is what the journal holds.

use std::sync::mpsc;

use volta_data::store::{JournalStore, SqliteStore};
use volta_engine::{ChannelObserver, EngineEvent, SimulatedClock, StopSignal};
use volta_monitor::{AlertConfig, DashboardConfig, MonitorState, serve};

use crate::common::{self, date, get, parse_metrics};

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one run, every number the page and /metrics show"
)]
fn the_dashboard_and_the_metrics_show_the_journal_s_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let stop = StopSignal::new();
    let monitor = common::monitor(&stop, &AlertConfig::default(), Vec::new());
    let server = serve(&DashboardConfig::local(0), monitor.clone()).unwrap();
    let base = format!("http://{}", server.addr());
    assert!(server.addr().ip().is_loopback());

    // Before the first event: an empty page that still answers, with placeholder charts.
    let empty = common::state(&base);
    assert_eq!(empty["equity"], serde_json::Value::Null);
    let (status, kind, svg) = get(&format!("{base}/chart/equity.svg"), &[]);
    assert_eq!((status, kind.as_str()), (200, "image/svg+xml"));
    assert!(svg.contains("no session closed yet"));

    let backtest = common::backtest(dir.path(), date(2023, 1, 3), date(2023, 3, 31));
    let (tx, rx) = mpsc::channel();
    let result = backtest
        .run_with_clock(
            "backtest",
            SimulatedClock::new,
            &mut |_, _| {},
            vec![
                Box::new(monitor.observer()),
                Box::new(ChannelObserver::new(tx)),
            ],
            &stop,
        )
        .unwrap();
    let events: Vec<EngineEvent> = rx.try_iter().collect();
    let decisions = events
        .iter()
        .filter(|e| matches!(e, EngineEvent::Decision { .. }))
        .count();

    let store = SqliteStore::open(&backtest.journal).unwrap();
    let curve = store.equity_curve(&result.run_id).unwrap();
    let orders = store.orders(&result.run_id).unwrap();
    let fills = store.fills(&result.run_id).unwrap();
    let open: Vec<String> = store
        .positions(&result.run_id)
        .unwrap()
        .into_iter()
        .filter(|p| p.closed_at.is_none())
        .map(|p| p.position_id.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert!(!fills.is_empty() && curve.len() == 62, "a run that trades");

    let state = common::state(&base);
    let last = curve.last().unwrap();
    assert_eq!(state["run_id"], result.run_id.as_str());
    assert_eq!(state["equity"].as_f64().unwrap(), last.equity.to_f64());
    assert_eq!(state["cash"].as_f64().unwrap(), last.cash.to_f64());
    assert_eq!(
        state["equity"].as_f64().unwrap(),
        result.summary.metrics.ending_equity
    );
    let previous = curve[curve.len() - 2].equity.to_f64();
    assert!(
        (state["daily_pnl"].as_f64().unwrap() - (last.equity.to_f64() - previous)).abs() < 1e-9
    );
    let shown_curve = state["equity_curve"].as_array().unwrap();
    assert_eq!(shown_curve.len(), curve.len());
    for (shown, point) in shown_curve.iter().zip(&curve) {
        assert_eq!(shown["equity"].as_f64().unwrap(), point.equity.to_f64());
        assert_eq!(shown["date"], point.at.date().to_string().as_str());
    }
    assert_eq!(state["fills_total"].as_u64().unwrap(), fills.len() as u64);
    let shown_open: Vec<&str> = state["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown_open, open);
    assert_eq!(state["sessions"].as_u64().unwrap(), curve.len() as u64);
    // The orders table's statuses are the journal's.
    for row in state["orders"].as_array().unwrap() {
        let journaled = orders.iter().find(|o| o.order_id == row["id"]).unwrap();
        assert_eq!(row["status"], journaled.status.as_str());
    }
    // The greeks are the sum of the positions', within the bands' sign-free size.
    let delta: f64 = state["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["dollar_delta"].as_f64().unwrap())
        .sum();
    assert!((state["greeks"]["dollar_delta"].as_f64().unwrap() - delta).abs() < 1e-6);
    assert!(state["greeks"]["dollar_delta_band"].as_f64().unwrap() > 0.0);
    assert_eq!(state["connection"]["state"], "simulated");
    assert!(state["regime"].is_string() && state["vix"].as_f64().unwrap() > 0.0);

    let (status, kind, body) = get(&format!("{base}/metrics"), &[]);
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain"), "{kind}");
    let m = parse_metrics(&body);
    assert_eq!(m["volta_equity_dollars"], last.equity.to_f64());
    assert_eq!(m["volta_fills_total"], fills.len() as f64);
    assert_eq!(
        m["volta_orders_total{state=\"submitted\"}"],
        orders.len() as f64
    );
    let ended: f64 = ["filled", "cancelled", "rejected"]
        .iter()
        .map(|s| m[&format!("volta_orders_total{{state=\"{s}\"}}")])
        .sum();
    let final_states = orders.iter().filter(|o| o.status != "submitted").count();
    assert_eq!(ended, final_states as f64);
    assert_eq!(m["volta_open_positions"], open.len() as f64);
    assert_eq!(m["volta_sessions_total"], curve.len() as f64);
    assert_eq!(m["volta_decision_latency_seconds_count"], decisions as f64);
    assert_eq!(m["volta_connection_up"], 1.0);
    assert_eq!(m["volta_connection_state{state=\"simulated\"}"], 1.0);
    assert_eq!(m["volta_kill_switch_engaged"], 0.0);
    let refused: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("volta_risk_rejections_total"))
        .map(|(_, v)| v)
        .sum();
    let summary_refused: usize = result.summary.rejections.iter().map(|(_, n)| n).sum();
    assert_eq!(refused, summary_refused as f64);
    assert!((m["volta_drawdown_ratio"] - state["drawdown"].as_f64().unwrap()).abs() < 1e-12);

    for chart in ["equity", "drawdown"] {
        let (status, kind, svg) = get(&format!("{base}/chart/{chart}.svg"), &[]);
        assert_eq!((status, kind.as_str()), (200, "image/svg+xml"), "{chart}");
        assert!(
            svg.contains("<svg") && svg.contains("polyline") || svg.contains("<path"),
            "{chart}"
        );
    }
    assert_eq!(get(&format!("{base}/chart/other.svg"), &[]).0, 404);

    // The page: the tables and chart holders, nothing fetched from another host.
    let (status, _, page) = get(&format!("{base}/"), &[]);
    assert_eq!(status, 200);
    for id in [
        "positions",
        "orders",
        "fills",
        "rejections",
        "alerts",
        "equity-chart",
        "drawdown-chart",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    assert!(page.contains("const POLL_MS = 2000;"));
    server.shutdown();

    // The same journal read back by `volta-monitor`: the same curve and counts.
    let replay = MonitorState::from_journal(&backtest.journal, None).unwrap();
    assert_eq!(replay.run_id, result.run_id);
    assert_eq!(replay.equity, Some(last.equity.to_f64()));
    assert_eq!(replay.equity_curve.len(), curve.len());
    assert_eq!(replay.fills_total, fills.len() as u64);
    assert_eq!(
        replay
            .positions
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        open
    );
    assert_eq!(replay.connection.as_str(), "replay");
    let err = MonitorState::from_journal(&backtest.journal, Some("nope")).unwrap_err();
    assert!(err.to_string().contains(&result.run_id), "{err}");
}
