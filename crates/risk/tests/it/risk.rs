//! The risk manager's limits, sizing and kill switch, computed by hand.

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
use volta_core::{Money, Regime};
use volta_risk::{
    Decision, DollarGreeks, KillSwitchEvent, OpenRisk, Portfolio, Proposal, RejectReason,
    RiskConfig, RiskError, RiskManager,
};

fn at(d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 2, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

fn money(s: &str) -> Money {
    s.parse().unwrap()
}

/// A SPY put credit spread `width` wide for `credit`, `quantity` spreads.
fn put_spread(width: u32, credit: &str, quantity: u32) -> ComboOrder {
    let short = 400;
    let legs = vec![
        Leg::option(
            format!("SPY   250321P00{short}000").parse().unwrap(),
            LegAction::Sell,
            1,
        )
        .unwrap(),
        Leg::option(
            format!("SPY   250321P00{:03}000", short - width)
                .parse()
                .unwrap(),
            LegAction::Buy,
            1,
        )
        .unwrap(),
    ];
    ComboOrder::new(
        legs,
        ComboSide::Buy,
        quantity,
        format!("-{credit}").parse().unwrap(),
    )
    .unwrap()
}

fn proposal(order: ComboOrder, regime: Regime) -> Proposal {
    Proposal {
        at: at(20, 15),
        strategy: "iv_rank".to_owned(),
        order,
        unit_greeks: DollarGreeks {
            dollar_delta: 6_000.0,
            vega_per_point: -8.0,
        },
        regime: Some(regime),
    }
}

fn portfolio(equity: &str, open: Vec<OpenRisk>) -> Portfolio {
    Portfolio {
        equity: money(equity),
        open,
    }
}

fn open_risk(underlying: &str, max_loss: &str) -> OpenRisk {
    OpenRisk {
        underlying: underlying.parse().unwrap(),
        strategy: "iv_rank".to_owned(),
        max_loss: money(max_loss),
        greeks: DollarGreeks::default(),
    }
}

fn approved_quantity(decision: &Decision) -> u32 {
    match decision {
        Decision::Approved { order, .. } => order.quantity(),
        Decision::Rejected(r) => panic!("rejected: {r}"),
    }
}

fn reason(decision: Decision) -> RejectReason {
    match decision {
        Decision::Rejected(r) => r,
        Decision::Approved { order, .. } => panic!("approved {order}"),
    }
}

#[test]
fn sizing_by_worst_loss_and_regime() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    let book = portfolio("100000", vec![]);
    // 2 % of 100k = 2,000; a 10-wide spread for 1.50 risks 850: two spreads.
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &book,
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 2);
    let Decision::Approved { buying_power, .. } = d else {
        unreachable!()
    };
    assert_eq!(buying_power, money("1700")); // (10 − 1.50) × 100 × 2, Reg-T
    // High volatility halves the budget: 1,000 → one spread.
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 10), Regime::HighVol),
            &book,
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    // The strategy's own quantity is a ceiling.
    let d = risk
        .check(&proposal(put_spread(10, "1.50", 1), Regime::LowVol), &book)
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    // A 50-wide spread risks 4,850 per unit, over the 2,000 budget.
    let r = reason(
        risk.check(&proposal(put_spread(50, "1.50", 1), Regime::Neutral), &book)
            .unwrap(),
    );
    assert_eq!(
        r,
        RejectReason::TooLarge {
            unit_loss: money("4850"),
            budget: money("2000")
        }
    );
    assert_eq!(
        r.to_string(),
        "one unit risks 4850, over the per-trade budget of 2000"
    );
    // A regime set to 0 takes no trades.
    let mut config = RiskConfig::default();
    config.regime_scale.insert(Regime::HighVol, 0.0);
    let mut off = RiskManager::new(config).unwrap();
    let r = reason(
        off.check(&proposal(put_spread(10, "1.50", 1), Regime::HighVol), &book)
            .unwrap(),
    );
    assert_eq!(r.to_string(), "no new trades in the high_vol regime");
    // Every refusal is on record, with its strategy and underlying.
    assert_eq!(risk.rejections().len(), 1);
    assert_eq!(risk.rejections()[0].underlying.as_str(), "SPY");
}

#[test]
fn naked_short_calls_are_refused() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    let naked = ComboOrder::new(
        vec![Leg::option("SPY   250321C00450000".parse().unwrap(), LegAction::Sell, 1).unwrap()],
        ComboSide::Buy,
        1,
        "-2".parse().unwrap(),
    )
    .unwrap();
    let r = reason(
        risk.check(
            &proposal(naked, Regime::Neutral),
            &portfolio("100000", vec![]),
        )
        .unwrap(),
    );
    assert_eq!(r, RejectReason::UndefinedRisk);
}

