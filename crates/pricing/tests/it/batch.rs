//! The SIMD batch kernels against the scalar reference (one `bsm::greeks` / `black76::greeks`
//! per row), on seeded random batches, edge lengths, invalid rows and zero-diffusion rows.
//!
//! Tolerance: the SIMD kernel performs the scalar kernel's operations in the same order except
//! for exp and ln (≤ 1 ulp from std each). An error of a few ulp in d1 moves Φ(d) by
//! φ(d)·δd, i.e. a relative error of order |d|·ulp in the tails (|d| ≤ ~40 here), and greeks
//! that are differences of two legs (theta, put prices) lose relative precision when the legs
//! nearly cancel. Hence each output is compared with |simd − scalar| ≤ 1e-13·max(|scalar|,
//! scale) where scale is the option's natural size for that output (spot + strike for
//! money-valued outputs times the relevant T or 1/σ factors are bounded by the inputs'
//! ranges, so we use spot + strike for all of them, × 1/(σ√T·S) for gamma).

use proptest::prelude::*;
use volta_pricing::batch::{self, BatchInputs, FuturesBatchInputs, GreeksOut, reference};
use volta_pricing::{ErrorCode, OptionRight, PricingError};

/// splitmix64 (Steele, Lea & Flood 2014): seeded, reproducible inputs.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Owned columns of a BSM batch (dividend yield ≠ rate throughout).
#[derive(Clone, Debug)]
struct Batch {
    rights: Vec<OptionRight>,
    spots: Vec<f64>,
    strikes: Vec<f64>,
    years: Vec<f64>,
    rates: Vec<f64>,
    dividend_yields: Vec<f64>,
    vols: Vec<f64>,
}

impl Batch {
    fn random(n: usize, seed: u64) -> Self {
        let mut g = SplitMix(seed);
        let mut b = Self {
            rights: vec![],
            spots: vec![],
            strikes: vec![],
            years: vec![],
            rates: vec![],
            dividend_yields: vec![],
            vols: vec![],
        };
        for _ in 0..n {
            b.rights.push(if g.next_u64() & 1 == 0 {
                OptionRight::Call
            } else {
                OptionRight::Put
            });
            let spot = g.uniform(10.0, 200.0);
            b.spots.push(spot);
            // Log-moneyness up to ±1.5: deep in and out of the money, far tails of Φ.
            b.strikes.push(spot * g.uniform(-1.5, 1.5).exp());
            b.years.push(g.uniform(0.002, 5.0));
            b.rates.push(g.uniform(-0.02, 0.10));
            b.dividend_yields.push(g.uniform(-0.01, 0.06));
            b.vols.push(g.uniform(0.02, 1.5));
        }
        b
    }
    fn inputs(&self) -> BatchInputs<'_> {
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
    fn futures(&self) -> FuturesBatchInputs<'_> {
        FuturesBatchInputs {
            rights: &self.rights,
            forwards: &self.spots,
            strikes: &self.strikes,
            years: &self.years,
            rates: &self.rates,
            vols: &self.vols,
        }
    }
}

/// Owned outputs.
#[derive(Clone, Debug, PartialEq)]
struct Out {
    cols: [Vec<f64>; 7],
    codes: Vec<ErrorCode>,
}

const NAMES: [&str; 7] = [
    "price",
    "delta",
    "gamma",
    "vega",
    "theta",
    "rho",
    "dividend_rho",
];

impl Out {
    fn new(n: usize) -> Self {
        Self {
            cols: std::array::from_fn(|_| vec![-1.0; n]),
            codes: vec![ErrorCode::InvalidInput; n],
        }
    }
    fn view(&mut self) -> GreeksOut<'_> {
        let [price, delta, gamma, vega, theta, rho, dividend_rho] = &mut self.cols;
        GreeksOut {
            price,
            delta,
            gamma,
            vega,
            theta,
            rho,
            dividend_rho,
            codes: &mut self.codes,
        }
    }
    /// Bit patterns, so that NaN == NaN for the equality tests.
    fn bits(&self) -> Vec<Vec<u64>> {
        self.cols
            .iter()
            .map(|c| c.iter().map(|x| x.to_bits()).collect())
            .collect()
    }
}

