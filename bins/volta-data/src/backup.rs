//! `volta-data backup`: copy the store with SQLite's online backup and check the copy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::common::existing_store;

/// Arguments of `volta-data backup`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The backup file.
    dest: PathBuf,
}

pub(crate) fn run(store: &Path, args: &Args) -> Result<ExitCode> {
    let dest = &args.dest;
    let report = existing_store(store)?.backup_checked(dest)?;
    if !report.is_ok() {
        bail!(
            "the backup {} fails its integrity check: {report:?}",
            dest.display()
        );
    }
    println!(
        "backed up {} to {} (integrity ok)",
        store.display(),
        dest.display()
    );
    Ok(ExitCode::SUCCESS)
}
