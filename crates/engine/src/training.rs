//! Trading models: trained, registered and promoted (`volta-train train`, the live trader's
//! scheduled retraining), and loaded into the adaptive strategy as a
//! [`volta_strategy::Scorer`] (backtests and the live trader alike).
//!
//! **Training** ([`train_model`]) labels the history the way `volta-train validate` does,
//! runs the purged walk-forward of the chosen kind for its out-of-sample metrics (overall, per
//! regime, and the latest fold's), fits the model on every sample (calibrated on the last 63
//! decision sessions), saves it under `<models>/<id>/` and registers it in the store.
//!
//! **Promotion** follows a policy: always (a researcher's `--promote always`), never, or only
//! when the new model beats the promoted one on the **latest out-of-sample window**: the
//! samples decided after the promoted model's training data ended, which neither has seen —
//! the new kind fitted on the samples whose labels ended before that window, the promoted
//! model as it is — by log loss (a proper scoring rule: it rewards calibration as well as
//! ranking, which a threshold on the probability needs). With fewer than
//! [`MIN_COMPARISON_SAMPLES`] such samples (or one class) there is no evidence yet and the
//! promoted model stays; one that reads other columns than today's features cannot be
//! compared and is replaced.
//!
//! **Use** ([`load_scorer`]): the promoted model (or one named by id) is loaded on a worker
//! thread of its own ([`ModelWorker`]: LightGBM's booster may not move between threads), and
//! a [`ModelScorer`] scores each opening from the day's features and the candidate's. A
//! backtest computes the day rows once for its range; the live trader at each decision
//! ([`volta_features::decision::features_at_decision`]'s path).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use volta_core::NyseCalendar;
use volta_data::store::{ModelRecord, ModelRegistry, open_path};
use volta_features::decision::{daily_matrix, decision_row, feature_date};
use volta_models::{
    CalibrationMethod, Classifier, Dataset, EvaluationConfig, Metrics, TradingManifest,
    TradingModel, WalkForwardConfig,
};

use crate::backtest::Backtest;
use crate::error::{EngineError, Result};
use crate::labels::CANDIDATE_FEATURES;
use crate::scoring::{DailyRows, ModelScorer};
use crate::validation::{ModelKind, build_dataset, evaluate, usable_folds};

// What a caller names in its configuration without depending on the models or the features.
pub use volta_features::decision::{DailyOrigin, DailySource, chains_from};
pub use volta_models::TradingKind;

/// When a trained model is promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promotion {
    /// Always (the researcher asked for it).
    Always,
    /// Only when it beats the promoted model on the latest out-of-sample fold (module docs).
    IfBetter,
    /// Never: registered only.
    Never,
}

/// What [`train_model`] trains.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// The labels' settings, range and data (the store of real history).
    pub backtest: Backtest,
    /// Where the day features come from.
    pub features: DailySource,
    /// The kind of model.
    pub kind: TradingKind,
    /// How it is calibrated (on the last 63 decision sessions).
    pub calibration: Option<CalibrationMethod>,
    /// The walk-forward its out-of-sample metrics come from.
    pub walk_forward: WalkForwardConfig,
    /// The models folder (`<models>/<id>/model.json`).
    pub models_dir: PathBuf,
    /// The store holding the registry (a SQLite file or a `postgres://` URL).
    pub registry: PathBuf,
    /// The new model's id.
    pub id: String,
    /// When it is registered (exchange time in the live trader, the researcher's clock
    /// otherwise).
    pub now: NaiveDateTime,
    /// Whether it is promoted.
    pub promotion: Promotion,
}

impl TrainConfig {
    /// LightGBM with isotonic calibration, the default walk-forward (504 / 63 / 21 / 5), the
    /// registry in the backtest's store, registered only (`Promotion::Never`): labels from
    /// `backtest`, features from `features` (whose modelled chains start
    /// [`chains_from`] the backtest's start), the model saved as `<models_dir>/<id>`.
    ///
    /// # Errors
    /// [`EngineError::Config`] when the backtest's data is not a store.
    pub fn new(
        backtest: Backtest,
        features: DailySource,
        models_dir: PathBuf,
        id: &str,
        now: NaiveDateTime,
    ) -> Result<Self> {
        let crate::backtest::DataChoice::Store(registry) = &backtest.data else {
            return Err(EngineError::Config {
                field: "data",
                value: "synthetic".into(),
                requirement: "the store (models learn from real history)",
            });
        };
        Ok(Self {
            registry: registry.clone(),
            features: DailySource {
                chains_from: Some(chains_from(backtest.start)),
                ..features
            },
            backtest,
            kind: TradingKind::Gbm,
            calibration: Some(CalibrationMethod::Isotonic),
            walk_forward: WalkForwardConfig::default(),
            models_dir,
            id: id.to_owned(),
            now,
            promotion: Promotion::Never,
        })
    }
}

