//! `volta-data calibrate-chains`: the modelled chains priced against every real chain of the
//! data folder, before and after issue 16's inputs (`volta_data::calibration`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use plotters::prelude::*;
use volta_data::DataDir;
use volta_data::calibration::{CalibrationReport, DELTA_BUCKETS, ShapeErrors, calibrate_chains};

/// Arguments of `volta-data calibrate-chains`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The data folder (laid out as `../shared/data`); default `VOLTA_DATA_DIR`, else
    /// `../shared/data` beside the checkout.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where to write `calibration.md`, `calibration.json` and `calibration.svg`.
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
    let svg = args.out.join("calibration.svg");
    std::fs::write(&svg, shape_svg(&report)?)
        .with_context(|| format!("writing {}", svg.display()))?;
    println!("{markdown}");
    println!(
        "wrote {}, {} and {}",
        md.display(),
        json.display(),
        svg.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The days-to-expiry bucket the chart shows: where the strategies sell (30-45 days).
const CHART_DAYS: &str = "31-90";

/// The smile relative to the volatility level, IV − VIX by call delta at 31-90 days: the real
/// chains, the modelled chains of the real history, and the generated market before and after.
fn shape_svg(report: &CalibrationReport) -> Result<String> {
    let line = |shape: &ShapeErrors, real: bool| -> Vec<(f64, f64)> {
        DELTA_BUCKETS
            .iter()
            .filter_map(|(lo, hi, label)| {
                let cell = shape.cell(label, CHART_DAYS)?;
                let y = if real {
                    cell.real_smile
                } else {
                    cell.model_smile
                };
                Some(((lo + hi) / 2.0, y))
            })
            .collect()
    };
    let series = [
        ("real chains", line(&report.shape_modelled, true), BLACK),
        (
            "modelled (real history)",
            line(&report.shape_modelled, false),
            RGBColor(31, 119, 180),
        ),
        (
            "synthetic, own chains",
            line(&report.shape_synthetic_before, false),
            RGBColor(214, 39, 40),
        ),
        (
            "synthetic, fitted",
            line(&report.shape_synthetic_after, false),
            RGBColor(44, 160, 44),
        ),
    ];
    let ys = series.iter().flat_map(|(_, l, _)| l.iter().map(|p| p.1));
    let (low, high) = ys.fold((0.0f64, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("drawing the chart: {e}");
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("IV − VIX by call delta, {CHART_DAYS} days"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..1.0, (low - 1.0)..(high + 1.0))
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("call delta (bucket middle)")
            .y_desc("vol points")
            .draw()
            .map_err(|e| fail(&e))?;
        for (name, points, colour) in series {
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}
