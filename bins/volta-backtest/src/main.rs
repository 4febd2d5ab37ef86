//! `volta-backtest`: runs a backtest and writes its report (HTML with charts, JSON summary,
//! trade list) and its journal (a SQLite file).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use volta_engine::report::write_report;
use volta_engine::{Backtest, BacktestConfig, DataChoice};

#[derive(Debug, Parser)]
#[command(
    name = "volta-backtest",
    version,
    about = "Backtest Volta's strategies and write a report (report.html, summary.json, trades.csv)"
)]
struct Cli {
    /// First session (YYYY-MM-DD). Default: the synthetic market's ten years, 2014-2023.
    #[arg(long, default_value = "2014-01-02")]
    start: NaiveDate,
    /// Last session (YYYY-MM-DD).
    #[arg(long, default_value = "2023-12-29")]
    end: NaiveDate,
    /// A TOML configuration (strategies, regime table, risk, underlyings, seed); defaults
    /// otherwise.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Market data: `synthetic` (no network, no files) or `store` (the store built from the
    /// data folder by `volta-data import dir`).
    #[arg(long, default_value = "synthetic", value_parser = DataChoice::FLAG_VALUES)]
    data: String,
    /// The store for `--data store`.
    #[arg(long, env = "VOLTA_STORE", default_value = "var/volta.db")]
    store: PathBuf,
    /// Overrides the configuration's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Overrides the configuration's underlyings (comma-separated).
    #[arg(long, value_delimiter = ',')]
    underlyings: Option<Vec<String>>,
    /// Where the report goes.
    #[arg(long, default_value = "reports/backtest")]
    out: PathBuf,
    /// The journal (SQLite) the run's orders, fills, positions and equity are written to;
    /// default `<out>/journal.sqlite` (replaced), or the store itself with `--data store`.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Print `{"summary": …, "equity": […], "risk_free": […]}` (the summary.json object, the
    /// daily equity points, and the return idle cash earned from each close to the next, which
    /// Sharpe and Sortino are measured over; empty when it earned nothing) on stdout as one JSON document instead of the human-readable lines — for
    /// programs that run many backtests (`tools/sweep`). The report files are still written.
    #[arg(long)]
    json: bool,
    /// Filter the adaptive strategy's openings by a registered model: `promoted`, or a model's
    /// id (`volta-train list`); needs `--data store` (its registry is the store).
    #[arg(long)]
    model: Option<String>,
    /// The models folder the registry's paths are relative to.
    #[arg(long, env = "VOLTA_MODELS", default_value = "models")]
    models_dir: PathBuf,
    /// With --model: openings the model gives a lower probability are not taken.
    #[arg(long, default_value_t = 0.5)]
    min_score: f64,
}

/// The configuration a run without `--config` uses.
const EMBEDDED_DEFAULT: &str = include_str!("../default.toml");

fn run(cli: &Cli) -> anyhow::Result<()> {
    let (mut config, config_text) = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let config = BacktestConfig::from_toml(&text, &path.display().to_string())?;
            (config, Some(text))
        }
        // The embedded default (`just backtest`): what the walk-forward selection on the real
        // SPY history supports, on the synthetic market at its most faithful (default.toml,
        // docs/backtest.md). The library's defaults keep the figures pinned on them.
        None => (
            BacktestConfig::from_toml(EMBEDDED_DEFAULT, "the embedded default")?,
            Some(EMBEDDED_DEFAULT.to_owned()),
        ),
    };
    if let Some(seed) = cli.seed {
        config.seed = seed;
    }
    if let Some(u) = cli.underlyings.clone() {
        config.underlyings = u;
    }
    config.validate()?;
    let data = DataChoice::from_flag(&cli.data, &cli.store)?;
    let synthetic = data == DataChoice::Synthetic;
    let default_journal = if synthetic {
        cli.out.join("journal.sqlite")
    } else {
        cli.store.clone()
    };
    std::fs::create_dir_all(&cli.out).with_context(|| format!("creating {}", cli.out.display()))?;
    let journal = cli.journal.clone().unwrap_or_else(|| {
        if synthetic {
            // A fresh journal per synthetic run: the report and its journal belong together.
            let _ = std::fs::remove_file(&default_journal);
        }
        default_journal
    });
    let backtest = Backtest {
        config,
        config_text,
        start: cli.start,
        end: cli.end,
        data,
        journal: journal.clone(),
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} sessions ({eta})")
            .context("progress style")?
            .progress_chars("=> "),
    );
    bar.set_message("preparing market data");
    let scorer = match &cli.model {
        Some(which) => Some(model_scorer(cli, &backtest, which)?),
        None => None,
    };
    let mut progress = |done: usize, total: usize| {
        if done == 1 {
            bar.set_length(total as u64);
            bar.set_message("backtesting");
        }
        bar.set_position(done as u64);
    };
    let result = match &scorer {
        Some(scorer) => {
            backtest.run_scored(Box::new(scorer.clone()), cli.min_score, &mut progress)?
        }
        None => backtest.run(&mut progress)?,
    };
    bar.finish_and_clear();
    if let Some(scorer) = &scorer
        && !cli.json
    {
        println!(
            "model {}: openings below {} not taken; {} proposals on days without features",
            scorer.name(),
            cli.min_score,
            scorer.without_features()
        );
    }
    let files = write_report(&cli.out, &result.summary, &result.equity, &result.trades)?;
    if cli.json {
        let doc = serde_json::json!({
            "summary": &result.summary,
            "equity": &result.equity,
            "risk_free": &result.risk_free,
        });
        println!("{doc}");
        return Ok(());
    }
    print_result(cli, &result, &files, &journal);
    Ok(())
}

