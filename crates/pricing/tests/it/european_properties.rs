//! Invariants of European prices and greeks over random inputs, always with a dividend yield
//! and r ≠ q (a zero or equal yield hides carry bugs): put-call parity, no-arbitrage bounds,
//! monotonicity and convexity, every analytic greek against a central finite difference, and
//! Black-76 against Black-Scholes-Merton.
//!
//! Domain. Spot 1…10 000, log-moneyness ln(K/S) in ±0.6, T in 0.05…3 years, σ in 5 %…80 %,
//! r in −2 %…10 %, q in −2 %…8 % with |r − q| ≥ 0.5 %. The finite-difference tests further
//! require σ√T ≥ 0.05 and |d1|, |d2| ≤ 5: beyond that the option is a few ulps away from its
//! intrinsic value or from zero, every greek is dominated by a factor exp(−d²/2) < 4e-6, and a
//! central difference measures rounding noise, not the derivative (the analytic greek is the
//! better number there; the reference tests cover the domain's edges).

use proptest::prelude::*;
use volta_pricing::{FuturesOption, Greeks, OptionRight, SecondOrderGreeks, Vanilla, black76, bsm};

/// One option and its volatility.
#[derive(Debug, Clone, Copy)]
struct Case {
    option: Vanilla,
    vol: f64,
}

impl Case {
    fn sqrt_variance(&self) -> f64 {
        self.vol * self.option.years.sqrt()
    }

    /// (d1, d2) of the Black-Scholes-Merton formula.
    fn d1_d2(&self) -> (f64, f64) {
        let o = &self.option;
        let sd = self.sqrt_variance();
        let d1 = ((o.spot / o.strike).ln() + o.carry() * o.years) / sd + 0.5 * sd;
        (d1, d1 - sd)
    }

    fn greeks(&self) -> Greeks {
        bsm::greeks(&self.option, self.vol).unwrap()
    }

    fn second_order(&self) -> SecondOrderGreeks {
        bsm::second_order_greeks(&self.option, self.vol).unwrap()
    }

    fn discounted_spot(&self) -> f64 {
        self.option.spot * (-self.option.dividend_yield * self.option.years).exp()
    }

    fn discounted_strike(&self) -> f64 {
        self.option.strike * (-self.option.rate * self.option.years).exp()
    }
}

fn right() -> impl Strategy<Value = OptionRight> {
    prop_oneof![Just(OptionRight::Call), Just(OptionRight::Put)]
}

prop_compose! {
    fn case()(
        right in right(),
        spot in 1.0_f64..10_000.0,
        log_moneyness in -0.6_f64..0.6,
        years in 0.05_f64..3.0,
        rate in -0.02_f64..0.10,
        dividend_yield in -0.02_f64..0.08,
        vol in 0.05_f64..0.80,
    ) -> Case {
        let strike = spot * log_moneyness.exp();
        Case { option: Vanilla::try_new(right, spot, strike, years, rate, dividend_yield).unwrap(), vol }
    }
}

/// A case with a real dividend yield and r ≠ q.
fn carry_case() -> impl Strategy<Value = Case> {
    case().prop_filter("q ≠ 0, |r − q| ≥ 0.5 %", |c| {
        c.option.dividend_yield.abs() >= 1e-3
            && (c.option.rate - c.option.dividend_yield).abs() >= 5e-3
    })
}

/// A carry case where finite differences are well conditioned (see the module docs).
fn fd_case() -> impl Strategy<Value = Case> {
    carry_case().prop_filter("σ√T ≥ 0.05, |d1|, |d2| ≤ 5", |c| {
        let (d1, d2) = c.d1_d2();
        c.sqrt_variance() >= 0.05 && d1.abs() <= 5.0 && d2.abs() <= 5.0
    })
}

