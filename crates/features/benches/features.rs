//! 20 years of daily data for one underlying → every feature (goal ≤ 2 s in release).
//!
//! Inputs: the real SPY bars of 1999-11-01 … 2019-12-31 (5 074 sessions) with the CBOE
//! indices, DFF, QQQ and IWM closes and put/call ratios, from the data folder
//! ([`DataDir::from_env`]: `$VOLTA_DATA_DIR`, else `../shared/data` beside the checkout). Two measurements: `compute` alone (panel
//! built once) and `load_and_compute` (CSV files → panel → matrix).

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use volta_data::DataDir;
use volta_features::compute;
use volta_features::panel::{LoadOptions, load_from_dir};

fn bench(c: &mut Criterion) {
    let dir = DataDir::from_env();
    let end = NaiveDate::from_ymd_opt(2019, 12, 31).unwrap_or_default();
    let options = LoadOptions::full("SPY");
    let panel = match load_from_dir(&dir, "SPY", end, &options) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "skipped: cannot load SPY from {} ({e}); set {}",
                dir.root().display(),
                DataDir::ENV_VAR
            );
            return;
        }
    };
    let m = compute(&panel).expect("features");
    eprintln!(
        "SPY {} sessions × {} features",
        m.dates().len(),
        m.names().len()
    );
    let mut g = c.benchmark_group("features_spy_20y");
    g.sample_size(10);
    g.bench_function("compute", |b| b.iter(|| compute(&panel).expect("features")));
    g.bench_function("load_and_compute", |b| {
        b.iter(|| {
            let p = load_from_dir(&dir, "SPY", end, &options).expect("panel");
            compute(&p).expect("features")
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
