//! Let's Be Rational over eight quotes at a time, branch-free, for the batch API
//! ([`crate::batch::bsm_implied_vols_into`]).
//!
//! The scalar solver ([`super::lbr`]) picks one of four branches per option and one of three
//! evaluations of the Black function per step, so rows cannot share instructions. Here every
//! lane computes every candidate and keeps one by a select (as the pricing kernels of
//! `batch::lanes` do), so that LLVM turns the loop over a chunk's lanes into AVX-512/AVX2 code:
//!
//! 1. **Normalise** as [`super::solve_code`]: x = −|ln(F/K)| (with the rounding of F/K
//!    corrected by one fused multiply-add), β the normalised time value.
//! 2. **Guess** by Jäckel's rational cubics (2015, §6) on the lowest and the two middle branches,
//!    with the 2024 fits of b(`s_l`) and b(`s_u`) ([`super::fitted`]) and a branch-free AS241 for
//!    Φ⁻¹ on the lowest branch.
//! 3. **Two third-order Householder steps** (§5): on the lowest branch on g = 1/ln b − 1/ln β
//!    (eq. (5.8)), elsewhere on b − β; b/b' is the small-t Taylor series below t = τ and the
//!    difference of Cody's erfcx above (the two exact regions of `black`), both computed, one
//!    kept. A third step runs for the lanes whose second step still moved s by 1e-5 or more.
//!
//! A lane comes back unsettled — and the caller runs the scalar solver on that row — when its
//! inputs are invalid or at a no-arbitrage bound, when it is on the highest branch (β above
//! b(`s_u`), large total variance), when a step reaches the asymptotic region of `black`
//! (h < −13, far out of the money), when a step would leave (0, 12], or when its last step still
//! moved s by 1e-5 or more. After a step of relative size below 1e-5 the error left by a
//! third-order method is of order 1e-18 (see `SKIP_SECOND_STEP`), so a settled lane is as
//! accurate as the scalar solver's answer, up to the rounding of the two forms of b.

#![expect(
    clippy::inline_always,
    reason = "pulp enables the SIMD target features on `with_simd` only; the kernel must be inlined into it to be compiled with them"
)]
#![expect(
    clippy::needless_bitwise_bool,
    reason = "`&` and `|` keep the lane masks branch-free (vector compares)"
)]

use super::black::{ETA, INV_ODD_FACTORIALS, SQRT_PI_OVER_2, TAU};
use super::fitted::{b_l_over_b_max_lanes, b_u_over_b_max_lanes};
use super::lbr::{
    FRAC_1_SQRT_3, LN_SQRT_TWO_PI, SKIP_SECOND_STEP, TWO_PI_OVER_3, TWO_PI_OVER_SQRT_27,
};
use super::rational::{control_parameter_lanes, interpolate_lanes};
use crate::fastmath::{cody_fraction_y, exp, ln, madd};
use crate::normal::{
    AS241_A, AS241_B, AS241_C, AS241_D, AS241_E, AS241_F, ONE_OVER_SQRT_TWO_PI, SQRT_TWO_PI, poly7,
};
use std::f64::consts::{FRAC_1_SQRT_2, SQRT_2};

/// Quotes per chunk: a multiple of every vector width in use (2, 4 or 8 doubles).
pub(crate) const LANES: usize = 8;

/// Total volatility above which a lane is left to the scalar solver: keeps e^{y²} in the erfcx
/// of a negative argument (y ≤ s/(2√2)) far from overflow.
const S_MAX: f64 = 12.0;
/// The series form of b/b' is used up to this t = s/2 (its eighth term is below 1e-18 of the
/// first there), the erfcx difference above the next; a lane whose step leaves its form's range
/// is left to the scalar solver.
const SERIES_MAX_T: f64 = 0.3;
const DIFFERENCE_MIN_T: f64 = 0.15;
/// Quotes per block: the steps run on a block's lanes regrouped by the form of b/b' they need,
/// so that each chunk evaluates one form instead of both.
pub(crate) const BLOCK: usize = 8 * LANES;
/// Chunks per block.
pub(crate) const CHUNKS: usize = BLOCK / LANES;

