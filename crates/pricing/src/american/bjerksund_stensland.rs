//! Bjerksund & Stensland (2002), "Closed form valuation of American options", Discussion paper,
//! Norwegian School of Economics (NHH); in the notation of Haug (2007), "The Complete Guide to
//! Option Pricing Formulas", 2nd ed., §3.3.3.
//!
//! The holder is assumed to follow a two-step flat exercise boundary: exercise as soon as S
//! reaches I₁ during [0, t₁] or I₂ during [t₁, T], with t₁ = ½(√5 − 1)T. The value of that
//! feasible policy is a lower bound of the American price (and, in practice, within a few
//! cents of it at S = 100); it is priced in closed form with the univariate and bivariate
//! normal distributions. For a call with b < r (with b ≥ r early exercise is never optimal):
//!
//! C = α₂S^β − α₂φ(S, t₁, β, I₂, I₂) + φ(S, t₁, 1, I₂, I₂) − φ(S, t₁, 1, I₁, I₂)
//!   − Xφ(S, t₁, 0, I₂, I₂) + Xφ(S, t₁, 0, I₁, I₂) + α₁φ(S, t₁, β, I₁, I₂)
//!   − α₁ψ(S, T, β, I₁, I₂, I₁, t₁) + ψ(S, T, 1, I₁, I₂, I₁, t₁) − ψ(S, T, 1, X, I₂, I₁, t₁)
//!   − Xψ(S, T, 0, I₁, I₂, I₁, t₁) + Xψ(S, T, 0, X, I₂, I₁, t₁),
//!
//! with αᵢ = (Iᵢ − X)Iᵢ^{−β}, β = (½ − b/σ²) + √((b/σ² − ½)² + 2r/σ²), B∞ = βX/(β − 1),
//! B₀ = max(X, rX/(r − b)), Iᵢ = B₀ + (B∞ − B₀)(1 − e^{h(tᵢ)}),
//! h(t) = −(bt + 2σ√t)·X²/((B∞ − B₀)B₀), and C = S − X when S ≥ I₂. φ is the value of a
//! knock-out power claim (one normal distribution) and ψ its two-period analogue (bivariate
//! normal with correlation √(t₁/T)); see `phi` and `psi` in the source.
//!
//! Puts use the put-call transformation (Bjerksund & Stensland 1993; Haug 2007, §3.3):
//! P(S, X, T, r, b, σ) = C(X, S, T, r − b, −b, σ).
//!
//! Powers such as S^β and (I/S)^κ are evaluated in log space and combined with log Φ, so that
//! small volatilities (β, κ ~ 2b/σ² large) neither overflow nor produce ∞·0.
//!
//! Cost (about 0.6 µs per option with AVX-512, 7 400 instructions with AVX2; it was 1.5 µs
//! and 14 000 instructions evaluated term by term): the terms are grouped by their exponent
//! γ ∈ {β, 1, 0}, within which every ψ shares e₁..e₄ (and their Φ), and the φ with H = I₁
//! reuses Φ(−e₁), Φ(−e₂). A scalar set-up then gathers every Φ argument (38) and every
//! exponent (25) of the price into fixed arrays, which are evaluated in two branch-free loops
//! that LLVM vectorises (`crate::fastmath`); the 20 bivariate normals run together through a
//! 12-node quadrature at the fixed correlation, node by node over all pairs (again
//! vectorised); a scalar pass combines the terms, skipping a bivariate term whose coefficient
//! times its bound min(Φ(a), Φ(b)) is below 1e-17. The European floor is priced in the same
//! passes (two spare lanes of each array). The whole valuation is compiled for
//! AVX-512 and AVX2 with FMA and the best is picked at runtime (`fastmath::dispatch`), so the
//! last bits depend on the CPU (FMA or not). The result equals a direct transcription of
//! Haug's formulas to ~1e-13 on a strike of 100 (tested).
//!
//! The one case outside the formula's domain — a transformed call with r < 0 and b ≥ r (a call
//! with r < 0 ≤ −q, or a put with q < 0 and r ≤ 0), where early exercise is driven by negative
//! rates and β has no root above 1 — is priced on the Leisen-Reimer lattice with
//! [`IMPLIED_VOL_LATTICE_STEPS`] steps instead.

#![expect(
    clippy::inline_always,
    reason = "the kernels run under `fastmath::dispatch`, which enables the SIMD target features on its entry point only; they must be inlined into it to be compiled with them"
)]

