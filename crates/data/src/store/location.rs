//! Where a store lives, and opening it: a `postgres://` (or `postgresql://`) URL names a
//! PostgreSQL database, anything else a SQLite file. The binaries' `--store` / `VOLTA_STORE` and
//! `--journal` go through [`open`].
//!
//! A URL's password is a secret: [`StoreLocation`]'s `Display` and `Debug`, and every error,
//! show it as `***` ([`redact_url`]). The password comes from the URL or, when the URL has
//! none, from `PGPASSWORD`; nothing else is read for it.
//!
//! ```
//! use volta_data::store::{StoreLocation, redact_url};
//!
//! let pg = StoreLocation::parse("postgres://volta:s3cret@db.example:5432/volta");
//! assert!(pg.is_postgres());
//! assert_eq!(pg.to_string(), "postgres://volta:***@db.example:5432/volta");
//! assert_eq!(redact_url("postgresql://h/db?password=x&sslmode=disable"),
//!            "postgresql://h/db?password=***&sslmode=disable");
//! assert!(!StoreLocation::parse("var/volta.db").is_postgres());
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::{ChainSnapshot, ContractKey, DailyBar, Underlying};

use super::{
    ContractObservation, Coverage, EquityPoint, FillRecord, JournalStore, MarketStore,
    ModelRegistry, OrderRecord, PositionRecord, RunRecord, SignalRecord, SqliteStore,
};
#[cfg(not(feature = "postgres"))]
use crate::DataError;
use crate::Result;
use crate::import::{IndexRecord, RateObservation, RateSeries};

/// The URL schemes that name a PostgreSQL database (as libpq spells them).
const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// Where a store lives: a SQLite file or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file (created on first open).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its libpq-style URL (kept whole, shown redacted).
    Postgres(String),
}

impl StoreLocation {
    /// The location `text` names: a URL starting `postgres://` or `postgresql://` (any case)
    /// is PostgreSQL; anything else is a SQLite path.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        if is_postgres_url(text) {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(text))
        }
    }

    /// As [`StoreLocation::parse`], for a value that arrived as a path (a `--store` flag typed
    /// as `PathBuf`).
    #[must_use]
    pub fn from_path(path: &Path) -> Self {
        match path.to_str() {
            Some(text) if is_postgres_url(text) => Self::Postgres(text.to_owned()),
            _ => Self::Sqlite(path.to_path_buf()),
        }
    }

    /// Whether this is a PostgreSQL database.
    #[must_use]
    pub const fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

impl fmt::Display for StoreLocation {
    /// The path, or the URL with its password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

impl fmt::Debug for StoreLocation {
    /// As `Display`: never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
        }
    }
}

/// Whether `text` is a PostgreSQL URL (`postgres://` or `postgresql://`, any case).
#[must_use]
pub fn is_postgres_url(text: &str) -> bool {
    POSTGRES_SCHEMES.iter().any(|scheme| {
        text.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

/// `url` with its password (in the user info, or a `password=` query parameter) replaced by
/// `***`; the rest as given. Anything that is not a URL is returned unchanged.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..scheme_end]);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let tail = &rest[authority_end..];
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..=q]);
            let params: Vec<String> = tail[q + 1..]
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(tail),
    }
    out
}

/// A whole store: market data and the journal behind one connection, whichever the database.
/// What [`open`] returns.
pub trait Store: MarketStore + JournalStore + ModelRegistry + Send + fmt::Debug {
    /// Where the store lives, for messages: the SQLite path or the redacted URL.
    fn location(&self) -> String;

    /// The schema version recorded in the database (the last migration applied).
    ///
    /// # Errors
    /// [`DataError::Store`](crate::DataError::Store) (or `Postgres`) on a database failure.
    fn schema_version(&self) -> Result<i64>;
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.path().display().to_string()
    }

    fn schema_version(&self) -> Result<i64> {
        Self::schema_version(self)
    }
}

/// Opens (creating and migrating as needed) the store `location` names: a SQLite file, or a
/// PostgreSQL database for a `postgres://` / `postgresql://` URL.
///
/// # Errors
/// As [`SqliteStore::open`] or `PgStore::connect`;
/// [`DataError::StoreUnsupported`](crate::DataError::StoreUnsupported) for a URL in a build
/// without the `postgres` feature.
pub fn open(location: &str) -> Result<Box<dyn Store>> {
    open_at(&StoreLocation::parse(location))
}

/// As [`open`], for a parsed location.
///
/// # Errors
/// As [`open`].
pub fn open_at(location: &StoreLocation) -> Result<Box<dyn Store>> {
    match location {
        StoreLocation::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
        #[cfg(feature = "postgres")]
        StoreLocation::Postgres(url) => Ok(Box::new(super::PgStore::connect(url)?)),
        #[cfg(not(feature = "postgres"))]
        StoreLocation::Postgres(url) => Err(DataError::StoreUnsupported {
            location: redact_url(url),
            reason: "this build of volta-data has no PostgreSQL support (cargo feature \
                     `postgres` off)"
                .to_owned(),
        }),
    }
}

/// As [`open`], for a location that arrived as a path (see [`StoreLocation::from_path`]).
///
/// # Errors
/// As [`open`].
pub fn open_path(location: &Path) -> Result<Box<dyn Store>> {
    open_at(&StoreLocation::from_path(location))
}