/// One chunk of quotes, structure of arrays. The discount factor and the forward come from
/// the caller, computed with `f64::exp` exactly as the scalar API does: near the money at small
/// σ√T the price moves by ~1e-12 of itself per ulp of the forward, so the kernel must solve for
/// the scalar API's forward, not one an ulp away.
#[derive(Clone, Copy)]
pub(crate) struct QuoteLanes {
    /// +1 call, −1 put.
    pub(crate) theta: [f64; LANES],
    /// S·e^{(r−q)T}.
    pub(crate) forward: [f64; LANES],
    pub(crate) strike: [f64; LANES],
    pub(crate) years: [f64; LANES],
    /// e^{−rT}.
    pub(crate) df: [f64; LANES],
    pub(crate) price: [f64; LANES],
}

impl QuoteLanes {
    /// Lanes `..n` from the rows' terms (`spot`, `rate`, `dividend_yield` give the forward and
    /// the discount factor); the other lanes hold an at-the-money call worth 8 on 100 over a
    /// year (σ ≈ 0.2), solved and discarded.
    #[inline(always)]
    #[expect(clippy::too_many_arguments, reason = "one column per quote term")]
    pub(crate) fn load(
        n: usize,
        theta: impl Fn(usize) -> f64,
        spot: &[f64],
        strike: &[f64],
        years: &[f64],
        rate: &[f64],
        dividend_yield: &[f64],
        price: &[f64],
    ) -> Self {
        let mut lanes = Self {
            theta: [1.0; LANES],
            forward: [100.0; LANES],
            strike: [100.0; LANES],
            years: [1.0; LANES],
            df: [1.0; LANES],
            price: [8.0; LANES],
        };
        for j in 0..n {
            lanes.theta[j] = theta(j);
            lanes.forward[j] = spot[j] * ((rate[j] - dividend_yield[j]) * years[j]).exp();
            lanes.strike[j] = strike[j];
            lanes.years[j] = years[j];
            lanes.df[j] = (-rate[j] * years[j]).exp();
            lanes.price[j] = price[j];
        }
        lanes
    }
}

/// Chunks that took a third step (tests only).
#[cfg(test)]
pub(crate) static THIRD_STEPS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// One chunk's answers: the volatility of each settled lane.
#[derive(Clone, Copy, Default)]
pub(crate) struct VolLanes {
    pub(crate) vol: [f64; LANES],
    /// The lane's volatility is the answer; otherwise the caller runs the scalar solver.
    pub(crate) settled: [bool; LANES],
}

/// erfcx(y) for any finite y with |y| ≤ 64 (the callers' range): Cody's three forms picked by
/// select, and erfcx(−|y|) = 2e^{y²} − erfcx(|y|) for negative y beyond the central interval.
#[inline(always)]
fn erfcx<const F: bool>(y: f64) -> f64 {
    let (num, den) = cody_fraction_y::<F>(y.abs());
    erfcx_finish::<F>(y, num / den)
}

/// [`erfcx`] given the value `ratio` of Cody's fraction at |y| (so that callers can share one
/// division between several).
#[inline(always)]
fn erfcx_finish<const F: bool>(y: f64, ratio: f64) -> f64 {
    let e = exp::<F>(y * y);
    // Central interval: ratio = erf(|y|)/|y| = erf(y)/y.
    let central = e * madd::<F>(-y, ratio, 1.0);
    let negative = madd::<F>(2.0, e, -ratio);
    if y.abs() <= 0.46875 {
        central
    } else if y < 0.0 {
        negative
    } else {
        ratio
    }
}

/// The scaled normalised Black function b/b' = Y(h + t) − Y(h − t) (see `black`) by the
/// small-t Taylor series (all eight terms; the scalar form stops at the first negligible one),
/// accurate for t below ~0.3 (the scalar form uses it below τ ≈ 0.21).
#[inline(always)]
fn scaled_series<const F: bool>(h: f64, t: f64) -> f64 {
    let y0 = SQRT_PI_OVER_2 * erfcx::<F>(-FRAC_1_SQRT_2 * h);
    let mut prev = y0;
    let mut cur = madd::<F>(h, y0, 1.0);
    let t2 = t * t;
    let mut t_power = 1.0;
    let mut sum = cur;
    let mut n = 1.0;
    for inv_factorial in INV_ODD_FACTORIALS {
        let next = madd::<F>(n, prev, h * cur);
        let next2 = madd::<F>(n + 1.0, cur, h * next);
        prev = next;
        cur = next2;
        n += 2.0;
        t_power *= t2;
        sum = madd::<F>(cur * t_power, inv_factorial, sum);
    }
    2.0 * t * sum
}

