//! Implied volatility from an American option price.
//!
//! No closed form exists, so the volatility is the root of V(σ) − price = 0 for a model price
//! V, found by Brent's bracketing method (Brent 1973, "Algorithms for Minimization without
//! Derivatives", ch. 4, procedure `zero`, transcribed in [`zero`]): V is continuous and
//! increasing in σ (vega > 0), so once a bracket of volatilities with opposite signs is found
//! Brent converges superlinearly and can never leave it.
//!
//! Default model ([`implied_vol`]): the Andersen-Lake-Offengenden fixed-point method's fast
//! scheme ([`alo`]), which is within ~1e-5 of the converged American value at the money and
//! costs a few microseconds a price — so a secant search on it, warm-started price to price
//! ([`alo_implied_vol`]), answers in ~10 µs (under load) and recovers the converged volatility
//! to 1e-4 on the bench's ranges — near the exercise boundary after one Newton step on a finer
//! scheme (`alo::polish_value`; see docs/pricing.md for the one chain option still 2.9e-4
//! off). Where it gives up inside the method's domain, Brent over the same
//! method; outside that domain (negative rates, a negative yield of the put form, σ√T beyond
//! 4) the Leisen-Reimer lattice with [`IMPLIED_VOL_LATTICE_STEPS`] = 301 steps, as before
//! this method existed: the approximations (BAW, Bjerksund-Stensland) are off by up to a few
//! cents, several vol points at short maturities; the 301-step lattice prices within a few
//! 1e-4 of its converged value at S = 100 at ~10 µs per price. For other trade-offs use
//! [`implied_vol_with`].
//!
//! The search: for the lattice, Barone-Adesi-Whaley's implied volatility is the guess (Newton
//! steps on the BAW price with the European vega, from the European implied volatility of the
//! price: two to four BAW prices, ~2 µs); from there a Newton step with the European vega and
//! secant steps reach the lattice's root in about 3.4 lattice prices on average (tested over
//! the bench's book; Brent from a bracket around the guess took ~4.9, the wide search ~11).
//! Every secant step is checked (increasing slope, a step inside (0, 256]); if one fails, the
//! lattice's root is bracketed around the guess (a Newton-sized first step, growing fourfold)
//! and Brent finishes. Without a guess (the approximations themselves, or when the guess
//! fails) the bracket starts at [1e-4, 2] and the upper end doubles (to at most 256, beyond
//! the domain's σ = 100) until the model price exceeds the target. Brent stops when the
//! bracket is narrower than 1e-10 in vol or the price residual is below 1e-12 relative; the
//! secant when its step is below 1e-8 of the vol (see [`secant`]).

use std::cell::Cell;

use super::alo::{self, Boundary, Pricer, PutForm};
use super::{AmericanModel, Inputs, deterministic_value, no_early_exercise, price};
use crate::error::{PricingError, Result};
use crate::gbs;
use crate::types::{OptionRight, Vanilla, check_vol};

