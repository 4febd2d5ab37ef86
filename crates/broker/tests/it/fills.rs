//! The fill model, order life cycles and one realistic fill on a real SPX chain.

use crate::support::*;
use rust_decimal::Decimal;
use volta_broker::{
    Account, Broker, BrokerError, CancelReason, EventKind, FillModel, Marks, OrderStatus,
    SimBroker, SimConfig, TimeInForce,
};
use volta_core::order::{ComboOrder, ComboSide, Instrument, Leg, LegAction};
use volta_core::{ChainSnapshot, Money};
use volta_data::DataDir;

const SHORT: &str = "SPY   250321P00560000";
const LONG: &str = "SPY   250321P00550000";

fn spy(h: u32, short: (&str, &str), long: (&str, &str)) -> ChainSnapshot {
    chain(
        at(2025, 3, 17, h, 0),
        "SPY",
        "565",
        vec![quote(SHORT, short.0, short.1), quote(LONG, long.0, long.1)],
    )
}

fn status(b: &SimBroker, id: volta_broker::OrderId) -> OrderStatus {
    b.order(id).unwrap().status
}

#[test]
fn an_unreachable_limit_waits_and_fills_when_quotes_move() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let id = place(&mut b, put_spread(SHORT, LONG, 1, "-2.10"));
    // Achievable −2.05: not a credit of 2.10.
    b.on_quotes(&spy(10, ("3.00", "3.10"), ("0.90", "1.00")))
        .unwrap();
    assert_eq!(status(&b, id), OrderStatus::Submitted);
    assert_eq!(b.open_orders().len(), 1);
    assert_eq!(b.account().cash, m("100000"));
    // The short put richens: sells at 3.125, the long still costs 0.975 → −2.15.
    b.on_quotes(&spy(11, ("3.10", "3.20"), ("0.90", "1.00")))
        .unwrap();
    let fill = b.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.net_price, d("-2.15"));
    assert_eq!(fill.at, at(2025, 3, 17, 11, 0));
    assert!(b.open_orders().is_empty());
    assert_eq!(b.account().cash, m("100213.70")); // 215 − 1.30
    assert_reconciles(&b);
}

#[test]
fn spread_fraction_zero_fills_at_mid_and_one_at_the_touch() {
    for (f, net) in [("0", "-2.10"), ("0.5", "-2.05"), ("1", "-2.00")] {
        let mut config = SimConfig::new(m("100000"), at(2025, 3, 17, 9, 30));
        config.fill_model = FillModel::try_new(d(f)).unwrap();
        let mut b = SimBroker::new(config).unwrap();
        let id = place(&mut b, put_spread(SHORT, LONG, 1, "-1.00"));
        b.on_quotes(&spy(10, ("3.00", "3.10"), ("0.90", "1.00")))
            .unwrap();
        assert_eq!(
            b.order(id).unwrap().fill.unwrap().net_price,
            d(net),
            "f = {f}"
        );
    }
    assert!(FillModel::try_new(d("1.01")).is_err());
    assert!(FillModel::try_new(d("-0.1")).is_err());
}

#[test]
fn a_leg_without_a_bid_crossed_or_absent_blocks_the_fill() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let id = place(&mut b, put_spread(SHORT, LONG, 1, "-1.00"));
    b.on_quotes(&spy(10, ("", "3.10"), ("0.90", "1.00")))
        .unwrap(); // no bid on the leg sold
    b.on_quotes(&spy(11, ("3.00", "3.10"), ("1.00", "0.90")))
        .unwrap(); // crossed
    b.on_quotes(&chain(
        at(2025, 3, 17, 12, 0),
        "SPY",
        "565",
        vec![quote(SHORT, "3.00", "3.10")],
    ))
    .unwrap(); // long leg absent
    b.on_quotes(&chain(at(2025, 3, 17, 12, 0), "QQQ", "480", vec![]))
        .unwrap(); // other underlying
    assert_eq!(status(&b, id), OrderStatus::Submitted);
    b.on_quotes(&spy(13, ("3.00", "3.10"), ("0.90", "1.00")))
        .unwrap();
    assert_eq!(status(&b, id), OrderStatus::Filled);
}

