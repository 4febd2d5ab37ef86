//! [`SqliteStore`]: the embedded default store, one SQLite file in WAL mode.

use std::collections::HashMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, Transaction, TransactionBehavior, params};
use volta_core::{
    ChainSnapshot, ContractKey, DailyBar, Money, OptionQuote, Price, Underlying, VendorAnalytics,
};

use super::{
    ContractObservation, Coverage, DataKind, EquityPoint, FillRecord, ForeignKeyViolation,
    IntegrityReport, JournalStore, MarketStore, OrderRecord, PositionRecord, RunRecord, Side,
    SignalRecord,
};
use crate::import::{IndexRecord, RateObservation, RateSeries};
use crate::{DataError, Result};

/// The numbered migrations, in order. Never edit one that has shipped: add the next number.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "index_rates",
        include_str!("../migrations/0002_index_rates.sql"),
    ),
];

/// The schema version this build writes and reads: the number of the last migration.
pub const SCHEMA_VERSION: i64 = 2;

/// How long a writer waits for another connection's lock before giving up (`SQLITE_BUSY`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Timestamps as stored: sortable text that SQLite's date functions read. `%.f` writes the
/// fraction only when there is one (3, 6 or 9 digits), so whole seconds stay short.
const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";
const DATE_FORMAT: &str = "%Y-%m-%d";

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

// Dates and times are written and read by hand in their one stored form (`YYYY-MM-DD`,
// `YYYY-MM-DD HH:MM:SS`): chrono's format strings are interpreted item by item on every call,
// which made them the largest cost of loading a chain (a time per quote). Fractional seconds,
// years outside 0..=9999 and anything unexpected go through chrono.

fn fmt_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    if (0..=9999).contains(&d.year()) {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        d.format(DATE_FORMAT).to_string()
    }
}

fn fmt_datetime(t: NaiveDateTime) -> String {
    use chrono::Timelike;
    if t.nanosecond() == 0 && (0..=9999).contains(&chrono::Datelike::year(&t)) {
        format!(
            "{} {:02}:{:02}:{:02}",
            fmt_date(t.date()),
            t.hour(),
            t.minute(),
            t.second()
        )
    } else {
        t.format(DATETIME_FORMAT).to_string()
    }
}

/// The number written in ASCII digits `b`, if they all are.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let year = i32::try_from(digits(&b[0..4])?).ok()?;
        return NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?);
    }
    NaiveDate::parse_from_str(s, DATE_FORMAT).ok()
}

/// `YYYY-MM-DD HH:MM:SS[.f]`.
fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() == 19 && b[10] == b' ' && b[13] == b':' && b[16] == b':' {
        return parse_date(&s[..10])?.and_hms_opt(
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
    }
    NaiveDateTime::parse_from_str(s, DATETIME_FORMAT).ok()
}

/// The first instant after `date`, as stored text: the exclusive end of a day's range.
fn day_after(date: NaiveDate) -> String {
    date.succ_opt()
        .map_or_else(|| "9999-99-99".to_owned(), fmt_date)
}

/// Reads stored text back into a value, naming the table, column and row on failure.
struct Reader {
    table: &'static str,
}

impl Reader {
    fn corrupt(
        &self,
        column: &'static str,
        key: &dyn Display,
        value: &str,
        expected: &'static str,
    ) -> DataError {
        DataError::StoreCorrupt {
            table: self.table,
            column,
            key: key.to_string(),
            value: value.to_owned(),
            expected,
        }
    }