/// What [`train_model`] did.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The registered record (metrics, per-regime metrics, promoted or not).
    pub record: ModelRecord,
    /// The manifest's path.
    pub manifest: PathBuf,
    /// Samples it was fitted on, and the walk-forward's evaluated and left-out folds.
    pub samples: usize,
    /// Folds evaluated.
    pub folds: usize,
    /// Folds left out.
    pub folds_skipped: usize,
    /// The new kind's log loss on the walk-forward's latest fold.
    pub latest_fold_log_loss: f64,
    /// The comparison with the promoted model, when there is one to compare with.
    pub comparison: Option<Comparison>,
}

/// The new kind against the promoted model on the samples decided after the promoted model's
/// training data ended: out of sample for both (module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// Both scored the same samples.
    Scored {
        /// The promoted model.
        promoted: String,
        /// First and last decision date of the samples.
        window: (NaiveDate, NaiveDate),
        /// How many.
        samples: usize,
        /// The new kind's log loss (fitted on the samples whose labels ended before them).
        new_log_loss: f64,
        /// The promoted model's.
        promoted_log_loss: f64,
    },
    /// Too few samples (or one class) since the promoted model's training: nothing to judge
    /// it by yet, so it stays.
    TooFewSamples {
        /// The promoted model.
        promoted: String,
        /// Samples decided after its training data.
        samples: usize,
    },
    /// The promoted model reads other columns (the feature set changed): it cannot score
    /// today's rows, and is replaced.
    Incompatible {
        /// The promoted model.
        promoted: String,
    },
}

/// Samples a comparison needs at least (both classes among them too).
pub const MIN_COMPARISON_SAMPLES: usize = 20;

/// A metrics line as the registry keeps it.
fn registry_metrics(m: &Metrics) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::from([
        ("samples".to_owned(), m.samples as f64),
        ("positives".to_owned(), m.positives as f64),
        ("log_loss".to_owned(), m.log_loss),
        ("brier".to_owned(), m.brier),
        ("ece".to_owned(), m.expected_calibration_error),
    ]);
    if let Some(auc) = m.auc {
        out.insert("auc".to_owned(), auc);
    }
    out
}

fn model_kind(kind: TradingKind) -> ModelKind {
    match kind {
        TradingKind::Logistic => ModelKind::Logistic,
        TradingKind::Gbm => ModelKind::Gbm,
    }
}

fn mismatch(model: &str, reason: impl Into<String>) -> EngineError {
    EngineError::TradingModel {
        model: model.to_owned(),
        reason: reason.into(),
    }
}

/// Trains, saves, registers and (by `config.promotion`) promotes a model (module docs).
///
/// # Errors
/// [`EngineError::Config`] for a bad id; [`EngineError::MissingData`] when no walk-forward
/// fold can be evaluated; the labels', features', models' and store's errors.
pub fn train_model(config: &TrainConfig, progress: &mut dyn FnMut(&str)) -> Result<TrainOutcome> {
    progress("labelling candidates");
    let labels = config.backtest.labels(&mut |_, _| {})?;
    progress("computing daily features");
    let daily = daily_matrix(&config.features, config.backtest.end, &|_| {})?;
    let (dataset, _) = build_dataset(&labels.labels, &daily)?;
    let regimes: BTreeMap<(NaiveDate, &str), &str> = labels
        .labels
        .iter()
        .map(|l| {
            (
                (l.decision_date, l.key.as_str()),
                l.regime.as_deref().unwrap_or("unknown"),
            )
        })
        .collect();
    let (folds, folds_skipped, evaluation) = usable_folds(
        &dataset,
        (config.backtest.start, config.backtest.end),
        &config.walk_forward,
        config.calibration,
    )?;
    progress("walk-forward");
    let (report, _, _) = evaluate(model_kind(config.kind), &dataset, &folds, &evaluation, None)?;
    let per_regime = metrics_per_regime(&dataset, &report.predictions, &regimes)?;
    let new_on_latest = report
        .folds
        .last()
        .map_or(f64::INFINITY, |f| f.metrics.log_loss);
    let store = open_path(&config.registry)?;
    let comparison = match store.promoted_model()? {
        Some(record) => Some(compare(config, &record, &dataset)?),
        None => None,
    };
    progress("fitting on all samples");
    let mut model = TradingModel::fit(
        config.kind,
        &dataset,
        config.calibration,
        evaluation.validation_sessions,
    )?;
    model.set_chains_from(config.features.chains_from);
    let manifest = model.save(&config.models_dir.join(&config.id))?;
    let manifest_file = manifest.file_name().map_or_else(
        || volta_models::MANIFEST_FILE.to_owned(),
        |f| f.to_string_lossy().into_owned(),
    );
    let m = model.manifest();
    let mut record = ModelRecord::new(
        &config.id,
        config.kind.name(),
        &format!("{}/{manifest_file}", config.id),
        &m.feature_set,
        m.training_range.first,
        m.training_range.last,
    );
    record.created_at = config.now;
    record.metrics = registry_metrics(&report.overall);
    record
        .metrics
        .insert("latest_fold_log_loss".to_owned(), new_on_latest);
    if let Some(Comparison::Scored { new_log_loss, .. }) = &comparison {
        record
            .metrics
            .insert("since_promoted_log_loss".to_owned(), *new_log_loss);
    }
    record.regime_metrics = per_regime;
    let mut store = store;
    store.register_model(&record)?;
    if promotes(config.promotion, comparison.as_ref()) {
        store.promote_model(&config.id, config.now)?;
        record.promoted = true;
        record.promoted_at = Some(config.now);
    }
    Ok(TrainOutcome {
        record,
        manifest,
        samples: dataset.len(),
        folds: folds.len(),
        folds_skipped,
        latest_fold_log_loss: new_on_latest,
        comparison,
    })
}

