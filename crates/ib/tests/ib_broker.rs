//! The IB adapter against a scripted fake TWS on 127.0.0.1 speaking the real wire protocol:
//! place → fill, partial fills, rejection and the circuit breaker, cancel, client id in use,
//! a dropped connection mid-order, restarts, and the trader killed (`kill -9`) at each point of
//! an order's life. For every fault: no order lost, none sent twice, every fill booked once.
#![expect(
    clippy::disallowed_methods,
    reason = "tests against live sockets and child processes bound their waits with wall time"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::Money;
use volta_core::broker::{
    Broker, BrokerEvent, CancelReason, EventKind, OrderId, OrderStatus, OrderTag, Settlements,
    Venue,
};
use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
use volta_ib::fake_tws::{FakeTws, OrderBehaviour, stable_con_id};
use volta_ib::ledger::IntentState;
use volta_ib::{FaultPoint, IbBroker, IbConfig, IbEndpoint, IbError, LinkStatus};

const SHORT_PUT: &str = "SPY   250321P00560000";
const LONG_PUT: &str = "SPY   250321P00550000";

fn start_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 3, 17)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .unwrap()
}

fn fake() -> FakeTws {
    let tws = FakeTws::start().unwrap();
    // IB's US option commission: $0.65 a contract, $1.00 minimum an order.
    tws.set_commission(0.65, 1.0);
    tws
}

fn config(tws: &FakeTws) -> IbConfig {
    IbConfig::new(IbEndpoint::TwsPaper).with_port(tws.port())
}

fn connect(tws: &FakeTws, ledger: &Path) -> IbBroker {
    IbBroker::connect(config(tws), ledger, money("100000"), start_time()).unwrap()
}

fn money(s: &str) -> Money {
    s.parse().unwrap()
}

/// A SPY put credit spread: sell the 560 put, buy the 550, `quantity` times, for 2.05.
fn put_spread(quantity: u32) -> ComboOrder {
    let leg = |k: &str, a| Leg::option(k.parse().unwrap(), a, 1).unwrap();
    ComboOrder::new(
        vec![
            leg(SHORT_PUT, LegAction::Sell),
            leg(LONG_PUT, LegAction::Buy),
        ],
        ComboSide::Buy,
        quantity,
        "-2.05".parse().unwrap(),
    )
    .unwrap()
}

/// Places an opening order the fake works without filling; returns once IB has it working.
fn place_working(tws: &FakeTws, broker: &mut IbBroker, order: ComboOrder) -> (OrderId, String) {
    let id = broker.place(order, opening()).unwrap();
    let order_ref = broker.order_ref(id);
    assert!(tws.wait_until(
        |s| {
            s.orders
                .values()
                .any(|o| o.order_ref == order_ref && o.is_working())
        },
        Duration::from_secs(10)
    ));
    (id, order_ref)
}

fn opening() -> OrderTag {
    OrderTag::new("put-spread", "p1", "open: iv rank 62")
}

/// Polls until an event satisfies `done`; returns every event seen.
fn poll_until(
    broker: &mut IbBroker,
    mut done: impl FnMut(&BrokerEvent) -> bool,
) -> Vec<BrokerEvent> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let events = broker.poll_events();
        let finished = events.iter().any(&mut done);
        seen.extend(events);
        if finished {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no awaited event within 20 s; saw {seen:#?}");
}

fn is_end_of(id: OrderId) -> impl FnMut(&BrokerEvent) -> bool {
    move |e: &BrokerEvent| {
        e.kind.order_id() == Some(id)
            && matches!(
                e.kind,
                EventKind::Filled(_) | EventKind::Cancelled { .. } | EventKind::Rejected { .. }
            )
    }
}

fn fills_of(events: &[BrokerEvent], id: OrderId) -> usize {
    events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Filled(f) if f.order == id))
        .count()
}

