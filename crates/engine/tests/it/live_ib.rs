//! The live trader's path end to end against the fake TWS: the engine, on sessions the live
//! feed builds from IB's chains, places a real combo order at IB through the IB broker; the
//! fill comes back, is journaled and reconciles. Then the recorded session, replayed through
//! the backtester's engine on the simulated broker, gives the same orders: one code path.
#![expect(
    clippy::result_large_err,
    reason = "the closures return the engine's own Result, as the binaries' do"
)]

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::ChainSnapshot;
use volta_core::OptionRight;
use volta_data::store::{JournalStore, MarketStore, SqliteStore};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket, store_market};
use volta_engine::{
    Backtest, BacktestConfig, DataChoice, Engine, EngineConfig, Journal, LiveOptions, ReplayFeed,
    Session, SimulatedClock, StopSignal,
};
use volta_ib::fake_tws::{FakeTws, OptionChain, Quote};
use volta_ib::{ChainWindow, IbBroker, IbConfig, IbEndpoint, IbMarketData};
use volta_pricing::{Vanilla, bsm};

const SPOT: f64 = 560.0;

/// Strikes within 10 % of the spot: the spread's legs and no more (each quote is a paced
/// snapshot).
const WINDOW: ChainWindow = ChainWindow {
    max_days: 50,
    strike_fraction: 0.10,
};
const EXPIRY: &str = "20250418";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// One strategy, a put credit spread whatever the rank and regime, on SPY: the test is about
/// the path an order takes, not about when the strategies trade.
const CONFIG: &str = r#"
underlyings = ["SPY"]
vix_index = "SYNVIX"
fill_model = "always"
starting_cash = 1000000.0

[[strategies]]
kind = "iv_rank_premium"
iv_rank_high = 0.0
iv_rank_low = 0.0

[adaptive.table]
low_vol = ["iv_rank_premium"]
neutral = ["iv_rank_premium"]
high_vol = ["iv_rank_premium"]
iv_expansion = ["iv_rank_premium"]
iv_contraction = ["iv_rank_premium"]
"#;

/// A fake TWS quoting SPY at 560 and its April 2025 monthly puts and calls at Black-Scholes
/// values (20 % vol) ± 5 cents.
fn fake_tws(session: NaiveDate) -> FakeTws {
    let tws = FakeTws::start().unwrap();
    let strikes: Vec<f64> = (0..=40).map(|i| 460.0 + 5.0 * f64::from(i)).collect();
    tws.add_option_chain(OptionChain::new("SPY", &[EXPIRY], &strikes));
    let spy = tws.state().chains[0].underlying_con_id;
    tws.set_quote(
        spy,
        Quote {
            bid: SPOT - 0.01,
            ask: SPOT + 0.01,
            last: Some(SPOT),
        },
    );
    let years = (day(2025, 4, 18) - session).num_days() as f64 / 365.0;
    for &strike in &strikes {
        for (right, code) in [(OptionRight::Call, "C"), (OptionRight::Put, "P")] {
            let option = Vanilla::try_new(right, SPOT, strike, years, 0.02, 0.015).unwrap();
            let value = bsm::price(&option, 0.20).unwrap();
            let mid = (value * 100.0).round() / 100.0;
            tws.set_quote(
                FakeTws::option_con_id("SPY", EXPIRY, code, strike),
                Quote {
                    bid: (mid - 0.05).max(0.0),
                    ask: mid + 0.05,
                    last: None,
                },
            );
        }
    }
    tws
}

/// A store with a synthetic SPY and its volatility index up to `last` (the live trader's
/// history: the session before the first one traded).
fn history(dir: &std::path::Path, last: NaiveDate) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("volta.db");
    let market = SyntheticMarket::generate(&SyntheticConfig {
        start: day(2023, 6, 1),
        end: last,
        symbol: "SPY".to_owned(),
        ..SyntheticConfig::default()
    })
    .unwrap();
    let mut store = SqliteStore::open(&path).unwrap();
    store_market(&market, &mut store, false, &mut |_, _| {}).unwrap();
    path
}

fn decision_only() -> LiveOptions {
    LiveOptions {
        check_every: None,
        ..LiveOptions::default()
    }
}

