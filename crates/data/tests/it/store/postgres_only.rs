//! Tests of what only the PostgreSQL store has: its migrations on a server, the column types of
//! its dialect, passwords, several writers at once, a server killed mid-import, and copying
//! stores both ways.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use volta_core::{ChainSnapshot, DailyBar};
use volta_data::DataError;
use volta_data::import::{IndexRecord, RateObservation, RateSeries};
use volta_data::store::copy::{copy_store, digest};
use volta_data::store::{
    EquityPoint, JournalStore, MarketStore, ModelRecord, ModelRegistry, PgStore, SCHEMA_VERSION,
    Store,
};

use super::backend::pg_dump;
use super::{at, date, fill, fresh_sqlite, order, p, run, sample_chain, sym, synthetic_chain};
use crate::pg_cluster::{PASSWORD, PgCluster, shared};

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

#[test]
fn migrations_run_once_even_when_many_connect_at_once() {
    let Some(cluster) = shared() else { return };
    let url = cluster.fresh_database();
    // Four processes' worth of connections open a new database at the same moment.
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                PgStore::connect(&url).map(|s| s.schema_version().unwrap())
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    let rows: Vec<(i64, String)> = admin(&url)
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            (1, "init".to_owned()),
            (2, "index_rates".to_owned()),
            (3, "packed_chains".to_owned()),
            (4, "model_registry".to_owned())
        ]
    );
    // Reopening applies nothing: the tables' rows and versions are as they were.
    let before = pg_dump(&url);
    drop(PgStore::connect(&url).unwrap());
    assert_eq!(pg_dump(&url), before);
}

#[test]
fn refuses_a_newer_or_diverged_schema() {
    let Some(cluster) = shared() else { return };
    let url = cluster.fresh_database();
    drop(PgStore::connect(&url).unwrap());
    admin(&url)
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')",
            &[&(SCHEMA_VERSION + 1)],
        )
        .unwrap();
    match PgStore::connect(&url) {
        Err(DataError::StoreSchemaTooNew {
            found, supported, ..
        }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected StoreSchemaTooNew, got {other:?}"),
    }

    let url = cluster.fresh_database();
    drop(PgStore::connect(&url).unwrap());
    admin(&url)
        .execute(
            "UPDATE schema_migrations SET name = 'other' WHERE version = 1",
            &[],
        )
        .unwrap();
    assert!(matches!(
        PgStore::connect(&url),
        Err(DataError::StoreSchemaMismatch { version: 1, .. })
    ));
}

#[test]
fn money_is_numeric_and_times_are_timestamps() {
    let Some(cluster) = shared() else { return };
    let url = cluster.fresh_database();
    drop(PgStore::connect(&url).unwrap());
    let types: Vec<(String, String, String)> = admin(&url)
        .query(
            "SELECT table_name::text, column_name::text, data_type::text
               FROM information_schema.columns WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let type_of = |t: &str, c: &str| {
        types
            .iter()
            .find(|x| x.0 == t && x.1 == c)
            .map_or_else(|| panic!("{t}.{c} missing"), |x| x.2.clone())
    };
    for (t, c) in [
        ("bars", "close"),
        ("option_quotes", "bid"),
        ("chain_snapshots", "underlying_price"),
        ("fills", "price"),
        ("fills", "fees"),
        ("orders", "limit_price"),
        ("positions", "realized_pnl"),
        ("equity_curve", "cash"),
    ] {
        assert_eq!(type_of(t, c), "numeric", "{t}.{c}");
    }
    assert_eq!(type_of("bars", "date"), "date");
    assert_eq!(
        type_of("chain_snapshots", "as_of"),
        "timestamp without time zone"
    );
    assert_eq!(type_of("option_quotes", "volume"), "bigint");
    assert_eq!(type_of("option_quotes", "vendor_iv"), "double precision");
    let indexes: Vec<String> = admin(&url)
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for i in [
        "option_quotes_by_contract",
        "orders_by_run",
        "fills_by_order",
        "positions_by_run",
    ] {
        assert!(indexes.iter().any(|x| x == i), "{i} missing: {indexes:?}");
    }
}

#[test]
fn a_password_is_used_and_never_shown() {
    let Some(cluster) = shared() else { return };
    let url = cluster.fresh_database();
    let db = PgCluster::database_of(&url).to_owned();
    let good = cluster.password_url(&db, Some(PASSWORD));
    let store = volta_data::store::open(&good).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(!store.location().contains(PASSWORD), "{}", store.location());
    assert!(!format!("{store:?}").contains(PASSWORD));

    let wrong = cluster.password_url(&db, Some("wrong-pw-123"));
    let err = volta_data::store::open(&wrong).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Postgres {
                operation: "connect",
                ..
            }
        ),
        "{err}"
    );
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("wrong-pw-123"), "{shown}");
        assert!(shown.contains(":***@"), "{shown}");
    }
}

