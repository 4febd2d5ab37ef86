//! What several subcommands share: opening the store, progress bars, the exit code.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use volta_data::store::{SqliteStore, Store, StoreLocation};

/// The store as messages show it: the SQLite path, or the URL with its password as `***`.
pub(crate) fn shown(location: &Path) -> String {
    StoreLocation::from_path(location).to_string()
}

/// Opens (creating and migrating) the store — a SQLite file, whose folder is made first, or a
/// PostgreSQL database for a `postgres://` URL.
pub(crate) fn open_store(location: &Path) -> Result<Box<dyn Store>> {
    match StoreLocation::from_path(location) {
        StoreLocation::Sqlite(path) => Ok(Box::new(open_sqlite(&path)?)),
        pg @ StoreLocation::Postgres(_) => {
            volta_data::store::open_at(&pg).with_context(|| format!("cannot open the store {pg}"))
        }
    }
}

/// Opens (creating and migrating) a SQLite store, making its folder first.
pub(crate) fn open_sqlite(path: &Path) -> Result<SqliteStore> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the store's folder {}", dir.display()))?;
    }
    SqliteStore::open(path).with_context(|| format!("cannot open the store {}", path.display()))
}

/// Opens a store that must already exist (commands that read it). A PostgreSQL database is
/// created by its administrator; opening it migrates it.
pub(crate) fn existing_store(location: &Path) -> Result<Box<dyn Store>> {
    if !StoreLocation::from_path(location).is_postgres() && !location.is_file() {
        bail!(
            "no store at {} (run `volta-data init`, or set --store / VOLTA_STORE)",
            location.display()
        );
    }
    open_store(location)
}

pub(crate) fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// The file's name alone, for a progress bar's message.
pub(crate) fn file_name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Success, or failure after saying how many things failed.
pub(crate) fn finish(failures: usize) -> ExitCode {
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{failures} failed");
        ExitCode::FAILURE
    }
}
