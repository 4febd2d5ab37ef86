//! [`PgStore`]: the store on a PostgreSQL server, for a trader and its researchers on several
//! machines, or years of chains that several processes write. Same traits, same behaviour and
//! the same test suite as [`SqliteStore`](super::SqliteStore); chosen by a `postgres://` URL
//! ([`super::open`]).
//!
//! A newcomer's map of this module:
//! - here: connecting (URL, `PGPASSWORD`), numbered migrations (`../migrations/postgres/`, the
//!   same numbers and names as SQLite's), the statement cache, and the helpers every query goes
//!   through ([`PgStore::select`], [`PgStore::write_each`], [`PgStore::in_transaction`]);
//! - [`codec`] reads a row back, naming any bad value;
//! - [`market`] implements [`MarketStore`](super::MarketStore); chains go in by
//!   `COPY … FROM STDIN` into a staging table, then one `INSERT … ON CONFLICT` (all in the
//!   batch's transaction);
//! - [`journal`] implements [`JournalStore`](super::JournalStore).
//!
//! Why the synchronous `postgres` crate rather than `tokio-postgres` or sqlx: the store traits
//! are synchronous (the engine's loop, the importers and the CLI call them directly), and the
//! synchronous client is `tokio-postgres` driven on a small runtime of its own, so the
//! behaviour is the async client's without making every caller async; sqlx would add a second
//! SQL layer and its macros' build cost for a dozen statements.
//!
//! Values cross as the SQLite store writes them: dates, times and decimals as text that the
//! server casts (`$2::text::date`, `bid::text`), so money keeps every digit (NUMERIC) and one
//! parser (`crate::store::codec`) reads both stores. Every statement is parameterised.
//!
//! Concurrency: several processes may write one database. Each batch is one transaction
//! (READ COMMITTED); upserts are `INSERT … ON CONFLICT`, so two writers of the same key never
//! fail on each other, and a fill recorded twice at once is inserted once and then compared:
//! the journal's "no fill rewritten" holds under concurrency. Migrations take an advisory lock,
//! so two processes opening a new database at once migrate it once.

mod codec;
mod journal;
mod market;
mod registry;

use std::collections::HashMap;
use std::fmt::{self, Display};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement, Transaction};

use super::location::redact_url;
use crate::{DataError, Result};

/// The numbered migrations, in order; numbers and names match SQLite's (`MIGRATIONS` there), so
/// a database's `schema_migrations` reads the same on both. Never edit one that has shipped.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "index_rates",
        include_str!("../migrations/postgres/0002_index_rates.sql"),
    ),
    (
        3,
        "packed_chains",
        include_str!("../migrations/postgres/0003_packed_chains.sql"),
    ),
    (
        4,
        "model_registry",
        include_str!("../migrations/postgres/0004_model_registry.sql"),
    ),
];

/// The advisory lock migrations hold (`pg_advisory_xact_lock`): "volta" in ASCII.
const MIGRATION_LOCK: i64 = 0x0076_6f6c_7461;

/// The store on a PostgreSQL database.
///
/// One connection, behind a mutex so that the store's `&self` reads can use it (the client
/// needs `&mut`); open one store per thread for parallel work.
pub struct PgStore {
    conn: Mutex<Conn>,
    /// The URL with its password redacted: what messages show.
    shown: String,
}

/// The connection and its prepared statements, by SQL text.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.shown)
            .finish_non_exhaustive()
    }
}

/// Maps a client error to [`DataError::Postgres`] naming the store, the operation and the row.
fn pg_err(
    shown: &str,
    operation: &'static str,
    key: impl Display,
) -> impl FnOnce(postgres::Error) -> DataError {
    let store = shown.to_owned();
    move |source| DataError::Postgres {
        store,
        operation,
        key: key.to_string(),
        source,
    }
}