use std::sync::LazyLock;

use super::bivariate::{BivariateArgs, FixedCorrelation};
use super::{IMPLIED_VOL_LATTICE_STEPS, checked_price, european_price, lattice, max_or_nan};
use crate::error::Result;
use crate::fastmath::{self, Kernel, exp, ln, norm_cdf as lane_norm_cdf};
use crate::normal::{erfcx, norm_cdf};
use crate::types::{OptionRight, Vanilla};

/// Bjerksund-Stensland (2002) value of the American option at volatility `vol` (per √year).
///
/// The result is floored at the European price and at the immediate-exercise value, both
/// no-arbitrage lower bounds of the American price (the approximation itself, the value of a
/// feasible exercise policy, is very nearly always above them already).
///
/// # Errors
/// [`PricingError::InvalidInput`](crate::PricingError) for a NaN, infinite or out-of-domain
/// input; [`PricingError::Overflow`](crate::PricingError) if the value does not fit in an
/// `f64`.
pub fn price(option: &Vanilla, vol: f64) -> Result<f64> {
    checked_price(option, vol, 0.0, |o| {
        let (s, x, r, b) = match o.right {
            OptionRight::Call => (o.spot, o.strike, o.rate, o.carry),
            OptionRight::Put => (o.strike, o.spot, o.rate - o.carry, -o.carry),
        };
        if b >= r {
            // Negative-rate corner outside the formula's domain (module notes).
            return lattice::price_inputs(o, IMPLIED_VOL_LATTICE_STEPS);
        }
        let value = match call(s, x, o.years, r, b, o.vol) {
            // The European value of the transformed call is the option's own (put-call
            // symmetry holds exactly for European options).
            Some(v) => max_or_nan(v.american, v.european),
            // At or beyond the trigger: exercise now.
            None => max_or_nan(s - x, european_price(o)),
        };
        Ok(max_or_nan(value, o.right.intrinsic(o.spot, o.strike)))
    })
}

/// The quadrature tables of ψ's bivariate normals, whose correlation is ±√(t₁/T) =
/// ±√((√5 − 1)/2) for every option (t₁ is a fixed fraction of T), built once. Twelve
/// Gauss-Legendre points are exact to ~1e-15 at this |ρ| ≈ 0.786 (tested in `bivariate`).
static CORRELATION: LazyLock<FixedCorrelation> =
    LazyLock::new(|| FixedCorrelation::twelve_point((0.5 * (5.0_f64.sqrt() - 1.0)).sqrt()));

/// The 2002 call for b < r (Haug 2007, §3.3.3), with the instruction set picked at runtime.
/// `None` when S ≥ I₂ (the value is then S − X).
fn call(s: f64, x: f64, t: f64, r: f64, b: f64, v: f64) -> Option<Valuation> {
    fastmath::dispatch(Call { s, x, t, r, b, v })
}

/// The inputs of one call valuation, transformed for a put (spot, strike, years, rate, carry,
/// volatility).
#[derive(Clone, Copy)]
struct Call {
    s: f64,
    x: f64,
    t: f64,
    r: f64,
    b: f64,
    v: f64,
}

/// The approximation and, computed alongside from spare vector lanes, the European value.
struct Valuation {
    american: f64,
    european: f64,
}

impl Kernel for Call {
    type Output = Option<Valuation>;
    #[inline(always)]
    fn run<const F: bool>(self) -> Option<Valuation> {
        self.value::<F>()
    }
}

/// Natural logarithms of the spot, strike and the two trigger prices.
struct Logs {
    s: f64,
    x: f64,
    i1: f64,
    i2: f64,
}

/// ln Φ(x), accurate in the far left tail through the scaled complementary error function:
/// Φ(x) = ½·erfcx(−x/√2)·e^{−x²/2}.
pub(super) fn log_norm_cdf(x: f64) -> f64 {
    if x < -5.0 {
        (0.5 * erfcx(-x * std::f64::consts::FRAC_1_SQRT_2)).ln() - 0.5 * x * x
    } else {
        norm_cdf(x).ln()
    }
}

/// Beyond this a log-coefficient is not exponentiated on its own (e^{700} ≈ 1e304).
const SAFE_LOG: f64 = 700.0;