// A boxed store is a store: the layers above hold `Box<dyn Store>` where they held a
// `SqliteStore` (the engine's journal, a `StoreSource`).
impl<T: MarketStore + ?Sized> MarketStore for Box<T> {
    fn upsert_daily_bars(&mut self, symbol: &Underlying, bars: &[DailyBar]) -> Result<u64> {
        (**self).upsert_daily_bars(symbol, bars)
    }
    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        (**self).daily_bars(symbol, from, to)
    }
    fn upsert_chains(&mut self, chains: &[ChainSnapshot]) -> Result<u64> {
        (**self).upsert_chains(chains)
    }
    fn chain_at(&self, symbol: &Underlying, as_of: NaiveDateTime) -> Result<Option<ChainSnapshot>> {
        (**self).chain_at(symbol, as_of)
    }
    fn chain_on(&self, symbol: &Underlying, date: NaiveDate) -> Result<Option<ChainSnapshot>> {
        (**self).chain_on(symbol, date)
    }
    fn snapshot_times(&self, symbol: &Underlying, date: NaiveDate) -> Result<Vec<NaiveDateTime>> {
        (**self).snapshot_times(symbol, date)
    }
    fn contract_history(
        &self,
        key: &ContractKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ContractObservation>> {
        (**self).contract_history(key, from, to)
    }
    fn upsert_index_values(&mut self, symbol: &Underlying, values: &[IndexRecord]) -> Result<u64> {
        (**self).upsert_index_values(symbol, values)
    }
    fn index_values(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IndexRecord>> {
        (**self).index_values(symbol, from, to)
    }
    fn upsert_rates(
        &mut self,
        series: RateSeries,
        observations: &[RateObservation],
    ) -> Result<u64> {
        (**self).upsert_rates(series, observations)
    }
    fn rates(
        &self,
        series: RateSeries,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RateObservation>> {
        (**self).rates(series, from, to)
    }
    fn coverage(&self) -> Result<Vec<Coverage>> {
        (**self).coverage()
    }
}

impl<T: JournalStore + ?Sized> JournalStore for Box<T> {
    fn upsert_run(&mut self, run: &RunRecord) -> Result<u64> {
        (**self).upsert_run(run)
    }
    fn runs(&self) -> Result<Vec<RunRecord>> {
        (**self).runs()
    }
    fn upsert_signals(&mut self, signals: &[SignalRecord]) -> Result<u64> {
        (**self).upsert_signals(signals)
    }
    fn signals(&self, run_id: &str) -> Result<Vec<SignalRecord>> {
        (**self).signals(run_id)
    }
    fn upsert_orders(&mut self, orders: &[OrderRecord]) -> Result<u64> {
        (**self).upsert_orders(orders)
    }
    fn orders(&self, run_id: &str) -> Result<Vec<OrderRecord>> {
        (**self).orders(run_id)
    }
    fn record_fills(&mut self, fills: &[FillRecord]) -> Result<u64> {
        (**self).record_fills(fills)
    }
    fn fills(&self, run_id: &str) -> Result<Vec<FillRecord>> {
        (**self).fills(run_id)
    }
    fn upsert_positions(&mut self, positions: &[PositionRecord]) -> Result<u64> {
        (**self).upsert_positions(positions)
    }
    fn positions(&self, run_id: &str) -> Result<Vec<PositionRecord>> {
        (**self).positions(run_id)
    }
    fn upsert_equity(&mut self, points: &[EquityPoint]) -> Result<u64> {
        (**self).upsert_equity(points)
    }
    fn equity_curve(&self, run_id: &str) -> Result<Vec<EquityPoint>> {
        (**self).equity_curve(run_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_paths_sqlite() {
        for url in [
            "postgres://h/db",
            "postgresql://u@h:5433/db",
            "POSTGRES://h/db",
        ] {
            assert!(StoreLocation::parse(url).is_postgres(), "{url}");
            assert!(
                StoreLocation::from_path(Path::new(url)).is_postgres(),
                "{url}"
            );
        }
        for path in [
            "var/volta.db",
            "postgres.db",
            "/tmp/postgres:/x",
            "",
            "postgres:/h",
        ] {
            assert_eq!(
                StoreLocation::parse(path),
                StoreLocation::Sqlite(PathBuf::from(path))
            );
        }
    }

    #[test]
    fn passwords_never_show() {
        let cases = [
            ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u:p%40w@h:1/db?x=1",
                "postgres://u:***@h:1/db?x=1",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?password=pw",
                "postgres://h/db?password=***",
            ),
            (
                "postgresql://h?user=u&PASSWORD=pw&sslmode=disable",
                "postgresql://h?user=u&PASSWORD=***&sslmode=disable",
            ),
            ("var/volta.db", "var/volta.db"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown);
            let loc = StoreLocation::parse(url);
            assert!(!loc.to_string().contains("pw"), "{loc}");
            assert!(!format!("{loc:?}").contains("pw"), "{loc:?}");
        }
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_url_without_the_feature_is_refused_clearly() {
        let err = open("postgres://u:secret@h/db").unwrap_err();
        assert!(matches!(err, DataError::StoreUnsupported { .. }));
        assert!(!err.to_string().contains("secret"));
    }
}
