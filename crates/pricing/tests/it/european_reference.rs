//! European options against published values: Haug's tables (as reproduced, digit for digit,
//! in `QuantLib`'s `test-suite/europeanoption.cpp`, `testValues` and `testGreekValues`) and
//! Hull's worked examples; then the trader's unit helpers and the rejection of bad inputs.
//!
//! Sources:
//! - [Haug] E. G. Haug, "The Complete Guide to Option Pricing Formulas" (McGraw-Hill; the 1998
//!   first edition's pages as `QuantLib` cites them: "pag 2-8", "pag 24", "pag 27", "pag 11-16").
//! - [QL] `QuantLib` `test-suite/europeanoption.cpp` (lballabio/`QuantLib`), which checks the same
//!   numbers with the same 1e-4 absolute tolerance. `QuantLib`'s units are ours: theta per year
//!   (`thetaPerDay` = theta / 365), vega per 1.00 of volatility, rho and dividend rho per 1.00.
//!   Its maturities are whole days on Actual/360 (`t*360 + 0.5` days): every T below is an exact
//!   number of such days, so the published T is the T priced.
//! - [Hull] J. C. Hull, "Options, Futures, and Other Derivatives", 8th edition: the
//!   Black-Scholes-Merton examples (ch. 15 and 17), Black's model for futures options (ch. 18)
//!   and the greek letters of an index put (ch. 19), all quoted to the digits Hull prints.

use rstest::rstest;
use volta_pricing::{FuturesOption, OptionRight, PricingError, Vanilla, black76, bsm};

use OptionRight::{Call, Put};

/// `QuantLib`'s tolerance for Haug's four-decimal values.
const HAUG_TOL: f64 = 1e-4;

fn vanilla(right: OptionRight, spot: f64, strike: f64, q: f64, r: f64, t: f64) -> Vanilla {
    Vanilla::try_new(right, spot, strike, t, r, q).expect("published inputs are valid")
}

fn assert_close(what: &str, computed: f64, expected: f64, tol: f64) {
    assert!(
        (computed - expected).abs() <= tol,
        "{what}: computed {computed}, published {expected}, |diff| {} > {tol}",
        (computed - expected).abs()
    );
}

// ---------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------