#[test]
fn portfolio_limits_size_down_then_refuse() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    // Total risk limit 30 % = 30,000; 29,000 open leaves room for one 850 spread.
    let book = portfolio(
        "100000",
        vec![open_risk("QQQ", "15000"), open_risk("IWM", "14000")],
    );
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &book,
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    let book = portfolio(
        "100000",
        vec![open_risk("QQQ", "15000"), open_risk("IWM", "14500")],
    );
    let r = reason(
        risk.check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &book,
        )
        .unwrap(),
    );
    assert!(
        matches!(
            r,
            RejectReason::Limit {
                limit: "max_total_risk",
                ..
            }
        ),
        "{r}"
    );
    // Per underlying: 15 % = 15,000; 14,000 on SPY leaves one spread.
    let book = portfolio("100000", vec![open_risk("SPY", "14000")]);
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &book,
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    // Four SPY positions already: no fifth.
    let book = portfolio("100000", (0..4).map(|_| open_risk("SPY", "100")).collect());
    let r = reason(
        risk.check(&proposal(put_spread(10, "1.50", 1), Regime::Neutral), &book)
            .unwrap(),
    );
    assert_eq!(
        r.to_string(),
        "limit max_positions_per_underlying: 4 open on SPY, at most 4"
    );
    // Ten positions in all: no eleventh.
    let book = portfolio("100000", (0..10).map(|_| open_risk("QQQ", "100")).collect());
    let r = reason(
        risk.check(&proposal(put_spread(10, "1.50", 1), Regime::Neutral), &book)
            .unwrap(),
    );
    assert!(
        matches!(
            r,
            RejectReason::Limit {
                limit: "max_open_positions",
                ..
            }
        ),
        "{r}"
    );
}

#[test]
fn greek_bands_limit_adding_exposure_but_never_reducing_it() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    // Dollar delta band ±50,000 on 100k; the book is at +40,000; each spread adds 6,000: one.
    let mut long = open_risk("QQQ", "100");
    long.greeks.dollar_delta = 40_000.0;
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &portfolio("100000", vec![long.clone()]),
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    long.greeks.dollar_delta = 46_000.0;
    let r = reason(
        risk.check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &portfolio("100000", vec![long.clone()]),
        )
        .unwrap(),
    );
    assert!(
        matches!(
            r,
            RejectReason::Limit {
                limit: "max_dollar_delta",
                ..
            }
        ),
        "{r}"
    );
    // A trade with negative delta reduces it: allowed even beyond the band.
    long.greeks.dollar_delta = 60_000.0;
    let mut reducing = proposal(put_spread(10, "1.50", 2), Regime::Neutral);
    reducing.unit_greeks.dollar_delta = -6_000.0;
    let d = risk
        .check(&reducing, &portfolio("100000", vec![long]))
        .unwrap();
    assert_eq!(approved_quantity(&d), 2);
}

#[test]
fn the_vega_band_limits_adding_vega_but_never_reducing_it() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    // Vega band ±1 % of 100k = ±1,000 $/point; each spread adds −8. The delta band (±50,000,
    // 6,000 a spread) and the 2 % budget (two spreads) leave room for more: only vega binds.
    // At −990: one more spread (−998), not two (−1,006).
    let mut short_vega = open_risk("QQQ", "100");
    short_vega.greeks.vega_per_point = -990.0;
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &portfolio("100000", vec![short_vega.clone()]),
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    // At −995 not even one (−1,003).
    short_vega.greeks.vega_per_point = -995.0;
    let r = reason(
        risk.check(
            &proposal(put_spread(10, "1.50", 10), Regime::Neutral),
            &portfolio("100000", vec![short_vega.clone()]),
        )
        .unwrap(),
    );
    assert_eq!(
        r.to_string(),
        "limit max_vega_per_point: portfolio at -995, one unit adds -8, band ±1000"
    );
    // A long-vega trade brings the book back toward zero: allowed beyond the band.
    short_vega.greeks.vega_per_point = -1_500.0;
    let mut reducing = proposal(put_spread(10, "1.50", 2), Regime::Neutral);
    reducing.unit_greeks.vega_per_point = 8.0;
    let d = risk
        .check(&reducing, &portfolio("100000", vec![short_vega]))
        .unwrap();
    assert_eq!(approved_quantity(&d), 2);
}