#[test]
fn closing_sell_rounds_down_and_realises_the_difference() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let open = put_spread(SHORT, LONG, 1, "-2.00");
    place(&mut b, open.clone());
    b.on_quotes(&spy(10, ("3.00", "3.10"), ("0.90", "1.00")))
        .unwrap();
    // Close: SELL at −0.50 (pay at most 0.50). Buy the 560 back at 0.675, sell the 550 at
    // 0.2125: net −0.4625, rounded down (against us) to −0.47; the 560 leg takes the 0.75¢.
    let id = place(&mut b, open.closing(d("-0.50")));
    b.on_quotes(&spy(14, ("0.60", "0.70"), ("0.20", "0.25")))
        .unwrap();
    let fill = b.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.net_price, d("-0.47"));
    assert_eq!(fill.legs[0].price, p("0.6825"));
    assert_eq!(fill.legs[0].quantity, 1);
    assert_eq!(fill.legs[1].price, p("0.2125"));
    assert_eq!(fill.cash, m("-47"));
    assert!(b.positions().is_empty());
    // (2.05 − 0.47) × 100 = 158 realised; 2 × 1.30 fees.
    assert_eq!(b.account().realised_pnl, m("158"));
    assert_eq!(b.account().cash, m("100155.40"));
    assert_reconciles(&b);
}

#[test]
fn modify_and_cancel_with_their_events() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let a = place(&mut b, put_spread(SHORT, LONG, 1, "-2.10"));
    let c = place(&mut b, put_spread(SHORT, LONG, 1, "-2.20"));
    let quotes = spy(10, ("3.00", "3.10"), ("0.90", "1.00"));
    b.on_quotes(&quotes).unwrap();
    assert_eq!(
        b.modify(a, d("-2.055")),
        Err(BrokerError::InvalidLimit {
            id: a,
            limit: d("-2.055"),
            reason: "off the exchange's price grid for the contract"
        })
    );
    b.modify(a, d("-2.05")).unwrap();
    b.cancel(c).unwrap();
    b.on_quotes(&quotes).unwrap(); // the same snapshot again: a fills, c is gone
    assert_eq!(status(&b, a), OrderStatus::Filled);
    assert_eq!(b.order(a).unwrap().modifications, 1);
    assert_eq!(
        status(&b, c),
        OrderStatus::Cancelled(CancelReason::Requested)
    );
    assert!(matches!(
        b.modify(a, d("-2")),
        Err(BrokerError::OrderNotOpen { .. })
    ));
    assert!(matches!(b.cancel(c), Err(BrokerError::OrderNotOpen { .. })));
    let ghost = volta_broker::OrderId::new(99);
    assert_eq!(
        b.cancel(ghost),
        Err(BrokerError::UnknownOrder { id: ghost })
    );

    let events = b.poll_events();
    assert_gapless(&events, 1);
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Submitted { order, .. } => format!("submitted {order}"),
            EventKind::Modified {
                order,
                old_limit,
                new_limit,
            } => {
                format!("modified {order} {old_limit}->{new_limit}")
            }
            EventKind::Filled(f) => format!("filled {} {}", f.order, f.net_price),
            EventKind::Cancelled { order, reason } => format!("cancelled {order} {reason:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted #1",
            "submitted #2",
            "modified #1 -2.1->-2.05",
            "cancelled #2 Requested",
            "filled #1 -2.05"
        ]
    );
    assert!(b.poll_events().is_empty(), "drained");
}

#[test]
fn day_orders_end_at_the_close_and_gtc_at_the_last_trading_day() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let day = place(&mut b, put_spread(SHORT, LONG, 1, "-5.00"));
    let gtc = b
        .place_with(put_spread(SHORT, LONG, 1, "-5.00"), tag(), TimeInForce::Gtc)
        .unwrap();
    b.on_quotes(&spy(10, ("3.00", "3.10"), ("0.90", "1.00")))
        .unwrap();
    b.on_session_close(date(2025, 3, 17), &volta_broker::Settlements::new())
        .unwrap();
    assert_eq!(
        status(&b, day),
        OrderStatus::Cancelled(CancelReason::DayEnd)
    );
    assert_eq!(status(&b, gtc), OrderStatus::Submitted);
    for d in 18..=20 {
        b.on_session_close(date(2025, 3, d), &volta_broker::Settlements::new())
            .unwrap();
    }
    assert_eq!(status(&b, gtc), OrderStatus::Submitted);
    b.on_session_close(date(2025, 3, 21), &volta_broker::Settlements::new())
        .unwrap();
    assert_eq!(
        status(&b, gtc),
        OrderStatus::Cancelled(CancelReason::ContractExpired)
    );
    // Once past its last trading day, an order on the contract is rejected — after its
    // Submitted event, with the reason.
    let late = place(&mut b, put_spread(SHORT, LONG, 1, "-5.00"));
    let events = b.poll_events();
    let tail: Vec<_> = events.iter().rev().take(2).map(|e| &e.kind).collect();
    assert!(
        matches!(tail[0], EventKind::Rejected { order, reason } if *order == late && reason.contains("last trading day"))
    );
    assert!(matches!(tail[1], EventKind::Submitted { order, .. } if *order == late));
}

