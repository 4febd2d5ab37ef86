//! Leisen & Reimer (1996), "Binomial models for option valuation — examining and improving
//! convergence", Applied Mathematical Finance 3(4), 319-346: a binomial tree whose probabilities
//! come from inverting the Black-Scholes d₁ and d₂ through the Peizer-Pratt "method 2"
//! normal-to-binomial inversion, so that the terminal nodes straddle the strike and the
//! European price converges smoothly as O(1/n²) instead of CRR's oscillating O(1/n). For
//! American options it is the usual accurate reference at a few hundred steps.
//!
//! With n odd, Δt = T/n, d₁,₂ = [ln(S/X) + (b ± σ²/2)T]/(σ√T) and
//! h(z) = ½ + sign(z)·½·√(1 − exp(−(z/(n + ⅓ + 0.1/(n + 1)))²·(n + ⅙))):
//! p = h(d₂), p′ = h(d₁), u = e^{bΔt}p′/p, d = (e^{bΔt} − pu)/(1 − p), discount e^{−rΔt}
//! (Leisen-Reimer 1996, eq. (10) and §3; the dividend yield enters through b = r − q).
//! At every node the value is max(continuation, immediate exercise).
//!
//! Even step counts are rounded up to the next odd one (the inversion centres the tree on the
//! strike only for odd n). When p rounds to 0 or 1 (|d₁,₂| huge: deep in or out of the money
//! with a small σ√T, σ = 100, or a drift far beyond the diffusion), the tree falls back to a
//! Cox-Ross-Rubinstein tree centred on the forward, whose probability 1/(1 + e^{σ√Δt}) is in
//! (0, ½) for every input (`drifted_crr`).
//!
//! Extreme inputs (issue 18 §3), each with its argument in the source:
//! - a call with q ≫ r or a put with r ≫ q lives only for a time of order (σ/b)², shorter than
//!   one step of a tree over T: the tree spans a provably sufficient horizon instead
//!   (`exercise_horizon`);
//! - where σ√(nT) is in the hundreds (σ = 100) node spots leave the range of `f64`: the tree
//!   is run on a put (a call through the put-call transformation) with node spots in log
//!   space (`run_log_space`);
//! - a result that still does not fit in an `f64` is [`PricingError::Overflow`], never ∞/NaN.
//!
//! Cost: n(n + 1)/2 node updates with no allocation after the first call on a thread (the node
//! buffer is kept in a thread-local and reused).

use std::cell::RefCell;

use super::{Inputs, Prepared, prepare};
use crate::error::{PricingError, Result, finite_output};
use crate::types::Vanilla;

/// The largest accepted step count (the lattice costs O(steps²)).
pub const MAX_STEPS: usize = 100_000;