/// Makes one input of row `i` invalid.
type Spoil = fn(&mut Batch, usize);
type GreeksFn<I> = fn(&I, &mut GreeksOut<'_>) -> Result<(), PricingError>;
type PricesFn<I> = fn(&I, &mut [f64], &mut [ErrorCode]) -> Result<(), PricingError>;

fn run<I>(f: GreeksFn<I>, inputs: &I, n: usize) -> Out {
    let mut out = Out::new(n);
    f(inputs, &mut out.view()).unwrap();
    out
}

fn run_prices<I>(f: PricesFn<I>, inputs: &I, n: usize) -> (Vec<f64>, Vec<ErrorCode>) {
    let (mut p, mut c) = (vec![-1.0; n], vec![ErrorCode::InvalidInput; n]);
    f(inputs, &mut p, &mut c).unwrap();
    (p, c)
}

/// Every output of `simd` within the tolerance of `scalar` (see the module comment); NaN must
/// match NaN and codes must be equal.
fn assert_close(b: &Batch, simd: &Out, scalar: &Out) {
    assert_eq!(simd.codes, scalar.codes);
    for (c, name) in NAMES.iter().enumerate() {
        for i in 0..b.spots.len() {
            let (x, y) = (simd.cols[c][i], scalar.cols[c][i]);
            if y.is_nan() {
                assert!(x.is_nan(), "{name}[{i}]: {x} vs NaN");
                continue;
            }
            let money = b.spots[i] + b.strikes[i];
            let scale = if c == 2 {
                money / (b.spots[i] * b.spots[i] * b.vols[i] * b.years[i].sqrt())
            } else {
                money
            };
            let tol = 1e-13 * y.abs().max(scale);
            assert!(
                (x - y).abs() <= tol,
                "{name}[{i}]: simd {x} scalar {y} diff {} tol {tol} in row {:?}",
                (x - y).abs(),
                row(b, i)
            );
        }
    }
}

fn row(b: &Batch, i: usize) -> (OptionRight, f64, f64, f64, f64, f64, f64) {
    (
        b.rights[i],
        b.spots[i],
        b.strikes[i],
        b.years[i],
        b.rates[i],
        b.dividend_yields[i],
        b.vols[i],
    )
}

fn check_all_models(b: &Batch) {
    let n = b.spots.len();
    assert_close(
        b,
        &run(batch::bsm_greeks_into, &b.inputs(), n),
        &run(reference::bsm_greeks_into, &b.inputs(), n),
    );
    assert_close(
        b,
        &run(batch::black76_greeks_into, &b.futures(), n),
        &run(reference::black76_greeks_into, &b.futures(), n),
    );
    // Price-only kernels: the same numbers as the price column of the greeks kernels.
    let greeks = run(batch::bsm_greeks_into, &b.inputs(), n);
    let (prices, codes) = run_prices(batch::bsm_prices_into, &b.inputs(), n);
    assert_eq!(
        prices.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        greeks.bits()[0]
    );
    assert_eq!(codes, greeks.codes);
    let (ref_prices, ref_codes) = run_prices(reference::bsm_prices_into, &b.inputs(), n);
    assert_eq!(ref_codes, codes);
    assert_eq!(
        ref_prices.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        run(reference::bsm_greeks_into, &b.inputs(), n).bits()[0]
    );
    let f_greeks = run(batch::black76_greeks_into, &b.futures(), n);
    let (f_prices, _) = run_prices(batch::black76_prices_into, &b.futures(), n);
    assert_eq!(
        f_prices.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        f_greeks.bits()[0]
    );
}

#[test]
fn simd_matches_the_scalar_reference_on_random_batches() {
    check_all_models(&Batch::random(20_000, 42));
}

#[test]
fn every_length_around_the_chunk_size_is_handled() {
    // 0, 1, lanes ± 1 for every vector width (2, 4, 8) and odd lengths past several chunks.
    for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 101] {
        check_all_models(&Batch::random(n, 7 + n as u64));
    }
}