#[test]
fn a_credit_spread_is_sent_as_a_bag_with_its_intent_ref_and_fills_at_ibs_prices_and_commissions() {
    let tws = fake();
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    let id = broker.place(put_spread(2), opening()).unwrap();
    let events = poll_until(&mut broker, is_end_of(id));

    // What IB received: one BAG on SMART, legs as held, a BUY at −2.05 × 2, our orderRef.
    let placed = tws.placed_orders();
    assert_eq!(placed.len(), 1);
    let sent = &placed[0];
    assert_eq!(sent.order_ref, broker.order_ref(id));
    assert_eq!(sent.contract.sec_type, "BAG");
    assert_eq!(sent.contract.symbol, "SPY");
    let legs: Vec<(i32, i32, &str, &str)> = sent
        .contract
        .legs
        .iter()
        .map(|l| (l.con_id, l.ratio, l.action.as_str(), l.exchange.as_str()))
        .collect();
    assert_eq!(
        legs,
        [
            (stable_con_id(SHORT_PUT), 1, "SELL", "SMART"),
            (stable_con_id(LONG_PUT), 1, "BUY", "SMART"),
        ]
    );
    assert_eq!(
        (sent.action.as_str(), sent.total_quantity, sent.limit_price),
        ("BUY", 2.0, Some(-2.05))
    );

    // What Volta booked: Submitted, then one Filled with IB's executions and commissions.
    assert!(matches!(events[0].kind, EventKind::Submitted { order, .. } if order == id));
    assert_eq!(fills_of(&events, id), 1);
    let fill = broker.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.net_price, "-2.05".parse().unwrap());
    assert_eq!(fill.quantity, 2);
    let quantities: Vec<i64> = fill.legs.iter().map(|l| l.quantity).collect();
    assert_eq!(quantities, [-2, 2]);
    // Two executions of 2 contracts at $0.65: $1.30 each, as IB's commission reports say.
    assert_eq!(fill.commission, money("2.60"));
    assert_eq!(fill.cash, money("410"));
    let account = broker.account();
    assert_eq!(account.cash, money("100407.40"));
    assert_eq!(account.fees_paid, money("2.60"));
    assert_eq!(broker.positions().len(), 2);
    assert_eq!(broker.ledger().state(id).unwrap(), IntentState::Filled);
    assert_eq!(broker.ledger().executions(id).unwrap().len(), 2);
}

#[test]
fn partial_fills_move_the_ledger_to_partially_filled_and_the_fill_is_reported_once_complete() {
    let tws = fake();
    tws.push_behaviour(OrderBehaviour::Work);
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    let (id, order_ref) = place_working(&tws, &mut broker, put_spread(3));
    assert!(tws.fill_part(order_ref.as_str(), 1.0));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut events = Vec::new();
    while broker.ledger().state(id).unwrap() != IntentState::PartiallyFilled {
        assert!(Instant::now() < deadline, "never partially filled");
        events.extend(broker.poll_events());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        fills_of(&events, id),
        0,
        "no fill before the order completes"
    );
    assert_eq!(broker.order(id).unwrap().status, OrderStatus::Submitted);
    assert!(tws.fill_order(order_ref.as_str()));
    events.extend(poll_until(&mut broker, is_end_of(id)));
    assert_eq!(fills_of(&events, id), 1);
    let fill = broker.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.quantity, 3);
    assert_eq!(fill.net_price, "-2.05".parse().unwrap());
    // 1 + 2 contracts on each leg: commissions 0.65 raised to the $1 minimum, then 1.30 each.
    assert_eq!(broker.ledger().executions(id).unwrap().len(), 4);
    assert_eq!(
        fill.legs.iter().map(|l| l.quantity).collect::<Vec<_>>(),
        [-3, 3]
    );
}

#[test]
fn a_rejection_is_reported_with_ibs_reason_and_stops_new_openings_but_not_closings() {
    let tws = fake();
    tws.push_behaviour(OrderBehaviour::Reject {
        code: 201,
        message: "Order rejected - reason: insufficient margin".to_owned(),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    let id = broker.place(put_spread(1), opening()).unwrap();
    let events = poll_until(&mut broker, is_end_of(id));
    let reason = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Rejected { order, reason } if *order == id => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        reason.contains("201") && reason.contains("insufficient margin"),
        "{reason}"
    );
    assert_eq!(broker.ledger().state(id).unwrap(), IntentState::Rejected);
    assert!(broker.openings_stopped().unwrap().contains("rejected"));

    // A new opening is refused without reaching IB; a closing order still goes.
    let refused = broker.place(put_spread(1), opening()).unwrap();
    let events = poll_until(&mut broker, is_end_of(refused));
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::Rejected { order, reason } if *order == refused && reason.contains("circuit breaker"))));
    assert_eq!(tws.placed_orders().len(), 1);
    let close = broker
        .place(
            put_spread(1).closing("-0.40".parse().unwrap()),
            OrderTag::new("put-spread", "p0", "close: take profit"),
        )
        .unwrap();
    poll_until(&mut broker, is_end_of(close));
    assert_eq!(tws.placed_orders().len(), 2);
    assert_eq!(broker.order(close).unwrap().status, OrderStatus::Filled);
}

