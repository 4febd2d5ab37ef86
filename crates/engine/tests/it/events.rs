//! The engine's event stream: what observers are told is what the journal holds, in order,
//! for a half year of the default strategies; the kill switch and risk refusals are events;
//! a hand-computed assignment is told as it happened (in `trades.rs`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use chrono::NaiveDate;
use volta_data::store::{JournalStore, SqliteStore};
use volta_engine::events::OrderPurpose;
use volta_engine::{
    Backtest, BacktestConfig, BacktestResult, ChannelObserver, DataChoice, EngineEvent,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A synthetic backtest of the first half of 2022 with `config`, and every event it told.
fn observed(config: BacktestConfig, dir: &Path) -> (BacktestResult, Vec<EngineEvent>) {
    let backtest = Backtest {
        config,
        config_text: None,
        start: date(2022, 1, 3),
        end: date(2022, 6, 30),
        data: DataChoice::Synthetic,
        journal: dir.join("journal.sqlite"),
    };
    let (sender, receiver) = mpsc::channel();
    let result = backtest
        .run_observed(&mut |_, _| {}, vec![Box::new(ChannelObserver::new(sender))])
        .unwrap();
    (result, receiver.try_iter().collect())
}

/// The default half year, its events and its journal.
fn default_run() -> (
    BacktestResult,
    Vec<EngineEvent>,
    SqliteStore,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let (result, events) = observed(BacktestConfig::default(), dir.path());
    let store = SqliteStore::open(dir.path().join("journal.sqlite")).unwrap();
    (result, events, store, dir)
}

fn count(events: &[EngineEvent], f: fn(&EngineEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

#[test]
fn sessions_are_told_in_order() {
    let (result, events, _store, _dir) = default_run();
    // One start, one equity point and one close per session (the curve also holds the
    // starting cash the evening before).
    let count = |f: fn(&EngineEvent) -> bool| events.iter().filter(|e| f(e)).count();
    let sessions = result.equity.len() - 1;
    assert_eq!(sessions, 124);
    assert_eq!(
        count(|e| matches!(e, EngineEvent::SessionStarted { .. })),
        sessions
    );
    assert_eq!(
        count(|e| matches!(e, EngineEvent::SessionClosed { .. })),
        sessions
    );
    assert_eq!(count(|e| matches!(e, EngineEvent::Equity { .. })), sessions);

    // A session is told between its start and its close, and time never goes back.
    let mut open = None;
    for e in &events {
        match e {
            EngineEvent::SessionStarted { date, .. } => {
                assert_eq!(open, None, "a session started inside another");
                open = Some(*date);
            }
            EngineEvent::SessionClosed { date, .. } => {
                assert_eq!(open.take(), Some(*date));
            }
            _ => assert!(open.is_some(), "{e:?} outside a session"),
        }
    }
}

#[test]
fn orders_and_fills_are_told_as_the_journal_holds_them() {
    let (result, events, store, _dir) = default_run();
    let run = &result.run_id;

    // Orders: placed in the journal's order, each ending once, as filled or with its end.
    let placed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::OrderPlaced { order, .. } => Some(order.clone()),
            _ => None,
        })
        .collect();
    let journal_orders = store.orders(run).unwrap();
    assert!(
        placed.len() >= 10,
        "too few orders to tell anything: {}",
        placed.len()
    );
    let mut status: BTreeMap<String, String> = placed
        .iter()
        .map(|o| (o.order_id.clone(), "submitted".to_owned()))
        .collect();
    for e in &events {
        let (id, s) = match e {
            EngineEvent::Filled { fill, .. } => (&fill.order_id, "filled"),
            EngineEvent::OrderEnded { order_id, end, .. } => (order_id, end.status()),
            _ => continue,
        };
        let before = status.insert(id.clone(), s.to_owned());
        assert_eq!(before.as_deref(), Some("submitted"), "{id} ended twice");
    }
    assert_eq!(journal_orders.len(), placed.len());
    for o in &journal_orders {
        assert_eq!(status[&o.order_id], o.status, "{o:?}");
        let told = placed.iter().find(|p| p.order_id == o.order_id).unwrap();
        assert_eq!(
            (
                told.created_at,
                &told.instrument,
                told.quantity,
                told.limit_price
            ),
            (o.created_at, &o.instrument, o.quantity, o.limit_price)
        );
    }

    // Fills, positions, signals and the equity curve are the journal's, row for row.
    let fills: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Filled { fill, .. } => Some(fill.clone()),
            _ => None,
        })
        .collect();
    let mut journal_fills = store.fills(run).unwrap();
    journal_fills.sort_by(|a, b| (a.at, &a.fill_id).cmp(&(b.at, &b.fill_id)));
    let mut sorted = fills.clone();
    sorted.sort_by(|a, b| (a.at, &a.fill_id).cmp(&(b.at, &b.fill_id)));
    assert_eq!(sorted, journal_fills);
    assert_eq!(fills.len(), result.summary.fills);
    // At least one opening per trade (an opening that does not fill makes no trade).
    let opens = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                EngineEvent::OrderPlaced {
                    purpose: OrderPurpose::Open,
                    ..
                }
            )
        })
        .count();
    assert!(
        opens >= result.trades.len(),
        "{opens} < {}",
        result.trades.len()
    );
}

