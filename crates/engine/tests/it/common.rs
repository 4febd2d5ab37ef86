//! Shared helpers for the integration tests: signals and an engine on the simulated broker.
//! (Real data files come from `volta_data::DataDir::test_file`.)

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

/// The signals (VIX level, rank, regime) of a synthetic market's own history.
pub(crate) fn signals_of(market: &volta_data::synthetic::SyntheticMarket) -> volta_engine::Signals {
    let vix: Vec<_> = market.days().iter().map(|d| (d.bar.date, d.vix)).collect();
    let bars: Vec<_> = market.bars().collect();
    volta_engine::Signals::from_history(&vix, &bars, volta_features::RegimeConfig::default())
        .unwrap()
}

/// The engine the tests run: simulated clock and broker, a SQLite journal.
pub(crate) type TestEngine = volta_engine::Engine<
    volta_engine::SimulatedClock,
    volta_broker::SimBroker,
    volta_data::store::SqliteStore,
>;

/// An engine running `strategy` on the simulated broker with $100,000 and the default risk
/// limits from `start`, journaling to a SQLite file in the returned folder (run id `run`).
pub(crate) fn engine(
    strategy: Box<dyn volta_strategy::Strategy>,
    signals: volta_engine::Signals,
    start: chrono::NaiveDate,
) -> (TestEngine, tempfile::TempDir) {
    engine_with_risk(strategy, signals, start, volta_risk::RiskConfig::default())
}

/// The simulated broker these hand-computed scenarios were written against: $100,000, a flat
/// $0.65 per contract ($1 minimum) and marks at the mid. They test the engine's mechanics;
/// IB's fee table and closing-price marks (the defaults) have their own scenario
/// (`trades::ib_fees_and_closing_marks_by_hand`) and unit tests in volta-broker.
pub(crate) fn hand_computed_broker(t0: chrono::NaiveDateTime) -> volta_broker::SimConfig {
    let mut config = volta_broker::SimConfig::new("100000".parse().unwrap(), t0);
    config.commissions.options = volta_broker::fees::OptionFeeSchedule::flat(
        "0.65".parse().unwrap(),
        "1.00".parse().unwrap(),
    );
    config.mark_spread_fraction = rust_decimal::Decimal::ZERO;
    config
}

/// As [`engine`], under the risk limits `risk`.
pub(crate) fn engine_with_risk(
    strategy: Box<dyn volta_strategy::Strategy>,
    signals: volta_engine::Signals,
    start: chrono::NaiveDate,
    risk: volta_risk::RiskConfig,
) -> (TestEngine, tempfile::TempDir) {
    let t0 = start.and_hms_opt(0, 0, 0).unwrap();
    engine_with(strategy, signals, risk, hand_computed_broker(t0))
}

/// An engine on a simulated broker configured as `broker`, from its start.
pub(crate) fn engine_with(
    strategy: Box<dyn volta_strategy::Strategy>,
    signals: volta_engine::Signals,
    risk: volta_risk::RiskConfig,
    broker: volta_broker::SimConfig,
) -> (TestEngine, tempfile::TempDir) {
    engine_configured(
        strategy,
        signals,
        risk,
        broker,
        volta_engine::EngineConfig::default(),
    )
}

/// As [`engine_with`], with the engine's own settings `config`.
pub(crate) fn engine_configured(
    strategy: Box<dyn volta_strategy::Strategy>,
    signals: volta_engine::Signals,
    risk: volta_risk::RiskConfig,
    broker: volta_broker::SimConfig,
    config: volta_engine::EngineConfig,
) -> (TestEngine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let t0 = broker.start;
    let journal = volta_engine::Journal::start(
        volta_data::store::SqliteStore::open(dir.path().join("journal.sqlite")).unwrap(),
        &volta_data::store::RunRecord {
            run_id: "run".into(),
            mode: "backtest".into(),
            started_at: t0,
            label: "test".into(),
            config: "test".into(),
        },
    )
    .unwrap();
    let engine = volta_engine::Engine::new(
        config,
        volta_engine::SimulatedClock::new(t0),
        volta_broker::SimBroker::new(broker).unwrap(),
        strategy,
        volta_risk::RiskManager::new(risk).unwrap(),
        signals,
        journal,
    );
    (engine, dir)
}

/// A feed over `market`'s sessions from `start` to `end`, as the backtester builds one.
pub(crate) fn synthetic_feed(
    market: volta_data::synthetic::SyntheticMarket,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
) -> volta_engine::SourceFeed {
    let underlying = volta_core::Underlying::try_new(&market.config().symbol).unwrap();
    let source = volta_data::source::SyntheticSource::new(market).unwrap();
    let underlying =
        volta_engine::FeedUnderlying::from_source(underlying, Box::new(source), start, end)
            .unwrap();
    volta_engine::SourceFeed::new(vec![underlying], start, end).unwrap()
}

/// A SPY session on `date` opening at `open`, closing at `close`, with `chains`.
pub(crate) fn spy_session(
    date: chrono::NaiveDate,
    open: &str,
    close: &str,
    chains: Vec<volta_core::ChainSnapshot>,
) -> volta_engine::Session {
    let prices = vec![(
        volta_core::Underlying::try_new("SPY").unwrap(),
        volta_broker::SessionPrices {
            open: open.parse().unwrap(),
            close: close.parse().unwrap(),
        },
    )];
    volta_engine::Session::on(date, prices, chains).unwrap()
}
