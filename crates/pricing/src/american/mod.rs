//! American options on an asset with a continuous dividend yield: the Barone-Adesi-Whaley
//! (1987) and Bjerksund-Stensland (2002) approximations, a Leisen-Reimer (1996) binomial
//! lattice, the Andersen-Lake-Offengenden (2016) fixed-point boundary method (accurate and fast:
//! what implied volatility inverts), greeks, and implied volatility from American prices.
//!
//! | model | cost per option | accuracy (S = 100, T ≤ 1) |
//! |---|---|---|
//! | [`baw`] | about 0.6 µs (a Newton solve for the critical price) | a few cents |
//! | [`bjerksund_stensland`] | about 0.6 µs (twenty bivariate normals, vectorised) | a few cents; a lower bound (value of a feasible exercise policy) |
//! | [`lattice`] (Leisen-Reimer) | O(steps²), banded: about 40 µs at 500 steps | below 1e-3 at 501 steps, 3e-4 at 1001 |
//! | [`alo`] (Andersen-Lake-Offengenden) | fast scheme about 8 µs, accurate ~100 µs | fast ~1e-5 of the price at the money; high precision converged |
//!
//! ```
//! use volta_pricing::american::{self, AmericanModel};
//! use volta_pricing::{OptionRight, Vanilla};
//!
//! # fn main() -> Result<(), volta_pricing::PricingError> {
//! // Haug (2007), Barone-Adesi-Whaley table: put S = 100, X = 100, T = 0.5, r = q = 10 %,
//! // σ = 25 % is worth 6.8014.
//! let put = Vanilla::try_new(OptionRight::Put, 100.0, 100.0, 0.5, 0.10, 0.10)?;
//! let baw = american::price(AmericanModel::BaroneAdesiWhaley, &put, 0.25)?;
//! assert!((baw - 6.8014).abs() < 1e-3);
//! // The lattice is an accurate reference; implied volatility inverts the faster and more
//! // accurate fixed-point method (`alo`).
//! let accurate = american::price(AmericanModel::Lattice { steps: 1001 }, &put, 0.25)?;
//! let vol = american::implied_vol(&put, accurate)?;
//! assert!((vol - 0.25).abs() < 1e-3);
//! let greeks = american::greeks(AmericanModel::Lattice { steps: 501 }, &put, 0.25)?;
//! assert!(greeks.delta < 0.0 && greeks.gamma > 0.0 && greeks.vega > 0.0);
//! # Ok(())
//! # }
//! ```
//!
//! Every model shares the same exact treatment of the degenerate cases:
//! - `years == 0`: the intrinsic value;
//! - `vol == 0`: the deterministic value max over t ∈ [0, T] of e^{−rt}·θ(S e^{bt} − K)⁺
//!   (the spot moves with its carry; the holder exercises at the best date);
//! - no early-exercise value — a call with q ≤ 0 and r ≥ 0, or a put with r ≤ 0 and q ≥ 0
//!   (Merton 1973; Haug 2007, §1.1): the Black-Scholes-Merton price, exactly.
//!
//! Notation follows Haug (2007), "The Complete Guide to Option Pricing Formulas", 2nd ed.:
//! S spot, X (or K) strike, T years, r rate, b = r − q cost of carry, σ volatility,
//! θ = +1 for a call and −1 for a put.

pub mod alo;
pub mod baw;
mod bivariate;
pub mod bjerksund_stensland;
mod implied;
pub mod lattice;

pub use implied::{IMPLIED_VOL_LATTICE_STEPS, implied_vol, implied_vol_with};

use crate::error::{Result, finite_output};
use crate::gbs::{self, Carry, GbsInputs};
use crate::greeks::Greeks;
use crate::types::{OptionRight, Vanilla, check_vol};

/// Which American pricing model to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AmericanModel {
    /// Barone-Adesi & Whaley (1987) quadratic approximation ([`baw`]).
    BaroneAdesiWhaley,
    /// Bjerksund & Stensland (2002) two-step flat-boundary approximation
    /// ([`bjerksund_stensland`]).
    BjerksundStensland2002,
    /// Leisen-Reimer (1996) binomial lattice with `steps` time steps ([`lattice`]); even
    /// counts are rounded up to the next odd one.
    Lattice {
        /// Number of time steps, 1 ..= [`lattice::MAX_STEPS`].
        steps: usize,
    },
    /// Andersen, Lake & Offengenden (2016) fixed-point boundary method ([`alo`]): accurate
    /// (1e-6 of the strike in the fast scheme) in microseconds; the lattice with
    /// [`alo::FALLBACK_STEPS`] steps where the method does not apply (negative rates, q < 0 for
    /// the put form, σ√T beyond 4).
    AndersenLakeOffengenden {
        /// Discretisation: fast, accurate or high precision.
        scheme: alo::Scheme,
    },
}

