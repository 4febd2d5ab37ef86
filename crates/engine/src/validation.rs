//! Walk-forward validation of the models that filter the adaptive strategy (feature
//! `validation`): labels from the engine ([`crate::labels`]), daily features from the data
//! folder ([`volta_features::decision`]), the purged walk-forward of `volta-models`, and the
//! out-of-sample backtest of the model-filtered adaptive strategy against the unfiltered one
//! and the yardsticks. The report is JSON and an HTML page with the plots
//! ([`write_report`]).
//!
//! Nothing is tuned on a test window: each model's settings are its defaults, the threshold
//! is fixed before the run (0.5 by default: after calibration, "more likely profitable than
//! not"), and each session of the backtest is scored by the fold model trained before
//! it (the fold's *scored window*, the sessions until the next retrain).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;
use volta_core::NyseCalendar;
use volta_features::decision::{DailySource, daily_matrix, decision_row};
use volta_models::{
    Classifier, Combiner, Dataset, Ensemble, EvaluationConfig, FeatureImportance, FeatureMatrix,
    Fold, GbmSpace, GradientBoosting, Label, LabelHorizon, Learner, LogisticConfig,
    LogisticRegression, Lstm, MeanImputed, Metrics, SampleKey, Searched, WalkForwardReport,
    calibration_svg, evaluate_walk_forward, importance_svg, walk_forward,
};

use crate::backtest::Backtest;
use crate::error::{EngineError, Result};
use crate::labels::{CANDIDATE_FEATURES, CandidateLabel, LabelReport};
use crate::metrics::Metrics as RunMetrics;
use crate::scoring::ScoreTable;

// What a caller of `validate` names in its configuration, without depending on the models.
pub use volta_models::{
    CalibrationMethod, ClockStart, Elapsed, SearchConfig, SearchTally, WalkForwardConfig,
};

/// A model the validation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The baseline: logistic regression on mean-imputed features.
    Logistic,
    /// LightGBM (its defaults, early stopping on the last 63 training sessions).
    Gbm,
    /// The LSTM over each sample's last sessions (its own standardisation and imputation).
    Lstm,
    /// Logistic regression and LightGBM stacked by a logistic regression on their logits,
    /// fitted on a purged 63-session stacking window at the end of each training window that
    /// neither member was fitted on ([`volta_models::Ensemble`]).
    Ensemble,
}

impl ModelKind {
    /// Its name in reports and on the command line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Logistic => "logistic",
            Self::Gbm => "gbm",
            Self::Lstm => "lstm",
            Self::Ensemble => "ensemble",
        }
    }
}

/// LightGBM's hyperparameter search inside each training window ([`Searched`] over
/// [`GbmSpace`]'s default ranges): each fold's settings are the best of a seeded random
/// search scored by a purged k-fold over that fold's training samples only.
#[derive(Clone)]
pub struct GbmSearch {
    /// Trials, the time budget of each window's search, folds, embargo, seed.
    pub config: SearchConfig,
    /// Starts each search's clock (the binary passes the wall clock).
    pub start_clock: ClockStart,
}

impl std::fmt::Debug for GbmSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GbmSearch")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What [`validate`] runs.
#[derive(Debug, Clone)]
pub struct ValidationConfig {
    /// The labels' and the backtests' settings, range and data (the store for real history).
    pub backtest: Backtest,
    /// Where the daily features come from (the same underlying as the backtest's first).
    pub features: DailySource,
    /// The walk-forward (504 / 63 / 21 sessions, embargo 5 by default).
    pub walk_forward: WalkForwardConfig,
    /// The models.
    pub models: Vec<ModelKind>,
    /// Openings whose calibrated probability is below this are dropped by the filtered run.
    pub threshold: f64,
    /// How each fold's probabilities are calibrated (on the last 63 sessions of its training
    /// window, never its test window).
    pub calibration: Option<CalibrationMethod>,
    /// Tune LightGBM inside each training window (the `gbm` model and the ensemble's
    /// member); `None` runs its defaults.
    pub search: Option<GbmSearch>,
}

