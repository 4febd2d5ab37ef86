//! Seeded random European options for the benches (shared by `european.rs` and `peers.rs`
//! through `#[path]`): the same seed gives the same options on every machine, and every option
//! has a non-zero dividend yield different from its rate (q = 0 or q = r would hide carry work
//! and carry bugs).

use volta_pricing::{OptionRight, Vanilla};

/// splitmix64 (Steele, Lea & Flood 2014; Vigna's reference constants): a tiny, well-mixed,
/// seedable generator, written inline so that the benches need no random-number crate.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi), from the top 53 bits.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        lo + (hi - lo) * unit
    }
}

/// The seed every bench uses, so that the benches and the peer scripts price the same book.
pub(crate) const SEED: u64 = 0x5EED_2026_0001;

/// One random option and its volatility: spot 50…150, log-moneyness ln(K/S) in ±0.3, one week
/// to two years, r in 0…8 %, q in 0.5…5 % (with |r − q| ≥ 0.1 %), σ in 5…80 %, calls and
/// puts in equal measure.
pub(crate) fn random_option(rng: &mut SplitMix64) -> (Vanilla, f64) {
    let right = if rng.next_u64() & 1 == 0 {
        OptionRight::Call
    } else {
        OptionRight::Put
    };
    let spot = rng.uniform(50.0, 150.0);
    let strike = spot * rng.uniform(-0.3, 0.3).exp();
    let years = rng.uniform(7.0 / 365.0, 2.0);
    let rate = rng.uniform(0.0, 0.08);
    let mut dividend_yield = rng.uniform(0.005, 0.05);
    if (rate - dividend_yield).abs() < 1e-3 {
        dividend_yield += 2e-3;
    }
    let vol = rng.uniform(0.05, 0.80);
    let option = Vanilla::try_new(right, spot, strike, years, rate, dividend_yield)
        .expect("the generator draws valid terms");
    (option, vol)
}

/// `n` random options from [`SEED`].
pub(crate) fn random_options(n: usize) -> Vec<(Vanilla, f64)> {
    let mut rng = SplitMix64::new(SEED);
    (0..n).map(|_| random_option(&mut rng)).collect()
}
