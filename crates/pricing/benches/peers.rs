//! Volta beside the best Rust crates, in one process, on the same seeded random options
//! (q ≠ 0, q ≠ r; see `support/random_options.rs`).
//!
//! - `peers/price/{volta, volta_batch, blackscholes, blackscholes_rational, implied_vol}`
//! - `peers/greeks/{volta, volta_batch, blackscholes}`: price and every first-order greek.
//! - `peers/implied_vol/{volta, volta_batch, implied_vol}`: implied volatility from Volta's
//!   prices.
//!
//! `volta` is the scalar API called once per option; `volta_batch` is the batch API over the
//! whole sample (structure of arrays, SIMD where the kernel has it).
//!
//! Each iteration handles the whole sample, so with `Throughput::Elements` criterion reports
//! options per second; ns/option is the reciprocal.
//!
//! Before timing, every peer's answers are compared with Volta's and the agreement is printed
//! (max relative difference, and how many options exceed 1e-9). Peers:
//! - `blackscholes` 0.24 computes in `f32` (and even its `calc_rational_price`, whose
//!   Let's-Be-Rational core is `f64`, builds the forward in `f32`): it cannot agree to 1e-9; it
//!   is held to `f32`-level agreement (1e-4 of the option's scale) and the row says so.
//!   Its units differ from Volta's: vega and rho per point, theta per day of 365.25 days;
//!   its `epsilon` is the dividend rho.
//! - `implied-vol` 2.1 (Jäckel's "Let's Be Rational") prices undiscounted on the forward in
//!   `f64`: it must agree with Volta to 1e-9 relative.

use std::hint::black_box;

use blackscholes::{Greeks as _, Inputs, OptionType, Pricing as _};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use implied_vol::{DefaultSpecialFn, ImpliedBlackVolatility, PriceBlackScholes};
use volta_pricing::batch::{self, BatchInputs, GreeksOut, QuoteInputs};
use volta_pricing::{ErrorCode, OptionRight, Vanilla, bsm};

#[path = "support/random_options.rs"]
mod random_options;

/// The sample: one million options.
const SAMPLE: usize = 1_000_000;

/// Agreement asked of `f64` peers.
const F64_REL: f64 = 1e-9;
/// Agreement asked of `f32` peers, relative to S·e^{−qT} + K·e^{−rT} (prices) or to the
/// greek's own scale.
const F32_REL: f64 = 1e-4;

/// One option with everything each peer needs precomputed outside the timed loops.
struct Row {
    option: Vanilla,
    vol: f64,
    /// `blackscholes` inputs, rounded to `f32`.
    bs: Inputs,
    /// Volta's price, the input of the implied-volatility benches.
    price: f64,
}

fn rows() -> Vec<Row> {
    random_options::random_options(SAMPLE)
        .into_iter()
        .map(|(option, vol)| {
            let bs = Inputs::new(
                match option.right {
                    OptionRight::Call => OptionType::Call,
                    OptionRight::Put => OptionType::Put,
                },
                option.spot as f32,
                option.strike as f32,
                None,
                option.rate as f32,
                option.dividend_yield as f32,
                option.years as f32,
                Some(vol as f32),
            );
            let price = bsm::price(&option, vol).expect("valid sample");
            Row {
                option,
                vol,
                bs,
                price,
            }
        })
        .collect()
}

fn is_call(row: &Row) -> bool {
    row.option.right == OptionRight::Call
}

/// Forward and discount factor, computed inside the timed loops: `implied-vol` works on the
/// forward and undiscounted prices, so a caller holding spot terms pays for the conversion.
fn forward_and_discount(o: &Vanilla) -> (f64, f64) {
    (o.forward(), (-o.rate * o.years).exp())
}

fn implied_vol_price(row: &Row) -> f64 {
    let (forward, discount) = forward_and_discount(&row.option);
    let undiscounted = PriceBlackScholes::builder()
        .forward(forward)
        .strike(row.option.strike)
        .volatility(row.vol)
        .expiry(row.option.years)
        .is_call(is_call(row))
        .build()
        .map_or(f64::NAN, |p| p.calculate::<DefaultSpecialFn>());
    discount * undiscounted
}

