//! The `serde` feature: inputs and outputs round-trip through JSON with readable names.

use volta_pricing::american::AmericanModel;
use volta_pricing::{ErrorCode, Greeks, OptionRight, Vanilla, bsm};

#[test]
fn inputs_and_outputs_round_trip_through_json() {
    let option = Vanilla {
        right: OptionRight::Put,
        spot: 100.0,
        strike: 95.0,
        years: 0.5,
        rate: 0.10,
        dividend_yield: 0.05,
    };
    let text = serde_json::to_string(&option).unwrap();
    assert_eq!(
        text,
        r#"{"right":"put","spot":100.0,"strike":95.0,"years":0.5,"rate":0.1,"dividend_yield":0.05}"#
    );
    assert_eq!(serde_json::from_str::<Vanilla>(&text).unwrap(), option);
    let greeks = bsm::greeks(&option, 0.2).unwrap();
    let back: Greeks = serde_json::from_str(&serde_json::to_string(&greeks).unwrap()).unwrap();
    assert_eq!(back, greeks);
    assert_eq!(
        serde_json::to_string(&ErrorCode::PriceBelowLowerBound).unwrap(),
        r#""price_below_lower_bound""#
    );
    let model: AmericanModel = serde_json::from_str(r#"{"lattice":{"steps":501}}"#).unwrap();
    assert_eq!(model, AmericanModel::Lattice { steps: 501 });
}
