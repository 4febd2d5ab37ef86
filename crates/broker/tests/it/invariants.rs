//! Property test: random sequences of place / modify / cancel / quotes / stock prices / session
//! closes never lose an order, a fill or a dollar.

use std::collections::BTreeMap;

use crate::support::*;
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use volta_broker::{
    Broker, BrokerEvent, Commissions, EventKind, OrderId, OrderStatus, SimBroker, SimConfig,
    StockOrder, TimeInForce,
};
use volta_core::order::{ComboOrder, ComboSide, Instrument, Leg, LegAction};
use volta_core::{ContractKey, OptionQuote, OptionRight, Price};

/// Sessions the test runs over: two weeks of March 2025, expiries on both Fridays.
const SESSIONS: [(u32, u32); 10] = [
    (3, 17),
    (3, 18),
    (3, 19),
    (3, 20),
    (3, 21),
    (3, 24),
    (3, 25),
    (3, 26),
    (3, 27),
    (3, 28),
];
const STRIKES: [u32; 5] = [540, 550, 560, 570, 580];
const EXPIRIES: [(u32, u32); 2] = [(3, 21), (3, 28)];

fn contract(expiry: usize, strike: usize, right: OptionRight) -> ContractKey {
    let (mo, day) = EXPIRIES[expiry % 2];
    let r = if right == OptionRight::Call { 'C' } else { 'P' };
    key(&format!(
        "SPY   25{mo:02}{day:02}{r}00{}000",
        STRIKES[strike % 5]
    ))
}

#[derive(Debug, Clone)]
enum Op {
    /// A vertical (2 legs) or a single leg, BUY or SELL, at a limit in cents.
    Place {
        expiry: usize,
        strike: usize,
        call: bool,
        width: usize,
        side: bool,
        qty: u32,
        limit_cents: i64,
        gtc: bool,
    },
    PlaceStock {
        buy: bool,
        qty: u32,
    },
    Modify {
        pick: usize,
        limit_cents: i64,
    },
    Cancel {
        pick: usize,
    },
    /// A chain: underlying in cents, half-spread in cents, and which quote loses its bid.
    Quotes {
        price_cents: i64,
        half_spread: i64,
        drop_bid: usize,
    },
    StockPrice {
        price_cents: i64,
    },
    Close {
        open_cents: i64,
        close_cents: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..5usize, any::<bool>(), 0..3usize, any::<bool>(), 1..4u32, -800..800i64, any::<bool>())
            .prop_map(|(expiry, strike, call, width, side, qty, limit_cents, gtc)| Op::Place { expiry, strike, call, width, side, qty, limit_cents, gtc }),
        1 => (any::<bool>(), 1..300u32).prop_map(|(buy, qty)| Op::PlaceStock { buy, qty }),
        2 => (0..20usize, -800..800i64).prop_map(|(pick, limit_cents)| Op::Modify { pick, limit_cents }),
        1 => (0..20usize).prop_map(|pick| Op::Cancel { pick }),
        5 => (53_000..59_000i64, 0..15i64, 0..40usize).prop_map(|(price_cents, half_spread, drop_bid)| Op::Quotes { price_cents, half_spread, drop_bid }),
        1 => (53_000..59_000i64).prop_map(|price_cents| Op::StockPrice { price_cents }),
        2 => (53_000..59_000i64, 53_000..59_000i64).prop_map(|(open_cents, close_cents)| Op::Close { open_cents, close_cents }),
    ]
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

/// A crude but arbitrage-free-enough chain: intrinsic + a time value shrinking to expiry.
fn spy_chain(
    session: usize,
    minute: u32,
    price_cents: i64,
    half: i64,
    drop_bid: usize,
) -> volta_core::ChainSnapshot {
    let (mo, day) = SESSIONS[session];
    let today = NaiveDate::from_ymd_opt(2025, mo, day).unwrap();
    let s = cents(price_cents);
    let mut quotes = Vec::new();
    for (e, &(mo_e, day_e)) in EXPIRIES.iter().enumerate() {
        let expiry = NaiveDate::from_ymd_opt(2025, mo_e, day_e).unwrap();
        if expiry < today {
            continue;
        }
        let days = Decimal::from((expiry - today).num_days() + 1);
        for (k, strike) in STRIKES.iter().enumerate() {
            for right in [OptionRight::Call, OptionRight::Put] {
                let strike = Decimal::from(*strike);
                let intrinsic = match right {
                    OptionRight::Call => (s - strike).max(Decimal::ZERO),
                    OptionRight::Put => (strike - s).max(Decimal::ZERO),
                };
                let theo = (intrinsic + days * Decimal::new(40, 2)).round_dp(2);
                let h = cents(half);
                let bid = Price::try_new((theo - h).max(Decimal::ZERO)).unwrap();
                let ask = Price::try_new(theo + h).unwrap();
                let key = contract(e, k, right);
                let i = quotes.len();
                quotes.push(OptionQuote::new(
                    key,
                    (i != drop_bid).then_some(bid),
                    Some(ask),
                ));
            }
        }
    }
    chain(
        today.and_hms_opt(10, minute, 0).unwrap(),
        "SPY",
        &s.to_string(),
        quotes,
    )
}