thread_local! {
    /// Spot factors and two node columns, reused across calls on this thread.
    static BUFFER: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Leisen-Reimer lattice value of the American option at volatility `vol` with `steps` time
/// steps (rounded up to odd; 201-1001 is the usual range).
///
/// # Errors
/// [`PricingError::InvalidInput`] for a NaN, infinite or out-of-domain input, or `steps` of 0
/// or above [`MAX_STEPS`] (name `steps`); [`PricingError::Overflow`] if the value does not
/// fit in an `f64`.
pub fn price(option: &Vanilla, vol: f64, steps: usize) -> Result<f64> {
    check_steps(steps)?;
    // A lattice is a discretisation whose value can sit a little (~1e-5 relative) below the
    // analytic European: flooring it there would put a kink into its implied volatility, so
    // it is held to the bounds only when it misses one materially (σ = 100: percent).
    super::checked_price(option, vol, 1e-4, |o| price_inputs(o, steps))
}

/// The lattice on prepared inputs (shared with Bjerksund-Stensland's fallback).
pub(crate) fn price_inputs(o: &Inputs, steps: usize) -> Result<f64> {
    check_steps(steps)?;
    finite_output("price", run(o, steps).price)
}

/// Price, delta and gamma: delta and gamma from the three nodes two steps into the tree
/// (which avoids re-running it); central spot differences of the price where the tree is too
/// short (one step) or the inputs are degenerate.
pub(crate) fn price_delta_gamma(
    option: &Vanilla,
    vol: f64,
    steps: usize,
) -> Result<(f64, f64, f64)> {
    check_steps(steps)?;
    if let Prepared::Model(o) = prepare(option, vol)? {
        let out = run(&o, steps);
        if let Some((delta, gamma)) = out.delta_gamma {
            return Ok((out.price, delta, gamma));
        }
    }
    super::spot_differences(option, 1e-4 * option.spot, |o| price(o, vol, steps))
}

pub(crate) fn check_steps(steps: usize) -> Result<()> {
    if steps == 0 || steps > MAX_STEPS {
        return Err(PricingError::InvalidInput {
            name: "steps",
            value: steps as f64,
            requirement: "between 1 and 100000",
        });
    }
    Ok(())
}

/// Peizer-Pratt method-2 inversion (Leisen-Reimer 1996, eq. (10)).
fn peizer_pratt(z: f64, n: f64) -> f64 {
    let a = z / (n + 1.0 / 3.0 + 0.1 / (n + 1.0));
    let root = 0.5 * (1.0 - (-(a * a) * (n + 1.0 / 6.0)).exp()).sqrt();
    if z >= 0.0 { 0.5 + root } else { 0.5 - root }
}

/// Tree parameters: up and down factors and the risk-neutral probability of an up move.
struct Tree {
    up: f64,
    down: f64,
    p: f64,
}

fn tree(o: &Inputs, n: usize) -> Tree {
    let nf = n as f64;
    let dt = o.years / nf;
    let growth = (o.carry * dt).exp();
    let v_sqrt_t = o.vol * o.years.sqrt();
    let d1 = ((o.spot / o.strike).ln() + (o.carry + 0.5 * o.vol * o.vol) * o.years) / v_sqrt_t;
    let d2 = d1 - v_sqrt_t;
    let p = peizer_pratt(d2, nf);
    let p_bar = peizer_pratt(d1, nf);
    let up = growth * p_bar / p;
    let down = (growth - p * up) / (1.0 - p);
    if p > 0.0 && p < 1.0 && down > 0.0 && up > down && up.is_finite() {
        return Tree { up, down, p };
    }
    drifted_crr(o.carry, o.vol, dt)
}

/// The fallback when Leisen-Reimer's inversion degenerates (p rounds to 0 or 1: |d₁,₂| huge,
/// as with σ = 100 or a drift far larger than the diffusion): a Cox-Ross-Rubinstein tree
/// centred on the forward, u, d = e^{bΔt ± σ√Δt}. With x = e^{σ√Δt} the risk-neutral
/// probability is p = (e^{bΔt} − d)/(u − d) = (1 − 1/x)/(x − 1/x) = 1/(1 + x), which lies in
/// (0, ½) for every σ√Δt > 0 — the tree is well posed whatever the drift, unlike a
/// Jarrow-Rudd tree, whose p leaves [0, 1] once |b|√Δt exceeds σ.
fn drifted_crr(carry: f64, vol: f64, dt: f64) -> Tree {
    let sd = vol * dt.sqrt();
    Tree {
        up: (carry * dt + sd).exp(),
        down: (carry * dt - sd).exp(),
        p: 1.0 / (1.0 + sd.exp()),
    }
}

/// The largest range n(|ln u| + |ln d|) of the factors S·dⁱ and (u/d)ʲ that the tree
/// evaluates as products of powers (e^{600} ≈ 1e260, far from overflow); beyond it (σ√(nT) in
/// the hundreds: σ = 100, or σ = 10 with 2 001 steps) node spots are formed in log space one
/// by one.
const LOG_RANGE: f64 = 600.0;

/// The tree's time span: the option's life, or a shorter horizon beyond which exercise is
/// provably worth less than 1e-13 of the option's scale (see [`exercise_horizon`]).
fn horizon(o: &Inputs, n: usize) -> f64 {
    // Only where the tree over T would be too coarse: a drift per step beyond a quarter of
    // the diffusion per step, |μ|√Δt > σ/4. Elsewhere the tree is left as it was (its value
    // then changes by the tree's own error, not by 1e-13: deep out-of-the-money prices of
    // 1e-10 would otherwise move in relative terms).
    let mu = o.carry - 0.5 * o.vol * o.vol;
    if mu.abs() * (o.years / n as f64).sqrt() <= 0.25 * o.vol {
        return o.years;
    }
    exercise_horizon(o).map_or(o.years, |h| h.min(o.years))
}

/// A horizon H < T after which the early-exercise right is worth (almost) nothing, when the
/// drift pulls the spot away from the exercise region much faster than the diffusion can
/// bring it back — a call with q ≫ r (q = 10, say) or a put with r ≫ q. Such an option is
/// alive only for a time of order (σ/b)², far below one step of a tree spanning T (with
/// q = 10 and σ = 0.2, 4e-4 years against T/301 = 3.3e-3): the tree would step over the whole
/// exercise region and price the call several times too low. Pricing the option with
/// maturity H instead puts every step inside it.
///
/// Why that is exact to the stated tolerance. Write the put as the call C(K, S, T, q, r)
/// (put-call transformation, Haug 2007, §3.3), so that only calls need an argument. Let V(T)
/// be the value with maturity T and τ the optimal exercise time. Exercising at τ when τ ≤ H
/// and at H otherwise is feasible for maturity H, so
/// V(T) − V(H) ≤ E[e^{−rτ}(S(τ) − K)⁺; τ > H] ≤ max(1, e^{−rT})·(B∞ − K)·P(sup_{t ≥ H} S(t) ≥ K),
/// because a continuous path is exercised on reaching the boundary, which lies below the
/// perpetual boundary B∞ = βK/(β − 1) (β > 1 the positive root of
/// ½σ²β(β − 1) + bβ − r = 0, finite when q > 0; Merton 1973), and a positive payoff needs
/// S ≥ K. With X(t) = ln(S(t)/S) = μt + σW(t), μ = b − σ²/2 < 0, a = ln(K/S), λ = −2μ/σ², the
/// supremum of a Brownian motion with negative drift from X(H) has
/// P(sup_{t ≥ H} X(t) ≥ a) = Φ((μH − a)/(σ√H)) + e^{−λa}·Φ((a + μH)/(σ√H))
/// (the first-passage law, e.g. Borodin & Salminen 2002, 1.1.4, integrated over X(H)). The
/// right-hand side decreases in H (the suprema are over nested sets), so the smallest H with
/// a bound under 1e-13·max(S, K) is found by bisection on ln H.
fn exercise_horizon(o: &Inputs) -> Option<f64> {
    use super::bjerksund_stensland::log_norm_cdf;
    // The call form: spot, strike, rate and yield of C(S, K, r, q) or of P's C(K, S, q, r).
    let q_of = |rate: f64, carry: f64| rate - carry;
    let (spot, strike, rate, carry) = match o.right {
        crate::types::OptionRight::Call => (o.spot, o.strike, o.rate, o.carry),
        crate::types::OptionRight::Put => (o.strike, o.spot, q_of(o.rate, o.carry), -o.carry),
    };
    let yield_ = q_of(rate, carry);
    let (v, t) = (o.vol, o.years);
    let v2 = v * v;
    let mu = carry - 0.5 * v2;
    if !(yield_ > 0.0 && mu < 0.0 && spot > 0.0 && strike > 0.0) {
        return None;
    }
    let half_minus = 0.5 - carry / v2;
    let beta = half_minus + (half_minus * half_minus + 2.0 * rate / v2).sqrt();
    if !(beta > 1.0 && beta.is_finite()) {
        return None;
    }
    let boundary_gain = strike / (beta - 1.0); // B∞ − K
    let scale = o.spot.max(o.strike);
    let log_tolerance = (1e-13 * scale / (boundary_gain * (-rate * t).exp().max(1.0))).ln();
    let a = (strike / spot).ln();
    let lambda = -2.0 * mu / v2;
    let log_bound = |h: f64| {
        let sd = v * h.sqrt();
        let first = log_norm_cdf((mu * h - a) / sd);
        let second = -lambda * a + log_norm_cdf((a + mu * h) / sd);
        // ln(e^x + e^y), stably.
        let (hi, lo) = if first > second {
            (first, second)
        } else {
            (second, first)
        };
        hi + (lo - hi).exp().ln_1p()
    };
    if !(log_tolerance.is_finite() && log_bound(t) <= log_tolerance) {
        return None;
    }
    // Bisection on ln H between a horizon that is certainly enough (T) and one that is not
    // (or is absurdly short: 1e-12·T, which still leaves the tree well inside the life).
    let (mut enough, mut short) = (t.ln(), (1e-12 * t).ln());
    if log_bound(short.exp()) <= log_tolerance {
        return Some(short.exp());
    }
    for _ in 0..60 {
        let mid = 0.5 * (enough + short);
        if log_bound(mid.exp()) <= log_tolerance {
            enough = mid;
        } else {
            short = mid;
        }
        if enough - short < 1e-3 {
            break;
        }
    }
    Some(enough.exp())
}

struct Output {
    price: f64,
    delta_gamma: Option<(f64, f64)>,
}

fn run(o: &Inputs, steps: usize) -> Output {
    let n = steps | 1;
    let years = horizon(o, n);
    let o = &Inputs { years, ..*o };
    let Tree { up, down, p } = tree(o, n);
    // Node (i, j) is formed as S·dⁱ·(u/d)ʲ: the factors reach e^{±n|ln d|} and
    // e^{n·ln(u/d)}, both within e^{±n(|ln u| + |ln d|)}.
    if n as f64 * (up.ln().abs() + down.ln().abs()) > LOG_RANGE {
        return Output {
            price: run_log_space(o, n),
            delta_gamma: None,
        };
    }
    let disc = (-o.rate * o.years / n as f64).exp();
    let (pu, pd) = (disc * p, disc * (1.0 - p));
    let theta = o.right.sign();
    let (ln_d, ln_ud) = (down.ln(), (up / down).ln());
    // The up-move probability of the share measure, p·u/e^{bΔt}: the band must hold the nodes
    // that matter under both measures (see `Band`).
    let growth = (o.carry * o.years / n as f64).exp();
    let band = Band::new(p, p * up / growth);
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        buf.resize(3 * (n + 1), 0.0);
        let (ratio, rest) = buf.split_at_mut(n + 1);
        let (values, scratch) = rest.split_at_mut(n + 1);
        // ratio[j] = (u/d)^j, so that node (i, j) has spot S·dⁱ·ratio[j].
        for (j, r) in ratio.iter_mut().enumerate() {
            *r = (j as f64 * ln_ud).exp();
        }
        let (lo, hi) = band.at(n, n);
        let base = o.spot * (n as f64 * ln_d).exp();
        for (v, r) in values[lo..=hi].iter_mut().zip(&ratio[lo..=hi]) {
            *v = (theta * (base * r - o.strike)).max(0.0);
        }
        let mut induction = Induction {
            values,
            scratch,
            ratio,
            spot: o.spot,
            strike: o.strike,
            theta,
            ln_d,
            pu,
            pd,
            n,
            band,
            lo,
            hi,
            at_two: [0.0; 3],
        };
        let price = crate::fastmath::dispatch(&mut induction);
        let at_two = induction.at_two;
        let delta_gamma = (n >= 3).then(|| {
            let s = [o.spot * down * down, o.spot * up * down, o.spot * up * up];
            let delta_low = (at_two[1] - at_two[0]) / (s[1] - s[0]);
            let delta_high = (at_two[2] - at_two[1]) / (s[2] - s[1]);
            let delta = (at_two[2] - at_two[0]) / (s[2] - s[0]);
            (delta, (delta_high - delta_low) / (0.5 * (s[2] - s[0])))
        });
        Output { price, delta_gamma }
    })
}

