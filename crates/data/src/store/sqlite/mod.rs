//! [`SqliteStore`]: the embedded default store, one SQLite file in WAL mode.
//!
//! A newcomer's map of this module:
//! - here: opening a file (pragmas, numbered migrations), backup, integrity check, and the two
//!   helpers every query goes through ([`SqliteStore::select`] for reads,
//!   [`SqliteStore::write_each`] for batched writes in one transaction);
//! - [`codec`]: how dates, times, prices, contract keys and sides are written to SQL columns and
//!   read back;
//! - [`market`]: [`MarketStore`](super::MarketStore) — bars, chains, index values, rates,
//!   coverage;
//! - [`journal`]: [`JournalStore`](super::JournalStore) — runs, signals, orders, fills,
//!   positions, equity.
//!
//! Every statement is parameterised: values are bound, never spliced into SQL text.

mod codec;
mod journal;
mod market;
mod registry;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{
    CachedStatement, Connection, Params, Row, Transaction, TransactionBehavior, params,
};

use super::{ForeignKeyViolation, IntegrityReport};
use crate::{DataError, Result};

/// The numbered migrations, in order. Never edit one that has shipped: add the next number.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "index_rates",
        include_str!("../migrations/0002_index_rates.sql"),
    ),
    (
        3,
        "packed_chains",
        include_str!("../migrations/0003_packed_chains.sql"),
    ),
    (
        4,
        "model_registry",
        include_str!("../migrations/0004_model_registry.sql"),
    ),
];

/// The schema version this build writes and reads: the number of the last migration.
pub const SCHEMA_VERSION: i64 = 4;

/// How long a writer waits for another connection's lock before giving up (`SQLITE_BUSY`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store: market data and the journal in one file.
///
/// Opened with WAL journaling (readers never block the writer), `synchronous = NORMAL` (safe
/// against corruption in WAL mode; a power cut may lose the last commits, not the file),
/// foreign keys enforced, and a busy timeout of 5 s.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

/// Maps a rusqlite error to [`DataError::Store`] naming the operation and the row.
fn sql_err(
    operation: &'static str,
    key: impl Display,
) -> impl FnOnce(rusqlite::Error) -> DataError {
    move |source| DataError::Store {
        operation,
        key: key.to_string(),
        source,
    }
}

