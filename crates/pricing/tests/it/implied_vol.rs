//! Implied volatility (`volta_pricing::implied`, `bsm::implied_vol`, `black76::implied_vol`):
//! high-precision references, round trips over the whole domain, every error path, the slice
//! API, and agreement with the `implied-vol` crate (a port of Jäckel's reference code).

use proptest::prelude::*;
use rstest::rstest;
use volta_pricing::batch::{self, QuoteInputs};
use volta_pricing::implied::{black_price, implied_black_volatility, normalised_black};
use volta_pricing::{ErrorCode, FuturesOption, OptionRight, PricingError, Vanilla, black76, bsm};

const CALL: OptionRight = OptionRight::Call;
const PUT: OptionRight = OptionRight::Put;
/// One hour in years (ACT/365).
const ONE_HOUR: f64 = 1.0 / (365.0 * 24.0);

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

/// The exact implied volatility of binary64 Black prices. Each price is the double nearest to
/// the Black price of (F, K, σ₀, T) and the reference is the root σ of Black(σ) = that double,
/// both computed with mpmath at 60 digits (`F*ncdf(d1) - K*ncdf(d2)`, `findroot`). They span
/// at-the-money, 5 and 10 standard deviations out of the money, prices down to 1e-80, one
/// hour to expiry, in-the-money and σ = 1.5.
#[rstest]
#[case(
    100.0,
    100.0,
    1.0,
    CALL,
    7.965567455405797,
    0.20000000000000001007,
    4e-16
)]
#[case(
    100.0,
    150.0,
    0.5,
    CALL,
    0.08050412276037483,
    0.24999999999999999949,
    2e-15
)]
#[case(
    100.0,
    40.0,
    0.25,
    PUT,
    7.413313844797936e-10,
    0.29999999999999998904,
    2e-15
)]
#[case(
    100.0,
    300.0,
    0.5,
    CALL,
    1.2120908076683852e-14,
    0.20000000000000001108,
    2e-15
)]
#[case(
    100.0,
    101.0,
    ONE_HOUR,
    CALL,
    2.8340663558867808e-80,
    0.050000000000000002776,
    2e-15
)]
#[case(100.0, 95.0, 1.0 / 52.0, CALL, 6.331016957855486, 0.59999999999999999716, 1e-14)]
#[case(
    100.0,
    2.0,
    2.0,
    PUT,
    0.24960157590375473,
    1.5000000000000000087,
    2e-15
)]
fn recovers_high_precision_reference_roots(
    #[case] forward: f64,
    #[case] strike: f64,
    #[case] years: f64,
    #[case] right: OptionRight,
    #[case] price: f64,
    #[case] want: f64,
    #[case] tol: f64,
) {
    let got = implied_black_volatility(price, forward, strike, years, right).unwrap();
    assert!(
        rel(got, want) <= tol,
        "σ = {got:e}, want {want:e}, rel {:e}",
        rel(got, want)
    );
}

/// Reference Black prices (the same mpmath computation) through `black_price`, including the
/// tail where F·Φ(d1) − K·Φ(d2) cancels completely in double precision. The tolerance is a few
/// ulp times the condition number ∂ln b/∂ln s ≈ h² = (ln(F/K)/σ√T)² of the price with respect
/// to the (rounded) total volatility σ√T: h ≈ −7.8 in the first case, −18.6 in the second.
#[rstest]
#[case(100.0, 300.0, 0.2, 0.5, CALL, 1.2120908076683852e-14, 2e-14)]
#[case(100.0, 101.0, 0.05, ONE_HOUR, CALL, 2.8340663558867808e-80, 1e-13)]
#[case(100.0, 40.0, 0.3, 0.25, PUT, 7.413313844797936e-10, 2e-15)]
#[case(100.0, 2.0, 1.5, 2.0, PUT, 0.24960157590375473, 2e-15)]
fn black_price_is_relative_accurate_in_the_tails(
    #[case] forward: f64,
    #[case] strike: f64,
    #[case] vol: f64,
    #[case] years: f64,
    #[case] right: OptionRight,
    #[case] want: f64,
    #[case] tol: f64,
) {
    let got = black_price(forward, strike, vol, years, right);
    assert!(rel(got, want) <= tol, "{got:e} vs {want:e}");
}

