//! End-to-end import throughput (issue 4 goal: ≥ 250 000 option-quote rows/s from CSV into
//! the store): a deterministic CSV of 1 000 000 quotes in the CBOE delayed layout (the real
//! SPX files' header and number style), imported with `ingest_chains` into a fresh SQLite file
//! — read, parse, validate, build snapshots, one `upsert_chains` transaction.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use volta_core::NyseCalendar;
use volta_data::import::ChainRequest;
use volta_data::ingest::{SnapshotTime, ingest_chains};
use volta_data::store::SqliteStore;

/// 80 sessions × 25 expiries × 250 strikes × 2 rights = 1 000 000 rows.
const SESSIONS: usize = 80;
const EXPIRIES: u64 = 25;
const STRIKES: u32 = 250;

const HEADER: &str = "underlying,underlying_last,exchange,optionroot,type,expiration,quotedate,\
strike,last,net,bid,ask,volume,openinterest,impliedvol,delta,gamma\n";

fn us(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.month(), d.day(), d.year())
}

/// Writes the CSV; returns its row count. Prices, volumes and greeks vary with a cheap
/// deterministic hash so that no two rows are alike, as in the real files.
fn write_csv(path: &Path) -> usize {
    let mut out = String::with_capacity(140_000_000);
    out.push_str(HEADER);
    let mut day = NaiveDate::from_ymd_opt(2019, 4, 25).unwrap();
    let mut rows = 0;
    for session in 0..SESSIONS {
        let spot = 2900 + (session as u32 * 7) % 60;
        let quote_date = us(day);
        for e in 0..EXPIRIES {
            let expiry = day + Days::new(2 + 7 * e);
            let (yy, mm, dd) = (expiry.year() % 100, expiry.month(), expiry.day());
            let expiration = us(expiry);
            for s in 0..STRIKES {
                let strike = 2000 + 5 * s;
                for (right, letter) in [("call", 'C'), ("put", 'P')] {
                    let h = (s * 31 + e as u32 * 17 + session as u32 * 13) % 9973;
                    let bid = h % 4000;
                    let ask = bid + 10 + h % 40;
                    writeln!(
                        out,
                        "SPX,{spot}.{:02},CBOE,SPXW{yy:02}{mm:02}{dd:02}{letter}{:08},{right},{expiration},{quote_date},{strike}.0,{}.{:02},0.0,{}.{:02},{}.{:02},{},{},{}.{:04},{}0.{:04},0.{:04}",
                        session % 100,
                        strike * 1000,
                        bid / 100,
                        bid % 100,
                        bid / 100,
                        bid % 100,
                        ask / 100,
                        ask % 100,
                        h % 500,
                        h * 3,
                        h % 2,
                        h,
                        if letter == 'P' { "-" } else { "" },
                        h,
                        h % 100,
                    )
                    .unwrap();
                    rows += 1;
                }
            }
        }
        day = NyseCalendar.next_session(day).unwrap();
    }
    std::fs::write(path, out).unwrap();
    rows
}

fn bench_import(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("SPX_bench.csv");
    let rows = write_csv(&csv);
    assert_eq!(rows, 1_000_000);
    let request = ChainRequest::default();
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("1M CBOE quote rows, CSV to SQLite", |b| {
        b.iter_batched(
            || {
                let db = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(db.path().join("bench.db")).unwrap();
                (db, store)
            },
            |(db, mut store)| {
                let s =
                    ingest_chains(&mut store, &csv, &request, SnapshotTime::FormatDefault).unwrap();
                assert_eq!(s.rows_read, rows as u64);
                black_box(s.rows_changed);
                (db, store)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_import);
criterion_main!(benches);
