//! Criterion benches for implied volatility (Jäckel's "Let's Be Rational" in `volta_pricing::implied`).
//!
//! - `implied_vol/scalar/{atm,otm,deep_otm}`: one BSM option per iteration (`bsm::implied_vol`),
//!   with the `implied-vol` crate on the same undiscounted Black input beside it for reference.
//! - `implied_vol/batch_1e6`: `batch::bsm_implied_vols_into` over random options with q ≠ 0; the sample
//!   is 2^16 options (the per-option cost does not depend on the batch size, and 1e6 rows would
//!   make the smoke run slow); throughput is reported per option.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use volta_pricing::batch::{self, QuoteInputs};
use volta_pricing::implied::implied_black_volatility;
use volta_pricing::{ErrorCode, OptionRight, Vanilla, bsm};

/// splitmix64 mapped to [0, 1): seeded, reproducible inputs.
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

fn scalar(c: &mut Criterion) {
    // (name, strike): spot 100, 3 months, 25 % vol, r = 3 %, q = 1 %.
    let cases = [("atm", 100.0), ("otm", 115.0), ("deep_otm", 200.0)];
    for (name, strike) in cases {
        let option = Vanilla::try_new(OptionRight::Call, 100.0, strike, 0.25, 0.03, 0.01).unwrap();
        let price = bsm::price(&option, 0.25).unwrap();
        let mut group = c.benchmark_group(format!("implied_vol/scalar/{name}"));
        group.bench_function("volta", |b| {
            b.iter(|| bsm::implied_vol(black_box(&option), black_box(price)));
        });
        let df = (-option.rate * option.years).exp();
        let forward = option.forward();
        group.bench_function("volta_black", |b| {
            b.iter(|| {
                implied_black_volatility(
                    black_box(price / df),
                    black_box(forward),
                    black_box(strike),
                    black_box(0.25),
                    OptionRight::Call,
                )
            });
        });
        group.bench_function("implied_vol_crate_black", |b| {
            b.iter(|| {
                implied_vol::ImpliedBlackVolatility::builder()
                    .option_price(black_box(price / df))
                    .forward(black_box(forward))
                    .strike(black_box(strike))
                    .expiry(black_box(0.25))
                    .is_call(true)
                    .build()
                    .and_then(|iv| iv.calculate::<implied_vol::DefaultSpecialFn>())
            });
        });
        group.finish();
    }
}

/// Random options: strikes within ±3 standard deviations, 1 hour to 10 years, vol 5–150 %,
/// r in [−1 %, 8 %], q in [0, 5 %], calls and puts.
struct Table {
    rights: Vec<OptionRight>,
    spots: Vec<f64>,
    strikes: Vec<f64>,
    years: Vec<f64>,
    rates: Vec<f64>,
    yields: Vec<f64>,
    prices: Vec<f64>,
}

fn table(n: usize) -> Table {
    let mut st = 7u64;
    let mut t = Table {
        rights: Vec::with_capacity(n),
        spots: Vec::with_capacity(n),
        strikes: Vec::with_capacity(n),
        years: Vec::with_capacity(n),
        rates: Vec::with_capacity(n),
        yields: Vec::with_capacity(n),
        prices: Vec::with_capacity(n),
    };
    let (lo, hi) = ((1.0_f64 / 8760.0).ln(), 10.0_f64.ln());
    while t.prices.len() < n {
        let years = (lo + uniform(&mut st) * (hi - lo)).exp();
        let vol = 0.05 + 1.45 * uniform(&mut st);
        let rate = -0.01 + 0.09 * uniform(&mut st);
        let q = 0.05 * uniform(&mut st);
        let strike = 100.0 * ((uniform(&mut st) * 6.0 - 3.0) * vol * years.sqrt()).exp();
        let right = if uniform(&mut st) < 0.5 {
            OptionRight::Call
        } else {
            OptionRight::Put
        };
        let option = Vanilla::try_new(right, 100.0, strike, years, rate, q).unwrap();
        let price = bsm::price(&option, vol).unwrap();
        t.rights.push(right);
        t.spots.push(100.0);
        t.strikes.push(strike);
        t.years.push(years);
        t.rates.push(rate);
        t.yields.push(q);
        t.prices.push(price);
    }
    t
}

fn batch(c: &mut Criterion) {
    const N: usize = 1 << 16;
    let t = table(N);
    let mut vols = vec![0.0; N];
    let mut codes = vec![ErrorCode::Ok; N];
    let mut group = c.benchmark_group("implied_vol/batch_1e6");
    group.throughput(Throughput::Elements(N as u64));
    let quotes = QuoteInputs {
        rights: &t.rights,
        spots: &t.spots,
        strikes: &t.strikes,
        years: &t.years,
        rates: &t.rates,
        dividend_yields: &t.yields,
        prices: &t.prices,
    };
    group.bench_function("bsm_implied_vols_into", |b| {
        b.iter(|| {
            batch::bsm_implied_vols_into(&quotes, &mut vols, &mut codes).unwrap();
            black_box(&vols);
        });
    });
    group.finish();
}

criterion_group!(benches, scalar, batch);
criterion_main!(benches);