/// Hull, "Options, Futures and Other Derivatives", Example 15.6: S = 42, K = 40, r = 10 %,
/// T = 0.5, σ = 20 %: the call is worth 4.76 (4.7594 to four decimals), the put 0.81 (0.8086).
/// From the rounded textbook prices the volatility comes back to within what four decimals of
/// price determine; from our own prices it comes back exactly.
#[test]
fn hull_example_15_6_round_trip() {
    let call = Vanilla::try_new(CALL, 42.0, 40.0, 0.5, 0.10, 0.0).unwrap();
    let put = call.with_right(PUT);
    assert!((bsm::implied_vol(&call, 4.7594).unwrap() - 0.20).abs() < 2e-4);
    assert!((bsm::implied_vol(&put, 0.8086).unwrap() - 0.20).abs() < 2e-4);
    for option in [call, put] {
        let price = bsm::price(&option, 0.2).unwrap();
        assert!(rel(bsm::implied_vol(&option, price).unwrap(), 0.2) < 1e-14);
    }
}

/// Haug (2007), "The Complete Guide to Option Pricing Formulas", §1.1.5: Black-76 put with
/// F = 19, K = 19, T = 0.75, r = 10 %, σ = 28 % is worth 1.7011. The volatility comes back to
/// within the four published decimals, and exactly from our own price.
#[test]
fn haug_black76_round_trip() {
    let put = FuturesOption::try_new(PUT, 19.0, 19.0, 0.75, 0.10).unwrap();
    assert!((black76::implied_vol(&put, 1.7011).unwrap() - 0.28).abs() < 1e-4);
    let price = black76::price(&put, 0.28).unwrap();
    assert!(rel(black76::implied_vol(&put, price).unwrap(), 0.28) < 1e-14);
    // Call and put at the same strike have the same implied volatility (put-call parity).
    let call = put.with_right(CALL);
    let call_price = black76::price(&call, 0.28).unwrap();
    assert!(rel(black76::implied_vol(&call, call_price).unwrap(), 0.28) < 1e-14);
}

#[test]
fn price_at_the_lower_bound_has_zero_vol() {
    let call = Vanilla::try_new(CALL, 120.0, 100.0, 1.0, 0.05, 0.02).unwrap();
    let lower = (-0.05_f64).exp() * (call.forward() - 100.0);
    assert_eq!(bsm::implied_vol(&call, lower).unwrap(), 0.0);
    let otm_put = call.with_right(PUT);
    assert_eq!(bsm::implied_vol(&otm_put, 0.0).unwrap(), 0.0);
    assert_eq!(
        implied_black_volatility(0.0, 100.0, 120.0, 1.0, CALL).unwrap(),
        0.0
    );
    assert_eq!(
        implied_black_volatility(20.0, 120.0, 100.0, 1.0, CALL).unwrap(),
        0.0
    );
}

