//! Issue 18 §3: every model over the whole domain (σ up to 100, r and q in ±10, T from 0 to 100
//! years, spot or strike 0) returns a finite value or a typed error, never ∞ or NaN; and the
//! three American cases that failed against published values are right, checked against
//! closed-form references (not against the crate's own models):
//! - σ = 100: the American value lies between the best European value over maturities
//!   t ≤ T (an American option is worth at least the European of any earlier maturity) and
//!   the spot (call, q ≥ 0) or the strike (put, r ≥ 0); at σ = 100 that bracket is narrower
//!   than 0.05 % of the price;
//! - q = 10: the at-the-money call is alive only for a time of order (σ/q)² ≈ 4e-4 years, so
//!   with T = 1 it is worth the perpetual American call (Merton 1973, closed form);
//! - spot 0: a put is worth its strike (exercise now), a call nothing.

use proptest::prelude::*;
use volta_pricing::american::{self, AmericanModel};
use volta_pricing::{FuturesOption, OptionRight, PricingError, Vanilla, black76, bsm};

use OptionRight::{Call, Put};

const MODELS: [AmericanModel; 4] = [
    AmericanModel::BaroneAdesiWhaley,
    AmericanModel::BjerksundStensland2002,
    AmericanModel::Lattice { steps: 301 },
    AmericanModel::Lattice { steps: 2001 },
];

fn vanilla(right: OptionRight, spot: f64, strike: f64, years: f64, rate: f64, q: f64) -> Vanilla {
    Vanilla {
        right,
        spot,
        strike,
        years,
        rate,
        dividend_yield: q,
    }
}

/// max over maturities t ∈ (0, T] of the European value (a dense geometric grid): a lower
/// bound of the American value with maturity T.
fn best_european(o: &Vanilla, vol: f64) -> f64 {
    (0..=400)
        .map(|i| {
            let years = o.years * 10f64.powf(-8.0 * f64::from(i) / 400.0);
            bsm::price(&Vanilla { years, ..*o }, vol).unwrap()
        })
        .fold(0.0, f64::max)
}

#[test]
fn volatility_100_gives_a_finite_value_inside_the_no_arbitrage_bracket() {
    for right in [Call, Put] {
        for years in [0.25, 1.0, 10.0, 100.0] {
            let o = vanilla(right, 100.0, 100.0, years, 0.05, 0.02);
            let lower = best_european(&o, 100.0);
            // Call ≤ S·max(1, e^{−qT}); put ≤ K·max(1, e^{−rT}).
            let upper = 100.0;
            assert!(
                upper - lower < 5e-2,
                "{right} T={years}: bracket [{lower}, {upper}]"
            );
            for model in MODELS {
                let v = american::price(model, &o, 100.0).unwrap();
                assert!(
                    v.is_finite() && v >= lower - 1e-9 && v <= upper + 1e-9,
                    "{right} T={years} {model:?}: {v} outside [{lower}, {upper}]"
                );
                let g = american::greeks(model, &o, 100.0).unwrap();
                // And back: the volatility of a price at σ = 30 (vega is tiny up there, so
                // the tolerance is loose).
                let at_30 = american::price(model, &o, 30.0).unwrap();
                let vol = american::implied_vol_with(model, &o, at_30).unwrap();
                assert!(
                    (vol / 30.0 - 1.0).abs() < 1e-3,
                    "{right} T={years} {model:?}: {vol}"
                );
                assert!(g.delta.is_finite() && g.gamma.is_finite() && g.vega.is_finite());
            }
        }
    }
}

/// The perpetual American call (Merton 1973; Haug 2007, §3.4): with
/// β = ½ − b/σ² + √((b/σ² − ½)² + 2r/σ²), the boundary is B = βK/(β − 1) and the value
/// (B − K)(S/B)^β below it.
fn perpetual_call(spot: f64, strike: f64, rate: f64, q: f64, vol: f64) -> f64 {
    let (b, v2) = (rate - q, vol * vol);
    let beta = 0.5 - b / v2 + ((b / v2 - 0.5).powi(2) + 2.0 * rate / v2).sqrt();
    let boundary = beta * strike / (beta - 1.0);
    (boundary - strike) * (spot / boundary).powf(beta)
}