#[test]
fn off_cent_limits_are_rejected_and_time_cannot_go_back() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let id = place(&mut b, put_spread(SHORT, LONG, 1, "-2.005"));
    assert!(matches!(status(&b, id), OrderStatus::Rejected(r)
        if r.contains("limit -2.005 is off the SPY complex price grid (multiples of 0.01)")));
    b.on_quotes(&spy(11, ("3.00", "3.10"), ("0.90", "1.00")))
        .unwrap();
    let before = b.poll_events().len();
    assert!(matches!(
        b.on_quotes(&spy(10, ("3.00", "3.10"), ("0.90", "1.00"))),
        Err(BrokerError::TimeWentBackwards { .. })
    ));
    assert_eq!(b.now(), at(2025, 3, 17, 11, 0));
    assert_eq!(before, 2);
    assert!(b.poll_events().is_empty());
}

#[test]
fn stock_limit_orders_fill_at_the_stock_price_with_per_share_commission() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let buy = ComboOrder::new(
        vec![Leg::new(Instrument::Stock(u("SPY")), LegAction::Buy, 1).unwrap()],
        ComboSide::Buy,
        300,
        d("560"),
    )
    .unwrap();
    let id = place(&mut b, buy);
    b.on_stock_price(&u("SPY"), p("561"), at(2025, 3, 17, 10, 0))
        .unwrap();
    assert_eq!(status(&b, id), OrderStatus::Submitted);
    b.on_stock_price(&u("SPY"), p("559.50"), at(2025, 3, 17, 10, 1))
        .unwrap();
    let fill = b.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.cash, m("-167850"));
    assert_eq!(fill.commission, m("1.50")); // 300 × 0.005
    let pos = &b.positions()[0];
    assert_eq!(pos.quantity, 300);
    assert_eq!(pos.average_price(), d("559.5"));
    // Marked at 560: +150 unrealised.
    let marked = b.account_marked();
    assert_eq!(marked.unrealised_pnl, m("0")); // the last price seen is the fill price
    let mut marks = Marks::new();
    marks.insert(&Instrument::Stock(u("SPY")), p("560"));
    let at560 = b.account().marked(&b.positions(), &marks);
    assert_eq!(at560.unrealised_pnl, m("150"));
    assert_eq!(at560.equity, m("100148.50")); // 100 000 − 1.50 fee + 150
    assert_reconciles(&b);
}

/// The legs of an SPXW iron condor (long wings), expiring 2019-05-03.
const SPXW_CONDOR: [(&str, LegAction); 4] = [
    ("SPXW  190503P02850000", LegAction::Buy),
    ("SPXW  190503P02880000", LegAction::Sell),
    ("SPXW  190503C02950000", LegAction::Sell),
    ("SPXW  190503C02980000", LegAction::Buy),
];

/// [`SPXW_CONDOR`] (`reversed`: every action flipped, a long condor), BUY `quantity` at `limit`.
fn spxw_condor(reversed: bool, quantity: u32, limit: &str) -> ComboOrder {
    let flip = |a: LegAction| match (reversed, a) {
        (false, a) => a,
        (true, LegAction::Buy) => LegAction::Sell,
        (true, LegAction::Sell) => LegAction::Buy,
    };
    ComboOrder::new(
        SPXW_CONDOR.iter().map(|(k, a)| leg(k, flip(*a))).collect(),
        ComboSide::Buy,
        quantity,
        d(limit),
    )
    .unwrap()
}