/// The nodes of each time step that can matter, by Hoeffding's inequality: the number of up
/// moves J after i steps, binomial with up probability π, leaves [iπ − c√i, iπ + c√i] with
/// probability at most 2e^{−2c²} (Hoeffding 1963, Theorem 1), whatever π. With c = 5 that is
/// 4e-22 per step. The band holds the nodes within that range under both the pricing measure
/// (π = p) and the share measure (π = p·u/e^{bΔt}, under which a call's large node values are
/// weighted: `E[S(i); A] = S·e^{b·iΔt}·P'(A)`). Nodes outside it are given their exercise value
/// when a step needs them as children: every node value lies between that and
/// max(node spot, K)·max(1, e^{−rT}, e^{−qT}), so the change in the root value is below
/// 2·n·4e-22 of that scale under the two measures — far below the lattice's own error and
/// the rounding of its O(n²) sums. Where √i·2c ≥ i (the first ~100 steps) the band is the
/// whole step, so the nodes at step 2 (delta and gamma) are always exact.
#[derive(Clone, Copy)]
struct Band {
    low: f64,
    high: f64,
}

/// Hoeffding's c: the band's half-width in units of √i.
const BAND_WIDTH: f64 = 5.0;

impl Band {
    fn new(p: f64, p_share: f64) -> Self {
        Band {
            low: p.min(p_share),
            high: p.max(p_share),
        }
    }

