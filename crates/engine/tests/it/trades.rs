//! Hand-computed trades through the whole engine: a SPY put credit spread (sell the 560 put,
//! buy the 550 put, 2025-03-21 expiry) opened on Monday 2025-03-17 against hand-written quotes,
//! then expiring worthless, expiring beyond the long strike, assigned into stock, or closed at
//! its profit target. Every figure is worked out in the comments.
//!
//! The opening, common to all: 560P 3.00/3.10, 550P 0.90/1.00, SPY 565. The fill model pays
//! half the half-spread: the short put sells at 3.05 − 0.025 = 3.025, the long put buys at
//! 0.95 + 0.025 = 0.975, net −2.05 (a 2.05 credit). Risk: 2 % of $100,000 = $2,000 per trade,
//! one spread risks (10 − 2.00) × 100 = $800 at the −2.00 limit → 2 spreads. Cash in:
//! 2.05 × 100 × 2 = $410, commission 4 contracts × $0.65 = $2.60.

use crate::common;

use chrono::NaiveDate;
use volta_broker::{Broker, SessionPrices};
use volta_core::order::{ComboOrder, ComboSide, DollarGreeks, Instrument, Leg, LegAction};
use volta_core::{ChainSnapshot, Money, OptionQuote, Underlying};
use volta_data::store::{JournalStore, SqliteStore};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_engine::events::{OrderPurpose, SettlementKind};
use volta_engine::{EngineEvent, ReplayFeed, Session, Signals};
use volta_strategy::manage::{ExitReason, ExitRules, closing_proposal};
use volta_strategy::structures::{Pricing, Structure};
use volta_strategy::{Intent, MarketView, Proposal, Strategy};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

fn spy() -> Underlying {
    "SPY".parse().unwrap()
}

const SHORT: &str = "SPY   250321P00560000";
const LONG: &str = "SPY   250321P00550000";

/// Opens the 560/550 put credit spread on the first day it sees, limit −2.00, and manages it
/// with `rules`.
#[derive(Debug)]
struct OneSpread {
    rules: ExitRules,
}

impl Strategy for OneSpread {
    fn name(&self) -> &'static str {
        "one_spread"
    }

    fn propose(&self, view: &MarketView) -> volta_strategy::Result<Vec<Proposal>> {
        if view.as_of().date() != day(17) || view.holds("one_spread", &spy()) {
            return Ok(Vec::new());
        }
        Ok(vec![the_spread("one_spread")])
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        (strategy == "one_spread").then_some(self.rules)
    }
}

/// The 560/550 put credit spread, one unit, limit −2.00, proposed by `strategy`.
fn the_spread(strategy: &str) -> Proposal {
    let legs = vec![
        Leg::option(SHORT.parse().unwrap(), LegAction::Sell, 1).unwrap(),
        Leg::option(LONG.parse().unwrap(), LegAction::Buy, 1).unwrap(),
    ];
    Proposal {
        strategy: strategy.to_owned(),
        intent: Intent::Open,
        structure: Structure::PutCreditSpread,
        order: ComboOrder::new(legs, ComboSide::Buy, 1, "-2.00".parse().unwrap()).unwrap(),
        mid: -2.10,
        natural: -2.00,
        greeks: Some(DollarGreeks {
            dollar_delta: 1_000.0,
            vega_per_point: -5.0,
        }),
        reason: "hand-written test trade".to_owned(),
    }
}

/// Opens the same spread on Monday and again on Tuesday (two positions with the same legs
/// and quantity), and on Wednesday closes Tuesday's only.
#[derive(Debug)]
struct SameLegsTwice;

impl Strategy for SameLegsTwice {
    fn name(&self) -> &'static str {
        "same_legs"
    }

    fn propose(&self, view: &MarketView) -> volta_strategy::Result<Vec<Proposal>> {
        let today = view.as_of().date();
        Ok(if today == day(17) || today == day(18) {
            vec![the_spread("same_legs")]
        } else {
            Vec::new()
        })
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        (strategy == "same_legs").then_some(hold_to_expiry())
    }

    fn manage(&self, view: &MarketView) -> volta_strategy::Result<Vec<Proposal>> {
        if view.as_of().date() != day(19) {
            return Ok(Vec::new());
        }
        view.positions()
            .iter()
            .filter(|p| p.entered == day(18))
            .map(|p| closing_proposal(view, p, ExitReason::ProfitTarget, Pricing::default()))
            .collect()
    }
}

