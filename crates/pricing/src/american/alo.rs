//! Andersen, Lake & Offengenden (2016), "High-performance American option pricing", Journal of
//! Computational Finance 20(1), 39-87: the early-exercise boundary as the fixed point of an
//! integral equation, solved on a handful of Chebyshev nodes, then the value as European plus
//! the early-exercise premium integral. The high-precision scheme is the converged American
//! value (within 3e-11 of the paper's published premia, 3e-6 of an extrapolated 8 001-step
//! lattice); the fast one prices in microseconds to ~1e-5 of the price, against the lattice's
//! ~1e-5 at 40 µs for 500 steps — which is what makes an American implied volatility in
//! microseconds possible ([`american::implied_vol`](super::implied_vol)).
//!
//! The method, for a put (a call is the put of its put-call transformation,
//! C(S, K, r, q) = P(K, S, q, r), `McDonald` & Schroder 1998), with τ the time to maturity:
//!
//! - value: V(S, T) = v(S, T) + ∫₀^T [rK e^{−rt} Φ(−d₋(t, S/B(T−t))) − qS e^{−qt}
//!   Φ(−d₊(t, S/B(T−t)))] dt (Kim 1990), d±(t, z) = (ln z + (r − q)t ± σ²t/2)/(σ√t),
//!   integrated by p-point Gauss-Legendre in θ with t = T·sin²θ: the integrand behaves like √t
//!   at t = 0 (the kernel) and like √(T − t) at t = T (the boundary near expiry), and is smooth
//!   in θ at both ends (`QuantLib` integrates in √t, which leaves the second);
//! - boundary, from value matching at S = B(τ) (ALO's FP-B): B(τ) = K N(τ, B)/D(τ, B) with
//!   N = e^{−rτ}Φ(d₋(τ, B/K)) + r ∫₀^τ e^{−r(τ−u)} Φ(d₋(τ − u, B(τ)/B(u))) du and
//!   D = e^{−qτ}Φ(d₊(τ, B/K)) + q ∫₀^τ e^{−q(τ−u)} Φ(d₊(τ − u, B(τ)/B(u))) du (both multiplied
//!   by e^{−rτ}, e^{−qτ}, so that nothing overflows for large rT); or from smooth pasting (FP-B′,
//!   φ(d±)/(σ√·) kernels), which converges in far fewer steps but diverges when the drift
//!   dominates (see `Pricer::smooth_pasting` for the switch);
//! - the boundary is held as H(√τ) = ln(B(τ)/X)², X = B(0⁺) = K·min(1, r/q), interpolated by a
//!   Chebyshev polynomial on n + 1 Chebyshev-Lobatto nodes in √τ (ALO §5.1: H is smooth in √τ
//!   where B is not), and the integrals over u by l-point Gauss-Legendre in y with
//!   τ − u = τ(1 + y)²/4;
//! - start: the QD+ approximation of the boundary at each node (Li 2005, "Analytical
//!   approximations for the critical stock prices of American options", solved by Halley's
//!   method, as `QuantLib`'s `QdPlusAmericanEngine`), then one Jacobi-Newton step and m − 1
//!   plain fixed-point steps (ALO §5.3).
//!
//! Schemes ([`Scheme`]), (l, m, n, p) as `QuantLib`'s `fastScheme` and `accurateScheme`: fast
//! (7, 2, 7, 27), accurate (25, 5, 13, 61), high precision (65, 8, 32, 201). Measured against the
//! high-precision scheme (tests, S 60-150 against K = 100, T one month to three years, r 1-10 %,
//! q 0-12 %, σ 0.1-0.6): fast within 1.4e-3 for T ≤ 1 and 2.8e-3 for T ≤ 3, accurate within
//! 4e-5 and 1.4e-4 — the worst at the long, deep-in-the-money corners; at the money over a year,
//! 2e-6 and 5e-10 (the paper's example). The paper's ~1e-6 for its fast scheme is a root mean
//! square over a book of shorter options.
//!
//! Where it applies (the put of the transformation, with its r and q): r > 0 and q ≥ 0 (every
//! put with r > 0 ≤ q and every call with q > 0 ≤ r: options on equities and indices at
//! non-negative rates and yields), rT and qT ≤ [`MAX_RATE_YEARS`] and σ√T in
//! [[`MIN_TOTAL_VOL`], [`MAX_TOTAL_VOL`]]. Elsewhere [`price`] uses the Leisen-Reimer lattice
//! with [`FALLBACK_STEPS`] steps, because:
//! - r < 0 with q < r has two exercise boundaries (Battauz, De Donno & Sbuelz 2015), which this
//!   single-boundary equation does not describe; q < 0 gives the put a boundary starting at K
//!   whose fixed point the tests have not validated (r ≤ 0 ≤ q and q ≤ 0 ≤ r for a call have no
//!   early exercise at all and never get here);
//! - at σ√T of several units (σ = 100) the boundary falls from X to ~0 within the first node
//!   interval and a degree-7 polynomial in √τ cannot follow it; at huge rT the integrands decay
//!   within a sliver of [0, T] that 27 points do not resolve; at σ√T → 0 the kernel is a near
//!   step function. The lattice already handles these extremes (issue 18 §3).

#![expect(
    clippy::inline_always,
    reason = "the kernel's helpers must be inlined into `fastmath::dispatch`'s SIMD context to be compiled with its target features"
)]

use std::sync::OnceLock;

use super::{Inputs, checked_price, lattice};
use crate::error::Result;
use crate::fastmath::madd;
use crate::normal::ONE_OVER_SQRT_TWO_PI;
use crate::types::{OptionRight, Vanilla};

/// Lattice steps used where the method does not apply (see the module notes).
pub const FALLBACK_STEPS: usize = 501;
/// Largest σ√T priced by the fixed-point method.
pub const MAX_TOTAL_VOL: f64 = 4.0;
/// Smallest σ√T priced by the fixed-point method.
pub const MIN_TOTAL_VOL: f64 = 1e-4;
/// Largest rT and qT (of the put form) priced by the fixed-point method.
pub const MAX_RATE_YEARS: f64 = 8.0;

