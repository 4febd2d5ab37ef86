//! Criterion benches of the batch API over 10⁶ random BSM options (q ≠ 0), per option:
//! `batch/price/{simd,scalar_reference}`, `batch/greeks/{simd,scalar_reference}` and, with the
//! `rayon` feature, `batch/greeks/rayon`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use volta_pricing::batch::{self, BatchInputs, GreeksOut, reference};
use volta_pricing::{ErrorCode, OptionRight};

const N: usize = 1_000_000;

/// splitmix64 (Steele, Lea & Flood 2014): seeded inputs.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn uniform(state: &mut u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * ((splitmix(state) >> 11) as f64 / (1u64 << 53) as f64)
}

struct Columns {
    rights: Vec<OptionRight>,
    cols: [Vec<f64>; 6],
}

fn columns() -> Columns {
    let mut state = 2024;
    let rights = (0..N)
        .map(|_| {
            if splitmix(&mut state) & 1 == 0 {
                OptionRight::Call
            } else {
                OptionRight::Put
            }
        })
        .collect();
    let mut cols: [Vec<f64>; 6] = Default::default();
    for _ in 0..N {
        let spot = uniform(&mut state, 50.0, 150.0);
        cols[0].push(spot);
        cols[1].push(spot * uniform(&mut state, -0.5, 0.5).exp());
        cols[2].push(uniform(&mut state, 0.02, 3.0));
        cols[3].push(uniform(&mut state, 0.0, 0.08));
        cols[4].push(uniform(&mut state, 0.0, 0.05));
        cols[5].push(uniform(&mut state, 0.05, 0.8));
    }
    Columns { rights, cols }
}

fn bench(c: &mut Criterion) {
    let data = columns();
    let [spots, strikes, years, rates, dividend_yields, vols] = &data.cols;
    let inputs = BatchInputs {
        rights: &data.rights,
        spots,
        strikes,
        years,
        rates,
        dividend_yields,
        vols,
    };
    let mut outs: [Vec<f64>; 7] = std::array::from_fn(|_| vec![0.0; N]);
    let mut codes = vec![ErrorCode::Ok; N];

    let mut group = c.benchmark_group("batch/price");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.bench_function("simd", |b| {
        b.iter(|| batch::bsm_prices_into(black_box(&inputs), &mut outs[0], &mut codes).unwrap());
    });
    group.bench_function("scalar_reference", |b| {
        b.iter(|| {
            reference::bsm_prices_into(black_box(&inputs), &mut outs[0], &mut codes).unwrap();
        });
    });
    group.finish();

    let [price, delta, gamma, vega, theta, rho, dividend_rho] = &mut outs;
    let mut out = GreeksOut {
        price,
        delta,
        gamma,
        vega,
        theta,
        rho,
        dividend_rho,
        codes: &mut codes,
    };
    let mut group = c.benchmark_group("batch/greeks");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.bench_function("simd", |b| {
        b.iter(|| batch::bsm_greeks_into(black_box(&inputs), &mut out).unwrap());
    });
    group.bench_function("scalar_reference", |b| {
        b.iter(|| reference::bsm_greeks_into(black_box(&inputs), &mut out).unwrap());
    });
    #[cfg(feature = "rayon")]
    group.bench_function("rayon", |b| {
        b.iter(|| batch::par_bsm_greeks_into(black_box(&inputs), &mut out).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