/// A stage of [`validate`], for progress bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// `done` of `total` sessions labelled.
    Labels {
        /// Sessions done.
        done: usize,
        /// All of them.
        total: usize,
    },
    /// The daily features: what is being computed.
    Features(String),
    /// A model's walk-forward has started (`folds` folds).
    Model {
        /// The model.
        name: String,
        /// Its folds.
        folds: usize,
    },
    /// `done` of `total` sessions of the backtest `name`.
    Backtest {
        /// The run.
        name: String,
        /// Sessions done.
        done: usize,
        /// All of them.
        total: usize,
    },
}

/// One fold's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldLine {
    /// The fold.
    pub index: usize,
    /// First session of its test window.
    pub test_start: NaiveDate,
    /// Last session of its test window.
    pub test_end: NaiveDate,
    /// Samples it was fitted on (after purge, embargo and the calibration window).
    pub train_samples: usize,
    /// Training samples purged.
    pub purged: usize,
    /// Training samples embargoed.
    pub embargoed: usize,
    /// Out-of-sample scores on its whole test window.
    pub metrics: Metrics,
}

/// One model's walk-forward result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelReport {
    /// The model.
    pub model: ModelKind,
    /// Overall out-of-sample scores (each session scored once, by the model trained before
    /// it).
    pub overall: Metrics,
    /// Per fold.
    pub folds: Vec<FoldLine>,
    /// What the leakage guards found (empty: clean).
    pub leakage: Vec<String>,
    /// Folds where the model could not be fitted for lack of data (one class in a window it
    /// carves) and the training base rate scored the test window instead.
    pub base_rate_folds: usize,
    /// Importance by gain and split count of a model fitted on the training
    /// window of the latest fold it can fit (LightGBM only).
    pub importance: Option<Vec<FeatureImportance>>,
    /// What LightGBM's search did over the folds, when it searched.
    pub search: Option<SearchTally>,
}

/// One backtest of the out-of-sample period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestLine {
    /// The run (`adaptive`, `adaptive+gbm`, a yardstick's name).
    pub name: String,
    /// What it is.
    pub description: String,
    /// Its metrics.
    pub metrics: RunMetrics,
    /// Openings the scorer was asked about, and how many it held no probability for (scored
    /// 0; a filtered run only).
    pub scored: Option<(usize, usize)>,
}

/// The labels' counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelSummary {
    /// Candidates proposed.
    pub candidates: usize,
    /// Labelled.
    pub labelled: usize,
    /// Opening did not fill.
    pub unfilled: usize,
    /// Refused by the risk manager.
    pub rejected: usize,
    /// Still open when the data ended.
    pub open_at_end: usize,
    /// Labelled, but decided before the daily features begin: not in the data set.
    pub without_features: usize,
    /// Samples of the data set (labelled candidates with features on their decision).
    pub samples: usize,
    /// Of which profitable after fees.
    pub profitable: usize,
    /// Mean return on risk of the samples.
    pub mean_return_on_risk: f64,
    /// By structure: (samples, profitable).
    pub by_structure: BTreeMap<String, (usize, usize)>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationReport {
    /// The underlying.
    pub symbol: String,
    /// First session labelled.
    pub start: NaiveDate,
    /// Last session labelled.
    pub end: NaiveDate,
    /// Train / test / step / embargo sessions.
    pub walk_forward: [usize; 4],
    /// Folds evaluated.
    pub folds: usize,
    /// Folds left out: a test window without samples, a training set of one class or of too
    /// few decision sessions.
    pub folds_skipped: usize,
    /// The threshold of the filtered runs.
    pub threshold: f64,
    /// The calibration (`isotonic`, `platt`), `None` for none.
    pub calibration: Option<String>,
    /// The feature-set version and the number of columns (daily + candidate).
    pub features: (String, usize),
    /// The labels.
    pub labels: LabelSummary,
    /// Each model.
    pub models: Vec<ModelReport>,
    /// First and last session of the out-of-sample backtests.
    pub out_of_sample: Option<(NaiveDate, NaiveDate)>,
    /// The out-of-sample backtests: unfiltered, each model's filtered run, the yardsticks.
    pub backtests: Vec<BacktestLine>,
    /// Where the data came from.
    pub provenance: Vec<String>,
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "callers pass temporaries (numbers, literals): by value keeps them short"
)]
fn invalid(field: &'static str, value: impl ToString, requirement: &'static str) -> EngineError {
    EngineError::Config {
        field,
        value: value.to_string(),
        requirement,
    }
}