/// The live trader and an import write one database at once, and two writers record the same
/// fills: every write lands once, no fill is rewritten, a conflicting fill is refused.
#[test]
fn several_writers_keep_the_journal_guarantees() {
    let Some(cluster) = shared() else { return };
    let url = cluster.fresh_database();
    let mut setup = PgStore::connect(&url).unwrap();
    setup.upsert_run(&run("r1")).unwrap();
    setup.upsert_orders(&[order("o1", "r1")]).unwrap();

    let fills: Vec<_> = (0..200).map(|i| fill(&format!("f{i:03}"), "o1")).collect();
    let barrier = Arc::new(Barrier::new(4));
    let mut handles = Vec::new();
    // Two journal writers recording the same fills, in opposite orders, one fill per batch.
    for reverse in [false, true] {
        let (url, barrier, mut fills) = (url.clone(), barrier.clone(), fills.clone());
        handles.push(thread::spawn(move || {
            let mut store = PgStore::connect(&url).unwrap();
            if reverse {
                fills.reverse();
            }
            barrier.wait();
            fills
                .iter()
                .map(|f| match store.record_fills(std::slice::from_ref(f)) {
                    Ok(n) => n,
                    // A conflicting writer recorded this id first: refused, not rewritten.
                    Err(DataError::StoreValue { field: "fill", .. }) => 0,
                    Err(e) => panic!("{e}"),
                })
                .sum::<u64>()
        }));
    }
    // A writer of conflicting fills (same ids, another price): every one refused or first.
    {
        let (url, barrier) = (url.clone(), barrier.clone());
        let conflicting: Vec<_> = fills
            .iter()
            .step_by(10)
            .map(|f| {
                let mut f = f.clone();
                f.price = "9.99".parse().unwrap();
                f
            })
            .collect();
        handles.push(thread::spawn(move || {
            let mut store = PgStore::connect(&url).unwrap();
            barrier.wait();
            conflicting
                .iter()
                .map(|f| u64::from(store.record_fills(std::slice::from_ref(f)).is_ok()))
                .sum::<u64>()
        }));
    }
    // An import of chains at the same time.
    {
        let (url, barrier) = (url.clone(), barrier.clone());
        handles.push(thread::spawn(move || {
            let mut store = PgStore::connect(&url).unwrap();
            barrier.wait();
            (0..5)
                .map(|d| {
                    let chain = synthetic_chain("SPXW", at(2019, 4, 1 + d, 16, 0), 2000, d.into());
                    store.upsert_chains(&[chain]).unwrap()
                })
                .sum::<u64>()
        }));
    }
    let written: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let conflicting_won = written[2];
    // Each fill id was inserted exactly once, by whichever writer came first.
    assert_eq!(written[0] + written[1] + conflicting_won, 200);
    assert_eq!(written[3], 5 * 2001);
    let stored = setup.fills("r1").unwrap();
    assert_eq!(stored.len(), 200);
    for f in &stored {
        let original = fills.iter().find(|x| x.fill_id == f.fill_id).unwrap();
        if f.price == original.price {
            assert_eq!(f, original);
        } else {
            // A conflicting writer got there first: its fill stands, whole, and the two
            // writers of the original were refused rather than overwriting it.
            assert_eq!(f.price, "9.99".parse().unwrap());
        }
    }
    let nine_99 = stored
        .iter()
        .filter(|f| f.price == "9.99".parse().unwrap())
        .count();
    assert_eq!(nine_99 as u64, conflicting_won);
    // The journal's equity written meanwhile by yet another connection is intact too.
    let point = EquityPoint {
        run_id: "r1".to_owned(),
        at: at(2021, 1, 4, 16, 0),
        cash: "100000.01".parse().unwrap(),
        equity: "99999.99".parse().unwrap(),
    };
    setup.upsert_equity(std::slice::from_ref(&point)).unwrap();
    assert_eq!(setup.equity_curve("r1").unwrap(), [point]);
}