/// b/b' as the difference of Cody's erfcx, accurate (to a few ulp times 2/t) away from small
/// t; the two erfcx share one division, 1/(d₁d₂) times the other denominator (each lies
/// between ~1e3 and ~1e21, so neither the product nor its reciprocal leaves the normal range).
#[inline(always)]
fn scaled_difference<const F: bool>(h: f64, t: f64) -> f64 {
    let (z1, z2) = (-FRAC_1_SQRT_2 * (h + t), FRAC_1_SQRT_2 * (t - h));
    let (n1, d1) = cody_fraction_y::<F>(z1.abs());
    let (n2, d2) = cody_fraction_y::<F>(z2.abs());
    let inv = 1.0 / (d1 * d2);
    SQRT_PI_OVER_2 * (erfcx_finish::<F>(z1, n1 * d2 * inv) - erfcx_finish::<F>(z2, n2 * d1 * inv))
}

/// One Householder step at s: on 1/ln b − 1/ln β where `lowest`, else on b − β, with b/b' by
/// the series (`SERIES`) or the erfcx difference. Returns the step and whether it is usable
/// (b/b' positive and finite, outside the asymptotic region, t in the form's range). The
/// third-order step ν(1 + h₂ν/2)/(1 + ν(h₂ + h₃ν/6)) (Jäckel 2015, eq. (5.3)) of the chosen
/// objective costs one division.
#[inline(always)]
fn step<const F: bool, const SERIES: bool>(
    s: f64,
    x: f64,
    beta: f64,
    ln_beta: f64,
    inv_ln_beta: f64,
    lowest: bool,
) -> (f64, bool) {
    let inv_s = 1.0 / s;
    let h = x * inv_s;
    let t = 0.5 * s;
    let (scaled, in_range) = if SERIES {
        (scaled_series::<F>(h, t), t < SERIES_MAX_T)
    } else {
        (scaled_difference::<F>(h, t), t > DIFFERENCE_MIN_T)
    };
    let q = 0.5 * madd::<F>(h, h, t * t);
    // b''/b' and b'''/b' (eq. (5.5)).
    let w = h * h * inv_s;
    let b2 = madd::<F>(-0.25, s, w);
    let b3 = madd::<F>(b2, b2, madd::<F>(-3.0 * w, inv_s, -0.25));
    // b − β over b' = √(2π)·e^{q}·(β − b) = β·√(2π)·e^{q} − b/b'.
    let nu_middle = madd::<F>(beta * SQRT_TWO_PI, exp::<F>(q), -scaled);
    // The lowest branch (as `lbr::lowest_branch_step`), with ln b = ln(b/b') − q − ln√(2π);
    // b'/b and 1/ln b from one division.
    let ln_b = ln::<F>(scaled) - q - LN_SQRT_TWO_PI;
    let inv = 1.0 / (scaled * ln_b);
    let p = ln_b * inv;
    let lambda = scaled * inv;
    let one_plus_two_lambda = madd::<F>(2.0, lambda, 1.0);
    let nu_lowest = (ln_beta - ln_b) * ln_b * inv_ln_beta * scaled;
    let h2_lowest = madd::<F>(-p, one_plus_two_lambda, b2);
    let h3_lowest = b3 + p * p * madd::<F>(6.0 * lambda, 1.0 + lambda, 2.0)
        - 3.0 * b2 * p * one_plus_two_lambda;
    #[expect(
        clippy::float_cmp,
        reason = "at the root exactly, no step (as the scalar form)"
    )]
    let at_root = ln_b == ln_beta;
    let (nu, h2, h3) = if lowest {
        (if at_root { 0.0 } else { nu_lowest }, h2_lowest, h3_lowest)
    } else {
        (nu_middle, b2, b3)
    };
    let ds = nu * (1.0 + 0.5 * h2 * nu) / (1.0 + nu * (h2 + h3 * nu * (1.0 / 6.0)));
    let usable = (scaled > 0.0) & (scaled < f64::INFINITY) & (h >= ETA) & in_range;
    (ds, usable)
}

