//! Hand-computed trades through expiry: worthless, exercised and assigned, cash-settled.

use crate::support::*;
use volta_broker::{
    Broker, BrokerError, Dividend, EarlyAssignment, EventKind, SimBroker, SimConfig, StockOrder,
};
use volta_core::order::{ComboOrder, ComboSide, Instrument, LegAction};

const SHORT: &str = "SPY   250321P00560000";
const LONG: &str = "SPY   250321P00550000";

/// A broker holding 2 SPY 560/550 put credit spreads opened on 2025-03-17 for 2.05.
fn with_spread(qty: u32) -> SimBroker {
    opened_on(broker(at(2025, 3, 17, 9, 30)), qty)
}

/// `b` after `qty` SPY 560/550 put credit spreads filled on 2025-03-17 at 2.05.
fn opened_on(mut b: SimBroker, qty: u32) -> SimBroker {
    let id = place(&mut b, put_spread(SHORT, LONG, qty, "-2.00"));
    b.on_quotes(&chain(
        at(2025, 3, 17, 10, 0),
        "SPY",
        "565",
        vec![quote(SHORT, "3.00", "3.10"), quote(LONG, "0.90", "1.00")],
    ))
    .unwrap();
    // Short leg sold at 3.05 − 0.025, long bought at 0.95 + 0.025: net −2.05 on the cent.
    let fill = b.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.net_price, d("-2.05"));
    assert_eq!(fill.legs[0].price, p("3.025"));
    assert_eq!(fill.legs[1].price, p("0.975"));
    assert_eq!(fill.legs[0].quantity, -i64::from(qty));
    b
}

fn close_week(b: &mut SimBroker, open: &str, close: &str) {
    for day in 18..=21 {
        b.on_session_close(date(2025, 3, day), &settle("SPY", open, close))
            .unwrap();
    }
}

#[test]
fn put_credit_spread_expiring_worthless_keeps_the_credit_less_fees() {
    let mut b = with_spread(2);
    // 2.05 × 100 × 2 = 410 received; 4 contracts × 0.65 = 2.60.
    assert_eq!(b.account().cash, m("100407.40"));
    assert_eq!(b.account().fees_paid, m("2.60"));
    assert_eq!(b.positions().len(), 2);
    assert_reconciles(&b);
    close_week(&mut b, "568", "570");
    assert!(b.positions().is_empty());
    let a = b.account();
    assert_eq!(a.cash, m("100407.40"));
    assert_eq!(a.realised_pnl, m("410"));
    assert_eq!(a.net_realised_pnl(), m("407.40"));
    assert_reconciles(&b);
    let events = b.poll_events();
    assert_gapless(&events, 1);
    let expired: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Expired(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(expired.len(), 2);
    assert!(
        expired
            .iter()
            .all(|s| s.cash.value().is_zero() && s.stock_delivered == 0)
    );
    assert_eq!(expired[0].settlement_price, p("570"));
    assert_eq!(events.last().unwrap().at, at(2025, 3, 21, 16, 0));
}

#[test]
fn ib_fees_on_the_same_spread_add_regulatory_and_clearing_fees() {
    let b = opened_on(broker_with_ib_fees(at(2025, 3, 17, 9, 30)), 2);
    // 4 × (0.65 + ORF 0.0388 + OCC 0.055) = 2.9752, FINRA 2 × 0.002 = 0.004, SEC on the
    // 2 × 3.025 × 100 = $605 sold: 0.0133705. Total 2.9925705 → $2.99 (not 4 × 0.65 = 2.60).
    assert_eq!(b.account().fees_paid, m("2.99"));
    assert_eq!(b.account().cash, m("100407.01"));
}

#[test]
fn a_one_lot_single_leg_pays_the_one_dollar_minimum() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let order = ComboOrder::new(
        vec![leg(SHORT, LegAction::Sell)],
        ComboSide::Buy,
        1,
        d("-3.00"),
    )
    .unwrap();
    let id = place(&mut b, order);
    b.on_quotes(&chain(
        at(2025, 3, 17, 10, 0),
        "SPY",
        "565",
        vec![quote(SHORT, "3.00", "3.10")],
    ))
    .unwrap();
    let fill = b.order(id).unwrap().fill.unwrap();
    // Sold at 3.025, rounded against us to 3.02 (a BUY at −3.02: receive less).
    assert_eq!(fill.net_price, d("-3.02"));
    assert_eq!(fill.legs[0].price, p("3.02"));
    assert_eq!(fill.commission, m("1.00"));
    assert_eq!(b.account().cash, m("100301"));
}

