//! The generalised Black-Scholes kernel (Haug 2007, §1.1.6): one formula for Black-Scholes
//! (b = r), Merton with a dividend yield (b = r − q) and Black-76 (b = 0, spot = forward).
//!
//! The kernels here take validated plain `f64`s; the public models validate first.

use crate::greeks::{Greeks, SecondOrderGreeks};
use crate::normal::{ONE_OVER_SQRT_TWO_PI, norm_cdf_pair_with_exp};
use crate::types::OptionRight;

/// How the cost of carry responds to the rate, which decides what rho means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carry {
    /// b = r − q: the forward moves with the rate (Black-Scholes-Merton).
    FollowsRate,
    /// b = 0, the forward is the input and stays fixed (Black-76).
    Forward,
}

/// One option's inputs in Haug's notation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GbsInputs {
    pub(crate) right: OptionRight,
    /// Spot (or forward under Black-76).
    pub(crate) s: f64,
    pub(crate) k: f64,
    pub(crate) t: f64,
    pub(crate) r: f64,
    /// Cost of carry.
    pub(crate) b: f64,
    pub(crate) v: f64,
    pub(crate) carry: Carry,
}

/// The pieces every greek reuses.
struct Terms {
    theta_sign: f64,
    /// e^{(b−r)T}: discounts the spot to the "carry-adjusted" spot.
    carry_df: f64,
    /// e^{−rT}.
    df: f64,
    sqrt_t: f64,
    v_sqrt_t: f64,
    /// 1/(σ√T), or 0 without diffusion: one division shared by d1, gamma and theta.
    inv_v_sqrt_t: f64,
    d1: f64,
    d2: f64,
    /// φ(d1).
    pdf_d1: f64,
    /// Φ(θ·d1), Φ(θ·d2).
    cdf_d1: f64,
    cdf_d2: f64,
}

/// e^{−rT}, e^{bT} and e^{(b−r)T}.
#[inline]
fn discounting(o: &GbsInputs) -> (f64, f64, f64) {
    let df = (-o.r * o.t).exp();
    // e^{bT}: with e^{−rT} it gives e^{(b−r)T} and F/K without two more exponentials.
    let growth = (o.b * o.t).exp();
    let mut carry_df = growth * df;
    if !(carry_df.is_finite() && carry_df > 0.0) {
        // One of the two factors over- or underflowed (|r|T or |b|T beyond ~700, e.g.
        // r = −10 and q = 10 over 100 years): 0·∞ would be NaN, so take e^{(b−r)T} = e^{−qT}
        // directly. Rare, hence not the default path.
        carry_df = ((o.b - o.r) * o.t).exp();
    }
    (df, growth, carry_df)
}

#[inline]
fn terms(o: &GbsInputs) -> Terms {
    let theta_sign = o.right.sign();
    let sqrt_t = o.t.sqrt();
    let v_sqrt_t = o.v * sqrt_t;
    // A zero spot or strike has no diffusion either: the asset at 0 stays at 0, and a zero
    // strike makes the call the asset (ln(S/K) = ±∞ would give 0/0 in gamma and vega).
    if v_sqrt_t > 0.0 && o.s > 0.0 && o.k > 0.0 {
        // ln(S/K) heads the longest dependent chain (→ d1 → e^{−d1²/2} and Φ), so it goes
        // first; the discount factors overlap with it.
        let spot_over_strike = o.s / o.k;
        let log_moneyness = spot_over_strike.ln() + o.b * o.t;
        let (df, growth, carry_df) = discounting(o);
        let inv_v_sqrt_t = 1.0 / v_sqrt_t;
        let d1 = log_moneyness * inv_v_sqrt_t + 0.5 * v_sqrt_t;
        let d2 = d1 - v_sqrt_t;
        let e1 = (-0.5 * d1 * d1).exp();
        // φ(d2) = φ(d1)·F/K: one exponential serves both tails (Haug 2007, eq. 1.6 identity).
        let forward_over_strike = spot_over_strike * growth;
        let e2 = if forward_over_strike.is_finite() && e1 > 0.0 {
            e1 * forward_over_strike
        } else {
            // e^{bT} overflowed or e^{−d1²/2} underflowed: 0·∞ would be NaN.
            (-0.5 * d2 * d2).exp()
        };
        let [cdf_d1, cdf_d2] = norm_cdf_pair_with_exp([theta_sign * d1, theta_sign * d2], [e1, e2]);
        Terms {
            theta_sign,
            carry_df,
            df,
            sqrt_t,
            v_sqrt_t,
            inv_v_sqrt_t,
            d1,
            d2,
            pdf_d1: ONE_OVER_SQRT_TWO_PI * e1,
            cdf_d1,
            cdf_d2,
        }
    } else {
        // No diffusion left (expiry or zero volatility): the option is worth its discounted
        // forward intrinsic value and Φ(θd) collapses to an indicator of being in the money.
        let (df, growth, carry_df) = discounting(o);
        let forward = o.s * growth;
        let itm = if theta_sign * (forward - o.k) > 0.0 {
            1.0
        } else {
            0.0
        };
        Terms {
            theta_sign,
            carry_df,
            df,
            sqrt_t,
            v_sqrt_t,
            inv_v_sqrt_t: 0.0,
            d1: 0.0,
            d2: 0.0,
            pdf_d1: 0.0,
            cdf_d1: itm,
            cdf_d2: itm,
        }
    }
}