/// Φ⁻¹(p) for 0 < p < 0.575 given ln p (AS241, Wichura 1988): the central rational where
/// |p − ½| ≤ 0.425, the lower tail's below; every form computed, one kept.
#[inline(always)]
fn inverse_norm_cdf_lower(p: f64, ln_p: f64) -> f64 {
    let q = p - 0.5;
    let r = 0.180_625 - q * q;
    let central = (q * poly7(&AS241_A, r), poly7(&AS241_B, r));
    let rt = (-ln_p).sqrt();
    let near = (-poly7(&AS241_C, rt - 1.6), poly7(&AS241_D, rt - 1.6));
    let far = (-poly7(&AS241_E, rt - 5.0), poly7(&AS241_F, rt - 5.0));
    let tail = if rt <= 5.0 { near } else { far };
    let (num, den) = if q.abs() <= 0.425 { central } else { tail };
    num / den
}

/// The rational guess on the lowest branch (Jäckel 2015, eqs. (6.5)–(6.9); as
/// `lbr::lowest_branch_guess`, with exact elementary functions). Returns s and whether Φ⁻¹'s
/// argument stayed below 0.575 (else the lane is left to the scalar solver).
#[inline(always)]
fn lowest_branch_guess<const F: bool>(beta: f64, x: f64, s_l: f64, b_l: f64) -> (f64, bool) {
    let inv_s_l = 1.0 / s_l;
    let h = x * inv_s_l;
    let z = FRAC_1_SQRT_3 * h;
    let mills_z = SQRT_PI_OVER_2 * erfcx::<F>(-FRAC_1_SQRT_2 * z);
    let exp_minus_half_z2 = exp::<F>(-0.5 * z * z);
    let exp_q = exp::<F>(madd::<F>(0.5 * h, h, 0.125 * s_l * s_l));
    let cdf_z = ONE_OVER_SQRT_TWO_PI * exp_minus_half_z2 * mills_z;
    let f_l = TWO_PI_OVER_SQRT_27 * (-x) * cdf_z * cdf_z * cdf_z;
    let d1 = TWO_PI_OVER_3 * h * h * cdf_z * cdf_z * (exp_q * exp_minus_half_z2);
    let dlog = (-2.0 - 2.0 * z / mills_z - (2.0 / 3.0) * h * h) * inv_s_l + 0.25 * s_l;
    let d2 = d1 * dlog * (SQRT_TWO_PI * exp_q);
    let r = control_parameter_lanes(false, b_l, f_l, (1.0, d1), d2, true);
    let f = interpolate_lanes(beta, b_l, (0.0, f_l), (1.0, d1), r);
    let u = beta / b_l;
    let linear = (f_l * u + b_l * (1.0 - u)) * u;
    let f = if f.is_nan() || f <= 0.0 { linear } else { f };
    // Φ(z) = (f/((2π/√27)|x|))^{1/3}, through ln so that tiny f keeps its digits.
    let ln_p = ln::<F>(f / (TWO_PI_OVER_SQRT_27 * -x)) * (1.0 / 3.0);
    let p = exp::<F>(ln_p);
    let z = inverse_norm_cdf_lower(p, ln_p);
    ((x * FRAC_1_SQRT_3 / z).abs(), p < 0.575)
}

/// 1/b'(s) = √(2π)·e^{(h² + t²)/2}.
#[inline(always)]
fn inv_vega<const F: bool>(h: f64, t: f64) -> f64 {
    SQRT_TWO_PI * exp::<F>(0.5 * madd::<F>(h, h, t * t))
}

/// The chunk's state between the phases, structure of arrays so that each phase's loop over
/// the lanes is vectorised (an array of per-lane structs is not).
#[derive(Clone, Copy, Default)]
struct States {
    s: [f64; LANES],
    x: [f64; LANES],
    beta: [f64; LANES],
    ln_beta: [f64; LANES],
    inv_ln_beta: [f64; LANES],
    lowest: [bool; LANES],
    /// Inputs, bounds and every step so far acceptable.
    ok: [bool; LANES],
    /// The last step moved s by less than `SKIP_SECOND_STEP`·s.
    converged: [bool; LANES],
}

/// What the guess of one lane gives the steps.
struct Guess {
    s: f64,
    x: f64,
    beta: f64,
    lowest: bool,
    ok: bool,
}