#[test]
fn put_spread_expiring_below_the_long_strike_loses_width_minus_credit_plus_fees() {
    let mut b = with_spread(2);
    close_week(&mut b, "541", "540");
    let events = b.poll_events();
    let settlements: Vec<_> = events
        .iter()
        .filter_map(|e| e.kind.settlement().map(|s| (&e.kind, s)))
        .collect();
    assert_eq!(settlements.len(), 2);
    // Strike order: the long 550 put is exercised, the short 560 put assigned.
    let (kind, long) = settlements[0];
    assert!(matches!(kind, EventKind::Exercised(_)));
    assert_eq!(long.quantity, 2);
    assert_eq!(long.stock_delivered, -200);
    assert_eq!(long.cash, m("110000")); // 550 × 200 received
    assert_eq!(long.intrinsic, p("10"));
    assert_eq!(long.realised_pnl, m("1805")); // 10 × 200 − 0.975 × 200
    let (kind, short) = settlements[1];
    assert!(matches!(kind, EventKind::Assigned(_)));
    assert_eq!(short.stock_delivered, 200);
    assert_eq!(short.cash, m("-112000")); // 560 × 200 paid
    assert_eq!(short.realised_pnl, m("-3395")); // 3.025 × 200 − 20 × 200
    // The stock nets to zero; the loss is (10 − 2.05) × 200 = 1590, plus 2.60 of fees.
    assert!(b.positions().is_empty());
    let a = b.account();
    assert_eq!(a.realised_pnl, m("-1590"));
    assert_eq!(a.cash, m("98407.40"));
    assert_eq!(a.net_realised_pnl(), m("-1592.60"));
    assert_reconciles(&b);
}

#[test]
fn assignment_of_a_lone_short_put_delivers_shares_and_takes_the_strike() {
    let mut b = broker(at(2025, 3, 17, 9, 30));
    let order = ComboOrder::new(
        vec![leg(SHORT, LegAction::Sell)],
        ComboSide::Buy,
        1,
        d("-3.00"),
    )
    .unwrap();
    place(&mut b, order);
    b.on_quotes(&chain(
        at(2025, 3, 17, 10, 0),
        "SPY",
        "565",
        vec![quote(SHORT, "3.00", "3.10")],
    ))
    .unwrap();
    close_week(&mut b, "556", "555");
    let positions = b.positions();
    assert_eq!(positions.len(), 1);
    let stock = &positions[0];
    assert_eq!(stock.instrument, Instrument::Stock(u("SPY")));
    assert_eq!(stock.quantity, 100);
    // Booked at the settlement price; the option's loss is realised: 3.02 × 100 − 5 × 100.
    assert_eq!(stock.cost_basis, m("55500"));
    assert_eq!(stock.average_price(), d("555"));
    assert_eq!(b.account().realised_pnl, m("-198"));
    // 302 credit − 1 fee − 560 × 100 paid for the shares.
    assert_eq!(b.account().cash, m("44301"));
    assert_reconciles(&b);

    // Flatten the shares with a market order: it fills at the next price, $0.005 × 100 →
    // the $1 minimum.
    let order = StockOrder::flatten(u("SPY"), stock.quantity).unwrap();
    assert_eq!(order.side, ComboSide::Sell);
    let id = b.place_stock(order, tag()).unwrap();
    assert!(b.order(id).unwrap().fill.is_none());
    b.on_stock_price(&u("SPY"), p("556"), at(2025, 3, 24, 9, 31))
        .unwrap();
    let fill = b.order(id).unwrap().fill.unwrap();
    assert_eq!(fill.cash, m("55600"));
    assert_eq!(fill.commission, m("1.00"));
    assert!(b.positions().is_empty());
    assert_eq!(b.account().cash, m("99900"));
    assert_eq!(b.account().net_realised_pnl(), m("-100")); // −198 + 100 − 2 fees
    assert_reconciles(&b);
}