fn implied_vol_iv(row: &Row) -> f64 {
    let (forward, discount) = forward_and_discount(&row.option);
    ImpliedBlackVolatility::builder()
        .option_price(row.price / discount)
        .forward(forward)
        .strike(row.option.strike)
        .expiry(row.option.years)
        .is_call(is_call(row))
        .build()
        .and_then(|iv| iv.calculate::<DefaultSpecialFn>())
        .unwrap_or(f64::NAN)
}

/// Price and the first-order greeks through `blackscholes`, in Volta's units:
/// [price, delta, gamma, vega, theta, rho, dividend rho].
fn blackscholes_greeks(i: &Inputs) -> [f64; 7] {
    let get = |r: Result<f32, String>| r.map_or(f64::NAN, f64::from);
    [
        get(i.calc_price()),
        get(i.calc_delta()),
        get(i.calc_gamma()),
        get(i.calc_vega()) * 100.0,
        get(i.calc_theta()) * 365.25,
        get(i.calc_rho()) * 100.0,
        get(i.calc_epsilon()),
    ]
}

fn volta_greeks(row: &Row) -> [f64; 7] {
    let g = bsm::greeks(&row.option, row.vol).expect("valid sample");
    [
        g.price,
        g.delta,
        g.gamma,
        g.vega,
        g.theta,
        g.rho,
        g.dividend_rho,
    ]
}

/// Largest difference over the sample, relative to `scale(row)`, and how many rows exceed
/// `tol`; printed, then asserted against `tol`.
fn agreement(label: &str, rows: &[Row], tol: f64, diff: impl Fn(&Row) -> (f64, f64, f64)) -> f64 {
    let mut worst = 0.0_f64;
    let mut over = 0_usize;
    for row in rows {
        let (volta, peer, scale) = diff(row);
        let rel = (volta - peer).abs() / scale;
        // NaN (a peer failing) counts as a disagreement.
        if rel.is_nan() || rel > tol {
            over += 1;
        }
        worst = if rel.is_nan() {
            f64::INFINITY
        } else {
            worst.max(rel)
        };
    }
    println!(
        "agreement {label:<40} max rel diff {worst:.2e}  rows > {tol:.0e}: {over}/{}",
        rows.len()
    );
    worst
}

fn price_scale(row: &Row) -> f64 {
    let o = &row.option;
    o.spot * (-o.dividend_yield * o.years).exp() + o.strike * (-o.rate * o.years).exp()
}

