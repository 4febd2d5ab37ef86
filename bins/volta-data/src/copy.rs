//! `volta-data copy-store`: everything from one store into another, empty one, verified.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use volta_data::store::copy::copy_store;

use crate::common::{existing_store, open_store, progress_bar, shown};

/// Arguments of `volta-data copy-store`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The store to copy: a SQLite file or a `postgres://` URL.
    #[arg(long)]
    from: PathBuf,
    /// The store to fill: a SQLite file (created) or a `postgres://` URL; it must be empty.
    #[arg(long)]
    to: PathBuf,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let (from_shown, to_shown) = (shown(&args.from), shown(&args.to));
    let from = existing_store(&args.from)?;
    let mut to = open_store(&args.to)?;
    let bar = progress_bar(0, "pieces");
    let mut pieces = 0;
    let report = copy_store(from.as_ref(), to.as_mut(), &mut |piece, _| {
        pieces += 1;
        bar.set_position(pieces);
        bar.set_message(piece.to_owned());
    })
    .with_context(|| format!("copying {from_shown} to {to_shown}"))?;
    bar.finish_and_clear();
    println!("copied {from_shown} to {to_shown}, verified (rows and checksums equal):");
    print!("{}", report.digest);
    Ok(ExitCode::SUCCESS)
}
