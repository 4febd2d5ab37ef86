//! The yardsticks by hand: the PUT-write replica through the whole engine on SPY's real closes
//! of October 2023 (from `../shared/data/underlying/SPY_daily_unadjusted.csv`) with
//! hand-written put quotes, interest on its idle cash at a constant 5.40 % (DTB3 was 5.32 to
//! 5.36 that month), and the backtest's summary carrying the yardsticks.
//!
//! Sessions (SPY open / close): Mon 2 Oct 426.62 / 427.31 with the 20 Oct puts quoted at
//! 15:45; Tue 3 Oct 425.06 / 421.59; Fri 20 Oct (expiry) 425.98 / 421.19, no chain; Mon 23 Oct
//! 419.61 / 420.46 with the 17 Nov puts. The broker is the hand-computed one of the other
//! scenarios ($100,000, $0.65 a contract, $0.005 a share, marks at the mid).

use crate::common;

use chrono::NaiveDate;
use volta_broker::CashInterest;
use volta_core::order::Instrument;
use volta_core::{ChainSnapshot, Money, OptionQuote, Underlying};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_engine::yardstick::put_write_risk;
use volta_engine::{ReplayFeed, Session, Signals};
use volta_strategy::PutWrite;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, m, d).unwrap()
}

fn spy() -> Underlying {
    "SPY".parse().unwrap()
}

fn chain(date: NaiveDate, spot: &str, puts: &[(&str, &str, &str)]) -> ChainSnapshot {
    let quotes = puts.iter().map(|(key, bid, ask)| {
        OptionQuote::new(
            key.parse().unwrap(),
            Some(bid.parse().unwrap()),
            Some(ask.parse().unwrap()),
        )
    });
    ChainSnapshot::try_new(
        date.and_hms_opt(15, 45, 0).unwrap(),
        spy(),
        spot.parse().unwrap(),
        quotes,
    )
    .unwrap()
}

use common::spy_session as session;