/// Central difference of `f` at `x` with step `h`.
fn central(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// |analytic − fd| ≤ `rel`·(|analytic| + `scale`), where `scale` is the greek's natural size
/// (its at-the-money magnitude in the option's own units), so that a greek crossing zero is
/// still held to a meaningful absolute tolerance.
fn check(
    name: &str,
    c: &Case,
    analytic: f64,
    fd: f64,
    scale: f64,
    rel: f64,
) -> Result<(), TestCaseError> {
    let tol = rel * (analytic.abs() + scale);
    prop_assert!(
        (analytic - fd).abs() <= tol,
        "{name}: analytic {analytic:e}, finite difference {fd:e}, |diff| {:e} > {tol:e}\n{c:?}",
        (analytic - fd).abs()
    );
    Ok(())
}

/// The option with one field changed.
fn with(c: &Case, f: impl Fn(&mut Vanilla, &mut f64)) -> Case {
    let mut out = *c;
    f(&mut out.option, &mut out.vol);
    out
}

/// Relative finite-difference tolerance: steps are ~1e-4 of each input's natural scale, so the
/// truncation error is ~1e-8 times a polynomial in d (≤ 5) and the rounding error ~1e-12.
const FD_REL: f64 = 2e-6;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// C − P = S e^{−qT} − K e^{−rT} to a few ulps of the legs.
    #[test]
    fn put_call_parity(c in carry_case()) {
        let call = bsm::price(&c.option.with_right(OptionRight::Call), c.vol).unwrap();
        let put = bsm::price(&c.option.with_right(OptionRight::Put), c.vol).unwrap();
        let (s, k) = (c.discounted_spot(), c.discounted_strike());
        let tol = 1e-13 * (s + k);
        prop_assert!(((call - put) - (s - k)).abs() <= tol, "C − P = {}, S' − K' = {}", call - put, s - k);
        // The greeks follow: Δc − Δp = e^{−qT}, and the second-order greeks coincide.
        let (gc, gp) = (
            bsm::greeks(&c.option.with_right(OptionRight::Call), c.vol).unwrap(),
            bsm::greeks(&c.option.with_right(OptionRight::Put), c.vol).unwrap(),
        );
        prop_assert!((gc.delta - gp.delta - s / c.option.spot).abs() <= 1e-14);
        prop_assert!((gc.gamma - gp.gamma).abs() <= 1e-14 * gc.gamma.abs().max(1e-300));
        prop_assert!((gc.vega - gp.vega).abs() <= 1e-13 * gc.vega.abs().max(1e-300));
    }

    /// max(S e^{−qT} − K e^{−rT}, 0) ≤ C ≤ S e^{−qT} and max(K e^{−rT} − S e^{−qT}, 0) ≤ P ≤ K e^{−rT}.
    #[test]
    fn no_arbitrage_bounds(c in carry_case()) {
        let (s, k) = (c.discounted_spot(), c.discounted_strike());
        let slack = 1e-13 * (s + k);
        let (lower, upper) = match c.option.right {
            OptionRight::Call => ((s - k).max(0.0), s),
            OptionRight::Put => ((k - s).max(0.0), k),
        };
        let v = bsm::price(&c.option, c.vol).unwrap();
        prop_assert!(v >= lower - slack && v <= upper + slack, "{v} outside [{lower}, {upper}]");
    }

    /// The value rises with volatility and, for a call (put), falls (rises) with the strike, and
    /// is convex in the strike.
    #[test]
    fn monotone_in_vol_and_strike_and_convex_in_strike(c in carry_case(), bump in 1e-3_f64..0.05) {
        let v = bsm::price(&c.option, c.vol).unwrap();
        let slack = 1e-13 * (c.discounted_spot() + c.discounted_strike());
        let up_vol = bsm::price(&c.option, c.vol + bump).unwrap();
        prop_assert!(up_vol >= v - slack, "vol up: {up_vol} < {v}");
        let h = bump * c.option.strike;
        let at = |k: f64| bsm::price(&Vanilla { strike: k, ..c.option }, c.vol).unwrap();
        let (down, up) = (at(c.option.strike - h), at(c.option.strike + h));
        match c.option.right {
            OptionRight::Call => prop_assert!(up <= v + slack && v <= down + slack),
            OptionRight::Put => prop_assert!(up >= v - slack && v >= down - slack),
        }
        prop_assert!(down - 2.0 * v + up >= -4.0 * slack, "not convex: {down} {v} {up}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Delta, gamma, vega, theta, rho and dividend rho against central differences of the price
    /// (gamma: of the analytic delta, which the delta check validates).
    #[test]
    fn first_order_greeks_match_finite_differences(c in fd_case()) {
        let g = c.greeks();
        let o = c.option;
        let (s, sd, t) = (o.spot, c.sqrt_variance(), o.years);
        let price = |x: &Case| bsm::price(&x.option, x.vol).unwrap();
        let h_s = 1e-4 * s * sd;
        let h_v = 1e-4 * c.vol;
        let h_t = 1e-4 * t;
        let h_r = 1e-5;
        let delta = central(|x| price(&with(&c, |o, _| o.spot = x)), s, h_s);
        let gamma = central(|x| with(&c, |o, _| o.spot = x).greeks().delta, s, h_s);
        let vega = central(|x| price(&with(&c, |_, v| *v = x)), c.vol, h_v);
        let theta = -central(|x| price(&with(&c, |o, _| o.years = x)), t, h_t);
        let rho = central(|x| price(&with(&c, |o, _| o.rate = x)), o.rate, h_r);
        let dividend_rho = central(|x| price(&with(&c, |o, _| o.dividend_yield = x)), o.dividend_yield, h_r);
        let vega_scale = s * t.sqrt();
        check("delta", &c, g.delta, delta, 1.0, FD_REL)?;
        check("gamma", &c, g.gamma, gamma, 1.0 / (s * sd), FD_REL)?;
        check("vega", &c, g.vega, vega, vega_scale, FD_REL)?;
        check("theta", &c, g.theta, theta, vega_scale * c.vol / t + (o.rate.abs() + o.dividend_yield.abs()) * s, FD_REL)?;
        check("rho", &c, g.rho, rho, o.strike * t, FD_REL)?;
        check("dividend_rho", &c, g.dividend_rho, dividend_rho, s * t, FD_REL)?;
    }

    /// Vanna, volga, charm, speed, zomma and colour against central differences of the analytic
    /// first-order greeks.
    #[test]
    fn second_order_greeks_match_finite_differences(c in fd_case()) {
        let g2 = c.second_order();
        let o = c.option;
        let (s, sd, t, v) = (o.spot, c.sqrt_variance(), o.years, c.vol);
        let h_s = 1e-4 * s * sd;
        let h_v = 1e-4 * v;
        let h_t = 1e-4 * t;
        let at_vol = |x: f64| with(&c, |_, v| *v = x).greeks();
        let at_spot = |x: f64| with(&c, |o, _| o.spot = x).greeks();
        let at_years = |x: f64| with(&c, |o, _| o.years = x).greeks();
        let vanna = central(|x| at_vol(x).delta, v, h_v);
        let volga = central(|x| at_vol(x).vega, v, h_v);
        let zomma = central(|x| at_vol(x).gamma, v, h_v);
        let speed = central(|x| at_spot(x).gamma, s, h_s);
        let charm = -central(|x| at_years(x).delta, t, h_t);
        let colour = -central(|x| at_years(x).gamma, t, h_t);
        let gamma_scale = 1.0 / (s * sd);
        check("vanna", &c, g2.vanna, vanna, 1.0 / v, FD_REL)?;
        check("volga", &c, g2.volga, volga, s * t.sqrt() / v, FD_REL)?;
        check("zomma", &c, g2.zomma, zomma, gamma_scale / v, FD_REL)?;
        check("speed", &c, g2.speed, speed, gamma_scale / (s * sd), FD_REL)?;
        check("charm", &c, g2.charm, charm, 1.0 / t + o.rate.abs() + o.dividend_yield.abs(), FD_REL)?;
        check("colour", &c, g2.colour, colour, gamma_scale / t, FD_REL)?;
    }

    /// Black-76 greeks against central differences, the forward held fixed (rho = −T·V).
    #[test]
    fn black76_greeks_match_finite_differences(c in fd_case()) {
        let o = c.option;
        let fut = FuturesOption::try_new(o.right, o.forward(), o.strike, o.years, o.rate).unwrap();
        let (f, sd, t) = (fut.forward, c.sqrt_variance(), fut.years);
        let g = black76::greeks(&fut, c.vol).unwrap();
        let price = |x: &FuturesOption, v: f64| black76::price(x, v).unwrap();
        let h_f = 1e-4 * f * sd;
        let delta = central(|x| price(&FuturesOption { forward: x, ..fut }, c.vol), f, h_f);
        let gamma = central(|x| black76::greeks(&FuturesOption { forward: x, ..fut }, c.vol).unwrap().delta, f, h_f);
        let vega = central(|x| price(&fut, x), c.vol, 1e-4 * c.vol);
        let theta = -central(|x| price(&FuturesOption { years: x, ..fut }, c.vol), t, 1e-4 * t);
        let rho = central(|x| price(&FuturesOption { rate: x, ..fut }, c.vol), fut.rate, 1e-5);
        let vega_scale = f * t.sqrt();
        check("b76 delta", &c, g.delta, delta, 1.0, FD_REL)?;
        check("b76 gamma", &c, g.gamma, gamma, 1.0 / (f * sd), FD_REL)?;
        check("b76 vega", &c, g.vega, vega, vega_scale, FD_REL)?;
        check("b76 theta", &c, g.theta, theta, vega_scale * c.vol / t + fut.rate.abs() * f, FD_REL)?;
        check("b76 rho", &c, g.rho, rho, f * t, FD_REL)?;
        prop_assert!((g.rho + t * g.price).abs() <= 1e-15 * (t * g.price).max(1e-300));
        prop_assert_eq!(g.dividend_rho, 0.0);
    }

    /// Black-76 on F is BSM on S = F e^{−(r−q)T}: same price and vega; delta and gamma per unit
    /// of forward are BSM's per unit of spot times ∂S/∂F = e^{−(r−q)T} (squared for gamma).
    #[test]
    fn black76_is_bsm_on_the_forward(c in carry_case()) {
        let o = c.option;
        let fut = FuturesOption::try_new(o.right, o.forward(), o.strike, o.years, o.rate).unwrap();
        let b = black76::greeks(&fut, c.vol).unwrap();
        let m = c.greeks();
        let ds_df = (-o.carry() * o.years).exp();
        let scale = c.discounted_spot() + c.discounted_strike();
        prop_assert!((b.price - m.price).abs() <= 1e-13 * scale, "price {} vs {}", b.price, m.price);
        prop_assert!((b.vega - m.vega).abs() <= 1e-12 * (m.vega.abs() + scale * o.years.sqrt() * 1e-3));
        prop_assert!((b.delta - m.delta * ds_df).abs() <= 1e-13);
        prop_assert!((b.gamma - m.gamma * ds_df * ds_df).abs() <= 1e-12 * m.gamma.abs() + 1e-300);
    }
}