#[test]
fn dividend_yield_10_at_the_money_call_is_worth_the_perpetual_call() {
    for (rate, vol) in [(0.01, 0.2), (0.05, 0.3), (0.0, 0.5)] {
        let o = vanilla(Call, 100.0, 100.0, 1.0, rate, 10.0);
        let perpetual = perpetual_call(100.0, 100.0, rate, 10.0, vol);
        // The European is worth e^{−10}·… ≈ 0: the old lattice and Bjerksund-Stensland
        // returned nearly that.
        assert!(bsm::price(&o, vol).unwrap() < 1e-2 * perpetual);
        for (model, tolerance) in [
            (AmericanModel::BaroneAdesiWhaley, 2e-3),
            (AmericanModel::BjerksundStensland2002, 2e-3),
            // The lattice converges slowly here: the exercise boundary hugs the strike
            // (B∞ = 1.002·K) and the life that matters is a few (σ/q)², a few dozen steps.
            (AmericanModel::Lattice { steps: 301 }, 1.5e-2),
            (AmericanModel::Lattice { steps: 2001 }, 6e-3),
        ] {
            let v = american::price(model, &o, vol).unwrap();
            assert!(
                (v / perpetual - 1.0).abs() < tolerance,
                "r={rate} σ={vol} {model:?}: {v} vs perpetual {perpetual}"
            );
            // Never above the perpetual value (a longer life is worth more) beyond the
            // approximations' own error.
            assert!(v <= perpetual * (1.0 + 1e-3));
        }
        // The put of the put-call transformation: P(S, K, r, q) = C(K, S, q, r).
        let put = vanilla(Put, 100.0, 100.0, 1.0, 10.0, rate);
        for model in MODELS {
            let v = american::price(model, &put, vol).unwrap();
            assert!(
                (v / perpetual - 1.0).abs() < 1.5e-2,
                "put r=10 q={rate} σ={vol} {model:?}: {v} vs {perpetual}"
            );
        }
    }
}

#[test]
fn zero_spot_or_strike_has_its_deterministic_value() {
    let (k, r, q, t) = (80.0, 0.05, 0.02, 2.0);
    for model in MODELS {
        // American put on S = 0: exercise now for K.
        let put = vanilla(Put, 0.0, k, t, r, q);
        assert_eq!(american::price(model, &put, 0.3).unwrap(), k);
        let g = american::greeks(model, &put, 0.3).unwrap();
        assert!((g.delta + 1.0).abs() < 1e-6, "{model:?} delta {}", g.delta);
        // With r < 0 holding pays: K·e^{−rT}.
        let negative = vanilla(Put, 0.0, k, t, -0.01, q);
        let want = k * (0.01 * t).exp();
        assert!((american::price(model, &negative, 0.3).unwrap() - want).abs() < 1e-12);
        // A call on a worthless asset is worthless; a call struck at 0 is the asset.
        assert_eq!(
            american::price(model, &vanilla(Call, 0.0, k, t, r, q), 0.3).unwrap(),
            0.0
        );
        assert_eq!(
            american::price(model, &vanilla(Call, 50.0, 0.0, t, r, q), 0.3).unwrap(),
            50.0
        );
        assert_eq!(
            american::price(model, &vanilla(Put, 50.0, 0.0, t, r, q), 0.3).unwrap(),
            0.0
        );
    }
    // European: the discounted strike, the spot less its yield, with their greeks.
    let put = vanilla(Put, 0.0, k, t, r, q);
    let g = bsm::greeks(&put, 0.3).unwrap();
    assert!((g.price - k * (-r * t).exp()).abs() < 1e-12);
    assert!((g.delta + (-q * t).exp()).abs() < 1e-15);
    assert_eq!((g.gamma, g.vega), (0.0, 0.0));
    assert!((g.rho + t * k * (-r * t).exp()).abs() < 1e-12);
    let call = vanilla(Call, 50.0, 0.0, t, r, q);
    assert!((bsm::price(&call, 0.3).unwrap() - 50.0 * (-q * t).exp()).abs() < 1e-12);
    assert_eq!(bsm::second_order_greeks(&call, 0.3).unwrap().vanna, 0.0);
    let future = FuturesOption {
        right: Put,
        forward: 0.0,
        strike: k,
        years: t,
        rate: r,
    };
    assert!((black76::price(&future, 0.3).unwrap() - k * (-r * t).exp()).abs() < 1e-12);
    // Implied volatility is undefined there (every volatility gives the same price).
    assert!(matches!(
        bsm::implied_vol(&put, 70.0),
        Err(PricingError::InvalidInput { name: "spot", .. })
    ));
    assert!(matches!(
        american::implied_vol(&put, 70.0),
        Err(PricingError::InvalidInput { name: "spot", .. })
    ));
}