    /// The band [lo, hi] of step `i`, clamped to the nodes 0..=i and to `cap` (the last node
    /// a caller may read).
    #[inline]
    fn at(self, i: usize, cap: usize) -> (usize, usize) {
        let fi = i as f64;
        let w = BAND_WIDTH * fi.sqrt();
        let lo = (fi * self.low - w).floor().max(0.0) as usize;
        let hi = ((fi * self.high + w).ceil() as usize).min(i).min(cap);
        (lo.min(hi), hi)
    }
}

/// The backward induction over the columns, as a [`Kernel`](crate::fastmath::Kernel) so that
/// its inner loop is compiled for AVX-512/AVX2 with FMA where the CPU has them (runtime
/// dispatch, feature `simd`) instead of the baseline SSE2: the straight-line zip below is
/// what LLVM vectorises. Values of the step being read live in `values[lo..=hi]`.
struct Induction<'a> {
    values: &'a mut [f64],
    scratch: &'a mut [f64],
    ratio: &'a [f64],
    spot: f64,
    strike: f64,
    theta: f64,
    ln_d: f64,
    pu: f64,
    pd: f64,
    n: usize,
    band: Band,
    lo: usize,
    hi: usize,
    at_two: [f64; 3],
}

impl crate::fastmath::Kernel for &mut Induction<'_> {
    type Output = f64;

    #[expect(
        clippy::inline_always,
        reason = "`fastmath::dispatch` enables the SIMD target features on its entry point only; the loop must be inlined into it to be compiled with them"
    )]
    #[inline(always)]
    fn run<const F: bool>(self) -> f64 {
        let (mut values, mut scratch) = (&mut *self.values, &mut *self.scratch);
        let (mut lo, mut hi) = (self.lo, self.hi);
        let (theta, strike, pu, pd) = (self.theta, self.strike, self.pu, self.pd);
        for i in (0..self.n).rev() {
            let (new_lo, new_hi) = self.band.at(i, i);
            // Children outside the band of step i + 1 take their exercise value.
            let exercise_next = |j: usize| {
                let spot = self.spot * ((i + 1) as f64 * self.ln_d).exp() * self.ratio[j];
                (theta * (spot - strike)).max(0.0)
            };
            for (j, v) in values.iter_mut().enumerate().take(lo).skip(new_lo) {
                *v = exercise_next(j);
            }
            for (j, v) in values.iter_mut().enumerate().take(new_hi + 2).skip(hi + 1) {
                *v = exercise_next(j);
            }
            let base = self.spot * (i as f64 * self.ln_d).exp();
            let next = &mut scratch[new_lo..=new_hi];
            let down_values = &values[new_lo..=new_hi];
            let up_values = &values[new_lo + 1..=new_hi + 1];
            for (((out, &vd), &vu), &r) in next
                .iter_mut()
                .zip(down_values)
                .zip(up_values)
                .zip(&self.ratio[new_lo..=new_hi])
            {
                let continuation = crate::fastmath::madd::<F>(pd, vd, pu * vu);
                let exercise = theta * crate::fastmath::madd::<F>(base, r, -strike);
                *out = continuation.max(exercise);
            }
            std::mem::swap(&mut values, &mut scratch);
            (lo, hi) = (new_lo, new_hi);
            if i == 2 {
                self.at_two = [values[0], values[1], values[2]];
            }
        }
        values[0]
    }
}