/// A ψ term whose coefficient times the upper bound min(Φ(a), Φ(b)) of its bivariate normal is
/// below this is dropped: ψ is multiplied by S, X or αᵢIᵢ^β, so the error is under 1e-17 of
/// the price scale, far below the final sum's rounding (2.2e-16 of it).
const NEGLIGIBLE: f64 = 1e-17;

/// e^{a}·m for 0 ≤ m ≤ 1 given e^{a}, without overflow when the product is representable:
/// the product directly when a ≤ [`SAFE_LOG`] (the usual case), through logarithms otherwise
/// (small volatilities: a ~ 2b/σ² can be in the thousands, with m tiny).
#[inline(always)]
fn exp_times(a: f64, exp_a: f64, m: f64) -> f64 {
    if a <= SAFE_LOG {
        exp_a * m
    } else if m <= 0.0 {
        0.0
    } else {
        (a + m.ln()).exp()
    }
}

/// e^{a}·Φ(d) given e^{a} and Φ(d), robust in the same way, with Φ's far tail taken in log
/// space.
#[inline(always)]
fn exp_times_cdf(a: f64, exp_a: f64, d: f64, cdf_d: f64) -> f64 {
    // Φ(−37) ≈ 5.7e-300 is still a normal double.
    if a <= SAFE_LOG && d > -37.0 {
        exp_a * cdf_d
    } else {
        (a + log_norm_cdf(d)).exp()
    }
}

/// The three exponents γ of the terms (β, 1, 0), which index [`Group`]s.
const POWER: usize = 0;
const LINEAR: usize = 1;
const CONSTANT: usize = 2;

/// The five ψ terms of the formula: (group, which H: `true` for I₁, `false` for X).
const PSI_TERMS: [(usize, bool); 5] = [
    (POWER, true),
    (LINEAR, true),
    (LINEAR, false),
    (CONSTANT, false),
    (CONSTANT, true),
];

/// Φ arguments: −f₁ … −f₄ of each ψ term (20), −e₁ … −e₄ of each group (12), φ(·, I₂, I₂)'s
/// two arguments of each group (6), and the European d₁, d₂ (2): five AVX-512 vectors.
const CDF_LANES: usize = 40;
const CDF_E: usize = 20;
const CDF_PHI_I2: usize = 32;
const CDF_EUROPEAN: usize = 38;

/// Exponentials: ψ's four log-coefficients of each group (12), the two log-coefficients of
/// each group's two φ (12), the first term (1) and the European discount factors e^{(b−r)T},
/// e^{−rT} (2); padded with zeros.
const EXP_LANES: usize = 32;
const EXP_PHI: usize = 12;
const EXP_FIRST: usize = 24;
const EXP_EUROPEAN: usize = 25;

/// ψ's bivariate normals M(−eⱼ, −fⱼ; ±ρ), four per ψ term (ρ for j = 1, 2, −ρ for j = 3, 4),
/// padded to a multiple of the vector width. Their second arguments are the first Φ
/// arguments; the padding pairs' (a = 0, b = −e) are harmless and discarded.
const PAIRS: usize = 24;
const PSI_PAIRS: usize = 4 * PSI_TERMS.len();

/// Where pair p's first argument −eⱼ is among the Φ arguments.
const PAIR_E: [usize; PSI_PAIRS] = {
    let mut index = [0; PSI_PAIRS];
    let mut p = 0;
    while p < PSI_PAIRS {
        index[p] = CDF_E + 4 * PSI_TERMS[p / 4].0 + p % 4;
        p += 1;
    }
    index
};

/// The early-exercise boundary of one valuation: β, t₁, the triggers I₁, I₂ and the logs.
struct Boundary {
    beta: f64,
    t1: f64,
    i1: f64,
    i2: f64,
    l: Logs,
}

/// The gathered arguments of every Φ and exponential of one valuation, and ψ's bivariate
/// normals (their margins filled in by [`Arguments::evaluate`]).
struct Arguments {
    groups: [Group; 3],
    cdf: [f64; CDF_LANES],
    exp: [f64; EXP_LANES],
    pairs: BivariateArgs<PAIRS>,
}

/// Their values, and ψ's bivariate normals.
struct Values {
    cdf: [f64; CDF_LANES],
    exp: [f64; EXP_LANES],
    bivariate: [f64; PAIRS],
}