/// Issue 18: a price within rounding of the lower bound has the boundary answer. Deep
/// in-the-money, short-dated options priced by Volta itself came back as `PriceBelowLowerBound`
/// one ulp under the bound (put S = 58.2566, K = 77.4431, T = 0.0306, σ = 0.2146, q ≠ 0).
#[test]
fn a_price_within_rounding_under_the_lower_bound_has_zero_vol() {
    let put = Vanilla::try_new(PUT, 58.2566, 77.4431, 0.0306, 0.045, 0.013).unwrap();
    let lower = (-0.045_f64 * 0.0306).exp() * (77.4431 - put.forward());
    let under = f64::from_bits(lower.to_bits() - 1);
    assert!(under < lower);
    assert_eq!(bsm::implied_vol(&put, under).unwrap(), 0.0);
    // Further under, beyond 8 ulp of the strike: a real violation still names the bound.
    let far = lower - 64.0 * f64::EPSILON * 77.4431;
    assert!(matches!(
        bsm::implied_vol(&put, far),
        Err(PricingError::PriceBelowLowerBound { .. })
    ));
    // Volta's own prices of deep in-the-money short-dated options, over rates and carries:
    // every one has an implied volatility (the boundary one when the time value is lost).
    let mut checked = 0;
    for (i, (right, spot)) in [(PUT, 58.2566), (CALL, 98.1234)].into_iter().enumerate() {
        for step in 0..400 {
            let x = f64::from(step);
            let (rate, carry) = (0.001 + 0.0002 * x, 0.0001 * x);
            let years = 0.003 + 0.0001 * x;
            let strike = if i == 0 { 77.4431 } else { 71.77 };
            let option = Vanilla::try_new(right, spot, strike, years, rate, carry).unwrap();
            let price = bsm::price(&option, 0.2146).unwrap();
            let vol = bsm::implied_vol(&option, price).unwrap();
            assert!(vol.is_finite() && vol >= 0.0, "{option:?}: {vol}");
            checked += 1;
        }
    }
    assert_eq!(checked, 800);
}

/// The bounds are discounted and forward-based: e^{−rT}·max(θ(F − K), 0) below, e^{−qT}·S
/// (call) or e^{−rT}·K (put) above.
#[test]
fn prices_outside_the_no_arbitrage_bounds_name_the_bound() {
    let (r, q, t) = (0.05, 0.02, 2.0);
    let call = Vanilla::try_new(CALL, 120.0, 100.0, t, r, q).unwrap();
    let put = Vanilla::try_new(PUT, 80.0, 100.0, t, r, q).unwrap();
    let df = (-r * t).exp();
    let call_lower = df * (call.forward() - 100.0);
    match bsm::implied_vol(&call, call_lower * 0.999) {
        Err(PricingError::PriceBelowLowerBound { price, bound }) => {
            assert_eq!(price, call_lower * 0.999);
            assert!(rel(bound, call_lower) < 1e-15);
        }
        other => panic!("{other:?}"),
    }
    let call_upper = 120.0 * (-q * t).exp();
    for price in [call_upper, call_upper * 1.01] {
        match bsm::implied_vol(&call, price) {
            Err(PricingError::PriceAboveUpperBound { bound, .. }) => {
                assert!(rel(bound, call_upper) < 1e-15);
            }
            other => panic!("{other:?}"),
        }
    }
    let put_lower = df * (100.0 - put.forward());
    assert!(matches!(
        bsm::implied_vol(&put, put_lower - 1e-9),
        Err(PricingError::PriceBelowLowerBound { .. })
    ));
    match bsm::implied_vol(&put, 100.0 * df) {
        Err(PricingError::PriceAboveUpperBound { bound, .. }) => {
            assert!(rel(bound, 100.0 * df) < 1e-15);
        }
        other => panic!("{other:?}"),
    }
    // Undiscounted and Black-76 forms.
    assert!(matches!(
        implied_black_volatility(19.9, 120.0, 100.0, 1.0, CALL),
        Err(PricingError::PriceBelowLowerBound { price, bound }) if price == 19.9 && bound == 20.0
    ));
    assert!(matches!(
        implied_black_volatility(100.0, 120.0, 100.0, 1.0, PUT),
        Err(PricingError::PriceAboveUpperBound { bound, .. }) if bound == 100.0
    ));
    let fut = FuturesOption::try_new(CALL, 50.0, 40.0, 1.0, 0.1).unwrap();
    assert!(matches!(
        black76::implied_vol(&fut, 9.0),
        Err(PricingError::PriceBelowLowerBound { .. })
    ));
    assert!(matches!(
        black76::implied_vol(&fut, 50.0),
        Err(PricingError::PriceAboveUpperBound { .. })
    ));
}