/// A SPY iron condor: put wing 390/380 (10 wide), call wing 410/415 (5 wide), for `credit`.
fn unequal_condor(credit: &str, quantity: u32) -> ComboOrder {
    let leg = |key: &str, action| Leg::option(key.parse().unwrap(), action, 1).unwrap();
    ComboOrder::new(
        vec![
            leg("SPY   250321P00380000", LegAction::Buy),
            leg("SPY   250321P00390000", LegAction::Sell),
            leg("SPY   250321C00410000", LegAction::Sell),
            leg("SPY   250321C00415000", LegAction::Buy),
        ],
        ComboSide::Buy,
        quantity,
        format!("-{credit}").parse().unwrap(),
    )
    .unwrap()
}

#[test]
fn an_unequal_condor_risks_its_wider_wing_only() {
    // Only one wing can finish in the money: the worst loss is the wider wing less the credit,
    // (10 − 2.00) × 100 = 800 a condor, not the two wings together ((15 − 2) × 100 = 1,300).
    // The 2,000 budget takes two condors; Reg-T buying power 800 × 2 = 1,600.
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    let d = risk
        .check(
            &proposal(unequal_condor("2.00", 10), Regime::Neutral),
            &portfolio("100000", vec![]),
        )
        .unwrap();
    let Decision::Approved {
        order,
        buying_power,
    } = d
    else {
        panic!("refused: {d:?}");
    };
    assert_eq!(order.quantity(), 2);
    assert_eq!(buying_power, money("1600"));
    // A 1,500 budget (1.5 % of equity) takes one: 800 ≤ 1,500 < 1,600.
    let mut tighter = RiskManager::new(RiskConfig {
        max_risk_per_trade: 0.015,
        ..RiskConfig::default()
    })
    .unwrap();
    let d = tighter
        .check(
            &proposal(unequal_condor("2.00", 10), Regime::Neutral),
            &portfolio("100000", vec![]),
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
}

#[test]
fn kill_switch_fires_at_the_drawdown_and_halts_until_reset() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    assert_eq!(risk.on_equity(at(3, 16), money("100000")).unwrap(), None);
    assert_eq!(risk.on_equity(at(4, 16), money("120000")).unwrap(), None);
    // 24.99 % below the 120k peak: not yet.
    assert_eq!(risk.on_equity(at(5, 16), money("90012")).unwrap(), None);
    assert!(risk.halted_since().is_none());
    // 25 % exactly: fires, once.
    let fired = risk.on_equity(at(6, 16), money("90000")).unwrap();
    assert_eq!(
        fired,
        Some(KillSwitchEvent::Fired {
            at: at(6, 16),
            drawdown: 0.25,
            peak: money("120000"),
            equity: money("90000"),
        })
    );
    assert_eq!(risk.on_equity(at(7, 16), money("85000")).unwrap(), None);
    // Halted: even a recovery does not lift it; every proposal is refused.
    risk.on_equity(at(10, 16), money("125000")).unwrap();
    let r = reason(
        risk.check(
            &proposal(put_spread(10, "1.50", 1), Regime::Neutral),
            &portfolio("125000", vec![]),
        )
        .unwrap(),
    );
    assert_eq!(r, RejectReason::Halted { since: at(6, 16) });
    // A person resets it; trading resumes.
    risk.reset(at(11, 9), "ops@desk");
    assert!(risk.halted_since().is_none());
    let d = risk
        .check(
            &proposal(put_spread(10, "1.50", 1), Regime::Neutral),
            &portfolio("125000", vec![]),
        )
        .unwrap();
    assert_eq!(approved_quantity(&d), 1);
    assert_eq!(risk.kill_switch_events().len(), 2);
    assert!(
        matches!(&risk.kill_switch_events()[1], KillSwitchEvent::Reset { by, .. } if by == "ops@desk")
    );
}

#[test]
fn daily_loss_limit_stops_the_session_not_the_next() {
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    let trade = proposal(put_spread(10, "1.50", 1), Regime::Neutral);
    risk.on_equity(at(20, 10), money("100000")).unwrap();
    risk.on_equity(at(20, 12), money("97100")).unwrap();
    assert!(matches!(
        risk.check(&trade, &portfolio("97100", vec![])).unwrap(),
        Decision::Approved { .. }
    ));
    risk.on_equity(at(20, 14), money("97000")).unwrap();
    let r = reason(risk.check(&trade, &portfolio("97000", vec![])).unwrap());
    assert_eq!(r.to_string(), "daily loss limit reached (3.00 % today)");
    // The next session starts from its own first equity.
    risk.on_equity(at(21, 10), money("97000")).unwrap();
    assert!(matches!(
        risk.check(&trade, &portfolio("97000", vec![])).unwrap(),
        Decision::Approved { .. }
    ));
}

