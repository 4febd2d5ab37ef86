//! The fake TWS against the real ibapi 5.5 blocking client.
#![expect(
    clippy::disallowed_methods,
    reason = "tests against live sockets bound their waits with wall time"
)]

use std::time::{Duration, Instant};

use ibapi::Error;
use ibapi::accounts::{AccountSummaryResult, PositionUpdate};
use ibapi::client::blocking::Client;
use ibapi::contracts::{ComboLeg, Contract, Currency, Exchange, LegAction, SecurityType, Symbol};
use ibapi::market_data::MarketDataType;
use ibapi::market_data::realtime::TickTypes;
use ibapi::orders::{
    Action, CancelOrder, ExecutionFilter, Executions, Order, OrderData, OrderOutcome, OrderUpdate,
    Orders, PlaceOrder, TimeInForce,
};
use ibapi::subscriptions::SubscriptionItem;
use volta_ib::fake_tws::{FakeTws, OptionChain, OrderBehaviour, Quote};

const WAIT: Duration = Duration::from_secs(20);

fn start() -> FakeTws {
    let tws = FakeTws::start().expect("fake TWS starts");
    tws.add_option_chain(OptionChain::new(
        "SPY",
        &["20250321", "20250418"],
        &[540.0, 550.0, 560.0, 570.0],
    ));
    tws
}

fn connect(tws: &FakeTws, client_id: i32) -> Client {
    Client::connect(&tws.address(), client_id).expect("client connects to the fake TWS")
}

fn spy_put(strike: f64) -> Contract {
    Contract::put("SPY")
        .strike(strike)
        .expires_on(2025, 3, 21)
        .build()
}

fn con_id(client: &Client, contract: &Contract) -> i32 {
    let details = client.contract_details(contract).expect("contract details");
    assert_eq!(details.len(), 1);
    details[0].contract.contract_id
}

/// A SPY put vertical: SELL the 560 put, BUY the 550 put (a credit spread when bought at a
/// negative price).
fn put_vertical(client: &Client) -> (Contract, i32, i32) {
    let short = con_id(client, &spy_put(560.0));
    let long = con_id(client, &spy_put(550.0));
    let leg = |contract_id, action| ComboLeg {
        contract_id,
        ratio: 1,
        action,
        exchange: "SMART".into(),
        ..ComboLeg::default()
    };
    let contract = Contract {
        symbol: Symbol::from("SPY"),
        security_type: SecurityType::Spread,
        exchange: Exchange::from("SMART"),
        currency: Currency::from("USD"),
        combo_legs: vec![leg(short, LegAction::Sell), leg(long, LegAction::Buy)],
        ..Contract::default()
    };
    (contract, short, long)
}

fn limit_order(action: Action, quantity: f64, limit: f64, order_ref: &str) -> Order {
    Order {
        action,
        total_quantity: quantity,
        order_type: "LMT".into(),
        limit_price: Some(limit),
        tif: TimeInForce::Day,
        order_ref: order_ref.into(),
        ..Order::default()
    }
}

/// Every item of an order subscription until `done` holds for an item or the wait ends.
fn read_until(
    sub: &ibapi::subscriptions::sync::Subscription<PlaceOrder>,
    mut done: impl FnMut(&PlaceOrder) -> bool,
) -> Vec<PlaceOrder> {
    let deadline = Instant::now() + WAIT;
    let mut items = Vec::new();
    while Instant::now() < deadline {
        match sub.next_timeout(deadline.saturating_duration_since(Instant::now())) {
            Some(Ok(SubscriptionItem::Data(item))) => {
                let stop = done(&item);
                items.push(item);
                if stop {
                    return items;
                }
            }
            Some(Ok(SubscriptionItem::Notice(_))) => {}
            Some(Err(e)) => panic!("order subscription failed: {e}"),
            None => break,
        }
    }
    panic!("order subscription did not reach the expected update: {items:#?}");
}

fn is_status(item: &PlaceOrder, status: &str) -> bool {
    matches!(item, PlaceOrder::OrderStatus(s) if s.status.to_string() == status)
}

fn open_orders(client: &Client) -> Vec<OrderData> {
    let orders = client
        .open_orders()
        .expect("open orders")
        .collect_to_end_within(WAIT)
        .expect("open orders end");
    orders
        .into_iter()
        .filter_map(|o| match o {
            Orders::OrderData(d) => Some(d),
            Orders::OrderStatus(_) => None,
        })
        .collect()
}

fn completed_orders(client: &Client) -> Vec<OrderData> {
    let orders = client
        .completed_orders(true)
        .expect("completed orders")
        .collect_to_end_within(WAIT)
        .expect("completed orders end");
    orders
        .into_iter()
        .filter_map(|o| match o {
            Orders::OrderData(d) => Some(d),
            Orders::OrderStatus(_) => None,
        })
        .collect()
}

