//! `volta-data backup`: copy the store with SQLite's online backup and check the copy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use volta_data::store::StoreLocation;

use crate::common::{open_sqlite, shown};

/// Arguments of `volta-data backup`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The backup file.
    dest: PathBuf,
}

pub(crate) fn run(store: &Path, args: &Args) -> Result<ExitCode> {
    let dest = &args.dest;
    let StoreLocation::Sqlite(path) = StoreLocation::from_path(store) else {
        bail!(
            "backup copies a SQLite file; {} is a PostgreSQL database: use the server's own \
             backups (pg_dump), or `volta-data copy-store --from <url> --to <file.db>`",
            shown(store)
        );
    };
    if !path.is_file() {
        bail!("no store at {} (run `volta-data init`)", path.display());
    }
    let report = open_sqlite(&path)?.backup_checked(dest)?;
    if !report.is_ok() {
        bail!(
            "the backup {} fails its integrity check: {report:?}",
            dest.display()
        );
    }
    println!(
        "backed up {} to {} (integrity ok)",
        path.display(),
        dest.display()
    );
    Ok(ExitCode::SUCCESS)
}