/// [QL] `testValues`: Haug's European values. Columns as in `QuantLib`:
/// type, strike, spot, q, r, t, vol, value.
#[rstest]
// Haug pag 2-8.
#[case((Call, 65.00, 60.00, 0.00, 0.08, 0.25, 0.30, 2.1334))]
#[case((Put, 95.00, 100.00, 0.05, 0.10, 0.50, 0.20, 2.4648))]
#[case((Put, 19.00, 19.00, 0.10, 0.10, 0.75, 0.28, 1.7011))]
#[case((Call, 19.00, 19.00, 0.10, 0.10, 0.75, 0.28, 1.7011))]
#[case((Call, 1.60, 1.56, 0.08, 0.06, 0.50, 0.12, 0.0291))]
#[case((Put, 70.00, 75.00, 0.05, 0.10, 0.50, 0.35, 4.0870))]
// Haug pag 24.
#[case((Call, 100.00, 90.00, 0.10, 0.10, 0.10, 0.15, 0.0205))]
#[case((Call, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15, 1.8734))]
#[case((Call, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15, 9.9413))]
#[case((Call, 100.00, 90.00, 0.10, 0.10, 0.10, 0.25, 0.3150))]
#[case((Call, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25, 3.1217))]
#[case((Call, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 10.3556))]
#[case((Call, 100.00, 90.00, 0.10, 0.10, 0.10, 0.35, 0.9474))]
#[case((Call, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35, 4.3693))]
#[case((Call, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 11.1381))]
#[case((Call, 100.00, 90.00, 0.10, 0.10, 0.50, 0.15, 0.8069))]
#[case((Call, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15, 4.0232))]
#[case((Call, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 10.5769))]
#[case((Call, 100.00, 90.00, 0.10, 0.10, 0.50, 0.25, 2.7026))]
#[case((Call, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25, 6.6997))]
#[case((Call, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 12.7857))]
#[case((Call, 100.00, 90.00, 0.10, 0.10, 0.50, 0.35, 4.9329))]
#[case((Call, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35, 9.3679))]
#[case((Call, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 15.3086))]
#[case((Put, 100.00, 90.00, 0.10, 0.10, 0.10, 0.15, 9.9210))]
#[case((Put, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15, 1.8734))]
#[case((Put, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15, 0.0408))]
#[case((Put, 100.00, 90.00, 0.10, 0.10, 0.10, 0.25, 10.2155))]
#[case((Put, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25, 3.1217))]
#[case((Put, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 0.4551))]
#[case((Put, 100.00, 90.00, 0.10, 0.10, 0.10, 0.35, 10.8479))]
#[case((Put, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35, 4.3693))]
#[case((Put, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 1.2376))]
#[case((Put, 100.00, 90.00, 0.10, 0.10, 0.50, 0.15, 10.3192))]
#[case((Put, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15, 4.0232))]
#[case((Put, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 1.0646))]
#[case((Put, 100.00, 90.00, 0.10, 0.10, 0.50, 0.25, 12.2149))]
#[case((Put, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25, 6.6997))]
#[case((Put, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 3.2734))]
#[case((Put, 100.00, 90.00, 0.10, 0.10, 0.50, 0.35, 14.4452))]
#[case((Put, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35, 9.3679))]
#[case((Put, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 5.7963))]
// Haug pag 27.
#[case((Call, 40.00, 42.00, 0.08, 0.04, 0.75, 0.35, 5.0975))]
fn bsm_price_matches_haug(#[case] row: (OptionRight, f64, f64, f64, f64, f64, f64, f64)) {
    let (right, strike, spot, q, r, t, vol, value) = row;
    let option = vanilla(right, spot, strike, q, r, t);
    assert_close(
        "bsm price",
        bsm::price(&option, vol).unwrap(),
        value,
        HAUG_TOL,
    );
    // The one-pass greeks carry the same price, bit for bit.
    assert_eq!(
        bsm::greeks(&option, vol).unwrap().price,
        bsm::price(&option, vol).unwrap()
    );
}

/// Black-76: [Haug] pag 2-8 and pag 24 are options on futures, which `QuantLib`'s table encodes as
/// BSM with q = r (cost of carry b = 0, spot = futures price). Here they go through Black-76
/// itself with forward = the published futures price. The first two rows are Haug's Black-76
/// example: F = 19, K = 19, T = 0.75, r = 10 %, σ = 28 % → call = put = 1.7011.
#[rstest]
#[case(Put, 19.00, 19.00, 0.10, 0.75, 0.28, 1.7011)]
#[case(Call, 19.00, 19.00, 0.10, 0.75, 0.28, 1.7011)]
#[case(Call, 100.00, 90.00, 0.10, 0.10, 0.15, 0.0205)]
#[case(Call, 100.00, 100.00, 0.10, 0.10, 0.25, 3.1217)]
#[case(Call, 100.00, 110.00, 0.10, 0.10, 0.35, 11.1381)]
#[case(Call, 100.00, 90.00, 0.10, 0.50, 0.35, 4.9329)]
#[case(Call, 100.00, 110.00, 0.10, 0.50, 0.15, 10.5769)]
#[case(Put, 100.00, 90.00, 0.10, 0.10, 0.15, 9.9210)]
#[case(Put, 100.00, 110.00, 0.10, 0.10, 0.15, 0.0408)]
#[case(Put, 100.00, 100.00, 0.10, 0.50, 0.25, 6.6997)]
#[case(Put, 100.00, 90.00, 0.10, 0.50, 0.35, 14.4452)]
#[case(Put, 100.00, 110.00, 0.10, 0.50, 0.35, 5.7963)]
fn black76_price_matches_haug(
    #[case] right: OptionRight,
    #[case] strike: f64,
    #[case] forward: f64,
    #[case] r: f64,
    #[case] t: f64,
    #[case] vol: f64,
    #[case] value: f64,
) {
    let option = FuturesOption::try_new(right, forward, strike, t, r).unwrap();
    assert_close(
        "black76 price",
        black76::price(&option, vol).unwrap(),
        value,
        HAUG_TOL,
    );
}