#[test]
fn invalid_rows_give_nan_and_their_code_without_disturbing_neighbours() {
    let mut b = Batch::random(24, 9);
    let good = run(batch::bsm_greeks_into, &b.inputs(), 24);
    let cases: [(usize, Spoil, ErrorCode); 10] = [
        (1, |b, i| b.spots[i] = f64::NAN, ErrorCode::InvalidSpot),
        (3, |b, i| b.spots[i] = -5.0, ErrorCode::InvalidSpot),
        (4, |b, i| b.strikes[i] = -1.0, ErrorCode::InvalidStrike),
        (7, |b, i| b.years[i] = -0.1, ErrorCode::InvalidYears),
        (8, |b, i| b.rates[i] = f64::INFINITY, ErrorCode::InvalidRate),
        (
            10,
            |b, i| b.dividend_yields[i] = f64::NAN,
            ErrorCode::InvalidDividendYield,
        ),
        (13, |b, i| b.vols[i] = -0.2, ErrorCode::InvalidVol),
        (15, |b, i| b.vols[i] = f64::INFINITY, ErrorCode::InvalidVol),
        // Two bad inputs: the first in the scalar API's order wins.
        (
            16,
            |b, i| (b.strikes[i], b.vols[i]) = (f64::NAN, f64::NAN),
            ErrorCode::InvalidStrike,
        ),
        (
            23,
            |b, i| b.years[i] = f64::INFINITY,
            ErrorCode::InvalidYears,
        ),
    ];
    for (i, spoil, _) in &cases {
        spoil(&mut b, *i);
    }
    let simd = run(batch::bsm_greeks_into, &b.inputs(), 24);
    assert_close(&b, &simd, &run(reference::bsm_greeks_into, &b.inputs(), 24));
    for i in 0..24 {
        if let Some(&(_, _, code)) = cases.iter().find(|c| c.0 == i) {
            assert_eq!(simd.codes[i], code, "row {i}");
            assert!(simd.cols.iter().all(|c| c[i].is_nan()), "row {i}");
        } else {
            assert_eq!(simd.codes[i], ErrorCode::Ok);
            for ((col, good_col), name) in simd.cols.iter().zip(&good.cols).zip(NAMES) {
                assert_eq!(col[i].to_bits(), good_col[i].to_bits(), "{name} row {i}");
            }
        }
    }
    // Black-76 names the forward's failure InvalidSpot and ignores dividend yields.
    let f = run(batch::black76_greeks_into, &b.futures(), 24);
    assert_eq!(f.codes[1], ErrorCode::InvalidSpot);
    assert_eq!(f.codes[10], ErrorCode::Ok);
    assert_close(
        &b,
        &f,
        &run(reference::black76_greeks_into, &b.futures(), 24),
    );
}

#[test]
fn zero_vol_and_zero_years_rows_price_the_discounted_forward_intrinsic() {
    let mut b = Batch::random(12, 11);
    for i in 0..12 {
        if i % 2 == 0 {
            b.vols[i] = 0.0;
        } else {
            b.years[i] = 0.0;
        }
    }
    // At the money with zero years: worth nothing, delta zero, like the scalar kernel.
    b.strikes[3] = b.spots[3];
    check_all_models(&b);
    let out = run(batch::bsm_greeks_into, &b.inputs(), 12);
    for i in 0..12 {
        assert_eq!(
            (out.cols[2][i], out.cols[3][i]),
            (0.0, 0.0),
            "gamma, vega row {i}"
        );
        let forward = b.spots[i] * ((b.rates[i] - b.dividend_yields[i]) * b.years[i]).exp();
        let intrinsic =
            (-b.rates[i] * b.years[i]).exp() * b.rights[i].intrinsic(forward, b.strikes[i]);
        assert!(
            (out.cols[0][i] - intrinsic).abs() <= 1e-12 * forward,
            "row {i}"
        );
    }
    assert_eq!(out.cols[0][3], 0.0);
}

#[test]
fn mismatched_lengths_are_an_error() {
    let b = Batch::random(5, 1);
    let mut short = b.clone();
    short.vols.pop();
    let mut out = Out::new(5);
    let err = batch::bsm_greeks_into(&short.inputs(), &mut out.view()).unwrap_err();
    assert!(
        matches!(
            err,
            PricingError::SliceLength {
                name: "vols",
                expected: 5,
                found: 4,
                reference: "rights",
            }
        ),
        "{err:?}"
    );
    let mut out4 = Out::new(4);
    assert!(batch::bsm_greeks_into(&b.inputs(), &mut out4.view()).is_err());
    assert!(batch::black76_greeks_into(&b.futures(), &mut out4.view()).is_err());
    assert!(reference::bsm_greeks_into(&b.inputs(), &mut out4.view()).is_err());
    let (mut p, mut c) = (vec![0.0; 5], vec![ErrorCode::Ok; 4]);
    assert!(batch::bsm_prices_into(&b.inputs(), &mut p, &mut c).is_err());
    assert!(batch::black76_prices_into(&b.futures(), &mut p, &mut c).is_err());
    // Nothing was written on error.
    assert!(out.cols[0].iter().all(|&x| x == -1.0));
}

#[test]
fn batch_agrees_with_a_published_value() {
    // Haug (2007), "The Complete Guide to Option Pricing Formulas", §1.1.6 example: put with
    // S = 100, K = 95, T = 0.5, r = 10 %, q = 5 %, σ = 20 %: 2.4648.
    let b = Batch {
        rights: vec![OptionRight::Put],
        spots: vec![100.0],
        strikes: vec![95.0],
        years: vec![0.5],
        rates: vec![0.10],
        dividend_yields: vec![0.05],
        vols: vec![0.20],
    };
    let out = run(batch::bsm_greeks_into, &b.inputs(), 1);
    assert!((out.cols[0][0] - 2.4648).abs() < 5e-5, "{}", out.cols[0][0]);
}