#[test]
fn results_beyond_f64_are_a_typed_error() {
    // r = −10 for 100 years: the European put is worth K·e^{1000}.
    let put = vanilla(Put, 100.0, 100.0, 100.0, -10.0, 0.02);
    assert_eq!(
        bsm::price(&put, 0.3),
        Err(PricingError::Overflow { quantity: "price" })
    );
    // It used to be 0 (NaN turned into 0 by `f64::max`).
    let call = vanilla(Call, 100.0, 100.0, 100.0, 0.05, -10.0);
    assert!(matches!(
        bsm::greeks(&call, 0.3),
        Err(PricingError::Overflow { .. })
    ));
    for model in MODELS {
        assert!(matches!(
            american::price(model, &call, 0.3),
            Err(PricingError::Overflow { .. })
        ));
    }
}

/// The domain of issue 18 §3, with the edges drawn often.
fn domain() -> impl Strategy<Value = (Vanilla, f64)> {
    let price_level = prop_oneof![
        1 => Just(0.0),
        6 => (-2.0..4.0_f64).prop_map(|e| 10f64.powf(e)),
    ];
    let rate = prop_oneof![
        1 => Just(0.0),
        1 => prop_oneof![Just(-10.0), Just(10.0)],
        4 => -10.0..10.0_f64,
        4 => -0.1..0.2_f64,
    ];
    let years = prop_oneof![
        1 => Just(0.0),
        1 => Just(100.0),
        4 => (-4.0..2.0_f64).prop_map(|e| 10f64.powf(e)),
    ];
    let vol = prop_oneof![
        1 => Just(0.0),
        1 => Just(100.0),
        4 => (-3.0..2.0_f64).prop_map(|e| 10f64.powf(e)),
    ];
    (
        prop_oneof![Just(Call), Just(Put)],
        price_level.clone(),
        price_level,
        years,
        rate.clone(),
        rate,
        vol,
    )
        .prop_map(|(right, spot, strike, years, rate, q, vol)| {
            (vanilla(right, spot, strike, years, rate, q), vol)
        })
}

