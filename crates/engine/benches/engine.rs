//! The engine's speed (issue #6's goals, release build on a 2-core machine):
//! - one year of daily SPY chains from the store (252 snapshots of ~5 000-13 000 quotes) with
//!   the IV-rank strategy: ≤ 3 s (measured with and without the yardsticks beside it);
//! - twenty years of the synthetic market with the default strategies: ≤ 60 s.
//!
//! - the same year with the store on PostgreSQL (issue #17: within 1.5x of SQLite), on a
//!   throw-away local cluster when PostgreSQL is installed.
//!
//! All run the whole backtest: reading (or generating) every chain, the quality gate, the
//! strategies, the risk checks, the simulated broker, the journal written to SQLite and the
//! metrics.

#[path = "../../data/tests/it/pg_cluster.rs"]
mod pg_cluster;

use std::time::Duration;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use volta_data::store::{MarketStore, SqliteStore};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket, store_market};
use volta_engine::{Backtest, BacktestConfig, DataChoice};
use volta_strategy::config::StrategyConfig;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn engine(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("spy.sqlite");
    // SPY 2021-2022: bars and the VIX-like index for the warm-up, chains for 2022.
    let market = SyntheticMarket::generate(&SyntheticConfig {
        start: date(2021, 1, 4),
        end: date(2022, 12, 30),
        ..SyntheticConfig::default()
    })
    .unwrap();
    let mut store = SqliteStore::open(&store_path).unwrap();
    store_market(&market, &mut store, false, &mut |_, _| {}).unwrap();
    let first = market.index_of(date(2022, 1, 3)).unwrap();
    let mut quotes = 0;
    for i in first..market.days().len() {
        let chain = market.chain(i).unwrap();
        quotes += chain.len();
        store.upsert_chains(&[chain]).unwrap();
    }
    drop(store);
    let sessions = market.days().len() - first;
    eprintln!(
        "store: {sessions} SPY chains of 2022, {} quotes on average",
        quotes / sessions
    );

    let iv_rank_only = BacktestConfig {
        strategies: vec![StrategyConfig::defaults("iv_rank_premium").unwrap()],
        adaptive: volta_strategy::AdaptiveConfig::everywhere("iv_rank_premium"),
        vix_index: "SYNVIX".to_owned(),
        ..BacktestConfig::default()
    };
    let one_year = Backtest {
        config: iv_rank_only,
        config_text: None,
        start: date(2022, 1, 3),
        end: date(2022, 12, 30),
        data: DataChoice::Store(store_path.clone()),
        journal: dir.path().join("journal-1y.sqlite"),
    };
    let twenty_years = Backtest {
        config: BacktestConfig::default(),
        config_text: None,
        start: date(2004, 1, 2),
        end: date(2023, 12, 29),
        data: DataChoice::Synthetic,
        journal: dir.path().join("journal-20y.sqlite"),
    };
    // The same store copied to PostgreSQL; the journal stays a SQLite file, so that the two
    // runs differ only in where they read the market.
    let cluster = pg_cluster::PgCluster::start();
    let one_year_pg = cluster.as_ref().map(|cluster| {
        let url = cluster.fresh_database();
        let from = SqliteStore::open(&store_path).unwrap();
        let mut to = volta_data::store::open(&url).unwrap();
        volta_data::store::copy::copy_store(&from, to.as_mut(), &mut |_, _| {}).unwrap();
        Backtest {
            data: DataChoice::Store(url.into()),
            journal: dir.path().join("journal-1y-pg.sqlite"),
            ..one_year.clone()
        }
    });
    let r = one_year.run(&mut |_, _| {}).unwrap();
    eprintln!(
        "1 year from the store: {} trades, {} fills",
        r.summary.metrics.trades, r.summary.fills
    );

    let mut g = c.benchmark_group("engine");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("spy_1y_store_iv_rank", |b| {
        b.iter(|| one_year.run(&mut |_, _| {}).unwrap());
    });
    // The same run without the PUT-write replica beside it: what the yardsticks cost.
    let mut strategies_only = one_year.clone();
    strategies_only.config.yardsticks = false;
    g.bench_function("spy_1y_store_iv_rank_no_yardsticks", |b| {
        b.iter(|| strategies_only.run(&mut |_, _| {}).unwrap());
    });
    if let Some(one_year_pg) = &one_year_pg {
        let r_pg = one_year_pg.run(&mut |_, _| {}).unwrap();
        assert_eq!(
            r_pg.summary.metrics, r.summary.metrics,
            "same run on both stores"
        );
        g.bench_function("spy_1y_store_iv_rank_postgres", |b| {
            b.iter(|| one_year_pg.run(&mut |_, _| {}).unwrap());
        });
    }
    g.measurement_time(Duration::from_secs(120));
    g.bench_function("synthetic_20y_default", |b| {
        b.iter(|| twenty_years.run(&mut |_, _| {}).unwrap());
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