fn executions(
    client: &Client,
) -> (
    Vec<ibapi::orders::ExecutionData>,
    Vec<ibapi::orders::CommissionReport>,
) {
    let items = client
        .executions(ExecutionFilter::default())
        .expect("executions")
        .collect_to_end_within(WAIT)
        .expect("executions end");
    let mut execs = Vec::new();
    let mut commissions = Vec::new();
    for item in items {
        match item {
            Executions::ExecutionData(e) => execs.push(e),
            Executions::CommissionReport(c) => commissions.push(c),
        }
    }
    (execs, commissions)
}

/// `executions` after dropping an order's `place_order` subscription: asked again until
/// ibapi has let go of the subscription (its clean-up is asynchronous; until it runs, the
/// replies still go to the dropped subscription) and the counts are `expected`, or `WAIT`
/// passes.
fn executions_once_released(
    client: &Client,
    expected: (usize, usize),
) -> (
    Vec<ibapi::orders::ExecutionData>,
    Vec<ibapi::orders::CommissionReport>,
) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (execs, commissions) = executions(client);
        if (execs.len(), commissions.len()) == expected || Instant::now() >= deadline {
            return (execs, commissions);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Drops every socket and waits until the client is back (a new session past `StartApi`).
fn bounce(tws: &FakeTws, client: &Client) {
    let before = tws.total_connections();
    tws.drop_connections();
    assert!(
        tws.wait_until(
            |s| s.total_connections > before && s.connections == 1,
            Duration::from_secs(60)
        ),
        "client reconnected"
    );
    client.wait_connected().expect("client reconnected");
}

#[test]
fn connect_reads_next_order_id_and_managed_accounts() {
    let tws = start();
    tws.set_next_valid_id(100);
    let client = connect(&tws, 1);
    assert_eq!(client.next_order_id(), 100);
    assert_eq!(client.next_valid_order_id().unwrap(), 100);
    assert_eq!(
        client.managed_accounts().unwrap(),
        vec!["DU1234567".to_string()]
    );
    assert_eq!(client.server_version(), 226);
    // The handshake's "YYYYMMDD HH:MM:SS UTC" parses.
    assert!(client.connection_time().is_some());
    tws.set_clock(Some(
        chrono::DateTime::from_timestamp(1_796_657_400, 0).unwrap(),
    ));
    assert_eq!(
        client.server_time().unwrap().unix_timestamp(),
        1_796_657_400
    );
    assert!(tws.wait_until(|s| s.connections == 1, WAIT));
}

#[test]
fn a_client_id_in_use_is_refused_with_326() {
    let tws = start();
    tws.set_client_id_in_use(7, true);
    match Client::connect(&tws.address(), 7) {
        Err(Error::ClientIdInUse { client_id }) => assert_eq!(client_id, 7),
        Err(e) => panic!("expected ClientIdInUse, got {e:?}"),
        Ok(_) => panic!("expected ClientIdInUse, got a client"),
    }
    // A second live session on the same id is refused the same way, as TWS does.
    let _first = connect(&tws, 8);
    match Client::connect(&tws.address(), 8) {
        Err(Error::ClientIdInUse { client_id }) => assert_eq!(client_id, 8),
        Err(e) => panic!("expected ClientIdInUse, got {e:?}"),
        Ok(_) => panic!("expected ClientIdInUse, got a client"),
    }
    assert_eq!(tws.connections(), 1);
}

#[test]
fn contract_details_for_an_option_give_a_stable_con_id_and_the_occ_symbol() {
    let tws = start();
    let client = connect(&tws, 1);
    let details = client.contract_details(&spy_put(560.0)).unwrap();
    assert_eq!(details.len(), 1);
    let d = &details[0];
    assert_eq!(
        d.contract.contract_id,
        FakeTws::option_con_id("SPY", "20250321", "P", 560.0)
    );
    assert!(d.contract.contract_id > 0);
    assert_eq!(d.contract.local_symbol, "SPY   250321P00560000");
    assert_eq!(d.contract.trading_class, "SPY");
    assert_eq!(d.contract.multiplier, "100");
    assert_eq!(d.contract.strike, 560.0);
    assert_eq!(d.min_tick, 0.01);
    // The same option asked again gets the same conId; another strike another one.
    assert_eq!(con_id(&client, &spy_put(560.0)), d.contract.contract_id);
    assert_ne!(con_id(&client, &spy_put(550.0)), d.contract.contract_id);

    // A strike outside the chain: error 200.
    match client.contract_details(&spy_put(555.0)) {
        Err(Error::Notice(notice)) => {
            assert_eq!(notice.code, 200);
            assert!(
                notice.message.contains("No security definition"),
                "{}",
                notice.message
            );
        }
        other => panic!("expected error 200, got {other:?}"),
    }
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one fill, every value the client sees checked"
)]
fn a_bag_limit_order_fills_with_executions_and_commissions() {
    let tws = start();
    let client = connect(&tws, 1);
    let (bag, short, long) = put_vertical(&client);
    tws.set_quote(
        short,
        Quote {
            bid: 5.10,
            ask: 5.30,
            last: None,
        },
    );
    tws.set_quote(
        long,
        Quote {
            bid: 3.00,
            ask: 3.20,
            last: None,
        },
    );

    let order_id = client.next_order_id();
    let order = limit_order(Action::Buy, 2.0, -2.05, "volta-1");
    let sub = client.place_order(order_id, &bag, &order).unwrap();
    let items = read_until(&sub, |i| is_status(i, "Filled"));

    let execs: Vec<_> = items
        .iter()
        .filter_map(|i| {
            if let PlaceOrder::ExecutionData(e) = i {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    let reports: Vec<_> = items
        .iter()
        .filter_map(|i| {
            if let PlaceOrder::CommissionReport(c) = i {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(execs.len(), 2, "{items:#?}");
    let short_exec = execs
        .iter()
        .find(|e| e.contract.contract_id == short)
        .unwrap();
    let long_exec = execs
        .iter()
        .find(|e| e.contract.contract_id == long)
        .unwrap();
    assert_eq!(short_exec.execution.side.to_string(), "SLD");
    assert_eq!(long_exec.execution.side.to_string(), "BOT");
    assert_eq!(short_exec.execution.shares, 2.0);
    assert_eq!(long_exec.execution.shares, 2.0);
    assert_eq!(short_exec.execution.order_reference, "volta-1");
    assert_eq!(short_exec.execution.order_id, order_id);
    assert_eq!(short_exec.execution.account_number, "DU1234567");
    // The legs net to the limit: bought minus sold = −2.05 (a 2.05 credit).
    let net = long_exec.execution.price - short_exec.execution.price;
    assert!((net + 2.05).abs() < 1e-9, "net {net}");
    // Base prices are the quote mids (5.20, 3.10: net −2.10); the first leg whose price rises
    // to absorb the +0.05 difference is the bought one.
    assert!((short_exec.execution.price - 5.20).abs() < 1e-9);
    assert!((long_exec.execution.price - 3.15).abs() < 1e-9);
    assert_eq!(short_exec.contract.local_symbol, "SPY   250321P00560000");

    assert_eq!(reports.len(), 2);
    for report in &reports {
        assert!((report.commission - 1.30).abs() < 1e-9, "{report:?}");
        assert_eq!(report.currency, "USD");
        assert!(
            execs
                .iter()
                .any(|e| e.execution.execution_id == report.execution_id)
        );
    }
    let PlaceOrder::OrderStatus(filled) = items.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(filled.order_id, order_id);
    assert_eq!(filled.filled, 2.0);
    assert_eq!(filled.remaining, 0.0);
    assert!((filled.average_fill_price.unwrap() + 2.05).abs() < 1e-9);
    assert!(
        items
            .iter()
            .any(|i| matches!(i, PlaceOrder::OpenOrder(o) if o.order.order_ref == "volta-1"))
    );

    let placed = tws.placed_orders();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].order_ref, "volta-1");
    assert_eq!(placed[0].contract.legs.len(), 2);
    assert_eq!(placed[0].limit_price, Some(-2.05));
    let state_order = tws.order("volta-1").unwrap();
    assert_eq!(state_order.status, "Filled");
    assert_eq!(state_order.filled, 2.0);
    let positions = tws.positions();
    assert_eq!(
        positions
            .iter()
            .find(|p| p.contract.con_id == short)
            .unwrap()
            .position,
        -2.0
    );
    assert_eq!(
        positions
            .iter()
            .find(|p| p.contract.con_id == long)
            .unwrap()
            .position,
        2.0
    );
}

#[test]
fn fill_in_parts_reports_partial_statuses_then_filled() {
    let tws = start();
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    tws.set_clock(Some(
        chrono::DateTime::from_timestamp(1_796_657_400, 0).unwrap(),
    ));
    tws.push_behaviour(OrderBehaviour::FillInParts(3));
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &contract,
            &limit_order(Action::Sell, 3.0, 5.2, "parts"),
        )
        .unwrap();
    let items = read_until(&sub, |i| is_status(i, "Filled"));
    let statuses: Vec<(String, f64, f64)> = items
        .iter()
        .filter_map(|i| {
            if let PlaceOrder::OrderStatus(s) = i {
                Some((s.status.to_string(), s.filled, s.remaining))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("Submitted".to_string(), 0.0, 3.0),
            ("Submitted".to_string(), 1.0, 2.0),
            ("Submitted".to_string(), 2.0, 1.0),
            ("Filled".to_string(), 3.0, 0.0),
        ]
    );
    let execs: Vec<_> = items
        .iter()
        .filter_map(|i| {
            if let PlaceOrder::ExecutionData(e) = i {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(execs.len(), 3);
    assert!(execs.iter().all(|e| e.execution.shares == 1.0
        && e.execution.price == 5.2
        && e.execution.side.to_string() == "SLD"));
    assert_eq!(execs[2].execution.cumulative_quantity, 3.0);
    assert!(
        execs
            .iter()
            .all(|e| e.execution.time == "20261207 15:30:00 UTC"),
        "{execs:?}"
    );
    // $0.65 a contract, the first execution raised to the $1 minimum: 1.00, 0.65, 0.65.
    let commissions: Vec<f64> = items
        .iter()
        .filter_map(|i| {
            if let PlaceOrder::CommissionReport(c) = i {
                Some(c.commission)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(commissions.len(), 3);
    assert!(
        (commissions[0] - 1.0).abs() < 1e-9 && (commissions[1] - 0.65).abs() < 1e-9,
        "{commissions:?}"
    );
}

#[test]
fn a_rejected_order_gives_the_error() {
    let tws = start();
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    let updates = client.order_update_stream().unwrap();
    tws.push_behaviour(OrderBehaviour::Reject {
        code: 201,
        message: "Order rejected - reason: insufficient margin".into(),
    });
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &contract,
            &limit_order(Action::Buy, 1.0, 5.0, "rejected"),
        )
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let mut rejection = None;
    while Instant::now() < deadline && rejection.is_none() {
        match sub.next_timeout(Duration::from_secs(1)) {
            Some(Err(Error::Notice(notice))) => rejection = Some(notice),
            Some(Err(e)) => panic!("unexpected error {e:?}"),
            Some(Ok(_)) | None => {}
        }
    }
    let rejection = rejection.expect("the rejection reaches the order subscription");
    // The order update stream sees the error and the final status.
    let mut update_notice = false;
    let mut cancelled = false;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline && !(update_notice && cancelled) {
        match updates.next_timeout(Duration::from_secs(1)) {
            Some(Ok(SubscriptionItem::Notice(n))) => update_notice |= n.code == 201,
            Some(Ok(SubscriptionItem::Data(OrderUpdate::OrderStatus(s)))) => {
                cancelled |= s.status.to_string() == "Cancelled" && s.filled == 0.0;
            }
            Some(Ok(_)) | None => {}
            Some(Err(e)) => panic!("update stream failed: {e:?}"),
        }
    }
    assert!(update_notice && cancelled);
    assert_eq!(rejection.code, 201);
    assert!(rejection.message.contains("insufficient margin"));
    assert!(tws.wait_until(|s| s.orders[&order_id].status == "Cancelled", WAIT));
    assert_eq!(tws.order(order_id).unwrap().filled, 0.0);
}

#[test]
fn a_working_order_is_cancelled() {
    let tws = start();
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    tws.set_default_behaviour(OrderBehaviour::Work);
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &contract,
            &limit_order(Action::Buy, 1.0, 4.0, "to-cancel"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Submitted"));
    drop(sub);

    let cancel = client.cancel_order(order_id, "").unwrap();
    let deadline = Instant::now() + WAIT;
    let mut cancelled = false;
    while Instant::now() < deadline && !cancelled {
        match cancel.next_timeout(Duration::from_secs(1)) {
            Some(Ok(SubscriptionItem::Data(CancelOrder::OrderStatus(s)))) => {
                cancelled = s.status.to_string() == "Cancelled";
            }
            Some(Ok(SubscriptionItem::Notice(n))) => assert_eq!(n.code, 202),
            Some(Err(e)) => panic!("cancel failed: {e:?}"),
            None => {}
        }
    }
    assert!(cancelled);
    assert_eq!(tws.cancel_requests(), vec![order_id]);
    assert_eq!(tws.order(order_id).unwrap().status, "Cancelled");
    assert!(open_orders(&client).is_empty());
    let completed = completed_orders(&client);
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].order.order_ref, "to-cancel");
    assert_eq!(completed[0].order_state.status.to_string(), "Cancelled");
}

#[test]
fn after_a_dropped_connection_the_client_reconnects_and_finds_orders_and_executions() {
    let tws = start();
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);

    let filled_id = client.next_order_id();
    let sub = client
        .place_order(
            filled_id,
            &contract,
            &limit_order(Action::Buy, 1.0, 5.0, "filled-ref"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Filled"));
    drop(sub);
    tws.push_behaviour(OrderBehaviour::Work);
    let working_id = client.next_order_id();
    let sub = client
        .place_order(
            working_id,
            &contract,
            &limit_order(Action::Sell, 2.0, 6.0, "working-ref"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Submitted"));
    drop(sub);

    bounce(&tws, &client);

    let open = open_orders(&client);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].order_id, working_id);
    assert_eq!(open[0].order.order_ref, "working-ref");
    assert_eq!(open[0].order.account, "DU1234567");
    assert_eq!(open[0].order.total_quantity, 2.0);
    assert_eq!(open[0].order.limit_price, Some(6.0));
    assert_eq!(open[0].order_state.status.to_string(), "Submitted");

    let all_open = client
        .all_open_orders()
        .unwrap()
        .collect_to_end_within(WAIT)
        .unwrap();
    assert!(
        all_open
            .iter()
            .any(|o| matches!(o, Orders::OrderData(d) if d.order.order_ref == "working-ref"))
    );

    let completed = completed_orders(&client);
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].order.order_ref, "filled-ref");
    assert_eq!(completed[0].order_state.status.to_string(), "Filled");

    let (execs, commissions) = executions(&client);
    assert_eq!(execs.len(), 1);
    assert_eq!(execs[0].execution.order_reference, "filled-ref");
    assert_eq!(execs[0].execution.order_id, filled_id);
    assert_eq!(execs[0].execution.price, 5.0);
    assert_eq!(commissions.len(), 1);
    assert!((commissions[0].commission - 1.0).abs() < 1e-9);
    assert_eq!(commissions[0].execution_id, execs[0].execution.execution_id);

    // The filter applies: another symbol has no executions, the right side and client do.
    let filter = |symbol: &str, client_id| ExecutionFilter {
        symbol: symbol.into(),
        client_id: Some(client_id),
        ..ExecutionFilter::default()
    };
    let none = client
        .executions(filter("QQQ", 1))
        .unwrap()
        .collect_to_end_within(WAIT)
        .unwrap();
    assert!(none.is_empty());
    let other_client = client
        .executions(filter("SPY", 2))
        .unwrap()
        .collect_to_end_within(WAIT)
        .unwrap();
    assert!(other_client.is_empty());
    let spy = client
        .executions(filter("SPY", 1))
        .unwrap()
        .collect_to_end_within(WAIT)
        .unwrap();
    assert_eq!(spy.len(), 2, "the execution and its commission report");
}

#[test]
fn a_fill_while_the_client_is_down_is_visible_after_the_reconnect() {
    let tws = start();
    tws.set_default_behaviour(OrderBehaviour::Work);
    let client = connect(&tws, 1);
    let (bag, short, long) = put_vertical(&client);
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &bag,
            &limit_order(Action::Buy, 1.0, -1.5, "while-down"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Submitted"));
    drop(sub);

    tws.set_commission(0.5, 0.0);
    tws.set_accepting(false);
    tws.drop_connections();
    assert!(tws.wait_until(|s| s.connections == 0, WAIT));
    assert!(tws.fill_order("while-down"));
    assert!(
        !tws.fill_order("while-down"),
        "a filled order cannot fill again"
    );
    assert_eq!(tws.order(order_id).unwrap().status, "Filled");
    let before = tws.total_connections();
    tws.set_accepting(true);
    assert!(tws.wait_until(|s| s.total_connections > before, Duration::from_secs(60)));
    client.wait_connected().unwrap();

    assert!(open_orders(&client).is_empty());
    let completed = completed_orders(&client);
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].order.order_ref, "while-down");
    assert_eq!(completed[0].order_state.status.to_string(), "Filled");
    let (execs, commissions) = executions(&client);
    assert_eq!(execs.len(), 2);
    assert!(
        execs
            .iter()
            .all(|e| e.execution.order_reference == "while-down")
    );
    let price = |id| {
        execs
            .iter()
            .find(|e| e.contract.contract_id == id)
            .unwrap()
            .execution
            .price
    };
    assert!((price(long) - price(short) + 1.5).abs() < 1e-9);
    assert_eq!(commissions.len(), 2);
    assert!(
        commissions
            .iter()
            .all(|c| (c.commission - 0.5).abs() < 1e-9),
        "{commissions:?}"
    );
}

#[test]
fn a_market_data_snapshot_returns_bid_and_ask() {
    let tws = start();
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    let id = con_id(&client, &contract);
    tws.set_quote(
        id,
        Quote {
            bid: 5.1,
            ask: 5.3,
            last: Some(5.2),
        },
    );
    client
        .switch_market_data_type(MarketDataType::Realtime)
        .unwrap();
    assert!(tws.wait_until(|s| s.market_data_type == Some(1), WAIT));

    let contract_by_id = Contract {
        contract_id: id,
        exchange: Exchange::from("SMART"),
        ..Contract::default()
    };
    let sub = client
        .market_data(&contract_by_id)
        .snapshot()
        .subscribe()
        .unwrap();
    let mut prices = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no snapshot end: {prices:?}");
        match sub.next_timeout(Duration::from_secs(1)) {
            Some(Ok(SubscriptionItem::Data(TickTypes::Price(p)))) => {
                prices.push((p.tick_type.to_string(), p.price));
            }
            Some(Ok(SubscriptionItem::Data(TickTypes::SnapshotEnd))) => break,
            Some(Ok(_)) | None => {}
            Some(Err(e)) => panic!("market data failed: {e:?}"),
        }
    }
    assert!(prices.contains(&("Bid".to_string(), 5.1)), "{prices:?}");
    assert!(prices.contains(&("Ask".to_string(), 5.3)), "{prices:?}");
    assert!(prices.contains(&("Last".to_string(), 5.2)), "{prices:?}");
}

#[test]
fn account_summary_and_positions() {
    let tws = start();
    tws.set_account_value("NetLiquidation", "123456.78");
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    let id = con_id(&client, &contract);
    let sub = client
        .place_order(
            client.next_order_id(),
            &contract,
            &limit_order(Action::Sell, 2.0, 5.0, "pos"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Filled"));
    drop(sub);

    let group = ibapi::accounts::types::AccountGroup("All".into());
    let sub = client
        .account_summary(
            &group,
            &[
                "NetLiquidation",
                "TotalCashValue",
                "BuyingPower",
                "AvailableFunds",
            ],
        )
        .unwrap();
    let mut rows = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "no account summary end: {rows:?}"
        );
        match sub.next_timeout(Duration::from_secs(1)) {
            Some(Ok(SubscriptionItem::Data(AccountSummaryResult::Summary(s)))) => {
                rows.push((s.tag, s.value, s.account));
            }
            Some(Ok(SubscriptionItem::Data(AccountSummaryResult::End))) => break,
            Some(Ok(_)) | None => {}
            Some(Err(e)) => panic!("account summary failed: {e:?}"),
        }
    }
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.contains(&(
        "NetLiquidation".into(),
        "123456.78".into(),
        "DU1234567".into()
    )));
    assert!(
        rows.iter()
            .any(|(tag, value, _)| tag == "BuyingPower" && value == "400000.00")
    );

    let sub = client.positions().unwrap();
    let mut positions = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no position end");
        match sub.next_timeout(Duration::from_secs(1)) {
            Some(Ok(SubscriptionItem::Data(PositionUpdate::Position(p)))) => positions.push(p),
            Some(Ok(SubscriptionItem::Data(PositionUpdate::PositionEnd))) => break,
            Some(Ok(_)) | None => {}
            Some(Err(e)) => panic!("positions failed: {e:?}"),
        }
    }
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].contract.contract_id, id);
    assert_eq!(positions[0].position, -2.0);
    assert!((positions[0].average_cost - 500.0).abs() < 1e-9);
    assert_eq!(positions[0].account, "DU1234567");
}

#[test]
fn option_chain_parameters_come_from_the_configured_chain() {
    let tws = start();
    let client = connect(&tws, 1);
    let underlying = con_id(&client, &Contract::stock("SPY").build());
    let chains = client
        .option_chain("SPY", SecurityType::Stock, underlying)
        .subscribe()
        .unwrap()
        .collect_to_end_within(WAIT)
        .unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0].underlying_contract_id, underlying);
    assert_eq!(chains[0].trading_class, "SPY");
    assert_eq!(chains[0].multiplier, "100");
    assert_eq!(
        chains[0].expirations,
        vec!["20250321".to_string(), "20250418".to_string()]
    );
    assert_eq!(chains[0].strikes, vec![540.0, 550.0, 560.0, 570.0]);
}