impl Call {
    /// The value, in passes: the scalar set-up gathers every Φ argument and every exponent
    /// into arrays, which are evaluated in two branch-free vectorised loops; the 20 bivariate
    /// normals are then evaluated together ([`FixedCorrelation::cdf_many`]); a scalar pass
    /// combines the terms.
    #[inline(always)]
    fn value<const F: bool>(self) -> Option<Valuation> {
        let boundary = self.boundary::<F>()?;
        let mut args = self.arguments(&boundary);
        let values = args.evaluate::<F>();
        Some(self.combine(&boundary, &args, &values))
    }

    /// β, the triggers I₁ = I(t₁), I₂ = I(T) and the logs; `None` when S ≥ I₂ (exercise now).
    #[inline(always)]
    fn boundary<const F: bool>(&self) -> Option<Boundary> {
        let &Self { s, x, t, r, b, v } = self;
        let v2 = v * v;
        let beta = (0.5 - b / v2) + ((b / v2 - 0.5).powi(2) + 2.0 * r / v2).sqrt();
        let b_inf = beta / (beta - 1.0) * x;
        let b_0 = if r / (r - b) > 1.0 {
            r / (r - b) * x
        } else {
            x
        };
        let t1 = 0.5 * (5.0_f64.sqrt() - 1.0) * t;
        let scale = x * x / ((b_inf - b_0) * b_0);
        // Haug's h(t) = −(bt + 2σ√t)·X²/((B∞ − B₀)B₀) is ≤ 0 unless the drift outruns the
        // diffusion (b < 0 and |b|√t > 2σ: a call with q ≫ r, or a put with r ≫ q), where it
        // turns positive and puts the trigger below B₀ — below the strike, even −∞ (e^{1775}
        // for q = 10, σ = 0.2, T = 1), i.e. "exercise now" for an at-the-money call worth
        // 0.07. −|bt + 2σ√t| keeps the published formula wherever it applies, is continuous
        // across the switch, and sends the trigger toward B∞ as the drift dominates, where the
        // optimal boundary does lie after a time of order (σ/b)². Any trigger in [B₀, B∞] is a
        // feasible exercise policy, so the value stays a lower bound of the American price.
        let trigger = |u: f64| {
            let h = -(b * u + 2.0 * v * u.sqrt()).abs() * scale;
            b_0 - (b_inf - b_0) * h.exp_m1()
        };
        let i1 = trigger(t1);
        let i2 = trigger(t);
        if s >= i2 {
            return None;
        }
        // Every logarithm the terms need is a combination of these four.
        let l = Logs {
            s: ln::<F>(s),
            x: ln::<F>(x),
            i1: ln::<F>(i1),
            i2: ln::<F>(i2),
        };
        Some(Boundary {
            beta,
            t1,
            i1,
            i2,
            l,
        })
    }

    /// The three groups and the arrays of Φ arguments and exponents.
    #[inline(always)]
    fn arguments(&self, boundary: &Boundary) -> Arguments {
        let Boundary {
            beta, t1, ref l, ..
        } = *boundary;
        // αᵢ·(power claim with exponent β) = (Iᵢ − X)·(claim)/Iᵢ^β: the power group's ψ is
        // scaled by I₁^β, its φ by I₂^β and I₁^β; the linear group's by S.
        let groups = [
            Group::new(beta, [l.i1, l.i2, l.i1], t1, l, self),
            Group::new(1.0, [l.s, l.s, l.s], t1, l, self),
            Group::new(0.0, [0.0; 3], t1, l, self),
        ];
        let mut cdf = [0.0; CDF_LANES];
        let mut exp = [0.0; EXP_LANES];
        for (g, group) in groups.iter().enumerate() {
            cdf[CDF_E + 4 * g..CDF_E + 4 * g + 4].copy_from_slice(&group.minus_e);
            cdf[CDF_PHI_I2 + 2 * g..CDF_PHI_I2 + 2 * g + 2].copy_from_slice(&group.d_i2);
            exp[4 * g..4 * g + 4].copy_from_slice(&group.psi_log_coef);
            exp[EXP_PHI + 4 * g..EXP_PHI + 4 * g + 4].copy_from_slice(&group.phi_log_coef);
        }
        let mut pairs = BivariateArgs {
            a: [0.0; PAIRS],
            b: [0.0; PAIRS],
            cdf_a: [0.5; PAIRS],
            cdf_b: [0.0; PAIRS],
            negate: [false; PAIRS],
        };
        for (k, &(g, h_is_i1)) in PSI_TERMS.iter().enumerate() {
            let minus_f = groups[g].minus_f(if h_is_i1 { l.i1 } else { l.x });
            cdf[4 * k..4 * k + 4].copy_from_slice(&minus_f);
            pairs.a[4 * k..4 * k + 4].copy_from_slice(&groups[g].minus_e);
            pairs.negate[4 * k..4 * k + 4].copy_from_slice(&[false, false, true, true]);
        }
        pairs.b.copy_from_slice(&cdf[..PAIRS]);
        exp[EXP_FIRST] = beta * (l.s - l.i2);
        // The European call (Haug 2007, §1.1.6): d₁ = [ln(S/X) + (b + σ²/2)T]/(σ√T), d₂ = d₁ − σ√T.
        let Self { t, r, b, v, .. } = *self;
        let v_sqrt_t = v * t.sqrt();
        let d1 = (l.s - l.x + (b + 0.5 * v * v) * t) / v_sqrt_t;
        cdf[CDF_EUROPEAN] = d1;
        cdf[CDF_EUROPEAN + 1] = d1 - v_sqrt_t;
        exp[EXP_EUROPEAN] = (b - r) * t;
        exp[EXP_EUROPEAN + 1] = -r * t;
        Arguments {
            groups,
            cdf,
            exp,
            pairs,
        }
    }