#[test]
fn occ_exercise_by_exception_needs_one_cent_in_the_money() {
    for (close, assigned) in [("559.995", false), ("559.99", true)] {
        let mut b = broker(at(2025, 3, 17, 9, 30));
        let order = ComboOrder::new(
            vec![leg(SHORT, LegAction::Sell)],
            ComboSide::Buy,
            1,
            d("-3.00"),
        )
        .unwrap();
        place(&mut b, order);
        b.on_quotes(&chain(
            at(2025, 3, 17, 10, 0),
            "SPY",
            "565",
            vec![quote(SHORT, "3.00", "3.10")],
        ))
        .unwrap();
        close_week(&mut b, "560", close);
        let events = b.poll_events();
        let s = events.iter().find_map(|e| e.kind.settlement()).unwrap();
        assert!(s.near_pin, "{close} is within the $0.50 pin band");
        assert_eq!(s.stock_delivered != 0, assigned, "close {close}");
        assert_eq!(b.positions().len(), usize::from(assigned));
        assert_reconciles(&b);
    }
}

#[test]
fn pin_risk_is_reported_once_on_the_expiry_session() {
    let mut b = with_spread(1);
    let near = |h| {
        chain(
            at(2025, 3, 21, h, 0),
            "SPY",
            "560.30",
            vec![quote(SHORT, "0.20", "0.30"), quote(LONG, "0", "0.01")],
        )
    };
    // Not yet expiry day: no warning.
    b.on_quotes(&chain(at(2025, 3, 20, 10, 0), "SPY", "560.10", vec![]))
        .unwrap();
    b.on_quotes(&near(10)).unwrap();
    b.on_quotes(&near(11)).unwrap();
    let warnings: Vec<_> = b
        .poll_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::PinRisk(w) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].contract.key(), &key(SHORT));
    assert_eq!(warnings[0].quantity, -1);
    assert_eq!(warnings[0].distance, d("0.30"));
}

#[test]
fn spx_am_settles_at_the_open_and_spxw_pm_at_the_close() {
    const SPX: &str = "SPX   190517C02900000";
    const SPXW: &str = "SPXW  190517C02900000";
    let mut b = broker(at(2019, 5, 15, 9, 30));
    let buy =
        |k| ComboOrder::new(vec![leg(k, LegAction::Buy)], ComboSide::Buy, 1, d("10.50")).unwrap();
    place(&mut b, buy(SPX));
    place(&mut b, buy(SPXW));
    b.on_quotes(&chain(
        at(2019, 5, 15, 10, 0),
        "SPX",
        "2850",
        vec![quote(SPX, "10.00", "10.40"), quote(SPXW, "10.10", "10.50")],
    ))
    .unwrap();
    // Bought at 10.30 and 10.40, $1 minimum each.
    assert_eq!(b.account().cash, m("97928"));
    b.on_session_close(date(2019, 5, 15), &volta_broker::Settlements::new())
        .unwrap();
    b.on_session_close(date(2019, 5, 16), &volta_broker::Settlements::new())
        .unwrap();
    // The AM series stopped trading at the close of the 16th; the PM series trades on.
    let late_spx = place(&mut b, buy(SPX));
    assert!(matches!(
        b.order(late_spx).unwrap().status,
        volta_broker::OrderStatus::Rejected(ref r) if r.contains("last trading day 2019-05-16")
    ));
    let late_spxw = place(&mut b, buy(SPXW));
    assert_eq!(
        b.order(late_spxw).unwrap().status,
        volta_broker::OrderStatus::Submitted
    );
    b.poll_events();

    b.on_session_close(date(2019, 5, 17), &settle("SPX", "2910", "2950"))
        .unwrap();
    let events = b.poll_events();
    let cash_settled: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CashSettled(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(cash_settled.len(), 2);
    let spx = cash_settled
        .iter()
        .find(|s| s.contract.key() == &key(SPX))
        .unwrap();
    assert_eq!(spx.settlement_price, p("2910"));
    assert_eq!(spx.cash, m("1000")); // (2910 − 2900) × 100
    assert_eq!(spx.realised_pnl, m("-30")); // 1000 − 1030
    let spxw = cash_settled
        .iter()
        .find(|s| s.contract.key() == &key(SPXW))
        .unwrap();
    assert_eq!(spxw.settlement_price, p("2950"));
    assert_eq!(spxw.cash, m("5000")); // (2950 − 2900) × 100
    assert_eq!(spxw.stock_delivered, 0);
    assert!(b.positions().is_empty());
    assert_eq!(b.account().cash, m("103928"));
    assert_reconciles(&b);
    // The late SPXW DAY order was cancelled at the close.
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::Cancelled { order, reason: volta_broker::CancelReason::DayEnd } if order == late_spxw
    )));
}