fn check_agreement(rows: &[Row]) {
    let iv_price = agreement("implied-vol price vs volta", rows, F64_REL, |r| {
        (r.price, implied_vol_price(r), r.price.max(1e-300))
    });
    assert!(
        iv_price <= F64_REL,
        "implied-vol disagrees with Volta's price"
    );
    let iv = agreement("implied-vol iv(volta price) vs vol", rows, F64_REL, |r| {
        (r.vol, implied_vol_iv(r), r.vol)
    });
    // Where vega·σ is tiny next to the option's scale (far out of the money, or deep in it with
    // almost no time value) the price carries too few digits of the volatility for any solver:
    // a price rounding error of ε·scale moves σ by ε·scale/vega. The count above says how many
    // such rows the sample has; hold the others, vega·σ ≥ 1e-6·scale, to 1e-9.
    let conditioned: Vec<&Row> = rows
        .iter()
        .filter(|r| volta_greeks(r)[3] * r.vol >= 1e-6 * price_scale(r))
        .collect();
    let worst = conditioned
        .iter()
        .map(|r| (implied_vol_iv(r) - r.vol).abs() / r.vol)
        .fold(0.0_f64, f64::max);
    println!(
        "agreement {:<40} max rel diff {worst:.2e} over {} rows with vega·σ ≥ 1e-6·scale (all rows: {iv:.2e})",
        "implied-vol iv, well-conditioned",
        conditioned.len()
    );
    assert!(
        worst <= F64_REL,
        "implied-vol does not recover Volta's volatility"
    );
    let volta_iv = conditioned
        .iter()
        .map(|r| (bsm::implied_vol(&r.option, r.price).unwrap_or(f64::NAN) - r.vol).abs() / r.vol)
        .fold(0.0_f64, f64::max);
    println!(
        "agreement {:<40} max rel diff {volta_iv:.2e}",
        "volta iv, well-conditioned"
    );
    assert!(
        volta_iv <= F64_REL,
        "Volta's implied vol does not recover the volatility"
    );

    println!(
        "note: blackscholes 0.24 computes in f32; 1e-9 is out of its reach, it is held to {F32_REL:.0e}"
    );
    let names = [
        "price",
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
        "dividend_rho",
    ];
    for (k, name) in names.iter().enumerate() {
        let worst = agreement(&format!("blackscholes (f32) {name}"), rows, F32_REL, |r| {
            let (v, p) = (volta_greeks(r)[k], blackscholes_greeks(&r.bs)[k]);
            (v, p, v.abs().max(greek_scale(r, k)))
        });
        assert!(
            worst <= F32_REL,
            "blackscholes {name} disagrees beyond f32 precision"
        );
    }
    let worst = agreement(
        "blackscholes (f32) calc_rational_price",
        rows,
        F32_REL,
        |r| {
            (
                r.price,
                r.bs.calc_rational_price().unwrap_or(f64::NAN),
                price_scale(r),
            )
        },
    );
    assert!(
        worst <= F32_REL,
        "blackscholes calc_rational_price disagrees beyond f32 precision"
    );
}

/// The natural size of greek `k` (indexing `volta_greeks`), so that a greek near zero is
/// compared on the scale it moves on.
fn greek_scale(row: &Row, k: usize) -> f64 {
    let o = &row.option;
    let sd = row.vol * o.years.sqrt();
    match k {
        0 => price_scale(row),
        1 => 1.0,
        2 => 1.0 / (o.spot * sd),
        3 => o.spot * o.years.sqrt(),
        4 => o.spot * row.vol / o.years.sqrt() + (o.rate.abs() + o.dividend_yield.abs()) * o.spot,
        5 => o.strike * o.years,
        _ => o.spot * o.years,
    }
}

/// The sample's terms as columns, for the batch API.
struct Terms {
    rights: Vec<OptionRight>,
    spots: Vec<f64>,
    strikes: Vec<f64>,
    years: Vec<f64>,
    rates: Vec<f64>,
    dividend_yields: Vec<f64>,
    vols: Vec<f64>,
    prices: Vec<f64>,
}

impl Terms {
    fn batch(&self) -> BatchInputs<'_> {
        BatchInputs {
            rights: &self.rights,
            spots: &self.spots,
            strikes: &self.strikes,
            years: &self.years,
            rates: &self.rates,
            dividend_yields: &self.dividend_yields,
            vols: &self.vols,
        }
    }

    fn quotes(&self) -> QuoteInputs<'_> {
        QuoteInputs {
            rights: &self.rights,
            spots: &self.spots,
            strikes: &self.strikes,
            years: &self.years,
            rates: &self.rates,
            dividend_yields: &self.dividend_yields,
            prices: &self.prices,
        }
    }
}

/// The columns and preallocated outputs.
struct Columns {
    terms: Terms,
    out: [Vec<f64>; 7],
    codes: Vec<ErrorCode>,
}

impl Columns {
    fn new(rows: &[Row]) -> Self {
        let col = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<_>>();
        Self {
            terms: Terms {
                rights: rows.iter().map(|r| r.option.right).collect(),
                spots: col(|r| r.option.spot),
                strikes: col(|r| r.option.strike),
                years: col(|r| r.option.years),
                rates: col(|r| r.option.rate),
                dividend_yields: col(|r| r.option.dividend_yield),
                vols: col(|r| r.vol),
                prices: col(|r| r.price),
            },
            out: std::array::from_fn(|_| vec![0.0; rows.len()]),
            codes: vec![ErrorCode::Ok; rows.len()],
        }
    }