/// The option's value.
#[inline]
pub(crate) fn price(o: &GbsInputs) -> f64 {
    let t = terms(o);
    let value = t.theta_sign * (o.s * t.carry_df * t.cdf_d1 - o.k * t.df * t.cdf_d2);
    // Rounding can leave a tiny negative value; NaN (overflowed inputs) must stay NaN so that
    // the public function reports it (`f64::max` would turn NaN into 0).
    if value < 0.0 { 0.0 } else { value }
}

/// Price and every first-order greek in one pass.
#[inline]
pub(crate) fn greeks(o: &GbsInputs) -> Greeks {
    let t = terms(o);
    let spot_leg = o.s * t.carry_df;
    let strike_leg = o.k * t.df;
    let price = t.theta_sign * (spot_leg * t.cdf_d1 - strike_leg * t.cdf_d2);
    let price = if price < 0.0 { 0.0 } else { price };
    let delta = t.theta_sign * t.carry_df * t.cdf_d1;
    let (gamma, vega, diffusion_theta) = if t.inv_v_sqrt_t > 0.0 {
        (
            t.carry_df * t.pdf_d1 * t.inv_v_sqrt_t / o.s,
            spot_leg * t.pdf_d1 * t.sqrt_t,
            // σ/(2√T) = σ²/(2σ√T), which avoids a division.
            -0.5 * spot_leg * t.pdf_d1 * o.v * o.v * t.inv_v_sqrt_t,
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    let theta = diffusion_theta
        - t.theta_sign * (o.b - o.r) * spot_leg * t.cdf_d1
        - t.theta_sign * o.r * strike_leg * t.cdf_d2;
    // ∂V/∂b, the sensitivity to the cost of carry.
    let carry_rho = t.theta_sign * o.t * spot_leg * t.cdf_d1;
    let (rho, dividend_rho) = match o.carry {
        Carry::FollowsRate => (t.theta_sign * o.t * strike_leg * t.cdf_d2, -carry_rho),
        Carry::Forward => (-o.t * price, 0.0),
    };
    Greeks {
        price,
        delta,
        gamma,
        vega,
        theta,
        rho,
        dividend_rho,
    }
}

/// Vanna, volga, charm, speed, zomma and colour (Haug 2007, §2.2–2.5).
pub(crate) fn second_order(o: &GbsInputs) -> SecondOrderGreeks {
    let t = terms(o);
    if t.inv_v_sqrt_t == 0.0 {
        // No diffusion (see `terms`): the value is piecewise linear in the spot and does not
        // depend on σ, so every second-order greek is 0.
        return SecondOrderGreeks::default();
    }
    let gamma = t.carry_df * t.pdf_d1 / (o.s * t.v_sqrt_t);
    let vega = o.s * t.carry_df * t.pdf_d1 * t.sqrt_t;
    let b_over_v_sqrt_t = o.b / t.v_sqrt_t;
    SecondOrderGreeks {
        vanna: -t.carry_df * t.pdf_d1 * t.d2 / o.v,
        volga: vega * t.d1 * t.d2 / o.v,
        charm: -t.carry_df
            * (t.pdf_d1 * (b_over_v_sqrt_t - t.d2 / (2.0 * o.t))
                + t.theta_sign * (o.b - o.r) * t.cdf_d1),
        speed: -gamma * (1.0 + t.d1 / t.v_sqrt_t) / o.s,
        zomma: gamma * (t.d1 * t.d2 - 1.0) / o.v,
        colour: gamma * (o.r - o.b + b_over_v_sqrt_t * t.d1 + (1.0 - t.d1 * t.d2) / (2.0 * o.t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(right: OptionRight, carry: Carry) -> GbsInputs {
        // r ≠ q on purpose: q = 0 tests hide gamma/theta bugs.
        GbsInputs {
            right,
            s: 105.0,
            k: 100.0,
            t: 0.75,
            r: 0.05,
            b: if carry == Carry::Forward {
                0.0
            } else {
                0.05 - 0.03
            },
            v: 0.25,
            carry,
        }
    }

    /// Central difference of `f` at `x` with relative step `h`.
    fn central(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
        let dx = h * x.abs().max(1.0);
        (f(x + dx) - f(x - dx)) / (2.0 * dx)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn first_order_greeks_match_finite_differences() {
        for carry in [Carry::FollowsRate, Carry::Forward] {
            for right in [OptionRight::Call, OptionRight::Put] {
                let o = option(right, carry);
                let g = greeks(&o);
                let p = |m: &dyn Fn(&mut GbsInputs)| {
                    let mut x = o;
                    m(&mut x);
                    price(&x)
                };
                let d_s = central(|s| p(&|x| x.s = s), o.s, 1e-5);
                let g_s = central(|s| greeks(&GbsInputs { s, ..o }).delta, o.s, 1e-5);
                let d_v = central(|v| p(&|x| x.v = v), o.v, 1e-5);
                let d_t = -central(|t| p(&|x| x.t = t), o.t, 1e-5);
                let q = o.r - o.b;
                let d_r = central(
                    |r| {
                        p(&|x| {
                            x.r = r;
                            if carry == Carry::FollowsRate {
                                x.b = r - q;
                            }
                        })
                    },
                    o.r,
                    1e-5,
                );
                assert!(close(g.price, price(&o), 1e-15));
                let cases = [
                    ("delta", g.delta, d_s, 1e-8),
                    ("gamma", g.gamma, g_s, 1e-7),
                    ("vega", g.vega, d_v, 1e-8),
                    ("theta", g.theta, d_t, 1e-7),
                    ("rho", g.rho, d_r, 1e-7),
                ];
                for (name, analytic, finite_difference, tolerance) in cases {
                    assert!(
                        close(analytic, finite_difference, tolerance),
                        "{carry:?} {right:?} {name}: analytic {analytic}, finite difference {finite_difference}"
                    );
                }
                if carry == Carry::FollowsRate {
                    let d_q = central(|q| p(&|x| x.b = o.r - q), q, 1e-5);
                    assert!(
                        close(g.dividend_rho, d_q, 1e-7),
                        "phi {} fd {d_q}",
                        g.dividend_rho
                    );
                } else {
                    assert_eq!(g.dividend_rho, 0.0);
                }
            }
        }
    }

    #[test]
    fn second_order_greeks_match_finite_differences() {
        for carry in [Carry::FollowsRate, Carry::Forward] {
            for right in [OptionRight::Call, OptionRight::Put] {
                let o = option(right, carry);
                let s2 = second_order(&o);
                let g = |m: &dyn Fn(&mut GbsInputs)| {
                    let mut x = o;
                    m(&mut x);
                    greeks(&x)
                };
                let vanna = central(|v| g(&|x| x.v = v).delta, o.v, 1e-5);
                let volga = central(|v| g(&|x| x.v = v).vega, o.v, 1e-5);
                let charm = -central(|t| g(&|x| x.t = t).delta, o.t, 1e-5);
                let speed = central(|s| g(&|x| x.s = s).gamma, o.s, 1e-5);
                let zomma = central(|v| g(&|x| x.v = v).gamma, o.v, 1e-5);
                let colour = -central(|t| g(&|x| x.t = t).gamma, o.t, 1e-5);
                let cases = [
                    ("vanna", s2.vanna, vanna),
                    ("volga", s2.volga, volga),
                    ("charm", s2.charm, charm),
                    ("speed", s2.speed, speed),
                    ("zomma", s2.zomma, zomma),
                    ("colour", s2.colour, colour),
                ];
                for (name, analytic, finite_difference) in cases {
                    assert!(
                        close(analytic, finite_difference, 1e-7),
                        "{carry:?} {right:?} {name}: analytic {analytic}, finite difference {finite_difference}"
                    );
                }
            }
        }
    }

    #[test]
    fn without_diffusion_the_value_is_the_discounted_forward_intrinsic() {
        let o = GbsInputs {
            v: 0.0,
            ..option(OptionRight::Call, Carry::FollowsRate)
        };
        let forward = o.s * (o.b * o.t).exp();
        let g = greeks(&o);
        assert!(close(g.price, (-o.r * o.t).exp() * (forward - o.k), 1e-15));
        assert!(close(g.delta, ((o.b - o.r) * o.t).exp(), 1e-15));
        assert_eq!((g.gamma, g.vega), (0.0, 0.0));
        let otm_put = GbsInputs {
            right: OptionRight::Put,
            ..o
        };
        assert_eq!(price(&otm_put), 0.0);
        let expired = GbsInputs { t: 0.0, ..o };
        assert_eq!(price(&expired), 5.0);
    }
}