/// Nodes per pass of the vectorised node loops.
const LANES: usize = 8;

/// Most Chebyshev nodes (n + 1) of any scheme.
const MAX_NODES: usize = 33;

/// How finely the method discretises: (l, m, n, p) = Gauss-Legendre points of the boundary
/// integrals, fixed-point iterations (one Jacobi-Newton, m − 1 plain), Chebyshev degree of the
/// boundary, Gauss-Legendre points of the premium integral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Scheme {
    /// (7, 2, 7, 27): within ~1e-5 of the price at the money, 1e-3 of the strike at the
    /// worst long deep-in-the-money corner; a few microseconds.
    #[default]
    Fast,
    /// (25, 5, 13, 61): 1e-9 to 1e-4 of the strike likewise; about a hundred microseconds.
    Accurate,
    /// (65, 8, 32, 201): the converged value (to ~1e-10 at the money); about a millisecond.
    HighPrecision,
}

impl Scheme {
    const fn parameters(self) -> (usize, usize, usize, usize) {
        match self {
            Self::Fast => (7, 2, 7, 27),
            Self::Accurate => (25, 5, 13, 61),
            Self::HighPrecision => (65, 8, 32, 201),
        }
    }
}

/// Value of the American option at volatility `vol` by the fixed-point method with `scheme`,
/// or by the lattice where the method does not apply (module notes).
///
/// # Errors
/// As [`american::price`](super::price).
pub fn price(option: &Vanilla, vol: f64, scheme: Scheme) -> Result<f64> {
    checked_price(option, vol, 0.0, |o| match PutForm::of(o) {
        Some(put) => Ok(put.value(super::european_price(o), o.vol, scheme)),
        None => lattice::price_inputs(o, FALLBACK_STEPS),
    })
}

/// The put whose early-exercise premium equals the option's: the option itself, or for a call
/// its put-call transformation (spot and strike, rate and yield swapped).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PutForm {
    spot: f64,
    strike: f64,
    rate: f64,
    dividend_yield: f64,
    years: f64,
}

impl PutForm {
    /// `None` outside the method's domain (module notes).
    pub(crate) fn of(o: &Inputs) -> Option<Self> {
        Self::of_terms(o).filter(|put| put.vol_applies(o.vol))
    }

    /// The put form when the rates and yields are in the method's domain, whatever σ.
    pub(crate) fn of_terms(o: &Inputs) -> Option<Self> {
        let q = o.rate - o.carry;
        let put = match o.right {
            OptionRight::Put => Self {
                spot: o.spot,
                strike: o.strike,
                rate: o.rate,
                dividend_yield: q,
                years: o.years,
            },
            OptionRight::Call => Self {
                spot: o.strike,
                strike: o.spot,
                rate: q,
                dividend_yield: o.rate,
                years: o.years,
            },
        };
        let inside = put.rate > 0.0
            && put.dividend_yield >= 0.0
            && put.rate * put.years <= MAX_RATE_YEARS
            && put.dividend_yield * put.years <= MAX_RATE_YEARS;
        inside.then_some(put)
    }

    /// An upper bound on the early-exercise premium at volatility `vol`, from Kim's integral
    /// (module notes) with the boundary replaced by its upper bound X (B ≤ X, so
    /// Φ(−d₋(t, S/B)) ≤ Φ(−d₋(t, S/X))), the q term (never positive) dropped and e^{−rt} ≤ 1:
    /// rKT·max over t ∈ (0, T] of Φ(−d₋(t, S/X)). With a = ln(S/X) > 0 and c = r − q − σ²/2,
    /// d₋ = (a + ct)/(σ√t) is least at t = a/c when c > 0 and that is before T, else at T.
    /// Infinite (no bound) at or below X.
    pub(crate) fn premium_bound(&self, vol: f64) -> f64 {
        let (s, k, r, q, t) = (
            self.spot,
            self.strike,
            self.rate,
            self.dividend_yield,
            self.years,
        );
        let x_max = if q > 0.0 { k * (r / q).min(1.0) } else { k };
        let a = (s / x_max).ln();
        if a.is_nan() || a <= 0.0 {
            return f64::INFINITY;
        }
        let c = r - q - 0.5 * vol * vol;
        let d_min = if c > 0.0 && a / c < t {
            2.0 * (a * c).sqrt() / vol
        } else {
            (a + c * t) / (vol * t.sqrt())
        };
        r * k * t * crate::normal::norm_cdf(-d_min)
    }

    /// Whether σ√T is in the method's domain.
    pub(crate) fn vol_applies(&self, vol: f64) -> bool {
        (MIN_TOTAL_VOL..=MAX_TOTAL_VOL).contains(&(vol * self.years.sqrt()))
    }

    /// The American value at volatility `vol`, given the `european` value of the same terms
    /// (the put's or, equally by the transformation, the call's).
    pub(crate) fn value(&self, european: f64, vol: f64, scheme: Scheme) -> f64 {
        let pricer = Pricer::new(*self, scheme);
        pricer
            .value(european, vol, None, pricer.tables.iterations)
            .0
    }
}

/// (l, m, n, p) of the pass that polishes an implied volatility near the exercise boundary,
/// where the fast scheme's error is largest (up to 1e-3 of the strike in the money over months):
/// three times the fast scheme's points, a tenth of the accurate scheme's cost, and within
/// ~4e-5 of the converged value on the trial cases where the fast scheme was 1e-3 off.
const POLISH: (usize, usize, usize, usize) = (15, 2, 10, 41);

/// The American value by the polishing scheme ([`POLISH`]), from QD+, given the European value.
pub(crate) fn polish_value(put: PutForm, european: f64, vol: f64) -> f64 {
    static POLISH_TABLES: OnceLock<Tables> = OnceLock::new();
    let (l, m, n, p) = POLISH;
    let tables = POLISH_TABLES.get_or_init(|| Tables::with(l, m, n, p));
    Pricer::with_tables(put, tables)
        .value(european, vol, None, m)
        .0
}