/// [Hull] prices, at the precision Hull prints (tolerance: half a unit of the last digit).
#[rstest]
// Ch. 15, S = 42, K = 40, r = 10 %, σ = 20 %, six months: c = 4.76, p = 0.81.
#[case((Call, 42.0, 40.0, 0.0, 0.10, 0.5, 0.20, 4.76, 0.005))]
#[case((Put, 42.0, 40.0, 0.0, 0.10, 0.5, 0.20, 0.81, 0.005))]
// Ch. 17, a two-month call on an index at 930, strike 900, r = 8 %, σ = 20 %, dividend
// yield 3 %: c = 51.83.
#[case((Call, 930.0, 900.0, 0.03, 0.08, 2.0 / 12.0, 0.20, 51.83, 0.005))]
fn bsm_price_matches_hull(#[case] row: (OptionRight, f64, f64, f64, f64, f64, f64, f64, f64)) {
    let (right, spot, strike, q, r, t, vol, value, tol) = row;
    let option = vanilla(right, spot, strike, q, r, t);
    assert_close("bsm price", bsm::price(&option, vol).unwrap(), value, tol);
}

/// [Hull] ch. 18, Black's model for futures options: a four-month European put on a futures
/// price of 20, strike 20, r = 9 %, σ = 25 %: p = 1.12.
#[test]
fn black76_price_matches_hull() {
    let put = FuturesOption::try_new(Put, 20.0, 20.0, 4.0 / 12.0, 0.09).unwrap();
    assert_close(
        "black76 put",
        black76::price(&put, 0.25).unwrap(),
        1.12,
        0.005,
    );
}

// ---------------------------------------------------------------------------------------------
// Greeks
// ---------------------------------------------------------------------------------------------

/// Which first-order greek a table row checks.
#[derive(Debug, Clone, Copy)]
enum Greek {
    Delta,
    Gamma,
    Vega,
    Theta,
    Rho,
    DividendRho,
    /// Δ·S/V, `QuantLib`'s `elasticity`.
    Elasticity,
    ThetaPerDay,
    VegaPerVolPoint,
    RhoPerRatePoint,
    DividendRhoPerPoint,
}

fn pick(g: &volta_pricing::Greeks, which: Greek, underlying: f64) -> f64 {
    match which {
        Greek::Delta => g.delta,
        Greek::Gamma => g.gamma,
        Greek::Vega => g.vega,
        Greek::Theta => g.theta,
        Greek::Rho => g.rho,
        Greek::DividendRho => g.dividend_rho,
        Greek::Elasticity => g.delta * underlying / g.price,
        Greek::ThetaPerDay => g.theta_per_calendar_day(),
        Greek::VegaPerVolPoint => g.vega_per_vol_point(),
        Greek::RhoPerRatePoint => g.rho_per_rate_point(),
        Greek::DividendRhoPerPoint => g.dividend_rho_per_point(),
    }
}