#[test]
fn a_working_order_cancelled_on_request_ends_cancelled() {
    let tws = fake();
    tws.push_behaviour(OrderBehaviour::Work);
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    let (id, _) = place_working(&tws, &mut broker, put_spread(1));
    broker.cancel(id).unwrap();
    let events = poll_until(&mut broker, is_end_of(id));
    assert!(events.iter().any(|e| matches!(e.kind,
        EventKind::Cancelled { order, reason: CancelReason::Requested } if order == id)));
    assert_eq!(broker.ledger().state(id).unwrap(), IntentState::Cancelled);
    assert_eq!(tws.cancel_requests().len(), 1);
    assert!(matches!(
        broker.cancel(id),
        Err(IbError::OrderNotOpen { .. })
    ));
}

#[test]
fn a_client_id_in_use_is_a_clear_error() {
    let tws = fake();
    tws.set_client_id_in_use(17, true);
    let dir = tempfile::tempdir().unwrap();
    let err = IbBroker::connect(
        config(&tws),
        dir.path().join("live.db"),
        money("100000"),
        start_time(),
    )
    .unwrap_err();
    assert!(
        matches!(err, IbError::ClientIdInUse { client_id: 17, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("326"));
    assert!(tws.placed_orders().is_empty());
}

#[test]
fn nothing_listening_is_a_connect_error_naming_the_address() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let err = IbBroker::connect(
        IbConfig::new(IbEndpoint::GatewayPaper).with_port(port),
        dir.path().join("live.db"),
        money("100000"),
        start_time(),
    )
    .unwrap_err();
    assert!(matches!(err, IbError::Connect { .. }), "{err}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn a_fill_while_the_connection_is_down_is_booked_once_after_the_reconnect() {
    let tws = fake();
    tws.push_behaviour(OrderBehaviour::Work);
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    // What the dashboard is told of the link: up at first, each change once.
    let link = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&link);
    broker.watch_link(move |status| seen.lock().unwrap().push(status.clone()));
    let (id, order_ref) = place_working(&tws, &mut broker, put_spread(1));
    tws.set_accepting(false);
    tws.drop_connections();
    assert!(tws.fill_order(order_ref.as_str()));
    // Seen disconnected, openings stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker.is_connected() {
        assert!(Instant::now() < deadline, "never saw the disconnect");
        broker.poll_events();
        std::thread::sleep(Duration::from_millis(20));
    }
    broker.poll_events();
    assert!(broker.openings_stopped().unwrap().contains("connection"));
    tws.set_accepting(true);
    let events = poll_until(&mut broker, is_end_of(id));
    let link = link.lock().unwrap().clone();
    assert_eq!(
        link.first(),
        Some(&LinkStatus {
            connected: true,
            openings_stopped: None
        })
    );
    let down = link
        .iter()
        .find(|s| !s.connected)
        .expect("the disconnect was reported");
    assert!(
        down.openings_stopped
            .as_deref()
            .unwrap()
            .contains("connection")
    );
    assert!(link.last().unwrap().connected, "{link:?}");
    // The breaker stays tripped after the reconnect until a person resets it.
    assert!(link.last().unwrap().openings_stopped.is_some(), "{link:?}");
    assert_eq!(fills_of(&events, id), 1);
    assert_eq!(tws.placed_orders().len(), 1, "the order was not sent again");
    assert_eq!(broker.ledger().executions(id).unwrap().len(), 2);
    // Polling on reports nothing more about it.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fills_of(&broker.poll_events(), id), 0);
}

#[test]
fn a_restart_books_a_fill_that_happened_while_the_trader_was_stopped_once() {
    let tws = fake();
    tws.push_behaviour(OrderBehaviour::Work);
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("live.db");
    // The trader stops (its broker dropped) while the order works.
    let (id, order_ref) = place_working(&tws, &mut connect(&tws, &ledger), put_spread(1));
    assert!(tws.fill_order(order_ref.as_str()));
    let mut broker = connect(&tws, &ledger);
    let events = poll_until(&mut broker, is_end_of(id));
    assert_eq!(fills_of(&events, id), 1);
    // $205 of credit; commissions $0.65 raised to the $1.00 minimum on the first execution,
    // then $0.65: $1.65.
    assert_eq!(broker.account().cash, money("100203.35"));
    drop(broker);
    // A second restart reports nothing again and sends nothing.
    let mut again = connect(&tws, &ledger);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fills_of(&again.poll_events(), id), 0);
    assert_eq!(again.order(id).unwrap().status, OrderStatus::Filled);
    assert_eq!(tws.placed_orders().len(), 1);
}