/// Nodes, weights and the interpolation matrices of one scheme: they depend only on (l, n, p),
/// because every abscissa is a fixed fraction of √T, so they are computed once per process.
#[derive(Debug)]
struct Tables {
    /// Chebyshev degree n (n + 1 nodes zᵢ = −cos(iπ/n), z = 2√(τ/T) − 1, the first at τ = 0).
    degree: usize,
    /// Fixed-point steps m and Gauss-Legendre points l of the boundary integrals.
    iterations: usize,
    points_per_node: usize,
    /// Lagrange weights of node value j at the boundary time of quadrature point
    /// p = (i − 1)·l + k (node i, abscissa k), at j·n·l + p (by node value, so that the
    /// interpolation of all points is a loop over p that vectorises). Both equations integrate
    /// over the gap τ − u = τᵢ(1 + xₖ)²/4, the substitution that removes the 1/√(τ − u) of
    /// FP-B′'s kernels and the √(τ − u) behaviour of FP-B's (`QuantLib` uses it for FP-B′ only).
    rows: Vec<f64>,
    /// The Lagrange weights at the premium points' times to maturity, at j·p + point.
    price_rows: Vec<f64>,
    /// Per boundary-equation point, as fractions of T (or √T): the gap, its square root, and
    /// the quadrature weights of the Φ terms (w·½τ(1 + x), over T) and the φ terms (w·√τ, over
    /// √T); per node τ/T.
    gap: Vec<f64>,
    sqrt_gap: Vec<f64>,
    cdf_weight: Vec<f64>,
    pdf_weight: Vec<f64>,
    node_tau: Vec<f64>,
    /// Per premium point, as fractions of T: t = T·sin²θ, √t/√T = sin θ, and the weight
    /// w·(π/4)·sin 2θ of dt/T.
    premium_t: Vec<f64>,
    premium_sqrt_t: Vec<f64>,
    premium_weight: Vec<f64>,
}

fn tables(scheme: Scheme) -> &'static Tables {
    static FAST: OnceLock<Tables> = OnceLock::new();
    static ACCURATE: OnceLock<Tables> = OnceLock::new();
    static HIGH: OnceLock<Tables> = OnceLock::new();
    let cell = match scheme {
        Scheme::Fast => &FAST,
        Scheme::Accurate => &ACCURATE,
        Scheme::HighPrecision => &HIGH,
    };
    cell.get_or_init(|| Tables::new(scheme))
}

impl Tables {
    fn new(scheme: Scheme) -> Self {
        let (l, m, n, p) = scheme.parameters();
        Self::with(l, m, n, p)
    }

    fn with(l: usize, m: usize, n: usize, p: usize) -> Self {
        let nodes: Vec<f64> = (0..=n)
            .map(|i| -(std::f64::consts::PI * i as f64 / n as f64).cos())
            .collect();
        let (fp_x, fp_w) = gauss_legendre(l);
        let (price_x, price_w) = gauss_legendre(p);
        let node_tau: Vec<f64> = nodes.iter().map(|z| 0.25 * (1.0 + z) * (1.0 + z)).collect();
        let (mut rows, mut gap) = (Vec::new(), Vec::new());
        let (mut cdf_weight, mut pdf_weight) = (Vec::new(), Vec::new());
        for (&zi, &tau) in nodes[1..].iter().zip(&node_tau[1..]) {
            for (&x, &w) in fp_x.iter().zip(&fp_w) {
                let m = 0.25 * (1.0 + x) * (1.0 + x);
                rows.push(lagrange_row(&nodes, (1.0 + zi) * (1.0 - m).sqrt() - 1.0));
                gap.push(tau * m);
                cdf_weight.push(w * 0.5 * tau * (1.0 + x));
                pdf_weight.push(w * tau.sqrt());
            }
        }
        // t = T·sin²θ, θ = π(1 + x)/4: the time to maturity T − t = T·cos²θ, so the node
        // coordinate is 2cos θ − 1.
        let thetas: Vec<f64> = price_x
            .iter()
            .map(|x| std::f64::consts::FRAC_PI_4 * (1.0 + x))
            .collect();
        let price_rows: Vec<Vec<f64>> = thetas
            .iter()
            .map(|theta| lagrange_row(&nodes, 2.0 * theta.cos() - 1.0))
            .collect();
        Self {
            degree: n,
            iterations: m,
            points_per_node: l,
            rows: transpose(&rows),
            price_rows: transpose(&price_rows),
            sqrt_gap: gap.iter().map(|g| g.sqrt()).collect(),
            gap,
            cdf_weight,
            pdf_weight,
            node_tau,
            premium_t: thetas.iter().map(|t| t.sin() * t.sin()).collect(),
            premium_sqrt_t: thetas.iter().map(|t| t.sin()).collect(),
            premium_weight: thetas
                .iter()
                .zip(&price_w)
                .map(|(t, w)| w * std::f64::consts::FRAC_PI_4 * (2.0 * t).sin())
                .collect(),
        }
    }
}

/// Rows of equal length as one column-major array.
fn transpose(rows: &[Vec<f64>]) -> Vec<f64> {
    let width = rows.first().map_or(0, Vec::len);
    (0..width)
        .flat_map(|j| rows.iter().map(move |row| row[j]))
        .collect()
}

