//! `volta-train features`: panel from a store or the data folder → every feature → Parquet.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use volta_data::DataDir;
use volta_data::store::StoreLocation;
use volta_features::FeatureMatrix;
use volta_features::decision::{DailyOrigin, DailySource, Step, chains_from, daily_matrix};
use volta_features::library::{Family, registry};
use volta_features::matrix::META_PROVENANCE;

/// Where the options family's chain summaries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Chains {
    /// Summaries of the synthetic market's chains (no real chain history exists for SPY).
    Synthetic,
    /// No chains: the chain-based option features are NaN (provenance `none`).
    None,
}

/// Arguments of `volta-train features`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The underlying: SPY, QQQ or IWM.
    #[arg(long)]
    symbol: String,
    /// First date of the matrix (YYYY-MM-DD); earlier history is read for the warm-up.
    #[arg(long)]
    start: NaiveDate,
    /// Last date of the matrix (YYYY-MM-DD).
    #[arg(long)]
    end: NaiveDate,
    /// The market-data folder (see its README.md) [default: ../shared/data beside the checkout].
    #[arg(long, env = "VOLTA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Read the inputs from this market store (SQLite file or postgres:// URL, e.g. one built
    /// by `volta-data import-dir`) instead of the data folder's files.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Output file (default: `features_<SYMBOL>_<START>_<END>.parquet`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Option-chain summaries for the options family.
    #[arg(long, value_enum, default_value_t = Chains::Synthetic)]
    chains: Chains,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.start > args.end {
        bail!("--start {} is after --end {}", args.start, args.end);
    }
    let symbol = args.symbol.to_uppercase();
    let data = args
        .data_dir
        .clone()
        .map_or_else(DataDir::beside_checkout, DataDir::new);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "features_{symbol}_{}_{}.parquet",
            args.start, args.end
        ))
    });
    let families = Family::ALL.len() as u64;
    let bar = ProgressBar::new(families + 2);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let origin = args.store.as_deref().map_or_else(
        || data.root().display().to_string(),
        |store| StoreLocation::from_path(store).to_string(),
    );
    bar.set_message(format!("loading {symbol} from {origin}"));
    // The one feature path: the function training and (later) the live trader read features
    // through (`volta_features::decision`).
    let source = DailySource {
        origin: args.store.as_deref().map_or_else(
            || DailyOrigin::Folder(data.clone()),
            |store| DailyOrigin::Store(StoreLocation::from_path(store)),
        ),
        symbol: symbol.clone(),
        chains_from: match args.chains {
            Chains::Synthetic => Some(chains_from(args.start)),
            Chains::None => None,
        },
    };
    let counts: Mutex<BTreeMap<Family, usize>> = Mutex::new(BTreeMap::new());
    let full = daily_matrix(&source, args.end, &|step| match step {
        Step::Loaded => bar.inc(1),
        Step::Chains { done, total } => {
            if done.is_multiple_of(50) || done == total {
                bar.set_message(format!("synthetic chains {done}/{total}"));
            }
        }
        Step::Family(family, n) => {
            counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(family, n);
            bar.set_message(format!("{} ({n} features)", family.name()));
            bar.inc(1);
        }
    })
    .with_context(|| format!("computing the {symbol} features from {origin}"))?;
    let counts = counts
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if args.chains == Chains::Synthetic {
        bar.suspend(|| {
            println!(
                "option features: synthetic chain summaries from {}, provenance \"synthetic\"",
                chains_from(args.start)
            );
        });
    }
    let missing = full
        .metadata()
        .get(volta_features::matrix::META_MISSING_SESSIONS)
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(0);
    let all_dates = full.dates().to_vec();
    let matrix = full.slice(args.start, args.end);
    if matrix.dates().is_empty() {
        bail!(
            "no {symbol} sessions between {} and {} (the bars run {} … {})",
            args.start,
            args.end,
            all_dates
                .first()
                .map_or_else(String::new, ToString::to_string),
            all_dates
                .last()
                .map_or_else(String::new, ToString::to_string),
        );
    }
    bar.set_message(format!("writing {}", out.display()));
    matrix
        .write_parquet(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    bar.inc(1);
    bar.finish_with_message("done");
    print_summary(&symbol, &matrix, &counts, missing);
    println!("wrote {}", out.display());
    Ok(())
}

/// Rows, features and NaN share per family, and where each family's inputs came from.
fn print_summary(
    symbol: &str,
    matrix: &FeatureMatrix,
    counts: &BTreeMap<Family, usize>,
    missing_sessions: usize,
) {
    let specs = registry();
    println!(
        "{symbol}: {} rows ({} … {}), {} features, NaN share {:.1} %",
        matrix.dates().len(),
        matrix.dates()[0],
        matrix.dates()[matrix.dates().len() - 1],
        matrix.names().len(),
        100.0 * matrix.nan_share()
    );
    println!("{:<22} {:>8} {:>8}  sources", "family", "features", "NaN %");
    for family in Family::ALL {
        let names: Vec<&str> = specs
            .iter()
            .filter(|s| s.family == family)
            .map(|s| s.name.as_str())
            .collect();
        let (mut nan, mut cells) = (0_usize, 0_usize);
        for n in &names {
            if let Some(c) = matrix.column(n) {
                nan += c.iter().filter(|x| x.is_nan()).count();
                cells += c.len();
            }
        }
        println!(
            "{:<22} {:>8} {:>8.1}  {}",
            family.name(),
            counts.get(&family).copied().unwrap_or(names.len()),
            100.0 * nan as f64 / cells.max(1) as f64,
            matrix.metadata()[&format!("{META_PROVENANCE}{}", family.name())]
        );
    }
    if missing_sessions > 0 {
        println!("sessions without a bar (NaN rows): {missing_sessions}");
    }
    println!(
        "feature set {}",
        matrix.metadata()["volta.feature_set_version"]
    );
}
