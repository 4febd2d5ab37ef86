//! `volta-data import`: files into the store, each file one transaction (a file that fails
//! leaves the store as it was; the others still go in); importing a file again changes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveTime;
use clap::Subcommand;
use volta_core::Underlying;
use volta_data::DataDir;
use volta_data::import::ChainRequest;
use volta_data::ingest::{
    BarsOptions, DataDirOptions, IngestSummary, Progress, SnapshotTime, ingest_bars, ingest_chains,
    ingest_data_dir, ingest_index, ingest_rates,
};
use volta_data::store::Store;

use crate::common::{file_name, finish, open_store, progress_bar, shown};

/// Arguments of `volta-data import`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Underlying daily bars (Alpha Vantage, Tiingo, Stooq, Yahoo CSV layouts).
    Bars {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File the bars under this symbol [default: the file's own, else its name up to `_`].
        #[arg(long)]
        symbol: Option<String>,
        /// Keep raw prices as read (by default QQQ's and IWM's raw files are split-adjusted).
        #[arg(long)]
        no_split_adjust: bool,
    },
    /// CBOE index histories: VIX, VIX3M, VIX9D, VVIX, SKEW.
    Vix {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File the values under this symbol [default: from the file].
        #[arg(long)]
        symbol: Option<String>,
    },
    /// FRED rate series (DTB3, DFF).
    Rates {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Option chains: the CSV layouts (plain or gzipped) or Volta's Parquet chains.
    Chains {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The underlying [default: the file name up to `_`].
        #[arg(long)]
        underlying: Option<String>,
        /// Stamp snapshots at this exchange time (HH:MM) [default: the format's own choice].
        #[arg(long)]
        at: Option<NaiveTime>,
    },
    /// Every known file of a data folder laid out as the shared one (see its README).
    Dir {
        /// The folder [default: ../shared/data beside the checkout].
        #[arg(env = "VOLTA_DATA_DIR")]
        dir: Option<PathBuf>,
    },
}

/// Imports each file in its own transaction, drawing progress; prints a line per file and a
/// total. Fails (after trying every file) if any file failed.
pub(crate) fn run(path: &Path, args: Args) -> Result<ExitCode> {
    let mut store = open_store(path)?;
    let (files, import_one): (&[PathBuf], Box<ImportOne>) = match args.what {
        What::Dir { dir } => {
            let data = dir.map_or_else(DataDir::beside_checkout, DataDir::new);
            return import_dir(store.as_mut(), &data);
        }
        What::Bars {
            ref files,
            ref symbol,
            no_split_adjust,
        } => {
            let options = BarsOptions {
                symbol: ticker(symbol.as_deref())?,
                format: None,
                adjust_splits: !no_split_adjust,
            };
            (files, Box::new(move |s, f| ingest_bars(s, f, &options)))
        }
        What::Vix {
            ref files,
            ref symbol,
        } => {
            let symbol = ticker(symbol.as_deref())?;
            (
                files,
                Box::new(move |s, f| ingest_index(s, f, symbol.as_ref())),
            )
        }
        What::Rates { ref files } => (files, Box::new(|s, f| ingest_rates(s, f, None))),
        What::Chains {
            ref files,
            ref underlying,
            at,
        } => {
            let request = ChainRequest {
                allowed: ticker(underlying.as_deref())?.into_iter().collect(),
                ..ChainRequest::default()
            };
            let time = at.map_or(SnapshotTime::FormatDefault, SnapshotTime::At);
            (
                files,
                Box::new(move |s, f| ingest_chains(s, f, &request, time)),
            )
        }
    };
    let bar = progress_bar(files.len() as u64, "files");
    let mut outcomes = Vec::with_capacity(files.len());
    for file in files {
        bar.set_message(file_name(file));
        let outcome = import_one(store.as_mut(), file);
        bar.inc(1);
        outcomes.push((file, outcome));
    }
    bar.finish_and_clear();
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    let mut changed = 0;
    for (file, outcome) in &outcomes {
        match outcome {
            Ok(summary) => {
                changed += summary.rows_changed;
                println!("ok   {summary}");
            }
            Err(e) => println!("FAIL {}: {e}", file.display()),
        }
    }
    println!(
        "{} of {} files imported, {changed} rows inserted or changed, into {}",
        outcomes.len() - failed,
        outcomes.len(),
        shown(path)
    );
    Ok(finish(failed))
}

/// How one file of the chosen kind is imported.
type ImportOne = dyn Fn(&mut dyn Store, &Path) -> volta_data::Result<IngestSummary>;

/// `--symbol` / `--underlying` as a ticker (upper-cased).
fn ticker(symbol: Option<&str>) -> Result<Option<Underlying>> {
    symbol
        .map(|s| Underlying::try_new(&s.to_ascii_uppercase()))
        .transpose()
        .context("--symbol / --underlying")
}

fn import_dir(store: &mut dyn Store, data: &DataDir) -> Result<ExitCode> {
    let bar = progress_bar(0, "files");
    let report = ingest_data_dir(store, data, &DataDirOptions::default(), &mut |p| match p {
        Progress::Started { total, file, .. } => {
            bar.set_length(total as u64);
            bar.set_message(file_name(file));
        }
        Progress::Finished { index, .. } => bar.set_position(index as u64 + 1),
    })
    .with_context(|| format!("importing the data folder {}", data.root().display()))?;
    bar.finish_and_clear();
    for summary in &report.imported {
        println!("ok   {summary}");
    }
    for (file, e) in &report.failed {
        println!("FAIL {}: {e}", file.display());
    }
    for (file, why) in &report.skipped {
        println!("skip {}: {why}", file.display());
    }
    println!(
        "{} files imported ({} rows inserted or changed), {} failed, {} skipped, from {}",
        report.imported.len(),
        report.imported.iter().map(|s| s.rows_changed).sum::<u64>(),
        report.failed.len(),
        report.skipped.len(),
        data.root().display()
    );
    Ok(finish(report.failed.len()))
}