/// Whether SQLite reported a damaged file (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to
    /// [`SCHEMA_VERSION`], applying each missing migration in its own transaction.
    ///
    /// # Errors
    /// [`DataError::StoreSchemaTooNew`] if the file was migrated by a newer build,
    /// [`DataError::StoreSchemaMismatch`] if a recorded migration differs from this build's,
    /// [`DataError::Store`] if the file cannot be opened or a migration fails (that migration
    /// is then rolled back).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let conn = Connection::open(&path).map_err(sql_err("open", &shown))?;
        let mut store = Self { conn, path };
        store.configure().map_err(sql_err("configure", &shown))?;
        store.migrate()?;
        Ok(store)
    }

    fn configure(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // journal_mode returns the mode in force; a read-only medium may refuse WAL, which we
        // then notice on the first write rather than here.
        let _mode: String =
            self.conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        // 64 MiB of page cache (negative = KiB): a day's chain and the indexes of a bulk import
        // stay in memory.
        self.conn.pragma_update(None, "cache_size", -65_536)?;
        self.conn.set_prepared_statement_cache_capacity(64);
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let shown = self.path.display().to_string();
        // The bookkeeping table is created outside the numbered migrations so that the version
        // can be read before anything else. No `applied_at`: the library reads no wall clock;
        // the binary that migrates can log the time.
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version INTEGER NOT NULL PRIMARY KEY,
                     name    TEXT    NOT NULL
                 );",
            )
            .map_err(sql_err("create schema_migrations", &shown))?;
        let applied: Vec<(i64, String)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
                .map_err(sql_err("read schema version", &shown))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(sql_err("read schema version", &shown))?
        };
        if let Some(&(found, _)) = applied.last()
            && found > SCHEMA_VERSION
        {
            return Err(DataError::StoreSchemaTooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (version, name) in &applied {
            if let Some((_, expected, _)) = MIGRATIONS.iter().find(|m| m.0 == *version)
                && name != expected
            {
                return Err(DataError::StoreSchemaMismatch {
                    path: self.path.clone(),
                    version: *version,
                    found: name.clone(),
                    expected: (*expected).to_owned(),
                });
            }
        }
        for &(version, name, sql) in MIGRATIONS {
            if applied.iter().any(|(v, _)| *v == version) {
                continue;
            }
            let key = format!("{shown} migration {version:04}_{name}");
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err("migrate", &key))?;
            tx.execute_batch(sql).map_err(sql_err("migrate", &key))?;
            if name == "packed_chains" {
                market::repack_from_rows(&tx, None)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                params![version, name],
            )
            .map_err(sql_err("migrate", &key))?;
            tx.commit().map_err(sql_err("migrate", &key))?;
        }
        Ok(())
    }

    /// The file this store was opened on.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the file (the last migration applied).
    ///
    /// # Errors
    /// [`DataError::Store`] on a database failure.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err("read schema version", self.path.display()))
    }

    /// SQLite's count of rows inserted, updated or deleted through this connection since it
    /// was opened (`sqlite3_total_changes64`): a write that changes nothing leaves it as is.
    #[must_use]
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    /// Copies the whole database, consistently, into a new file at `target` while the store
    /// stays usable (SQLite's online backup API). The copy is a complete database that
    /// [`SqliteStore::open`] opens.
    ///
    /// # Errors
    /// [`DataError::StoreBackupTargetExists`] if `target` exists (a backup never overwrites);
    /// [`DataError::Store`] if the copy fails (a partial file may remain at `target`).
    pub fn backup_to(&self, target: impl AsRef<Path>) -> Result<()> {
        let target = target.as_ref();
        if target.exists() {
            return Err(DataError::StoreBackupTargetExists {
                path: target.to_path_buf(),
            });
        }
        let shown = target.display().to_string();
        let mut dest = Connection::open(target).map_err(sql_err("backup", &shown))?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut dest)
                .map_err(sql_err("backup", &shown))?;
            // 1024 pages (4 MiB) per step, no pause: our own connection is the only writer
            // to wait for, and it is busy here.
            backup
                .run_to_completion(1024, Duration::ZERO, None)
                .map_err(sql_err("backup", &shown))?;
        }
        dest.close().map_err(|(_, e)| sql_err("backup", &shown)(e))
    }

    /// Checks the file's structure (`PRAGMA integrity_check`: pages, indexes, constraints) and
    /// its references (`PRAGMA foreign_key_check`).
    ///
    /// A file so damaged that a check stops with `SQLITE_CORRUPT` is reported as a problem,
    /// not as an error.
    ///
    /// # Errors
    /// [`DataError::Store`] if the checks cannot run for another reason (I/O, locking).
    pub fn integrity_check(&self) -> Result<IntegrityReport> {
        let shown = self.path.display().to_string();
        let mut report = IntegrityReport::default();
        let lines: rusqlite::Result<Vec<String>> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
        match lines {
            Ok(lines) => report.problems = lines.into_iter().filter(|l| l != "ok").collect(),
            // A page too damaged for the check to walk is itself the finding.
            Err(e) if is_corruption(&e) => report.problems.push(e.to_string()),
            Err(e) => return Err(sql_err("integrity check", &shown)(e)),
        }
        let violations: rusqlite::Result<Vec<ForeignKeyViolation>> = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(ForeignKeyViolation {
                        table: r.get(0)?,
                        rowid: r.get(1)?,
                        parent: r.get(2)?,
                    })
                })?
                .collect()
            });
        match violations {
            Ok(v) => report.foreign_key_violations = v,
            Err(e) if is_corruption(&e) => report.problems.push(e.to_string()),
            Err(e) => return Err(sql_err("foreign key check", &shown)(e)),
        }
        Ok(report)
    }

    /// Runs `body` in one immediate transaction: commits if it returns `Ok`, rolls back (on
    /// drop) otherwise, so a batch is all or nothing.
    fn in_transaction<T>(
        &mut self,
        operation: &'static str,
        body: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let shown = self.path.display().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(operation, &shown))?;
        let out = body(&tx)?;
        tx.commit().map_err(sql_err(operation, &shown))?;
        Ok(out)
    }

    /// Runs the query `sql` with `params` and turns each row into a value with `read`, in
    /// order. Failures name `operation` and `key`.
    fn select<T>(
        &self,
        operation: &'static str,
        key: &dyn Display,
        sql: &str,
        params: impl Params,
        mut read: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(sql_err(operation, key))?;
        let mut rows = stmt.query(params).map_err(sql_err(operation, key))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err(operation, key))? {
            out.push(read(row)?);
        }
        Ok(out)
    }

    /// Writes `items` with the one statement `sql`, in one transaction (all or nothing):
    /// `write` binds an item and executes the statement, returning the rows it changed.
    /// Returns the sum. `key` names the batch if the statement cannot be prepared.
    fn write_each<T>(
        &mut self,
        operation: &'static str,
        key: &dyn Display,
        sql: &str,
        items: &[T],
        mut write: impl FnMut(&mut CachedStatement<'_>, &T) -> Result<usize>,
    ) -> Result<u64> {
        self.in_transaction(operation, |tx| {
            let mut stmt = tx.prepare_cached(sql).map_err(sql_err(operation, key))?;
            let mut changed = 0;
            for item in items {
                changed += write(&mut stmt, item)? as u64;
            }
            Ok(changed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i64::try_from(i + 1).unwrap());
        }
        assert_eq!(MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
    }
}