/// The 20 Oct puts, with the 427 put quoted at `p427`.
fn october_puts(
    p427: (&'static str, &'static str),
) -> [(&'static str, &'static str, &'static str); 4] {
    [
        ("SPY   231020P00425000", "4.80", "4.90"),
        ("SPY   231020P00427000", p427.0, p427.1),
        ("SPY   231020P00428000", "6.20", "6.30"),
        ("SPY   231020P00430000", "7.30", "7.40"),
    ]
}

fn sessions() -> Vec<Session> {
    vec![
        session(
            day(10, 2),
            "426.62",
            "427.31",
            vec![chain(day(10, 2), "427.31", &october_puts(("5.70", "5.80")))],
        ),
        session(
            day(10, 3),
            "425.06",
            "421.59",
            vec![chain(day(10, 3), "421.59", &october_puts(("8.60", "8.70")))],
        ),
        session(day(10, 20), "425.98", "421.19", Vec::new()),
        session(
            day(10, 23),
            "419.61",
            "420.46",
            vec![chain(
                day(10, 23),
                "420.46",
                &[
                    ("SPY   231117P00419000", "6.40", "6.50"),
                    ("SPY   231117P00420000", "6.90", "7.00"),
                    ("SPY   231117P00421000", "7.40", "7.50"),
                ],
            )],
        ),
    ]
}

/// Signals for October 2023: a synthetic VIX history long enough for the rank to be defined
/// (the replica ignores them, but the engine opens nothing without a rank).
fn signals() -> Signals {
    common::signals_of(
        &SyntheticMarket::generate(&SyntheticConfig {
            start: NaiveDate::from_ymd_opt(2022, 1, 3).unwrap(),
            end: day(11, 30),
            ..SyntheticConfig::default()
        })
        .unwrap(),
    )
}

fn money(s: &str) -> Money {
    s.parse().unwrap()
}

/// The replica over [`sessions`] with interest at 5.40 %; `collateral_earns_interest` as
/// given.
fn replica(collateral_earns_interest: bool) -> (common::TestEngine, tempfile::TempDir) {
    let mut broker = common::hand_computed_broker(day(10, 2).and_hms_opt(0, 0, 0).unwrap());
    broker.cash_interest = Some(CashInterest::constant("5.40 %", 0.054, day(9, 1)).unwrap());
    let (mut engine, dir) = common::engine_configured(
        Box::new(PutWrite::new()),
        signals(),
        put_write_risk(1),
        broker,
        volta_engine::EngineConfig {
            collateral_earns_interest,
            ..volta_engine::EngineConfig::default()
        },
    );
    let mut feed = ReplayFeed::new(sessions()).unwrap();
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    (engine, dir)
}

#[test]
fn with_its_collateral_earning_the_replica_earns_on_all_its_cash() {
    // As Cboe's PUT index: the whole cash balance earns, collateral included.
    //   2 Oct: 100,000 × 0.054 × 3 / 360 = 45.00; cash 101,187.70, all of it earning.
    //   3 Oct: 101,187.70 × 0.054 / 360 = 15.178 → 15.18; 101,202.88.
    //  20 Oct: 17 days on 101,202.88: 258.067 → 258.07 (after the assignment's −85,400).
    //  23 Oct: 3 days on 16,060.95: 7.227 → 7.23.
    let (engine, _dir) = replica(true);
    assert_eq!(engine.venue().interest_earned(), money("325.48"));
    // 16,060.95 + 83,922 − 1.00 + 1,384 − 1.30 + 7.23; still 2 puts sold on the 23rd.
    assert_eq!(
        volta_broker::Broker::account(engine.venue()).cash,
        money("101371.88")
    );
}

#[test]
fn the_put_write_replica_by_hand() {
    let (engine, _dir) = replica(false);

    let positions: Vec<_> = engine.book().all().collect();
    assert_eq!(positions.len(), 2);
    let contract = |i: usize| match &positions[i].position.order.legs()[0].instrument {
        Instrument::Option(c) => c.key().to_string(),
        Instrument::Stock(u) => u.to_string(),
    };
    // Mon 2 Oct: the next monthly expiry is Friday 20 Oct; the strike nearest 427.31 is 427.
    // Limit: half way from the mid 5.75 to the bid 5.70, −5.725, a cent toward the natural:
    // −5.72; the fill model sells at 5.75 − 0.025 = 5.725, rounded against us: 5.72. Size:
    // the cash that secures one put at that price is (427 − 5.72) × 100 = $42,128; $100,000
    // secures 2. Cash: +1,144 − 2 × 0.65 = 101,142.70.
    assert_eq!(contract(0), "SPY   231020P00427000");
    let marks = volta_broker::Venue::marks(engine.venue());
    let first = positions[0].trade(&marks);
    assert_eq!(
        (first.structure.as_str(), first.quantity, first.entry_price),
        ("short_put", 2, -5.72)
    );
    assert_eq!(first.opened, day(10, 2));
    // Fri 20 Oct: SPY closes at 421.19, the 427 put is 5.81 in the money: assigned, +200
    // shares at 427 (−85,400); sold at Monday's open, 419.61 (+83,922, $1.00 commission).
    // P&L: 1,144 − 1.30 − 85,400 + 83,922 − 1.00 = −336.30 = (5.72 − 7.39) × 200 − 2.30.
    assert_eq!(first.exit_reason, "assigned");
    assert_eq!(first.closed, Some(day(10, 23)));
    assert!((first.pnl + 336.30).abs() < 1e-9, "{}", first.pnl);
    assert!((first.fees - 2.30).abs() < 1e-9, "{}", first.fees);
    // Mon 23 Oct, flat again: the 17 Nov monthly's put nearest 420.46, the 420, at 6.92 (mid
    // 6.95 less 0.025, rounded against us); (420 − 6.92) × 100 = $41,308 secures one, the
    // $99,751.34 of the account secures 2.
    assert_eq!(contract(1), "SPY   231117P00420000");
    let second = positions[1].trade(&marks);
    assert_eq!((second.quantity, second.entry_price), (2, -6.92));
    assert_eq!(second.closed, None);

    // Interest at 5.40 % ACT/360 on the cash above the puts' collateral (strike × 100 × 2,
    // less the premium already in cash) as of each previous close:
    //   2 Oct: the starting $100,000 over the weekend from Fri 29 Sep, 3 days: 45.00; then
    //          idle = 101,187.70 − (84,256 + 1,142.70) = 15,789.00.
    //   3 Oct: 15,789.00 × 0.054 / 360 = 2.368 → 2.37; idle 15,791.37.
    //  20 Oct: 17 days: 15,791.37 × 0.054 × 17 / 360 = 40.268 → 40.27. The assignment paid
    //          85,400 first and the position's collateral is spent: idle = cash = 15,830.34.
    //  23 Oct: 3 days: 15,830.34 × 0.054 × 3 / 360 = 7.124 → 7.12.
    assert_eq!(engine.venue().interest_earned(), money("94.76"));
    // Cash: 15,830.34 + 83,922 − 1.00 + 1,384 − 1.30 + 7.12.
    assert_eq!(
        volta_broker::Broker::account(engine.venue()).cash,
        money("101141.16")
    );
    let out = engine.finish(&marks).unwrap();
    assert!((out.interest_earned - 94.76).abs() < 1e-9);
    // Buying power: the start, then 84,256 while the first put is held, 0 once it is
    // assigned, 82,616 for the second.
    assert_eq!(
        out.buying_power,
        [0.0, 84_256.0, 84_256.0, 84_256.0, 82_616.0]
    );
}

/// A quarter of the synthetic market with the defaults: the summary (and `summary.json`)
/// carries the yardsticks, the interest and the buying power; buy and hold returns the
/// close ratio; the replica sold a put each month, and both accounts earned interest.
#[test]
fn every_backtest_summary_carries_the_yardsticks() {
    let dir = tempfile::tempdir().unwrap();
    let (start, end) = (NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(), day(3, 31));
    let config = volta_engine::BacktestConfig::default();
    let backtest = volta_engine::Backtest {
        config: config.clone(),
        config_text: None,
        start,
        end,
        data: volta_engine::DataChoice::Synthetic,
        journal: dir.path().join("journal.sqlite"),
    };
    let r = backtest.run(&mut |_, _| {}).unwrap();
    let s = &r.summary;
    let names: Vec<&str> = s.yardsticks.iter().map(|y| y.name.as_str()).collect();
    assert_eq!(names, ["put_write", "buy_and_hold"]);

    // The synthetic SPY the run traded (its path starts with the warm-up, 400 days before).
    let market = SyntheticMarket::generate(&SyntheticConfig {
        seed: config.seed,
        symbol: "SPY".to_owned(),
        rate: config.rate,
        dividend_yield: config.dividend_yield,
        start: start - chrono::Days::new(400),
        end,
        ..SyntheticConfig::default()
    })
    .unwrap();
    let closes: Vec<f64> = market
        .bars()
        .filter(|b| b.date >= start && b.date <= end)
        .map(|b| b.ohlcv.close().to_f64())
        .collect();
    let ratio = closes.last().unwrap() / closes.first().unwrap() - 1.0;
    let hold = &s.yardsticks[1];
    assert!(
        (hold.metrics.total_return - ratio).abs() < 1e-12,
        "{} vs {ratio}",
        hold.metrics.total_return
    );
    assert!((hold.strategies_excess.total_return - (s.metrics.total_return - ratio)).abs() < 1e-12);

    // January, February and March: the 20 Jan, 17 Feb and 17 Mar puts; the last one's
    // successor (21 Apr) is sold on 20 Mar and still open at the end.
    let put = &s.yardsticks[0];
    assert!(
        put.description.contains("4 monthly sales"),
        "{}",
        put.description
    );
    assert!(put.interest_earned > 0.0 && put.buying_power.mean > 50_000.0);
    // The strategies' idle cash earned the synthetic market's 2 %: most of the account is
    // idle: a little under 100,000 × 0.02 × 91 / 360 = 505.56 (30 Dec's close to 31 Mar's).
    assert!((s.cash_interest.mean_rate.unwrap() - 0.02).abs() < 1e-12);
    assert!(
        s.cash_interest.earned > 400.0 && s.cash_interest.earned < 506.0,
        "{}",
        s.cash_interest.earned
    );
    assert!(
        s.cash_interest
            .source
            .as_deref()
            .unwrap()
            .contains("synthetic")
    );

    let json: serde_json::Value =
        serde_json::from_str(&volta_engine::report::summary_json(s).unwrap()).unwrap();
    for field in ["yardsticks", "cash_interest", "buying_power"] {
        assert!(!json[field].is_null(), "{field}");
    }
    assert_eq!(json["yardsticks"][0]["name"], "put_write");
    assert!(json["yardsticks"][1]["metrics"]["worst_month"].is_number());
    assert!(json["yardsticks"][0]["strategies_excess"]["sharpe"].is_number());
    assert!(json["metrics"]["worst_month_of"].is_string());
}