fn chain(d: u32, spot: &str, short: (&str, &str), long: (&str, &str)) -> ChainSnapshot {
    let q = |k: &str, (b, a): (&str, &str)| {
        OptionQuote::new(
            k.parse().unwrap(),
            Some(b.parse().unwrap()),
            Some(a.parse().unwrap()),
        )
    };
    ChainSnapshot::try_new(
        day(d).and_hms_opt(15, 45, 0).unwrap(),
        spy(),
        spot.parse().unwrap(),
        [q(SHORT, short), q(LONG, long)],
    )
    .unwrap()
}

use common::spy_session as session;

/// A week of sessions: the opening quotes on Monday, unchanged quotes Tuesday to Thursday, SPY
/// closing at `expiry_close` on Friday (no chain: it settles), and `after` sessions beyond.
fn week(expiry_close: &str, after: Vec<Session>) -> Vec<Session> {
    let open_quotes = |d| chain(d, "565", ("3.00", "3.10"), ("0.90", "1.00"));
    let mut s = vec![session(day(17), "564", "565", vec![open_quotes(17)])];
    for d in 18..=20 {
        s.push(session(day(d), "565", "565", vec![open_quotes(d)]));
    }
    s.push(session(day(21), "565", expiry_close, Vec::new()));
    s.extend(after);
    s
}

/// Signals for March 2025: a synthetic VIX history long enough for the rank to be defined.
fn signals() -> Signals {
    common::signals_of(
        &SyntheticMarket::generate(&SyntheticConfig {
            start: NaiveDate::from_ymd_opt(2023, 12, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2025, 4, 30).unwrap(),
            ..SyntheticConfig::default()
        })
        .unwrap(),
    )
}

use crate::common::TestEngine;

fn run(rules: ExitRules, sessions: Vec<Session>) -> (TestEngine, tempfile::TempDir) {
    let (mut engine, dir) = common::engine(Box::new(OneSpread { rules }), signals(), day(17));
    let mut feed = ReplayFeed::new(sessions).unwrap();
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    (engine, dir)
}

/// Rules that never fire before expiry.
fn hold_to_expiry() -> ExitRules {
    ExitRules {
        profit_target: 10.0,
        stop_loss: 10.0,
        exit_days_to_expiry: None,
        roll_at_exit: false,
        close_on_expiry_day: false,
    }
}

fn money(s: &str) -> Money {
    s.parse().unwrap()
}

fn only_trade(engine: &TestEngine) -> volta_engine::metrics::TradeRecord {
    let trades: Vec<_> = engine
        .book()
        .all()
        .map(|p| p.trade(&engine.venue().marks()))
        .collect();
    assert_eq!(trades.len(), 1, "{trades:?}");
    trades.into_iter().next().unwrap()
}

#[test]
fn expiring_worthless_earns_the_credit_minus_fees() {
    // SPY closes at 570 on expiry: both puts expire. 410 − 2.60 = 407.40.
    let (engine, _dir) = run(hold_to_expiry(), week("570", Vec::new()));
    let t = only_trade(&engine);
    assert_eq!(t.quantity, 2);
    assert_eq!(t.entry_price, -2.05);
    assert_eq!(t.exit_reason, "expired");
    assert_eq!(t.closed, Some(day(21)));
    assert!((t.pnl - 407.40).abs() < 1e-9, "{}", t.pnl);
    assert!((t.fees - 2.60).abs() < 1e-9);
    assert!(engine.venue().positions().is_empty());
    assert_eq!(engine.venue().account().cash, money("100407.40"));
    let last = engine.equity().last().unwrap();
    assert_eq!((last.date, last.equity), (day(21), 100_407.40));
    // The curve starts the session before, at the starting cash.
    assert_eq!(engine.equity()[0].date, day(14));
    assert_eq!(engine.equity()[0].equity, 100_000.0);
}