#[test]
fn bad_settings_and_inputs_are_named() {
    let bad = |f: fn(&mut RiskConfig)| {
        let mut c = RiskConfig::default();
        f(&mut c);
        RiskManager::new(c).unwrap_err().to_string()
    };
    assert_eq!(
        bad(|c| c.kill_switch_drawdown = -0.1),
        "risk setting `kill_switch_drawdown` = -0.1: must be a fraction in (0, 1]"
    );
    assert!(bad(|c| c.max_risk_per_trade = 0.5).contains("at most max_total_risk"));
    assert!(bad(|c| c.max_open_positions = 0).contains("max_open_positions"));
    assert!(
        bad(|c| {
            c.regime_scale.insert(Regime::IvExpansion, f64::NAN);
        })
        .contains("regime_scale")
    );
    // The regime table's keys are regime names; a misspelt one is refused by name.
    let parsed: RiskConfig = toml::from_str("regime_scale = { high_vol = 0.25 }").unwrap();
    assert_eq!(parsed.scale_for(Some(Regime::HighVol)), 0.25);
    assert_eq!(parsed.scale_for(Some(Regime::Neutral)), 1.0);
    let err = toml::from_str::<RiskConfig>("regime_scale = { hi_vol = 0.25 }").unwrap_err();
    assert!(err.to_string().contains("unknown regime `hi_vol`"), "{err}");
    let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
    assert!(matches!(
        risk.on_equity(at(3, 10), money("-5")),
        Err(RiskError::BadInput { .. })
    ));
    assert!(matches!(
        risk.check(
            &proposal(put_spread(10, "1.50", 1), Regime::Neutral),
            &portfolio("0", vec![])
        ),
        Err(RiskError::BadInput { .. })
    ));
}

/// Whatever the book, an approved trade respects every loss limit it was sized against; and
/// enough of the generated cases are approved that the checks mean something (a risk manager
/// that refused everything would otherwise pass).
#[test]
fn approved_trades_respect_the_loss_limits() {
    let cases = (
        10_000u32..1_000_000,
        1u32..40,
        5u32..100,
        1u32..50,
        proptest::collection::vec(("SPY|QQQ|IWM", 0u32..20_000), 0..8),
    );
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let approved = std::cell::Cell::new(0u32);
    runner
        .run(&cases, |(equity, width, credit_cents, wanted, open)| {
            let credit = format!("{}.{:02}", credit_cents / 100, credit_cents % 100);
            let order = put_spread(width, &credit, wanted);
            let book = portfolio(
                &equity.to_string(),
                open.iter()
                    .map(|(u, l)| open_risk(u, &l.to_string()))
                    .collect(),
            );
            let mut risk = RiskManager::new(RiskConfig::default()).unwrap();
            let c = risk.config().clone();
            if let Decision::Approved {
                order: sized,
                buying_power,
            } = risk
                .check(&proposal(order, Regime::Neutral), &book)
                .unwrap()
            {
                approved.set(approved.get() + 1);
                let eq = f64::from(equity);
                let bp: f64 = buying_power.to_string().parse().unwrap();
                let open_total: f64 = open.iter().map(|(_, l)| f64::from(*l)).sum();
                let open_spy: f64 = open
                    .iter()
                    .filter(|(u, _)| u == "SPY")
                    .map(|(_, l)| f64::from(*l))
                    .sum();
                prop_assert!(sized.quantity() >= 1 && sized.quantity() <= wanted);
                prop_assert!(bp <= eq * c.max_risk_per_trade + 1e-6);
                prop_assert!(open_total + bp <= eq * c.max_total_risk + 1e-6);
                prop_assert!(open_spy + bp <= eq * c.max_risk_per_underlying + 1e-6);
                let unit = (f64::from(width) - f64::from(credit_cents) / 100.0) * 100.0;
                prop_assert!((bp - unit * f64::from(sized.quantity())).abs() < 1e-6);
            }
            Ok(())
        })
        .unwrap();
    let cases = runner.config().cases;
    assert!(
        approved.get() * 4 >= cases,
        "only {} of {cases} cases approved: the limits were hardly exercised",
        approved.get()
    );
}