/// `Ok` with every number finite, or a typed error; returns the value when there is one.
fn finite_or_error(what: &str, r: &Result<f64, PricingError>) -> Option<f64> {
    match r {
        Ok(v) => {
            assert!(v.is_finite(), "{what}: non-finite {v} without an error");
            Some(*v)
        }
        Err(_) => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_output_is_finite_or_a_typed_error(
        (o, vol) in domain(),
        steps in prop_oneof![Just(1_usize), Just(2), Just(51), Just(301), Just(2001)],
    ) {
        let european = finite_or_error("bsm price", &bsm::price(&o, vol));
        if let Ok(g) = bsm::greeks(&o, vol) {
            for x in [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho, g.dividend_rho] {
                prop_assert!(x.is_finite(), "bsm greeks {g:?}");
            }
        }
        if let Ok(g) = bsm::second_order_greeks(&o, vol) {
            for x in [g.vanna, g.volga, g.charm, g.speed, g.zomma, g.colour] {
                prop_assert!(x.is_finite(), "bsm second-order greeks {g:?}");
            }
        }
        let future = FuturesOption { right: o.right, forward: o.spot, strike: o.strike, years: o.years, rate: o.rate };
        if let Some(p) = finite_or_error("black76 price", &black76::price(&future, vol)) {
            finite_or_error("black76 implied vol", &black76::implied_vol(&future, p));
        }
        if let Ok(g) = black76::greeks(&future, vol) {
            prop_assert!(g.price.is_finite() && g.delta.is_finite() && g.theta.is_finite());
        }
        if let Some(p) = european {
            finite_or_error("bsm implied vol", &bsm::implied_vol(&o, p));
        }
        for model in [
            AmericanModel::BaroneAdesiWhaley,
            AmericanModel::BjerksundStensland2002,
            AmericanModel::Lattice { steps },
            AmericanModel::AndersenLakeOffengenden { scheme: american::alo::Scheme::Fast },
        ] {
            let american = finite_or_error("american price", &american::price(model, &o, vol));
            if let (Some(a), Some(e)) = (american, european) {
                // An American option is worth at least the European (to rounding).
                // A lattice may sit up to 1e-4 below it (its discretisation; see
                // `american::price`).
                let slack = if matches!(model, AmericanModel::Lattice { .. }) { 1e-4 } else { 1e-9 };
                prop_assert!(a >= e * (1.0 - slack) - 1e-12 * o.spot.max(o.strike), "{model:?}: american {a} < european {e}");
            }
            if let (Some(a), AmericanModel::BaroneAdesiWhaley) = (american, model) {
                finite_or_error(
                    "american implied vol",
                    &american::implied_vol_with(model, &o, a),
                );
            }
            if let (Some(a), AmericanModel::AndersenLakeOffengenden { .. }) = (american, model) {
                // The default search: the fixed-point method, the lattice outside its domain.
                finite_or_error("american implied vol", &american::implied_vol(&o, a));
            }
            if let Some(a) = american {
                // Upper bounds: the spot (call) or the strike (put), scaled by e^{−qT} or
                // e^{−rT} when those exceed 1.
                let bound = match o.right {
                    Call if o.spot > 0.0 => o.spot * (-o.dividend_yield * o.years).exp().max(1.0),
                    Put if o.strike > 0.0 => o.strike * (-o.rate * o.years).exp().max(1.0),
                    _ => 0.0,
                };
                prop_assert!(a <= bound * (1.0 + 1e-9), "{model:?}: {a} above {bound}");
            }
        }
        // The models' own entry points, not only `american::price`.
        finite_or_error("baw::price", &american::baw::price(&o, vol));
        finite_or_error("bjerksund_stensland::price", &american::bjerksund_stensland::price(&o, vol));
        finite_or_error("lattice::price", &american::lattice::price(&o, vol, steps));
        for model in [
            AmericanModel::BaroneAdesiWhaley,
            AmericanModel::BjerksundStensland2002,
            AmericanModel::Lattice { steps: 51 },
            AmericanModel::AndersenLakeOffengenden { scheme: american::alo::Scheme::Fast },
        ] {
            if let Ok(g) = american::greeks(model, &o, vol) {
                for x in [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho, g.dividend_rho] {
                    prop_assert!(x.is_finite(), "american greeks {g:?}");
                }
            }
        }
    }
}

/// Regression: with 2 001 steps and σ√T ≈ 8-13, S·dⁱ stayed in range but (u/d)ʲ overflowed
/// (0·∞ = NaN, reported as an overflow) before the log-space tree took over.
#[test]
fn a_fine_lattice_at_high_volatility_stays_finite() {
    for (years, vol) in [(0.25, 16.0), (1.0, 8.3), (1.0, 13.0)] {
        let o = vanilla(Call, 100.0, 100.0, years, 0.05, 0.02);
        let lower = best_european(&o, vol);
        let v = american::price(AmericanModel::Lattice { steps: 2001 }, &o, vol).unwrap();
        assert!(
            v >= lower - 1e-9 && v <= 100.0,
            "T={years} σ={vol}: {v} (floor {lower})"
        );
    }
}
