//! `volta-train labels` and `volta-train validate`: arguments → the engine's label run and
//! walk-forward validation (`volta_engine::labels`, `volta_engine::validation`) → files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use volta_data::DataDir;
use volta_engine::validation::{
    Elapsed, GbmSearch, ModelKind, SearchConfig, Stage, ValidationConfig, import_history, validate,
    write_report,
};
use volta_engine::{Backtest, BacktestConfig, DataChoice};
use volta_features::decision::{DailySource, chains_from};

/// What `labels` and `validate` share: the underlying, range, data and strategies.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// The underlying (chains modelled on its real bars and the real VIX, as the backtester
    /// does for SPY).
    #[arg(long, default_value = "SPY")]
    pub(crate) symbol: String,
    /// First decision session (YYYY-MM-DD).
    #[arg(long, default_value = "2001-01-02")]
    pub(crate) start: NaiveDate,
    /// Last session (YYYY-MM-DD); the data stops at 2023-11-08.
    #[arg(long, default_value = "2023-11-08")]
    pub(crate) end: NaiveDate,
    /// The market-data folder (see its README.md) [default: ../shared/data beside the checkout].
    #[arg(long, env = "VOLTA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The store the backtests read (bars, VIX, rates); built from the data folder when it
    /// does not exist.
    #[arg(long, default_value = "var/train-history.db")]
    pub(crate) store: PathBuf,
    /// A backtest configuration (TOML: strategies, regime table, risk, fills); defaults
    /// otherwise. Its underlyings are replaced by --symbol.
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Common {
    /// Where the day features are read: the store the backtests read (built by
    /// [`Common::backtest`] when missing).
    pub(crate) fn history(&self) -> volta_engine::training::DailyOrigin {
        volta_engine::training::DailyOrigin::Store(volta_data::store::StoreLocation::from_path(
            &self.store,
        ))
    }

    pub(crate) fn data(&self) -> DataDir {
        self.data_dir
            .clone()
            .map_or_else(DataDir::beside_checkout, DataDir::new)
    }

    /// The backtest the labels and the out-of-sample runs are made of, journaling to
    /// `journal`; builds the store first if missing.
    pub(crate) fn backtest(&self, journal: PathBuf) -> anyhow::Result<Backtest> {
        if self.start > self.end {
            bail!("--start {} is after --end {}", self.start, self.end);
        }
        let symbol = self.symbol.to_uppercase();
        if !self.store.exists() {
            let data = self.data();
            if let Some(parent) = self.store.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            eprintln!(
                "building {} from {} (SPY, QQQ, IWM bars, CBOE indices, put/call ratios, DTB3, \
                 DFF)",
                self.store.display(),
                data.root().display()
            );
            import_history(&data, &self.store, &symbol)
                .with_context(|| format!("building {}", self.store.display()))?;
        }
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                BacktestConfig::from_toml(&text, &path.display().to_string())?
            }
            None => BacktestConfig::default(),
        };
        config.underlyings = vec![symbol];
        Ok(Backtest {
            config,
            config_text: None,
            start: self.start,
            end: self.end,
            data: DataChoice::Store(self.store.clone()),
            journal,
        })
    }
}

pub(crate) fn bar(template: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(template)
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Ok(bar)
}

/// Arguments of `volta-train labels`.
#[derive(Debug, clap::Args)]
pub(crate) struct LabelsArgs {
    #[command(flatten)]
    common: Common,
    /// Output file (JSON: the counts and every label).
    #[arg(long, default_value = "labels.json")]
    out: PathBuf,
}

pub(crate) fn labels(args: &LabelsArgs) -> anyhow::Result<()> {
    let dir = tempfile_dir(&args.out)?;
    let backtest = args.common.backtest(dir.join("labels-journal.sqlite"))?;
    let progress = bar("{spinner} labelling [{bar:40}] {pos}/{len} sessions ({eta})")?;
    let report = backtest.labels(&mut |done, total| {
        progress.set_length(total as u64);
        progress.set_position(done as u64);
    })?;
    progress.finish_and_clear();
    let text = serde_json::to_string_pretty(&report).context("labels as JSON")?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    let profitable = report.labels.iter().filter(|l| l.profitable).count();
    println!(
        "{} sessions, {} candidates: {} labelled ({profitable} profitable after fees), {} did \
         not fill, {} refused by the risk manager, {} open at the end",
        report.sessions,
        report.candidates,
        report.labels.len(),
        report.unfilled,
        report.rejected,
        report.open_at_end
    );
    println!("wrote {}", args.out.display());
    Ok(())
}

/// The folder beside `out` (created).
fn tempfile_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The walk-forward of `validate` and `train`.
#[derive(Debug, clap::Args)]
pub(crate) struct WalkForwardArgs {
    /// Walk-forward training sessions.
    #[arg(long, default_value_t = 504)]
    train: usize,
    /// Walk-forward test sessions.
    #[arg(long, default_value_t = 63)]
    test: usize,
    /// Walk-forward step, sessions.
    #[arg(long, default_value_t = 21)]
    step: usize,
    /// Embargo after each test window, sessions.
    #[arg(long, default_value_t = 5)]
    embargo: usize,
}

impl WalkForwardArgs {
    /// The walk-forward these flags describe.
    pub(crate) fn config(&self) -> volta_engine::validation::WalkForwardConfig {
        volta_engine::validation::WalkForwardConfig {
            train_sessions: self.train,
            test_sessions: self.test,
            step_sessions: self.step,
            embargo_sessions: self.embargo,
        }
    }
}