/// Greeks with a dividend yield and r ≠ q (q = 0 or q = r hides carry bugs in delta, theta and
/// the rhos).
///
/// [QL] `testGreekValues` (Haug pag 11-16) rows with q ≠ 0, r ≠ q: the theta and dividend rho
/// examples. [Hull] ch. 19: a four-month put on an index at 305, strike 300, q = 3 %, r = 8 %,
/// σ = 25 %: Γ = 0.00857, Θ = −18.15 per year (−0.0497 per calendar day), vega = 66.44
/// (0.6644 per vol point), ρ = −42.57 (−0.4257 per rate point). Tolerance: half a unit of the
/// last printed digit, except vega and rho, which Hull truncates rather than rounds (exact
/// values 66.4479 and −42.5792): one unit of the last digit. Delta with q ≠ 0 and b ≠ r is
/// Haug's futures-option example in `black76_greek_matches_haug`.
#[rstest]
// Haug pag 11-16 via [QL]: type, strike, spot, q, r, t, vol, value, tolerance.
#[case::haug_theta((Greek::Theta, Put, 405.0, 430.0, 0.05, 0.07, 1.0 / 12.0, 0.20, -31.1924, HAUG_TOL))]
#[case::haug_theta_per_day((Greek::ThetaPerDay, Put, 405.0, 430.0, 0.05, 0.07, 1.0 / 12.0, 0.20, -0.0855, HAUG_TOL))]
#[case::haug_dividend_rho((Greek::DividendRho, Put, 490.0, 500.0, 0.05, 0.08, 0.25, 0.15, 42.2254, HAUG_TOL))]
// The same number per point of yield: 42.2254 / 100.
#[case::haug_dividend_rho_per_point((Greek::DividendRhoPerPoint, Put, 490.0, 500.0, 0.05, 0.08, 0.25, 0.15, 0.422254, 1e-6))]
#[case::hull_gamma((Greek::Gamma, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, 0.00857, 5e-6))]
#[case::hull_theta((Greek::Theta, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, -18.15, 5e-3))]
#[case::hull_theta_per_day((Greek::ThetaPerDay, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, -0.0497, 5e-5))]
#[case::hull_vega((Greek::Vega, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, 66.44, 1e-2))]
#[case::hull_vega_per_point((Greek::VegaPerVolPoint, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, 0.6644, 1e-4))]
#[case::hull_rho((Greek::Rho, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, -42.57, 1e-2))]
#[case::hull_rho_per_point((Greek::RhoPerRatePoint, Put, 300.0, 305.0, 0.03, 0.08, 4.0 / 12.0, 0.25, -0.4257, 1e-4))]
fn bsm_greek_matches_reference(
    #[case] row: (Greek, OptionRight, f64, f64, f64, f64, f64, f64, f64, f64),
) {
    let (which, right, strike, spot, q, r, t, vol, value, tol) = row;
    assert!(
        q != 0.0 && q != r,
        "greek references must have a yield with r ≠ q"
    );
    let option = vanilla(right, spot, strike, q, r, t);
    let g = bsm::greeks(&option, vol).unwrap();
    assert_close(&format!("{which:?}"), pick(&g, which, spot), value, tol);
}

/// The remaining rows of [QL] `testGreekValues` (Haug pag 11-16), kept because they are the
/// published numbers, although Haug chose q = 0 (gamma, vega, rho) for them. Every one of these
/// greeks is also checked with q ≠ 0, r ≠ q above.
#[rstest]
#[case::haug_gamma_call((Greek::Gamma, Call, 60.0, 55.0, 0.0, 0.10, 0.75, 0.30, 0.0278))]
#[case::haug_gamma_put((Greek::Gamma, Put, 60.0, 55.0, 0.0, 0.10, 0.75, 0.30, 0.0278))]
#[case::haug_vega_call((Greek::Vega, Call, 60.0, 55.0, 0.0, 0.10, 0.75, 0.30, 18.9358))]
#[case::haug_vega_put((Greek::Vega, Put, 60.0, 55.0, 0.0, 0.10, 0.75, 0.30, 18.9358))]
#[case::haug_rho_call((Greek::Rho, Call, 75.0, 72.0, 0.0, 0.09, 1.0, 0.19, 38.7325))]
fn bsm_greek_matches_haug_without_yield(
    #[case] row: (Greek, OptionRight, f64, f64, f64, f64, f64, f64, f64),
) {
    let (which, right, strike, spot, q, r, t, vol, value) = row;
    let option = vanilla(right, spot, strike, q, r, t);
    let g = bsm::greeks(&option, vol).unwrap();
    assert_close(
        &format!("{which:?}"),
        pick(&g, which, spot),
        value,
        HAUG_TOL,
    );
}