#[test]
fn ib_fees_and_closing_marks_by_hand() {
    // The defaults of the simulated broker: IB's fee table and positions marked at the price
    // the fill model would close them at (half way from mid to natural).
    let (mut engine, _dir) = common::engine_with(
        Box::new(OneSpread {
            rules: hold_to_expiry(),
        }),
        signals(),
        volta_risk::RiskConfig::default(),
        volta_broker::SimConfig::new(money("100000"), day(17).and_hms_opt(0, 0, 0).unwrap()),
    );
    let mut feed = ReplayFeed::new(week("570", Vec::new())).unwrap();
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    let t = only_trade(&engine);
    // Fees: 4 × (0.65 + ORF 0.0388 + OCC 0.055) + FINRA 2 × 0.002 + SEC 605 × 0.0000221
    // = 2.9925705 → 2.99, against 2.60 under the flat commission.
    assert!((t.fees - 2.99).abs() < 1e-9, "{}", t.fees);
    assert!((t.pnl - 407.01).abs() < 1e-9, "{}", t.pnl);
    // Monday's close: the short 560 put marked where buying it back fills (3.05 + 0.025), the
    // long 550 put where selling it fills (0.95 − 0.025): −2 × 307.50 + 2 × 92.50 = −430,
    // $10 below the mid marks (−420) — the cost of closing, which the mid ignored.
    let monday = engine.equity().iter().find(|e| e.date == day(17)).unwrap();
    assert!((monday.cash - 100_407.01).abs() < 1e-9, "{}", monday.cash);
    assert!(
        (monday.equity - 99_977.01).abs() < 1e-9,
        "{}",
        monday.equity
    );
    let last = engine.equity().last().unwrap();
    assert!((last.equity - 100_407.01).abs() < 1e-9);
}

#[test]
fn expiring_beyond_the_long_strike_loses_width_minus_credit_plus_fees() {
    // SPY closes at 540: the 560 put is assigned (+200 shares at 560), the 550 put exercised
    // (−200 shares at 550): no stock left, cash −112,000 + 110,000 = −2,000.
    // (10 − 2.05) × 200 = 1,590 lost, plus 2.60 commission: −1,592.60.
    let (engine, _dir) = run(hold_to_expiry(), week("540", Vec::new()));
    let t = only_trade(&engine);
    assert_eq!(t.exit_reason, "assigned");
    assert!((t.pnl + 1_592.60).abs() < 1e-9, "{}", t.pnl);
    assert!(engine.venue().positions().is_empty());
    assert_eq!(engine.venue().account().cash, money("98407.40"));
}

#[test]
fn an_assignment_becomes_stock_that_is_flattened_at_the_next_open() {
    // SPY closes at 555: the short 560 put is assigned, +200 shares at 560 (cash −112,000);
    // the 550 put expires. Cash after the close: 100,000 + 410 − 2.60 − 112,000 = −11,592.60;
    // equity marks the shares at 555: −11,592.60 + 111,000 = 99,407.40.
    let monday = session(
        NaiveDate::from_ymd_opt(2025, 3, 24).unwrap(),
        "556",
        "557",
        Vec::new(),
    );
    let (engine, _dir) = run(hold_to_expiry(), week("555", vec![monday]));
    let friday = engine.equity().iter().find(|e| e.date == day(21)).unwrap();
    assert_eq!(friday.cash, -11_592.60);
    assert_eq!(friday.equity, 99_407.40);
    assert_eq!(
        friday.open_positions, 1,
        "the position holds the delivered stock"
    );
    // Monday's open: the 200 shares are sold at 556 (+111,200), commission 200 × $0.005 =
    // $1.00. Trade: 410 − 2.60 − 112,000 + 111,200 − 1.00 = −393.60.
    let t = only_trade(&engine);
    assert_eq!(t.exit_reason, "assigned");
    assert_eq!(
        t.closed,
        Some(NaiveDate::from_ymd_opt(2025, 3, 24).unwrap())
    );
    assert!((t.pnl + 393.60).abs() < 1e-9, "{}", t.pnl);
    assert!(engine.venue().positions().is_empty());
    assert_eq!(engine.venue().account().cash, money("99606.40"));
    let stock = engine.venue().order(volta_broker::OrderId::new(2)).unwrap();
    assert!(
        matches!(stock.request, volta_broker::OrderRequest::StockMarket(ref s) if s.quantity == 200)
    );
}