impl States {
    /// One Householder step on every lane (`all`) or on the lanes not yet converged: s + ds
    /// where that stays in (0, `S_MAX`] and the step was usable, else the lane is not settled.
    #[inline(always)]
    fn step<const F: bool, const SERIES: bool>(&mut self, all: bool) {
        for j in 0..LANES {
            let (s, x) = (self.s[j], self.x[j]);
            let (ds, usable) = step::<F, SERIES>(
                s,
                x,
                self.beta[j],
                self.ln_beta[j],
                self.inv_ln_beta[j],
                self.lowest[j],
            );
            let moves = all | !self.converged[j];
            let next = s + ds;
            let fine = usable & (next > 0.0) & (next <= S_MAX);
            self.ok[j] &= !moves | fine;
            self.s[j] = if moves & fine { next } else { s };
            let converged = ds.abs() < SKIP_SECOND_STEP * s;
            self.converged[j] = if moves { converged } else { self.converged[j] };
        }
    }
}

/// Normalisation and guess for one lane.
#[inline(always)]
fn guess<const F: bool>(input: &QuoteLanes, j: usize) -> Guess {
    let (theta, forward, strike, years, df, price) = (
        input.theta[j],
        input.forward[j],
        input.strike[j],
        input.years[j],
        input.df[j],
        input.price[j],
    );
    // An invalid spot, rate or dividend yield leaves the forward or the discount factor
    // non-positive, infinite or NaN.
    let positive = |v: f64| (v > 0.0) & (v < f64::INFINITY);
    let valid =
        positive(forward) & positive(strike) & positive(years) & positive(df) & positive(price);
    // Invalid lanes compute on a harmless quote (an at-the-money call) and are not settled.
    let pick = |v: f64, benign: f64| if valid { v } else { benign };
    let (theta, forward, strike, df, price) = (
        pick(theta, 1.0),
        pick(forward, 1.0),
        pick(strike, 1.0),
        pick(df, 1.0),
        pick(price, 0.1),
    );
    let call = theta > 0.0;
    let intrinsic_raw = if call {
        forward - strike
    } else {
        strike - forward
    };
    let intrinsic = if intrinsic_raw > 0.0 {
        intrinsic_raw
    } else {
        0.0
    };
    let upper = if call { forward } else { strike };
    let time_value = price / df - intrinsic;
    // Strictly inside the bounds; at or near them the scalar solver decides.
    let inside = (price > df * intrinsic) & (price < df * upper) & (time_value > 0.0);
    // x = −|ln(F/K)|, with F/K's rounding error taken back: F = r·K + e exactly (one fused
    // multiply-add), ln(F/K) = ln r + e/F to first order.
    let ratio = forward / strike;
    let residual = madd::<F>(-ratio, strike, forward);
    let log_ratio = ln::<F>(ratio) + residual / forward;
    let x = -log_ratio.abs();
    let (sqrt_f, sqrt_k) = (forward.sqrt(), strike.sqrt());
    let (small, large) = if forward < strike {
        (sqrt_f, sqrt_k)
    } else {
        (sqrt_k, sqrt_f)
    };
    let b_max = small / large; // e^{x/2}
    let beta = time_value / (sqrt_f * sqrt_k);
    let inside = inside & (beta < b_max) & (beta > 0.0);

    // The branches (Jäckel 2015, §4; as `lbr::implied_normalised_otm`).
    let sqrt_ax = (-x).sqrt();
    let s_c = SQRT_2 * sqrt_ax;
    let ome = 1.0 - erfcx::<F>(sqrt_ax);
    let b_c = 0.5 * b_max * ome;
    let inv_vega_c = SQRT_TWO_PI * (large / small);
    let s_l = s_c - SQRT_PI_OVER_2 * ome;
    let b_l = b_l_over_b_max_lanes(s_c) * b_max;
    let s_u = s_c + SQRT_PI_OVER_2 * (2.0 - ome);
    let b_u = b_u_over_b_max_lanes(s_c) * b_max;
    let lower = beta < b_c;
    let lowest = beta < b_l;
    let highest = beta > b_u;
    // The two middle branches share one interpolation with their ends swapped in.
    let (s0, s1) = if lower { (s_l, s_c) } else { (s_c, s_u) };
    let (b0, b1) = if lower { (b_l, b_c) } else { (b_c, b_u) };
    let outer = if lower { s_l } else { s_u };
    let inv_vega_outer = inv_vega::<F>(x / outer, 0.5 * outer);
    let d = if lower {
        (inv_vega_outer, inv_vega_c)
    } else {
        (inv_vega_c, inv_vega_outer)
    };
    let width = b1 - b0;
    let r = control_parameter_lanes(!lower, width, s1 - s0, d, 0.0, false);
    let middle_guess = interpolate_lanes(beta - b0, width, (s0, s1), d, r);
    let (lowest_guess, lowest_ok) = lowest_branch_guess::<F>(beta, x, s_l, b_l);
    let s = if lowest { lowest_guess } else { middle_guess };

    Guess {
        s,
        x,
        beta,
        lowest,
        ok: valid & inside & !highest & (!lowest | lowest_ok) & (s > 0.0) & (s <= S_MAX),
    }
}