    /// Text of column `i` (NULL → `None`).
    fn text<'r>(
        &self,
        row: &'r Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Option<&'r str>> {
        match row.get_ref(i).map_err(sql_err("read", key))? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| self.corrupt(column, key, "<invalid UTF-8>", "UTF-8 text")),
            other => Err(self.corrupt(column, key, &format!("{other:?}"), "text")),
        }
    }

    fn req_text<'r>(
        &self,
        row: &'r Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<&'r str> {
        self.text(row, i, column, key)?
            .ok_or_else(|| self.corrupt(column, key, "NULL", "text"))
    }

    fn opt_price(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Option<Price>> {
        self.text(row, i, column, key)?
            .map(|s| {
                s.parse()
                    .map_err(|_| self.corrupt(column, key, s, "a non-negative decimal"))
            })
            .transpose()
    }

    fn price(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Price> {
        self.opt_price(row, i, column, key)?
            .ok_or_else(|| self.corrupt(column, key, "NULL", "a non-negative decimal"))
    }

    fn opt_money(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Option<Money>> {
        self.text(row, i, column, key)?
            .map(|s| {
                s.parse()
                    .map_err(|_| self.corrupt(column, key, s, "a decimal"))
            })
            .transpose()
    }

    fn money(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Money> {
        self.opt_money(row, i, column, key)?
            .ok_or_else(|| self.corrupt(column, key, "NULL", "a decimal"))
    }

    fn date(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<NaiveDate> {
        let s = self.req_text(row, i, column, key)?;
        parse_date(s).ok_or_else(|| self.corrupt(column, key, s, "a date YYYY-MM-DD"))
    }

    fn opt_datetime(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Option<NaiveDateTime>> {
        self.text(row, i, column, key)?
            .map(|s| {
                parse_datetime(s)
                    .ok_or_else(|| self.corrupt(column, key, s, "a time YYYY-MM-DD HH:MM:SS[.f]"))
            })
            .transpose()
    }

    fn datetime(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<NaiveDateTime> {
        self.opt_datetime(row, i, column, key)?
            .ok_or_else(|| self.corrupt(column, key, "NULL", "a time YYYY-MM-DD HH:MM:SS[.f]"))
    }

    fn int(&self, row: &Row<'_>, i: usize, column: &'static str, key: &dyn Display) -> Result<i64> {
        match row.get_ref(i).map_err(sql_err("read", key))? {
            ValueRef::Integer(v) => Ok(v),
            other => Err(self.corrupt(column, key, &format!("{other:?}"), "an integer")),
        }
    }

    fn count(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<u64> {
        let v = self.int(row, i, column, key)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, key, &v.to_string(), "non-negative"))
    }

    fn opt_real(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Option<f64>> {
        match row.get_ref(i).map_err(sql_err("read", key))? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            // SQLite may store a whole REAL as an integer in an untyped expression.
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            other => Err(self.corrupt(column, key, &format!("{other:?}"), "a number")),
        }
    }

    fn underlying(
        &self,
        row: &Row<'_>,
        i: usize,
        column: &'static str,
        key: &dyn Display,
    ) -> Result<Underlying> {
        let s = self.req_text(row, i, column, key)?;
        Underlying::try_new(s).map_err(|_| self.corrupt(column, key, s, "a ticker"))
    }
}

/// Whether SQLite reported a damaged file (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// A count that SQLite's signed 64-bit integers hold, or [`DataError::StoreValue`].
fn to_i64(v: u64, key: &dyn Display, field: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| DataError::StoreValue {
        key: key.to_string(),
        field,
        value: v.to_string(),
        requirement: "at most 2^63 - 1",
    })
}

/// SQLite stores a NaN as NULL: refuse it rather than read back a different value.
fn not_nan(v: Option<f64>, key: &dyn Display, field: &'static str) -> Result<Option<f64>> {
    match v {
        Some(x) if x.is_nan() => Err(DataError::StoreValue {
            key: key.to_string(),
            field,
            value: "NaN".to_owned(),
            requirement: "a number (use None for a missing value)",
        }),
        _ => Ok(v),
    }
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

    /// Loads the quotes of one snapshot into a [`ChainSnapshot`].
    fn load_snapshot(
        &self,
        symbol: &Underlying,
        snapshot_id: i64,
        as_of: NaiveDateTime,
        underlying_price: Price,
    ) -> Result<ChainSnapshot> {
        let label = format!("{symbol} {}", fmt_datetime(as_of));
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT contract, bid, ask, last, volume, open_interest, updated_at, has_vendor,
                        vendor_iv, vendor_delta, vendor_gamma, vendor_theta, vendor_vega
                   FROM option_quotes WHERE snapshot_id = ?1",
            )
            .map_err(sql_err("load chain", &label))?;
        let mut rows = stmt
            .query([snapshot_id])
            .map_err(sql_err("load chain", &label))?;
        let mut quotes = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("load chain", &label))? {
            quotes.push(read_quote(row, 0, &label)?);
        }
        ChainSnapshot::try_new(as_of, symbol.clone(), underlying_price, quotes).map_err(Into::into)
    }

    /// The (id, time, underlying price) of the snapshots matching `filter`.
    fn find_snapshot(
        &self,
        symbol: &Underlying,
        sql: &str,
        from: &str,
        to: &str,
    ) -> Result<Option<(i64, NaiveDateTime, Price)>> {
        let label = format!("{symbol} {from}");
        let reader = Reader {
            table: "chain_snapshots",
        };
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(sql_err("find snapshot", &label))?;
        let mut rows = stmt
            .query(params![symbol.as_str(), from, to])
            .map_err(sql_err("find snapshot", &label))?;
        match rows.next().map_err(sql_err("find snapshot", &label))? {
            None => Ok(None),
            Some(row) => Ok(Some((
                reader.int(row, 0, "snapshot_id", &label)?,
                reader.datetime(row, 1, "as_of", &label)?,
                reader.price(row, 2, "underlying_price", &label)?,
            ))),
        }
    }
}

/// Reads the quote columns starting at `first` (contract, bid, ask, last, volume,
/// `open_interest`, `updated_at`, `has_vendor`, five vendor values).
fn read_quote(row: &Row<'_>, first: usize, label: &str) -> Result<OptionQuote> {
    let reader = Reader {
        table: "option_quotes",
    };
    let contract = reader.req_text(row, first, "contract", &label)?;
    let key: ContractKey = contract
        .parse()
        .map_err(|_| reader.corrupt("contract", &label, contract, "an OCC option symbol"))?;
    let at = &key;
    let has_vendor = reader.int(row, first + 7, "has_vendor", at)? != 0;
    let vendor = if has_vendor {
        Some(VendorAnalytics {
            implied_vol: reader.opt_real(row, first + 8, "vendor_iv", at)?,
            delta: reader.opt_real(row, first + 9, "vendor_delta", at)?,
            gamma: reader.opt_real(row, first + 10, "vendor_gamma", at)?,
            theta: reader.opt_real(row, first + 11, "vendor_theta", at)?,
            vega: reader.opt_real(row, first + 12, "vendor_vega", at)?,
        })
    } else {
        None
    };
    Ok(OptionQuote {
        bid: reader.opt_price(row, first + 1, "bid", at)?,
        ask: reader.opt_price(row, first + 2, "ask", at)?,
        last: reader.opt_price(row, first + 3, "last", at)?,
        volume: reader.count(row, first + 4, "volume", at)?,
        open_interest: reader.count(row, first + 5, "open_interest", at)?,
        updated_at: reader.opt_datetime(row, first + 6, "updated_at", at)?,
        vendor,
        key,
    })
}

/// The 21-character OCC form of `key`, exactly as its `Display` writes it
/// (`SPXW  190517C02900000`), built without the formatting machinery: a bulk import writes a
/// million of them.
fn occ_text(key: &ContractKey) -> String {
    use chrono::Datelike;
    fn digits(out: &mut String, mut n: u32, width: usize) {
        let mut buf = [b'0'; 10];
        for slot in buf[..width].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend(buf[..width].iter().map(|&b| char::from(b)));
    }
    let mut out = String::with_capacity(21);
    out.push_str(key.root());
    for _ in key.root().len()..6 {
        out.push(' ');
    }
    let e = key.expiry();
    digits(&mut out, (e.year() % 100).cast_unsigned(), 2);
    digits(&mut out, e.month(), 2);
    digits(&mut out, e.day(), 2);
    out.push(match key.right() {
        volta_core::OptionRight::Call => 'C',
        volta_core::OptionRight::Put => 'P',
    });
    digits(&mut out, key.strike().thousandths(), 8);
    out
}

fn opt_text<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|x| x.to_string())
}