/// The server dies (`pg_ctl stop -m immediate`) while a large chain import streams its `COPY`:
/// after the restart the store holds exactly what it held before the import began.
#[test]
fn a_server_killed_mid_import_keeps_nothing_of_it() {
    // A cluster of its own: the shared one must not die under other tests.
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.fresh_database();
    let mut store = PgStore::connect(&url).unwrap();
    store
        .upsert_chains(&[sample_chain(at(2019, 4, 26, 16, 0))])
        .unwrap();
    let before = pg_dump(&url);

    // ~400 000 quotes: seconds of COPY, long enough to be caught in the middle.
    let chains: Vec<ChainSnapshot> = (0..80)
        .map(|i| {
            synthetic_chain(
                "SPXW",
                at(2019, 5, 1, 9, 30) + chrono::TimeDelta::minutes(i),
                5000,
                i.cast_unsigned(),
            )
        })
        .collect();
    let import = thread::spawn(move || store.upsert_chains(&chains));
    // Wait until the import's COPY is running on the server, then kill the server.
    let mut watcher = admin(&cluster.url("postgres"));
    let mut seen = false;
    for _ in 0..600 {
        let copying: i64 = watcher
            .query_one("SELECT count(*) FROM pg_stat_progress_copy", &[])
            .unwrap()
            .get(0);
        if copying > 0 {
            seen = true;
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        seen,
        "the import's COPY never showed in pg_stat_progress_copy"
    );
    drop(watcher);
    cluster.crash();
    let result = import.join().unwrap();
    assert!(result.is_err(), "an import whose server died must fail");
    cluster.restart();
    assert_eq!(pg_dump(&url), before);
    // The store is usable after recovery: the same import now goes in whole.
    let mut store = PgStore::connect(&url).unwrap();
    assert_eq!(
        store
            .upsert_chains(&[synthetic_chain("SPXW", at(2019, 5, 1, 9, 30), 5000, 0)])
            .unwrap(),
        5001
    );
}

/// A store with some of everything.
fn fill_store(store: &mut dyn Store) {
    let bar = |d| DailyBar::try_new(d, p("1.10"), p("2"), p("1"), p("1.5"), 10).unwrap();
    store
        .upsert_daily_bars(&sym("SPY"), &[bar(date(2021, 1, 4)), bar(date(2021, 1, 5))])
        .unwrap();
    store
        .upsert_chains(&[
            sample_chain(at(2019, 4, 26, 16, 0)),
            sample_chain(at(2019, 4, 29, 10, 0)),
            synthetic_chain("SPXW", at(2019, 4, 29, 16, 0), 3000, 7),
        ])
        .unwrap();
    store
        .upsert_index_values(
            &sym("VIX"),
            &[IndexRecord {
                date: date(2020, 3, 16),
                open: None,
                high: Some(83.56),
                low: None,
                close: 82.69,
            }],
        )
        .unwrap();
    store
        .upsert_rates(
            RateSeries::Dtb3,
            &[RateObservation {
                date: date(2023, 11, 10),
                published_percent: None,
                continuous: None,
            }],
        )
        .unwrap();
    store.upsert_run(&run("r1")).unwrap();
    store.upsert_orders(&[order("o1", "r1")]).unwrap();
    store
        .record_fills(&[fill("f1", "o1"), fill("f2", "o1")])
        .unwrap();
    // Two models: one promoted then demoted, one promoted now.
    for (id, month) in [("gbm-1", 5), ("gbm-2", 6)] {
        let mut m = ModelRecord::new(
            id,
            "gbm",
            &format!("{id}/model.txt"),
            "1.0.0",
            date(2022, 1, 3),
            date(2024, month, 28),
        );
        m.created_at = at(2024, month, 29, 9, 0);
        m.metrics.insert("auc".into(), 0.55);
        store.register_model(&m).unwrap();
        store.promote_model(id, at(2024, month, 30, 9, 0)).unwrap();
    }
}

#[test]
fn copy_store_moves_everything_both_ways_and_verifies_it() {
    let Some(cluster) = shared() else { return };
    let (_dir, sqlite) = fresh_sqlite();
    let mut sqlite: Box<dyn Store> = Box::new(sqlite);
    fill_store(sqlite.as_mut());
    let source = digest(sqlite.as_ref()).unwrap();
    assert_eq!(source.count("option_quotes"), 3008);
    assert_eq!(source.count("chain_snapshots"), 3);
    assert_eq!(source.count("fills"), 2);
    assert_eq!(source.count("models"), 2);

    // SQLite → PostgreSQL.
    let url = cluster.fresh_database();
    let mut pg = volta_data::store::open(&url).unwrap();
    let report = copy_store(sqlite.as_ref(), pg.as_mut(), &mut |_, _| {}).unwrap();
    assert_eq!(report.digest, source);
    assert_eq!(digest(pg.as_ref()).unwrap(), source);
    let t = at(2019, 4, 26, 16, 0);
    assert_eq!(
        pg.chain_at(&sym("SPX"), t).unwrap(),
        sqlite.chain_at(&sym("SPX"), t).unwrap()
    );
    assert_eq!(pg.fills("r1").unwrap(), sqlite.fills("r1").unwrap());
    assert_eq!(pg.models().unwrap(), sqlite.models().unwrap());
    assert_eq!(pg.promoted_model().unwrap().unwrap().id, "gbm-2");

    // And back, into a new SQLite file.
    let (_dir2, back) = fresh_sqlite();
    let mut back: Box<dyn Store> = Box::new(back);
    copy_store(pg.as_ref(), back.as_mut(), &mut |_, _| {}).unwrap();
    assert_eq!(digest(back.as_ref()).unwrap(), source);
    assert_eq!(
        back.daily_bars(&sym("SPY"), date(2021, 1, 1), date(2021, 1, 31))
            .unwrap(),
        sqlite
            .daily_bars(&sym("SPY"), date(2021, 1, 1), date(2021, 1, 31))
            .unwrap()
    );

    // A target that holds anything is refused, and left as it was.
    let before = pg_dump(&url);
    assert!(matches!(
        copy_store(sqlite.as_ref(), pg.as_mut(), &mut |_, _| {}),
        Err(DataError::InvalidRequest { .. })
    ));
    assert_eq!(pg_dump(&url), before);
}

#[test]
fn a_digest_tells_a_changed_value_from_an_equal_store() {
    let (_d1, mut a) = fresh_sqlite();
    let (_d2, mut b) = fresh_sqlite();
    fill_store(&mut a);
    fill_store(&mut b);
    assert_eq!(digest(&a).unwrap(), digest(&b).unwrap());
    let mut changed = fill("f2", "o1");
    changed.fill_id = "f3".to_owned();
    b.record_fills(&[changed]).unwrap();
    let (da, db) = (digest(&a).unwrap(), digest(&b).unwrap());
    assert_ne!(da, db);
    assert_eq!(db.count("fills"), 3);
    // Same counts, one value different: only the checksum tells.
    let (_d3, mut c) = fresh_sqlite();
    fill_store(&mut c);
    let bar = DailyBar::try_new(date(2021, 1, 5), p("1.10"), p("2"), p("1"), p("1.6"), 10).unwrap();
    c.upsert_daily_bars(&sym("SPY"), &[bar]).unwrap();
    let dc = digest(&c).unwrap();
    assert_eq!(dc.count("bars"), da.count("bars"));
    assert_ne!(dc, da);
}
