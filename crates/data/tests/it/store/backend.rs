//! What the generic store suite needs from each database beyond the store traits: a fresh
//! store, every row as text ("the store exactly as it was"), a count that moves when a row is
//! written, and a constraint added behind the store's back.

use std::path::Path;

use rusqlite::Connection;
use volta_data::store::{JournalStore, MarketStore, ModelRegistry, SqliteStore};

/// A store under test and the means to look at its database directly.
pub(crate) trait Backend: MarketStore + JournalStore + ModelRegistry + Sized {
    /// What keeps the store's database alive (a temporary folder, a cluster).
    type Home;

    /// Property-test cases for this database (a fresh PostgreSQL database per case costs more).
    const CASES: u32;

    /// A new, empty, migrated store; `None` when the database is not available here (the test
    /// then passes without running: see `pg_cluster`).
    fn fresh() -> Option<(Self::Home, Self)>;

    /// Every row of every table as text, sorted: equal dumps mean an unchanged store. The
    /// PostgreSQL dump includes each row's version (`xmin`), so a row rewritten with the same
    /// values shows too.
    fn dump(home: &Self::Home) -> Vec<String>;

    /// A number that changes whenever the store writes a row.
    fn changes(home: &Self::Home, store: &Self) -> u64;

    /// Adds a trigger that refuses quotes whose contract is `LIKE pattern`: a constraint the
    /// database itself enforces, mid-batch.
    fn reject_quotes_like(home: &Self::Home, pattern: &str);

    /// Whether every table of the schema is still there and readable.
    fn tables_intact(home: &Self::Home) -> bool;

    /// Empties the chain tables (between property-test cases on one store).
    fn clear_chains(home: &Self::Home);

    /// Sets every snapshot's packed quotes (`chain_snapshots.packed_quotes`) to `value`
    /// behind the store's back: `None` as another tool writing rows would leave them, bytes
    /// as damage would.
    fn set_packed_quotes(home: &Self::Home, value: Option<&[u8]>);

    /// How many snapshots have no packed quotes.
    fn unpacked_snapshots(home: &Self::Home) -> i64;

    /// Runs `sql` on the database behind the store's back (the schema as an older build left
    /// it, say).
    fn execute_batch(home: &Self::Home, sql: &str);

    /// The store opened again on the same database (migrations run again).
    fn reopen(home: &Self::Home) -> Self;
}

/// The tables of the schema (both stores).
pub(crate) const TABLES: [&str; 13] = [
    "bars",
    "chain_snapshots",
    "equity_curve",
    "fills",
    "index_values",
    "models",
    "option_quotes",
    "orders",
    "positions",
    "rates",
    "runs",
    "schema_migrations",
    "signals",
];

/// Every row of every table of the SQLite file at `path`, as text, in key order.
pub(crate) fn sqlite_dump(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        // Table names come from sqlite_schema, not from input: quoting them is safe.
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(t) => {
                            format!("'{}'", String::from_utf8_lossy(t))
                        }
                        other => format!("{other:?}"),
                    })
                    .collect();
                Ok(format!("{t}: {}", cells.join(" | ")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.extend(rows);
    }
    out
}

impl Backend for SqliteStore {
    type Home = tempfile::TempDir;
    const CASES: u32 = 24;

    fn fresh() -> Option<(Self::Home, Self)> {
        Some(super::fresh_sqlite())
    }

    fn dump(home: &Self::Home) -> Vec<String> {
        sqlite_dump(&home.path().join("volta.db"))
    }

    fn changes(_home: &Self::Home, store: &Self) -> u64 {
        store.total_changes()
    }

    fn reject_quotes_like(home: &Self::Home, pattern: &str) {
        let conn = Connection::open(home.path().join("volta.db")).unwrap();
        conn.execute_batch(&format!(
            "CREATE TRIGGER reject_quotes BEFORE INSERT ON option_quotes
             WHEN NEW.contract LIKE '{pattern}' BEGIN SELECT RAISE(ABORT, 'bad row'); END;"
        ))
        .unwrap();
    }

    fn clear_chains(home: &Self::Home) {
        Connection::open(home.path().join("volta.db"))
            .unwrap()
            .execute_batch("DELETE FROM option_quotes; DELETE FROM chain_snapshots;")
            .unwrap();
    }

    fn set_packed_quotes(home: &Self::Home, value: Option<&[u8]>) {
        Connection::open(home.path().join("volta.db"))
            .unwrap()
            .execute("UPDATE chain_snapshots SET packed_quotes = ?1", [value])
            .unwrap();
    }

