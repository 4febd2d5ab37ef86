//! `volta-data calibrate-chains`: the modelled chains priced against every real chain of the
//! data folder, before and after issue 16's inputs (`volta_data::calibration`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use volta_data::DataDir;
use volta_data::calibration::calibrate_chains;

/// Arguments of `volta-data calibrate-chains`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The data folder (laid out as `../shared/data`); default `VOLTA_DATA_DIR`, else
    /// `../shared/data` beside the checkout.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where to write `calibration.md` and `calibration.json`.
    #[arg(long, default_value = "reports/calibration")]
    out: PathBuf,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let data = args
        .data_dir
        .as_ref()
        .map_or_else(DataDir::from_env, DataDir::new);
    let report = calibrate_chains(&data)
        .with_context(|| format!("calibrating against {}", data.root().display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let markdown = report.to_markdown();
    let md = args.out.join("calibration.md");
    std::fs::write(&md, &markdown).with_context(|| format!("writing {}", md.display()))?;
    let json = args.out.join("calibration.json");
    std::fs::write(&json, report.to_json()?)
        .with_context(|| format!("writing {}", json.display()))?;
    println!("{markdown}");
    println!("wrote {} and {}", md.display(), json.display());
    Ok(ExitCode::SUCCESS)
}