fn at(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    date.and_hms_opt(h, m, 0).unwrap()
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario told in order: trade, restart and carry on, refuse, replay"
)]
fn the_live_feed_trades_at_ib_and_a_replay_of_the_recorded_session_places_the_same_orders() {
    let session = day(2025, 3, 17);
    let tws = fake_tws(session);
    let dir = tempfile::tempdir().unwrap();
    let store = history(dir.path(), day(2025, 3, 14));
    let journal = dir.path().join("live.db");
    let config = BacktestConfig::from_toml(CONFIG, "test").unwrap();
    let backtest = Backtest {
        config: config.clone(),
        config_text: Some(CONFIG.to_owned()),
        start: session,
        end: session,
        data: DataChoice::Store(store.clone()),
        journal: journal.clone(),
    };
    let ib = |client_id| {
        IbConfig::new(IbEndpoint::TwsPaper)
            .with_port(tws.port())
            .with_client_id(client_id)
    };
    let broker = IbBroker::connect(
        ib(17),
        &journal,
        "1000000".parse().unwrap(),
        at(session, 0, 0),
    )
    .unwrap();
    let market = IbMarketData::connect(ib(18), WINDOW).unwrap();
    let recorded: Arc<Mutex<Vec<Session>>> = Arc::default();
    let keep = Arc::clone(&recorded);
    let result = backtest
        .run_live(
            "ib-paper",
            SimulatedClock::new,
            |_| Ok(broker),
            market,
            LiveOptions {
                recorder: Some(Box::new(move |s: &Session, chains: &[ChainSnapshot]| {
                    let fetched = Session::on(s.date, s.prices.clone(), chains.to_vec())?;
                    keep.lock().unwrap().push(fetched);
                    Ok(())
                })),
                ..LiveOptions::default()
            },
            &mut |_, _| {},
            Vec::new(),
            &StopSignal::new(),
        )
        .unwrap();

    // The decision at 15:45 on IB's chain: one put credit spread, sent to IB as a BAG with
    // Volta's orderRef, filled by IB.
    let placed = tws.placed_orders();
    assert_eq!(
        placed.len(),
        1,
        "{placed:?} rejections {:?} gate {:?} signals {:?}",
        result.summary.rejections,
        result.summary.quality_gate,
        SqliteStore::open(&journal)
            .unwrap()
            .signals(&result.run_id)
            .unwrap()
    );
    assert!(placed[0].order_ref.starts_with("volta-"), "{:?}", placed[0]);
    assert_eq!(result.summary.orders, 1);
    assert_eq!(result.summary.fills, 1);
    let store_j = SqliteStore::open(&journal).unwrap();
    let orders = store_j.orders(&result.run_id).unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(store_j.fills(&result.run_id).unwrap().len(), 1);
    assert_eq!(result.equity.len(), 2, "the start and the session's close");
    // Management checks at 10:30, 11:30, …, 15:30 (nothing held: nothing to do), then the
    // decision at 15:45.
    let checks = recorded.lock().unwrap().clone();
    let times: Vec<_> = checks.iter().filter_map(Session::decision_time).collect();
    assert_eq!(
        times,
        [10, 11, 12, 13, 14, 15]
            .map(|h| at(session, h, 30))
            .into_iter()
            .chain([at(session, 15, 45)])
            .collect::<Vec<_>>()
    );
    assert_eq!(checks[6].chains[0].underlying_price().to_f64(), SPOT);
    let sessions = vec![checks[6].clone()];
    assert!(
        result.summary.provenance[0].contains("from ib"),
        "{:?}",
        result.summary.provenance
    );

    // Restarted the next day on the same journal and ledger: the position is carried on,
    // quoted in the next session's chain, and book and IB agree at the close.
    let book_file = journal.with_extension("book.json");
    assert!(book_file.exists());
    let next = day(2025, 3, 18);
    let store_next = history(&dir.path().join("next"), day(2025, 3, 17));
    let restarted = || {
        (
            IbBroker::connect(ib(17), &journal, "1000000".parse().unwrap(), at(next, 0, 0))
                .unwrap(),
            IbMarketData::connect(ib(18), WINDOW).unwrap(),
        )
    };
    let (broker, market) = restarted();
    let again = Backtest {
        start: next,
        end: next,
        data: DataChoice::Store(store_next.clone()),
        ..backtest.clone()
    };
    let day2 = again
        .run_live(
            "ib-paper",
            SimulatedClock::new,
            |_| Ok(broker),
            market,
            LiveOptions::default(),
            &mut |_, _| {},
            Vec::new(),
            &StopSignal::new(),
        )
        .unwrap();
    assert_eq!(
        day2.trades.len(),
        1,
        "the carried position is the run's trade"
    );
    assert_eq!(day2.trades[0].position_id, result.trades[0].position_id);
    assert_eq!(day2.trades[0].structure, result.trades[0].structure);
    assert_eq!(day2.summary.open_at_end, 1);
    let carried = SqliteStore::open(&journal)
        .unwrap()
        .positions(&day2.run_id)
        .unwrap();
    assert_eq!(carried.len(), 1);
    assert!(carried[0].position_id.ends_with("/p1"), "{carried:?}");

    // Without the book file the IB positions cannot be attributed: the run refuses to start.
    std::fs::rename(&book_file, dir.path().join("moved.json")).unwrap();
    let (broker, market) = restarted();
    let err = Backtest {
        start: day(2025, 3, 19),
        end: day(2025, 3, 19),
        data: DataChoice::Store(history(&dir.path().join("third"), day(2025, 3, 18))),
        ..backtest.clone()
    }
    .run_live(
        "ib-paper",
        SimulatedClock::new,
        |_| Ok(broker),
        market,
        decision_only(),
        &mut |_, _| {},
        Vec::new(),
        &StopSignal::new(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("book and broker disagree"), "{text}");
    assert!(
        text.contains("SPY   250418P00535000: broker -9 engine 0"),
        "{text}"
    );
    assert!(text.contains("book.json"), "{text}");
    assert_eq!(tws.placed_orders().len(), 1, "nothing more was sent");

    // The same session replayed on the simulated broker: the same order, the same limit.
    let replay = replay(&config, &store, sessions, dir.path());
    assert_eq!(replay.len(), 1);
    assert_eq!(replay[0].instrument, orders[0].instrument);
    assert_eq!(replay[0].side, orders[0].side);
    assert_eq!(replay[0].limit_price, orders[0].limit_price);
    assert_eq!(replay[0].quantity, orders[0].quantity);
    assert_eq!(replay[0].created_at, orders[0].created_at);
}

/// The orders the backtester's engine places on `sessions`, on the simulated broker.
fn replay(
    config: &BacktestConfig,
    store: &std::path::Path,
    sessions: Vec<Session>,
    dir: &std::path::Path,
) -> Vec<volta_data::store::OrderRecord> {
    let history = SqliteStore::open(store).unwrap();
    let from = day(2024, 1, 1);
    let to = day(2025, 3, 14);
    let vix: Vec<_> = history
        .index_values(&"SYNVIX".parse().unwrap(), from, to)
        .unwrap()
        .into_iter()
        .map(|r| (r.date, r.close))
        .collect();
    let bars = history
        .daily_bars(&"SPY".parse().unwrap(), from, to)
        .unwrap();
    let signals =
        volta_engine::Signals::from_history(&vix, &bars, volta_features::RegimeConfig::default())
            .unwrap();
    let t0 = sessions[0].date.and_hms_opt(0, 0, 0).unwrap();
    let mut sim = volta_broker::SimConfig::new("1000000".parse().unwrap(), t0);
    sim.fill_model = config.fill_model().unwrap();
    let journal = Journal::start(
        SqliteStore::open(dir.join("replay.db")).unwrap(),
        &volta_data::store::RunRecord {
            run_id: "replay".into(),
            mode: "backtest".into(),
            started_at: t0,
            label: "replay".into(),
            config: CONFIG.into(),
        },
    )
    .unwrap();
    let mut engine = Engine::new(
        EngineConfig {
            rates: volta_core::RatesAndYield::try_new(config.rate, config.dividend_yield).unwrap(),
            ..EngineConfig::default()
        },
        SimulatedClock::new(t0),
        volta_broker::SimBroker::new(sim).unwrap(),
        Box::new(config.strategies_config().build().unwrap()),
        volta_risk::RiskManager::new(config.risk.clone()).unwrap(),
        signals,
        journal,
    );
    engine
        .run(&mut ReplayFeed::new(sessions).unwrap(), &mut |_, _| {})
        .unwrap();
    let out = engine.finish(&volta_broker::Marks::new()).unwrap();
    out.store.orders("replay").unwrap()
}

#[test]
fn a_live_run_refuses_a_history_that_stops_before_the_previous_session() {
    let session = day(2025, 3, 17);
    let dir = tempfile::tempdir().unwrap();
    // The history ends on Wednesday the 12th: Thursday and Friday are missing.
    let store = history(dir.path(), day(2025, 3, 12));
    let tws = fake_tws(session);
    let config = BacktestConfig::from_toml(CONFIG, "test").unwrap();
    let backtest = Backtest {
        config,
        config_text: None,
        start: session,
        end: session,
        data: DataChoice::Store(store),
        journal: dir.path().join("live.db"),
    };
    let market = IbMarketData::connect(
        IbConfig::new(IbEndpoint::TwsPaper).with_port(tws.port()),
        ChainWindow::default(),
    )
    .unwrap();
    let err = backtest
        .run_live(
            "ib-paper",
            SimulatedClock::new,
            |sim| volta_broker::SimBroker::new(sim).map_err(Into::into),
            market,
            LiveOptions::default(),
            &mut |_, _| {},
            Vec::new(),
            &StopSignal::new(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("up to 2025-03-14"), "{text}");
    assert!(text.contains("2025-03-12"), "{text}");
    assert!(tws.placed_orders().is_empty());
}