const SIDE_BUY: &str = "buy";
const SIDE_SELL: &str = "sell";

const fn side_text(side: Side) -> &'static str {
    match side {
        Side::Buy => SIDE_BUY,
        Side::Sell => SIDE_SELL,
    }
}

impl MarketStore for SqliteStore {
    fn upsert_daily_bars(&mut self, symbol: &Underlying, bars: &[DailyBar]) -> Result<u64> {
        self.in_transaction("upsert bars", |tx| {
            // The WHERE clause skips rows whose values are unchanged, so re-importing a file
            // writes nothing (and the change count says so).
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO bars (symbol, date, open, high, low, close, volume)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (symbol, date) DO UPDATE SET
                         open = excluded.open, high = excluded.high, low = excluded.low,
                         close = excluded.close, volume = excluded.volume
                     WHERE open IS NOT excluded.open OR high IS NOT excluded.high
                        OR low IS NOT excluded.low OR close IS NOT excluded.close
                        OR volume IS NOT excluded.volume",
                )
                .map_err(sql_err("upsert bars", symbol))?;
            let mut changed = 0;
            for bar in bars {
                let key = format!("{symbol} {}", bar.date);
                let o = bar.ohlcv;
                let n = stmt
                    .execute(params![
                        symbol.as_str(),
                        fmt_date(bar.date),
                        o.open().to_string(),
                        o.high().to_string(),
                        o.low().to_string(),
                        o.close().to_string(),
                        to_i64(o.volume(), &key, "volume")?,
                    ])
                    .map_err(sql_err("upsert bars", &key))?;
                changed += n as u64;
            }
            Ok(changed)
        })
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        let reader = Reader { table: "bars" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT date, open, high, low, close, volume FROM bars
                  WHERE symbol = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date",
            )
            .map_err(sql_err("load bars", symbol))?;
        let mut rows = stmt
            .query(params![symbol.as_str(), fmt_date(from), fmt_date(to)])
            .map_err(sql_err("load bars", symbol))?;
        let mut bars = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("load bars", symbol))? {
            let date = reader.date(row, 0, "date", symbol)?;
            let key = format!("{symbol} {date}");
            bars.push(DailyBar::try_new(
                date,
                reader.price(row, 1, "open", &key)?,
                reader.price(row, 2, "high", &key)?,
                reader.price(row, 3, "low", &key)?,
                reader.price(row, 4, "close", &key)?,
                reader.count(row, 5, "volume", &key)?,
            )?);
        }
        Ok(bars)
    }

    fn upsert_chains(&mut self, chains: &[ChainSnapshot]) -> Result<u64> {
        self.in_transaction("upsert chains", |tx| {
            let mut snap = tx
                .prepare_cached(
                    "INSERT INTO chain_snapshots (underlying, as_of, underlying_price)
                     VALUES (?1, ?2, ?3)
                     ON CONFLICT (underlying, as_of) DO UPDATE SET
                         underlying_price = excluded.underlying_price
                     WHERE underlying_price IS NOT excluded.underlying_price",
                )
                .map_err(sql_err("upsert chains", "chain_snapshots"))?;
            let mut snap_id = tx
                .prepare_cached(
                    "SELECT snapshot_id FROM chain_snapshots WHERE underlying = ?1 AND as_of = ?2",
                )
                .map_err(sql_err("upsert chains", "chain_snapshots"))?;
            let mut quote = tx
                .prepare_cached(
                    "INSERT INTO option_quotes (snapshot_id, contract, bid, ask, last, volume,
                         open_interest, updated_at, has_vendor, vendor_iv, vendor_delta,
                         vendor_gamma, vendor_theta, vendor_vega)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                     ON CONFLICT (snapshot_id, contract) DO UPDATE SET
                         bid = excluded.bid, ask = excluded.ask, last = excluded.last,
                         volume = excluded.volume, open_interest = excluded.open_interest,
                         updated_at = excluded.updated_at, has_vendor = excluded.has_vendor,
                         vendor_iv = excluded.vendor_iv, vendor_delta = excluded.vendor_delta,
                         vendor_gamma = excluded.vendor_gamma,
                         vendor_theta = excluded.vendor_theta, vendor_vega = excluded.vendor_vega
                     WHERE bid IS NOT excluded.bid OR ask IS NOT excluded.ask
                        OR last IS NOT excluded.last OR volume IS NOT excluded.volume
                        OR open_interest IS NOT excluded.open_interest
                        OR updated_at IS NOT excluded.updated_at
                        OR has_vendor IS NOT excluded.has_vendor
                        OR vendor_iv IS NOT excluded.vendor_iv
                        OR vendor_delta IS NOT excluded.vendor_delta
                        OR vendor_gamma IS NOT excluded.vendor_gamma
                        OR vendor_theta IS NOT excluded.vendor_theta
                        OR vendor_vega IS NOT excluded.vendor_vega",
                )
                .map_err(sql_err("upsert chains", "option_quotes"))?;
            // Snapshot ids seen in this batch: a file often holds one snapshot in many pieces.
            let mut ids: HashMap<(String, String), i64> = HashMap::new();
            let mut changed = 0u64;
            for chain in chains {
                let underlying = chain.underlying().as_str();
                let as_of = fmt_datetime(chain.as_of());
                let label = format!("{underlying} {as_of}");
                let id = if let Some(&id) = ids.get(&(underlying.to_owned(), as_of.clone())) {
                    id
                } else {
                    changed +=
                        snap.execute(params![
                            underlying,
                            as_of,
                            chain.underlying_price().to_string()
                        ])
                        .map_err(sql_err("upsert chains", &label))? as u64;
                    let id: i64 = snap_id
                        .query_row(params![underlying, as_of], |r| r.get(0))
                        .map_err(sql_err("upsert chains", &label))?;
                    ids.insert((underlying.to_owned(), as_of), id);
                    id
                };
                // Inserted in key order: the primary key (snapshot, contract) then grows at its
                // end, SQLite's cheap append path, instead of splitting pages all over the
                // snapshot's range (the chain's own order is expiry, strike, right, root).
                let mut rows: Vec<(String, &OptionQuote)> =
                    chain.iter().map(|q| (occ_text(&q.key), q)).collect();
                rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                for (text, q) in &rows {
                    let key = &q.key;
                    let v = q.vendor.unwrap_or_default();
                    changed += quote
                        .execute(params![
                            id,
                            text,
                            opt_text(q.bid),
                            opt_text(q.ask),
                            opt_text(q.last),
                            to_i64(q.volume, key, "volume")?,
                            to_i64(q.open_interest, key, "open_interest")?,
                            q.updated_at.map(fmt_datetime),
                            q.vendor.is_some(),
                            not_nan(v.implied_vol, key, "vendor implied_vol")?,
                            not_nan(v.delta, key, "vendor delta")?,
                            not_nan(v.gamma, key, "vendor gamma")?,
                            not_nan(v.theta, key, "vendor theta")?,
                            not_nan(v.vega, key, "vendor vega")?,
                        ])
                        .map_err(sql_err("upsert chains", key))?
                        as u64;
                }
            }
            Ok(changed)
        })
    }

    fn chain_at(&self, symbol: &Underlying, as_of: NaiveDateTime) -> Result<Option<ChainSnapshot>> {
        let t = fmt_datetime(as_of);
        let found = self.find_snapshot(
            symbol,
            "SELECT snapshot_id, as_of, underlying_price FROM chain_snapshots
              WHERE underlying = ?1 AND as_of = ?2 AND as_of = ?3",
            &t,
            &t,
        )?;
        found
            .map(|(id, at, price)| self.load_snapshot(symbol, id, at, price))
            .transpose()
    }

    fn chain_on(&self, symbol: &Underlying, date: NaiveDate) -> Result<Option<ChainSnapshot>> {
        // 'YYYY-MM-DD' sorts before every time of that day and the next day's date after all
        // of them, so the day is a half-open text range on the (underlying, as_of) index.
        let found = self.find_snapshot(
            symbol,
            "SELECT snapshot_id, as_of, underlying_price FROM chain_snapshots
              WHERE underlying = ?1 AND as_of >= ?2 AND as_of < ?3
              ORDER BY as_of DESC LIMIT 1",
            &fmt_date(date),
            &day_after(date),
        )?;
        found
            .map(|(id, at, price)| self.load_snapshot(symbol, id, at, price))
            .transpose()
    }

    fn snapshot_times(&self, symbol: &Underlying, date: NaiveDate) -> Result<Vec<NaiveDateTime>> {
        let reader = Reader {
            table: "chain_snapshots",
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT as_of FROM chain_snapshots
                  WHERE underlying = ?1 AND as_of >= ?2 AND as_of < ?3 ORDER BY as_of",
            )
            .map_err(sql_err("list snapshots", symbol))?;
        let mut rows = stmt
            .query(params![symbol.as_str(), fmt_date(date), day_after(date)])
            .map_err(sql_err("list snapshots", symbol))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("list snapshots", symbol))? {
            out.push(reader.datetime(row, 0, "as_of", symbol)?);
        }
        Ok(out)
    }

    fn contract_history(
        &self,
        key: &ContractKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ContractObservation>> {
        let reader = Reader {
            table: "chain_snapshots",
        };
        let label = key.to_string();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT q.contract, q.bid, q.ask, q.last, q.volume, q.open_interest, q.updated_at,
                        q.has_vendor, q.vendor_iv, q.vendor_delta, q.vendor_gamma,
                        q.vendor_theta, q.vendor_vega, s.as_of, s.underlying_price
                   FROM option_quotes q JOIN chain_snapshots s USING (snapshot_id)
                  WHERE q.contract = ?1 AND s.as_of >= ?2 AND s.as_of < ?3
                  ORDER BY s.as_of",
            )
            .map_err(sql_err("contract history", &label))?;
        let mut rows = stmt
            .query(params![label, fmt_date(from), day_after(to)])
            .map_err(sql_err("contract history", &label))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("contract history", &label))? {
            let quote = read_quote(row, 0, &label)?;
            out.push(ContractObservation {
                as_of: reader.datetime(row, 13, "as_of", key)?,
                underlying_price: reader.price(row, 14, "underlying_price", key)?,
                quote,
            });
        }
        Ok(out)
    }

    fn upsert_index_values(&mut self, symbol: &Underlying, values: &[IndexRecord]) -> Result<u64> {
        self.in_transaction("upsert index values", |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO index_values (symbol, date, open, high, low, close)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (symbol, date) DO UPDATE SET
                         open = excluded.open, high = excluded.high, low = excluded.low,
                         close = excluded.close
                     WHERE open IS NOT excluded.open OR high IS NOT excluded.high
                        OR low IS NOT excluded.low OR close IS NOT excluded.close",
                )
                .map_err(sql_err("upsert index values", symbol))?;
            let mut changed = 0;
            for v in values {
                let key = format!("{symbol} {}", v.date);
                changed +=
                    stmt.execute(params![
                        symbol.as_str(),
                        fmt_date(v.date),
                        not_nan(v.open, &key, "open")?,
                        not_nan(v.high, &key, "high")?,
                        not_nan(v.low, &key, "low")?,
                        not_nan(Some(v.close), &key, "close")?,
                    ])
                    .map_err(sql_err("upsert index values", &key))? as u64;
            }
            Ok(changed)
        })
    }

    fn index_values(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IndexRecord>> {
        let reader = Reader {
            table: "index_values",
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT date, open, high, low, close FROM index_values
                  WHERE symbol = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date",
            )
            .map_err(sql_err("load index values", symbol))?;
        let mut rows = stmt
            .query(params![symbol.as_str(), fmt_date(from), fmt_date(to)])
            .map_err(sql_err("load index values", symbol))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("load index values", symbol))? {
            let date = reader.date(row, 0, "date", symbol)?;
            let key = format!("{symbol} {date}");
            out.push(IndexRecord {
                date,
                open: reader.opt_real(row, 1, "open", &key)?,
                high: reader.opt_real(row, 2, "high", &key)?,
                low: reader.opt_real(row, 3, "low", &key)?,
                close: reader
                    .opt_real(row, 4, "close", &key)?
                    .ok_or_else(|| reader.corrupt("close", &key, "NULL", "a number"))?,
            });
        }
        Ok(out)
    }

    fn upsert_rates(
        &mut self,
        series: RateSeries,
        observations: &[RateObservation],
    ) -> Result<u64> {
        self.in_transaction("upsert rates", |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO rates (series, date, published_percent, continuous)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (series, date) DO UPDATE SET
                         published_percent = excluded.published_percent,
                         continuous = excluded.continuous
                     WHERE published_percent IS NOT excluded.published_percent
                        OR continuous IS NOT excluded.continuous",
                )
                .map_err(sql_err("upsert rates", series))?;
            let mut changed = 0;
            for o in observations {
                let key = format!("{series} {}", o.date);
                changed += stmt
                    .execute(params![
                        series.as_str(),
                        fmt_date(o.date),
                        not_nan(o.published_percent, &key, "published_percent")?,
                        not_nan(o.continuous, &key, "continuous")?,
                    ])
                    .map_err(sql_err("upsert rates", &key))? as u64;
            }
            Ok(changed)
        })
    }

    fn rates(
        &self,
        series: RateSeries,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RateObservation>> {
        let reader = Reader { table: "rates" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT date, published_percent, continuous FROM rates
                  WHERE series = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date",
            )
            .map_err(sql_err("load rates", series))?;
        let mut rows = stmt
            .query(params![series.as_str(), fmt_date(from), fmt_date(to)])
            .map_err(sql_err("load rates", series))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("load rates", series))? {
            let date = reader.date(row, 0, "date", &series)?;
            let key = format!("{series} {date}");
            out.push(RateObservation {
                date,
                published_percent: reader.opt_real(row, 1, "published_percent", &key)?,
                continuous: reader.opt_real(row, 2, "continuous", &key)?,
            });
        }
        Ok(out)
    }

    fn coverage(&self) -> Result<Vec<Coverage>> {
        let mut out = Vec::new();
        for (kind, table, sql) in [
            (
                DataKind::DailyBars,
                "bars",
                "SELECT symbol, MIN(date), MAX(date), COUNT(*) FROM bars
                  GROUP BY symbol ORDER BY symbol",
            ),
            (
                DataKind::Chains,
                "chain_snapshots",
                "SELECT underlying, substr(MIN(as_of), 1, 10), substr(MAX(as_of), 1, 10),
                        COUNT(*) FROM chain_snapshots GROUP BY underlying ORDER BY underlying",
            ),
            (
                DataKind::IndexValues,
                "index_values",
                "SELECT symbol, MIN(date), MAX(date), COUNT(*) FROM index_values
                  GROUP BY symbol ORDER BY symbol",
            ),
            (
                DataKind::Rates,
                "rates",
                "SELECT series, MIN(date), MAX(date), COUNT(*) FROM rates
                  GROUP BY series ORDER BY series",
            ),
        ] {
            let reader = Reader { table };
            let mut stmt = self
                .conn
                .prepare_cached(sql)
                .map_err(sql_err("coverage", table))?;
            let mut rows = stmt.query([]).map_err(sql_err("coverage", table))?;
            while let Some(row) = rows.next().map_err(sql_err("coverage", table))? {
                let symbol = reader.underlying(row, 0, "symbol", &table)?;
                out.push(Coverage {
                    kind,
                    first: reader.date(row, 1, "date", &symbol)?,
                    last: reader.date(row, 2, "date", &symbol)?,
                    rows: reader.count(row, 3, "count", &symbol)?,
                    symbol,
                });
            }
        }
        Ok(out)
    }
}