struct Run {
    broker: SimBroker,
    session: usize,
    minute: u32,
    placed: Vec<OrderId>,
    events: Vec<BrokerEvent>,
}

impl Run {
    #[expect(clippy::too_many_lines, reason = "one arm per operation")]
    fn apply(&mut self, op: &Op) {
        let (mo, day) = SESSIONS[self.session.min(SESSIONS.len() - 1)];
        let over = self.session >= SESSIONS.len();
        if over && matches!(op, Op::Place { .. } | Op::PlaceStock { .. }) {
            return; // after the last close: nothing would ever fill or end it
        }
        match *op {
            Op::Place {
                expiry,
                strike,
                call,
                width,
                side,
                qty,
                limit_cents,
                gtc,
            } => {
                let right = if call {
                    OptionRight::Call
                } else {
                    OptionRight::Put
                };
                let mut legs =
                    vec![Leg::option(contract(expiry, strike, right), LegAction::Sell, 1).unwrap()];
                if width > 0 {
                    let other = (strike + width) % 5;
                    if other != strike {
                        legs.push(
                            Leg::option(contract(expiry, other, right), LegAction::Buy, 1).unwrap(),
                        );
                    }
                }
                let side = if side {
                    ComboSide::Buy
                } else {
                    ComboSide::Sell
                };
                let order = ComboOrder::new(legs, side, qty, cents(limit_cents)).unwrap();
                let tif = if gtc {
                    TimeInForce::Gtc
                } else {
                    TimeInForce::Day
                };
                self.placed
                    .push(self.broker.place_with(order, tag(), tif).unwrap());
            }
            Op::PlaceStock { buy, qty } => {
                let side = if buy { ComboSide::Buy } else { ComboSide::Sell };
                let order = StockOrder {
                    underlying: u("SPY"),
                    side,
                    quantity: qty,
                };
                self.placed
                    .push(self.broker.place_stock(order, tag()).unwrap());
            }
            Op::Modify { pick, limit_cents } => {
                if let Some(id) = self.placed.get(pick) {
                    // Refusals (not open, a market order) are errors that change nothing.
                    let _ = self.broker.modify(*id, cents(limit_cents));
                }
            }
            Op::Cancel { pick } => {
                if let Some(id) = self.placed.get(pick) {
                    let _ = self.broker.cancel(*id);
                }
            }
            Op::Quotes {
                price_cents,
                half_spread,
                drop_bid,
            } => {
                if self.session < SESSIONS.len() {
                    self.minute += 1;
                    let chain = spy_chain(
                        self.session,
                        self.minute,
                        price_cents,
                        half_spread,
                        drop_bid,
                    );
                    self.broker.on_quotes(&chain).unwrap();
                }
            }
            Op::StockPrice { price_cents } => {
                if self.session < SESSIONS.len() {
                    self.minute += 1;
                    let when = NaiveDate::from_ymd_opt(2025, mo, day)
                        .unwrap()
                        .and_hms_opt(10, self.minute, 0)
                        .unwrap();
                    self.broker
                        .on_stock_price(
                            &u("SPY"),
                            Price::try_new(cents(price_cents)).unwrap(),
                            when,
                        )
                        .unwrap();
                }
            }
            Op::Close {
                open_cents,
                close_cents,
            } => {
                if self.session < SESSIONS.len() {
                    let settlements = settle(
                        "SPY",
                        &cents(open_cents).to_string(),
                        &cents(close_cents).to_string(),
                    );
                    self.broker
                        .on_session_close(
                            NaiveDate::from_ymd_opt(2025, mo, day).unwrap(),
                            &settlements,
                        )
                        .unwrap();
                    self.session += 1;
                    self.minute = 0;
                }
            }
        }
        self.events.extend(self.broker.poll_events());
        self.check();
    }