#[rstest]
#[case(f64::NAN, "price")]
#[case(-1.0, "price")]
#[case(f64::INFINITY, "price")]
fn bad_prices_are_invalid_input(#[case] price: f64, #[case] name: &str) {
    let call = Vanilla::try_new(CALL, 100.0, 100.0, 1.0, 0.0, 0.0).unwrap();
    let fut = FuturesOption::try_new(CALL, 100.0, 100.0, 1.0, 0.0).unwrap();
    for err in [
        bsm::implied_vol(&call, price).unwrap_err(),
        black76::implied_vol(&fut, price).unwrap_err(),
        implied_black_volatility(price, 100.0, 100.0, 1.0, CALL).unwrap_err(),
    ] {
        assert!(
            matches!(err, PricingError::InvalidInput { name: n, .. } if n == name),
            "{err:?}"
        );
    }
}

#[rstest]
#[case("spot", Vanilla { spot: f64::NAN, ..base() })]
#[case("spot", Vanilla { spot: -1.0, ..base() })]
#[case("strike", Vanilla { strike: 0.0, ..base() })]
#[case("strike", Vanilla { strike: f64::INFINITY, ..base() })]
#[case("years", Vanilla { years: 0.0, ..base() })]
#[case("years", Vanilla { years: f64::NAN, ..base() })]
#[case("rate", Vanilla { rate: f64::NEG_INFINITY, ..base() })]
#[case("dividend_yield", Vanilla { dividend_yield: f64::NAN, ..base() })]
fn bad_option_terms_are_invalid_input(#[case] name: &str, #[case] option: Vanilla) {
    let err = bsm::implied_vol(&option, 5.0).unwrap_err();
    assert!(
        matches!(err, PricingError::InvalidInput { name: n, .. } if n == name),
        "{err:?}"
    );
}

fn base() -> Vanilla {
    Vanilla {
        right: CALL,
        spot: 100.0,
        strike: 100.0,
        years: 1.0,
        rate: 0.01,
        dividend_yield: 0.0,
    }
}

#[test]
fn bad_black_inputs_are_invalid_input() {
    let cases = [
        (
            "forward",
            implied_black_volatility(5.0, -100.0, 100.0, 1.0, CALL),
        ),
        (
            "strike",
            implied_black_volatility(5.0, 100.0, f64::NAN, 1.0, CALL),
        ),
        (
            "years",
            implied_black_volatility(5.0, 100.0, 100.0, 0.0, CALL),
        ),
        (
            "rate",
            black76::implied_vol(
                &FuturesOption {
                    right: PUT,
                    forward: 100.0,
                    strike: 90.0,
                    years: 1.0,
                    rate: f64::NAN,
                },
                5.0,
            ),
        ),
    ];
    for (name, result) in cases {
        assert!(
            matches!(result, Err(PricingError::InvalidInput { name: n, .. }) if n == name),
            "{name}: {result:?}"
        );
    }
}

/// Strategy for one BSM option: log-moneyness z·σ√T with z ∈ [−6, 6] standard deviations,
/// T from one hour to ten years (log-uniform), σ ∈ [0.01, 3], r ∈ [−5 %, 10 %], q ∈ [−2 %, 8 %].
fn bsm_case() -> impl Strategy<Value = (OptionRight, f64, f64, f64, f64, f64)> {
    (
        prop_oneof![Just(CALL), Just(PUT)],
        -6.0_f64..6.0,
        ONE_HOUR.ln()..10.0_f64.ln(),
        0.01_f64.ln()..3.0_f64.ln(),
        -0.05_f64..0.10,
        -0.02_f64..0.08,
    )
        .prop_map(|(right, z, ln_t, ln_vol, r, q)| (right, z, ln_t.exp(), ln_vol.exp(), r, q))
}