/// The Lagrange basis at `z` of the polynomial through `nodes` (Chebyshev-Lobatto), by the
/// barycentric formula with weights (−1)^j, halved at the ends (Berrut & Trefethen 2004, eq.
/// (5.2)): stable, and the same polynomial as a Chebyshev series through the nodes.
fn lagrange_row(nodes: &[f64], z: f64) -> Vec<f64> {
    let last = nodes.len() - 1;
    if let Some(j) = nodes.iter().position(|&zj| (z - zj).abs() < 1e-15) {
        return (0..=last).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
    }
    let terms: Vec<f64> = nodes
        .iter()
        .enumerate()
        .map(|(j, &zj)| {
            let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
            let half = if j == 0 || j == last { 0.5 } else { 1.0 };
            sign * half / (z - zj)
        })
        .collect();
    let sum: f64 = terms.iter().sum();
    terms.into_iter().map(|t| t / sum).collect()
}

/// Gauss-Legendre nodes and weights on [−1, 1]: the roots of Pₙ by Newton's method from
/// Tricomi's approximation cos(π(i + ¾)/(n + ½)), weights 2/((1 − x²)Pₙ′(x)²) (Abramowitz &
/// Stegun 25.4.29). Converged to a few ulp in a handful of steps for every n used here.
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let nf = n as f64;
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    for i in 0..n {
        let mut root = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut derivative = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, root);
            for k in 2..=n {
                let kf = k as f64;
                (p0, p1) = (p1, ((2.0 * kf - 1.0) * root * p1 - (kf - 1.0) * p0) / kf);
            }
            derivative = nf * (root * p1 - p0) / (root * root - 1.0);
            let step = p1 / derivative;
            root -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        x[n - 1 - i] = root;
        w[n - 1 - i] = 2.0 / ((1.0 - root * root) * derivative * derivative);
    }
    (x, w)
}

/// The boundary H(√τ) = ln(B(τ)/X)² at the n + 1 Chebyshev nodes (H = 0 at τ = 0), and the
/// volatility it was solved for: what a later solve at a nearby volatility can start from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Boundary {
    y: [f64; MAX_NODES],
    vol: f64,
}

/// Everything about one put and one scheme that does not depend on the volatility (the
/// exponentials of every quadrature point), so that an implied-volatility search pays for them
/// once. Point arrays are flat over p = (i − 1)·l + k (node i, abscissa k).
#[derive(Debug)]
pub(crate) struct Pricer {
    put: PutForm,
    tables: &'static Tables,
    /// Column-major interpolation weights of the equation in use.
    rows: &'static [f64],
    x_max: f64,
    ln_x_max: f64,
    ln_k: f64,
    /// Per node: τ, √τ, (r − q)τ + ln X − ln K… split as `drift`, e^{−rτ}, e^{−qτ}; whether
    /// FP-B′ is in use (`pdf_weight` 1, else 0, applied branch-free).
    tau: [f64; MAX_NODES],
    sqrt_tau: [f64; MAX_NODES],
    disc_r: [f64; MAX_NODES],
    disc_q: [f64; MAX_NODES],
    /// Per point: √gap, (r − q)·gap, and the weights of Φ(d₋), φ(d₋)/σ (numerator) and Φ(d₊),
    /// φ(d₊)/σ (denominator): FP-B uses the Φ terms (r·w·τ/2·e^{−r·gap}, q·w·τ/2·e^{−q·gap}),
    /// FP-B′ φ(d₋) (r·w·√τ·e^{−r·gap}) and both of the denominator (q·w·½τ(1 + x)·e^{−q·gap},
    /// q·w·√τ·e^{−q·gap}).
    sqrt_gap: Vec<f64>,
    drift: Vec<f64>,
    num_cdf: Vec<f64>,
    num_pdf: Vec<f64>,
    den_cdf: Vec<f64>,
    den_pdf: Vec<f64>,
    /// Premium points: √t, ln S + (r − q)t, and w·√T·√t·rK e^{−rt}, w·√T·√t·qS e^{−qt} (the
    /// 2z dz of t = z² and the ½√T of the mapping folded in).
    premium_sqrt_t: Vec<f64>,
    premium_log_forward: Vec<f64>,
    premium_r: Vec<f64>,
    premium_q: Vec<f64>,
}

impl Pricer {
    pub(crate) fn new(put: PutForm, scheme: Scheme) -> Self {
        Self::with_tables(put, tables(scheme))
    }

    fn with_tables(put: PutForm, tables: &'static Tables) -> Self {
        crate::fastmath::dispatch(Build { put, tables })
    }

    /// The American value at volatility `vol`, given the `european` value of the same terms
    /// (the put's or, equally by the transformation, the call's), and the boundary solved
    /// for, after `steps` fixed-point steps (the scheme's m: [`Pricer::steps`]) from `warm` (a
    /// boundary at a nearby volatility) when given, else from QD+.
    pub(crate) fn value(
        &self,
        european: f64,
        vol: f64,
        warm: Option<&Boundary>,
        steps: usize,
    ) -> (f64, Boundary) {
        crate::fastmath::dispatch(Solve {
            pricer: self,
            european,
            vol,
            warm,
            steps,
        })
    }

    /// The scheme's number of fixed-point steps, m.
    pub(crate) fn steps(&self) -> usize {
        self.tables.iterations
    }
}

/// [`Pricer::new`] as a kernel: its exponentials (two per quadrature point) in loops that
/// vectorise.
struct Build {
    put: PutForm,
    tables: &'static Tables,
}

impl crate::fastmath::Kernel for Build {
    type Output = Pricer;

