//! The trading model in the live trader: `--model promoted` (or an id) loads the registered
//! model into the adaptive strategy through a shared scorer, and `--retrain monthly` (the
//! default with a model) retrains at the first close of each month, on a thread of its own,
//! promoting the new model only when it beats the promoted one on the samples since that one
//! was trained (`volta_engine::training`); the scorer is then swapped between decisions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use volta_data::store::{ModelRecord, StoreLocation};
use volta_engine::scoring::SharedScorer;
use volta_engine::training::{
    Comparison, DailyOrigin, DailySource, DayRows, ModelChoice, Promotion, TradingKind,
    TrainConfig, load_scorer, monthly_retraining_due, train_model,
};
use volta_engine::{
    Backtest, BacktestConfig, DataChoice, EngineEvent, ModelFilter, Observer, Scorer,
};
use volta_monitor::{ModelRow, Monitor};

/// The model settings of `volta-live`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ModelArgs {
    /// Filter the adaptive strategy's openings by a registered model: `promoted`, or a model's
    /// id (`volta-train list`). Its registry is the store (--store).
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// The models folder the registry's paths are relative to.
    #[arg(long, env = "VOLTA_MODELS", default_value = "models")]
    models_dir: PathBuf,
    /// Openings the model gives a lower probability are not taken.
    #[arg(long, default_value_t = 0.5)]
    min_score: f64,
    /// Retrain the model's kind at the first close of each month (`monthly`) or not (`never`).
    #[arg(long, default_value = "monthly")]
    retrain: String,
    /// Calendar years of history each retraining labels.
    #[arg(long, default_value_t = 4)]
    retrain_years: u32,
}

/// The model a run trades with: its scorer slot and what retrains it.
pub(crate) struct LoadedModel {
    /// The model's registry record (the dashboard shows its metrics per regime).
    pub(crate) record: ModelRecord,
    /// The slot the adaptive strategy scores through.
    pub(crate) scorer: SharedScorer,
    /// The minimum score.
    pub(crate) min_score: f64,
    /// Retrains on schedule (`None` with `--retrain never`).
    pub(crate) retrainer: Option<Retrainer>,
}

impl LoadedModel {
    /// The model's parts for a run: the dashboard of `monitor` shows it (and each model a
    /// retraining promotes); its retrainer joins `observers`. Returns the filter for the
    /// adaptive strategy and the retrainer to wait for at the end.
    pub(crate) fn wire(
        model: Option<Self>,
        observers: &mut Vec<Box<dyn Observer + Send>>,
        monitor: &Monitor,
    ) -> (Option<ModelFilter>, Option<Retrainer>) {
        let Some(mut model) = model else {
            return (None, None);
        };
        monitor.set_model(ModelRow::new(&model.record, model.min_score));
        if let Some(r) = &mut model.retrainer {
            r.monitor = Some(monitor.clone());
            observers.push(Box::new(r.clone()));
        }
        (
            Some((Box::new(model.scorer) as Box<dyn Scorer>, model.min_score)),
            model.retrainer,
        )
    }
}

impl ModelArgs {
    /// The day features come from the history store the trader reads its signals from.
    fn source(store: &Path, symbol: &str) -> DailySource {
        DailySource {
            origin: DailyOrigin::Store(StoreLocation::from_path(store)),
            symbol: symbol.to_uppercase(),
            chains_from: None,
        }
    }

    /// Loads the chosen model for a run on `store` whose decisions read day rows `rows`,
    /// `None` without `--model`.
    pub(crate) fn load(
        &self,
        config: &BacktestConfig,
        store: &Path,
        rows: DayRows,
    ) -> anyhow::Result<Option<LoadedModel>> {
        let Some(which) = &self.model else {
            return Ok(None);
        };
        let retrain = match self.retrain.as_str() {
            "monthly" => true,
            "never" => false,
            other => anyhow::bail!("unknown --retrain {other}: monthly or never"),
        };
        let choice = ModelChoice {
            which: which.clone(),
            models_dir: self.models_dir.clone(),
            registry: store.to_owned(),
            min_score: self.min_score,
        };
        let symbol = config.underlyings[0].clone();
        let (record, scorer) = load_scorer(&choice, &Self::source(store, &symbol), rows)
            .with_context(|| format!("loading the model {which}"))?;
        println!(
            "model: {} ({}, trained on {} … {}), openings below {} not taken; retraining {}",
            record.id,
            record.kind,
            record.train_from,
            record.train_to,
            self.min_score,
            self.retrain
        );
        let shared = SharedScorer::new(Arc::new(scorer));
        let retrainer = retrain.then(|| Retrainer {
            args: self.clone(),
            config: config.clone(),
            store: store.to_owned(),
            symbol,
            kind: TradingKind::parse(&record.kind).unwrap_or(TradingKind::Gbm),
            last: None,
            rows,
            slot: shared.clone(),
            running: Arc::new(Mutex::new(None)),
            monitor: None,
        });
        Ok(Some(LoadedModel {
            record,
            scorer: shared,
            min_score: self.min_score,
            retrainer,
        }))
    }
}

