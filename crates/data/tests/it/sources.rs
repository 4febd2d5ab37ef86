//! The market-data sources: store, synthetic market, fallback and cache, on real SQLite files
//! and the real SPX chains, SPY bars and VIX history.

use chrono::NaiveDate;
use volta_core::{DailyBar, Underlying};
use volta_data::DataDir;
use volta_data::DataError;
use volta_data::import::{ChainRequest, import_bars, import_chains, import_index};
use volta_data::source::{
    CacheStats, CachedSource, ChainDate, ExpirySelection, FallbackSource, MarketDataSource,
    StoreSource, SyntheticSource,
};
use volta_data::store::{MarketStore, SqliteStore};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn sym(s: &str) -> Underlying {
    s.parse().unwrap()
}

fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("volta.db")).unwrap();
    (dir, store)
}

/// A synthetic SPY market over January 2023 (SPY had daily expiries then).
fn january_2023() -> SyntheticMarket {
    SyntheticMarket::generate(&SyntheticConfig {
        start: date(2023, 1, 3),
        end: date(2023, 1, 31),
        ..SyntheticConfig::default()
    })
    .unwrap()
}

#[test]
fn store_source_serves_the_real_spx_chain_it_holds() {
    let Some(path) = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv.gz") else {
        return;
    };
    let request = ChainRequest {
        allowed: vec![sym("SPX")],
        ..ChainRequest::default()
    };
    let day = import_chains(&path, &request).unwrap().days.remove(0);
    let as_of = date(2019, 4, 25).and_hms_opt(16, 0, 0).unwrap();
    let snapshot = day.snapshot(as_of).unwrap();
    let (_dir, mut store) = fresh_store();
    store
        .upsert_chains(std::slice::from_ref(&snapshot))
        .unwrap();
    let source = StoreSource::new(store);
    let spx = sym("SPX");

    let on_day = source
        .chain(&spx, ChainDate::On(date(2019, 4, 25)), ExpirySelection::All)
        .unwrap();
    assert_eq!(on_day, snapshot);
    // The only day held is also the latest.
    let latest = source
        .chain(&spx, ChainDate::Latest, ExpirySelection::All)
        .unwrap();
    assert_eq!(latest, snapshot);

    let expiries = source.expirations(&spx, ChainDate::Latest).unwrap();
    assert_eq!(expiries, snapshot.expiries().collect::<Vec<_>>());
    // The May 2019 monthly (third Friday, 2019-05-17) is listed; one expiry gives its quotes only.
    let may = date(2019, 5, 17);
    assert!(expiries.contains(&may));
    let one = source
        .chain(&spx, ChainDate::Latest, ExpirySelection::Only(may))
        .unwrap();
    assert_eq!(one.expiries().collect::<Vec<_>>(), vec![may]);
    assert_eq!(one.len(), snapshot.quotes(may).len());
    assert_eq!(one.underlying_price(), snapshot.underlying_price());

    // A day not held, an expiry not listed, a symbol not held: NotAvailable naming it.
    let err = source
        .chain(&spx, ChainDate::On(date(2019, 4, 26)), ExpirySelection::All)
        .unwrap_err();
    assert!(
        matches!(&err, DataError::NotAvailable { what, .. } if what.contains("2019-04-26")),
        "{err}"
    );
    let err = source
        .chain(
            &spx,
            ChainDate::Latest,
            ExpirySelection::Only(date(2019, 5, 18)),
        )
        .unwrap_err();
    assert!(matches!(err, DataError::NotAvailable { .. }), "{err}");
    let err = source
        .expirations(&sym("SPY"), ChainDate::Latest)
        .unwrap_err();
    assert_eq!(err.to_string(), "store: no SPY option chain");
}