/// The data set: one row per labelled candidate with daily features on its decision (the
/// previous session's row of `daily`, [`decision_row`]) followed by its candidate features;
/// the label's return on risk and horizon. Non-finite values become `NaN` (missing). Returns
/// the data set and how many labels had no daily features.
///
/// # Errors
/// [`EngineError::Model`] when the rows do not make a data set; the calendar's range.
pub fn build_dataset(
    labels: &[CandidateLabel],
    daily: &volta_features::FeatureMatrix,
) -> Result<(Dataset, usize)> {
    let mut names: Vec<String> = daily.names().to_vec();
    names.extend(CANDIDATE_FEATURES.iter().map(|&n| n.to_owned()));
    let mut rows: BTreeMap<NaiveDate, Option<Vec<f64>>> = BTreeMap::new();
    let (mut values, mut keys, mut targets) = (Vec::new(), Vec::new(), Vec::new());
    let mut dropped = 0;
    for label in labels {
        let row = if let Some(row) = rows.get(&label.decision_date) {
            row.clone()
        } else {
            let row = decision_row(daily, label.decision_date)?;
            rows.insert(label.decision_date, row.clone());
            row
        };
        let Some(row) = row else {
            dropped += 1;
            continue;
        };
        values.extend(
            row.iter()
                .chain(&label.features)
                .map(|&v| if v.is_finite() { v } else { f64::NAN }),
        );
        keys.push(SampleKey {
            decision_date: label.decision_date,
            candidate: label.key.clone(),
        });
        targets.push(Label::from_return_on_risk(
            LabelHorizon::try_new(label.entry, label.exit)?,
            label.return_on_risk,
        )?);
    }
    let version = daily
        .metadata()
        .get(volta_features::matrix::META_VERSION)
        .cloned()
        .unwrap_or_default();
    let matrix = FeatureMatrix::try_new(names, format!("{version}+candidate-v1"), values)?;
    Ok((Dataset::try_new(matrix, keys, targets)?, dropped))
}

/// The walk-forward folds of `dataset` over the sessions of `range` that can be evaluated
/// ([`usable`]), how many were left out, and the evaluation settings for `calibration`.
///
/// # Errors
/// [`EngineError::MissingData`] when no fold can be evaluated; the calendar's range.
pub(crate) fn usable_folds(
    dataset: &Dataset,
    (start, end): (NaiveDate, NaiveDate),
    walk: &WalkForwardConfig,
    calibration: Option<CalibrationMethod>,
) -> Result<(Vec<Fold>, usize, EvaluationConfig)> {
    let sessions = NyseCalendar.sessions_between(start, end)?;
    let folds = walk_forward(dataset, &sessions, walk)?;
    let evaluation = EvaluationConfig {
        calibration,
        ..EvaluationConfig::default()
    };
    // The calibration window and a learner's early-stopping window (63 sessions each).
    let carved = evaluation.validation_sessions * (1 + usize::from(calibration.is_some()));
    let (folds, folds_skipped) = usable(dataset, folds, carved);
    if folds.is_empty() {
        return Err(EngineError::MissingData {
            what: "walk-forward folds".to_owned(),
            reason: format!(
                "none of the folds has both a test window with samples and a training set of \
                 both classes ({} samples over {} sessions)",
                dataset.len(),
                sessions.len()
            ),
        });
    }
    Ok((folds, folds_skipped, evaluation))
}

/// Folds that can be evaluated: a test window with samples, and a training set of both
/// classes spanning more decision sessions than the windows carved from its end need (the
/// calibration window, then LightGBM's or the LSTM's early-stopping window: 63 each). A
/// training window in a calm stretch, where the regime table runs nothing on most days, has
/// too few. Returns them and how many were left out.
pub(crate) fn usable(
    dataset: &Dataset,
    folds: Vec<Fold>,
    carved_sessions: usize,
) -> (Vec<Fold>, usize) {
    let total = folds.len();
    let keys = dataset.keys();
    let labels = dataset.labels();
    // Each window carved from the end of a training set (63 decision sessions) must hold
    // both classes, twice over: LightGBM refuses an early-stopping window of one class, and
    // the purge before a window can take a sample or two from the one before it.
    let window = EvaluationConfig::default().validation_sessions.max(1);
    let both = |rows: &[usize]| {
        let positives = rows.iter().filter(|&&i| labels[i].profitable()).count();
        positives >= 2 && rows.len() - positives >= 2
    };
    let kept: Vec<Fold> = folds
        .into_iter()
        .filter(|f| {
            let mut dates: Vec<NaiveDate> =
                f.train.iter().map(|&i| keys[i].decision_date).collect();
            dates.dedup();
            if f.test.is_empty() || f.scored.is_empty() || !both(&f.train) {
                return false;
            }
            if dates.len() <= carved_sessions {
                return false;
            }
            (0..carved_sessions.div_ceil(window)).all(|k| {
                let last = dates[dates.len() - 1 - k * window];
                let first = dates[dates.len().saturating_sub((k + 1) * window)];
                let rows: Vec<usize> = f
                    .train
                    .iter()
                    .copied()
                    .filter(|&i| (first..=last).contains(&keys[i].decision_date))
                    .collect();
                both(&rows)
            })
        })
        .collect();
    let skipped = total - kept.len();
    (kept, skipped)
}