/// The option's value under `model` at volatility `vol` (per √year, 0.2 = 20 %).
///
/// # Errors
/// [`PricingError::InvalidInput`](crate::PricingError) for a NaN, infinite or out-of-domain
/// input (including lattice `steps` of 0 or above [`lattice::MAX_STEPS`]);
/// [`PricingError::NoConvergence`](crate::PricingError) if the Barone-Adesi-Whaley critical
/// price iteration fails; [`PricingError::Overflow`](crate::PricingError) when the value does
/// not fit in an `f64` (e.g. |r|·T in the hundreds with negative rates).
///
/// Every model's value is held inside the no-arbitrage bounds (the European value of every
/// maturity up to T and the exercise value below, the spot or strike above; see
/// `within_no_arbitrage_bounds` in the source), which bind only at the domain's edges.
pub fn price(model: AmericanModel, option: &Vanilla, vol: f64) -> Result<f64> {
    match model {
        AmericanModel::BaroneAdesiWhaley => baw::price(option, vol),
        AmericanModel::BjerksundStensland2002 => bjerksund_stensland::price(option, vol),
        AmericanModel::Lattice { steps } => lattice::price(option, vol, steps),
        AmericanModel::AndersenLakeOffengenden { scheme } => alo::price(option, vol, scheme),
    }
}

/// Every model's public price: validation and the exact degenerate cases ([`prepare`]), the
/// model on the rest, its value held inside the no-arbitrage bounds (below them by at most the
/// relative `slack`; see [`within_no_arbitrage_bounds`]), and a non-finite result reported as
/// [`PricingError::Overflow`](crate::PricingError) — so no model returns ∞ or NaN.
pub(crate) fn checked_price(
    option: &Vanilla,
    vol: f64,
    slack: f64,
    model: impl FnOnce(&Inputs) -> Result<f64>,
) -> Result<f64> {
    let value = match prepare(option, vol)? {
        Prepared::Done(value) => value,
        Prepared::Model(o) => {
            let value = model(&o)?;
            within_no_arbitrage_bounds(&o, value, slack)
        }
    };
    finite_output("price", value)
}

/// The model's value held inside bounds every American price obeys, whatever the model (below
/// them only by the relative `slack`):
/// - below: the immediate-exercise value and the European value of every maturity t ≤ T (the
///   holder may exercise at t; an American option with a longer life is worth at least as
///   much). The European of maturity T costs one price; where σ²T > 1 — the regime (σ = 100,
///   say) in which the best maturity is much shorter than T and Bjerksund-Stensland's flat
///   boundary falls percent below it — the maximum over t is searched too;
/// - above: a call is worth at most S·max(1, e^{−qT}) (the asset, received at the best date),
///   a put at most K·max(1, e^{−rT}).
///
/// The approximations are within a few cents of the truth where they were designed to work,
/// and these bounds are not binding there; at the domain's edges (σ = 100, |r|, |q| = 10 over
/// 100 years) they keep each answer a valid no-arbitrage price rather than an artefact of the
/// approximation's formula.
fn within_no_arbitrage_bounds(o: &Inputs, value: f64, slack: f64) -> f64 {
    let european = |years: f64| gbs::price(&Inputs { years, ..*o }.gbs_at(o.spot));
    let mut lower = max_or_nan(european(o.years), o.right.intrinsic(o.spot, o.strike));
    if o.vol * o.vol * o.years > 1.0 {
        lower = max_or_nan(lower, best_european(european, o.years));
    }
    let dividend_yield = o.rate - o.carry;
    let upper = match o.right {
        OptionRight::Call => o.spot * (-dividend_yield * o.years).exp().max(1.0),
        OptionRight::Put => o.strike * (-o.rate * o.years).exp().max(1.0),
    };
    if value.is_nan() || lower.is_nan() {
        return f64::NAN;
    }
    let value = if value < lower * (1.0 - slack) {
        lower
    } else {
        value
    };
    value.min(upper.max(lower))
}

