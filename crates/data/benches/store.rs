//! Store throughput: bulk import of option quotes and loading a day's chain (issue 4 §6 goals:
//! ≥ 250 000 quotes/s imported, a ~5 000-quote day chain in ≤ 5 ms).

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use volta_core::{
    ChainSnapshot, ContractKey, OptionQuote, OptionRight, Price, Strike, VendorAnalytics,
};
use volta_data::store::{MarketStore, SqliteStore};

const QUOTES_PER_DAY: usize = 5_000;

/// One day's SPXW chain of `QUOTES_PER_DAY` quotes: 25 weekly expiries, calls and puts on a
/// grid of strikes, vendor analytics on most rows, like the Cboe files.
fn day_chain(day: u64) -> ChainSnapshot {
    let start = NaiveDate::from_ymd_opt(2019, 1, 2).unwrap();
    let as_of = (start + Days::new(day)).and_hms_opt(16, 0, 0).unwrap();
    let mut quotes = Vec::with_capacity(QUOTES_PER_DAY);
    'outer: for e in 0..25u64 {
        let expiry = start + Days::new(day + 7 * (e + 1));
        for s in 0..QUOTES_PER_DAY as u32 {
            for right in [OptionRight::Call, OptionRight::Put] {
                if quotes.len() == QUOTES_PER_DAY {
                    break 'outer;
                }
                let strike = Strike::from_thousandths(1_000_000 + 5_000 * s).unwrap();
                let key = ContractKey::try_new("SPXW", expiry, right, strike).unwrap();
                let cents = (u64::from(s) * 37 + e * 11 + day) % 50_000;
                let signed = i64::try_from(cents).unwrap();
                let bid = Price::try_new(Decimal::new(signed, 2)).unwrap();
                let ask = Price::try_new(Decimal::new(signed + 10, 2)).unwrap();
                let mut q = OptionQuote::new(key, Some(bid), Some(ask));
                q.last = Some(bid);
                q.volume = cents;
                q.open_interest = cents * 7;
                q.vendor = Some(VendorAnalytics {
                    implied_vol: Some(0.1 + cents as f64 * 1e-5),
                    delta: Some(0.5),
                    gamma: Some(0.001),
                    theta: None,
                    vega: None,
                });
                quotes.push(q);
            }
        }
    }
    ChainSnapshot::try_new(
        as_of,
        "SPX".parse().unwrap(),
        "2900".parse().unwrap(),
        quotes,
    )
    .unwrap()
}

fn bench_store(c: &mut Criterion) {
    // 200 days × 5 000 quotes = one million rows, imported in one call (one transaction).
    let chains: Vec<ChainSnapshot> = (0..200).map(day_chain).collect();
    let rows: usize = chains.iter().map(ChainSnapshot::len).sum();
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("import 1M quotes", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
                (dir, store)
            },
            |(dir, mut store)| {
                black_box(store.upsert_chains(&chains).unwrap());
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();

    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    store.upsert_chains(&chains).unwrap();
    let spx = "SPX".parse().unwrap();
    let day = chains[100].as_of().date();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(QUOTES_PER_DAY as u64));
    group.bench_function("load a 5000-quote day chain", |b| {
        b.iter(|| black_box(store.chain_on(&spx, black_box(day)).unwrap().unwrap().len()));
    });
    group.finish();
}

criterion_group!(benches, bench_store);
criterion_main!(benches);