/// Whether `promotion` promotes a model that compared with the promoted one as `comparison`
/// (`None`: none is promoted).
fn promotes(promotion: Promotion, comparison: Option<&Comparison>) -> bool {
    match promotion {
        Promotion::Always => true,
        Promotion::Never => false,
        Promotion::IfBetter => match comparison {
            None | Some(Comparison::Incompatible { .. }) => true,
            Some(Comparison::TooFewSamples { .. }) => false,
            Some(Comparison::Scored {
                new_log_loss,
                promoted_log_loss,
                ..
            }) => new_log_loss < promoted_log_loss,
        },
    }
}

/// The out-of-sample metrics grouped by the regime each sample's decision saw.
fn metrics_per_regime(
    dataset: &Dataset,
    predictions: &[volta_models::ScoredPrediction],
    regimes: &BTreeMap<(NaiveDate, &str), &str>,
) -> Result<BTreeMap<String, BTreeMap<String, f64>>> {
    let mut groups: BTreeMap<&str, (Vec<f64>, Vec<bool>)> = BTreeMap::new();
    for p in predictions {
        let key = &dataset.keys()[p.sample];
        let regime = regimes
            .get(&(key.decision_date, key.candidate.as_str()))
            .copied()
            .unwrap_or("unknown");
        let group = groups.entry(regime).or_default();
        group.0.push(p.probability);
        group.1.push(dataset.labels()[p.sample].profitable());
    }
    groups
        .into_iter()
        .map(|(regime, (probabilities, targets))| {
            Ok((
                regime.to_owned(),
                registry_metrics(&Metrics::compute(&probabilities, &targets)?),
            ))
        })
        .collect()
}

/// The new kind against the promoted model `record` on the samples decided after its
/// training data (module docs): the new kind fitted on the samples whose labels ended before
/// the first of them.
fn compare(config: &TrainConfig, record: &ModelRecord, dataset: &Dataset) -> Result<Comparison> {
    let promoted = record.id.clone();
    let model = TradingModel::load(&config.models_dir.join(&record.path))?;
    if model.manifest().feature_names != dataset.matrix().names() {
        return Ok(Comparison::Incompatible { promoted });
    }
    let keys = dataset.keys();
    let labels = dataset.labels();
    let test: Vec<usize> = (0..dataset.len())
        .filter(|&i| keys[i].decision_date > record.train_to)
        .collect();
    let positives = test.iter().filter(|&&i| labels[i].profitable()).count();
    let too_few = Comparison::TooFewSamples {
        promoted: promoted.clone(),
        samples: test.len(),
    };
    let (Some(&first), Some(&last)) = (test.first(), test.last()) else {
        return Ok(too_few);
    };
    if test.len() < MIN_COMPARISON_SAMPLES || positives == 0 || positives == test.len() {
        return Ok(too_few);
    }
    let window = (keys[first].decision_date, keys[last].decision_date);
    let train: Vec<usize> = (0..dataset.len())
        .filter(|&i| labels[i].horizon().exit() < window.0)
        .collect();
    let candidate = match TradingModel::fit(
        config.kind,
        &dataset.subset(&train),
        config.calibration,
        EvaluationConfig::default().validation_sessions,
    ) {
        Ok(m) => m,
        Err(volta_models::ModelError::NotEnoughData { .. }) => return Ok(too_few),
        Err(e) => return Err(e.into()),
    };
    let subset = dataset.subset(&test);
    let targets = subset.targets();
    let loss = |m: &TradingModel| -> Result<f64> {
        Ok(Metrics::compute(&m.predict_proba(subset.matrix())?, &targets)?.log_loss)
    };
    Ok(Comparison::Scored {
        promoted,
        window,
        samples: test.len(),
        new_log_loss: loss(&candidate)?,
        promoted_log_loss: loss(&model)?,
    })
}