#[test]
fn positions_signals_and_equity_are_told_as_the_journal_holds_them() {
    let (result, events, store, _dir) = default_run();
    let run = &result.run_id;

    let mut last_position = BTreeMap::new();
    for e in &events {
        if let EngineEvent::PositionChanged(p) = e {
            last_position.insert(p.position_id.clone(), p.clone());
        }
    }
    let journal_positions = store.positions(run).unwrap();
    assert_eq!(journal_positions.len(), last_position.len());
    for p in &journal_positions {
        assert_eq!(&last_position[&p.position_id], p);
    }
    let equity: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Equity { point, .. } => Some(point.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(equity, store.equity_curve(run).unwrap());
    let signals = count(&events, |e| matches!(e, EngineEvent::Signal(_)));
    assert!(signals > 0);
    assert_eq!(signals, store.signals(run).unwrap().len());
}

#[test]
fn the_kill_switch_and_risk_refusals_are_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = BacktestConfig::default();
    config.risk.kill_switch_drawdown = 0.01;
    let (result, events) = observed(config, dir.path());
    let halted = result
        .halted_at
        .expect("a 1 % kill switch fires in this half year");
    let fired: Vec<_> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            EngineEvent::KillSwitch {
                at,
                equity,
                peak,
                drawdown,
            } => Some((i, *at, *equity, *peak, *drawdown)),
            _ => None,
        })
        .collect();
    assert_eq!(fired.len(), 1, "the kill switch fires once: {fired:?}");
    let (i, at, equity, peak, drawdown) = fired[0];
    assert_eq!(at, halted);
    assert!(drawdown >= 0.01, "{drawdown}");
    let expected = 1.0 - equity.to_f64() / peak.to_f64();
    assert!(
        (drawdown - expected).abs() < 1e-9,
        "{drawdown} vs {expected}"
    );
    // After it, orders close or flatten; none opens.
    for e in &events[i..] {
        if let EngineEvent::OrderPlaced { purpose, .. } = e {
            assert_ne!(*purpose, OrderPurpose::Open, "{e:?}");
        }
    }
    assert!(events[i..].iter().any(|e| matches!(
        e,
        EngineEvent::OrderPlaced {
            purpose: OrderPurpose::Close,
            ..
        }
    )));
    // Every refusal the report counts was an event, with its reason.
    let refused: usize = result.summary.rejections.iter().map(|(_, n)| n).sum();
    let told = events
        .iter()
        .filter(|e| matches!(e, EngineEvent::RiskRejected { .. }))
        .count();
    assert_eq!(told, refused);
}