    #[inline(always)]
    fn run<const F: bool>(self) -> Pricer {
        use crate::fastmath::exp;
        let Self { put, tables } = self;
        let (k, r, q, years) = (put.strike, put.rate, put.dividend_yield, put.years);
        let sqrt_years = years.sqrt();
        let x_max = if q > 0.0 { k * (r / q).min(1.0) } else { k };
        let n = tables.degree.min(MAX_NODES - 1);
        let (mut tau, mut sqrt_tau) = ([0.0; MAX_NODES], [0.0; MAX_NODES]);
        let (mut disc_r, mut disc_q) = ([0.0; MAX_NODES], [0.0; MAX_NODES]);
        for i in 0..=n {
            tau[i] = years * tables.node_tau[i];
            sqrt_tau[i] = tau[i].sqrt();
            disc_r[i] = exp::<F>(-r * tau[i]);
            disc_q[i] = exp::<F>(-q * tau[i]);
        }
        // Both equations' weights (the denominator's Φ term is common): which one a solve
        // uses depends on σ (`Pricer::smooth_pasting`).
        let points = tables.gap.len();
        let (mut num_cdf, mut num_pdf) = (vec![0.0; points], vec![0.0; points]);
        let (mut den_cdf, mut den_pdf) = (vec![0.0; points], vec![0.0; points]);
        let (mut sqrt_gap, mut drift) = (vec![0.0; points], vec![0.0; points]);
        for p in 0..points {
            let gap = years * tables.gap[p];
            let (er, eq) = (exp::<F>(-r * gap), exp::<F>(-q * gap));
            let (cdf_w, pdf_w) = (
                years * tables.cdf_weight[p],
                sqrt_years * tables.pdf_weight[p],
            );
            sqrt_gap[p] = sqrt_years * tables.sqrt_gap[p];
            drift[p] = (r - q) * gap;
            num_cdf[p] = r * cdf_w * er;
            num_pdf[p] = r * pdf_w * er;
            den_cdf[p] = q * cdf_w * eq;
            den_pdf[p] = q * pdf_w * eq;
        }
        // The premium integral over t ∈ [0, T] with t = T·sin²θ: its integrand is smooth in √t
        // (the kernel) and in √(T − t) (the boundary), and both are smooth in θ, where plain
        // Gauss-Legendre in √t (as `QuantLib`) converges only algebraically at t → T.
        let count = tables.premium_t.len();
        let ln_s = put.spot.ln();
        let (mut premium_sqrt_t, mut premium_log_forward) = (vec![0.0; count], vec![0.0; count]);
        let (mut premium_r, mut premium_q) = (vec![0.0; count], vec![0.0; count]);
        for p in 0..count {
            let t = years * tables.premium_t[p];
            let weight = years * tables.premium_weight[p];
            premium_sqrt_t[p] = sqrt_years * tables.premium_sqrt_t[p];
            premium_log_forward[p] = ln_s + (r - q) * t;
            premium_r[p] = weight * r * k * exp::<F>(-r * t);
            premium_q[p] = weight * q * put.spot * exp::<F>(-q * t);
        }
        Pricer {
            put,
            tables,
            rows: &tables.rows,
            x_max,
            ln_x_max: x_max.ln(),
            ln_k: k.ln(),
            tau,
            sqrt_tau,
            disc_r,
            disc_q,
            sqrt_gap,
            drift,
            num_cdf,
            num_pdf,
            den_cdf,
            den_pdf,
            premium_sqrt_t,
            premium_log_forward,
            premium_r,
            premium_q,
        }
    }
}

/// [`Pricer::value`] as a kernel, so that its loops over quadrature points are compiled for
/// AVX2/AVX-512 with FMA where the CPU has them (every function it calls is inlined into it).
struct Solve<'a> {
    pricer: &'a Pricer,
    european: f64,
    vol: f64,
    warm: Option<&'a Boundary>,
    steps: usize,
}

impl crate::fastmath::Kernel for Solve<'_> {
    type Output = (f64, Boundary);

    #[inline(always)]
    fn run<const F: bool>(self) -> (f64, Boundary) {
        let p = self.pricer;
        let mut boundary = match self.warm {
            Some(b) => p.rescaled(b, self.vol),
            None => p.start::<F>(self.vol),
        };
        p.iterate::<F>(&mut boundary, self.vol, self.steps);
        // At or beyond the boundary the option is exercised now: the premium formula holds
        // only in the continuation region (it would miss K − S there by the boundary's error).
        let b_today = (p.ln_x_max - boundary.y[p.tables.degree].max(0.0).sqrt()).exp();
        let value = if p.put.spot <= b_today {
            p.put.strike - p.put.spot
        } else {
            self.european + p.premium::<F>(&boundary, self.vol)
        };
        (value, boundary)
    }
}

impl Pricer {
    /// The QD+ boundary at every node (ALO §5.3: the fixed-point iteration converges in one or
    /// two steps from it): Halley steps from X on every node at once (a loop over nodes that
    /// vectorises) until none moves by 1e-5 of the strike (three to five steps; a start, which
    /// the fixed-point steps refine).
    #[inline(always)]
    fn start<const F: bool>(&self, vol: f64) -> Boundary {
        // `min` tells LLVM that n < MAX_NODES: no bounds checks in the node loops.
        let n = self.tables.degree.min(MAX_NODES - 1);
        let (k, r, q) = (self.put.strike, self.put.rate, self.put.dividend_yield);
        let qd = QdPlus::new::<F>(self, vol);
        let mut x = [self.x_max; MAX_NODES];
        let x_min = 1e4 * f64::EPSILON * self.x_max;
        let mut next = [0.0; MAX_NODES];
        for _ in 0..12 {
            // The step in one loop and the convergence test in another (a max-reduction in the
            // first would keep LLVM from vectorising it), eight nodes at a time as in
            // `iterate`.
            for chunk in (1..=n).step_by(LANES) {
                let mut steps = [0.0; LANES];
                for (lane, out) in steps.iter_mut().enumerate() {
                    let i = (chunk + lane).min(MAX_NODES - 1);
                    // max/min rather than `clamp`, whose assertion is a branch the vectoriser
                    // cannot take.
                    let step = qd
                        .halley::<F>(i, k, r, q, vol, x[i])
                        .max(x_min)
                        .min(self.x_max);
                    *out = if step.is_nan() { x[i] } else { step };
                }
                for (lane, &step) in steps.iter().enumerate() {
                    next[(chunk + lane).min(MAX_NODES - 1)] = step;
                }
            }
            let moved = (1..=n).fold(0.0_f64, |m, i| m.max((next[i] - x[i]).abs()));
            x[1..=n].copy_from_slice(&next[1..=n]);
            if moved < 1e-5 * k {
                break;
            }
        }
        let mut y = [0.0; MAX_NODES];
        for i in 1..=n {
            let h = crate::fastmath::ln::<F>(x[i]) - self.ln_x_max;
            y[i] = h * h;
        }
        Boundary { y, vol }
    }