#[test]
fn synthetic_source_serves_its_market_and_nothing_else() {
    let market = january_2023();
    let source = SyntheticSource::new(market.clone()).unwrap();
    let spy = sym("SPY");

    let bars = source
        .daily_bars(&spy, date(2023, 1, 9), date(2023, 1, 13))
        .unwrap();
    let dates: Vec<_> = bars.iter().map(|b| b.date).collect();
    assert_eq!(
        dates,
        (9..=13).map(|d| date(2023, 1, d)).collect::<Vec<_>>()
    );
    assert_eq!(
        bars[0],
        market.days()[market.index_of(date(2023, 1, 9)).unwrap()].bar
    );

    let i = market.index_of(date(2023, 1, 17)).unwrap();
    let chain = source
        .chain(&spy, ChainDate::On(date(2023, 1, 17)), ExpirySelection::All)
        .unwrap();
    assert_eq!(chain, market.chain(i).unwrap());
    // 0DTE: the session's own date is its first expiry.
    assert_eq!(
        source
            .expirations(&spy, ChainDate::On(date(2023, 1, 17)))
            .unwrap()[0],
        date(2023, 1, 17)
    );
    let latest = source
        .chain(&spy, ChainDate::Latest, ExpirySelection::All)
        .unwrap();
    assert_eq!(latest.as_of().date(), date(2023, 1, 31));

    // Martin Luther King Day was no session; QQQ is not simulated; ranges must ascend.
    let err = source
        .chain(&spy, ChainDate::On(date(2023, 1, 16)), ExpirySelection::All)
        .unwrap_err();
    assert!(matches!(err, DataError::NotAvailable { .. }), "{err}");
    let err = source
        .daily_bars(&sym("QQQ"), date(2023, 1, 3), date(2023, 1, 31))
        .unwrap_err();
    assert!(err.to_string().contains("simulates SPY"), "{err}");
    let err = source
        .daily_bars(&spy, date(2023, 1, 31), date(2023, 1, 3))
        .unwrap_err();
    assert!(matches!(err, DataError::InvalidRequest { .. }), "{err}");
}

#[test]
fn fallback_moves_past_failing_and_empty_sources_and_reports_every_failure() {
    let market = january_2023();
    let (_dir, empty) = fresh_store();
    let fallback = FallbackSource::new()
        .then(StoreSource::new(empty))
        .then(SyntheticSource::new(market.clone()).unwrap());
    assert_eq!(fallback.names().collect::<Vec<_>>(), ["store", "synthetic"]);
    let spy = sym("SPY");

    // The empty store answers bars with nothing: the synthetic market answers.
    let bars = fallback
        .daily_bars(&spy, date(2023, 1, 3), date(2023, 1, 6))
        .unwrap();
    assert_eq!(bars, market.bars().take(4).collect::<Vec<DailyBar>>());
    // The store has no chain (an error): the synthetic market answers.
    let chain = fallback
        .chain(&spy, ChainDate::On(date(2023, 1, 5)), ExpirySelection::All)
        .unwrap();
    assert_eq!(chain, market.chain(2).unwrap());

    // Both fail for QQQ: both errors, in order.
    let err = fallback
        .chain(&sym("QQQ"), ChainDate::Latest, ExpirySelection::All)
        .unwrap_err();
    let DataError::AllSourcesFailed { attempts } = &err else {
        panic!("{err}");
    };
    let names: Vec<_> = attempts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["store", "synthetic"]);
    assert!(
        err.to_string()
            .starts_with("every source failed: store: store: no QQQ option chain; synthetic: "),
        "{err}"
    );
    // Empty everywhere: empty, not an error (a range with no sessions).
    assert!(
        fallback
            .daily_bars(&spy, date(2023, 1, 14), date(2023, 1, 16))
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        FallbackSource::new().expirations(&spy, ChainDate::Latest),
        Err(DataError::InvalidRequest { .. })
    ));
}