/// [QL] `testGreekValues`, Haug pag 11-16: the delta and elasticity examples are a futures
/// option (`QuantLib` encodes them as q = r = 10 %, i.e. b = 0 ≠ r): F = 105, K = 100, T = 0.5,
/// r = 10 %, σ = 36 %. Under Black-76 delta is per 1.0 of the futures price.
#[rstest]
#[case::delta_call(Greek::Delta, Call, 0.5946)]
#[case::delta_put(Greek::Delta, Put, -0.3566)]
#[case::elasticity_put(Greek::Elasticity, Put, -4.8775)]
fn black76_greek_matches_haug(
    #[case] which: Greek,
    #[case] right: OptionRight,
    #[case] value: f64,
) {
    let option = FuturesOption::try_new(right, 105.0, 100.0, 0.5, 0.10).unwrap();
    let g = black76::greeks(&option, 0.36).unwrap();
    assert_close(
        &format!("{which:?}"),
        pick(&g, which, option.forward),
        value,
        HAUG_TOL,
    );
    // QuantLib's encoding (BSM, q = r) gives the same delta: e^{-qT} = e^{-rT}.
    let as_bsm = vanilla(right, 105.0, 100.0, 0.10, 0.10, 0.5);
    let b = bsm::greeks(&as_bsm, 0.36).unwrap();
    assert_close("bsm delta, q = r", b.delta, g.delta, 1e-15);
}

/// Black-76 greeks of Haug's futures option F = K = 19, T = 0.75, r = 10 %, σ = 28 % (price
/// 1.7011, [Haug] pag 2-8). Black-76 holds the forward fixed, so rho is −T·V (Haug 2007,
/// §1.1.5: the option's only rate dependence is its discount factor), and theta is
/// −∂V/∂T = r·V − ½ e^{−rT} F φ(d1) σ/√T; at the money call and put share every greek except
/// delta, whose difference is the discount factor (put-call parity for futures options).
#[test]
fn black76_greeks_of_haug_example() {
    let call = FuturesOption::try_new(Call, 19.0, 19.0, 0.75, 0.10).unwrap();
    let put = call.with_right(Put);
    let (c, p) = (
        black76::greeks(&call, 0.28).unwrap(),
        black76::greeks(&put, 0.28).unwrap(),
    );
    assert_close("call", c.price, 1.7011, HAUG_TOL);
    assert_close("rho = -T V", c.rho, -0.75 * 1.7011, 0.75 * HAUG_TOL);
    assert_close("rho call = rho put", c.rho, p.rho, 1e-14);
    assert_close("gamma", c.gamma, p.gamma, 1e-15);
    assert_close("vega", c.vega, p.vega, 1e-14);
    assert_close("theta", c.theta, p.theta, 1e-14);
    assert_close(
        "delta parity",
        c.delta - p.delta,
        (-0.10_f64 * 0.75).exp(),
        1e-15,
    );
    assert_eq!((c.dividend_rho, p.dividend_rho), (0.0, 0.0));
}

// ---------------------------------------------------------------------------------------------
// Bad input: InvalidInput naming the field, never a panic.
// ---------------------------------------------------------------------------------------------

const NON_FINITE: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn assert_invalid<T: std::fmt::Debug>(result: volta_pricing::Result<T>, field: &str, value: f64) {
    match result {
        Err(PricingError::InvalidInput {
            name, value: got, ..
        }) => {
            assert_eq!(name, field, "wrong field named for {field} = {value}");
            assert!(
                got.to_bits() == value.to_bits(),
                "{field}: reported {got}, passed {value}"
            );
        }
        other => panic!("{field} = {value}: expected InvalidInput, got {other:?}"),
    }
}

/// Every entry point of both models, for one set of terms and a volatility.
fn check_all_bsm(option: &Vanilla, vol: f64, field: &str, value: f64) {
    assert_invalid(bsm::price(option, vol), field, value);
    assert_invalid(bsm::greeks(option, vol), field, value);
    assert_invalid(bsm::second_order_greeks(option, vol), field, value);
}

fn check_all_black76(option: &FuturesOption, vol: f64, field: &str, value: f64) {
    assert_invalid(black76::price(option, vol), field, value);
    assert_invalid(black76::greeks(option, vol), field, value);
    assert_invalid(black76::second_order_greeks(option, vol), field, value);
}