/// A request to the worker: a row and where its probability goes.
type Request = (Vec<f64>, mpsc::Sender<volta_models::Result<f64>>);

/// A trading model on a thread of its own, answering rows over a channel: `Send + Sync`
/// whatever the model (LightGBM's booster is neither). The thread ends with the worker.
#[derive(Debug)]
pub struct ModelWorker {
    requests: mpsc::Sender<Request>,
}

impl ModelWorker {
    /// Loads the model at `path` (its manifest or folder) on a new thread.
    ///
    /// # Errors
    /// The model's loading errors; [`EngineError::TradingModel`] when the thread cannot start.
    pub fn spawn(path: &Path) -> Result<(Self, TradingManifest)> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let (ready, loaded) = mpsc::channel();
        let owned = path.to_owned();
        std::thread::Builder::new()
            .name("volta-model".into())
            .spawn(move || {
                let model = match TradingModel::load(&owned) {
                    Ok(model) => {
                        let _ = ready.send(Ok(model.manifest().clone()));
                        model
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                for (row, reply) in incoming {
                    let _ = reply.send(model.predict_row(&row));
                }
            })
            .map_err(|e| mismatch(&path.display().to_string(), e.to_string()))?;
        let manifest = loaded
            .recv()
            .map_err(|_| mismatch(&path.display().to_string(), "the model thread ended"))??;
        Ok((Self { requests }, manifest))
    }

    /// The model's calibrated probability of `row`.
    ///
    /// # Errors
    /// The model's errors (a row of another width); [`EngineError::TradingModel`] when the
    /// thread has ended.
    pub fn predict(&self, row: &[f64]) -> Result<f64> {
        let (reply, answer) = mpsc::channel();
        let gone = || mismatch("worker", "the model thread has ended");
        self.requests
            .send((row.to_vec(), reply))
            .map_err(|_| gone())?;
        Ok(answer.recv().map_err(|_| gone())??)
    }
}

/// Which model to trade with, and from where.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice {
    /// `promoted`, or a registered id.
    pub which: String,
    /// The models folder the registry's paths are relative to.
    pub models_dir: PathBuf,
    /// The store holding the registry.
    pub registry: PathBuf,
    /// Openings with a lower probability are not taken.
    pub min_score: f64,
}

/// How the day rows of a loaded model are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRows {
    /// Computed once for the decisions of these sessions (a backtest).
    Range(NaiveDate, NaiveDate),
    /// Computed at each decision from the data up to the session before (the live trader),
    /// checked at loading against the data up to this date (the last close known).
    AtDecision(NaiveDate),
}

/// The day rows of the live trader: [`volta_features::decision::features_at_decision`]'s
/// path, each day's computed once and kept.
struct AtDecision {
    source: DailySource,
    names: Vec<String>,
    cache: Mutex<BTreeMap<NaiveDate, Option<Vec<f64>>>>,
}

impl DailyRows for AtDecision {
    fn row(&self, decision_date: NaiveDate) -> Option<Vec<f64>> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(row) = cache.get(&decision_date) {
            return row.clone();
        }
        let row = feature_date(decision_date)
            .ok()
            .and_then(|date| daily_matrix(&self.source, date, &|_| {}).ok())
            .filter(|matrix| matrix.names() == self.names.as_slice())
            .and_then(|matrix| decision_row(&matrix, decision_date).ok().flatten());
        cache.insert(decision_date, row.clone());
        row
    }
}