    /// The formula's sum from the evaluated Φ, exponentials and bivariate normals.
    #[inline(always)]
    fn combine(&self, boundary: &Boundary, args: &Arguments, values: &Values) -> Valuation {
        let (s, x) = (self.s, self.x);
        let (a1, a2) = (boundary.i1 - x, boundary.i2 - x);
        // ψ(S, T, γ, H, I₂, I₁, t₁)·ref^{−γ} of term k from its four bivariate normals.
        let psi = |k: usize| {
            let g = PSI_TERMS[k].0;
            let mut sum = 0.0;
            for j in 0..4 {
                let p = 4 * k + j;
                let (log_coef, coef) = (args.groups[g].psi_log_coef[j], values.exp[4 * g + j]);
                // M(a, b; ±ρ) ≤ min(Φ(a), Φ(b)): a provably negligible term is skipped (it
                // also spares the log-space path an M that is only accurate absolutely).
                let bound = if log_coef <= SAFE_LOG {
                    coef
                } else {
                    f64::INFINITY
                } * values.cdf[PAIR_E[p]].min(values.cdf[p]);
                if bound < NEGLIGIBLE {
                    continue;
                }
                let term = exp_times(log_coef, coef, values.bivariate[p]);
                sum += if j == 0 || j == 3 { term } else { -term };
            }
            sum
        };
        // φ(S, t₁, γ, H, I₂)·ref^{−γ} of group g, H = I₂ (`at_i1` false) or I₁: e^{λt₁}
        // (S/ref)^γ [Φ(d) − (I₂/S)^κ Φ(d − 2 ln(I₂/S)/(σ√t₁))]. For H = I₁ the two arguments
        // are ψ's −e₁ and −e₂.
        let phi = |g: usize, at_i1: bool| {
            let d = if at_i1 {
                CDF_E + 4 * g
            } else {
                CDF_PHI_I2 + 2 * g
            };
            let e = EXP_PHI + 4 * g + if at_i1 { 2 } else { 0 };
            let term = |i: usize, j: usize| {
                exp_times_cdf(args.exp[i], values.exp[i], args.cdf[j], values.cdf[j])
            };
            term(e, d) - term(e + 1, d + 1)
        };
        let first = a2 * values.exp[EXP_FIRST];
        let phis = -a2 * phi(POWER, false)
            + a1 * phi(POWER, true)
            + s * (phi(LINEAR, false) - phi(LINEAR, true))
            + x * (phi(CONSTANT, true) - phi(CONSTANT, false));
        let psis = -a1 * psi(0) + s * (psi(1) - psi(2)) + x * (psi(3) - psi(4));
        let (cdf, exp) = (&values.cdf[CDF_EUROPEAN..], &values.exp[EXP_EUROPEAN..]);
        Valuation {
            american: first + phis + psis,
            european: (s * exp[0] * cdf[0] - x * exp[1] * cdf[1]).max(0.0),
        }
    }
}