/// max over t ∈ (0, T] of `european(t)`: a geometric grid of 49 maturities from T down to
/// 1e-8·T, then golden-section search between the neighbours of the best (the value is smooth
/// and, in the regime where this is used, unimodal in ln t).
fn best_european(european: impl Fn(f64) -> f64, years: f64) -> f64 {
    const POINTS: i32 = 49;
    let at = |k: f64| european(years * 10f64.powf(-8.0 * k / f64::from(POINTS - 1)));
    let (mut best_k, mut best) = (0.0, at(0.0));
    for k in 1..POINTS {
        let v = at(f64::from(k));
        if v > best {
            (best_k, best) = (f64::from(k), v);
        }
    }
    let (mut a, mut b) = (
        (best_k - 1.0).max(0.0),
        (best_k + 1.0).min(f64::from(POINTS - 1)),
    );
    let ratio = 0.5 * (5.0_f64.sqrt() - 1.0);
    for _ in 0..30 {
        let (c, d) = (b - ratio * (b - a), a + ratio * (b - a));
        let (fc, fd) = (at(c), at(d));
        best = best.max(fc).max(fd);
        if fc > fd {
            b = d;
        } else {
            a = c;
        }
    }
    best
}

/// Price and first-order greeks under `model`, per 1.0 of each input as [`Greeks`] documents
/// (theta per year of calendar time passing).
///
/// How they are computed:
/// - where the option has no early-exercise value (see the module notes) or `years == 0`:
///   the analytic Black-Scholes-Merton greeks;
/// - [`AmericanModel::Lattice`]: delta and gamma from the tree itself (the three nodes two steps
///   in, as in Hull's and `QuantLib`'s binomial engines), which are smooth and cost no extra tree;
///   vega, theta, rho and dividend rho by central differences of the lattice price with bumps
///   of 1e-3 in vol, 1e-4 in r and q and 1e-3·T in time — wide enough that the small kinks of a
///   fixed-step lattice (exercise decisions switching at nodes) do not dominate, narrow enough
///   that the O(h²) truncation stays negligible (tested against differences of a 2001-step
///   lattice);
/// - the approximations: central differences of the model price with relative spot bump 1e-4
///   (gamma from the same three prices), vol bump 1e-4, rate and yield bumps 1e-5 and time bump
///   min(1e-5, T/2) years. The approximations are smooth (their critical prices are solved to
///   1e-14), so these bumps balance O(h²) truncation against rounding at ~1e-9 relative.
///
/// Near a domain edge (vol or years smaller than the bump) the difference is one-sided and
/// second order.
///
/// # Errors
/// As [`price`].
pub fn greeks(model: AmericanModel, option: &Vanilla, vol: f64) -> Result<Greeks> {
    if let Prepared::Done(_) = prepare(option, vol)?
        && (option.years == 0.0 || no_early_exercise(option))
    {
        return gbs::greeks(&european_inputs(option, vol)).checked();
    }
    greeks_unchecked(model, option, vol)?.checked()
}

fn greeks_unchecked(model: AmericanModel, option: &Vanilla, vol: f64) -> Result<Greeks> {
    let bumps = match model {
        AmericanModel::Lattice { .. } => Bumps {
            spot_rel: 0.0,
            vol: 1e-3,
            rate: 1e-4,
            years_rel: 1e-3,
            years_abs: 0.0,
        },
        _ => Bumps {
            spot_rel: 1e-4,
            vol: 1e-4,
            rate: 1e-5,
            years_rel: 0.0,
            years_abs: 1e-5,
        },
    };
    let f = |o: &Vanilla, v: f64| price(model, o, v);
    let (value, delta, gamma) = if option.spot == 0.0 || option.strike == 0.0 {
        // At the edge of the domain: one-sided differences from S (second order for delta,
        // first for gamma) with a step of 1e-4 of the scale.
        let h = 1e-4 * option.spot.max(option.strike);
        let at = |s: f64| f(&Vanilla { spot: s, ..*option }, vol);
        let (v0, v1, v2) = (
            at(option.spot)?,
            at(option.spot + h)?,
            at(option.spot + 2.0 * h)?,
        );
        (
            v0,
            (-3.0 * v0 + 4.0 * v1 - v2) / (2.0 * h),
            (v0 - 2.0 * v1 + v2) / (h * h),
        )
    } else if let AmericanModel::Lattice { steps } = model {
        lattice::price_delta_gamma(option, vol, steps)?
    } else {
        spot_differences(option, bumps.spot_rel * option.spot, |o| f(o, vol))?
    };
    let vega = derivative(vol, bumps.vol, 0.0, value, |v| f(option, v))?;
    let rho = derivative(option.rate, bumps.rate, f64::NEG_INFINITY, value, |r| {
        f(&Vanilla { rate: r, ..*option }, vol)
    })?;
    let dividend_rho = derivative(
        option.dividend_yield,
        bumps.rate,
        f64::NEG_INFINITY,
        value,
        |q| {
            f(
                &Vanilla {
                    dividend_yield: q,
                    ..*option
                },
                vol,
            )
        },
    )?;
    let h_years = (bumps.years_abs + bumps.years_rel * option.years).max(f64::MIN_POSITIVE);
    let d_by_dt = derivative(option.years, h_years, 0.0, value, |t| {
        f(
            &Vanilla {
                years: t,
                ..*option
            },
            vol,
        )
    })?;
    Ok(Greeks {
        price: value,
        delta,
        gamma,
        vega,
        theta: -d_by_dt,
        rho,
        dividend_rho,
    })
}