    /// Whether a solve at `vol` uses FP-B′ (ALO eq. (29), from smooth pasting) rather than FP-B
    /// (value matching). FP-B′ converges in far fewer steps (ALO §5.2; in the tests two steps
    /// of it are as close as eight of FP-B), but diverges when the drift dominates the
    /// diffusion, ω = 2(r − q)/σ² above ~15 (r = 6 %, q = 0, σ = 5 % misprices by units); FP-B
    /// converges there. The switch at |ω| ≤ 10 keeps a margin.
    fn smooth_pasting(&self, vol: f64) -> bool {
        2.0 * (self.put.rate - self.put.dividend_yield).abs() <= 10.0 * vol * vol
    }

    /// A boundary solved at a nearby volatility as the start at `vol`: H scales with σ² to
    /// first order near τ = 0 (B ≈ X(1 − c·σ√τ)), so the rescaled values start closer than QD+.
    #[inline(always)]
    fn rescaled(&self, warm: &Boundary, vol: f64) -> Boundary {
        let scale = (vol / warm.vol) * (vol / warm.vol);
        let mut y = warm.y;
        for h in &mut y[1..=self.tables.degree] {
            *h *= scale;
        }
        Boundary { y, vol }
    }

    /// `steps` fixed-point steps, the first a Jacobi-Newton step (ALO §5.3, eq. (33)).
    #[inline(always)]
    fn iterate<const F: bool>(&self, boundary: &mut Boundary, vol: f64, steps: usize) {
        use crate::fastmath::{exp_minus_half_square, norm_cdf, norm_cdf_with_exp};
        // `min` tells LLVM that n < MAX_NODES: no bounds checks in the node loops.
        let n = self.tables.degree.min(MAX_NODES - 1);
        let l = self.tables.points_per_node;
        let points = n * l;
        let inv_vol = 1.0 / vol;
        let smooth_pasting = self.smooth_pasting(vol);
        let pdf_weight = inv_vol * ONE_OVER_SQRT_TWO_PI;
        // One allocation for the four scratch columns.
        let mut scratch = vec![0.0; 4 * points];
        let (ln_b_at, rest) = scratch.split_at_mut(points);
        let (h, rest) = rest.split_at_mut(points);
        let (num, den) = rest.split_at_mut(points);
        for step in 0..steps {
            let y = boundary.y;
            let mut ln_b = [0.0; MAX_NODES];
            for i in 1..=n {
                ln_b[i] = self.ln_x_max - y[i].max(0.0).sqrt();
                ln_b_at[(i - 1) * l..i * l].fill(ln_b[i]);
            }
            // H at every point's boundary time: a matrix-vector product, column by column.
            h.fill(0.0);
            for (j, &yj) in y[..=n].iter().enumerate() {
                for (hp, &a) in h.iter_mut().zip(&self.rows[j * points..(j + 1) * points]) {
                    *hp = madd::<F>(a, yj, *hp);
                }
            }
            // Sliced to one length so that the loop has no bounds checks and vectorises.
            let (ln_b_at, h, num, den) = (
                &ln_b_at[..points],
                &h[..points],
                &mut num[..points],
                &mut den[..points],
            );
            let (sqrt_gap, drift) = (&self.sqrt_gap[..points], &self.drift[..points]);
            let (num_cdf, num_pdf) = (&self.num_cdf[..points], &self.num_pdf[..points]);
            let (den_cdf, den_pdf) = (&self.den_cdf[..points], &self.den_pdf[..points]);
            // One loop per equation: FP-B′ needs Φ only of d₊ (and φ of both), FP-B Φ of both;
            // an unused Φ is a third of a point's cost.
            if smooth_pasting {
                for p in 0..points {
                    let ln_bu = self.ln_x_max - h[p].max(0.0).sqrt();
                    let vg = vol * sqrt_gap[p];
                    let d = (ln_b_at[p] - ln_bu + drift[p]) / vg + 0.5 * vg;
                    let (ep, em) = (
                        exp_minus_half_square::<F>(d),
                        exp_minus_half_square::<F>(d - vg),
                    );
                    num[p] = pdf_weight * num_pdf[p] * em;
                    den[p] =
                        den_cdf[p] * norm_cdf_with_exp::<F>(d, ep) + pdf_weight * den_pdf[p] * ep;
                }
            } else {
                for p in 0..points {
                    let ln_bu = self.ln_x_max - h[p].max(0.0).sqrt();
                    let vg = vol * sqrt_gap[p];
                    let d = (ln_b_at[p] - ln_bu + drift[p]) / vg + 0.5 * vg;
                    num[p] = num_cdf[p] * norm_cdf::<F>(d - vg);
                    den[p] = den_cdf[p] * norm_cdf::<F>(d);
                }
            }
            let mut integral_num = [0.0; MAX_NODES];
            let mut integral_den = [0.0; MAX_NODES];
            for i in 1..=n {
                integral_num[i] = num[(i - 1) * l..i * l].iter().sum();
                integral_den[i] = den[(i - 1) * l..i * l].iter().sum();
            }
            // Eight nodes at a time with a fixed trip count, which LLVM vectorises (a loop over
            // the fast scheme's seven nodes it leaves scalar); padding lanes compute values
            // nothing reads.
            for chunk in (1..=n).step_by(LANES) {
                let mut updated = [0.0; LANES];
                for (lane, out) in updated.iter_mut().enumerate() {
                    let i = (chunk + lane).min(MAX_NODES - 1);
                    *out = self.node_step::<F>(
                        vol,
                        step == 0,
                        smooth_pasting,
                        [
                            ln_b[i],
                            self.sqrt_tau[i],
                            self.tau[i],
                            self.disc_r[i],
                            self.disc_q[i],
                        ],
                        (integral_num[i], integral_den[i], y[i]),
                    );
                }
                for (lane, &value) in updated.iter().enumerate() {
                    if chunk + lane <= n {
                        boundary.y[chunk + lane] = value;
                    }
                }
            }
        }
    }