    fn prices_into(&mut self) {
        batch::bsm_prices_into(&self.terms.batch(), &mut self.out[0], &mut self.codes)
            .expect("equal lengths");
    }

    fn greeks_into(&mut self) {
        let [price, delta, gamma, vega, theta, rho, dividend_rho] = &mut self.out;
        let mut out = GreeksOut {
            price,
            delta,
            gamma,
            vega,
            theta,
            rho,
            dividend_rho,
            codes: &mut self.codes,
        };
        batch::bsm_greeks_into(&self.terms.batch(), &mut out).expect("equal lengths");
    }

    fn implied_vols_into(&mut self) {
        batch::bsm_implied_vols_into(&self.terms.quotes(), &mut self.out[0], &mut self.codes)
            .expect("equal lengths");
    }
}

/// The batch API must give the scalar API's answers before it is timed.
fn check_batch_agreement(rows: &[Row], columns: &mut Columns) {
    columns.greeks_into();
    let worst = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (columns.out[0][i] - r.price).abs() / price_scale(r))
        .fold(0.0_f64, f64::max);
    println!(
        "agreement {:<40} max rel diff {worst:.2e}",
        "volta batch price vs scalar"
    );
    assert!(
        worst <= F64_REL,
        "the batch price disagrees with the scalar one"
    );
    columns.implied_vols_into();
    let worst = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let scalar = bsm::implied_vol(&r.option, r.price).unwrap_or(f64::NAN);
            (columns.out[0][i] - scalar).abs() / scalar
        })
        .fold(0.0_f64, f64::max);
    println!(
        "agreement {:<40} max rel diff {worst:.2e}",
        "volta batch iv vs scalar"
    );
    // The batch solver runs Let's Be Rational on SIMD lanes (its own rounding): seen 2.6e-15.
    assert!(
        worst <= 1e-13,
        "the batch implied vol disagrees with the scalar one"
    );
}

/// Times `f` over every row of the sample, one call per option (the way the peers are called).
fn per_row<T>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rows: &[Row],
    f: impl Fn(&Row) -> T,
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            for r in rows {
                black_box(f(black_box(r)));
            }
        });
    });
}

fn peers(c: &mut Criterion) {
    let rows = rows();
    check_agreement(&rows);
    let mut columns = Columns::new(&rows);
    check_batch_agreement(&rows, &mut columns);
    let elements = Throughput::Elements(SAMPLE as u64);

    let mut group = c.benchmark_group("peers/price");
    group.sample_size(10);
    group.throughput(elements.clone());
    group.bench_function("volta_batch", |b| b.iter(|| columns.prices_into()));
    per_row(&mut group, "volta", &rows, |r| {
        bsm::price(&r.option, r.vol).ok()
    });
    per_row(&mut group, "blackscholes", &rows, |r| {
        r.bs.calc_price().ok()
    });
    per_row(&mut group, "blackscholes_rational", &rows, |r| {
        r.bs.calc_rational_price().ok()
    });
    per_row(&mut group, "implied_vol", &rows, implied_vol_price);
    group.finish();

    let mut group = c.benchmark_group("peers/greeks");
    group.sample_size(10);
    group.throughput(elements.clone());
    group.bench_function("volta_batch", |b| b.iter(|| columns.greeks_into()));
    per_row(&mut group, "volta", &rows, |r| {
        bsm::greeks(&r.option, r.vol).ok()
    });
    per_row(&mut group, "blackscholes", &rows, |r| {
        blackscholes_greeks(&r.bs)
    });
    group.finish();

    let mut group = c.benchmark_group("peers/implied_vol");
    group.sample_size(10);
    group.throughput(elements);
    per_row(&mut group, "volta", &rows, |r| {
        bsm::implied_vol(&r.option, r.price).ok()
    });
    group.bench_function("volta_batch", |b| b.iter(|| columns.implied_vols_into()));
    per_row(&mut group, "implied_vol", &rows, implied_vol_iv);
    group.finish();
}

criterion_group!(benches, peers);
criterion_main!(benches);