/// The child process of the `kill -9` tests: connects, places one order, and parks at the
/// fault point named by `VOLTA_IB_FAULT` until the parent kills it.
#[test]
#[ignore = "the child process of the kill -9 tests (run by them)"]
fn crash_child() {
    let port: u16 = std::env::var("VOLTA_IB_PORT").unwrap().parse().unwrap();
    let ledger = std::env::var("VOLTA_IB_LEDGER").unwrap();
    let fault = std::env::var("VOLTA_IB_FAULT").unwrap();
    let mut broker = IbBroker::connect(
        IbConfig::new(IbEndpoint::TwsPaper).with_port(port),
        &ledger,
        money("100000"),
        start_time(),
    )
    .unwrap();
    broker.set_fault_hook(move |point: FaultPoint| {
        if format!("{point:?}") == fault {
            println!("PARKED {point:?}");
            std::thread::sleep(Duration::from_secs(600));
        }
    });
    let id = broker.place(put_spread(1), opening()).unwrap();
    loop {
        broker.poll_events();
        if broker.order(id).is_some_and(|o| o.status.is_terminal()) {
            println!("FINISHED without parking");
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the child until it parks at `fault`, then kills it with SIGKILL.
fn kill_child_at(tws: &FakeTws, ledger: &Path, fault: FaultPoint) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--nocapture"])
        .env("VOLTA_IB_PORT", tws.port().to_string())
        .env("VOLTA_IB_LEDGER", ledger)
        .env("VOLTA_IB_FAULT", format!("{fault:?}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut parked = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("PARKED") {
            parked = true;
            break;
        }
        assert!(
            !line.starts_with("FINISHED"),
            "the child never reached {fault:?}"
        );
    }
    assert!(parked, "the child ended before {fault:?}");
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no goodbye to TWS
    child.wait().unwrap();
}

/// After the kill: restart on the same ledger; returns (orders IB received, fills reported,
/// cancellations reported) for the one order.
fn restart_and_count(tws: &FakeTws, ledger: &Path) -> (usize, usize, Vec<BrokerEvent>) {
    let mut broker = connect(tws, ledger);
    let id = OrderId::new(1);
    let events = poll_until(&mut broker, is_end_of(id));
    // Nothing more arrives later, and a second restart reports nothing again.
    std::thread::sleep(Duration::from_millis(300));
    let mut all = events;
    all.extend(broker.poll_events());
    drop(broker);
    let mut again = connect(tws, ledger);
    std::thread::sleep(Duration::from_millis(300));
    all.extend(again.poll_events());
    (tws.placed_orders().len(), fills_of(&all, id), all)
}

#[test]
fn killed_between_intent_and_send_the_order_is_cancelled_as_never_sent_and_not_sent_later() {
    let tws = fake();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("live.db");
    kill_child_at(&tws, &ledger, FaultPoint::IntentWritten);
    let (sent, fills, events) = restart_and_count(&tws, &ledger);
    assert_eq!((sent, fills), (0, 0));
    let cancelled = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Cancelled { .. }))
        .count();
    assert_eq!(cancelled, 1, "reported once: {events:#?}");
    let ledger = volta_ib::ledger::IntentLedger::open(&ledger).unwrap();
    let intents = ledger.intents().unwrap();
    assert_eq!(intents.len(), 1, "the intent is not lost");
    assert_eq!(intents[0].state, IntentState::Cancelled);
    assert!(intents[0].detail.as_deref().unwrap().contains("never sent"));
}

#[test]
fn killed_between_send_and_fill_the_order_is_not_sent_again_and_its_fill_is_booked_once() {
    let tws = fake();
    tws.push_behaviour(OrderBehaviour::Work);
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("live.db");
    kill_child_at(&tws, &ledger, FaultPoint::Sent);
    assert!(tws.wait_until(|s| s.orders.len() == 1, Duration::from_secs(10)));
    let order_ref = tws.orders()[0].order_ref.clone();
    assert!(tws.fill_order(order_ref.as_str()));
    let (sent, fills, _) = restart_and_count(&tws, &ledger);
    assert_eq!((sent, fills), (1, 1));
    let ledger = volta_ib::ledger::IntentLedger::open(&ledger).unwrap();
    assert_eq!(ledger.executions(OrderId::new(1)).unwrap().len(), 2);
}

#[test]
fn killed_after_the_fill_before_booking_it_the_fill_is_booked_once_on_restart() {
    let tws = fake();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("live.db");
    kill_child_at(&tws, &ledger, FaultPoint::ExecutionBooked);
    let (sent, fills, _) = restart_and_count(&tws, &ledger);
    assert_eq!((sent, fills), (1, 1));
    let ledger = volta_ib::ledger::IntentLedger::open(&ledger).unwrap();
    assert_eq!(
        ledger.executions(OrderId::new(1)).unwrap().len(),
        2,
        "each execution booked once"
    );
    assert_eq!(ledger.state(OrderId::new(1)).unwrap(), IntentState::Filled);
}

