//! `volta-train features`: panel from the data folder → every feature → Parquet.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use volta_data::DataDir;
use volta_data::import::import_index;
use volta_data::synthetic::SyntheticConfig;
use volta_features::FeatureMatrix;
use volta_features::chain_metrics::ChainSummary;
use volta_features::library::{Family, compute_with, registry};
use volta_features::matrix::META_PROVENANCE;
use volta_features::panel::{LoadOptions, Provenance, load_bars, load_from_dir};
use volta_features::synthetic_chains::synthetic_summaries;

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
    bar.set_message(format!("loading {symbol} from {}", data.root().display()));
    let panel = load_from_dir(&data, &symbol, args.end, &LoadOptions::full(&symbol))
        .with_context(|| format!("loading the {symbol} panel from {}", data.root().display()))?;
    bar.inc(1);
    let panel = match args.chains {
        Chains::Synthetic => {
            let from = args.start - chrono::Days::new(CHAIN_WARM_UP_DAYS);
            let summaries = synthetic_chain_summaries(&data, &symbol, from, args.end, &bar)?;
            panel
                .with_chains(&summaries, Provenance::Synthetic)
                .context("joining the synthetic chain summaries")?
        }
        Chains::None => panel,
    };
    let mut counts: BTreeMap<Family, usize> = BTreeMap::new();
    let matrix = compute_with(&panel, &mut |family, n| {
        counts.insert(family, n);
        bar.set_message(format!("{} ({n} features)", family.name()));
        bar.inc(1);
    })
    .context("computing the features")?
    .slice(args.start, args.end);
    if matrix.dates().is_empty() {
        bail!(
            "no {symbol} sessions between {} and {} (the bars run {} … {})",
            args.start,
            args.end,
            panel
                .dates()
                .first()
                .map_or_else(String::new, ToString::to_string),
            panel
                .dates()
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
    print_summary(&symbol, &matrix, &counts, panel.missing_sessions().len());
    println!("wrote {}", out.display());
    Ok(())
}

/// Calendar days of synthetic chains before `--start`: the longest lookback of a chain-based
/// feature is 252 sessions (IV rank), which 400 calendar days cover.
const CHAIN_WARM_UP_DAYS: u64 = 400;

/// The synthetic market on the real bars and VIX closes, one chain summary per session from
/// `from` to `end`.
fn synthetic_chain_summaries(
    data: &DataDir,
    symbol: &str,
    from: NaiveDate,
    end: NaiveDate,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<ChainSummary>> {
    let (bars, _) = load_bars(data, symbol, end)?;
    let bars: Vec<_> = bars.into_iter().filter(|b| b.date >= from).collect();
    let vix_file = data.vix();
    let vix: Vec<(NaiveDate, f64)> = import_index(&vix_file, None)
        .with_context(|| format!("reading {}", vix_file.display()))?
        .records
        .iter()
        .map(|r| (r.date, r.close))
        .collect();
    let done = AtomicUsize::new(0);
    let total = bars.len();
    let config = SyntheticConfig {
        symbol: symbol.to_owned(),
        ..SyntheticConfig::default()
    };
    let summaries = synthetic_summaries(&config, &bars, &vix, &|| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(50) || n == total {
            bar.set_message(format!("synthetic chains {n}/{total}"));
        }
    })
    .context("summarising the synthetic chains")?;
    bar.suspend(|| {
        println!(
            "option features: {} synthetic chain summaries ({} … {}), provenance \"synthetic\"",
            summaries.len(),
            summaries
                .first()
                .map_or_else(String::new, |s| s.date.to_string()),
            summaries
                .last()
                .map_or_else(String::new, |s| s.date.to_string()),
        );
    });
    Ok(summaries)
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
