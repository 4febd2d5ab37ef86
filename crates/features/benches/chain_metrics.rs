//! Summarising one full SPX day: the Cboe delayed chain of 2019-04-25 (13 340 quotes, 43
//! slices) from the data folder ([`DataDir::from_env`]), or, without the data folder, a synthetic SPX chain.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use volta_core::{ChainSnapshot, QualityPolicy, RatesAndYield, chain_rows};
use volta_data::DataDir;
use volta_data::import::{ChainRequest, import_chains};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_features::chain_metrics::summarise;

fn spx_day() -> (String, ChainSnapshot) {
    // The one day kept uncompressed, for reading.
    let path = DataDir::from_env()
        .cboe_spx_2019_dir()
        .join("SPX_20190425.csv");
    if path.is_file() {
        let request = ChainRequest {
            allowed: vec!["SPX".parse().unwrap()],
            ..ChainRequest::default()
        };
        let day = import_chains(&path, &request).unwrap().days.remove(0);
        let as_of = day.quote_date.and_hms_opt(15, 45, 0).unwrap();
        return ("spx_cboe_2019_04_25".into(), day.snapshot(as_of).unwrap());
    }
    eprintln!(
        "{} missing: benchmarking a synthetic SPX day",
        path.display()
    );
    let config = SyntheticConfig {
        symbol: "SPX".into(),
        initial_spot: 2900.0,
        start: NaiveDate::from_ymd_opt(2019, 4, 25).unwrap(),
        end: NaiveDate::from_ymd_opt(2019, 4, 26).unwrap(),
        ..SyntheticConfig::default()
    };
    let market = SyntheticMarket::generate(&config).unwrap();
    ("spx_synthetic".into(), market.chain(0).unwrap())
}

fn bench(c: &mut Criterion) {
    let (name, chain) = spx_day();
    let market = RatesAndYield::try_new(0.0239, 0.019).unwrap();
    let policy = QualityPolicy::default();
    let mut group = c.benchmark_group("chain_metrics");
    group.throughput(Throughput::Elements(chain.len() as u64));
    group.bench_function(format!("summarise/{name}/{}_quotes", chain.len()), |b| {
        b.iter(|| summarise(black_box(&chain), &market, &policy).unwrap());
    });
    // The shared derived columns (times to settlement, mids, flags) alone: the part of the
    // time `summarise` spends in `volta_core::chain_rows`.
    group.bench_function(format!("chain_rows/{name}/{}_quotes", chain.len()), |b| {
        b.iter(|| chain_rows(black_box(&chain), market, &policy).len());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
