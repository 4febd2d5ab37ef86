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
//! strike only for odd n). When |d₁,₂| is so large that p rounds to 0 or 1 (deep in or out of
//! the money with a small σ√T), the tree falls back to the risk-neutral Jarrow-Rudd tree
//! (u, d = e^{(b − σ²/2)Δt ± σ√Δt}, p = (e^{bΔt} − d)/(u − d)), which is always well posed.
//!
//! Cost: n(n + 1)/2 node updates with no allocation after the first call on a thread (the node
//! buffer is kept in a thread-local and reused).

use std::cell::RefCell;

use super::{Inputs, Prepared, prepare};
use crate::error::{PricingError, Result};
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
/// or above [`MAX_STEPS`] (name `steps`).
pub fn price(option: &Vanilla, vol: f64, steps: usize) -> Result<f64> {
    check_steps(steps)?;
    match prepare(option, vol)? {
        Prepared::Done(value) => Ok(value),
        Prepared::Model(o) => price_inputs(&o, steps),
    }
}

/// The lattice on prepared inputs (shared with Bjerksund-Stensland's fallback).
pub(crate) fn price_inputs(o: &Inputs, steps: usize) -> Result<f64> {
    check_steps(steps)?;
    Ok(run(o, steps).price)
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

fn check_steps(steps: usize) -> Result<()> {
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

/// Tree parameters: up and down factors and the discounted probabilities.
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
    // Jarrow-Rudd fallback, made exactly risk neutral.
    let mu = (o.carry - 0.5 * o.vol * o.vol) * dt;
    let sd = o.vol * dt.sqrt();
    let up = (mu + sd).exp();
    let down = (mu - sd).exp();
    Tree {
        up,
        down,
        p: (growth - down) / (up - down),
    }
}

struct Output {
    price: f64,
    delta_gamma: Option<(f64, f64)>,
}

fn run(o: &Inputs, steps: usize) -> Output {
    let n = steps | 1;
    let Tree { up, down, p } = tree(o, n);
    let disc = (-o.rate * o.years / n as f64).exp();
    let (pu, pd) = (disc * p, disc * (1.0 - p));
    let theta = o.right.sign();
    let (ln_d, ln_ud) = (down.ln(), (up / down).ln());
    let strike = o.strike;
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        buf.resize(3 * (n + 1), 0.0);
        let (ratio, rest) = buf.split_at_mut(n + 1);
        let (mut values, mut scratch) = rest.split_at_mut(n + 1);
        // ratio[j] = (u/d)^j, so that node (i, j) has spot S·dⁱ·ratio[j].
        for (j, r) in ratio.iter_mut().enumerate() {
            *r = (j as f64 * ln_ud).exp();
        }
        let base = o.spot * (n as f64 * ln_d).exp();
        for (v, r) in values.iter_mut().zip(ratio.iter()) {
            *v = (theta * (base * r - strike)).max(0.0);
        }
        let mut at_two = [0.0; 3];
        for i in (0..n).rev() {
            let base = o.spot * (i as f64 * ln_d).exp();
            // Ping-pong between two columns: straight-line zips the compiler vectorises.
            let next = &mut scratch[..=i];
            let down_values = &values[..=i];
            let up_values = &values[1..=i + 1];
            for (((out, &vd), &vu), &r) in next
                .iter_mut()
                .zip(down_values)
                .zip(up_values)
                .zip(&ratio[..=i])
            {
                let continuation = pd * vd + pu * vu;
                let exercise = theta * (base * r - strike);
                *out = continuation.max(exercise);
            }
            std::mem::swap(&mut values, &mut scratch);
            if i == 2 {
                at_two = [values[0], values[1], values[2]];
            }
        }
        let price = values[0];
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