impl JournalStore for SqliteStore {
    fn upsert_run(&mut self, run: &RunRecord) -> Result<u64> {
        self.in_transaction("upsert run", |tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO runs (run_id, mode, started_at, label, config)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (run_id) DO UPDATE SET mode = excluded.mode,
                         started_at = excluded.started_at, label = excluded.label,
                         config = excluded.config
                     WHERE mode IS NOT excluded.mode OR started_at IS NOT excluded.started_at
                        OR label IS NOT excluded.label OR config IS NOT excluded.config",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        run.run_id,
                        run.mode,
                        fmt_datetime(run.started_at),
                        run.label,
                        run.config
                    ])
                })
                .map_err(sql_err("upsert run", &run.run_id))?;
            Ok(n as u64)
        })
    }

    fn runs(&self) -> Result<Vec<RunRecord>> {
        let reader = Reader { table: "runs" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT run_id, mode, started_at, label, config FROM runs
                  ORDER BY started_at, run_id",
            )
            .map_err(sql_err("list runs", "runs"))?;
        let mut rows = stmt.query([]).map_err(sql_err("list runs", "runs"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("list runs", "runs"))? {
            let run_id = reader.req_text(row, 0, "run_id", &"runs")?.to_owned();
            out.push(RunRecord {
                mode: reader.req_text(row, 1, "mode", &run_id)?.to_owned(),
                started_at: reader.datetime(row, 2, "started_at", &run_id)?,
                label: reader.req_text(row, 3, "label", &run_id)?.to_owned(),
                config: reader.req_text(row, 4, "config", &run_id)?.to_owned(),
                run_id,
            });
        }
        Ok(out)
    }

    fn upsert_signals(&mut self, signals: &[SignalRecord]) -> Result<u64> {
        self.in_transaction("upsert signals", |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO signals (run_id, at, underlying, strategy, name, value)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (run_id, at, underlying, strategy, name)
                     DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
                )
                .map_err(sql_err("upsert signals", "signals"))?;
            let mut changed = 0;
            for s in signals {
                let key = format!("{} {} {} {}", s.run_id, s.at, s.strategy, s.name);
                let value = not_nan(Some(s.value), &key, "value")?;
                changed += stmt
                    .execute(params![
                        s.run_id,
                        fmt_datetime(s.at),
                        s.underlying.as_str(),
                        s.strategy,
                        s.name,
                        value
                    ])
                    .map_err(sql_err("upsert signals", &key))? as u64;
            }
            Ok(changed)
        })
    }

    fn signals(&self, run_id: &str) -> Result<Vec<SignalRecord>> {
        let reader = Reader { table: "signals" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, underlying, strategy, name, value FROM signals WHERE run_id = ?1
                  ORDER BY at, underlying, strategy, name",
            )
            .map_err(sql_err("list signals", run_id))?;
        let mut rows = stmt
            .query([run_id])
            .map_err(sql_err("list signals", run_id))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("list signals", run_id))? {
            let key = &run_id;
            out.push(SignalRecord {
                run_id: run_id.to_owned(),
                at: reader.datetime(row, 0, "at", key)?,
                underlying: reader.underlying(row, 1, "underlying", key)?,
                strategy: reader.req_text(row, 2, "strategy", key)?.to_owned(),
                name: reader.req_text(row, 3, "name", key)?.to_owned(),
                value: reader
                    .opt_real(row, 4, "value", key)?
                    .ok_or_else(|| reader.corrupt("value", key, "NULL", "a number"))?,
            });
        }
        Ok(out)
    }

    fn upsert_orders(&mut self, orders: &[OrderRecord]) -> Result<u64> {
        self.in_transaction("upsert orders", |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO orders (order_id, run_id, created_at, instrument, side,
                         quantity, limit_price, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (order_id) DO UPDATE SET run_id = excluded.run_id,
                         created_at = excluded.created_at, instrument = excluded.instrument,
                         side = excluded.side, quantity = excluded.quantity,
                         limit_price = excluded.limit_price, status = excluded.status
                     WHERE run_id IS NOT excluded.run_id
                        OR created_at IS NOT excluded.created_at
                        OR instrument IS NOT excluded.instrument OR side IS NOT excluded.side
                        OR quantity IS NOT excluded.quantity
                        OR limit_price IS NOT excluded.limit_price
                        OR status IS NOT excluded.status",
                )
                .map_err(sql_err("upsert orders", "orders"))?;
            let mut changed = 0;
            for o in orders {
                let key = &o.order_id;
                changed += stmt
                    .execute(params![
                        o.order_id,
                        o.run_id,
                        fmt_datetime(o.created_at),
                        o.instrument,
                        side_text(o.side),
                        to_i64(o.quantity, key, "quantity")?,
                        opt_text(o.limit_price),
                        o.status,
                    ])
                    .map_err(sql_err("upsert orders", key))? as u64;
            }
            Ok(changed)
        })
    }

    fn orders(&self, run_id: &str) -> Result<Vec<OrderRecord>> {
        let reader = Reader { table: "orders" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT order_id, created_at, instrument, side, quantity, limit_price, status
                   FROM orders WHERE run_id = ?1 ORDER BY created_at, order_id",
            )
            .map_err(sql_err("list orders", run_id))?;
        let mut rows = stmt
            .query([run_id])
            .map_err(sql_err("list orders", run_id))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("list orders", run_id))? {
            let order_id = reader.req_text(row, 0, "order_id", &run_id)?.to_owned();
            let key = &order_id;
            let side = match reader.req_text(row, 3, "side", key)? {
                SIDE_BUY => Side::Buy,
                SIDE_SELL => Side::Sell,
                other => return Err(reader.corrupt("side", key, other, "`buy` or `sell`")),
            };
            out.push(OrderRecord {
                run_id: run_id.to_owned(),
                created_at: reader.datetime(row, 1, "created_at", key)?,
                instrument: reader.req_text(row, 2, "instrument", key)?.to_owned(),
                side,
                quantity: reader.count(row, 4, "quantity", key)?,
                limit_price: reader.opt_money(row, 5, "limit_price", key)?,
                status: reader.req_text(row, 6, "status", key)?.to_owned(),
                order_id,
            });
        }
        Ok(out)
    }

    fn record_fills(&mut self, fills: &[FillRecord]) -> Result<u64> {
        self.in_transaction("record fills", |tx| {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO fills (fill_id, order_id, at, quantity, price, fees)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (fill_id) DO NOTHING",
                )
                .map_err(sql_err("record fills", "fills"))?;
            // A fill already recorded must be this very fill: executions are facts, and a
            // second, different fill under the same id means the caller mixed up ids.
            let mut same = tx
                .prepare_cached(
                    "SELECT 1 FROM fills WHERE fill_id = ?1 AND order_id = ?2 AND at = ?3
                        AND quantity = ?4 AND price = ?5 AND fees = ?6",
                )
                .map_err(sql_err("record fills", "fills"))?;
            let mut changed = 0;
            for f in fills {
                let key = &f.fill_id;
                let values = params![
                    f.fill_id,
                    f.order_id,
                    fmt_datetime(f.at),
                    to_i64(f.quantity, key, "quantity")?,
                    f.price.to_string(),
                    f.fees.to_string(),
                ];
                let n = insert
                    .execute(values)
                    .map_err(sql_err("record fills", key))?;
                if n == 0 && !same.exists(values).map_err(sql_err("record fills", key))? {
                    return Err(DataError::StoreValue {
                        key: key.clone(),
                        field: "fill",
                        value: format!("{f:?}"),
                        requirement: "identical to the fill already recorded under this id",
                    });
                }
                changed += n as u64;
            }
            Ok(changed)
        })
    }

    fn fills(&self, run_id: &str) -> Result<Vec<FillRecord>> {
        let reader = Reader { table: "fills" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.fill_id, f.order_id, f.at, f.quantity, f.price, f.fees
                   FROM fills f JOIN orders o USING (order_id)
                  WHERE o.run_id = ?1 ORDER BY f.at, f.fill_id",
            )
            .map_err(sql_err("list fills", run_id))?;
        let mut rows = stmt
            .query([run_id])
            .map_err(sql_err("list fills", run_id))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("list fills", run_id))? {
            let fill_id = reader.req_text(row, 0, "fill_id", &run_id)?.to_owned();
            let key = &fill_id;
            out.push(FillRecord {
                order_id: reader.req_text(row, 1, "order_id", key)?.to_owned(),
                at: reader.datetime(row, 2, "at", key)?,
                quantity: reader.count(row, 3, "quantity", key)?,
                price: reader.money(row, 4, "price", key)?,
                fees: reader.money(row, 5, "fees", key)?,
                fill_id,
            });
        }
        Ok(out)
    }

    fn upsert_positions(&mut self, positions: &[PositionRecord]) -> Result<u64> {
        self.in_transaction("upsert positions", |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO positions (position_id, run_id, instrument, quantity,
                         average_price, realized_pnl, opened_at, closed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (position_id) DO UPDATE SET run_id = excluded.run_id,
                         instrument = excluded.instrument, quantity = excluded.quantity,
                         average_price = excluded.average_price,
                         realized_pnl = excluded.realized_pnl, opened_at = excluded.opened_at,
                         closed_at = excluded.closed_at
                     WHERE run_id IS NOT excluded.run_id
                        OR instrument IS NOT excluded.instrument
                        OR quantity IS NOT excluded.quantity
                        OR average_price IS NOT excluded.average_price
                        OR realized_pnl IS NOT excluded.realized_pnl
                        OR opened_at IS NOT excluded.opened_at
                        OR closed_at IS NOT excluded.closed_at",
                )
                .map_err(sql_err("upsert positions", "positions"))?;
            let mut changed = 0;
            for p in positions {
                changed += stmt
                    .execute(params![
                        p.position_id,
                        p.run_id,
                        p.instrument,
                        p.quantity,
                        p.average_price.to_string(),
                        p.realized_pnl.to_string(),
                        fmt_datetime(p.opened_at),
                        p.closed_at.map(fmt_datetime),
                    ])
                    .map_err(sql_err("upsert positions", &p.position_id))?
                    as u64;
            }
            Ok(changed)
        })
    }

    fn positions(&self, run_id: &str) -> Result<Vec<PositionRecord>> {
        let reader = Reader { table: "positions" };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT position_id, instrument, quantity, average_price, realized_pnl,
                        opened_at, closed_at
                   FROM positions WHERE run_id = ?1 ORDER BY opened_at, position_id",
            )
            .map_err(sql_err("list positions", run_id))?;
        let mut rows = stmt
            .query([run_id])
            .map_err(sql_err("list positions", run_id))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("list positions", run_id))? {
            let position_id = reader.req_text(row, 0, "position_id", &run_id)?.to_owned();
            let key = &position_id;
            out.push(PositionRecord {
                run_id: run_id.to_owned(),
                instrument: reader.req_text(row, 1, "instrument", key)?.to_owned(),
                quantity: reader.int(row, 2, "quantity", key)?,
                average_price: reader.money(row, 3, "average_price", key)?,
                realized_pnl: reader.money(row, 4, "realized_pnl", key)?,
                opened_at: reader.datetime(row, 5, "opened_at", key)?,
                closed_at: reader.opt_datetime(row, 6, "closed_at", key)?,
                position_id,
            });
        }
        Ok(out)
    }

    fn upsert_equity(&mut self, points: &[EquityPoint]) -> Result<u64> {
        self.in_transaction("upsert equity", |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO equity_curve (run_id, at, cash, equity) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (run_id, at) DO UPDATE SET cash = excluded.cash,
                         equity = excluded.equity
                     WHERE cash IS NOT excluded.cash OR equity IS NOT excluded.equity",
                )
                .map_err(sql_err("upsert equity", "equity_curve"))?;
            let mut changed = 0;
            for p in points {
                let key = format!("{} {}", p.run_id, p.at);
                changed += stmt
                    .execute(params![
                        p.run_id,
                        fmt_datetime(p.at),
                        p.cash.to_string(),
                        p.equity.to_string()
                    ])
                    .map_err(sql_err("upsert equity", &key))? as u64;
            }
            Ok(changed)
        })
    }

    fn equity_curve(&self, run_id: &str) -> Result<Vec<EquityPoint>> {
        let reader = Reader {
            table: "equity_curve",
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, cash, equity FROM equity_curve WHERE run_id = ?1 ORDER BY at",
            )
            .map_err(sql_err("equity curve", run_id))?;
        let mut rows = stmt
            .query([run_id])
            .map_err(sql_err("equity curve", run_id))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err("equity curve", run_id))? {
            let key = &run_id;
            out.push(EquityPoint {
                run_id: run_id.to_owned(),
                at: reader.datetime(row, 0, "at", key)?,
                cash: reader.money(row, 1, "cash", key)?,
                equity: reader.money(row, 2, "equity", key)?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_forms_agree_with_chrono() {
        for (y, m, d, h, mi, sec) in [
            (1990, 1, 2, 9, 30, 0),
            (2019, 12, 31, 23, 59, 59),
            (2024, 2, 29, 0, 0, 0),
            (99, 7, 4, 16, 15, 5),
        ] {
            let t = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, mi, sec)
                .unwrap();
            let text = fmt_datetime(t);
            assert_eq!(text, t.format(DATETIME_FORMAT).to_string());
            assert_eq!(fmt_date(t.date()), t.format(DATE_FORMAT).to_string());
            assert_eq!(parse_datetime(&text), Some(t));
            assert_eq!(parse_date(&text[..10]), Some(t.date()));
        }
        for bad in [
            "2019-13-01 00:00:00",
            "2019-02-30 00:00:00",
            "2019-01-01 24:00:00",
            "2019-01-01T00:00:00",
            "2019-01-0x 00:00:00",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2019-02-29"), None);
    }

    #[test]
    fn timestamps_sort_as_text_and_round_trip() {
        let d = NaiveDate::from_ymd_opt(2019, 4, 26).unwrap();
        let whole = d.and_hms_opt(16, 0, 0).unwrap();
        let frac = d.and_hms_milli_opt(16, 0, 0, 500).unwrap();
        let next = d.and_hms_opt(16, 0, 1).unwrap();
        let (a, b, c) = (fmt_datetime(whole), fmt_datetime(frac), fmt_datetime(next));
        assert_eq!(a, "2019-04-26 16:00:00");
        assert_eq!(b, "2019-04-26 16:00:00.500");
        assert!(a < b && b < c);
        assert!(fmt_date(d) < a && a < day_after(d));
        for (s, t) in [(a, whole), (b, frac), (c, next)] {
            assert_eq!(
                NaiveDateTime::parse_from_str(&s, DATETIME_FORMAT).unwrap(),
                t
            );
        }
    }

    #[test]
    fn occ_text_is_the_display_form() {
        for text in [
            "SPXW  190517C02900000",
            "SPY   250321P00450500",
            "A     160115C00040000",
            "SPXPM 110122P99999999",
            "QQQ   000101C00000001",
        ] {
            let key: ContractKey = text.parse().unwrap();
            assert_eq!(occ_text(&key), key.to_string());
            assert_eq!(occ_text(&key), text);
        }
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i64::try_from(i + 1).unwrap());
        }
        assert_eq!(MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
    }
}