#[test]
fn a_close_without_settlement_prices_changes_nothing() {
    let mut b = with_spread(1);
    for day in 18..=20 {
        b.on_session_close(date(2025, 3, day), &volta_broker::Settlements::new())
            .unwrap();
    }
    b.poll_events();
    let before = (b.positions(), b.account(), b.now());
    let err = b
        .on_session_close(date(2025, 3, 21), &settle("QQQ", "480", "481"))
        .unwrap_err();
    assert_eq!(
        err,
        BrokerError::MissingSettlement {
            underlying: u("SPY"),
            date: date(2025, 3, 21)
        }
    );
    assert_eq!((b.positions(), b.account(), b.now()), before);
    assert!(b.poll_events().is_empty());
    assert!(matches!(
        b.on_session_close(date(2025, 3, 22), &settle("SPY", "1", "1")),
        Err(BrokerError::NotASession { .. })
    ));
    b.on_session_close(date(2025, 3, 21), &settle("SPY", "570", "570"))
        .unwrap();
    assert!(b.positions().is_empty());
}

#[test]
fn short_itm_calls_with_little_time_value_are_assigned_before_the_ex_date() {
    const DEEP: &str = "SPY   250417C00500000";
    const NEAR: &str = "SPY   250417C00550000";
    let run = |enabled: bool| {
        let mut config = SimConfig::new(m("100000"), at(2025, 3, 20, 9, 30));
        config.early_assignment = EarlyAssignment {
            enabled,
            dividends: vec![Dividend {
                underlying: u("SPY"),
                ex_date: date(2025, 3, 21),
                amount: p("1.70"),
            }],
        };
        let mut b = SimBroker::new(config).unwrap();
        for k in [DEEP, NEAR] {
            let order =
                ComboOrder::new(vec![leg(k, LegAction::Sell)], ComboSide::Buy, 1, d("-1")).unwrap();
            place(&mut b, order);
        }
        b.on_quotes(&chain(
            at(2025, 3, 20, 10, 0),
            "SPY",
            "560",
            vec![quote(DEEP, "60.50", "61.10"), quote(NEAR, "12.20", "12.80")],
        ))
        .unwrap();
        b.on_session_close(date(2025, 3, 20), &settle("SPY", "559", "560"))
            .unwrap();
        b
    };
    // Time values at the close of 560: 60.80 − 60 = 0.80 < 1.70 (assigned);
    // 12.50 − 10 = 2.50 ≥ 1.70 (kept).
    let mut b = run(true);
    let assigned: Vec<_> = b
        .poll_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Assigned(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(assigned.len(), 1);
    let s = &assigned[0];
    assert!(s.early);
    assert_eq!(s.contract.key(), &key(DEEP));
    assert_eq!(s.stock_delivered, -100);
    assert_eq!(s.cash, m("50000"));
    assert_eq!(s.realised_pnl, m("65")); // sold at 60.65, closed at 60 intrinsic
    let held: Vec<_> = b
        .positions()
        .into_iter()
        .map(|p| (p.instrument.to_string(), p.quantity))
        .collect();
    assert_eq!(
        held,
        [(NEAR.to_owned(), -1), ("SPY stock".to_owned(), -100)]
    );
    // 6065 + 1235 premiums + 50 000 for the shares, less IB's fees: $1 minimum commission,
    // ORF 0.0388, OCC 0.055, FINRA 0.002 and SEC 0.0000221 × premium sold on each order:
    // 1.2298365 → 1.23 and 1.1230935 → 1.12.
    assert_eq!(b.account().cash, m("157297.65"));
    assert_reconciles(&b);

    let mut off = run(false);
    assert!(
        !off.poll_events()
            .iter()
            .any(|e| matches!(e.kind, EventKind::Assigned(_)))
    );
    assert_eq!(off.positions().len(), 2);
}