#[test]
fn a_profit_target_exit_closes_on_the_right_day_at_the_right_price() {
    // Tuesday: 560P 1.20/1.30, 550P 0.30/0.40. Closing (buy the 560 back, sell the 550) at mid
    // costs 1.25 − 0.35 = 0.90: a profit of 2.05 − 0.90 = 1.15 a share, over 50 % of the
    // 2.05 credit (1.025). Limit: half way from mid (−0.90) to natural (−1.30 + 0.30 = −1.00):
    // −0.95. The fill: 560P bought at 1.25 + 0.025 = 1.275, 550P sold at 0.35 − 0.025 =
    // 0.325, net −0.95. Paid 0.95 × 200 = 190 + 2.60 commission.
    // Trade: 410 − 2.60 − 190 − 2.60 = 214.80.
    let rules = ExitRules {
        exit_days_to_expiry: None,
        ..ExitRules::default()
    };
    let sessions = vec![
        session(
            day(17),
            "564",
            "565",
            vec![chain(17, "565", ("3.00", "3.10"), ("0.90", "1.00"))],
        ),
        session(
            day(18),
            "570",
            "575",
            vec![chain(18, "575", ("1.20", "1.30"), ("0.30", "0.40"))],
        ),
        session(
            day(19),
            "575",
            "575",
            vec![chain(19, "575", ("1.00", "1.10"), ("0.20", "0.30"))],
        ),
    ];
    let (engine, dir) = run(rules, sessions);
    let t = only_trade(&engine);
    assert_eq!(t.exit_reason, "profit_target");
    assert_eq!(t.closed, Some(day(18)));
    assert_eq!(t.exit_price, Some(-0.95));
    assert!((t.pnl - 214.80).abs() < 1e-9, "{}", t.pnl);
    assert_eq!(engine.venue().account().cash, money("100214.80"));
    // The journal has both orders filled, both fills, and the closed position.
    let store = SqliteStore::open(dir.path().join("journal.sqlite")).unwrap();
    let orders = store.orders("run").unwrap();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o.status == "filled"));
    let fills = store.fills("run").unwrap();
    assert_eq!(fills.len(), 2);
    assert_eq!(fills[0].price, money("-2.05"));
    assert_eq!(fills[1].price, money("-0.95"));
    let positions = store.positions("run").unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].realized_pnl, money("214.80"));
    assert_eq!(positions[0].quantity, 0);
    assert_eq!(store.equity_curve("run").unwrap().len(), 3);
    drop(engine);
}

