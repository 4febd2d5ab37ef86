//! Writes `docs/regime.svg` (the VIX 1990–2023 coloured by regime, ^GSPC as the underlying)
//! and prints the figures quoted in `docs/regime.md`.
//!
//! ```text
//! VOLTA_DATA_DIR=/path/to/shared/data cargo run -p volta-features --example regime_plot [OUT.svg]
//! ```
//!
//! Without `VOLTA_DATA_DIR`, the data folder is `../shared/data` beside the checkout.

use std::path::PathBuf;

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_data::import::{import_bars, import_index};
use volta_features::plot::regime_svg;
use volta_features::regime::{Regime, RegimeConfig, RegimeDetector, Smoothing};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DataDir::from_env();
    if !data.is_present() {
        return Err(format!(
            "no data folder at {}: set {} to the real data folder",
            data.root().display(),
            DataDir::ENV_VAR
        )
        .into());
    }
    let out = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/regime.svg"),
        PathBuf::from,
    );
    let vix = import_index(&data.vix(), None)?.records;
    let from = NaiveDate::from_ymd_opt(1989, 11, 1).ok_or("date")?;
    let bars: Vec<_> = import_bars(&data.index_daily_ohlc("GSPC"), None)?
        .bars
        .into_iter()
        .filter(|b| b.date >= from)
        .collect();
    let dates: Vec<NaiveDate> = vix.iter().map(|r| r.date).collect();
    let close: Vec<f64> = vix.iter().map(|r| r.close).collect();
    let series = RegimeDetector::new(RegimeConfig::default())?.run(&dates, &close, &bars)?;

    let svg = regime_svg(
        &series,
        "VIX close 1990–2023 by volatility regime (with hysteresis; underlying ^GSPC)",
        1600,
        700,
    )?;
    std::fs::write(&out, &svg)?;
    println!("wrote {} ({} bytes)", out.display(), svg.len());

    let (first, last) = (series.dates[0], series.dates[series.dates.len() - 1]);
    println!(
        "switches: raw {}, with hysteresis {}",
        series.switches(Smoothing::Raw),
        series.switches(Smoothing::Hysteresis)
    );
    println!("| regime | raw | with hysteresis |\n|---|---|---|");
    let raw = series.shares(Smoothing::Raw, first, last);
    let smooth = series.shares(Smoothing::Hysteresis, first, last);
    for r in Regime::ALL {
        println!(
            "| `{}` | {:.1} % | {:.1} % |",
            r.as_str(),
            100.0 * raw.of(r),
            100.0 * smooth.of(r)
        );
    }
    println!("classified sessions: {}", raw.days);

    // SPY as the underlying, over its own range (1999-11 →).
    let spy = import_bars(&data.daily_bars("SPY"), None)?.bars;
    let spy = RegimeDetector::new(RegimeConfig::default())?.run(&dates, &close, &spy)?;
    let agree = spy
        .dates
        .iter()
        .zip(&spy.smoothed)
        .filter(|&(d, r)| r.is_some() && *r == series.on(*d, Smoothing::Hysteresis))
        .count();
    println!(
        "SPY {} → {}: switches raw {}, with hysteresis {}; same regime as with ^GSPC on {} of {} sessions",
        spy.dates[0],
        spy.dates[spy.dates.len() - 1],
        spy.switches(Smoothing::Raw),
        spy.switches(Smoothing::Hysteresis),
        agree,
        spy.smoothed.iter().flatten().count()
    );
    Ok(())
}
