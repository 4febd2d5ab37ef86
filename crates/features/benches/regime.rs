//! The regime series over the full VIX history (1990-01-02 → 2023-11-08, 8538 rows), with
//! ^GSPC as the underlying: VIX validation and session filter, the bars' session check, the
//! 20-day realised vol, the 252-day rank and percentile, the join, the rules and the
//! hysteresis. Issue #5's goal: ≤ 10 ms. Needs the data folder (`VOLTA_DATA_DIR`, else `../shared/data` beside the checkout; skips
//! without it).

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use volta_core::DailyBar;
use volta_data::DataDir;
use volta_data::import::{import_bars, import_index};
use volta_features::rank::{iv_percentile, iv_rank};
use volta_features::realised::{Estimator, realised_vol_bars};
use volta_features::regime::{RegimeConfig, RegimeDetector};

fn bench(c: &mut Criterion) {
    let data = DataDir::from_env();
    let (vix_path, gspc_path) = (data.vix(), data.index_daily_ohlc("GSPC"));
    if !(vix_path.is_file() && gspc_path.is_file()) {
        eprintln!(
            "skipped: no VIX and ^GSPC history in {}; set {} to the real data folder",
            data.root().display(),
            DataDir::ENV_VAR
        );
        return;
    }
    let vix = import_index(&vix_path, None).unwrap().records;
    let vix_dates: Vec<NaiveDate> = vix.iter().map(|r| r.date).collect();
    let vix_close: Vec<f64> = vix.iter().map(|r| r.close).collect();
    // From November 1989: enough bars for the 20-day realised vol on the VIX's first day.
    let from = NaiveDate::from_ymd_opt(1989, 11, 1).unwrap();
    let bars: Vec<DailyBar> = import_bars(&gspc_path, None)
        .unwrap()
        .bars
        .into_iter()
        .filter(|b| b.date >= from)
        .collect();
    let detector = RegimeDetector::new(RegimeConfig::default()).unwrap();
    let series = detector.run(&vix_dates, &vix_close, &bars).unwrap();
    eprintln!(
        "{} VIX rows, {} bars, {} output rows",
        vix_dates.len(),
        bars.len(),
        series.dates.len()
    );

    let mut g = c.benchmark_group("regime");
    g.bench_function("full_vix_history", |b| {
        b.iter(|| {
            detector
                .run(
                    black_box(&vix_dates),
                    black_box(&vix_close),
                    black_box(&bars),
                )
                .unwrap()
        });
    });
    g.bench_function("rv20_close_to_close_bars", |b| {
        b.iter(|| realised_vol_bars(Estimator::CloseToClose, black_box(&bars), 20).unwrap());
    });
    g.bench_function("rv20_yang_zhang_bars", |b| {
        b.iter(|| realised_vol_bars(Estimator::YangZhang, black_box(&bars), 20).unwrap());
    });
    g.bench_function("vix_rank_252", |b| {
        b.iter(|| iv_rank(black_box(&vix_close), 252).unwrap());
    });
    g.bench_function("vix_percentile_252", |b| {
        b.iter(|| iv_percentile(black_box(&vix_close), 252).unwrap());
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
