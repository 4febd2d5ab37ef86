//! Helpers shared by the integration tests: hand-built chains and orders.

#![allow(dead_code, unreachable_pub, reason = "each test file uses a subset")]

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use volta_broker::fees::OptionFeeSchedule;
use volta_broker::{Broker, BrokerEvent, OrderId, OrderTag, Settlements, SimBroker, SimConfig};
use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
use volta_core::{ChainSnapshot, ContractKey, Money, OptionQuote, Price, Underlying};

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn m(s: &str) -> Money {
    s.parse().unwrap()
}

pub fn p(s: &str) -> Price {
    s.parse().unwrap()
}

pub fn u(s: &str) -> Underlying {
    s.parse().unwrap()
}

pub fn key(s: &str) -> ContractKey {
    s.parse().unwrap()
}

pub fn date(y: i32, mo: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, mo, day).unwrap()
}

pub fn at(y: i32, mo: u32, day: u32, h: u32, mi: u32) -> NaiveDateTime {
    date(y, mo, day).and_hms_opt(h, mi, 0).unwrap()
}

/// A quote with both sides ("" for a missing side).
pub fn quote(k: &str, bid: &str, ask: &str) -> OptionQuote {
    let side = |s: &str| (!s.is_empty()).then(|| p(s));
    OptionQuote::new(key(k), side(bid), side(ask))
}

pub fn chain(
    when: NaiveDateTime,
    underlying: &str,
    price: &str,
    quotes: Vec<OptionQuote>,
) -> ChainSnapshot {
    ChainSnapshot::try_new(when, u(underlying), p(price), quotes).unwrap()
}

/// A broker with $100 000 and default settings, its clock at `start`.
/// A broker with $100 000 and the flat $0.65 per contract ($1 minimum) commission these
/// hand-computed cases were written with: they test fills and settlement, and the fee table
/// has its own tests (`volta_broker::fees`, and [`broker_with_ib_fees`]).
pub fn broker(start: NaiveDateTime) -> SimBroker {
    let mut config = SimConfig::new(m("100000"), start);
    config.commissions.options = OptionFeeSchedule::flat(d("0.65"), d("1.00"));
    SimBroker::new(config).unwrap()
}

/// A broker with $100 000 and IB's full fee schedule (the default).
pub fn broker_with_ib_fees(start: NaiveDateTime) -> SimBroker {
    SimBroker::new(SimConfig::new(m("100000"), start)).unwrap()
}

pub fn leg(k: &str, action: LegAction) -> Leg {
    Leg::option(key(k), action, 1).unwrap()
}

/// A put credit spread (sell `short`, buy `long`), BUY `qty` at `limit` (negative: a credit).
pub fn put_spread(short: &str, long: &str, qty: u32, limit: &str) -> ComboOrder {
    ComboOrder::new(
        vec![leg(short, LegAction::Sell), leg(long, LegAction::Buy)],
        ComboSide::Buy,
        qty,
        d(limit),
    )
    .unwrap()
}

pub fn tag() -> OrderTag {
    OrderTag::new("test", "pos-1", "open")
}

pub fn place(b: &mut SimBroker, order: ComboOrder) -> OrderId {
    b.place(order, tag()).unwrap()
}

pub fn settle(underlying: &str, open: &str, close: &str) -> Settlements {
    Settlements::new().with(u(underlying), p(open), p(close))
}

/// The reconciliation every account must satisfy at all times.
pub fn assert_reconciles(b: &SimBroker) {
    let a = b.account();
    let cost: Money = b.positions().iter().map(|p| p.cost_basis).sum();
    assert_eq!(
        a.cash - a.starting_cash + a.fees_paid + cost,
        a.realised_pnl,
        "cash {} fees {} cost {} realised {}",
        a.cash,
        a.fees_paid,
        cost,
        a.realised_pnl
    );
}

/// Events' sequence numbers count up by one from `first`.
pub fn assert_gapless(events: &[BrokerEvent], first: u64) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, first + i as u64, "{e:?}");
    }
}