    /// One node's fixed-point update: the new H from the node's (ln B, √τ, τ, e^{−rτ}, e^{−qτ})
    /// and its (numerator integral, denominator integral, current H).
    #[inline(always)]
    fn node_step<const F: bool>(
        &self,
        vol: f64,
        jacobi_newton: bool,
        smooth_pasting: bool,
        [ln_b, sqrt_tau, tau, disc_r, disc_q]: [f64; 5],
        (integral_num, integral_den, y): (f64, f64, f64),
    ) -> f64 {
        use crate::fastmath::{exp, exp_minus_half_square, ln, norm_cdf_with_exp};
        let (k, r, q) = (self.put.strike, self.put.rate, self.put.dividend_yield);
        let b = exp::<F>(ln_b);
        let v = vol * sqrt_tau;
        let dp = (ln_b - self.ln_k + (r - q) * tau) / v + 0.5 * v;
        let dm = dp - v;
        let (ep, em) = (
            exp_minus_half_square::<F>(dp),
            exp_minus_half_square::<F>(dm),
        );
        let (pdf_p, pdf_m) = (ONE_OVER_SQRT_TWO_PI * ep, ONE_OVER_SQRT_TWO_PI * em);
        let (cdf_p, cdf_m) = (
            norm_cdf_with_exp::<F>(dp, ep),
            norm_cdf_with_exp::<F>(dm, em),
        );
        let (n_val, d_val, n_db, d_db) = if smooth_pasting {
            (
                disc_r * pdf_m / v + integral_num,
                disc_q * (pdf_p / v + cdf_p) + integral_den,
                -disc_r * pdf_m * dm / (b * v * v),
                disc_q * (pdf_p / (b * v) - pdf_p * dp / (b * v * v)),
            )
        } else {
            (
                disc_r * cdf_m + integral_num,
                disc_q * cdf_p + integral_den,
                disc_r * pdf_m / (b * v),
                disc_q * pdf_p / (b * v),
            )
        };
        let f = k * n_val / d_val;
        // Jacobi-Newton on the first step: Newton on B − f(B) with f′ from the terms
        // outside the integrals (their dependence on B(τ) is left out, ALO eq. (33)).
        let f_db = k * (n_db / d_val - d_db * n_val / (d_val * d_val));
        let newton = b - (f - b) / (f_db - 1.0);
        let updated = if jacobi_newton && newton.is_finite() && newton > 0.0 {
            newton
        } else {
            f
        };
        let hi = ln::<F>(updated) - self.ln_x_max;
        if hi.is_finite() { hi * hi } else { y }
    }

    /// The early-exercise premium ∫₀^T [rK e^{−rt}Φ(−d₋) − qS e^{−qt}Φ(−d₊)] dt, with t = z²
    /// and z by Gauss-Legendre over [0, √T].
    #[inline(always)]
    fn premium<const F: bool>(&self, boundary: &Boundary, vol: f64) -> f64 {
        use crate::fastmath::norm_cdf;
        let n = self.tables.degree;
        let points = self.premium_sqrt_t.len();
        let mut scratch = vec![0.0; 2 * points];
        let (h, terms) = scratch.split_at_mut(points);
        for (j, &yj) in boundary.y[..=n].iter().enumerate() {
            for (hp, &a) in h
                .iter_mut()
                .zip(&self.tables.price_rows[j * points..(j + 1) * points])
            {
                *hp = madd::<F>(a, yj, *hp);
            }
        }
        let (h, sqrt_t, log_forward) = (
            &h[..points],
            &self.premium_sqrt_t[..points],
            &self.premium_log_forward[..points],
        );
        let (weight_r, weight_q) = (&self.premium_r[..points], &self.premium_q[..points]);
        // Terms first, then their sum: a floating-point sum in the loop would keep it scalar
        // (LLVM does not reorder the additions).
        for p in 0..points {
            let ln_b = self.ln_x_max - h[p].max(0.0).sqrt();
            let v = vol * sqrt_t[p];
            let dp = (log_forward[p] - ln_b) / v + 0.5 * v;
            terms[p] = weight_r[p] * norm_cdf::<F>(v - dp) - weight_q[p] * norm_cdf::<F>(-dp);
        }
        let sum: f64 = terms.iter().sum();
        sum.max(0.0)
    }
}

/// The QD+ boundary equation at the nodes' times to maturity τ (Li 2005, "Analytical
/// approximations for the critical stock prices of American options", eqs. (19)-(21), in the
/// form of `QuantLib`'s `QdPlusBoundaryEvaluator`): its τ-dependent constants, one array per
/// constant so that the loop over nodes vectorises.
#[derive(Debug)]
struct QdPlus {
    tau: [f64; MAX_NODES],
    v: [f64; MAX_NODES],
    dr: [f64; MAX_NODES],
    dq: [f64; MAX_NODES],
    a: [f64; MAX_NODES],
    beta: [f64; MAX_NODES],
}