/// Price, delta and gamma from central differences of `f` with spot step `h`.
pub(crate) fn spot_differences(
    option: &Vanilla,
    h: f64,
    f: impl Fn(&Vanilla) -> Result<f64>,
) -> Result<(f64, f64, f64)> {
    let up = f(&Vanilla {
        spot: option.spot + h,
        ..*option
    })?;
    let mid = f(option)?;
    let down = f(&Vanilla {
        spot: option.spot - h,
        ..*option
    })?;
    Ok((
        mid,
        (up - down) / (2.0 * h),
        (up - 2.0 * mid + down) / (h * h),
    ))
}

/// Bump sizes for finite-difference greeks.
struct Bumps {
    spot_rel: f64,
    vol: f64,
    /// For both the rate and the dividend yield.
    rate: f64,
    years_rel: f64,
    years_abs: f64,
}

/// ∂f/∂x at `x` by a central difference of step `h`, or, when x − h would cross `lower`, the
/// second-order forward difference (−3f(x) + 4f(x + h) − f(x + 2h))/(2h). `fx` is f(x).
fn derivative(
    x: f64,
    h: f64,
    lower: f64,
    fx: f64,
    mut f: impl FnMut(f64) -> Result<f64>,
) -> Result<f64> {
    if x - h >= lower {
        Ok((f(x + h)? - f(x - h)?) / (2.0 * h))
    } else {
        Ok((-3.0 * fx + 4.0 * f(x + h)? - f(x + 2.0 * h)?) / (2.0 * h))
    }
}

/// Validated inputs of one option past the degenerate cases, in Haug's notation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inputs {
    pub(crate) right: OptionRight,
    pub(crate) spot: f64,
    pub(crate) strike: f64,
    pub(crate) years: f64,
    pub(crate) rate: f64,
    /// b = r − q.
    pub(crate) carry: f64,
    pub(crate) vol: f64,
}

impl Inputs {
    /// The generalised-BSM inputs of the European twin, at spot `s`.
    pub(crate) fn gbs_at(&self, s: f64) -> GbsInputs {
        GbsInputs {
            right: self.right,
            s,
            k: self.strike,
            t: self.years,
            r: self.rate,
            b: self.carry,
            v: self.vol,
            carry: Carry::FollowsRate,
        }
    }
}

/// What the shared preamble decided.
pub(crate) enum Prepared {
    /// A degenerate case with an exact value.
    Done(f64),
    /// A genuine American problem (years > 0, vol > 0, early exercise possible).
    Model(Inputs),
}

/// Validates the inputs and settles the degenerate cases exactly (see the module notes).
pub(crate) fn prepare(option: &Vanilla, vol: f64) -> Result<Prepared> {
    option.validate()?;
    check_vol(vol)?;
    if option.years == 0.0 {
        return Ok(Prepared::Done(
            option.right.intrinsic(option.spot, option.strike),
        ));
    }
    // A zero spot stays at zero and a zero strike makes the call the asset and the put
    // worthless: with no uncertainty left, the value is the best deterministic exercise (a put
    // on S = 0 with r ≥ 0 is worth its strike, exercised now).
    if vol == 0.0 || option.spot == 0.0 || option.strike == 0.0 {
        return Ok(Prepared::Done(deterministic_value(option)));
    }
    if no_early_exercise(option) {
        return Ok(Prepared::Done(gbs::price(&european_inputs(option, vol))));
    }
    Ok(Prepared::Model(Inputs {
        right: option.right,
        spot: option.spot,
        strike: option.strike,
        years: option.years,
        rate: option.rate,
        carry: option.carry(),
        vol,
    }))
}