#[cfg(test)]
thread_local! {
    /// Prices the fixed-point search has taken on this thread (tests count them).
    static EVALS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Lattice steps of the model [`implied_vol`] inverts (odd, as Leisen-Reimer requires).
pub const IMPLIED_VOL_LATTICE_STEPS: usize = 301;

/// Implied volatility of an American option price under the Andersen-Lake-Offengenden
/// fixed-point method (fast scheme, [`alo`]), where it applies — positive rates and yields of
/// the put form, σ√T in [`alo::MIN_TOTAL_VOL`, `alo::MAX_TOTAL_VOL`] — and under the
/// Leisen-Reimer lattice with [`IMPLIED_VOL_LATTICE_STEPS`] steps elsewhere (see the module
/// notes). Where the option has no early-exercise value it is the European implied volatility.
///
/// # Errors
/// - [`PricingError::InvalidInput`] if an option field is bad, the spot or strike is 0 (the
///   price does not depend on the volatility there), or `price` is NaN, infinite or negative
///   (name `price`);
/// - [`PricingError::PriceBelowLowerBound`] if `price` is below the value at zero volatility
///   (the immediate-exercise value, or more when holding a deterministic spot pays);
/// - [`PricingError::PriceAboveUpperBound`] if `price` is at or above the upper bound: the spot
///   for a call, the strike for a put (times e^{−qT}, e^{−rT} when those exceed 1, i.e. with
///   negative yield or rate);
/// - [`PricingError::NoConvergence`] if no bracket or root is found.
pub fn implied_vol(option: &Vanilla, price: f64) -> Result<f64> {
    implied_vol_with(
        AmericanModel::AndersenLakeOffengenden {
            scheme: alo::Scheme::Fast,
        },
        option,
        price,
    )
}

/// Implied volatility of `price` under a chosen American `model` (e.g. Barone-Adesi-Whaley
/// for speed at some cost in accuracy).
///
/// # Errors
/// As [`implied_vol`].
pub fn implied_vol_with(model: AmericanModel, option: &Vanilla, price_target: f64) -> Result<f64> {
    option.validate()?;
    // At a zero spot or strike the price does not depend on the volatility.
    crate::error::positive("spot", option.spot)?;
    crate::error::positive("strike", option.strike)?;
    if !(price_target.is_finite() && price_target >= 0.0) {
        return Err(PricingError::InvalidInput {
            name: "price",
            value: price_target,
            requirement: "finite and >= 0",
        });
    }
    // Validates `steps` for a lattice model before any bound logic (without pricing: a
    // lattice price here would cost as much as one step of the search).
    if let AmericanModel::Lattice { steps } = model {
        super::lattice::check_steps(steps)?;
    }
    let upper = match option.right {
        OptionRight::Call => option.spot * (-option.dividend_yield * option.years).exp().max(1.0),
        OptionRight::Put => option.strike * (-option.rate * option.years).exp().max(1.0),
    };
    if price_target >= upper {
        return Err(PricingError::PriceAboveUpperBound {
            price: price_target,
            bound: upper,
        });
    }
    let lower = deterministic_value(option);
    if price_target < lower {
        return Err(PricingError::PriceBelowLowerBound {
            price: price_target,
            bound: lower,
        });
    }
    if price_target == lower || option.years == 0.0 {
        // Zero volatility reproduces it (at expiry every volatility does; report the least).
        return Ok(0.0);
    }
    if no_early_exercise(option) {
        // Every model prices the European value exactly there.
        return crate::bsm::implied_vol(option, price_target);
    }
    let mut model = model;
    if let AmericanModel::AndersenLakeOffengenden { scheme } = model {
        if let Some(vol) = alo_implied_vol(option, price_target, scheme) {
            return Ok(vol);
        }
        // The fast search gave up (in the money within a cent or so of the exercise value,
        // where the price is nearly flat in σ): inside the method's domain, the bracketing
        // search over its cold prices from Barone-Adesi-Whaley's implied volatility — a few
        // dozen microseconds where the lattice takes hundreds.
        if let Some(guess) = alo_domain_guess(option, price_target)
            && let Ok((vol, _)) = solve(model, option, price_target, Some(guess))
        {
            return Ok(vol);
        }
        // Outside the fixed-point method's domain, or its searches failed: the lattice, as
        // `alo::price` itself does there.
        model = AmericanModel::Lattice {
            steps: IMPLIED_VOL_LATTICE_STEPS,
        };
    }
    // A lattice costs tens of microseconds per price: start from Barone-Adesi-Whaley's implied
    // volatility (~10 µs in all), which is within a vol point or so of the lattice's, and
    // bracket the root tightly around it; any failure falls back to the wide search.
    let guess = match model {
        AmericanModel::Lattice { .. } => approximate_guess(option, price_target),
        _ => None,
    };
    solve(model, option, price_target, guess).map(|(vol, _)| vol)
}

/// The root of `model`'s price − `price_target` (inputs checked and within the bounds), from a
/// bracket around `guess` when given, else from the wide bracket [1e-4, 2·2^k]; with the
/// number of model prices it took.
fn solve(
    model: AmericanModel,
    option: &Vanilla,
    price_target: f64,
    guess: Option<f64>,
) -> Result<(f64, usize)> {
    let failure = Cell::new(None);
    let evaluations = Cell::new(0_usize);
    let mut objective = |v: f64| {
        evaluations.set(evaluations.get() + 1);
        match check_vol(v).and_then(|v| price(model, option, v)) {
            Ok(p) => p - price_target,
            Err(e) => {
                failure.set(Some(e));
                f64::NAN
            }
        }
    };
    // The European vega at the guess sizes the first step (a Newton step, 10 % long so that
    // it crosses the root): the American vega is close to it.
    let vega = guess.map_or(0.0, |g| {
        crate::bsm::greeks(option, g).map_or(0.0, |greeks| greeks.vega)
    });
    // A secant search first; should it fail (it verifies every step), the bracketing search.
    let price_tolerance = 1e-12 * price_target.max(1.0);
    if let Some(g) = guess {
        if let Some(vol) = secant(&mut objective, g, vega, price_tolerance) {
            if let Some(e) = failure.take() {
                return Err(e);
            }
            return Ok((vol, evaluations.get()));
        }
        failure.set(None);
    }
    let found = if let Some((lo, hi)) = guess.and_then(|g| bracket_around(&mut objective, g, vega))
    {
        brent(&mut objective, lo, hi, &failure)
    } else {
        failure.set(None);
        wide_search(&mut objective, &failure)
    };
    found.map(|vol| (vol, evaluations.get()))
}

/// The implied volatility under the fixed-point method, or `None` to fall back: outside its
/// domain (rates and yields of the put form; σ√T leaving [`alo::MIN_TOTAL_VOL`,
/// `alo::MAX_TOTAL_VOL`] during the search) or if a step looks wrong.
///
/// The search: from the European implied volatility of the price (above the American one: the
/// American price is the European plus a premium), then the European implied volatility of the
/// price less the premium found there (a Newton step with the European vega where that lands
/// more than a factor of two away), then secant steps. The σ-independent part of the method
/// (every exponential of the quadrature points) is computed once ([`Pricer`]); the first price
/// starts the boundary from QD+, every later one from the boundary of the previous volatility,
/// rescaled by the ratio of variances, which saves the QD+ solve (a third of a price). The first
/// price takes one fixed-point step (it only points the search), every later one the scheme's
/// m = 2: with one, the answer drifted by up to 3e-4 in vol deep in the money (the tests hold
/// it to 1e-4). Because each price continues the previous boundary, the search and the
/// boundary iteration converge together: superlinearly in most cases, at the iteration's
/// linear rate in the money near the exercise boundary (up to a dozen prices there; 5 % of a
/// SPY-like chain takes more than five). Stops when the secant step is
/// below 2e-6 of σ (the error is then far smaller: e(k+1) ≈ C·e(k)·e(k−1)) or the residual below
/// 1e-12 of the price; 3.3 prices per option on the bench's book. Where the time value is under
/// 0.5 % of the price the answer is polished by one Newton step on a finer scheme (see the
/// comment there).
fn alo_implied_vol(option: &Vanilla, price_target: f64, scheme: alo::Scheme) -> Option<f64> {
    let inputs = Inputs {
        right: option.right,
        spot: option.spot,
        strike: option.strike,
        years: option.years,
        rate: option.rate,
        carry: option.carry(),
        vol: f64::NAN,
    };
    let put = PutForm::of_terms(&inputs)?;
    // Far from the exercise boundary the premium is below rounding at the European implied
    // volatility σ_E: then the American price at σ_E is the target to 1e-13, and σ_E is the
    // answer without a fixed-point price (a third of a SPY-like chain: calls far below their
    // boundary, short-dated options far out of the money).
    let european_vol = crate::bsm::implied_vol(option, price_target).ok();
    if let Some(v) = european_vol
        && put.vol_applies(v)
        && put.premium_bound(v) <= 1e-13 * price_target
    {
        return Some(v);
    }
    let pricer = Pricer::new(put, scheme);
    let european = |vol: f64| gbs::price(&Inputs { vol, ..inputs }.gbs_at(option.spot));
    let objective = |vol: f64, warm: Option<&Boundary>| -> Option<(f64, Boundary)> {
        if !put.vol_applies(vol) {
            return None;
        }
        // The first price starts from QD+ with one fixed-point step (it only has to point the
        // search the right way: every later one continues from its boundary); later prices
        // take the scheme's m steps.
        let steps = if warm.is_some() { pricer.steps() } else { 1 };
        #[cfg(test)]
        EVALS.with(|e| e.set(e.get() + 1));
        let (value, boundary) = pricer.value(european(vol), vol, warm, steps);
        let residual = value - price_target;
        residual.is_finite().then_some((residual, boundary))
    };
    let tolerance = 1e-12 * price_target.max(1e-300);
    let mut a = european_vol.filter(|v| put.vol_applies(*v)).unwrap_or(0.3);
    let (mut fa, mut boundary) = objective(a, None)?;
    if fa.abs() <= tolerance {
        return Some(a);
    }
    // The second point: the European implied volatility of the price less the premium found
    // at the first (the premium varies with σ far less than the European value does).
    let premium = fa + price_target - european(a);
    let mut b = crate::bsm::implied_vol(option, price_target - premium)
        .ok()
        .filter(|v| *v >= 0.5 * a && *v <= 2.0 * a && (*v - a).abs() > 1e-9 * a)
        .or_else(|| {
            // Deep in the money the European value is flat in σ and that inversion can land
            // far away: a Newton step with the European vega, held within a factor of two.
            let vega = gbs::greeks(&Inputs { vol: a, ..inputs }.gbs_at(option.spot)).vega;
            let step = fa / vega;
            Some(if step.is_finite() {
                (a - step).clamp(0.5 * a, 2.0 * a)
            } else {
                0.5 * a
            })
        })?;
    for _ in 0..12 {
        let (fb, next_boundary) = objective(b, Some(&boundary))?;
        if fb.abs() <= tolerance {
            return Some(b);
        }
        let slope = (fb - fa) / (b - a);
        if !(slope > 0.0 && slope.is_finite()) {
            return None;
        }
        let c = b - fb / slope;
        if !(c > 0.0 && c.is_finite()) {
            return None;
        }
        if (c - b).abs() <= 2e-6 * c {
            // Near the exercise boundary (time value under 0.5 % of the price) the fast
            // scheme's own error, up to 1e-3 of the strike, is several 1e-4 in vol: one Newton
            // step on the finer polishing scheme, with the secant's slope, removes most of it.
            if price_target - option.right.intrinsic(option.spot, option.strike)
                < 5e-3 * price_target
            {
                let residual = alo::polish_value(put, european(c), c) - price_target;
                let polished = c - residual / slope;
                if polished.is_finite() && polished > 0.0 && put.vol_applies(polished) {
                    return Some(polished);
                }
            }
            return Some(c).filter(|v| put.vol_applies(*v));
        }
        (a, fa, boundary) = (b, fb, next_boundary);
        b = c;
    }
    None
}

/// Barone-Adesi-Whaley's implied volatility as the start of the bracketing search over the
/// fixed-point method, when the option's rates are in that method's domain and the guess's σ√T
/// too (so that the search's first prices are the method's, not the lattice's).
fn alo_domain_guess(option: &Vanilla, price_target: f64) -> Option<f64> {
    let inputs = Inputs {
        right: option.right,
        spot: option.spot,
        strike: option.strike,
        years: option.years,
        rate: option.rate,
        carry: option.carry(),
        vol: f64::NAN,
    };
    let put = PutForm::of_terms(&inputs)?;
    approximate_guess(option, price_target).filter(|g| put.vol_applies(*g))
}

/// Barone-Adesi-Whaley's implied volatility to about 1e-4, as the lattice's first guess: Newton
/// steps on the BAW price with the European vega (a little below the American one, so the
/// steps approach the root without overshooting much), from the European implied volatility
/// of the price where it has one. Two to four BAW prices (~0.5 µs each) instead of Brent's
/// wide search (~20). `None` when a step fails; the caller then searches without a guess.
fn approximate_guess(option: &Vanilla, price_target: f64) -> Option<f64> {
    let mut vol = crate::bsm::implied_vol(option, price_target)
        .ok()
        .filter(|v| *v > 1e-3 && *v < 10.0)
        .unwrap_or(0.3);
    for _ in 0..8 {
        let f = price(AmericanModel::BaroneAdesiWhaley, option, vol).ok()? - price_target;
        let vega = crate::bsm::greeks(option, vol).ok()?.vega;
        if !(vega > 0.0 && f.is_finite()) {
            return None;
        }
        // Steps held within a factor of two: the guess only has to land near the root.
        let next = (vol - f / vega).clamp(0.5 * vol, 2.0 * vol);
        let done = (next - vol).abs() < 1e-4 * vol;
        vol = next;
        if done {
            return Some(vol);
        }
    }
    Some(vol)
}

/// Secant steps on the objective from `guess`, the first a Newton step with the European
/// `vega` (close to the American one): superlinear convergence, so three or four model prices
/// from a guess within a vol point or so, against Brent's five or six. Stops once a step is
/// below 1e-8 of the vol, returning that step's end unpriced: the secant's error is
/// `e(k+1) ≈ C·e(k)·e(k−1)` with C = f''/(2f') of order 1, so with e(k) ≈ 1e-8 (the step)
/// and e(k−1) ≤ 1e-4 the answer is within ~1e-12 (the tests hold it to 1e-9 of Brent's root);
/// or once the residual is within `price_tolerance`. `None` as soon as anything looks wrong — a
/// non-increasing secant slope, a step out of (0, 256], no convergence in 10 prices — and the
/// caller falls back to the bracketing search, which cannot fail on a monotone objective.
fn secant(
    objective: &mut impl FnMut(f64) -> f64,
    guess: f64,
    vega: f64,
    price_tolerance: f64,
) -> Option<f64> {
    if !(guess.is_finite() && guess > 0.0 && vega > 0.0) {
        return None;
    }
    let (mut a, mut fa) = (guess, objective(guess));
    if !fa.is_finite() {
        return None;
    }
    if fa.abs() <= price_tolerance {
        return Some(a);
    }
    let mut b = (a - fa / vega).clamp(0.5 * a, 2.0 * a);
    for _ in 0..10 {
        let fb = objective(b);
        if !fb.is_finite() {
            return None;
        }
        if fb.abs() <= price_tolerance {
            return Some(b);
        }
        let slope = (fb - fa) / (b - a);
        if !(slope > 0.0 && slope.is_finite()) {
            return None;
        }
        let c = b - fb / slope;
        if !(c > 0.0 && c <= 256.0) {
            return None;
        }
        if (c - b).abs() <= 1e-8 * c {
            return Some(c);
        }
        (a, fa) = (b, fb);
        b = c;
    }
    None
}

/// A sign-changing bracket near `guess`: a first step of 1.1 × the Newton step |f|/`vega`
/// (1 % of the guess without a usable vega), then steps growing fourfold toward the root;
/// `None` if the objective fails or no sign change appears before σ = 0 or 256.
fn bracket_around(
    objective: &mut impl FnMut(f64) -> f64,
    guess: f64,
    vega: f64,
) -> Option<((f64, f64), (f64, f64))> {
    if !(guess.is_finite() && guess > 0.0) {
        return None;
    }
    let (mut a, mut fa) = (guess, objective(guess));
    let newton = 1.1 * fa.abs() / vega;
    let mut step = if newton.is_finite() && newton > 0.0 {
        newton.max(1e-9 * guess)
    } else {
        (0.01 * guess).max(1e-3)
    };
    for _ in 0..12 {
        if fa.is_nan() {
            return None;
        }
        if fa == 0.0 {
            return Some(((a, fa), (a, fa)));
        }
        // Price increases with σ: below the target, go up.
        let b = if fa < 0.0 {
            (a + step).min(256.0)
        } else {
            (a - step).max(0.0)
        };
        let fb = objective(b);
        if fb.is_nan() {
            return None;
        }
        if (fa < 0.0) != (fb < 0.0) || fb == 0.0 {
            return Some(if a < b {
                ((a, fa), (b, fb))
            } else {
                ((b, fb), (a, fa))
            });
        }
        if b == 0.0 || b == 256.0 {
            return None;
        }
        (a, fa) = (b, fb);
        step *= 4.0;
    }
    None
}

/// The bracket [1e-4, 2·2^k] (or [0, 1e-4]) and Brent: the search without a guess.
fn wide_search(
    objective: &mut impl FnMut(f64) -> f64,
    failure: &Cell<Option<PricingError>>,
) -> Result<f64> {
    let lo = 1e-4;
    let f_lo = objective(lo);
    if f_lo >= 0.0 {
        // Even σ = 1e-4 overprices: the root lies in [0, 1e-4]; the zero-vol end is
        // `lower` − price < 0 (checked by the caller), so bracket from σ = 0.
        let f_zero = objective(0.0);
        return brent(objective, (0.0, f_zero), (lo, f_lo), failure);
    }
    let mut hi = 2.0;
    let mut f_hi = objective(hi);
    while f_hi < 0.0 {
        if hi >= 256.0 {
            return Err(no_convergence(
                "no volatility up to 25 600 % reaches the price",
            ));
        }
        hi *= 2.0;
        f_hi = objective(hi);
    }
    brent(objective, (lo, f_lo), (hi, f_hi), failure)
}

fn brent(
    objective: &mut impl FnMut(f64) -> f64,
    lo: (f64, f64),
    hi: (f64, f64),
    failure: &Cell<Option<PricingError>>,
) -> Result<f64> {
    let price_tolerance = 1e-12 * hi.1.abs().max(1.0);
    let result = zero(objective, lo, hi, 1e-10, price_tolerance, 100);
    if let Some(e) = failure.take() {
        return Err(e);
    }
    result.ok_or_else(|| no_convergence("Brent: no root within 100 iterations"))
}

/// Brent's `zero` (Brent 1973, ch. 4): a root of `f` in the bracket [a, b] (f(a), f(b) of
/// opposite signs, given), by inverse quadratic interpolation, secant steps and bisection, so
/// that it converges superlinearly on smooth functions and never leaves the bracket. Stops
/// when the bracket is narrower than `x_tolerance` (plus 4 ulp of the root) or |f| ≤
/// `f_tolerance`. `None` if the ends do not bracket a root, f is NaN, or after `max_iter`
/// evaluations.
fn zero(
    f: &mut impl FnMut(f64) -> f64,
    (mut a, mut fa): (f64, f64),
    (mut b, mut fb): (f64, f64),
    x_tolerance: f64,
    f_tolerance: f64,
    max_iter: usize,
) -> Option<f64> {
    if fa.is_nan() || fb.is_nan() || fa * fb > 0.0 {
        return None;
    }
    if fb == 0.0 {
        return Some(b);
    }
    if fa == 0.0 {
        return Some(a);
    }
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..max_iter {
        if (fb > 0.0) == (fc > 0.0) && fb != 0.0 {
            (c, fc) = (a, fa);
            (d, e) = (b - a, b - a);
        }
        if fc.abs() < fb.abs() {
            (a, fa) = (b, fb);
            (b, fb) = (c, fc);
            (c, fc) = (a, fa);
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * x_tolerance;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb.abs() <= f_tolerance {
            return Some(b);
        }
        if e.abs() < tol || fa.abs() <= fb.abs() {
            (d, e) = (m, m);
        } else {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let (q0, r) = (fa / fc, fb / fc);
                (
                    s * (2.0 * m * q0 * (q0 - r) - (b - a) * (r - 1.0)),
                    (q0 - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                (d, e) = (m, m);
            }
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b);
        if fb.is_nan() {
            return None;
        }
    }
    None
}

fn no_convergence(reason: &str) -> PricingError {
    PricingError::NoConvergence {
        solver: "American implied volatility",
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{AmericanModel, solve, zero};
    use crate::types::{OptionRight, Vanilla};

    /// The American bench's book: `n` options (calls and puts in turn, S 100, K 70-130,
    /// T 0.05-2, r 1-8 %, q 1-6 %) and their volatilities (0.1-0.6), from a seeded splitmix64.
    fn bench_book(n: usize) -> Vec<(Vanilla, f64)> {
        let mut state = 0x5EED_AA11_u64;
        let mut uniform = |lo: f64, hi: f64| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            lo + (hi - lo) * (((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64)
        };
        (0..n)
            .map(|i| {
                let right = if i % 2 == 0 {
                    OptionRight::Call
                } else {
                    OptionRight::Put
                };
                let o = Vanilla {
                    right,
                    spot: 100.0,
                    strike: uniform(70.0, 130.0),
                    years: uniform(0.05, 2.0),
                    rate: uniform(0.01, 0.08),
                    dividend_yield: uniform(0.01, 0.06),
                };
                (o, uniform(0.1, 0.6))
            })
            .collect()
    }

    /// Over the American bench's book (calls and puts, K 70-130, T 0.05-2, r 1-8 %, q 1-6 %,
    /// σ 0.1-0.6), the secant search from the BAW guess finds the root the wide Brent search
    /// finds, to 1e-9, in about three lattice prices on average.
    #[test]
    fn secant_from_the_guess_agrees_with_the_wide_search() {
        let lattice = AmericanModel::Lattice { steps: 301 };
        let (mut cases, mut prices) = (0_u32, 0_u32);
        for (o, vol) in bench_book(60) {
            let p = crate::american::price(lattice, &o, vol).unwrap();
            if p - crate::american::price(lattice, &o, 1e-4).unwrap() < 1e-9 {
                continue; // no time value at this precision: the vol is not identifiable
            }
            let guess = super::approximate_guess(&o, p).unwrap();
            let (fast, n) = solve(lattice, &o, p, Some(guess)).unwrap();
            let (wide, _) = solve(lattice, &o, p, None).unwrap();
            assert!((fast - wide).abs() < 1e-9, "{o:?}: {fast} vs {wide}");
            assert!((fast - vol).abs() < 1e-8, "{o:?}: {fast} vs {vol}");
            cases += 1;
            prices += u32::try_from(n).unwrap();
        }
        let mean = f64::from(prices) / f64::from(cases);
        eprintln!("{cases} options, {mean} lattice prices per option");
        assert!(cases > 40 && mean < 4.0, "{mean} lattice prices per option");
    }

    /// Over the American bench's book (calls and puts, K 70-130, T 0.05-2, r 1-8 %, q 1-6 %,
    /// σ 0.1-0.6) priced by the accurate scheme, the default search (the fast scheme, warm
    /// started) takes under four prices on average and recovers σ to 1e-4 wherever the price
    /// has time value to speak of (above the exercise value by 1e-5 of the strike).
    #[test]
    fn alo_search_takes_few_prices() {
        let (mut cases, mut prices) = (0_usize, 0_usize);
        for (o, vol) in bench_book(128) {
            let right = o.right;
            let p = crate::american::alo::price(&o, vol, crate::american::alo::Scheme::Accurate)
                .unwrap();
            if p - right.intrinsic(o.spot, o.strike) < 1e-5 * o.strike {
                continue;
            }
            super::EVALS.with(|e| e.set(0));
            let iv = super::implied_vol(&o, p).unwrap();
            assert!((iv - vol).abs() < 1e-4, "{o:?}: {iv} vs {vol}");
            cases += 1;
            prices += super::EVALS.with(std::cell::Cell::get);
        }
        let mean = prices as f64 / cases as f64;
        assert!(
            cases > 100 && mean < 4.0,
            "{cases} options, {mean} prices each"
        );
    }

    /// On the bench's book (lattice prices, so slightly off the fixed-point model) the
    /// fixed-point search never falls back to the lattice.
    #[test]
    fn no_lattice_fallback_on_the_bench_book() {
        let mut fallbacks = Vec::new();
        for (o, vol) in bench_book(256) {
            let p = crate::american::price(AmericanModel::Lattice { steps: 301 }, &o, vol).unwrap();
            if crate::american::no_early_exercise(&o)
                || p <= crate::american::deterministic_value(&o)
            {
                continue;
            }
            if super::alo_implied_vol(&o, p, crate::american::alo::Scheme::Fast).is_none() {
                fallbacks.push((o, vol));
            }
        }
        assert!(fallbacks.is_empty(), "{fallbacks:?}");
    }

    /// Starting from Barone-Adesi-Whaley's implied volatility finds the lattice's own root
    /// (to the solver's 1e-10) in well under half the lattice prices of the wide search.
    #[test]
    fn the_guess_saves_lattice_prices_and_finds_the_same_root() {
        let lattice = AmericanModel::Lattice { steps: 301 };
        let (mut with, mut without) = (0, 0);
        for right in [OptionRight::Call, OptionRight::Put] {
            for strike in [80.0, 100.0, 125.0] {
                for (years, vol) in [(0.05, 0.6), (0.5, 0.25), (2.0, 0.15)] {
                    let o = Vanilla {
                        right,
                        spot: 100.0,
                        strike,
                        years,
                        rate: 0.05,
                        dividend_yield: 0.03,
                    };
                    let p = crate::american::price(lattice, &o, vol).unwrap();
                    let (baw, _) = solve(AmericanModel::BaroneAdesiWhaley, &o, p, None).unwrap();
                    let (a, n_with) = solve(lattice, &o, p, Some(baw)).unwrap();
                    let (b, n_without) = solve(lattice, &o, p, None).unwrap();
                    assert!(
                        (a - b).abs() < 1e-9,
                        "{right} K={strike} T={years}: {a} vs {b}"
                    );
                    assert!((a - vol).abs() < 1e-7, "{right} K={strike} T={years}: {a}");
                    with += n_with;
                    without += n_without;
                }
            }
        }
        assert!(
            2 * with < without,
            "{with} lattice prices with the guess, {without} without"
        );
    }

    #[test]
    fn brent_finds_roots_to_the_tolerance() {
        // cos x = x at 0.739085133215160641655312087673873 (the Dottie number).
        let mut f = |x: f64| x.cos() - x;
        let root = zero(
            &mut f,
            (0.0, 1.0),
            (1.0, 1.0_f64.cos() - 1.0),
            1e-15,
            0.0,
            100,
        )
        .unwrap();
        assert!((root - 0.739_085_133_215_160_6).abs() < 1e-15);
        // A cubic with a root at 2^(1/3), from the far end of a wide bracket.
        let mut g = |x: f64| x * x * x - 2.0;
        let root = zero(&mut g, (-10.0, -1002.0), (10.0, 998.0), 1e-14, 0.0, 100).unwrap();
        assert!((root - 2.0_f64.cbrt()).abs() < 1e-13);
        // No sign change: no root.
        assert_eq!(zero(&mut g, (2.0, 6.0), (3.0, 25.0), 1e-14, 0.0, 100), None);
    }
}
