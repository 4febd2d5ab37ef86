//! Checks of a store as a whole: is its schema current, is the file sound, does it hold data,
//! and is a backup of it a sound copy. `volta-data validate` and `volta-data backup` print
//! what these return.
//!
//! ```
//! use volta_data::store::SqliteStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("volta.db"))?;
//! let health = store.health()?;
//! assert!(health.schema_is_current() && health.integrity.is_ok());
//! assert!(!health.holds_data()); // a new store is empty
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::Path;

use super::{Coverage, IntegrityReport, MarketStore, SCHEMA_VERSION, SqliteStore};
use crate::Result;

/// What [`SqliteStore::health`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreHealth {
    /// The schema version recorded in the file.
    pub schema_version: i64,
    /// The file's structure and references ([`SqliteStore::integrity_check`]).
    pub integrity: IntegrityReport,
    /// What the store holds ([`MarketStore::coverage`]).
    pub coverage: Vec<Coverage>,
}

impl StoreHealth {
    /// Whether the file is at the schema this build writes ([`SCHEMA_VERSION`]).
    #[must_use]
    pub fn schema_is_current(&self) -> bool {
        self.schema_version == SCHEMA_VERSION
    }

    /// Whether the store holds any market data at all.
    #[must_use]
    pub fn holds_data(&self) -> bool {
        !self.coverage.is_empty()
    }

    /// Whether the store is ready for use: current schema, sound file, some data.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.schema_is_current() && self.integrity.is_ok() && self.holds_data()
    }
}

impl fmt::Display for Coverage {
    /// `DailyBars SPY: 2023-01-09..2023-01-20 (9 rows)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {}: {}..{} ({} rows)",
            self.kind, self.symbol, self.first, self.last, self.rows
        )
    }
}

impl SqliteStore {
    /// Checks the store: its schema version, its integrity ([`SqliteStore::integrity_check`])
    /// and its coverage.
    ///
    /// # Errors
    /// [`DataError::Store`](crate::DataError::Store) if a check cannot run (I/O, locking),
    /// [`DataError::StoreCorrupt`](crate::DataError::StoreCorrupt) for a coverage row that
    /// does not parse.
    pub fn health(&self) -> Result<StoreHealth> {
        Ok(StoreHealth {
            schema_version: self.schema_version()?,
            integrity: self.integrity_check()?,
            coverage: self.coverage()?,
        })
    }

    /// Backs the store up to `target` ([`SqliteStore::backup_to`]), then opens the copy and
    /// checks it: returns the copy's integrity report (a sound copy has
    /// [`IntegrityReport::is_ok`]).
    ///
    /// # Errors
    /// As [`SqliteStore::backup_to`] (an existing `target` is never overwritten), then as
    /// [`SqliteStore::open`] and [`SqliteStore::integrity_check`] on the copy.
    pub fn backup_checked(&self, target: impl AsRef<Path>) -> Result<IntegrityReport> {
        let target = target.as_ref();
        self.backup_to(target)?;
        Self::open(target)?.integrity_check()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use volta_core::{DailyBar, Underlying};

    use super::*;
    use crate::DataError;
    use crate::store::DataKind;

    fn bar(day: u32) -> DailyBar {
        let date = NaiveDate::from_ymd_opt(2023, 1, day).unwrap();
        let p = |s: &str| s.parse().unwrap();
        DailyBar::try_new(date, p("100"), p("101"), p("99"), p("100.5"), 1_000).unwrap()
    }

    #[test]
    fn a_new_store_is_sound_but_empty_and_data_makes_it_ready() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        let empty = store.health().unwrap();
        assert!(empty.schema_is_current());
        assert!(empty.integrity.is_ok());
        assert!(!empty.holds_data());
        assert!(!empty.is_ok());

        let spy = Underlying::try_new("SPY").unwrap();
        store.upsert_daily_bars(&spy, &[bar(9), bar(10)]).unwrap();
        let health = store.health().unwrap();
        assert!(health.is_ok(), "{health:?}");
        assert_eq!(health.coverage.len(), 1);
        assert_eq!(health.coverage[0].kind, DataKind::DailyBars);
        assert_eq!(
            health.coverage[0].to_string(),
            "DailyBars SPY: 2023-01-09..2023-01-10 (2 rows)"
        );
    }

    #[test]
    fn an_old_schema_is_not_current() {
        let health = StoreHealth {
            schema_version: SCHEMA_VERSION - 1,
            integrity: IntegrityReport::default(),
            coverage: Vec::new(),
        };
        assert!(!health.schema_is_current());
    }

    #[test]
    fn a_checked_backup_is_a_sound_copy_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        let spy = Underlying::try_new("SPY").unwrap();
        store.upsert_daily_bars(&spy, &[bar(9)]).unwrap();
        let copy = dir.path().join("copy.db");
        assert!(store.backup_checked(&copy).unwrap().is_ok());
        let reopened = SqliteStore::open(&copy).unwrap();
        assert_eq!(
            reopened.health().unwrap().coverage,
            store.coverage().unwrap()
        );
        assert!(matches!(
            store.backup_checked(&copy),
            Err(DataError::StoreBackupTargetExists { .. })
        ));
    }
}