#[test]
fn a_closing_order_closes_the_position_it_names_not_the_first_with_the_same_legs() {
    // A regression: the engine matched closings to positions by their legs, so closing
    // Tuesday's spread closed Monday's (the first with those legs). Wednesday's close at the
    // unchanged quotes: mid −3.05 + 0.95 = −2.10, natural −3.10 + 0.90 = −2.20, limit −2.15.
    let (mut engine, _dir) = common::engine(Box::new(SameLegsTwice), signals(), day(17));
    let mut feed = ReplayFeed::new(week("570", Vec::new())).unwrap();
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    let marks = engine.venue().marks();
    let trades: Vec<_> = engine.book().all().map(|p| p.trade(&marks)).collect();
    let summary: Vec<_> = trades
        .iter()
        .map(|t| {
            (
                t.position_id.as_str(),
                t.opened,
                t.closed,
                t.exit_reason.as_str(),
                t.exit_price,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("p1", day(17), Some(day(21)), "expired", None),
            ("p2", day(18), Some(day(19)), "profit_target", Some(-2.15)),
        ]
    );
    assert!(engine.venue().positions().is_empty());
}

#[test]
fn the_book_always_matches_the_broker() {
    // Every scenario above ends reconciled; here the stock leg of an assignment is checked in
    // the middle: after Friday's close the broker holds 200 SPY and so does the book.
    let (engine, _dir) = run(hold_to_expiry(), week("555", Vec::new()));
    let held = engine.book().holdings();
    assert_eq!(held.get("SPY"), Some(&200));
    let broker: Vec<_> = engine
        .venue()
        .positions()
        .into_iter()
        .filter(|p| matches!(p.instrument, Instrument::Stock(_)))
        .map(|p| p.quantity)
        .collect();
    assert_eq!(broker, vec![200]);
}

#[test]
fn chains_snapped_at_different_times_are_decided_on_together() {
    // A regression: SPY snapped at 15:45 and QQQ at 16:00 on the same session (a real chain
    // beside a synthetic one). The decision is taken at 16:00 with both; the SPY order fills
    // against SPY's 15:45 quotes, the latest known, exactly as in the single-chain case.
    let qqq: Underlying = "QQQ".parse().unwrap();
    let late = ChainSnapshot::try_new(
        day(17).and_hms_opt(16, 0, 0).unwrap(),
        qqq.clone(),
        "480".parse().unwrap(),
        [OptionQuote::new(
            "QQQ   250321P00470000".parse().unwrap(),
            Some("2.00".parse().unwrap()),
            Some("2.10".parse().unwrap()),
        )],
    )
    .unwrap();
    let mut sessions = week("570", Vec::new());
    sessions[0].chains.push(late);
    for s in &mut sessions {
        s.prices.push((
            qqq.clone(),
            SessionPrices {
                open: "480".parse().unwrap(),
                close: "480".parse().unwrap(),
            },
        ));
    }
    let (engine, _dir) = run(hold_to_expiry(), sessions);
    let t = only_trade(&engine);
    assert_eq!((t.quantity, t.entry_price), (2, -2.05));
    assert!((t.pnl - 407.40).abs() < 1e-9, "{}", t.pnl);
}

#[test]
fn an_assignment_is_told_to_observers_as_it_happened() {
    // The assignment week above, watched: the opening at −2.05 × 2, the short put assigned and
    // the long put expired on Friday's close, both naming p1, then the 200 delivered shares
    // flattened at Monday's open at 556.
    let monday = NaiveDate::from_ymd_opt(2025, 3, 24).unwrap();
    let (mut engine, _dir) = common::engine(
        Box::new(OneSpread {
            rules: hold_to_expiry(),
        }),
        signals(),
        day(17),
    );
    let (sender, receiver) = std::sync::mpsc::channel();
    engine.observe(Box::new(volta_engine::ChannelObserver::new(sender)));
    let mut feed =
        ReplayFeed::new(week("555", vec![session(monday, "556", "557", Vec::new())])).unwrap();
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    let events: Vec<EngineEvent> = receiver.try_iter().collect();

    let placed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::OrderPlaced {
                order,
                position_id,
                purpose,
                ..
            } => Some((
                order.created_at.date(),
                position_id.as_str(),
                *purpose,
                order.quantity,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        placed,
        vec![
            (day(17), "p1", OrderPurpose::Open, 2),
            (day(21), "p1", OrderPurpose::Flatten, 200),
        ]
    );
    let fills: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Filled { fill, .. } => Some((fill.at.date(), fill.price, fill.fees)),
            _ => None,
        })
        .collect();
    assert_eq!(
        fills,
        vec![
            (day(17), money("-2.05"), money("2.60")),
            (monday, money("556"), money("1.00")),
        ]
    );
    let settled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Settled {
                at,
                kind,
                settlement,
                position_ids,
            } => Some((
                at.date(),
                *kind,
                settlement.contract.key().to_string(),
                settlement.stock_delivered,
                position_ids.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(settled.len(), 2, "{settled:?}");
    assert!(settled.contains(&(
        day(21),
        SettlementKind::Assigned,
        "SPY   250321P00560000".to_owned(),
        200,
        vec![volta_core::PositionId::try_new("p1").unwrap()]
    )));
    assert!(settled.contains(&(
        day(21),
        SettlementKind::Expired,
        "SPY   250321P00550000".to_owned(),
        0,
        vec![volta_core::PositionId::try_new("p1").unwrap()]
    )));
    // The position's last word: closed with its P&L of −393.60.
    let last = events
        .iter()
        .rev()
        .find_map(|e| match e {
            EngineEvent::PositionChanged(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(last.closed_at.map(|t| t.date()), Some(monday));
    assert_eq!(last.realized_pnl, money("-393.60"));
}

#[test]
fn a_loss_day_refuses_the_next_opening_and_a_deeper_one_fires_the_kill_switch() {
    // The spread proposed on Monday and again on Tuesday (`SameLegsTwice`; it would close
    // Tuesday's on Wednesday, had it opened). 10 % per trade, a 9 % kill switch, the 3 % daily
    // loss limit. Monday: the 560/550 put
    // spread at −2.00 risks 800 a unit: 12 units (9,600 of a 10,000 budget), filled at −2.05:
    // cash 100,000 + 2,460 − 24 contracts × 0.65 = 102,444.40; marked at mid (560P 3.05, 550P 0.95:
    // −2.10 × 1,200 = −2,520) equity 99,924.40 at the close. Peak: 100,000 (the snapshot
    // before the trade).
    // Tuesday, SPY 545: 560P 16.10 mid, 550P 8.00: −8.10 × 1,200 = −9,720, equity 92,724.40:
    // 7.21 % below Monday's close, so Tuesday's new spread is refused by the daily loss limit;
    // 7.28 % below the peak, short of the kill switch.
    // Wednesday, SPY 535: 560P 25.10, 550P 15.10: −10.00 × 1,200 = −12,000, equity 90,444.40:
    // 9.5556 % below the peak: the kill switch fires at the snapshot and the spread is closed.
    let risk = volta_risk::RiskConfig {
        max_risk_per_trade: 0.10,
        kill_switch_drawdown: 0.09,
        ..volta_risk::RiskConfig::default()
    };
    let (mut engine, _dir) =
        common::engine_with_risk(Box::new(SameLegsTwice), signals(), day(17), risk);
    let (sender, receiver) = std::sync::mpsc::channel();
    engine.observe(Box::new(volta_engine::ChannelObserver::new(sender)));
    let sessions = vec![
        session(
            day(17),
            "565",
            "565",
            vec![chain(17, "565", ("3.00", "3.10"), ("0.90", "1.00"))],
        ),
        session(
            day(18),
            "546",
            "545",
            vec![chain(18, "545", ("16.00", "16.20"), ("7.90", "8.10"))],
        ),
        session(
            day(19),
            "536",
            "535",
            vec![chain(19, "535", ("25.00", "25.20"), ("15.00", "15.20"))],
        ),
    ];
    engine
        .run(&mut ReplayFeed::new(sessions).unwrap(), &mut |_, _| {})
        .unwrap();
    let events: Vec<EngineEvent> = receiver.try_iter().collect();
    let closes: Vec<f64> = engine.equity().iter().map(|e| e.equity).collect();
    assert_eq!(closes[..3], [100_000.0, 99_924.40, 92_724.40]);

    let refusals: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::RiskRejected { at, reason, .. } => Some(format!("{} {reason}", at.date())),
            _ => None,
        })
        .collect();
    assert_eq!(
        refusals,
        vec!["2025-03-18 daily loss limit reached (7.21 % today)".to_owned()]
    );
    let fired: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::KillSwitch {
                at,
                equity,
                peak,
                drawdown,
            } => Some((*at, *equity, *peak, *drawdown)),
            _ => None,
        })
        .collect();
    assert_eq!(fired.len(), 1, "{fired:?}");
    let (at, equity, peak, drawdown) = fired[0];
    assert_eq!(at, day(19).and_hms_opt(15, 45, 0).unwrap());
    assert_eq!((equity, peak), (money("90444.40"), money("100000")));
    assert!((drawdown - 0.095556).abs() < 1e-12, "{drawdown}");
    // The only opening was Monday's; the spread is closed by the kill switch on Wednesday.
    let placed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::OrderPlaced { order, purpose, .. } => {
                Some((order.created_at.date(), *purpose, order.quantity))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        placed,
        vec![
            (day(17), OrderPurpose::Open, 12),
            (day(19), OrderPurpose::Close, 12),
        ]
    );
    let t = only_trade(&engine);
    assert_eq!(t.exit_reason, "kill_switch");
    assert!(engine.venue().positions().is_empty());
}