/// An SPXW iron condor on the real CBOE chain of 2019-04-25 (SPX at 2919.04), expiring
/// 2019-05-03. The file's quotes: 2850 P 5.30/5.50, 2880 P 9.10/9.30, 2950 C 7.10/7.30,
/// 2980 C 1.75/1.85.
#[test]
fn real_spxw_iron_condor_fills_between_the_files_bid_and_ask() {
    let Some(path) = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv.gz") else {
        return;
    };
    let request = volta_data::import::ChainRequest {
        allowed: vec![u("SPX")],
        ..Default::default()
    };
    let imported = volta_data::import::import_chains(&path, &request).unwrap();
    let day = &imported.days[0];
    assert_eq!(day.quote_date, date(2019, 4, 25));
    let snapshot = day.snapshot(at(2019, 4, 25, 15, 0)).unwrap();
    assert_eq!(snapshot.underlying_price(), p("2919.04"));
    let legs = SPXW_CONDOR;
    let condor = |limit: &str| spxw_condor(false, 2, limit);
    let mut b = broker(at(2019, 4, 25, 9, 30));
    let greedy = place(&mut b, condor("-9.05"));
    let id = place(&mut b, condor("-9.00"));
    b.on_quotes(&snapshot).unwrap();
    assert_eq!(status(&b, greedy), OrderStatus::Submitted);
    let fill = b.order(id).unwrap().fill.unwrap();
    // Buy 5.45, sell 9.15, sell 7.15, buy 1.825: net −9.025, rounded against us onto SPX's
    // $0.05 complex grid: −9.00, the 2.5 cents added to the first leg bought (5.475).
    assert_eq!(fill.net_price, d("-9.00"));
    let prices: Vec<Decimal> = fill.legs.iter().map(|l| l.price.value()).collect();
    assert_eq!(prices, [d("5.475"), d("9.15"), d("7.15"), d("1.825")]);
    for (l, (k, _)) in fill.legs.iter().zip(&legs) {
        let q = snapshot.get(&key(k)).unwrap();
        assert!(
            q.bid.unwrap() <= l.price && l.price <= q.ask.unwrap(),
            "{k}: {} outside the file's quote",
            l.price
        );
    }
    let quantities: Vec<i64> = fill.legs.iter().map(|l| l.quantity).collect();
    assert_eq!(quantities, [2, -2, -2, 2]);
    assert_eq!(fill.cash, m("1800")); // 9.00 × 100 × 2
    assert_eq!(fill.commission, m("5.20")); // 8 contracts × 0.65
    let a: Account = b.account();
    assert_eq!(a.cash, m("101794.80"));
    // Marked at the file's mids (5.40, 9.20, 7.20, 1.80): worth −9.20 × 200 = −1840, so
    // the fill's 1800 credit shows −40 unrealised.
    let marked = a.marked(&b.positions(), &Marks::from_chain(&snapshot));
    assert_eq!(marked.market_value, m("-1840"));
    assert_eq!(marked.unrealised_pnl, m("-40"));
    assert_eq!(marked.equity, Money::new(d("99954.80")));
    assert!(marked.unmarked.is_empty());
    assert_reconciles(&b);
}

/// The case: an SPX condor closed at 3.09 — off the $0.05 complex grid — is rejected
/// as the exchange would, while 3.10 is accepted; a single SPX leg at 3.05 is off its $0.10
/// grid above $3.
#[test]
fn spx_limits_off_the_nickel_grid_are_rejected() {
    let mut b = broker(at(2019, 4, 25, 9, 30));
    let condor = |limit: &str| spxw_condor(true, 1, limit);
    let off = place(&mut b, condor("3.09"));
    assert!(matches!(status(&b, off), OrderStatus::Rejected(r)
        if r.contains("limit 3.09 is off the SPXW complex price grid (multiples of 0.05)")));
    let on = place(&mut b, condor("3.10"));
    assert_eq!(status(&b, on), OrderStatus::Submitted);
    assert!(matches!(
        b.modify(on, d("3.12")),
        Err(BrokerError::InvalidLimit { .. })
    ));
    b.modify(on, d("3.05")).unwrap();
    let single = |limit: &str| {
        ComboOrder::new(
            vec![leg("SPXW  190503C02950000", LegAction::Buy)],
            ComboSide::Buy,
            1,
            d(limit),
        )
        .unwrap()
    };
    let single_off = place(&mut b, single("3.05"));
    assert!(matches!(status(&b, single_off), OrderStatus::Rejected(r)
        if r.contains("single-leg price grid (multiples of 0.10)")));
    let single_on = place(&mut b, single("2.95"));
    assert_eq!(status(&b, single_on), OrderStatus::Submitted);
}