impl Arguments {
    /// Every Φ and exponential, in loops over the arrays that LLVM vectorises, then ψ's
    /// bivariate normals from the Φ arguments and values.
    #[inline(always)]
    fn evaluate<const F: bool>(&mut self) -> Values {
        let mut cdf = [0.0; CDF_LANES];
        for (c, &arg) in cdf.iter_mut().zip(&self.cdf) {
            *c = lane_norm_cdf::<F>(arg);
        }
        let mut exp_values = [0.0; EXP_LANES];
        for (e, &arg) in exp_values.iter_mut().zip(&self.exp) {
            *e = exp::<F>(arg);
        }
        let pairs = &mut self.pairs;
        pairs.cdf_b.copy_from_slice(&cdf[..PAIRS]);
        for (c, &i) in pairs.cdf_a.iter_mut().zip(&PAIR_E) {
            *c = cdf[i];
        }
        Values {
            cdf,
            exp: exp_values,
            bivariate: CORRELATION.cdf_many::<F, PAIRS>(pairs),
        }
    }
}

/// The parts of φ and ψ shared by every term with the same exponent γ (Haug 2007, §3.3.3).
///
/// φ(S, T, γ, H, I)·ref^{−γ} = e^{λt₁}(S/ref)^γ [Φ(d) − (I/S)^κ Φ(d − 2 ln(I/S)/(σ√t₁))] at
/// t₁ with I = I₂, where λ = −r + γb + ½γ(γ − 1)σ², d = −[ln(S/H) + (b + (γ − ½)σ²)t₁]/(σ√t₁),
/// κ = 2b/σ² + 2γ − 1.
///
/// ψ(S, T, γ, H, I₂, I₁, t₁)·ref^{−γ} = e^{λT}(S/ref)^γ [M(−e₁, −f₁, ρ) − (I₂/S)^κ M(−e₂, −f₂, ρ)
/// − (I₁/S)^κ M(−e₃, −f₃, −ρ) + (I₁/I₂)^κ M(−e₄, −f₄, −ρ)], ρ = √(t₁/T), with e₁..e₄ over t₁
/// and f₁..f₄ over T: e₁,₃ = [ln(S/I₁) ± μt₁]/(σ√t₁), e₂,₄ = [ln(I₂²/(SI₁)) ± μt₁]/(σ√t₁),
/// f₁ = [ln(S/H) + μT]/(σ√T), f₂ = [ln(I₂²/(SH)) + μT]/(σ√T), f₃ = [ln(I₁²/(SH)) + μT]/(σ√T),
/// f₄ = [ln(SI₁²/(HI₂²)) + μT]/(σ√T), μ = b + (γ − ½)σ².
struct Group {
    /// μT and 1/(σ√T), for the fⱼ.
    drift_t: f64,
    inv_s2: f64,
    /// ln S and ln of the numerators of f₁ … f₄ (without H).
    f_numerators: [f64; 4],
    /// The arguments −e₁ … −e₄.
    minus_e: [f64; 4],
    /// φ(S, t₁, γ, I₂, I₂)'s two normal arguments d and d − 2 ln(I₂/S)/(σ√t₁).
    d_i2: [f64; 2],
    /// ln of ψ's four coefficients e^{λT}(S/ref)^γ·{1, (I₂/S)^κ, (I₁/S)^κ, (I₁/I₂)^κ}.
    psi_log_coef: [f64; 4],
    /// ln of the coefficients of the two Φ of φ(·, I₂, I₂) and of φ(·, I₁, I₂):
    /// e^{λt₁}(S/ref)^γ and that times (I₂/S)^κ.
    phi_log_coef: [f64; 4],
}