/// LightGBM's importance on the training window of the latest fold it can fit with at least
/// one split: the last fold's window can be one LightGBM refuses (an early-stopping window of
/// one class), which the walk-forward scored by its base rate; the chart then shows the latest
/// fitted one.
fn last_fitted_importance(
    dataset: &Dataset,
    folds: &[Fold],
) -> Result<Option<Vec<FeatureImportance>>> {
    for fold in folds.iter().rev() {
        match GradientBoosting::default().fit(&dataset.subset(&fold.train)) {
            Ok(model) => {
                let importance = model.importance()?;
                // A window LightGBM found no split in (every feature constant or too few rows
                // per leaf) has nothing to show either.
                if importance.iter().any(|f| f.gain > 0.0) {
                    return Ok(Some(importance));
                }
            }
            Err(volta_models::ModelError::NotEnoughData { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// A learner that falls back to the training set's base rate on a fold it cannot fit for
/// lack of data (LightGBM refuses an early-stopping window of one class, which the purge can
/// leave in a sparse stretch); the fallbacks are counted and reported.
struct OrBaseRate<L> {
    inner: L,
    fallbacks: std::cell::Cell<usize>,
}

/// The fitted model, or the base rate.
enum Fitted<M> {
    Model(M),
    BaseRate(f64),
}

impl<M: Classifier> Classifier for Fitted<M> {
    fn predict_proba(&self, matrix: &FeatureMatrix) -> volta_models::Result<Vec<f64>> {
        match self {
            Self::Model(m) => m.predict_proba(matrix),
            Self::BaseRate(p) => Ok(vec![*p; matrix.n_rows()]),
        }
    }

    fn predict_samples(&self, dataset: &Dataset, rows: &[usize]) -> volta_models::Result<Vec<f64>> {
        match self {
            Self::Model(m) => m.predict_samples(dataset, rows),
            Self::BaseRate(p) => Ok(vec![*p; rows.len()]),
        }
    }
}

impl<L: Learner> Learner for OrBaseRate<L> {
    type Model = Fitted<L::Model>;

    fn fit(&self, train: &Dataset) -> volta_models::Result<Self::Model> {
        match self.inner.fit(train) {
            Ok(m) => Ok(Fitted::Model(m)),
            Err(volta_models::ModelError::NotEnoughData { .. }) if !train.is_empty() => {
                self.fallbacks.set(self.fallbacks.get() + 1);
                let positives = train.labels().iter().filter(|l| l.profitable()).count();
                Ok(Fitted::BaseRate(positives as f64 / train.len() as f64))
            }
            Err(e) => Err(e),
        }
    }
}

fn or_base_rate<L>(inner: L) -> OrBaseRate<L> {
    OrBaseRate {
        inner,
        fallbacks: std::cell::Cell::new(0),
    }
}

pub(crate) fn evaluate(
    kind: ModelKind,
    dataset: &Dataset,
    folds: &[Fold],
    config: &EvaluationConfig,
    search: Option<&GbmSearch>,
) -> Result<(WalkForwardReport, usize, Option<SearchTally>)> {
    let searched = |search: &GbmSearch| {
        Searched::new(
            GbmSpace::default(),
            search.config,
            GradientBoosting::default(),
            search.start_clock.clone(),
        )
    };
    Ok(match (kind, search) {
        (ModelKind::Gbm, Some(search)) => {
            let learner = or_base_rate(searched(search));
            let r = evaluate_walk_forward(&learner, dataset, folds, config)?;
            (r, learner.fallbacks.get(), Some(learner.inner.tally()))
        }
        (ModelKind::Ensemble, Some(search)) => {
            let learner = or_base_rate(ensemble(searched(search)));
            let r = evaluate_walk_forward(&learner, dataset, folds, config)?;
            (r, learner.fallbacks.get(), None)
        }
        (kind, _) => {
            let (r, fallbacks) = evaluate_defaults(kind, dataset, folds, config)?;
            (r, fallbacks, None)
        }
    })
}

/// Logistic regression and `gbm` stacked by a logistic regression on their logits; calibrated
/// by the walk-forward, as the other kinds are (its own calibration window would be a third
/// carve of the training window).
fn ensemble(gbm: impl volta_models::MemberLearner + 'static) -> Ensemble {
    let mut ensemble = Ensemble::new(Combiner::Stacker(LogisticConfig::default()))
        .with_member(
            "logistic",
            MeanImputed {
                inner: LogisticRegression::default(),
            },
        )
        .with_member("gbm", gbm);
    ensemble.calibration = None;
    ensemble
}

fn evaluate_defaults(
    kind: ModelKind,
    dataset: &Dataset,
    folds: &[Fold],
    config: &EvaluationConfig,
) -> Result<(WalkForwardReport, usize)> {
    Ok(match kind {
        ModelKind::Logistic => {
            let learner = or_base_rate(MeanImputed {
                inner: LogisticRegression::default(),
            });
            let r = evaluate_walk_forward(&learner, dataset, folds, config)?;
            (r, learner.fallbacks.get())
        }
        ModelKind::Gbm => {
            let learner = or_base_rate(GradientBoosting::default());
            let r = evaluate_walk_forward(&learner, dataset, folds, config)?;
            (r, learner.fallbacks.get())
        }
        // The LSTM standardises and fills `NaN` with the training mean itself, and reads each
        // sample's history through `predict_samples`, which an imputing wrapper would bypass.
        ModelKind::Lstm => {
            let learner = or_base_rate(Lstm::default());
            let r = evaluate_walk_forward(&learner, dataset, folds, config)?;
            (r, learner.fallbacks.get())
        }
        ModelKind::Ensemble => {
            let learner = or_base_rate(ensemble(GradientBoosting::default()));
            let r = evaluate_walk_forward(&learner, dataset, folds, config)?;
            (r, learner.fallbacks.get())
        }
    })
}

/// Runs the validation (module docs), reporting each stage to `progress`.
///
/// # Errors
/// [`EngineError::Config`] for a threshold outside 0..=1 or no model; the labels', the
/// features', the models' and the backtests' errors.
pub fn validate(
    config: &ValidationConfig,
    progress: &mut dyn FnMut(Stage),
) -> Result<ValidationReport> {
    if !(0.0..=1.0).contains(&config.threshold) {
        return Err(invalid("threshold", config.threshold, "between 0 and 1"));
    }
    if config.models.is_empty() {
        return Err(invalid("models", "[]", "at least one model"));
    }
    let labels = config
        .backtest
        .labels(&mut |done, total| progress(Stage::Labels { done, total }))?;
    progress(Stage::Features(format!(
        "daily features of {}",
        config.features.symbol
    )));
    let daily = daily_matrix(&config.features, config.backtest.end, &|step| {
        // Progress from the feature library's worker threads is not forwarded: `progress` is
        // not `Sync`. The stage is announced above.
        let _ = step;
    })?;
    let (dataset, no_features) = build_dataset(&labels.labels, &daily)?;
    let summary = summarise_labels(&labels, &dataset, no_features);
    let (folds, folds_skipped, evaluation) = usable_folds(
        &dataset,
        (config.backtest.start, config.backtest.end),
        &config.walk_forward,
        config.calibration,
    )?;
    let mut models = Vec::new();
    let mut tables = Vec::new();
    for &kind in &config.models {
        progress(Stage::Model {
            name: kind.name().to_owned(),
            folds: folds.len(),
        });
        let (report, fallbacks, search) =
            evaluate(kind, &dataset, &folds, &evaluation, config.search.as_ref())?;
        let importance = if kind == ModelKind::Gbm {
            last_fitted_importance(&dataset, &folds)?
        } else {
            None
        };
        tables.push((
            kind,
            ScoreTable::new(report.predictions.iter().map(|p| {
                let key = &dataset.keys()[p.sample];
                (key.decision_date, key.candidate.clone(), p.probability)
            })),
        ));
        let mut line = model_report(kind, &report, &folds, importance);
        line.base_rate_folds = fallbacks;
        line.search = search;
        models.push(line);
    }
    let scored: Vec<NaiveDate> = folds
        .iter()
        .flat_map(|f| [f.scored_window.first, f.scored_window.last])
        .collect();
    let out_of_sample = scored
        .iter()
        .min()
        .copied()
        .zip(scored.iter().max().copied());
    let backtests = match out_of_sample {
        Some((first, last)) => run_backtests(config, (first, last), tables, progress)?,
        None => Vec::new(),
    };
    Ok(ValidationReport {
        symbol: config.features.symbol.clone(),
        start: config.backtest.start,
        end: config.backtest.end,
        walk_forward: [
            config.walk_forward.train_sessions,
            config.walk_forward.test_sessions,
            config.walk_forward.step_sessions,
            config.walk_forward.embargo_sessions,
        ],
        folds: folds.len(),
        folds_skipped,
        threshold: config.threshold,
        calibration: config.calibration.map(|c| format!("{c:?}").to_lowercase()),
        features: (
            dataset.matrix().feature_set_version().to_owned(),
            dataset.matrix().n_features(),
        ),
        labels: summary,
        models,
        out_of_sample,
        backtests,
        provenance: labels.provenance,
    })
}

fn summarise_labels(labels: &LabelReport, dataset: &Dataset, no_features: usize) -> LabelSummary {
    let mut by_structure: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for l in &labels.labels {
        let e = by_structure.entry(l.structure.clone()).or_insert((0, 0));
        e.0 += 1;
        e.1 += usize::from(l.profitable);
    }
    let n = dataset.len();
    LabelSummary {
        candidates: labels.candidates,
        labelled: labels.labels.len(),
        unfilled: labels.unfilled,
        rejected: labels.rejected,
        open_at_end: labels.open_at_end,
        without_features: no_features,
        samples: n,
        profitable: dataset.labels().iter().filter(|l| l.profitable()).count(),
        mean_return_on_risk: if n == 0 {
            f64::NAN
        } else {
            dataset
                .labels()
                .iter()
                .map(|l| l.return_on_risk())
                .sum::<f64>()
                / n as f64
        },
        by_structure,
    }
}

fn model_report(
    kind: ModelKind,
    report: &WalkForwardReport,
    folds: &[Fold],
    importance: Option<Vec<FeatureImportance>>,
) -> ModelReport {
    ModelReport {
        model: kind,
        overall: report.overall.clone(),
        folds: report
            .folds
            .iter()
            .zip(folds)
            .map(|(r, f)| FoldLine {
                index: r.index,
                test_start: f.test_window.first,
                test_end: f.test_window.last,
                train_samples: r.train_samples,
                purged: r.purged,
                embargoed: r.embargoed,
                metrics: r.metrics.clone(),
            })
            .collect(),
        leakage: report.leakage.iter().map(|l| format!("{l:?}")).collect(),
        base_rate_folds: 0,
        importance,
        search: None,
    }
}

/// The unfiltered adaptive strategy (with the yardsticks) and each model's filtered run, over
/// the out-of-sample sessions `first..=last`.
fn run_backtests(
    config: &ValidationConfig,
    (first, last): (NaiveDate, NaiveDate),
    tables: Vec<(ModelKind, ScoreTable)>,
    progress: &mut dyn FnMut(Stage),
) -> Result<Vec<BacktestLine>> {
    let mut base = config.backtest.clone();
    base.start = first;
    base.end = last;
    let mut lines = Vec::new();
    let name = "adaptive".to_owned();
    let unfiltered = base.run(&mut |done, total| {
        progress(Stage::Backtest {
            name: name.clone(),
            done,
            total,
        });
    })?;
    lines.push(BacktestLine {
        name,
        description: "The adaptive strategy alone (regime table, no model): the rule-based \
                      baseline."
            .to_owned(),
        metrics: unfiltered.summary.metrics.clone(),
        scored: None,
    });
    let mut filtered = base.clone();
    filtered.config.yardsticks = false;
    for (kind, table) in tables {
        let name = format!("adaptive+{}", kind.name());
        let result = filtered.run_scored(
            Box::new(table.clone()),
            config.threshold,
            &mut |done, total| {
                progress(Stage::Backtest {
                    name: name.clone(),
                    done,
                    total,
                });
            },
        )?;
        lines.push(BacktestLine {
            description: format!(
                "The adaptive strategy, openings kept when the {} model's out-of-sample \
                 probability (from the fold trained before the session) is at least {}.",
                kind.name(),
                config.threshold
            ),
            name,
            metrics: result.summary.metrics,
            scored: Some((table.asked(), table.misses())),
        });
    }
    for y in unfiltered.summary.yardsticks {
        lines.push(BacktestLine {
            name: y.name,
            description: y.description,
            metrics: y.metrics,
            scored: None,
        });
    }
    Ok(lines)
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `validation.json`.
    pub json: PathBuf,
    /// `validation.html`.
    pub html: PathBuf,
}

fn io_error(path: &Path, e: &std::io::Error) -> EngineError {
    EngineError::Observer {
        observer: "validation report",
        reason: format!("{}: {e}", path.display()),
    }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `report` to `dir` as `validation.json` and `validation.html` (tables and the SVG
/// charts: each model's out-of-sample calibration curve, LightGBM's importance by gain).
///
/// # Errors
/// [`EngineError::Observer`] when a file cannot be written; [`EngineError::Model`] when a
/// chart cannot be drawn.
pub fn write_report(dir: &Path, report: &ValidationReport) -> Result<ReportFiles> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let json = dir.join("validation.json");
    let text = serde_json::to_string_pretty(report).map_err(|e| EngineError::Observer {
        observer: "validation report",
        reason: e.to_string(),
    })?;
    std::fs::write(&json, text).map_err(|e| io_error(&json, &e))?;
    let html = dir.join("validation.html");
    std::fs::write(&html, render_html(report)?).map_err(|e| io_error(&html, &e))?;
    Ok(ReportFiles { json, html })
}

#[expect(
    clippy::too_many_lines,
    reason = "one HTML page written top to bottom: its sections in reading order"
)]
fn render_html(r: &ValidationReport) -> Result<String> {
    use std::fmt::Write as _;
    let mut h = String::new();
    let l = &r.labels;
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Walk-forward validation \
         {sym}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;\
         text-align:right}}th{{background:#eee}}.charts svg{{margin:4px}}</style></head><body>\
         <h1>Walk-forward validation: {sym} {start} → {end}</h1>\
         <p>Walk-forward: train {t} / test {s} / step {st} sessions, embargo {e}; {folds} folds \
         ({skipped} left out: no test samples, or a training set of one class or of too few decision sessions). Calibration: {cal}. \
         Threshold of the filtered runs: {th}. Features: {nf} columns, set {fv}.</p>\
         <h2>Labels</h2><p>{cand} candidates proposed; {lab} labelled ({unf} did not fill, \
         {rej} refused by the risk manager, {open} open when the data ended); {n} samples with \
         features, {pos} profitable after fees ({rate}); mean return on risk {ror:.4}.</p>",
        sym = escape(&r.symbol),
        start = r.start,
        end = r.end,
        t = r.walk_forward[0],
        s = r.walk_forward[1],
        st = r.walk_forward[2],
        e = r.walk_forward[3],
        folds = r.folds,
        skipped = r.folds_skipped,
        cal = r.calibration.as_deref().unwrap_or("none"),
        th = r.threshold,
        nf = r.features.1,
        fv = escape(&r.features.0),
        cand = l.candidates,
        lab = l.labelled,
        unf = l.unfilled,
        rej = l.rejected,
        open = l.open_at_end,
        n = l.samples,
        pos = l.profitable,
        rate = pct(l.profitable as f64 / l.samples.max(1) as f64),
        ror = l.mean_return_on_risk,
    );
    h.push_str("<table><tr><th>structure</th><th>labelled</th><th>profitable</th></tr>");
    for (s, (n, p)) in &l.by_structure {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td><td>{p}</td></tr>", escape(s));
    }
    h.push_str(
        "</table><h2>Out-of-sample scores (overall)</h2><table><tr><th>model</th>\
                <th>samples</th><th>AUC</th><th>log loss</th><th>Brier</th><th>ECE</th>\
                <th>leakage guards</th></tr>",
    );
    for m in &r.models {
        let o = &m.overall;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td>\
             <td>{}</td><td>{}</td></tr>",
            m.model.name(),
            o.samples,
            opt(o.auc),
            o.log_loss,
            o.brier,
            o.expected_calibration_error,
            m.base_rate_folds,
            if m.leakage.is_empty() {
                "clean".to_owned()
            } else {
                escape(&m.leakage.join("; "))
            }
        );
    }
    h.push_str("</table>");
    for m in &r.models {
        if let Some(t) = &m.search {
            let _ = write!(
                h,
                "<p>{}: LightGBM tuned inside each of {} training windows by a seeded random \
                 search (purged 5-fold over the window's samples only): {} trials in all, {} \
                 searches stopped by their time budget, {} windows on the defaults (no trial \
                 could be scored).</p>",
                m.model.name(),
                t.searches,
                t.trials,
                t.out_of_time,
                t.fell_back
            );
        }
    }
    h.push_str("<div class=\"charts\">");
    for m in &r.models {
        let svg = calibration_svg(
            &m.overall.calibration,
            &format!("{} out-of-sample calibration", m.model.name()),
            480,
            360,
        )?;
        h.push_str(&svg);
        if let Some(importance) = &m.importance {
            h.push_str(&importance_svg(
                importance,
                20,
                &format!("{} importance by gain (latest fitted fold)", m.model.name()),
                560,
                480,
            )?);
        }
    }
    h.push_str("</div><h2>Out-of-sample backtests</h2>");
    if let Some((a, b)) = r.out_of_sample {
        let _ = write!(h, "<p>Sessions {a} → {b}.</p>");
    }
    h.push_str(
        "<table><tr><th>run</th><th>Sharpe</th><th>Sortino</th><th>max drawdown</th>\
                <th>win rate</th><th>trades</th><th>total return</th><th>annualised</th>\
                <th>scored / not in table</th></tr>",
    );
    for b in &r.backtests {
        let m = &b.metrics;
        let _ = write!(
            h,
            "<tr><td title=\"{}\">{}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&b.description),
            escape(&b.name),
            m.sharpe,
            m.sortino,
            pct(m.max_drawdown),
            pct(m.win_rate),
            m.trades,
            pct(m.total_return),
            pct(m.annualised_return),
            b.scored
                .map_or_else(String::new, |(asked, missed)| format!("{asked} / {missed}")),
        );
    }
    h.push_str("</table><h2>Per fold</h2>");
    for m in &r.models {
        let _ = write!(
            h,
            "<h3>{}</h3><table><tr><th>fold</th><th>test</th><th>train</th><th>purged</th>\
             <th>embargoed</th><th>samples</th><th>AUC</th><th>log loss</th><th>Brier</th>\
             <th>ECE</th></tr>",
            m.model.name()
        );
        for f in &m.folds {
            let x = &f.metrics;
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                f.index,
                f.test_start,
                f.test_end,
                f.train_samples,
                f.purged,
                f.embargoed,
                x.samples,
                opt(x.auc),
                x.log_loss,
                x.brier,
                x.expected_calibration_error
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Data</h2><ul>");
    for p in &r.provenance {
        let _ = write!(h, "<li>{}</li>", escape(p));
    }
    h.push_str("</ul></body></html>");
    Ok(h)
}

/// Builds a SQLite store at `path` (created) holding what a backtest of `symbol` on modelled
/// chains and its day features read from the data folder `data`: the daily bars of `symbol`
/// and its peers (SPY, QQQ, IWM; split-adjusted), the CBOE indices (VIX, VIX3M, VIX9D, VVIX,
/// SKEW), CBOE's put/call ratios and FRED's DTB3 and DFF rates — the subset of
/// `volta-data import-dir` they need, without the option-chain files (which hold no SPY chain
/// history).
///
/// # Errors
/// The store's and the importers' errors (a missing or malformed file).
pub fn import_history(data: &volta_data::DataDir, path: &Path, symbol: &str) -> Result<()> {
    let mut store = volta_data::store::SqliteStore::open(path)?;
    let mut symbols = vec![symbol.to_uppercase()];
    symbols.extend(volta_features::panel::default_peers(&symbols[0]));
    let symbols: Vec<&str> = symbols.iter().map(String::as_str).collect();
    volta_data::ingest::ingest_daily_history(&mut store, data, &symbols)?;
    Ok(())
}
