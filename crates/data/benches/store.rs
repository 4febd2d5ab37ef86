//! Store throughput, SQLite and PostgreSQL side by side (`store/sqlite/…`, `store/postgres/…`):
//! bulk import of a million option quotes (issue 4 §6 and issue 17 goal: ≥ 250 000 quotes/s),
//! loading a day's ~5 000-quote chain (≤ 5 ms), and the reads of a year of backtest (one day's
//! chain and its snapshot times per session, 252 sessions; issue 17: PostgreSQL within 1.5× of
//! SQLite), on 5 000-quote chains and on 20-quote chains (where each query's round trip, not
//! the data, is the cost).
//!
//! PostgreSQL runs on a throw-away local cluster (`tests/it/pg_cluster.rs`; skipped with a
//! message where the server binaries are missing). Run in release:
//! `cargo bench -p volta-data --bench store` (add `--no-default-features --features postgres`
//! to leave polars out of the build).

#[path = "../tests/it/pg_cluster.rs"]
mod pg_cluster;

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use volta_core::{
    ChainSnapshot, ContractKey, OptionQuote, OptionRight, Price, Strike, VendorAnalytics,
};
use volta_data::store::{MarketStore, Store};

const QUOTES_PER_DAY: usize = 5_000;
/// Sessions in a year of backtest.
const YEAR_SESSIONS: u64 = 252;

/// One day's SPXW chain of `QUOTES_PER_DAY` quotes: 25 weekly expiries, calls and puts on a
/// grid of strikes, vendor analytics on most rows, like the Cboe files.
fn day_chain(day: u64) -> ChainSnapshot {
    sized_chain(day, QUOTES_PER_DAY)
}

/// As [`day_chain`], `n` quotes.
fn sized_chain(day: u64, n: usize) -> ChainSnapshot {
    let quotes_per_day = n;
    let start = NaiveDate::from_ymd_opt(2019, 1, 2).unwrap();
    let as_of = (start + Days::new(day)).and_hms_opt(16, 0, 0).unwrap();
    let mut quotes = Vec::with_capacity(quotes_per_day);
    'outer: for e in 0..25u64 {
        let expiry = start + Days::new(day + 7 * (e + 1));
        for s in 0..quotes_per_day as u32 {
            for right in [OptionRight::Call, OptionRight::Put] {
                if quotes.len() == quotes_per_day {
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

/// The stores to compare: a SQLite file and, where PostgreSQL is installed, a database on a
/// throw-away cluster.
struct Stores {
    dir: tempfile::TempDir,
    cluster: Option<pg_cluster::PgCluster>,
    made: std::cell::Cell<u32>,
    /// The import bench's stores (URLs or paths), dropped before the next is made: a million
    /// quotes per sample would fill the disk.
    scratch: std::cell::RefCell<Vec<String>>,
}

impl Stores {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            cluster: pg_cluster::PgCluster::start(),
            made: std::cell::Cell::new(0),
            scratch: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The names of the stores compared here.
    fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = vec!["sqlite"];
        if self.cluster.is_some() {
            kinds.push("postgres");
        }
        kinds
    }

    /// A new, empty store of `kind`; with `scratch`, the previous scratch stores are deleted
    /// first.
    fn fresh(&self, kind: &str, scratch: bool) -> Box<dyn Store> {
        if scratch {
            for old in self.scratch.borrow_mut().drain(..) {
                self.delete(&old);
            }
        }
        let n = self.made.get();
        self.made.set(n + 1);
        let location = match kind {
            "postgres" => self.cluster.as_ref().unwrap().fresh_database(),
            _ => self
                .dir
                .path()
                .join(format!("bench{n}.db"))
                .display()
                .to_string(),
        };
        if scratch {
            self.scratch.borrow_mut().push(location.clone());
        }
        volta_data::store::open(&location).unwrap()
    }

    fn delete(&self, location: &str) {
        if let Some(cluster) = &self.cluster
            && volta_data::store::is_postgres_url(location)
        {
            let db = pg_cluster::PgCluster::database_of(location);
            let mut admin =
                postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).unwrap();
            // The name is one of ours (`tN`), not input.
            admin
                .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
                .unwrap();
            return;
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{location}{suffix}"));
        }
    }
}

/// What a backtest reads from the store in a year: per session, the day's snapshot times and
/// its chain. Returns the quotes read.
fn backtest_year(store: &dyn Store, first: NaiveDate) -> usize {
    let spx = "SPX".parse().unwrap();
    (0..YEAR_SESSIONS)
        .map(|d| {
            let day = first + Days::new(d);
            black_box(store.snapshot_times(&spx, day).unwrap());
            store.chain_on(&spx, day).unwrap().map_or(0, |c| c.len())
        })
        .sum()
}

fn bench_store(c: &mut Criterion) {
    let stores = Stores::new();
    // 200 days × 5 000 quotes = one million rows, imported in one call (one transaction).
    let chains: Vec<ChainSnapshot> = (0..200).map(day_chain).collect();
    let rows: usize = chains.iter().map(ChainSnapshot::len).sum();
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    for kind in stores.kinds() {
        group.bench_function(format!("{kind}/import 1M quotes"), |b| {
            b.iter_batched(
                || stores.fresh(kind, true),
                |mut store| {
                    black_box(store.upsert_chains(&chains).unwrap());
                    store
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
    for old in stores.scratch.borrow_mut().drain(..) {
        stores.delete(&old);
    }

    // A year of sessions, each with a 5 000-quote chain (1.26 M quotes), and each with a
    // 20-quote chain.
    let year: Vec<ChainSnapshot> = (0..YEAR_SESSIONS).map(day_chain).collect();
    let small: Vec<ChainSnapshot> = (0..YEAR_SESSIONS).map(|d| sized_chain(d, 20)).collect();
    let spx = "SPX".parse().unwrap();
    let first = year[0].as_of().date();
    let day = year[100].as_of().date();
    for kind in stores.kinds() {
        let mut store = stores.fresh(kind, false);
        store.upsert_chains(&year).unwrap();
        let mut small_store = stores.fresh(kind, false);
        small_store.upsert_chains(&small).unwrap();

        let mut group = c.benchmark_group("store");
        group.throughput(Throughput::Elements(QUOTES_PER_DAY as u64));
        group.bench_function(format!("{kind}/load a 5000-quote day chain"), |b| {
            b.iter(|| black_box(store.chain_on(&spx, black_box(day)).unwrap().unwrap().len()));
        });
        group.finish();

        let mut group = c.benchmark_group("store");
        group.sample_size(10);
        group.bench_function(format!("{kind}/backtest year of 5000-quote chains"), |b| {
            b.iter(|| assert_eq!(backtest_year(store.as_ref(), first), 252 * QUOTES_PER_DAY));
        });
        group.bench_function(format!("{kind}/backtest year of 20-quote chains"), |b| {
            b.iter(|| assert_eq!(backtest_year(small_store.as_ref(), first), 252 * 20));
        });
        group.finish();
    }
}

criterion_group!(benches, bench_store);
criterion_main!(benches);