impl Group {
    /// `refs`: ln of the scale of ψ, of φ(·, I₂, I₂) and of φ(·, I₁, I₂).
    #[inline(always)]
    fn new(gamma: f64, refs: [f64; 3], t1: f64, l: &Logs, c: &Call) -> Self {
        let &Call { t, r, b, v, .. } = c;
        let v2 = v * v;
        let drift = b + (gamma - 0.5) * v2;
        // Reciprocals of σ√t₁ and σ√T: multiplications instead of a dozen divisions.
        let (inv_s1, inv_s2) = (1.0 / (v * t1.sqrt()), 1.0 / (v * t.sqrt()));
        let lambda = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2;
        let kappa = 2.0 * b / v2 + 2.0 * gamma - 1.0;
        let ln_s_i1 = l.s - l.i1;
        let ln_i2sq_s_i1 = 2.0 * l.i2 - l.s - l.i1;
        let minus_e = [
            -(ln_s_i1 + drift * t1) * inv_s1,
            -(ln_i2sq_s_i1 + drift * t1) * inv_s1,
            -(ln_s_i1 - drift * t1) * inv_s1,
            -(ln_i2sq_s_i1 - drift * t1) * inv_s1,
        ];
        let d = -((l.s - l.i2) + drift * t1) * inv_s1;
        let psi_front = lambda * t + gamma * (l.s - refs[0]);
        let phi_front = |ln_ref: f64| lambda * t1 + gamma * (l.s - ln_ref);
        let phi_power = kappa * (l.i2 - l.s);
        let [front_i2, front_i1] = [phi_front(refs[1]), phi_front(refs[2])];
        Self {
            drift_t: drift * t,
            inv_s2,
            f_numerators: [
                l.s,
                2.0 * l.i2 - l.s,
                2.0 * l.i1 - l.s,
                l.s + 2.0 * l.i1 - 2.0 * l.i2,
            ],
            minus_e,
            d_i2: [d, d - 2.0 * (l.i2 - l.s) * inv_s1],
            psi_log_coef: [
                psi_front,
                psi_front + kappa * (l.i2 - l.s),
                psi_front + kappa * (l.i1 - l.s),
                psi_front + kappa * (l.i1 - l.i2),
            ],
            phi_log_coef: [
                front_i2,
                front_i2 + phi_power,
                front_i1,
                front_i1 + phi_power,
            ],
        }
    }

    /// ψ's arguments −f₁ … −f₄ for the barrier H, from ln H.
    #[inline(always)]
    fn minus_f(&self, ln_h: f64) -> [f64; 4] {
        let mut minus_f = [0.0; 4];
        for (f, &ln_num) in minus_f.iter_mut().zip(&self.f_numerators) {
            *f = -(ln_num - ln_h + self.drift_t) * self.inv_s2;
        }
        minus_f
    }
}

#[cfg(test)]
mod tests {
    use super::super::bivariate::bivariate_norm_cdf;
    use super::*;

    /// Haug's (2007, §3.3.3) formulas transcribed directly: plain powers, the general 20-point
    /// bivariate normal and the crate's Φ — no grouping, sharing, skipping or log space.
    fn call_reference(s: f64, x: f64, t: f64, r: f64, b: f64, v: f64) -> f64 {
        let v2 = v * v;
        let beta = (0.5 - b / v2) + ((b / v2 - 0.5).powi(2) + 2.0 * r / v2).sqrt();
        let b_inf = beta / (beta - 1.0) * x;
        let b_0 = x.max(r / (r - b) * x);
        let t1 = 0.5 * (5.0_f64.sqrt() - 1.0) * t;
        let trigger = |u: f64| {
            b_0 + (b_inf - b_0)
                * (1.0
                    - (-(b * u + 2.0 * v * u.sqrt()).abs() * x * x / ((b_inf - b_0) * b_0)).exp())
        };
        let (i1, i2) = (trigger(t1), trigger(t));
        if s >= i2 {
            return s - x;
        }
        let (alpha1, alpha2) = ((i1 - x) * i1.powf(-beta), (i2 - x) * i2.powf(-beta));
        let lam = |g: f64| -r + g * b + 0.5 * g * (g - 1.0) * v2;
        let kap = |g: f64| 2.0 * b / v2 + 2.0 * g - 1.0;
        let phi = |tt: f64, g: f64, h: f64, i: f64| {
            let d = -((s / h).ln() + (b + (g - 0.5) * v2) * tt) / (v * tt.sqrt());
            (lam(g) * tt).exp()
                * s.powf(g)
                * (norm_cdf(d)
                    - (i / s).powf(kap(g)) * norm_cdf(d - 2.0 * (i / s).ln() / (v * tt.sqrt())))
        };
        let psi = |g: f64, h: f64| {
            let mu = b + (g - 0.5) * v2;
            let (s1, s2) = (v * t1.sqrt(), v * t.sqrt());
            let e = |num: f64, sign: f64| (num.ln() + sign * mu * t1) / s1;
            let f = |num: f64| (num.ln() + mu * t) / s2;
            let rho = (t1 / t).sqrt();
            let m = |a: f64, c: f64, rho: f64| bivariate_norm_cdf(-a, -c, rho);
            (lam(g) * t).exp()
                * s.powf(g)
                * (m(e(s / i1, 1.0), f(s / h), rho)
                    - (i2 / s).powf(kap(g))
                        * m(e(i2 * i2 / (s * i1), 1.0), f(i2 * i2 / (s * h)), rho)
                    - (i1 / s).powf(kap(g)) * m(e(s / i1, -1.0), f(i1 * i1 / (s * h)), -rho)
                    + (i1 / i2).powf(kap(g))
                        * m(
                            e(i2 * i2 / (s * i1), -1.0),
                            f(s * i1 * i1 / (h * i2 * i2)),
                            -rho,
                        ))
        };
        alpha2 * s.powf(beta) - alpha2 * phi(t1, beta, i2, i2) + phi(t1, 1.0, i2, i2)
            - phi(t1, 1.0, i1, i2)
            - x * phi(t1, 0.0, i2, i2)
            + x * phi(t1, 0.0, i1, i2)
            + alpha1 * phi(t1, beta, i1, i2)
            - alpha1 * psi(beta, i1)
            + psi(1.0, i1)
            - psi(1.0, x)
            - x * psi(0.0, i1)
            + x * psi(0.0, x)
    }