#[test]
fn expiry_is_booked_at_the_close_as_occ_settles_once_and_survives_a_restart() {
    let tws = fake();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("live.db");
    let mut broker = connect(&tws, &ledger);
    let id = broker.place(put_spread(2), opening()).unwrap();
    poll_until(&mut broker, is_end_of(id));
    let expiry = NaiveDate::from_ymd_opt(2025, 3, 21).unwrap();
    let cash_before = broker.account().cash;
    // SPY closes at 555 on expiry day: the short 560 put is 5 in the money (assigned: 200
    // shares bought at 560), the long 550 put is out of it (expires).
    let settlements = Settlements::new().with(
        "SPY".parse().unwrap(),
        "556".parse().unwrap(),
        "555".parse().unwrap(),
    );
    broker.on_session_close(expiry, &settlements).unwrap();
    let events = broker.poll_events();
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Assigned(s) => {
                assert_eq!(s.contract.key().to_string(), SHORT_PUT);
                assert_eq!(s.stock_delivered, 200);
                assert_eq!(s.cash, money("-112000"));
                Some("assigned")
            }
            EventKind::Expired(s) => {
                assert_eq!(s.contract.key().to_string(), LONG_PUT);
                Some("expired")
            }
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), 2, "{events:#?}");
    assert!(kinds.contains(&"assigned") && kinds.contains(&"expired"));
    let held = |b: &IbBroker| {
        b.positions()
            .into_iter()
            .map(|p| (p.instrument.to_string(), p.quantity))
            .collect::<Vec<_>>()
    };
    assert_eq!(held(&broker), [("SPY stock".to_owned(), 200)]);
    // 200 shares at the 560 strike: $112,000 out, no exercise or assignment fee at IB.
    assert_eq!(broker.account().cash, cash_before - money("112000"));

    // The same close again books nothing more; a restart rebuilds the same book from the
    // ledger's executions and settlements.
    broker.on_session_close(expiry, &settlements).unwrap();
    assert!(
        broker
            .poll_events()
            .iter()
            .all(|e| !matches!(e.kind, EventKind::Assigned(_) | EventKind::Expired(_)))
    );
    let account = broker.account();
    drop(broker);
    let restarted = connect(&tws, &ledger);
    assert_eq!(held(&restarted), [("SPY stock".to_owned(), 200)]);
    assert_eq!(restarted.account(), account);
}

#[test]
fn an_expiring_option_without_a_settlement_price_is_a_clear_error() {
    let tws = fake();
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    let id = broker.place(put_spread(1), opening()).unwrap();
    poll_until(&mut broker, is_end_of(id));
    let expiry = NaiveDate::from_ymd_opt(2025, 3, 21).unwrap();
    let err = broker
        .on_session_close(expiry, &Settlements::new())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot settle SPY   250321P00550000 at the close of 2025-03-21: no closing price for SPY"),
        "{err}"
    );
    assert_eq!(broker.positions().len(), 2, "nothing was booked");
}

#[test]
fn the_pre_open_check_compares_ibs_positions_with_the_ledgers_book() {
    let tws = fake();
    let dir = tempfile::tempdir().unwrap();
    let mut broker = connect(&tws, &dir.path().join("live.db"));
    let id = broker.place(put_spread(3), opening()).unwrap();
    poll_until(&mut broker, is_end_of(id));
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let report = broker.pre_open(now, false).unwrap();
    assert_eq!(report.positions, 2);
    // Overnight IB assigned the short put early: its position is gone and stock arrived.
    let short = tws
        .positions()
        .into_iter()
        .find(|p| p.position < 0.0)
        .unwrap();
    tws.set_position(short.contract, 0.0, 0.0);
    let err = broker.pre_open(now, false).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("{SHORT_PUT}: IB 0, Volta -3")),
        "{text}"
    );
    assert!(!text.contains(LONG_PUT), "{text}");
    assert!(text.contains("settle it at IB"), "{text}");

    // A trader already running sees it at the next session's open: openings stop, with the
    // contract named; the run goes on (closing orders still go).
    assert!(broker.openings_stopped().is_none());
    broker
        .on_session_open(NaiveDate::from_ymd_opt(2025, 3, 18).unwrap())
        .unwrap();
    let why = broker.openings_stopped().unwrap();
    assert!(
        why.contains(&format!("{SHORT_PUT}: IB 0, Volta -3")),
        "{why}"
    );
}