/// Retrains at the first close of each month (an observer of the engine's events): a
/// background thread trains the model's kind on the last `--retrain-years` of the store's
/// history, registers it, promotes it only if better, and swaps the scorer when it does.
#[derive(Clone)]
pub(crate) struct Retrainer {
    args: ModelArgs,
    config: BacktestConfig,
    store: PathBuf,
    symbol: String,
    kind: TradingKind,
    last: Option<NaiveDate>,
    rows: DayRows,
    slot: SharedScorer,
    running: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// The dashboard told of each model promoted.
    monitor: Option<Monitor>,
}

impl Retrainer {
    /// Waits for a retraining under way (at the end of the run).
    pub(crate) fn wait(&self) {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            println!("retraining: waiting for the one under way to finish");
            let _ = handle.join();
        }
    }

    fn config_for(&self, today: NaiveDate) -> anyhow::Result<TrainConfig> {
        let start = NaiveDate::from_ymd_opt(
            today.year() - i32::try_from(self.args.retrain_years).unwrap_or(4),
            today.month(),
            1,
        )
        .unwrap_or(today);
        let mut config = self.config.clone();
        config.underlyings = vec![self.symbol.clone()];
        let id = format!(
            "{}-{}-{}",
            self.kind.name(),
            self.symbol.to_lowercase(),
            today.format("%Y-%m-%d")
        );
        let backtest = Backtest {
            config,
            config_text: None,
            start,
            end: today,
            data: DataChoice::Store(self.store.clone()),
            journal: std::env::temp_dir().join(format!("volta-retrain-{id}.sqlite")),
        };
        // Exchange time: the close the retraining follows.
        let now = today.and_hms_opt(16, 0, 0).unwrap_or_default();
        let features = ModelArgs::source(&self.store, &self.symbol);
        let models_dir = self.args.models_dir.clone();
        Ok(TrainConfig {
            kind: self.kind,
            promotion: Promotion::IfBetter,
            ..TrainConfig::new(backtest, features, models_dir, &id, now)?
        })
    }

    fn start(&self, today: NaiveDate) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.as_ref().is_some_and(|h| !h.is_finished()) {
            println!("retraining: the previous one is still running; {today}'s is skipped");
            return;
        }
        let config = match self.config_for(today) {
            Ok(config) => config,
            Err(e) => {
                println!("retraining at {today}: {e}");
                return;
            }
        };
        let this = self.clone();
        println!(
            "retraining {} on {} … {} (monthly) in the background",
            config.id, config.backtest.start, config.backtest.end
        );
        *running = Some(std::thread::spawn(move || {
            let journal = config.backtest.journal.clone();
            let outcome = train_model(&config, &mut |_| {});
            let _ = std::fs::remove_file(&journal);
            match outcome {
                Ok(outcome) => this.swap_if_promoted(&outcome.record, outcome.comparison.as_ref()),
                Err(e) => println!("retraining {} failed: {e}", config.id),
            }
        }));
    }

    fn swap_if_promoted(&self, record: &ModelRecord, comparison: Option<&Comparison>) {
        let why = match comparison {
            Some(Comparison::Scored {
                promoted,
                new_log_loss,
                promoted_log_loss,
                samples,
                ..
            }) => format!(
                "log loss {new_log_loss:.4} vs {promoted_log_loss:.4} ({promoted}) on the \
                 {samples} samples since {promoted} was trained"
            ),
            Some(Comparison::TooFewSamples { promoted, samples }) => {
                format!("only {samples} samples since {promoted} was trained")
            }
            Some(Comparison::Incompatible { promoted }) => {
                format!("{promoted} reads other columns")
            }
            None => "no model was promoted".to_owned(),
        };
        if !record.promoted {
            println!("retrained {}: registered, not promoted ({why})", record.id);
            return;
        }
        let choice = ModelChoice {
            which: record.id.clone(),
            models_dir: self.args.models_dir.clone(),
            registry: self.store.clone(),
            min_score: self.args.min_score,
        };
        match load_scorer(
            &choice,
            &ModelArgs::source(&self.store, &self.symbol),
            self.rows,
        ) {
            Ok((record, scorer)) => {
                self.slot.replace(Arc::new(scorer));
                if let Some(monitor) = &self.monitor {
                    monitor.set_model(ModelRow::new(&record, self.args.min_score));
                }
                println!("retrained {}: promoted and now trading ({why})", record.id);
            }
            Err(e) => println!(
                "retrained {}: promoted, but loading it failed ({e}); the previous model trades on",
                record.id
            ),
        }
    }
}

impl Observer for Retrainer {
    fn on_event(&mut self, event: &EngineEvent) -> volta_engine::Result<()> {
        if let EngineEvent::SessionClosed { date, .. } = event {
            // The model loaded at the start is the month's: the first close only starts the
            // count, the first close of each later month retrains.
            if self.last.is_some() && monthly_retraining_due(self.last, *date) {
                self.start(*date);
            }
            if monthly_retraining_due(self.last, *date) {
                self.last = Some(*date);
            }
        }
        Ok(())
    }
}