    /// The optimised evaluation (terms grouped by exponent, shared margins, negligible terms
    /// skipped, inline exponentials, 12-point quadrature) equals the direct transcription.
    #[test]
    fn call_matches_the_direct_transcription() {
        let mut worst = 0.0_f64;
        for s in [70.0, 95.0, 100.0, 120.0] {
            for t in [0.05, 0.5, 3.0] {
                for (r, b) in [(0.05, 0.0), (0.08, -0.04), (0.03, 0.01), (0.1, -0.2)] {
                    for v in [0.12, 0.3, 0.7] {
                        let got = call(s, 100.0, t, r, b, v).map_or(s - 100.0, |v| v.american);
                        let want = call_reference(s, 100.0, t, r, b, v);
                        worst = worst.max((got - want).abs());
                    }
                }
            }
        }
        // Absolute, on a strike of 100 (observed: 1e-13, the rounding of the reference's
        // separately evaluated powers and its 20-point quadrature).
        assert!(worst < 1e-12, "{worst:e}");
    }

    /// The European value computed in the kernel's spare lanes is the Black-Scholes-Merton
    /// price of the option, for calls and (through the put-call symmetry) puts.
    #[test]
    fn in_kernel_european_value_is_the_bsm_price() {
        let mut checked = 0;
        for spot in [80.0, 100.0, 115.0] {
            for t in [0.1, 1.0, 3.0] {
                for (r, q) in [(0.05, 0.03), (0.08, 0.12), (0.02, 0.0)] {
                    for v in [0.15, 0.4] {
                        for right in [OptionRight::Call, OptionRight::Put] {
                            let option = Vanilla::try_new(right, spot, 100.0, t, r, q).unwrap();
                            let (s, x, rate, b) = match right {
                                OptionRight::Call => (spot, 100.0, r, r - q),
                                OptionRight::Put => (100.0, spot, q, q - r),
                            };
                            if b >= rate {
                                continue;
                            }
                            let Some(value) = call(s, x, t, rate, b, v) else {
                                continue;
                            };
                            let want = crate::bsm::price(&option, v).unwrap();
                            assert!(
                                (value.european - want).abs() < 1e-12 * want.max(1.0),
                                "{right:?} S={spot} T={t} r={r} q={q} v={v}: {} vs {want}",
                                value.european
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 40, "{checked}");
    }

    #[test]
    fn log_norm_cdf_is_continuous_and_accurate_in_the_tail() {
        assert!((log_norm_cdf(-5.0 - 1e-12) - norm_cdf(-5.0).ln()).abs() < 1e-9);
        // ln Φ(−40) = −804.608 (Φ(−40) underflows an f64): asymptotically
        // ln Φ(x) ≈ −x²/2 − ln(−x√(2π)) − 1/x² …
        let x = -40.0_f64;
        let asymptotic =
            -0.5 * x * x - (-x * (2.0 * std::f64::consts::PI).sqrt()).ln() - 1.0 / (x * x);
        assert!((log_norm_cdf(x) - asymptotic).abs() < 1e-5);
    }
}