/// True when early exercise is never optimal, so the American option is worth the European:
/// a call on an asset with no (or negative) yield while rates are ≥ 0, and, by the put-call
/// transformation P(S, X, r, q) = C(X, S, q, r) (Haug 2007, §3.3), a put when
/// r ≤ 0 ≤ q.
pub(crate) fn no_early_exercise(option: &Vanilla) -> bool {
    match option.right {
        OptionRight::Call => option.dividend_yield <= 0.0 && option.rate >= 0.0,
        OptionRight::Put => option.rate <= 0.0 && option.dividend_yield >= 0.0,
    }
}

fn european_inputs(option: &Vanilla, vol: f64) -> GbsInputs {
    GbsInputs {
        right: option.right,
        s: option.spot,
        k: option.strike,
        t: option.years,
        r: option.rate,
        b: option.carry(),
        v: vol,
        carry: Carry::FollowsRate,
    }
}

/// max(a, b), but NaN if either is NaN: `f64::max` returns the other operand, which would turn
/// a failed computation into a plausible, wrong number (the public functions report NaN as an
/// error instead).
pub(crate) fn max_or_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// The European (Black-Scholes-Merton) price of the same terms; validated inputs.
pub(crate) fn european_price(o: &Inputs) -> f64 {
    gbs::price(&o.gbs_at(o.spot))
}

/// The value at zero volatility: the spot follows S e^{bt} and the holder exercises at the
/// best date, so V = max over t ∈ [0, T] of θ(S e^{−qt} − X e^{−rt}), floored at 0. The
/// function of t has at most one stationary point, where q S e^{−qt} = r X e^{−rt}, i.e.
/// t* = ln(rX/(qS))/(r − q); the maximum is at 0, T or t*.
pub(crate) fn deterministic_value(option: &Vanilla) -> f64 {
    let theta = option.right.sign();
    let (s, x, t, r, q) = (
        option.spot,
        option.strike,
        option.years,
        option.rate,
        option.dividend_yield,
    );
    let at = |u: f64| theta * (s * (-q * u).exp() - x * (-r * u).exp());
    let mut best = at(0.0).max(at(t));
    let ratio = r * x / (q * s);
    if r != q && ratio > 0.0 && ratio.is_finite() {
        let t_star = ratio.ln() / (r - q);
        if t_star > 0.0 && t_star < t {
            best = best.max(at(t_star));
        }
    }
    best.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_value_picks_the_best_exercise_date() {
        // Put, r = 10 %, q = 0: exercise now, worth X − S.
        let put = Vanilla::try_new(OptionRight::Put, 90.0, 100.0, 1.0, 0.10, 0.0).unwrap();
        assert!((deterministic_value(&put) - 10.0).abs() < 1e-12);
        // OTM call whose forward ends ITM, b > 0 and q = 0: hold to expiry.
        let call = Vanilla::try_new(OptionRight::Call, 99.0, 100.0, 1.0, 0.05, 0.0).unwrap();
        let expect = 99.0 - 100.0 * (-0.05_f64).exp();
        assert!((deterministic_value(&call) - expect).abs() < 1e-12);
        // Interior optimum: call with r = 5 %, q = 1 %, S = 90, X = 100: t* = ln(5·100/90)/0.04
        // is beyond T = 1, so the value is at T; with T = 60 it is interior.
        let long = Vanilla::try_new(OptionRight::Call, 90.0, 100.0, 60.0, 0.05, 0.01).unwrap();
        let t_star = (0.05 * 100.0 / (0.01 * 90.0_f64)).ln() / 0.04;
        let expect = 90.0 * (-0.01 * t_star).exp() - 100.0 * (-0.05 * t_star).exp();
        assert!((deterministic_value(&long) - expect).abs() < 1e-12);
        for u in [0.0_f64, 10.0, 30.0, 59.0, 60.0] {
            assert!(expect >= 90.0 * (-0.01 * u).exp() - 100.0 * (-0.05 * u).exp());
        }
    }
}
