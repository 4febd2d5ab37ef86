//! Criterion benches of the European models.
//!
//! - `european/price`, `european/greeks` (price and every first-order greek),
//!   `european/second_order`, `black76/greeks`: one option per call.
//! - `european/price_1e6_loop`, `european/greeks_1e6_loop`: a book of 10⁶ seeded random
//!   options (q ≠ 0, q ≠ r) priced by a plain scalar loop; criterion reports options per second
//!   (`Throughput::Elements`), so ns/option is the reciprocal.
//!
//! Goal: price and all first-order greeks in ≤ 40 ns per option, scalar.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use volta_pricing::{FuturesOption, OptionRight, Vanilla, black76, bsm};

#[path = "support/random_options.rs"]
mod random_options;

const BOOK: usize = 1_000_000;

/// A typical single option: slightly in the money, nine months, q ≠ r.
fn one_option() -> (Vanilla, f64) {
    let option =
        Vanilla::try_new(OptionRight::Call, 105.0, 100.0, 0.75, 0.05, 0.02).expect("valid terms");
    (option, 0.25)
}

fn single(c: &mut Criterion) {
    let (option, vol) = one_option();
    let mut group = c.benchmark_group("european");
    group.bench_function("price", |b| {
        b.iter(|| bsm::price(black_box(&option), black_box(vol)));
    });
    group.bench_function("greeks", |b| {
        b.iter(|| bsm::greeks(black_box(&option), black_box(vol)));
    });
    group.bench_function("second_order", |b| {
        b.iter(|| bsm::second_order_greeks(black_box(&option), black_box(vol)));
    });
    group.finish();

    let future =
        FuturesOption::try_new(OptionRight::Put, 105.0, 100.0, 0.75, 0.05).expect("valid terms");
    let mut group = c.benchmark_group("black76");
    group.bench_function("greeks", |b| {
        b.iter(|| black76::greeks(black_box(&future), black_box(vol)));
    });
    group.finish();
}

fn book(c: &mut Criterion) {
    let options = random_options::random_options(BOOK);
    let mut group = c.benchmark_group("european");
    group.throughput(Throughput::Elements(BOOK as u64));
    // One iteration prices the whole book (tens of milliseconds): ten samples suffice.
    group.sample_size(10);
    group.bench_function("price_1e6_loop", |b| {
        b.iter(|| {
            for (option, vol) in &options {
                black_box(bsm::price(option, *vol).ok());
            }
        });
    });
    group.bench_function("greeks_1e6_loop", |b| {
        b.iter(|| {
            for (option, vol) in &options {
                black_box(bsm::greeks(option, *vol).ok());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, single, book);
criterion_main!(benches);