/// The chosen model, loaded, and a scorer for the adaptive strategy: its record, the scorer
/// and the minimum score.
///
/// # Errors
/// [`EngineError::TradingModel`] when no model is promoted, the id is unknown, or the model
/// reads other columns than today's features give (retrain it); the store's, the features'
/// and the model's errors.
pub fn load_scorer(
    choice: &ModelChoice,
    source: &DailySource,
    rows: DayRows,
) -> Result<(ModelRecord, ModelScorer)> {
    let store = open_path(&choice.registry)?;
    let record = if choice.which == "promoted" {
        store.promoted_model()?.ok_or_else(|| {
            mismatch(
                "promoted",
                format!(
                    "no model is promoted in {} (volta-train train --promote, or volta-train promote ID)",
                    store.location()
                ),
            )
        })?
    } else {
        store
            .model(&choice.which)?
            .ok_or_else(|| mismatch(&choice.which, "not in the registry (volta-train list)"))?
    };
    let (worker, manifest) = ModelWorker::spawn(&choice.models_dir.join(&record.path))?;
    // The chain-based columns depend on where the modelled chain history starts: as trained.
    let source = &DailySource {
        chains_from: manifest.chains_from,
        ..source.clone()
    };
    let (DayRows::Range(_, last) | DayRows::AtDecision(last)) = rows;
    let daily = daily_matrix(source, last, &|_| {})?;
    let expected: Vec<String> = daily
        .names()
        .iter()
        .cloned()
        .chain(CANDIDATE_FEATURES.iter().map(|&n| n.to_owned()))
        .collect();
    if expected != manifest.feature_names {
        return Err(mismatch(
            &record.id,
            format!(
                "it reads {} columns of feature set {}, the features now give {} of {}: retrain it",
                manifest.feature_names.len(),
                manifest.feature_set,
                expected.len(),
                daily
                    .metadata()
                    .get(volta_features::matrix::META_VERSION)
                    .map_or("?", String::as_str)
            ),
        ));
    }
    let day_rows: Arc<dyn DailyRows> = match rows {
        DayRows::Range(start, end) => {
            let mut map = BTreeMap::new();
            for date in NyseCalendar.sessions_between(start, end)? {
                if let Some(row) = decision_row(&daily, date)? {
                    map.insert(date, row);
                }
            }
            Arc::new(map)
        }
        DayRows::AtDecision(_) => Arc::new(AtDecision {
            source: source.clone(),
            names: daily.names().to_vec(),
            cache: Mutex::new(BTreeMap::new()),
        }),
    };
    let model = move |row: &[f64]| worker.predict(row).unwrap_or(f64::NAN);
    let scorer = ModelScorer::over(record.id.clone(), day_rows, Arc::new(model));
    Ok((record, scorer))
}

/// Whether a retraining is due at the close of `today`, the last one having been in
/// `last` (`None`: never): monthly, at the first close of a calendar month after it.
#[must_use]
pub fn monthly_retraining_due(last: Option<NaiveDate>, today: NaiveDate) -> bool {
    last.is_none_or(|last| (today.year(), today.month()) > (last.year(), last.month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn if_better_promotes_only_on_evidence() {
        let scored = |new, old| Comparison::Scored {
            promoted: "old".into(),
            window: (d(2023, 1, 3), d(2023, 3, 31)),
            samples: 40,
            new_log_loss: new,
            promoted_log_loss: old,
        };
        let too_few = Comparison::TooFewSamples {
            promoted: "old".into(),
            samples: 3,
        };
        let other = Comparison::Incompatible {
            promoted: "old".into(),
        };
        let if_better = |c: Option<&Comparison>| promotes(Promotion::IfBetter, c);
        assert!(if_better(None));
        assert!(if_better(Some(&scored(0.60, 0.65))));
        assert!(!if_better(Some(&scored(0.65, 0.60))));
        // A tie keeps the model that is trading.
        assert!(!if_better(Some(&scored(0.65, 0.65))));
        assert!(!if_better(Some(&too_few)));
        assert!(if_better(Some(&other)));
        assert!(promotes(Promotion::Always, Some(&scored(0.9, 0.1))));
        assert!(!promotes(Promotion::Never, None));
    }

    #[test]
    fn retraining_is_due_at_the_first_close_of_each_month() {
        assert!(monthly_retraining_due(None, d(2023, 3, 15)));
        assert!(!monthly_retraining_due(Some(d(2023, 3, 1)), d(2023, 3, 31)));
        assert!(monthly_retraining_due(Some(d(2023, 3, 31)), d(2023, 4, 3)));
        assert!(monthly_retraining_due(Some(d(2023, 12, 29)), d(2024, 1, 2)));
        // A clock that went back (a replay started earlier) does not retrain.
        assert!(!monthly_retraining_due(Some(d(2023, 5, 1)), d(2023, 4, 3)));
    }
}