impl Conn {
    /// The prepared statement for `sql`, preparing it on first use.
    fn statement(&mut self, sql: &'static str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

impl PgStore {
    /// Connects to the database `url` names (`postgres://user[:password]@host[:port]/db`, any
    /// libpq-style URL the `postgres` crate reads) and brings its schema up to
    /// [`SCHEMA_VERSION`](super::SCHEMA_VERSION), each missing migration in its own transaction
    /// under an advisory lock.
    ///
    /// The password is the URL's or, if it has none, `PGPASSWORD`'s; the user, if the URL names
    /// none, is `PGUSER`'s or else `USER`'s. Nothing shows the password: errors carry the
    /// redacted URL.
    ///
    /// # Errors
    /// [`DataError::StoreUnsupported`] for a URL that does not parse; [`DataError::Postgres`] if
    /// the server cannot be reached or refuses the login or a migration (that migration is
    /// rolled back); [`DataError::StoreSchemaTooNew`] / [`DataError::StoreSchemaMismatch`] as
    /// for SQLite.
    pub fn connect(url: &str) -> Result<Self> {
        let shown = redact_url(url);
        let mut config = Config::from_str(url).map_err(|e| DataError::StoreUnsupported {
            location: shown.clone(),
            // The parser's message quotes no value of the URL, only what it expected.
            reason: format!("not a PostgreSQL URL: {e}"),
        })?;
        if config.get_password().is_none()
            && let Some(password) = std::env::var_os("PGPASSWORD")
        {
            config.password(password.as_encoded_bytes());
        }
        if config.get_user().is_none()
            && let Some(user) = ["PGUSER", "USER"]
                .iter()
                .find_map(|v| std::env::var(v).ok())
        {
            config.user(&user);
        }
        let client = config
            .connect(NoTls)
            .map_err(pg_err(&shown, "connect", &shown))?;
        let store = Self {
            conn: Mutex::new(Conn {
                client,
                statements: HashMap::new(),
            }),
            shown,
        };
        store.configure()?;
        store.migrate()?;
        store.stage()?;
        Ok(store)
    }

    /// The store's URL with its password redacted.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.shown
    }

    fn lock(&self) -> MutexGuard<'_, Conn> {
        // A panic while holding the lock cannot leave a half-written batch: every write is one
        // transaction, rolled back when its guard drops.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn err(
        &self,
        operation: &'static str,
        key: impl Display,
    ) -> impl FnOnce(postgres::Error) -> DataError {
        pg_err(&self.shown, operation, key)
    }

    fn configure(&self) -> Result<()> {
        // ISO dates, whatever the server's default: the codec reads `YYYY-MM-DD HH:MM:SS[.f]`.
        self.lock()
            .client
            .batch_execute("SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'")
            .map_err(self.err("configure", &self.shown))
    }

    /// The staging table of chain imports (`COPY` lands here, then one upsert moves it):
    /// temporary (this connection's own), emptied at every commit or rollback.
    fn stage(&self) -> Result<()> {
        self.lock()
            .client
            .batch_execute(
                "CREATE TEMP TABLE IF NOT EXISTS quote_stage (LIKE option_quotes)
                 ON COMMIT DELETE ROWS",
            )
            .map_err(self.err("configure", "quote_stage"))
    }