/// The run's figures, yardsticks, data notes and files, a line each.
fn print_result(
    cli: &Cli,
    result: &volta_engine::BacktestResult,
    files: &volta_engine::report::ReportFiles,
    journal: &std::path::Path,
) {
    let m = &result.summary.metrics;
    println!(
        "{} {} → {}: {} sessions, {} trades closed, {} open at the end",
        result.summary.label,
        cli.start,
        cli.end,
        m.sessions.saturating_sub(1),
        m.trades,
        result.summary.open_at_end
    );
    println!(
        "equity {:.2} → {:.2}: total return {:.2} %, annualised {:.2} %, Sharpe {:.2}, max drawdown {:.2} %, fees {:.2}",
        m.starting_equity,
        m.ending_equity,
        m.total_return * 100.0,
        m.annualised_return * 100.0,
        m.sharpe,
        m.max_drawdown * 100.0,
        m.fees_paid
    );
    print_yardsticks(&result.summary);
    for note in &result.summary.provenance {
        println!("data: {note}");
    }
    if let Some(k) = &result.summary.kill_switch {
        println!("kill switch: {k}");
    }
    println!("report:  {}", files.html.display());
    println!("summary: {}", files.json.display());
    println!(
        "journal: {} (run {})",
        volta_data::store::StoreLocation::from_path(journal),
        result.run_id
    );
}

/// The registered model `which` with its day rows over the run's sessions.
fn model_scorer(
    cli: &Cli,
    backtest: &Backtest,
    which: &str,
) -> anyhow::Result<volta_engine::ModelScorer> {
    use volta_engine::training::{DailyOrigin, DailySource, DayRows, ModelChoice, load_scorer};
    let DataChoice::Store(store) = &backtest.data else {
        anyhow::bail!(
            "--model needs --data store: the model's features come from the real history"
        );
    };
    let choice = ModelChoice {
        which: which.to_owned(),
        models_dir: cli.models_dir.clone(),
        registry: store.clone(),
        min_score: cli.min_score,
    };
    let source = DailySource {
        // The day features from the store the run reads: one history for both.
        origin: DailyOrigin::Store(volta_data::store::StoreLocation::from_path(store)),
        symbol: backtest.config.underlyings[0].to_uppercase(),
        chains_from: None,
    };
    let (_, scorer) = load_scorer(
        &choice,
        &source,
        DayRows::Range(backtest.start, backtest.end),
    )
    .with_context(|| format!("loading the model {which}"))?;
    Ok(scorer)
}

/// The interest, the return on buying power and the yardsticks, a line each.
fn print_yardsticks(summary: &volta_engine::report::Summary) {
    println!(
        "interest on idle cash {:.2}; return on buying power used {}",
        summary.cash_interest.earned,
        summary
            .buying_power
            .annualised_return_on_mean
            .map_or_else(|| "n/a".to_owned(), |r| format!("{:.2} %/yr", r * 100.0))
    );
    for y in &summary.yardsticks {
        let ym = &y.metrics;
        println!(
            "yardstick {}: total return {:.2} %, annualised {:.2} %, Sharpe {:.2}, max drawdown {:.2} %; strategies' excess {:+.2} %/yr",
            y.name,
            ym.total_return * 100.0,
            ym.annualised_return * 100.0,
            ym.sharpe,
            ym.max_drawdown * 100.0,
            y.strategies_excess.annualised_return * 100.0
        );
    }
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded default parses, passes validation, and runs the synthetic market at the
    /// measured variance risk premium with the fitted chains.
    #[test]
    fn the_embedded_default_is_the_walk_forward_choice_on_the_faithful_market() {
        let config = BacktestConfig::from_toml(EMBEDDED_DEFAULT, "default.toml").unwrap();
        config.validate().unwrap();
        assert_eq!(
            config.synthetic_variance_risk_premium,
            Some(volta_data::synthetic::ModelParams::MEASURED_VARIANCE_RISK_PREMIUM)
        );
        assert!(config.synthetic_fitted_chains);
        assert_eq!(config.strategies.len(), 1);
        assert_eq!(config.strategies[0].name(), "short_put");
        assert_eq!(config.risk.max_positions_per_underlying, 1);
    }
}