#[test]
fn cache_serves_closed_sessions_from_its_store_and_persists_them() {
    let market = january_2023();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let spy = sym("SPY");
    let today = date(2023, 1, 20);
    let cached = CachedSource::new(
        SyntheticSource::new(market.clone()).unwrap(),
        SqliteStore::open(&db).unwrap(),
        move || today,
    );

    let first = cached
        .daily_bars(&spy, date(2023, 1, 3), date(2023, 1, 13))
        .unwrap();
    assert_eq!(cached.stats(), CacheStats { hits: 0, misses: 1 });
    let again = cached
        .daily_bars(&spy, date(2023, 1, 3), date(2023, 1, 13))
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(cached.stats(), CacheStats { hits: 1, misses: 1 });
    // A range with sessions the store lacks is asked for, and then held.
    cached
        .daily_bars(&spy, date(2023, 1, 3), date(2023, 1, 19))
        .unwrap();
    assert_eq!(cached.stats(), CacheStats { hits: 1, misses: 2 });
    // A range that reaches today is always asked for (today's bar may still change).
    cached
        .daily_bars(&spy, date(2023, 1, 17), date(2023, 1, 20))
        .unwrap();
    cached
        .daily_bars(&spy, date(2023, 1, 17), date(2023, 1, 20))
        .unwrap();
    assert_eq!(cached.stats(), CacheStats { hits: 1, misses: 4 });
    // Held sessions around the Martin Luther King Day holiday (no session on the 16th).
    cached
        .daily_bars(&spy, date(2023, 1, 9), date(2023, 1, 19))
        .unwrap();
    assert_eq!(cached.stats(), CacheStats { hits: 2, misses: 4 });

    // Past chains: fetched once, then served; the latest is always fetched.
    let on = ChainDate::On(date(2023, 1, 10));
    let chain = cached.chain(&spy, on, ExpirySelection::All).unwrap();
    assert_eq!(cached.chain(&spy, on, ExpirySelection::All).unwrap(), chain);
    let expiries = cached.expirations(&spy, on).unwrap();
    assert_eq!(expiries, chain.expiries().collect::<Vec<_>>());
    assert_eq!(cached.stats(), CacheStats { hits: 4, misses: 5 });
    cached
        .chain(&spy, ChainDate::Latest, ExpirySelection::All)
        .unwrap();
    assert_eq!(cached.stats().misses, 6);

    // What was fetched is in the SQLite file, offline.
    drop(cached);
    let offline = StoreSource::new(SqliteStore::open(&db).unwrap());
    assert_eq!(
        offline
            .daily_bars(&spy, date(2023, 1, 3), date(2023, 1, 13))
            .unwrap(),
        first
    );
    assert_eq!(
        offline.chain(&spy, on, ExpirySelection::All).unwrap(),
        chain
    );
}

#[test]
fn a_market_from_the_real_spy_and_vix_history_prices_chains_at_the_real_vix() {
    let (Some(spy_file), Some(vix_file)) = (
        DataDir::test_file("underlying/SPY_daily_unadjusted.csv"),
        DataDir::test_file("vol/VIX_History.csv"),
    ) else {
        return;
    };
    let bars: Vec<DailyBar> = import_bars(&spy_file, None)
        .unwrap()
        .bars
        .into_iter()
        .filter(|b| (date(2020, 2, 3)..=date(2020, 4, 30)).contains(&b.date))
        .collect();
    let vix: Vec<(NaiveDate, f64)> = import_index(&vix_file, None)
        .unwrap()
        .records
        .iter()
        .map(|r| (r.date, r.close))
        .collect();
    let market = SyntheticMarket::from_history(&SyntheticConfig::default(), &bars, &vix).unwrap();
    assert_eq!(market.days().len(), bars.len());

    let crash = market.index_of(date(2020, 3, 16)).unwrap();
    let day = &market.days()[crash];
    assert_eq!(day.bar, bars[crash]);
    assert_eq!(day.vix, 82.69); // the record close of the real VIX
    let smile = market.smile(crash).unwrap();
    // Snapped at 15:45, before SPY's real 239.85 close: on the bridge from the open to the
    // close, within the real day's range.
    let spot = market.snapshot_price(crash).unwrap();
    assert_eq!(smile.spot, spot.to_f64());
    assert_ne!(spot, day.bar.ohlcv.close());
    assert!((day.bar.ohlcv.low()..=day.bar.ohlcv.high()).contains(&spot));
    // The model's 30-day ATM-forward vol is its VIX (the synthetic smile puts the VIX at the
    // money), so the chains carry the real VIX's level; the put wing is steeper, and a calm
    // February day is far lower.
    let month = 30.0 / 365.0;
    let atm = smile.atm_vol(month);
    assert!((atm - 0.8269).abs() < 1e-9, "ATM vol {atm}");
    assert!(smile.vol(0.9 * smile.forward(month), month) > atm);
    let calm = market
        .smile(market.index_of(date(2020, 2, 14)).unwrap())
        .unwrap();
    assert!(
        (calm.atm_vol(month) - 0.1368).abs() < 1e-9,
        "{}",
        calm.atm_vol(month)
    );
    let chain = market.chain(crash).unwrap();
    assert_eq!(chain.underlying_price(), spot);
    assert!(chain.len() > 500, "{} quotes", chain.len());

    // A session without a VIX close within five days is an error naming it.
    let err = SyntheticMarket::from_history(&SyntheticConfig::default(), &bars, &vix[..7000])
        .unwrap_err();
    assert!(err.to_string().contains("2020-02-03"), "{err}");
}