/// True where the price determines the volatility in double precision and is representable:
/// the skipped cases are prices below 1e-300 (underflow) and time values below 1e-14 of the
/// price (deep in the money, where the time value is lost in the price's last bits).
fn representable(price: f64, lower_bound: f64) -> bool {
    price >= 1e-300 && price - lower_bound >= 1e-14 * price
}

proptest! {
    #![proptest_config(ProptestConfig {
        max_global_rejects: 1_000_000,
        ..ProptestConfig::with_cases(3000)
    })]

    /// Round trip through the accurate Black price with discounting and carry: the repriced
    /// option matches to 1e-12 relative, and the volatility comes back to 1e-12 relative
    /// wherever the price-to-volatility condition number P/(σ·vega) is at most 100.
    #[test]
    fn bsm_round_trip_over_the_domain((right, z, years, vol, r, q) in bsm_case()) {
        let spot = 100.0;
        let strike = spot * ((r - q) * years).exp() * (z * vol * years.sqrt()).exp();
        let option = Vanilla::try_new(right, spot, strike, years, r, q).unwrap();
        let df = (-r * years).exp();
        let forward = option.forward();
        let price = df * black_price(forward, strike, vol, years, right);
        let lower = df * right.intrinsic(forward, strike);
        prop_assume!(representable(price, lower));
        let iv = bsm::implied_vol(&option, price).unwrap();
        let repriced = df * black_price(forward, strike, iv, years, right);
        prop_assert!(rel(repriced, price) <= 1e-12, "price {price:e} repriced {repriced:e} iv {iv}");
        let vega = bsm::greeks(&option, vol).unwrap().vega;
        if price / (vol * vega) <= 100.0 {
            prop_assert!(rel(iv, vol) <= 1e-12, "iv {iv} vol {vol}");
        }
    }

    /// The same through `bsm::price` (the generalised Black-Scholes kernel) within ±3 standard
    /// deviations. That kernel's Φ-difference formula has an absolute error of a few ulp of the
    /// spot, so the tolerance is 1e-12 relative plus 8ε·S/P.
    #[test]
    fn round_trip_through_bsm_price((right, z, years, vol, r, q) in bsm_case()) {
        // z ∈ [−6, 6] halved: ±3 standard deviations.
        let strike = 100.0 * ((r - q) * years).exp() * (0.5 * z * vol * years.sqrt()).exp();
        let option = Vanilla::try_new(right, 100.0, strike, years, r, q).unwrap();
        let price = bsm::price(&option, vol).unwrap();
        let lower = (-r * years).exp() * right.intrinsic(option.forward(), strike);
        prop_assume!(representable(price, lower) && price - lower >= 1e-10 * price);
        let iv = bsm::implied_vol(&option, price).unwrap();
        let repriced = bsm::price(&option, iv).unwrap();
        let tol = 1e-12 + 8.0 * f64::EPSILON * 100.0 / price;
        prop_assert!(rel(repriced, price) <= tol, "price {price:e} repriced {repriced:e}");
    }

    /// Agreement with the `implied-vol` crate (Jäckel's reference algorithm) on the
    /// undiscounted Black problem, where the price determines the volatility well.
    #[test]
    fn agrees_with_the_implied_vol_crate((right, z, years, vol, _r, _q) in bsm_case()) {
        let (forward, strike) = (100.0, 100.0 * (z * vol * years.sqrt()).exp());
        let price = black_price(forward, strike, vol, years, right);
        let lower = right.intrinsic(forward, strike);
        prop_assume!(representable(price, lower) && price - lower >= 1e-8 * price);
        let ours = implied_black_volatility(price, forward, strike, years, right).unwrap();
        let theirs = implied_vol::ImpliedBlackVolatility::builder()
            .option_price(price)
            .forward(forward)
            .strike(strike)
            .expiry(years)
            .is_call(right == CALL)
            .build()
            .and_then(|iv| iv.calculate::<implied_vol::DefaultSpecialFn>())
            .unwrap();
        // Both solvers are exact to a few ulp in price; in volatility that is scaled by the
        // condition number P/(σ·vega).
        let at_forward = Vanilla::try_new(right, forward, strike, years, 0.0, 0.0).unwrap();
        let condition = price / (vol * bsm::greeks(&at_forward, vol).unwrap().vega);
        let tol = 1e-14 * condition.max(1.0);
        prop_assert!(rel(ours, theirs) <= tol, "ours {ours} theirs {theirs} tol {tol:e}");
    }

    /// The normalised Black function is increasing in s and satisfies put-call parity.
    #[test]
    fn normalised_black_is_monotone_with_parity(x in -20.0_f64..20.0, s in 0.001_f64..10.0) {
        let call = normalised_black(x, s, CALL);
        let put = normalised_black(x, s, PUT);
        let parity = 2.0 * (0.5 * x).sinh();
        // A few ulp of the larger of the two prices (the intrinsic part dominates the ITM one).
        prop_assert!((call - put - parity).abs() <= 8.0 * f64::EPSILON * call.max(put).max(1.0));
        prop_assert!(normalised_black(x, s * 1.01, CALL) >= call);
    }
}