/// Implied volatilities of a block of quotes: the guesses chunk by chunk, then the steps over
/// the lanes regrouped by the form of b/b' their guess needs (t = s/2 below or above τ), then σ
/// for the settled lanes. A lane's answer does not depend on its neighbours.
#[inline(always)]
pub(crate) fn solve_block<const F: bool>(
    input: &[QuoteLanes; CHUNKS],
    out: &mut [VolLanes; CHUNKS],
) {
    let mut block = [States::default(); CHUNKS];
    for (st, input) in block.iter_mut().zip(input) {
        for j in 0..LANES {
            let g = guess::<F>(input, j);
            let ln_beta = ln::<F>(g.beta);
            st.s[j] = g.s;
            st.x[j] = g.x;
            st.beta[j] = g.beta;
            st.ln_beta[j] = ln_beta;
            st.inv_ln_beta[j] = 1.0 / ln_beta;
            st.lowest[j] = g.lowest;
            st.ok[j] = g.ok;
        }
    }
    let (mut series, mut difference) = ([0_usize; BLOCK], [0_usize; BLOCK]);
    let (mut n_series, mut n_difference) = (0, 0);
    // Branch-free compaction: each index is written to both lists, and kept by the count.
    for i in 0..BLOCK {
        let (c, j) = (i / LANES, i % LANES);
        let ok = block[c].ok[j];
        let small_t = 0.5 * block[c].s[j] < TAU;
        series[n_series] = i;
        n_series += usize::from(ok & small_t);
        difference[n_difference] = i;
        n_difference += usize::from(ok & !small_t);
    }
    steps::<F, true>(&mut block, &series[..n_series]);
    steps::<F, false>(&mut block, &difference[..n_difference]);
    for ((st, input), out) in block.iter().zip(input).zip(out) {
        for j in 0..LANES {
            let vol = st.s[j] / input.years[j].sqrt();
            out.vol[j] = vol;
            out.settled[j] = st.ok[j] & st.converged[j] & (vol > 0.0) & (vol < f64::INFINITY);
        }
    }
}

/// Two steps (a third where a lane still moved by 1e-5 or more) on the block's lanes `lanes`,
/// gathered eight at a time (a short last group repeats its last lane) and scattered back.
#[inline(always)]
fn steps<const F: bool, const SERIES: bool>(block: &mut [States; CHUNKS], lanes: &[usize]) {
    for group in lanes.chunks(LANES) {
        let mut st = States::default();
        for j in 0..LANES {
            let i = group[j.min(group.len() - 1)];
            let from = &block[i / LANES];
            let k = i % LANES;
            st.s[j] = from.s[k];
            st.x[j] = from.x[k];
            st.beta[j] = from.beta[k];
            st.ln_beta[j] = from.ln_beta[k];
            st.inv_ln_beta[j] = from.inv_ln_beta[k];
            st.lowest[j] = from.lowest[k];
            st.ok[j] = from.ok[k];
        }
        st.step::<F, SERIES>(true);
        st.step::<F, SERIES>(true);
        if (0..LANES).any(|j| st.ok[j] & !st.converged[j]) {
            // Only the lanes that need it move.
            #[cfg(test)]
            THIRD_STEPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            st.step::<F, SERIES>(false);
        }
        for (j, &i) in group.iter().enumerate() {
            let to = &mut block[i / LANES];
            let k = i % LANES;
            to.s[k] = st.s[j];
            to.ok[k] = st.ok[j];
            to.converged[k] = st.converged[j];
        }
    }
}