#[test]
fn duplicate_place_orders_are_all_recorded() {
    let tws = start();
    tws.set_default_behaviour(OrderBehaviour::Silent);
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    let order_id = client.next_order_id();
    let order = limit_order(Action::Buy, 1.0, 4.0, "dup");
    client.submit_order(order_id, &contract, &order).unwrap();
    client.submit_order(order_id, &contract, &order).unwrap();
    assert!(tws.wait_until(|s| s.placed.len() == 2, WAIT));
    let placed = tws.placed_orders();
    assert!(
        placed
            .iter()
            .all(|p| p.order_id == order_id && p.order_ref == "dup")
    );
    assert_eq!(tws.orders().len(), 1);
    assert_eq!(tws.order("dup").unwrap().status, "Submitted");
}

#[test]
fn the_order_update_stream_survives_a_reconnect_and_sees_a_fill_made_by_the_test() {
    let tws = start();
    tws.set_default_behaviour(OrderBehaviour::Work);
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    let updates = client.order_update_stream().unwrap();
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &contract,
            &limit_order(Action::Buy, 2.0, 4.5, "stream"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Submitted"));

    bounce(&tws, &client);
    // The order's own subscription ended with the connection.
    let ended = sub.next_timeout(WAIT);
    assert!(
        matches!(&ended, Some(Err(e)) if e.is_connection_lost()),
        "{ended:?}"
    );

    assert!(tws.fill_part("stream", 1.0));
    assert!(tws.fill_order(order_id));
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "no Filled on the update stream: {seen:?}"
        );
        match updates.next_timeout(Duration::from_secs(1)) {
            Some(Ok(SubscriptionItem::Data(OrderUpdate::OrderStatus(s)))) => {
                seen.push((s.status.to_string(), s.filled, s.remaining));
                if s.status.to_string() == "Filled" {
                    break;
                }
            }
            Some(Ok(SubscriptionItem::Data(OrderUpdate::ExecutionData(e)))) => {
                assert_eq!(e.execution.order_reference, "stream");
                assert_eq!(e.execution.shares, 1.0);
            }
            Some(Ok(_)) | None => {}
            Some(Err(e)) => panic!("update stream failed: {e:?}"),
        }
    }
    assert!(
        seen.contains(&("Submitted".to_string(), 1.0, 1.0)),
        "{seen:?}"
    );
    assert_eq!(seen.last().unwrap(), &("Filled".to_string(), 2.0, 0.0));
    assert_eq!(tws.executions().len(), 2);
}