impl QdPlus {
    #[inline(always)]
    fn new<const F: bool>(pricer: &Pricer, vol: f64) -> Self {
        let (r, q) = (pricer.put.rate, pricer.put.dividend_yield);
        let n = pricer.tables.degree.min(MAX_NODES - 1);
        let v2 = vol * vol;
        let omega = 2.0 * (r - q) / v2;
        let mut qd = Self {
            tau: pricer.tau,
            v: [1.0; MAX_NODES],
            dr: pricer.disc_r,
            dq: pricer.disc_q,
            a: [0.0; MAX_NODES],
            beta: [0.0; MAX_NODES],
        };
        for i in 1..=n {
            // 1 − e^{−rτ} from the node's discount factor: a few ulp of rτ lost for tiny rτ,
            // harmless in a starting point.
            let h = 1.0 - pricer.disc_r[i];
            let root = ((omega - 1.0) * (omega - 1.0) + 8.0 * r / (v2 * h)).sqrt();
            let lambda = 0.5 * (-(omega - 1.0) - root);
            let lambda_prime = 2.0 * r / (v2 * h * h * root);
            // α/(r·e^{−rτ}) with α = 2r e^{−rτ}/(σ²(2λ + ω − 1)) and 2λ + ω − 1 = −root:
            // written without the discount factor, which underflows for large rτ.
            let a = -2.0 / (v2 * root);
            let alpha = a * pricer.disc_r[i] * r;
            qd.v[i] = vol * pricer.sqrt_tau[i];
            qd.a[i] = a;
            qd.beta[i] = alpha * (1.0 / h - lambda_prime / root) - lambda;
        }
        qd
    }

    /// One Halley step on node `i`'s QD+ equation from the critical-price candidate `x`.
    #[inline(always)]
    fn halley<const F: bool>(&self, i: usize, k: f64, r: f64, q: f64, vol: f64, x: f64) -> f64 {
        use crate::fastmath::{exp_minus_half_square, ln, norm_cdf, norm_cdf_with_exp};
        let (tau, v, dr, dq, a, beta) = (
            self.tau[i],
            self.v[i],
            self.dr[i],
            self.dq[i],
            self.a[i],
            self.beta[i],
        );
        let v2 = vol * vol;
        let dp = (ln::<F>(x / k) + (r - q) * tau) / v + 0.5 * v;
        let dm = dp - v;
        let e = exp_minus_half_square::<F>(dp);
        let pdf = ONE_OVER_SQRT_TWO_PI * e;
        let cdf_mdp = norm_cdf_with_exp::<F>(-dp, e);
        let cdf_mdm = norm_cdf::<F>(-dm);
        let npv = dr * k * cdf_mdm - x * dq * cdf_mdp;
        let theta = r * k * dr * cdf_mdm - q * x * dq * cdf_mdp - 0.5 * v2 * x / v * dq * pdf;
        let charm = -dq * (pdf * ((r - q) / v - dm / (2.0 * tau)) + q * cdf_mdp);
        let f = (1.0 - dq * cdf_mdp) * x - beta * (k - x - npv) + a * theta;
        let f1 = 1.0 - dq * cdf_mdp + dq * pdf / v + beta * (1.0 - dq * cdf_mdp) + a * charm;
        let gamma = pdf * dq / (v * x);
        let colour = gamma * (q + (r - q) * dp / v + (1.0 - dp * dm) / (2.0 * tau));
        let f2 = dq * (pdf / (x * v) - pdf * dp / (x * v * v)) + beta * gamma + a * colour;
        x - f / f1 / (1.0 - 0.5 * f * f2 / (f1 * f1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_and_the_normal_density() {
        for n in [7, 25, 27, 61, 65, 201] {
            let (x, w) = gauss_legendre(n);
            let total: f64 = w.iter().sum();
            assert!((total - 2.0).abs() < 1e-13, "{n}: {total}");
            // x^(2n-2) integrates to 2/(2n-1) exactly.
            let e = 2 * n - 2;
            let moment: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powf(e as f64)).sum();
            assert!(
                (moment - 2.0 / (e as f64 + 1.0)).abs() < 1e-13,
                "{n}: {moment}"
            );
        }
    }

    /// The bound that lets implied volatility skip the method far from the boundary is above
    /// the converged premium everywhere on a grid, and below rounding far out of the money.
    #[test]
    fn premium_bound_bounds_the_premium() {
        for right in [OptionRight::Put, OptionRight::Call] {
            for spot in [60.0, 90.0, 110.0, 150.0, 250.0] {
                for years in [0.02, 0.25, 1.0, 3.0] {
                    for (rate, q) in [(0.045, 0.013), (0.02, 0.08), (0.06, 0.0)] {
                        for vol in [0.1, 0.3, 0.8] {
                            let o = Vanilla::try_new(right, spot, 100.0, years, rate, q).unwrap();
                            let Ok(super::super::Prepared::Model(inputs)) =
                                super::super::prepare(&o, vol)
                            else {
                                continue;
                            };
                            let Some(put) = PutForm::of(&inputs) else {
                                continue;
                            };
                            let premium = price(&o, vol, Scheme::HighPrecision).unwrap()
                                - crate::bsm::price(&o, vol).unwrap();
                            let bound = put.premium_bound(vol);
                            assert!(premium <= bound + 1e-12, "{o:?} {vol}: {premium} > {bound}");
                        }
                    }
                }
            }
        }
        let far = Vanilla::try_new(OptionRight::Put, 150.0, 100.0, 0.02, 0.045, 0.013).unwrap();
        let Ok(super::super::Prepared::Model(inputs)) = super::super::prepare(&far, 0.2) else {
            panic!("a genuine American put");
        };
        assert!(PutForm::of(&inputs).unwrap().premium_bound(0.2) < 1e-20);
    }

    #[test]
    fn lagrange_rows_reproduce_polynomials_of_the_degree() {
        let nodes: Vec<f64> = (0..=7)
            .map(|i| -(std::f64::consts::PI * f64::from(i) / 7.0).cos())
            .collect();
        let poly = |z: f64| 1.0 - 2.0 * z + 0.5 * z.powi(3) - 0.25 * z.powi(7);
        let values: Vec<f64> = nodes.iter().map(|&z| poly(z)).collect();
        for z in [-0.99, -0.3, 0.0, 0.42, 0.999, nodes[3]] {
            let row = lagrange_row(&nodes, z);
            let p: f64 = row.iter().zip(&values).map(|(a, b)| a * b).sum();
            assert!((p - poly(z)).abs() < 1e-14, "{z}: {p}");
        }
    }
}