#[test]
fn slice_api_matches_the_scalar_api_and_flags_bad_rows() {
    let rights = [CALL, PUT, CALL, PUT, CALL, CALL];
    let spots = [100.0, 100.0, f64::NAN, 100.0, 100.0, 100.0];
    let strikes = [110.0, 90.0, 100.0, 100.0, 100.0, 100.0];
    let years = [0.5, 2.0, 1.0, 1.0, 1.0, 1.0];
    let rates = [0.03, -0.01, 0.0, 0.0, 0.0, 0.0];
    let yields = [0.01, 0.02, 0.0, 0.0, 0.0, 0.0];
    let mut prices = [0.0, 0.0, 5.0, 200.0, -1.0, 0.0];
    for i in 0..2 {
        let option = Vanilla::try_new(
            rights[i], spots[i], strikes[i], years[i], rates[i], yields[i],
        )
        .unwrap();
        prices[i] = bsm::price(&option, 0.3).unwrap();
    }
    let mut vols = [0.0; 6];
    let mut codes = [ErrorCode::Ok; 6];
    let quotes = QuoteInputs {
        rights: &rights,
        spots: &spots,
        strikes: &strikes,
        years: &years,
        rates: &rates,
        dividend_yields: &yields,
        prices: &prices,
    };
    batch::bsm_implied_vols_into(&quotes, &mut vols, &mut codes).unwrap();
    assert!(rel(vols[0], 0.3) < 1e-14 && rel(vols[1], 0.3) < 1e-14);
    assert_eq!(codes[..2], [ErrorCode::Ok; 2]);
    let expected = [
        ErrorCode::InvalidSpot,
        ErrorCode::PriceAboveUpperBound,
        ErrorCode::InvalidPrice,
    ];
    assert_eq!(codes[2..5], expected);
    assert!(vols[2..5].iter().all(|v| v.is_nan()));
    // Zero price of an at-the-money call: at the lower bound, volatility 0.
    assert_eq!((vols[5], codes[5]), (0.0, ErrorCode::Ok));
    #[cfg(feature = "rayon")]
    {
        let mut par_vols = [0.0; 6];
        let mut par_codes = [ErrorCode::Ok; 6];
        batch::par_bsm_implied_vols_into(&quotes, &mut par_vols, &mut par_codes).unwrap();
        assert_eq!(par_codes, codes);
        assert!(
            par_vols
                .iter()
                .zip(vols)
                .all(|(a, b)| a == &b || (a.is_nan() && b.is_nan()))
        );
    }
}