#[test]
fn wait_for_fill_finds_an_order_filled_while_the_client_was_down() {
    let tws = start();
    tws.set_default_behaviour(OrderBehaviour::Work);
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    let order_id = client.next_order_id();
    client
        .submit_order(
            order_id,
            &contract,
            &limit_order(Action::Buy, 3.0, 4.5, "waited"),
        )
        .unwrap();
    assert!(tws.wait_until(|s| s.orders.contains_key(&order_id), WAIT));
    let before = tws.total_connections();
    tws.set_accepting(false);
    tws.drop_connections();
    assert!(tws.fill_order("waited"));
    tws.set_accepting(true);
    assert!(tws.wait_until(|s| s.total_connections > before, Duration::from_secs(60)));
    client.wait_connected().unwrap();
    match client.wait_for_fill(order_id, WAIT).unwrap() {
        OrderOutcome::Filled(status) => {
            assert_eq!(status.order_id, order_id);
            assert_eq!(status.filled, 3.0);
            assert_eq!(
                status.remaining, 0.0,
                "a completed order's total quantity is what was left"
            );
        }
        other => panic!("expected Filled, got {other:?}"),
    }
}

/// The wire itself, without ibapi: the handshake, the first frames, an unknown message
/// ignored, and `ReqIds` still answered.
#[test]
fn the_raw_protocol_and_an_unknown_message() {
    use std::io::{Read, Write};

    fn frame(id: i32, payload: &[u8]) -> Vec<u8> {
        let mut body = id.to_be_bytes().to_vec();
        body.extend_from_slice(payload);
        let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }
    fn read(stream: &mut std::net::TcpStream) -> Vec<u8> {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        stream.read_exact(&mut body).unwrap();
        body
    }

    let tws = start();
    tws.set_next_valid_id(42);
    let mut stream = std::net::TcpStream::connect(tws.address()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut hello = b"API\0".to_vec();
    let versions = b"v213..226";
    hello.extend_from_slice(&u32::try_from(versions.len()).unwrap().to_be_bytes());
    hello.extend_from_slice(versions);
    stream.write_all(&hello).unwrap();
    let reply = String::from_utf8(read(&mut stream)).unwrap();
    let fields: Vec<&str> = reply.split_terminator('\0').collect();
    assert_eq!(fields.len(), 2, "{reply:?}");
    assert_eq!(fields[0], "226");
    assert!(
        fields[1].ends_with(" UTC") && fields[1].len() == 21,
        "{reply:?}"
    );

    // StartApi (71 + 200), protobuf {client_id: 3}.
    stream.write_all(&frame(271, &[0x08, 3])).unwrap();
    assert_eq!(
        read(&mut stream),
        [&209i32.to_be_bytes()[..], &[0x08, 42]].concat()
    );
    let accounts = read(&mut stream);
    assert_eq!(&accounts[..4], &215i32.to_be_bytes());
    assert!(String::from_utf8_lossy(&accounts).contains("DU1234567"));

    stream.write_all(&frame(999 + 200, &[1, 2, 3])).unwrap();
    // ReqIds (8 + 200), protobuf {num_ids: 0}.
    stream.write_all(&frame(208, &[0x08, 0])).unwrap();
    loop {
        let body = read(&mut stream);
        if body[..4] == 209i32.to_be_bytes() {
            assert_eq!(&body[4..], &[0x08, 42]);
            break;
        }
    }
    assert_eq!(tws.state().unknown_messages, vec![999]);
    assert_eq!(tws.connections(), 1);
}

#[test]
fn a_fake_that_is_not_accepting_refuses_the_connection() {
    let tws = start();
    tws.set_accepting(false);
    match Client::connect(&tws.address(), 1) {
        Err(Error::ConnectionRejected(_)) => {}
        Err(e) => panic!("expected ConnectionRejected, got {e:?}"),
        Ok(_) => panic!("expected ConnectionRejected, got a client"),
    }
    tws.set_accepting(true);
    let client = connect(&tws, 1);
    assert_eq!(
        client.managed_accounts().unwrap(),
        vec!["DU1234567".to_string()]
    );
}

#[test]
fn stop_ends_the_sessions_and_the_listener() {
    let tws = start();
    let client = connect(&tws, 1);
    let address = tws.address();
    tws.stop();
    assert_eq!(tws.connections(), 0);
    drop(client);
    // Nothing listens any more: a new client cannot connect.
    assert!(Client::connect(&address, 2).is_err());
}

#[test]
fn combo_executions_report_the_bag_itself_when_asked() {
    let tws = start();
    tws.set_combo_executions(true);
    let client = connect(&tws, 1);
    let (bag, short, long) = put_vertical(&client);
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &bag,
            &limit_order(Action::Buy, 3.0, -2.05, "with-bag"),
        )
        .unwrap();
    let items = read_until(&sub, |i| is_status(i, "Filled"));
    let execs: Vec<_> = items
        .iter()
        .filter_map(|i| {
            if let PlaceOrder::ExecutionData(e) = i {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(execs.len(), 3, "{execs:#?}");
    let combo = execs
        .iter()
        .find(|e| e.contract.security_type == SecurityType::Spread)
        .unwrap();
    assert_eq!(combo.contract.combo_legs.len(), 2);
    assert!((combo.execution.price + 2.05).abs() < 1e-9);
    assert_eq!(combo.execution.shares, 3.0);
    assert_eq!(combo.execution.side.to_string(), "BOT");
    assert_eq!(combo.execution.order_reference, "with-bag");
    assert!(execs.iter().any(|e| e.contract.contract_id == short));
    assert!(execs.iter().any(|e| e.contract.contract_id == long));
    let reports = items
        .iter()
        .filter(|i| matches!(i, PlaceOrder::CommissionReport(_)))
        .count();
    assert_eq!(reports, 2, "commission reports for the legs only");
    drop(sub);
    let (execs, commissions) = executions_once_released(&client, (3, 2));
    assert_eq!((execs.len(), commissions.len()), (3, 2));
}

/// An ibapi 5.5 routing quirk the adapter must know: `ExecutionData` is routed by order id
/// before request id, so while an order's `place_order` subscription is alive, the executions
/// an `executions()` request returns for that order go to the order's subscription instead.
#[test]
fn ibapi_quirk_executions_go_to_a_live_order_subscription_first() {
    let tws = start();
    let client = connect(&tws, 1);
    let contract = spy_put(560.0);
    con_id(&client, &contract);
    let order_id = client.next_order_id();
    let sub = client
        .place_order(
            order_id,
            &contract,
            &limit_order(Action::Buy, 1.0, 5.0, "quirk"),
        )
        .unwrap();
    read_until(&sub, |i| is_status(i, "Filled"));

    let (execs, commissions) = executions(&client);
    assert!(execs.is_empty() && commissions.is_empty(), "{execs:?}");
    let replayed = read_until(&sub, |i| matches!(i, PlaceOrder::CommissionReport(_)));
    assert!(
        replayed
            .iter()
            .any(|i| matches!(i, PlaceOrder::ExecutionData(e) if e.request_id != -1))
    );

    drop(sub);
    let (execs, commissions) = executions_once_released(&client, (1, 1));
    assert_eq!((execs.len(), commissions.len()), (1, 1));
}