/// Arguments of `volta-train validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    common: Common,
    /// The models (comma-separated): logistic, gbm, lstm, ensemble (logistic and gbm
    /// stacked).
    #[arg(long, value_delimiter = ',', default_value = "logistic,gbm,ensemble")]
    models: Vec<String>,
    /// Openings with a calibrated probability below this are dropped by the filtered runs
    /// (fixed before the run: never tuned on test folds).
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    #[command(flatten)]
    walk_forward: WalkForwardArgs,
    /// How each fold's probabilities are calibrated on the last 63 sessions of its training
    /// window: isotonic (pool-adjacent-violators: cannot fail to converge), platt, or none.
    #[arg(long, default_value = "isotonic")]
    calibration: String,
    /// Where the report goes (validation.json, validation.html, the backtests' journal).
    #[arg(long, default_value = "reports/validate")]
    out: PathBuf,
    /// Tune LightGBM inside each training window: this many random-search trials, each scored
    /// by a purged 5-fold over that window's samples (0: LightGBM's defaults).
    #[arg(long, default_value_t = 0)]
    search_trials: usize,
    /// The time budget of each window's search, seconds (no trial starts after it).
    #[arg(long, default_value_t = 60)]
    search_seconds: u64,
}

impl ValidateArgs {
    /// LightGBM's search in each training window, when asked for.
    #[expect(
        clippy::disallowed_methods,
        reason = "a binary gives each search its wall-clock budget; the library reads no clock"
    )]
    fn search(&self) -> Option<GbmSearch> {
        (self.search_trials > 0).then(|| GbmSearch {
            config: SearchConfig {
                max_trials: self.search_trials,
                time_budget: Duration::from_secs(self.search_seconds),
                ..SearchConfig::default()
            },
            start_clock: Arc::new(|| Box::new(Instant::now()) as Box<dyn Elapsed>),
        })
    }
}

/// The calibration named on the command line: isotonic, platt or none.
pub(crate) fn calibration(
    name: &str,
) -> anyhow::Result<Option<volta_engine::validation::CalibrationMethod>> {
    use volta_engine::validation::CalibrationMethod;
    Ok(match name {
        "isotonic" => Some(CalibrationMethod::Isotonic),
        "platt" => Some(CalibrationMethod::Platt),
        "none" => None,
        other => bail!("unknown calibration {other}: isotonic, platt or none"),
    })
}

pub(crate) fn run(args: &ValidateArgs) -> anyhow::Result<()> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a binary reports its own run time; no library reads this clock"
    )]
    let began = Instant::now();
    let models = args
        .models
        .iter()
        .map(|m| match m.as_str() {
            "logistic" => Ok(ModelKind::Logistic),
            "gbm" => Ok(ModelKind::Gbm),
            "lstm" => Ok(ModelKind::Lstm),
            "ensemble" => Ok(ModelKind::Ensemble),
            other => bail!("unknown model {other}: logistic, gbm, lstm or ensemble"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let journal = args.out.join("journal.sqlite");
    // A fresh journal per run: the report and its journal belong together.
    let _ = std::fs::remove_file(&journal);
    let common = &args.common;
    let config = ValidationConfig {
        backtest: common.backtest(journal)?,
        features: DailySource {
            origin: common.history(),
            symbol: common.symbol.to_uppercase(),
            chains_from: Some(chains_from(common.start)),
        },
        walk_forward: args.walk_forward.config(),
        models,
        threshold: args.threshold,
        calibration: calibration(&args.calibration)?,
        search: args.search(),
    };
    let progress = bar("{spinner} {msg} [{bar:40}] {pos}/{len} ({elapsed})")?;
    let report = validate(&config, &mut |stage| match stage {
        Stage::Labels { done, total } => {
            progress.set_message("labelling sessions");
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        }
        Stage::Features(what) => {
            progress.set_message(what);
            progress.set_length(0);
        }
        Stage::Model { name, folds } => {
            progress.set_message(format!("walk-forward {name} ({folds} folds)"));
            progress.set_length(0);
        }
        Stage::Backtest { name, done, total } => {
            progress.set_message(format!("backtest {name}"));
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        }
    })?;
    progress.finish_and_clear();
    let files = write_report(&args.out, &report)?;
    let l = &report.labels;
    println!(
        "labels: {} candidates, {} labelled, {} samples ({} profitable after fees); {} folds \
         ({} left out)",
        l.candidates, l.labelled, l.samples, l.profitable, report.folds, report.folds_skipped
    );
    print_models(&report.models);
    for b in &report.backtests {
        let m = &b.metrics;
        println!(
            "{:<18} Sharpe {:>6.2}  Sortino {:>6.2}  max DD {:>6.2} %  win {:>5.1} %  trades {:>5}  \
             return {:>7.2} %",
            b.name,
            m.sharpe,
            m.sortino,
            m.max_drawdown * 100.0,
            m.win_rate * 100.0,
            m.trades,
            m.total_return * 100.0
        );
    }
    println!("report: {}", files.html.display());
    println!("json:   {}", files.json.display());
    println!("took {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}

/// Each model's out-of-sample line (and what its search did).
fn print_models(models: &[volta_engine::validation::ModelReport]) {
    for m in models {
        println!(
            "{:<9} AUC {}  log loss {:.4}  Brier {:.4}  ECE {:.4}  {}",
            m.model.name(),
            m.overall
                .auc
                .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.3}")),
            m.overall.log_loss,
            m.overall.brier,
            m.overall.expected_calibration_error,
            if m.leakage.is_empty() {
                "clean".to_owned()
            } else {
                format!("LEAKAGE: {}", m.leakage.join("; "))
            }
        );
        if let Some(t) = &m.search {
            println!(
                "{:<9} searched {} windows: {} trials, {} stopped by the time budget, {} on the \
                 defaults",
                "", t.searches, t.trials, t.out_of_time, t.fell_back
            );
        }
    }
}