    fn check(&self) {
        let b = &self.broker;
        assert_reconciles(b);
        assert_gapless(&self.events, 1);
        // Per order: Submitted first, Modified as often as the state says, at most one
        // terminal event, and it matches the status.
        let mut by_order: BTreeMap<OrderId, Vec<&EventKind>> = BTreeMap::new();
        for e in &self.events {
            if let Some(id) = e.kind.order_id() {
                by_order.entry(id).or_default().push(&e.kind);
            }
        }
        assert_eq!(
            by_order.keys().copied().collect::<Vec<_>>(),
            self.placed,
            "every placed order reported"
        );
        for (id, kinds) in &by_order {
            let state = b.order(*id).unwrap();
            assert!(
                matches!(kinds[0], EventKind::Submitted { .. }),
                "{id}: {kinds:?}"
            );
            let modified = kinds
                .iter()
                .filter(|k| matches!(k, EventKind::Modified { .. }))
                .count();
            assert_eq!(modified, state.modifications as usize);
            let terminal: Vec<_> = kinds
                .iter()
                .filter(|k| {
                    matches!(
                        k,
                        EventKind::Filled(_)
                            | EventKind::Cancelled { .. }
                            | EventKind::Rejected { .. }
                    )
                })
                .collect();
            assert!(terminal.len() <= 1, "{id}: {kinds:?}");
            assert_eq!(
                terminal.is_empty(),
                !state.status.is_terminal(),
                "{id}: {kinds:?} vs {:?}",
                state.status
            );
            if let Some(last) = terminal.first() {
                assert!(
                    std::ptr::eq(**last, *kinds.last().unwrap()),
                    "terminal event is the last: {kinds:?}"
                );
                match (last, &state.status) {
                    (EventKind::Filled(f), OrderStatus::Filled) => {
                        assert_eq!(Some(f), state.fill.as_ref());
                    }
                    (EventKind::Cancelled { reason, .. }, OrderStatus::Cancelled(r)) => {
                        assert_eq!(reason, r);
                    }
                    (EventKind::Rejected { reason, .. }, OrderStatus::Rejected(r)) => {
                        assert_eq!(reason, r);
                    }
                    other => panic!("event and status disagree: {other:?}"),
                }
            }
        }
        let open: Vec<OrderId> = b.open_orders().iter().map(|o| o.id).collect();
        let working: Vec<OrderId> = self
            .placed
            .iter()
            .copied()
            .filter(|id| b.order(*id).unwrap().status == OrderStatus::Submitted)
            .collect();
        assert_eq!(open, working);
        // Positions and cash are exactly what the events say.
        let mut held: BTreeMap<String, i64> = BTreeMap::new();
        let mut cash = b.account().starting_cash;
        for e in &self.events {
            match &e.kind {
                EventKind::Filled(f) => {
                    for l in &f.legs {
                        *held.entry(l.instrument.to_string()).or_default() += l.quantity;
                    }
                    cash += f.cash - f.commission;
                }
                k => {
                    if let Some(s) = k.settlement() {
                        *held
                            .entry(Instrument::Option(s.contract.clone()).to_string())
                            .or_default() -= s.quantity;
                        *held.entry("SPY stock".to_owned()).or_default() += s.stock_delivered;
                        cash += s.cash - s.fee;
                    }
                }
            }
        }
        held.retain(|_, q| *q != 0);
        let positions: BTreeMap<String, i64> = b
            .positions()
            .iter()
            .map(|p| (p.instrument.to_string(), p.quantity))
            .collect();
        assert_eq!(positions, held);
        assert_eq!(b.account().cash, cash);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_order_fill_or_dollar_is_lost(ops in proptest::collection::vec(op(), 1..80), fees in any::<bool>()) {
        let mut config = SimConfig::new(m("100000"), at(2025, 3, 17, 9, 30));
        if !fees {
            config.commissions = Commissions::free();
        }
        let mut run = Run { broker: SimBroker::new(config).unwrap(), session: 0, minute: 0, placed: Vec::new(), events: Vec::new() };
        for op in &ops {
            run.apply(op);
        }
        // Close every remaining session: no option survives its expiry, no order stays DAY-open.
        while run.session < SESSIONS.len() {
            run.apply(&Op::Close { open_cents: 56_000, close_cents: 56_000 });
        }
        prop_assert!(run.broker.positions().iter().all(|p| matches!(p.instrument, Instrument::Stock(_))));
        prop_assert!(run.broker.open_orders().is_empty());
    }
}
