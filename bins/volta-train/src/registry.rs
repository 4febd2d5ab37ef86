//! `volta-train list` and `volta-train promote`: the model registry in the store (table
//! `models`, `volta_data::store::ModelRegistry`), read and changed from the command line.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::Utc;
use volta_data::store::{self, ModelRecord, ModelRegistry, Store};

/// Where the registry is.
#[derive(Debug, clap::Args)]
pub(crate) struct StoreArgs {
    /// The store: a SQLite file or a `postgres://` URL (its password from `PGPASSWORD` or the
    /// URL; never printed).
    #[arg(long, env = "VOLTA_STORE", default_value = "var/volta.db")]
    store: PathBuf,
}

impl StoreArgs {
    /// Opens the store; a SQLite path must exist (listing never creates a store).
    fn open(&self) -> anyhow::Result<Box<dyn Store>> {
        let location = self.store.to_string_lossy();
        if !store::is_postgres_url(&location) && !self.store.exists() {
            bail!(
                "no store at {} (build one with `volta-data import dir`, or pass --store)",
                self.store.display()
            );
        }
        store::open(&location).with_context(|| format!("opening {}", store::redact_url(&location)))
    }
}

/// Arguments of `volta-train list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `volta-train promote`.
#[derive(Debug, clap::Args)]
pub(crate) struct PromoteArgs {
    /// The model to promote (an id `volta-train list` shows).
    id: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// A metric for the table: three decimals, or `-` when the model has none.
fn metric(m: &ModelRecord, name: &str) -> String {
    m.metrics
        .get(name)
        .map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"))
}

/// The registry as a table, oldest first, the promoted model marked `*`.
pub(crate) fn table(models: &[ModelRecord]) -> String {
    let mut out = format!(
        "  {:<28} {:<9} {:<23} {:<16} {:>6} {:>8}\n",
        "id", "kind", "trained on", "created", "auc", "log loss"
    );
    for m in models {
        let _ = writeln!(
            out,
            "{} {:<28} {:<9} {:<23} {:<16} {:>6} {:>8}",
            if m.promoted { "*" } else { " " },
            m.id,
            m.kind,
            format!("{} … {}", m.train_from, m.train_to),
            m.created_at.format("%Y-%m-%d %H:%M"),
            metric(m, "auc"),
            metric(m, "log_loss"),
        );
    }
    out
}

/// `volta-train list`.
pub(crate) fn list(args: &ListArgs) -> anyhow::Result<()> {
    let models = args.store.open()?.models()?;
    if models.is_empty() {
        println!("no models registered (volta-train train registers one)");
    } else {
        print!("{}", table(&models));
    }
    Ok(())
}

/// `volta-train promote ID`: the promoted model is the one the adaptive strategy loads.
pub(crate) fn promote(args: &PromoteArgs) -> anyhow::Result<()> {
    let mut store = args.store.open()?;
    let before = store.promoted_model()?;
    // Registry times are the researcher's clock, in UTC (docs/data.md).
    store.promote_model(&args.id, Utc::now().naive_utc())?;
    match before {
        Some(b) if b.id == args.id => println!("{} was already promoted", args.id),
        Some(b) => println!("promoted {} (in place of {})", args.id, b.id),
        None => println!("promoted {}", args.id),
    }
    Ok(())
}