#[cfg(feature = "rayon")]
#[test]
fn rayon_variants_equal_the_single_core_results_bit_for_bit() {
    // Long enough to be split into several blocks, with a ragged end and some bad rows.
    let mut b = Batch::random(70_001, 5);
    b.vols[40_000] = f64::NAN;
    b.years[65_537] = 0.0;
    let n = b.spots.len();
    let single = run(batch::bsm_greeks_into, &b.inputs(), n);
    let par = run(batch::par_bsm_greeks_into, &b.inputs(), n);
    assert_eq!((par.bits(), &par.codes), (single.bits(), &single.codes));
    let single = run(batch::black76_greeks_into, &b.futures(), n);
    let par = run(batch::par_black76_greeks_into, &b.futures(), n);
    assert_eq!((par.bits(), &par.codes), (single.bits(), &single.codes));
    assert_eq!(
        run_prices(batch::par_bsm_prices_into, &b.inputs(), n).1,
        run_prices(batch::bsm_prices_into, &b.inputs(), n).1
    );
    let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
    assert_eq!(
        bits(run_prices(batch::par_bsm_prices_into, &b.inputs(), n).0),
        bits(run_prices(batch::bsm_prices_into, &b.inputs(), n).0)
    );
    assert_eq!(
        bits(run_prices(batch::par_black76_prices_into, &b.futures(), n).0),
        bits(run_prices(batch::black76_prices_into, &b.futures(), n).0)
    );
}

fn arb_row() -> impl Strategy<Value = (bool, f64, f64, f64, f64, f64, f64)> {
    (
        any::<bool>(),
        1.0..500.0f64,
        -2.0..2.0f64,
        0.0..10.0f64,
        -0.05..0.15f64,
        -0.05..0.10f64,
        0.0..2.0f64,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_batches_match_the_reference(rows in prop::collection::vec(arb_row(), 0..40)) {
        let mut b = Batch::random(0, 0);
        for (call, s, m, t, r, q, v) in rows {
            b.rights.push(if call { OptionRight::Call } else { OptionRight::Put });
            b.spots.push(s);
            b.strikes.push(s * m.exp());
            b.years.push(t);
            b.rates.push(r);
            b.dividend_yields.push(q);
            b.vols.push(v);
        }
        check_all_models(&b);
    }
}

/// Issue 18 §3 in the batch: a zero spot or strike is priced (by the scalar kernel, row by
/// row), a result beyond `f64` is NaN with [`ErrorCode::Overflow`] — as the scalar API says —
/// and the neighbours are untouched.
#[test]
fn zero_spot_or_strike_and_overflow_rows_follow_the_scalar_api() {
    let mut b = Batch::random(16, 21);
    let good = run(batch::bsm_greeks_into, &b.inputs(), 16);
    b.spots[2] = 0.0;
    b.strikes[5] = 0.0;
    // r = −10 for 100 years: a put worth K·e^{1000}, a call whose legs overflow.
    (b.rates[9], b.years[9]) = (-10.0, 100.0);
    (b.dividend_yields[12], b.years[12]) = (-10.0, 100.0);
    let simd = run(batch::bsm_greeks_into, &b.inputs(), 16);
    let scalar = run(reference::bsm_greeks_into, &b.inputs(), 16);
    assert_eq!(simd.codes, scalar.codes);
    for i in [2, 5] {
        assert_eq!(simd.codes[i], ErrorCode::Ok);
        for (col, reference) in simd.cols.iter().zip(&scalar.cols) {
            assert_eq!(col[i].to_bits(), reference[i].to_bits(), "row {i}");
        }
    }
    assert!(simd.codes[9] == ErrorCode::Overflow || simd.codes[12] == ErrorCode::Overflow);
    for i in [0, 1, 3, 4, 6, 7, 8, 10, 11, 13, 14, 15] {
        assert_eq!(
            simd.cols[0][i].to_bits(),
            good.cols[0][i].to_bits(),
            "row {i}"
        );
    }
    let zero_put = match b.rights[2] {
        OptionRight::Put => b.strikes[2] * (-b.rates[2] * b.years[2]).exp(),
        OptionRight::Call => 0.0,
    };
    assert!((run(batch::bsm_greeks_into, &b.inputs(), 16).cols[0][2] - zero_put).abs() < 1e-12);
    let (mut prices, mut codes) = (vec![0.0; 16], vec![ErrorCode::Ok; 16]);
    batch::bsm_prices_into(&b.inputs(), &mut prices, &mut codes).unwrap();
    assert_eq!(
        prices[2].to_bits(),
        run(reference::bsm_greeks_into, &b.inputs(), 16).cols[0][2].to_bits()
    );
    assert!(
        prices
            .iter()
            .zip(&codes)
            .all(|(p, c)| p.is_finite() == (*c == ErrorCode::Ok))
    );
}