    fn execute_batch(home: &Self::Home, sql: &str) {
        Connection::open(home.path().join("volta.db"))
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }

    fn reopen(home: &Self::Home) -> Self {
        SqliteStore::open(home.path().join("volta.db")).unwrap()
    }

    fn unpacked_snapshots(home: &Self::Home) -> i64 {
        Connection::open(home.path().join("volta.db"))
            .unwrap()
            .query_row(
                "SELECT count(*) FROM chain_snapshots WHERE packed_quotes IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn tables_intact(home: &Self::Home) -> bool {
        let path = home.path().join("volta.db");
        let conn = Connection::open(&path).unwrap();
        SqliteStore::open(&path)
            .unwrap()
            .integrity_check()
            .unwrap()
            .is_ok()
            && TABLES
                .iter()
                .all(|t| conn.prepare(&format!("SELECT * FROM {t}")).is_ok())
    }
}

#[cfg(feature = "postgres")]
mod pg {
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::sync::Arc;

    use volta_data::store::PgStore;

    use super::{Backend, TABLES};
    use crate::pg_cluster::{PgCluster, shared};

    /// The shared cluster and the URL of this test's own database.
    pub(crate) struct PgHome {
        /// Kept: the cluster stops when the last test drops it.
        pub(crate) _cluster: Arc<PgCluster>,
        pub(crate) url: String,
    }

    fn client(url: &str) -> postgres::Client {
        postgres::Client::connect(url, postgres::NoTls).unwrap()
    }

    /// Every row of every table of the database at `url`, with its row version, sorted.
    pub(crate) fn pg_dump(url: &str) -> Vec<String> {
        let mut c = client(url);
        let tables: Vec<String> = c
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = Vec::new();
        for t in tables {
            // Table names come from the catalog, not from input.
            let mut rows: Vec<String> = c
                .query(
                    &format!("SELECT xmin::text || ' ' || r::text FROM {t} r"),
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| format!("{t}: {}", r.get::<_, String>(0)))
                .collect();
            rows.sort();
            out.extend(rows);
        }
        out
    }

    impl Backend for PgStore {
        type Home = PgHome;
        const CASES: u32 = 10;

        fn fresh() -> Option<(Self::Home, Self)> {
            let cluster = shared()?;
            let url = cluster.fresh_database();
            let store = PgStore::connect(&url).unwrap();
            Some((
                PgHome {
                    _cluster: cluster,
                    url,
                },
                store,
            ))
        }

        fn dump(home: &Self::Home) -> Vec<String> {
            pg_dump(&home.url)
        }

        fn changes(home: &Self::Home, _store: &Self) -> u64 {
            let mut h = DefaultHasher::new();
            Self::dump(home).hash(&mut h);
            h.finish()
        }

        fn reject_quotes_like(home: &Self::Home, pattern: &str) {
            client(&home.url)
                .batch_execute(&format!(
                    "CREATE FUNCTION reject_quotes() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN
                         IF NEW.contract LIKE '{pattern}' THEN RAISE EXCEPTION 'bad row'; END IF;
                         RETURN NEW;
                     END $$;
                     CREATE TRIGGER reject_quotes BEFORE INSERT ON option_quotes
                     FOR EACH ROW EXECUTE FUNCTION reject_quotes();"
                ))
                .unwrap();
        }

        fn clear_chains(home: &Self::Home) {
            client(&home.url)
                .batch_execute("TRUNCATE option_quotes, chain_snapshots")
                .unwrap();
        }

        fn set_packed_quotes(home: &Self::Home, value: Option<&[u8]>) {
            client(&home.url)
                .execute("UPDATE chain_snapshots SET packed_quotes = $1", &[&value])
                .unwrap();
        }

        fn execute_batch(home: &Self::Home, sql: &str) {
            client(&home.url).batch_execute(sql).unwrap();
        }

        fn reopen(home: &Self::Home) -> Self {
            PgStore::connect(&home.url).unwrap()
        }

        fn unpacked_snapshots(home: &Self::Home) -> i64 {
            client(&home.url)
                .query_one(
                    "SELECT count(*) FROM chain_snapshots WHERE packed_quotes IS NULL",
                    &[],
                )
                .unwrap()
                .get(0)
        }

        fn tables_intact(home: &Self::Home) -> bool {
            let mut c = client(&home.url);
            TABLES
                .iter()
                .all(|t| c.query(&format!("SELECT count(*) FROM {t}"), &[]).is_ok())
        }
    }
}

#[cfg(feature = "postgres")]
#[allow(unused_imports, reason = "postgres_only uses them once it has tests")]
pub(crate) use pg::{PgHome, pg_dump};
