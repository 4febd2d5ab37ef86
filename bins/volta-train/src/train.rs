//! `volta-train train`: fit a trading model on the labelled history, save it, register it,
//! promote it by the chosen policy, and log the run to MLflow when `MLFLOW_TRACKING_URI` is set.

use std::path::PathBuf;

use anyhow::{Context, bail};
use volta_engine::training::{
    Comparison, Promotion, TradingKind, TrainConfig, TrainOutcome, chains_from, train_model,
};
use volta_monitor::mlflow::{MetricPoint, MlflowClient, RunStatus};

use crate::validate::{Common, WalkForwardArgs, bar, calibration};

/// Arguments of `volta-train train`.
#[derive(Debug, clap::Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    common: Common,
    /// The kind of model: gbm (LightGBM) or logistic (the LSTM is validated, not traded).
    #[arg(long, default_value = "gbm")]
    kind: String,
    /// The new model's id [default: KIND-SYMBOL-END, e.g. gbm-spy-2023-11-08].
    #[arg(long)]
    id: Option<String>,
    /// The models folder (`<models>/<id>/model.json`).
    #[arg(long, env = "VOLTA_MODELS", default_value = "models")]
    models_dir: PathBuf,
    /// The store holding the model registry [default: the history store, --store].
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Calibration on the last 63 decision sessions: isotonic, platt or none.
    #[arg(long, default_value = "isotonic")]
    calibration: String,
    /// Promotion: never (register only), always, or if-better (only when it beats the
    /// promoted model on the latest out-of-sample fold, by log loss).
    #[arg(long, default_value = "never")]
    promote: String,
    #[command(flatten)]
    walk_forward: WalkForwardArgs,
}

pub(crate) fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let kind = TradingKind::parse(&args.kind)?;
    let promotion = match args.promote.as_str() {
        "never" => Promotion::Never,
        "always" => Promotion::Always,
        "if-better" => Promotion::IfBetter,
        other => bail!("unknown --promote {other}: never, always or if-better"),
    };
    let common = &args.common;
    let symbol = common.symbol.to_uppercase();
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", kind.name(), symbol.to_lowercase(), common.end));
    std::fs::create_dir_all(&args.models_dir)
        .with_context(|| format!("creating {}", args.models_dir.display()))?;
    let scratch = tempfile::tempdir().context("a scratch folder for the labels' journal")?;
    let config = TrainConfig {
        backtest: common.backtest(scratch.path().join("journal.sqlite"))?,
        features: volta_engine::training::DailySource {
            origin: common.history(),
            symbol: symbol.clone(),
            chains_from: Some(chains_from(common.start)),
        },
        kind,
        calibration: calibration(&args.calibration)?,
        walk_forward: args.walk_forward.config(),
        models_dir: args.models_dir.clone(),
        registry: args
            .registry
            .clone()
            .unwrap_or_else(|| common.store.clone()),
        id,
        now: now(),
        promotion,
    };
    let mlflow = MlflowClient::from_env()?;
    let progress = bar("{spinner} {msg} ({elapsed})")?;
    let outcome = train_model(&config, &mut |stage| progress.set_message(stage.to_owned()))?;
    progress.finish_and_clear();
    print_outcome(&outcome);
    if let Some(client) = mlflow {
        let run = log_to_mlflow(&client, &config, &outcome)
            .with_context(|| format!("logging the run to MLflow at {}", client.address()))?;
        println!("logged to MLflow at {} (run {run})", client.address());
    }
    Ok(())
}

/// The researcher's clock (UTC), which the registry records.
fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn print_outcome(outcome: &TrainOutcome) {
    let r = &outcome.record;
    let metric = |k: &str| {
        r.metrics
            .get(k)
            .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
    };
    println!(
        "{} ({}) trained on {} samples, {} → {}; walk-forward: {} folds ({} left out), \
         out-of-sample AUC {}, log loss {}, Brier {}",
        r.id,
        r.kind,
        outcome.samples,
        r.train_from,
        r.train_to,
        outcome.folds,
        outcome.folds_skipped,
        metric("auc"),
        metric("log_loss"),
        metric("brier"),
    );
    for (regime, m) in &r.regime_metrics {
        println!(
            "  regime {regime}: {} samples, AUC {}",
            m.get("samples").copied().unwrap_or(0.0),
            m.get("auc")
                .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
        );
    }
    println!(
        "latest walk-forward fold: log loss {:.4}",
        outcome.latest_fold_log_loss
    );
    match &outcome.comparison {
        None => println!("no promoted model to compare with"),
        Some(Comparison::Scored {
            promoted,
            window,
            samples,
            new_log_loss,
            promoted_log_loss,
        }) => println!(
            "since {promoted} was trained ({} → {}, {samples} samples): log loss {new_log_loss:.4} \
             (this kind, fitted before them) vs {promoted_log_loss:.4} ({promoted})",
            window.0, window.1
        ),
        Some(Comparison::TooFewSamples { promoted, samples }) => println!(
            "only {samples} samples since {promoted} was trained: too few to compare (it stays)"
        ),
        Some(Comparison::Incompatible { promoted }) => {
            println!("{promoted} reads other columns than today's features: it cannot be compared");
        }
    }
    println!(
        "saved {}; registered{}",
        outcome.manifest.display(),
        if r.promoted { " and promoted" } else { "" }
    );
}

fn log_to_mlflow(
    client: &MlflowClient,
    config: &TrainConfig,
    outcome: &TrainOutcome,
) -> anyhow::Result<String> {
    let r = &outcome.record;
    let start_ms = r.created_at.and_utc().timestamp_millis();
    let experiment = client.experiment("volta-train")?;
    let run = client.start_run(
        &experiment,
        &r.id,
        &[("volta.kind", r.kind.as_str())],
        start_ms,
    )?;
    let wf = &config.walk_forward;
    client.log_params(
        &run,
        &[
            ("kind", r.kind.clone()),
            ("symbol", config.features.symbol.clone()),
            ("train_from", r.train_from.to_string()),
            ("train_to", r.train_to.to_string()),
            ("feature_set", r.feature_set.clone()),
            ("calibration", format!("{:?}", config.calibration)),
            (
                "walk_forward",
                format!(
                    "{}/{}/{}/{}",
                    wf.train_sessions, wf.test_sessions, wf.step_sessions, wf.embargo_sessions
                ),
            ),
            ("promoted", r.promoted.to_string()),
        ],
    )?;
    let mut keys: Vec<(String, f64)> = r.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for (regime, m) in &r.regime_metrics {
        keys.extend(m.iter().map(|(k, v)| (format!("{regime}.{k}"), *v)));
    }
    let points: Vec<MetricPoint<'_>> = keys
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(key, value)| MetricPoint {
            key,
            value: *value,
            step: 0,
            timestamp_ms: start_ms,
        })
        .collect();
    client.log_metrics(&run, &points)?;
    let dir = outcome.manifest.parent().context("the model's folder")?;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| format!("model/{}", n.to_string_lossy()))
            .context("a model file's name")?;
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        client.log_artifact(&run, &name, &bytes)?;
    }
    client.end_run(&run, RunStatus::Finished, start_ms)?;
    Ok(run.run_id)
}