#[rstest]
#[case::spot("spot")]
#[case::strike("strike")]
#[case::years("years")]
#[case::rate("rate")]
#[case::dividend_yield("dividend_yield")]
#[case::vol("vol")]
fn bsm_rejects_bad_input(#[case] field: &str) {
    let good = vanilla(Call, 100.0, 100.0, 0.02, 0.05, 1.0);
    // Rates and yields may be negative; the other fields may not.
    let negative_allowed = matches!(field, "rate" | "dividend_yield");
    let mut bad_values = NON_FINITE.to_vec();
    if !negative_allowed {
        bad_values.push(-1.0);
    }
    for value in bad_values {
        let mut option = good;
        let mut vol = 0.2;
        match field {
            "spot" => option.spot = value,
            "strike" => option.strike = value,
            "years" => option.years = value,
            "rate" => option.rate = value,
            "dividend_yield" => option.dividend_yield = value,
            "vol" => vol = value,
            _ => unreachable!(),
        }
        check_all_bsm(&option, vol, field, value);
        if field != "vol" {
            let built = Vanilla::try_new(
                option.right,
                option.spot,
                option.strike,
                option.years,
                option.rate,
                option.dividend_yield,
            );
            assert_invalid(built, field, value);
        }
    }
    if negative_allowed {
        let mut option = good;
        match field {
            "rate" => option.rate = -0.01,
            _ => option.dividend_yield = -0.01,
        }
        assert!(bsm::greeks(&option, 0.2).unwrap().price > 0.0);
    }
}

#[rstest]
#[case::forward("forward")]
#[case::strike("strike")]
#[case::years("years")]
#[case::rate("rate")]
#[case::vol("vol")]
fn black76_rejects_bad_input(#[case] field: &str) {
    let good = FuturesOption::try_new(Put, 100.0, 100.0, 1.0, 0.05).unwrap();
    let mut bad_values = NON_FINITE.to_vec();
    if field != "rate" {
        bad_values.push(-1.0);
    }
    for value in bad_values {
        let mut option = good;
        let mut vol = 0.2;
        match field {
            "forward" => option.forward = value,
            "strike" => option.strike = value,
            "years" => option.years = value,
            "rate" => option.rate = value,
            "vol" => vol = value,
            _ => unreachable!(),
        }
        check_all_black76(&option, vol, field, value);
        if field != "vol" {
            let built = FuturesOption::try_new(
                option.right,
                option.forward,
                option.strike,
                option.years,
                option.rate,
            );
            assert_invalid(built, field, value);
        }
    }
}

/// The edges of the domain are valid and finite: expiry (T = 0), zero volatility, and extreme
/// but finite inputs return numbers, not errors or NaN.
#[rstest]
#[case::expired(100.0, 90.0, 0.0, 0.2)]
#[case::zero_vol(100.0, 90.0, 1.0, 0.0)]
#[case::huge_vol(100.0, 90.0, 1.0, 50.0)]
#[case::tiny_spot(1e-300, 90.0, 1.0, 0.2)]
#[case::huge_spot(1e300, 90.0, 1.0, 0.2)]
#[case::long_dated(100.0, 90.0, 1e4, 0.2)]
fn edges_are_finite(#[case] spot: f64, #[case] strike: f64, #[case] t: f64, #[case] vol: f64) {
    for right in [Call, Put] {
        let option = vanilla(right, spot, strike, 0.02, 0.05, t);
        let g = bsm::greeks(&option, vol).unwrap();
        let s = bsm::second_order_greeks(&option, vol).unwrap();
        let all = [
            g.price,
            g.delta,
            g.gamma,
            g.vega,
            g.theta,
            g.rho,
            g.dividend_rho,
            s.vanna,
            s.volga,
            s.charm,
            s.speed,
            s.zomma,
            s.colour,
        ];
        assert!(
            all.iter().all(|x| x.is_finite()),
            "{right:?} {spot} {t} {vol}: {g:?} {s:?}"
        );
        assert!(g.price >= 0.0);
    }
}
