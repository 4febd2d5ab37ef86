//! Tests of what only the SQLite store has: its file (WAL mode, `sqlite_schema`), online
//! backup, and `PRAGMA integrity_check` on a damaged file.

use rusqlite::Connection;
use volta_data::DataError;
use volta_data::store::{JournalStore, MarketStore, SCHEMA_VERSION, SqliteStore};

use super::{at, fresh_sqlite as fresh, run, sym, synthetic_chain};

#[test]
fn migrations_are_applied_on_open_and_not_again_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("volta.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);

    let conn = Connection::open(&path).unwrap();
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (1, "init".to_owned()),
            (2, "index_rates".to_owned()),
            (3, "packed_chains".to_owned()),
            (4, "model_registry".to_owned())
        ]
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in [
        "bars",
        "chain_snapshots",
        "equity_curve",
        "fills",
        "index_values",
        "option_quotes",
        "option_quotes_by_contract",
        "orders",
        "positions",
        "rates",
        "runs",
        "schema_migrations",
        "signals",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing from {tables:?}");
    }
}

#[test]
fn refuses_a_newer_or_diverged_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("volta.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?1, 'from the future')",
        [SCHEMA_VERSION + 1],
    )
    .unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(DataError::StoreSchemaTooNew {
            found, supported, ..
        }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected StoreSchemaTooNew, got {other:?}"),
    }

    let path = dir.path().join("diverged.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE schema_migrations SET name = 'other' WHERE version = 1",
        [],
    )
    .unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(DataError::StoreSchemaMismatch { version: 1, .. })
    ));
}

#[test]
fn a_backup_is_a_store_with_the_same_data() {
    let (dir, mut store) = fresh();
    let t = at(2019, 4, 26, 16, 0);
    store
        .upsert_chains(&[synthetic_chain("SPXW", t, 2000, 9)])
        .unwrap();
    store.upsert_run(&run("r1")).unwrap();
    let target = dir.path().join("backup.db");
    store.backup_to(&target).unwrap();
    // The store stays usable and the backup is a complete, separate database.
    store.upsert_run(&run("r2")).unwrap();
    let copy = SqliteStore::open(&target).unwrap();
    assert_eq!(
        copy.chain_at(&sym("SPXW"), t).unwrap(),
        store.chain_at(&sym("SPXW"), t).unwrap()
    );
    assert_eq!(copy.runs().unwrap(), [run("r1")]);
    assert!(copy.integrity_check().unwrap().is_ok());
    assert!(matches!(
        store.backup_to(&target),
        Err(DataError::StoreBackupTargetExists { .. })
    ));
}

#[test]
fn integrity_check_passes_fresh_and_reports_orphans_and_damage() {
    let (dir, mut store) = fresh();
    let path = dir.path().join("volta.db");
    assert!(store.integrity_check().unwrap().is_ok());
    store
        .upsert_chains(&[synthetic_chain("SPXW", at(2019, 4, 26, 16, 0), 3000, 4)])
        .unwrap();
    assert!(store.integrity_check().unwrap().is_ok());

    // An orphan written behind the store's back (foreign keys off on that connection).
    let conn = Connection::open(&path).unwrap();
    // The bundled SQLite enforces foreign keys by default: turn them off to write the orphan.
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    conn.execute(
        "INSERT INTO option_quotes (snapshot_id, contract, volume, open_interest, has_vendor)
         VALUES (999, 'SPXW  190503C01000000', 0, 0, 0)",
        [],
    )
    .unwrap();
    let report = store.integrity_check().unwrap();
    assert!(report.problems.is_empty());
    assert_eq!(report.foreign_key_violations.len(), 1);
    assert_eq!(report.foreign_key_violations[0].table, "option_quotes");
    assert_eq!(report.foreign_key_violations[0].parent, "chain_snapshots");
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'option_quotes_by_contract'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    drop(store); // the last connection checkpoints the WAL into the file

    // Zero the index's root page: the tables still read, the index is broken.
    let mut bytes = std::fs::read(&path).unwrap();
    let start = ((root - 1) * page_size) as usize;
    bytes[start..start + page_size as usize].fill(0);
    std::fs::write(&path, bytes).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let report = store.integrity_check().unwrap();
    assert!(!report.is_ok());
    assert!(!report.problems.is_empty(), "{report:?}");
}