    fn migrate(&self) -> Result<()> {
        let shown = self.shown.clone();
        let mut conn = self.lock();
        for &(version, name, sql) in MIGRATIONS {
            let key = format!("{shown} migration {version:04}_{name}");
            let mut tx = conn
                .client
                .transaction()
                .map_err(self.err("migrate", &key))?;
            // One migrator at a time; the others wait here, then find the work done.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .map_err(self.err("migrate", &key))?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version BIGINT NOT NULL PRIMARY KEY,
                     name    TEXT   NOT NULL
                 )",
            )
            .map_err(self.err("create schema_migrations", &shown))?;
            let applied: Vec<(i64, String)> = tx
                .query(
                    "SELECT version, name FROM schema_migrations ORDER BY version",
                    &[],
                )
                .map_err(self.err("read schema version", &shown))?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            check_applied(&shown, &applied)?;
            if applied.iter().any(|(v, _)| *v == version) {
                continue; // the transaction rolls back on drop: it only read
            }
            tx.batch_execute(sql).map_err(self.err("migrate", &key))?;
            if name == "packed_chains" {
                market::repack_from_rows(&mut tx, &shown, None)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&version, &name],
            )
            .map_err(self.err("migrate", &key))?;
            tx.commit().map_err(self.err("migrate", &key))?;
        }
        // A database already past this build's last migration is refused even when every
        // migration was found applied above.
        drop(conn);
        let found = self.schema_version()?;
        if found > super::SCHEMA_VERSION {
            return Err(DataError::StoreSchemaTooNew {
                path: PathBuf::from(&self.shown),
                found,
                supported: super::SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// The schema version recorded in the database (the last migration applied).
    ///
    /// # Errors
    /// [`DataError::Postgres`] on a database failure.
    pub fn schema_version(&self) -> Result<i64> {
        let row = self
            .lock()
            .client
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .map_err(self.err("read schema version", &self.shown))?;
        Ok(row.get(0))
    }

    /// Runs the query `sql` with `params` and turns each row into a value with `read`, in
    /// order. Failures name `operation` and `key`.
    fn select<T>(
        &self,
        operation: &'static str,
        key: &dyn Display,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
        mut read: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut conn = self.lock();
        let stmt = conn.statement(sql).map_err(self.err(operation, key))?;
        let rows = conn
            .client
            .query(&stmt, params)
            .map_err(self.err(operation, key))?;
        drop(conn);
        rows.iter().map(&mut read).collect()
    }

    /// Runs `body` in one transaction: commits if it returns `Ok`, rolls back (on drop)
    /// otherwise, so a batch is all or nothing. `body` gets the transaction and a statement
    /// preparer.
    fn in_transaction<T>(
        &mut self,
        operation: &'static str,
        body: impl FnOnce(&mut Transaction<'_>, &str) -> Result<T>,
    ) -> Result<T> {
        let shown = self.shown.clone();
        let conn = self.conn.get_mut().unwrap_or_else(PoisonError::into_inner);
        let mut tx = conn
            .client
            .transaction()
            .map_err(pg_err(&shown, operation, &shown))?;
        let out = body(&mut tx, &shown)?;
        tx.commit().map_err(pg_err(&shown, operation, &shown))?;
        Ok(out)
    }

    /// Writes `items` with the one statement `sql`, in one transaction (all or nothing):
    /// `write` binds an item and executes the statement, returning the rows it changed.
    /// Returns the sum.
    fn write_each<T>(
        &mut self,
        operation: &'static str,
        key: &dyn Display,
        sql: &'static str,
        items: &[T],
        mut write: impl FnMut(&mut Transaction<'_>, &Statement, &T) -> Result<u64>,
    ) -> Result<u64> {
        let stmt = {
            let conn = self.conn.get_mut().unwrap_or_else(PoisonError::into_inner);
            conn.statement(sql)
                .map_err(pg_err(&self.shown, operation, key))?
        };
        self.in_transaction(operation, |tx, _| {
            let mut changed = 0;
            for item in items {
                changed += write(tx, &stmt, item)?;
            }
            Ok(changed)
        })
    }
}

/// Refuses a database migrated by a newer or a diverged build.
fn check_applied(shown: &str, applied: &[(i64, String)]) -> Result<()> {
    if let Some(&(found, _)) = applied.last()
        && found > super::SCHEMA_VERSION
    {
        return Err(DataError::StoreSchemaTooNew {
            path: PathBuf::from(shown),
            found,
            supported: super::SCHEMA_VERSION,
        });
    }
    for (version, name) in applied {
        if let Some((_, expected, _)) = MIGRATIONS.iter().find(|m| m.0 == *version)
            && name != expected
        {
            return Err(DataError::StoreSchemaMismatch {
                path: PathBuf::from(shown),
                version: *version,
                found: name.clone(),
                expected: (*expected).to_owned(),
            });
        }
    }
    Ok(())
}

impl super::Store for PgStore {
    fn location(&self) -> String {
        self.shown.clone()
    }

    fn schema_version(&self) -> Result<i64> {
        Self::schema_version(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_named_as_sqlites() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i64::try_from(i + 1).unwrap());
        }
        assert_eq!(MIGRATIONS.last().unwrap().0, super::super::SCHEMA_VERSION);
        assert_eq!(
            MIGRATIONS.iter().map(|m| m.1).collect::<Vec<_>>(),
            ["init", "index_rates", "packed_chains", "model_registry"]
        );
    }

    #[test]
    fn a_bad_url_is_refused_without_showing_its_password() {
        let err = PgStore::connect("postgres://u:hunter2@h:notaport/db").unwrap_err();
        assert!(matches!(err, DataError::StoreUnsupported { .. }), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    }
}