/// The tree for extreme σ√(nT) (σ = 100, say), where S·uⁿ and S·dⁿ overflow and underflow and
/// a call's node values (∼ its node spots) would reach ∞, then ∞·0 = NaN. A call is priced as
/// the put of its put-call transformation C(S, K, T, r, q) = P(K, S, T, q, r) (Haug 2007,
/// §3.3), whose node values are bounded by its strike times the discounting; a put's node
/// spots are formed in log space, so that a spot beyond the range of `f64` is ∞ (exercise
/// worth −∞: never chosen) or 0 (exercise worth the strike), never NaN. One exponential per
/// node: slower, and only used here.
fn run_log_space(o: &Inputs, n: usize) -> f64 {
    let o = match o.right {
        crate::types::OptionRight::Put => *o,
        crate::types::OptionRight::Call => Inputs {
            right: crate::types::OptionRight::Put,
            spot: o.strike,
            strike: o.spot,
            rate: o.rate - o.carry,
            carry: -o.carry,
            ..*o
        },
    };
    let Tree { up, down, p } = tree(&o, n);
    let disc = (-o.rate * o.years / n as f64).exp();
    let (pu, pd) = (disc * p, disc * (1.0 - p));
    let (ln_s, ln_u, ln_d) = (o.spot.ln(), up.ln(), down.ln());
    let strike = o.strike;
    let spot = |i: usize, j: usize| (ln_s + j as f64 * ln_u + (i - j) as f64 * ln_d).exp();
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        buf.resize(n + 1, 0.0);
        for (j, v) in buf.iter_mut().enumerate() {
            *v = (strike - spot(n, j)).max(0.0);
        }
        for i in (0..n).rev() {
            for j in 0..=i {
                let continuation = pd * buf[j] + pu * buf[j + 1];
                buf[j] = continuation.max(strike - spot(i, j));
            }
        }
        buf[0]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::OptionRight;

    /// The whole tree, every node of every step, with the plain arithmetic of the original
    /// kernel: the reference for the banded, dispatched one.
    fn full_tree(o: &Inputs, n: usize) -> f64 {
        let o = &Inputs {
            years: horizon(o, n),
            ..*o
        };
        let Tree { up, down, p } = tree(o, n);
        let disc = (-o.rate * o.years / n as f64).exp();
        let (pu, pd) = (disc * p, disc * (1.0 - p));
        let theta = o.right.sign();
        let (ln_d, ln_ud) = (down.ln(), (up / down).ln());
        let spot = |i: usize, j: usize| o.spot * (i as f64 * ln_d).exp() * (j as f64 * ln_ud).exp();
        let mut v: Vec<f64> = (0..=n)
            .map(|j| (theta * (spot(n, j) - o.strike)).max(0.0))
            .collect();
        for i in (0..n).rev() {
            for j in 0..=i {
                v[j] = (pd * v[j] + pu * v[j + 1]).max(theta * (spot(i, j) - o.strike));
            }
        }
        v[0]
    }

    /// The band (Hoeffding, c = 5) changes no price by more than rounding: calls and puts, in
    /// and out of the money, short and long, low and high volatility (a call's share measure
    /// drifts away from the pricing one when σ√T is large), 101 to 2001 steps.
    #[test]
    fn banded_tree_matches_the_full_tree() {
        let mut worst: f64 = 0.0;
        for right in [OptionRight::Call, OptionRight::Put] {
            for strike in [40.0, 80.0, 100.0, 125.0, 250.0] {
                for (years, vol) in [
                    (0.02, 0.2),
                    (0.5, 0.05),
                    (1.0, 0.3),
                    (5.0, 0.8),
                    (30.0, 1.5),
                ] {
                    for (rate, carry) in [(0.05, 0.02), (0.01, -0.05), (0.08, 0.08)] {
                        let o = Inputs {
                            right,
                            spot: 100.0,
                            strike,
                            years,
                            rate,
                            carry,
                            vol,
                        };
                        for n in [101, 501, 2001] {
                            let (banded, full) = (run(&o, n).price, full_tree(&o, n));
                            if !full.is_finite() {
                                continue; // node spots overflow: `run` takes the log-space tree
                            }
                            let err = (banded - full).abs() / strike.max(100.0);
                            worst = worst.max(err);
                            assert!(
                                err < 1e-13,
                                "{right} K={strike} T={years} σ={vol} n={n}: {banded} vs {full}"
                            );
                        }
                    }
                }
            }
        }
        eprintln!("worst difference, relative to max(S, K): {worst:e}");
    }
}
