//! Criterion benches for American options: the two approximations and the Leisen-Reimer
//! lattice per option (calls and puts over a seeded random book), and implied volatility.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use volta_pricing::american::{self, alo, baw, bjerksund_stensland, lattice};
use volta_pricing::{OptionRight, Vanilla};

/// splitmix64: a small seeded generator, so every run prices the same book.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// A book of calls and puts (alternating) with q > 0 and r ≠ q, so every option has an
/// early-exercise premium.
fn book(n: usize) -> Vec<(Vanilla, f64)> {
    let mut rng = SplitMix64(0x5EED_AA11);
    (0..n)
        .map(|i| {
            let right = if i % 2 == 0 {
                OptionRight::Call
            } else {
                OptionRight::Put
            };
            let option = Vanilla::try_new(
                right,
                100.0,
                rng.uniform(70.0, 130.0),
                rng.uniform(0.05, 2.0),
                rng.uniform(0.01, 0.08),
                rng.uniform(0.01, 0.06),
            )
            .expect("valid terms");
            (option, rng.uniform(0.1, 0.6))
        })
        .collect()
}

fn per_option(
    c: &mut Criterion,
    name: &str,
    book: &[(Vanilla, f64)],
    f: impl Fn(&Vanilla, f64) -> f64,
) {
    let mut i = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            let (option, vol) = &book[i % book.len()];
            i += 1;
            black_box(f(black_box(option), black_box(*vol)))
        });
    });
}

fn benches(c: &mut Criterion) {
    let options = book(256);
    per_option(c, "american/baw", &options, |o, v| {
        baw::price(o, v).unwrap_or(f64::NAN)
    });
    per_option(c, "american/bjerksund_stensland_2002", &options, |o, v| {
        bjerksund_stensland::price(o, v).unwrap_or(f64::NAN)
    });
    per_option(c, "american/alo_fast", &options, |o, v| {
        alo::price(o, v, alo::Scheme::Fast).unwrap_or(f64::NAN)
    });
    per_option(c, "american/alo_accurate", &options, |o, v| {
        alo::price(o, v, alo::Scheme::Accurate).unwrap_or(f64::NAN)
    });
    per_option(c, "american/lattice_500", &options, |o, v| {
        lattice::price(o, v, 500).unwrap_or(f64::NAN)
    });
    let quotes: Vec<(Vanilla, f64)> = options
        .iter()
        .map(|(o, v)| {
            (
                *o,
                lattice::price(o, *v, american::IMPLIED_VOL_LATTICE_STEPS).unwrap_or(f64::NAN),
            )
        })
        .collect();
    per_option(c, "american/implied_vol", &quotes, |o, p| {
        american::implied_vol(o, p).unwrap_or(f64::NAN)
    });
}

/// A SPY-like chain: spot 600, 40 expiries from one day to two years, strikes every 1 % of
/// spot from 70 % to 130 % (61, puts and calls: 4 880 options) plus 25 weekly expiries of
/// the same strikes (3 050) — 7 930 options, priced by the accurate fixed-point scheme at a
/// skewed smile (σ 0.12-0.45), r = 4.5 %, q = 1.3 %.
fn spy_chain() -> Vec<(Vanilla, f64)> {
    let spot = 600.0;
    let mut expiries: Vec<f64> = (1..=40)
        .map(|i| 2.0 * (f64::from(i) / 40.0).powi(2))
        .collect();
    expiries.extend((1..=25).map(|w| f64::from(w) * 7.0 / 365.0 + 1.0 / 365.0));
    let mut chain = Vec::new();
    for &years in &expiries {
        for k in 0..61 {
            let moneyness = 0.7 + 0.01 * f64::from(k);
            let strike = spot * moneyness;
            // Skew: higher vol below the money, flatter at long expiries.
            let vol = (0.18 - 0.35 * (moneyness - 1.0) / (1.0 + 2.0 * years)).clamp(0.12, 0.45);
            for right in [OptionRight::Call, OptionRight::Put] {
                let option = Vanilla::try_new(right, spot, strike, years, 0.045, 0.013)
                    .expect("valid terms");
                let price = alo::price(&option, vol, alo::Scheme::Accurate).unwrap_or(f64::NAN);
                chain.push((option, price));
            }
        }
    }
    chain
}

fn chain_benches(c: &mut Criterion) {
    let chain = spy_chain();
    c.bench_function("american/implied_vol_spy_chain", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for (option, price) in &chain {
                total += american::implied_vol(black_box(option), black_box(*price)).unwrap_or(0.0);
            }
            black_box(total)
        });
    });
}

criterion_group!(american_benches, benches);
criterion_group! {
    name = chain;
    config = Criterion::default().sample_size(10);
    targets = chain_benches
}
criterion_main!(american_benches, chain);
