//! The strategies on the real SPX chain of 2019-04-25 (Cboe delayed quotes) and on the
//! deterministic synthetic market (SPY, QQQ, IWM).

use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::order::{ComboSide, Instrument, LegAction};
use volta_core::{ChainSnapshot, ContractKey, PositionId, QualityPolicy, RatesAndYield};
use volta_data::DataDir;
use volta_data::import::{ChainRequest, import_chains, import_index};
use volta_data::synthetic::{ChainParams, SyntheticConfig, SyntheticMarket};
use volta_features::{Regime, iv_rank};
use volta_strategy::adaptive::{AcceptAll, CreditToWidth, Scorer};
use volta_strategy::config::{StrategiesConfig, StrategyConfig};
use volta_strategy::manage::{ExitReason, ExitRules, closing_quote};
use volta_strategy::select::{ExpirySlice, days_to};
use volta_strategy::strategies::{HighIvAction, LowIvAction, Width};
use volta_strategy::structures::Structure;
use volta_strategy::{
    Adaptive, DefinedRiskStrangle, Intent, IvRankPremium, IvRankPremiumConfig, MarketView,
    OpenPosition, Proposal, ShortVolConfig, Strategy, StrategyError, UnderlyingView,
    ZeroDteIronCondor,
};

fn spx_rates() -> RatesAndYield {
    RatesAndYield::try_new(0.024, 0.019).unwrap()
}

fn syn_rates() -> RatesAndYield {
    RatesAndYield::try_new(0.02, 0.015).unwrap()
}

fn id(text: &str) -> PositionId {
    PositionId::try_new(text).unwrap()
}

fn spx_as_of() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2019, 4, 25)
        .unwrap()
        .and_hms_opt(15, 45, 0)
        .unwrap()
}

fn spx_day() -> Option<ChainSnapshot> {
    let path = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv.gz")?;
    let request = ChainRequest {
        allowed: vec!["SPX".parse().unwrap()],
        ..ChainRequest::default()
    };
    let day = import_chains(&path, &request).unwrap().days.remove(0);
    Some(day.snapshot(spx_as_of()).unwrap())
}

/// The VIX's IV rank on 2019-04-25 from the Cboe history up to that day only (no look-ahead).
fn vix_rank_2019_04_25() -> Option<(f64, f64)> {
    let path = DataDir::test_file("vol/VIX_History.csv")?;
    let history = import_index(&path, None).unwrap();
    let closes: Vec<f64> = history
        .records
        .iter()
        .take_while(|r| r.date <= spx_as_of().date())
        .map(|r| r.close)
        .collect();
    let rank = *iv_rank(&closes, 252).unwrap().last().unwrap();
    Some((rank, *closes.last().unwrap()))
}

fn spx_view(rank: f64, regime: Option<Regime>) -> Option<MarketView> {
    let chain = spx_day()?;
    let spx = UnderlyingView::gated(&chain, &QualityPolicy::default(), rank, spx_rates()).unwrap();
    Some(
        MarketView::new(spx_as_of(), regime, Some(13.2))
            .unwrap()
            .with_underlying(spx)
            .unwrap(),
    )
}

/// SPY, QQQ and IWM, March-April 2023 (daily expiries on all three), snapped at 11:00: a
/// 0DTE condor is opened in the morning (at 15:45 a 10-delta strike is cents from the money).
fn markets() -> &'static [SyntheticMarket; 3] {
    static MARKETS: OnceLock<[SyntheticMarket; 3]> = OnceLock::new();
    MARKETS.get_or_init(|| {
        let one = |symbol: &str, seed, spot| {
            SyntheticMarket::generate(&SyntheticConfig {
                seed,
                symbol: symbol.to_owned(),
                initial_spot: spot,
                start: NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
                end: NaiveDate::from_ymd_opt(2023, 4, 28).unwrap(),
                chain: ChainParams {
                    snapshot_minutes_before_close: 300,
                    // Real 0DTE chains list dozens of strikes each side; the default five
                    // leave no room for a 10-delta condor's 5-strike wings.
                    min_strikes_each_side: 25,
                    ..ChainParams::default()
                },
                ..SyntheticConfig::default()
            })
            .unwrap()
        };
        [
            one("SPY", 42, 400.0),
            one("QQQ", 7, 300.0),
            one("IWM", 2024, 180.0),
        ]
    })
}

/// A view of session `day` with the IV ranks of SPY, QQQ and IWM (`None`: left out).
fn synthetic_view(day: usize, ranks: [Option<f64>; 3], regime: Option<Regime>) -> MarketView {
    let mut view: Option<MarketView> = None;
    for (market, rank) in markets().iter().zip(ranks) {
        let chain = market.chain(day).unwrap();
        let v = view.take().unwrap_or_else(|| {
            MarketView::new(chain.as_of(), regime, Some(market.days()[day].vix)).unwrap()
        });
        view = Some(match rank {
            Some(r) => v
                .with_underlying(
                    UnderlyingView::gated(&chain, &QualityPolicy::default(), r, syn_rates())
                        .unwrap(),
                )
                .unwrap(),
            None => v,
        });
    }
    view.unwrap()
}

fn key_of(leg: &volta_core::order::Leg) -> &ContractKey {
    match &leg.instrument {
        Instrument::Option(c) => c.key(),
        Instrument::Stock(_) => panic!("option legs only"),
    }
}

/// The |delta| of each sold leg, recomputed from the view's chain.
fn short_deltas(view: &MarketView, p: &Proposal) -> Vec<f64> {
    let u = view.underlying(p.underlying()).unwrap();
    let expiry = key_of(&p.order.legs()[0]).expiry();
    let slice = ExpirySlice::new(u.chain(), expiry, u.rates());
    p.order
        .legs()
        .iter()
        .filter(|l| l.action == LegAction::Sell)
        .map(|l| {
            let key = key_of(l);
            slice
                .side(key.right())
                .iter()
                .find(|c| c.quote.key == *key)
                .unwrap()
                .delta
                .abs()
        })
        .collect()
}

fn premium(config: IvRankPremiumConfig) -> IvRankPremium {
    IvRankPremium::try_new(config).unwrap()
}

#[test]
fn high_iv_rank_sells_a_put_credit_spread_on_the_real_chain() {
    let Some(view) = spx_view(0.65, Some(Regime::Neutral)) else {
        return;
    };
    let strategy = premium(IvRankPremiumConfig::default());
    let proposals = strategy.propose(&view).unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:#?}");
    let p = &proposals[0];
    assert_eq!(p.strategy, "iv_rank_premium");
    assert_eq!(p.intent, Intent::Open);
    assert_eq!(p.structure, Structure::PutCreditSpread);
    assert_eq!(p.order.side(), ComboSide::Buy);
    let legs = p.order.legs();
    assert_eq!(legs.len(), 2);
    assert_eq!(legs[0].action, LegAction::Sell);
    let (short, long) = (key_of(&legs[0]), key_of(&legs[1]));
    // The configured band: 0.16..=0.30, target 0.20.
    let delta = short_deltas(&view, p)[0];
    assert!((0.16..=0.30).contains(&delta), "short delta {delta}");
    assert!((delta - 0.20).abs() < 0.02, "nearest 20-delta: {delta}");
    let dte = days_to(spx_as_of(), short.expiry());
    assert!((30..=45).contains(&dte), "{dte} DTE");
    // Five strikes on SPX's $5 grid: 25 dollars wide.
    let width = short.strike().to_f64() - long.strike().to_f64();
    assert_eq!(width, 25.0);
    assert_eq!(p.width(), Some(25.0));
    assert!(
        p.credit() > 0.0 && p.credit() < width,
        "credit {}",
        p.credit()
    );
    // Defined risk: (width − credit) × 100.
    let loss = p.max_loss().unwrap();
    assert!((loss - (width - p.credit()) * 100.0).abs() < 1e-6);
    assert!(p.reason.contains("iv rank 0.65 >= 0.50"), "{}", p.reason);
    assert!(p.reason.contains("put_credit_spread"), "{}", p.reason);
}

#[test]
fn the_short_put_action_sells_one_cash_secured_put_nearest_the_target_delta() {
    let Some(view) = spx_view(0.0, Some(Regime::Neutral)) else {
        return;
    };
    // Always sells (rank 0 >= 0): the cash-secured put of sweeps/short-put-base.toml.
    let strategy = premium(IvRankPremiumConfig {
        iv_rank_high: 0.0,
        iv_rank_low: 0.0,
        when_high: HighIvAction::ShortPut,
        short_delta: 0.30,
        short_delta_min: 0.10,
        short_delta_max: 0.49,
        ..IvRankPremiumConfig::default()
    });
    let proposals = strategy.propose(&view).unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:#?}");
    let p = &proposals[0];
    assert_eq!(p.structure, Structure::ShortPut);
    let legs = p.order.legs();
    assert_eq!(legs.len(), 1);
    assert_eq!(legs[0].action, LegAction::Sell);
    let put = key_of(&legs[0]);
    assert_eq!(put.right(), volta_pricing::OptionRight::Put);
    // The put nearest 30 delta among the out-of-the-money puts of the 30-45 day expiry.
    let u = view.underlying(p.underlying()).unwrap();
    let slice = ExpirySlice::new(u.chain(), put.expiry(), u.rates());
    let nearest = slice
        .puts
        .iter()
        .filter(|c| c.strike <= slice.spot)
        .min_by(|a, b| {
            (a.delta.abs() - 0.30)
                .abs()
                .total_cmp(&(b.delta.abs() - 0.30).abs())
        })
        .unwrap();
    assert_eq!(nearest.quote.key, *put);
    let delta = short_deltas(&view, p)[0];
    assert!((delta - 0.30).abs() < 0.02, "nearest 30-delta: {delta}");
    assert!((30..=45).contains(&days_to(spx_as_of(), put.expiry())));
    // No wing: the worst loss is the strike less the premium, the cash that secures it.
    assert_eq!(p.width(), None);
    let strike = put.strike().to_f64();
    assert!(p.credit() > 0.0 && p.credit() < strike);
    let loss = p.max_loss().unwrap();
    assert!(
        (loss - (strike - p.credit()) * 100.0).abs() < 1e-6,
        "{loss}"
    );
}

#[test]
fn the_real_vix_rank_of_the_day_keeps_a_flat_strategy_flat() {
    let Some((rank, vix)) = vix_rank_2019_04_25() else {
        return;
    };
    // VIX closed at 13.25 on 2019-04-25, its 252-day range spanning the December 2018 spike
    // (36.07): a low rank.
    assert_eq!(vix, 13.25);
    assert!(rank < 0.2, "VIX rank {rank}");
    let Some(view) = spx_view(rank, Some(Regime::LowVol)) else {
        return;
    };
    let flat = premium(IvRankPremiumConfig::default());
    assert!(flat.propose(&view).unwrap().is_empty());
    // The same day with a straddle for low ranks: one long ATM straddle, a debit.
    let straddle = premium(IvRankPremiumConfig {
        when_low: LowIvAction::LongStraddle,
        ..IvRankPremiumConfig::default()
    });
    let p = straddle.propose(&view).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].structure, Structure::LongStraddle);
    assert!(p[0].credit() < 0.0);
    assert!(p[0].reason.contains("<= 0.20"), "{}", p[0].reason);
    // And with a call debit spread: paid less than its width.
    let debit = premium(IvRankPremiumConfig {
        when_low: LowIvAction::CallDebitSpread,
        ..IvRankPremiumConfig::default()
    });
    let p = debit.propose(&view).unwrap();
    assert_eq!(p[0].structure, Structure::CallDebitSpread);
    assert!(-p[0].credit() > 0.0 && -p[0].credit() < p[0].width().unwrap());
    // Between the thresholds nothing happens whatever `when_low` says.
    let mid_view = spx_view(0.35, Some(Regime::Neutral)).unwrap();
    assert!(straddle.propose(&mid_view).unwrap().is_empty());
}

#[test]
fn an_open_position_blocks_a_second_one_on_the_same_underlying() {
    let Some(view) = spx_view(0.65, Some(Regime::Neutral)) else {
        return;
    };
    let strategy = premium(IvRankPremiumConfig::default());
    let first = strategy.propose(&view).unwrap().remove(0);
    let held = OpenPosition::from_fill(id("p1"), &first, -first.credit(), spx_as_of().date());
    let view = view.with_position(held.clone()).unwrap();
    assert!(view.holds("iv_rank_premium", held.underlying()));
    assert!(strategy.propose(&view).unwrap().is_empty());
    // Another strategy's position does not block this one.
    let other = premium(IvRankPremiumConfig {
        name: "iv_rank_premium_2".to_owned(),
        ..IvRankPremiumConfig::default()
    });
    assert_eq!(other.propose(&view).unwrap().len(), 1);
}

#[test]
fn condors_and_butterflies_on_the_real_chain() {
    let Some(view) = spx_view(0.5, Some(Regime::Neutral)) else {
        return;
    };
    let condor = DefinedRiskStrangle::try_new(ShortVolConfig::default()).unwrap();
    let p = condor.propose(&view).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].structure, Structure::IronCondor);
    let deltas = short_deltas(&view, &p[0]);
    assert_eq!(deltas.len(), 2);
    assert!(
        deltas.iter().all(|d| (0.10..=0.25).contains(d)),
        "{deltas:?}"
    );
    assert!(p[0].credit() > 0.0 && p[0].credit() < p[0].width().unwrap());
    let fly = DefinedRiskStrangle::try_new(ShortVolConfig {
        body: volta_strategy::strategies::Body::Straddle,
        ..ShortVolConfig::default()
    })
    .unwrap();
    let f = fly.propose(&view).unwrap();
    assert_eq!(f[0].structure, Structure::IronButterfly);
    assert!(f[0].credit() > p[0].credit());
    // A minimum IV rank above the day's: nothing.
    let picky = DefinedRiskStrangle::try_new(ShortVolConfig {
        min_iv_rank: 0.6,
        ..ShortVolConfig::default()
    })
    .unwrap();
    assert!(picky.propose(&view).unwrap().is_empty());
}

#[test]
fn zero_dte_only_on_an_expiring_session_and_never_in_high_vol() {
    let zero = ZeroDteIronCondor::try_new(ShortVolConfig::zero_dte()).unwrap();
    // 2019-04-25 was a Thursday: SPX listed Monday, Wednesday and Friday weeklies only.
    if let Some(view) = spx_view(0.5, Some(Regime::Neutral)) {
        let chain = view.underlyings()[0].chain();
        assert!(!chain.expiries().any(|e| e == spx_as_of().date()));
        assert!(chain.expiries().any(|e| days_to(chain.as_of(), e) == 1));
        assert!(zero.propose(&view).unwrap().is_empty());
    }
    // Synthetic SPY, QQQ, IWM in 2023 list an expiry every session; their thin 0DTE call
    // side (zero bids beyond ~17 delta) leaves no 10-delta condor, so only the invariants of
    // whatever is proposed are checked here.
    let view = synthetic_view(0, [Some(0.5); 3], Some(Regime::Neutral));
    let today = view.as_of().date();
    assert!(
        view.underlyings()
            .iter()
            .all(|u| u.chain().expiries().any(|e| e == today))
    );
    for q in &zero.propose(&view).unwrap() {
        assert_eq!(q.structure, Structure::IronCondor);
        assert!(q.order.legs().iter().all(|l| key_of(l).expiry() == today));
        assert!(q.credit() > 0.0 && q.credit() < q.width().unwrap());
    }
    for regime in [Some(Regime::HighVol), None] {
        let view = synthetic_view(0, [Some(0.5); 3], regime);
        assert!(zero.propose(&view).unwrap().is_empty(), "{regime:?}");
    }
}

#[test]
fn every_underlying_gets_its_own_proposal() {
    let view = synthetic_view(5, [Some(0.8), Some(0.1), Some(0.6)], Some(Regime::Neutral));
    let strategy = premium(IvRankPremiumConfig::default());
    let p = strategy.propose(&view).unwrap();
    let symbols: Vec<&str> = p.iter().map(|p| p.underlying().as_str()).collect();
    // QQQ's rank is low and the strategy is flat there.
    assert_eq!(symbols, ["SPY", "IWM"]);
    for q in &p {
        let spot = view.underlying(q.underlying()).unwrap().spot();
        let short = key_of(&q.order.legs()[0]).strike().to_f64();
        assert!(
            short < spot,
            "{}: short put {short} below {spot}",
            q.underlying()
        );
        let delta = short_deltas(&view, q)[0];
        assert!((0.16..=0.30).contains(&delta));
    }
    // The widths follow each underlying's strike grid: 5 strikes.
    let view = synthetic_view(5, [Some(0.8); 3], Some(Regime::Neutral));
    let widths: Vec<f64> = strategy
        .propose(&view)
        .unwrap()
        .iter()
        .map(|p| p.width().unwrap())
        .collect();
    assert_eq!(widths.len(), 3);
    assert!(widths.iter().all(|w| *w >= 2.5), "{widths:?}");
}

fn names(p: &[Proposal]) -> Vec<&str> {
    let mut n: Vec<&str> = p.iter().map(|p| p.strategy.as_str()).collect();
    n.dedup();
    n
}

#[test]
fn adaptive_follows_the_regime_table() {
    let adaptive = StrategiesConfig::default().build().unwrap();
    let ranks = [Some(0.7), None, None];
    let run = |regime| {
        let view = synthetic_view(0, ranks, regime);
        adaptive.propose(&view).unwrap()
    };
    // Neutral: a 30-45 day condor and a 0DTE condor.
    let neutral = run(Some(Regime::Neutral));
    assert_eq!(names(&neutral), ["defined_risk_strangle"]);
    assert!(neutral.iter().all(|p| p.structure == Structure::IronCondor));
    // High vol: put credit spreads only, no 0DTE.
    let high = run(Some(Regime::HighVol));
    assert_eq!(names(&high), ["iv_rank_premium"]);
    assert_eq!(high[0].structure, Structure::PutCreditSpread);
    // Contraction: all three; low vol, expansion and an unknown regime: flat.
    assert_eq!(
        names(&run(Some(Regime::IvContraction))),
        ["iv_rank_premium", "defined_risk_strangle"]
    );
    for regime in [Some(Regime::LowVol), Some(Regime::IvExpansion), None] {
        assert!(run(regime).is_empty(), "{regime:?}");
    }
    let view = synthetic_view(0, ranks, Some(Regime::HighVol));
    assert_eq!(adaptive.active(&view), ["iv_rank_premium"]);
}

/// Rejects condors: a scorer can veto by structure.
#[derive(Debug)]
struct NoCondors;

impl Scorer for NoCondors {
    fn score(&self, _view: &MarketView, p: &Proposal) -> f64 {
        if p.structure == Structure::IronCondor {
            0.0
        } else {
            1.0
        }
    }
}

#[test]
fn the_scorer_filters_openings() {
    let view = synthetic_view(0, [Some(0.7); 3], Some(Regime::IvContraction));
    let base = || StrategiesConfig::default().build().unwrap();
    let all = base().propose(&view).unwrap();
    assert_eq!(
        all.len(),
        6,
        "a put spread and a condor on each of three underlyings"
    );
    // Accept-all at any threshold keeps everything.
    let same = base()
        .with_scorer(Box::new(AcceptAll), 1.0)
        .unwrap()
        .propose(&view)
        .unwrap();
    assert_eq!(same, all);
    // Credit ÷ width: a condor collects two credits against one wing's risk, more of its
    // width than a single put spread; a threshold between them keeps only the condors.
    let score = |p: &Proposal| CreditToWidth.score(&view, p);
    let of = |name: &'static str| all.iter().filter(move |p| p.strategy == name).map(score);
    let spread_best = of("iv_rank_premium").fold(0.0, f64::max);
    let condor_worst = of("defined_risk_strangle").fold(1.0, f64::min);
    assert!(
        spread_best < condor_worst,
        "spread {spread_best} vs condor {condor_worst}"
    );
    let threshold = 0.5 * (spread_best + condor_worst);
    let kept = base()
        .with_scorer(Box::new(CreditToWidth), threshold)
        .unwrap()
        .propose(&view)
        .unwrap();
    assert_eq!(names(&kept), ["defined_risk_strangle"]);
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|p| score(p) >= threshold));
    // A vetoing scorer.
    let kept = base()
        .with_scorer(Box::new(NoCondors), 0.5)
        .unwrap()
        .propose(&view)
        .unwrap();
    assert_eq!(names(&kept), ["iv_rank_premium"]);
    assert!(matches!(
        base().with_scorer(Box::new(AcceptAll), 1.5),
        Err(StrategyError::InvalidConfig {
            field: "min_score",
            ..
        })
    ));
}

fn err_text<T: std::fmt::Debug>(r: Result<T, StrategyError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn bad_configs_are_named_before_any_run() {
    let bad = |c: IvRankPremiumConfig| err_text(IvRankPremium::try_new(c));
    let d = IvRankPremiumConfig::default;
    assert_eq!(
        bad(IvRankPremiumConfig {
            width: Width::Dollars(-5.0),
            ..d()
        }),
        "strategy `iv_rank_premium` setting `width.dollars` = -5: must be finite and above zero"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            width: Width::Strikes(0),
            ..d()
        }),
        "strategy `iv_rank_premium` setting `width.strikes` = 0: must be finite and above zero"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            short_delta: 0.6,
            short_delta_max: 0.7,
            ..d()
        }),
        "strategy `iv_rank_premium` setting `short_delta_max` = 0.7: must be a |delta| in (0, 0.5)"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            short_delta: 0.0,
            ..d()
        }),
        "strategy `iv_rank_premium` setting `short_delta` = 0: must be a |delta| in (0, 0.5)"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            short_delta: 0.35,
            ..d()
        }),
        "strategy `iv_rank_premium` setting `short_delta_max` = 0.3 (< short_delta = 0.35): \
         must be at least the lower bound"
    );
    assert_eq!(
        bad(IvRankPremiumConfig { dte_min: 50, ..d() }),
        "strategy `iv_rank_premium` setting `dte_min` = 50 (> dte_max = 45): must be at most dte_max"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            iv_rank_high: 1.2,
            ..d()
        }),
        "strategy `iv_rank_premium` setting `iv_rank_high` = 1.2: must be in 0..=1"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            iv_rank_low: 0.6,
            ..d()
        }),
        "strategy `iv_rank_premium` setting `iv_rank_high` = 0.5 (< iv_rank_low = 0.6): \
         must be at least the lower bound"
    );
    assert_eq!(
        bad(IvRankPremiumConfig {
            exit: ExitRules {
                profit_target: 0.0,
                ..ExitRules::default()
            },
            ..d()
        }),
        "strategy `iv_rank_premium` setting `profit_target` = 0: must be a positive fraction of the credit"
    );
    assert_eq!(
        err_text(ZeroDteIronCondor::try_new(ShortVolConfig {
            dte_max: 1,
            ..ShortVolConfig::zero_dte()
        })),
        "strategy `zero_dte_iron_condor` setting `dte_max` = 1: must be 0 (the session's own expiry)"
    );
    // The registry and the adaptive table.
    assert_eq!(
        err_text(StrategyConfig::defaults("iv_rank_premum")),
        "unknown strategy `iv_rank_premum`: known are iv_rank_premium, defined_risk_strangle, \
         zero_dte_iron_condor"
    );
    let mut config = StrategiesConfig::default();
    config
        .adaptive
        .table
        .insert("neutral".to_owned(), vec!["iron_condor_weekly".to_owned()]);
    assert_eq!(
        err_text(config.build()),
        "unknown strategy `iron_condor_weekly`: known are iv_rank_premium, \
         defined_risk_strangle, zero_dte_iron_condor"
    );
    let mut config = StrategiesConfig::default();
    config.adaptive.table.insert("calm".to_owned(), vec![]);
    assert!(err_text(config.build()).contains("setting `table` = calm"));
    let mut config = StrategiesConfig::default();
    config.strategies.push(config.strategies[0].clone());
    assert_eq!(
        err_text(config.build()),
        "strategy `iv_rank_premium` setting `name` = iv_rank_premium: must be unique among the \
         strategies"
    );
}

#[test]
fn a_config_file_deserialises_and_builds() {
    // The TOML shape, written as JSON (serde_json is the workspace's serde format).
    let text = r#"{
        "strategies": [
            {"kind": "iv_rank_premium", "name": "spy_premium", "iv_rank_high": 0.6,
             "width": {"dollars": 5.0}, "when_high": "iron_condor",
             "when_low": "long_straddle", "exit": {"profit_target": 0.4}},
            {"kind": "zero_dte_iron_condor", "name": "zero", "short_delta": 0.08,
             "short_delta_min": 0.04, "exit": {"profit_target": 0.6}}
        ],
        "adaptive": {"table": {"neutral": ["spy_premium", "zero"], "high_vol": ["spy_premium"]},
                     "min_score": 0.1}
    }"#;
    let config: StrategiesConfig = serde_json::from_str(text).unwrap();
    let StrategyConfig::IvRankPremium(p) = &config.strategies[0] else {
        panic!("{config:?}");
    };
    assert_eq!(p.when_high, HighIvAction::IronCondor);
    assert_eq!(p.exit.profit_target, 0.4);
    assert_eq!(p.exit.stop_loss, 2.0, "unset fields keep their defaults");
    assert_eq!(p.dte_min, 30);
    let StrategyConfig::ZeroDteIronCondor(z) = &config.strategies[1] else {
        panic!("{config:?}");
    };
    // A 0DTE table's unset fields are the 0DTE defaults, not the strangle's 30-45-day ones,
    // the exit rules included when the table gives some of them.
    let zero_dte = ShortVolConfig::zero_dte();
    assert_eq!(
        *z,
        ShortVolConfig {
            name: "zero".to_owned(),
            short_delta: 0.08,
            short_delta_min: 0.04,
            exit: ExitRules {
                profit_target: 0.6,
                ..zero_dte.exit
            },
            ..zero_dte.clone()
        }
    );
    assert_eq!((z.dte_min, z.dte_max), (0, 0));
    assert_eq!(z.exit.exit_days_to_expiry, None);
    assert!(!z.exit.close_on_expiry_day);
    // An empty table is the 0DTE defaults; another wing width replaces the default's; a
    // misspelt field, even inside the exit rules, is refused by name.
    let zero = |table: &str| {
        serde_json::from_str::<StrategiesConfig>(&format!(
            r#"{{"strategies": [{{"kind": "zero_dte_iron_condor"{table}}}]}}"#
        ))
        .map(|c| c.strategies[0].clone())
    };
    assert_eq!(
        zero("").unwrap(),
        StrategyConfig::ZeroDteIronCondor(zero_dte.clone())
    );
    assert_eq!(
        zero(r#", "width": {"dollars": 10.0}"#).unwrap(),
        StrategyConfig::ZeroDteIronCondor(ShortVolConfig {
            width: Width::Dollars(10.0),
            ..zero_dte
        })
    );
    for typo in [
        r#", "short_delt": 0.1"#,
        r#", "exit": {"profit_targte": 0.5}"#,
    ] {
        let e = zero(typo).unwrap_err().to_string();
        assert!(
            e.contains("short_delt") || e.contains("profit_targte"),
            "{e}"
        );
    }
    let adaptive: Adaptive = config.build().unwrap();
    let view = synthetic_view(0, [Some(0.7), None, None], Some(Regime::HighVol));
    let p = adaptive.propose(&view).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].structure, Structure::IronCondor);
    assert_eq!(p[0].width(), Some(5.0));
    // Typos are caught by the parser, naming the field.
    let typo = r#"{"strategies": [{"kind": "iv_rank_premium", "iv_rank_hgh": 0.6}]}"#;
    let e = serde_json::from_str::<StrategiesConfig>(typo)
        .unwrap_err()
        .to_string();
    assert!(e.contains("iv_rank_hgh"), "{e}");
    let kind = r#"{"strategies": [{"kind": "iron_condr"}]}"#;
    let e = serde_json::from_str::<StrategiesConfig>(kind)
        .unwrap_err()
        .to_string();
    assert!(e.contains("iron_condr"), "{e}");
}

#[test]
fn views_refuse_the_future() {
    let chain = markets()[0].chain(3).unwrap();
    let u = UnderlyingView::gated(&chain, &QualityPolicy::default(), 0.5, syn_rates()).unwrap();
    let yesterday = markets()[0].chain(2).unwrap().as_of();
    let e = MarketView::new(yesterday, Some(Regime::Neutral), None)
        .unwrap()
        .with_underlying(u.clone())
        .unwrap_err();
    assert!(matches!(
        e,
        StrategyError::InvalidView {
            field: "chain as_of",
            ..
        }
    ));
    let e = UnderlyingView::gated(&chain, &QualityPolicy::default(), 1.5, syn_rates()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "market view `iv_rank` = 1.5: must be in 0..=1"
    );
    let view = MarketView::new(chain.as_of(), None, None)
        .unwrap()
        .with_underlying(u.clone())
        .unwrap();
    assert!(view.clone().with_underlying(u).is_err(), "duplicate");
    let later = OpenPosition {
        id: id("p1"),
        strategy: "x".to_owned(),
        structure: Structure::PutCreditSpread,
        order: premium(IvRankPremiumConfig::default())
            .propose(&synthetic_view(3, [Some(0.9), None, None], None))
            .unwrap()
            .remove(0)
            .order,
        entry: -1.0,
        entered: chain.as_of().date().succ_opt().unwrap(),
    };
    assert!(view.clone().with_position(later.clone()).is_err());
    // Closings name their position by id: two positions under one id are refused.
    let today = OpenPosition {
        entered: chain.as_of().date(),
        ..later
    };
    let view = view.with_position(today.clone()).unwrap();
    let e = view.with_position(today).unwrap_err();
    assert_eq!(
        e.to_string(),
        "market view `position id` = p1: must be unique in the view"
    );
}

#[test]
fn held_positions_close_when_their_rule_fires() {
    let day = 0;
    let view = synthetic_view(day, [Some(0.8), None, None], Some(Regime::Neutral));
    let strategy = premium(IvRankPremiumConfig::default());
    let opening = strategy.propose(&view).unwrap().remove(0);
    let chain = view.underlyings()[0].chain();
    let now = closing_quote(chain, &opening.order).unwrap();
    // A credit spread costs money to close: mid and natural are negative, natural worse.
    assert!(now.mid < 0.0 && now.natural < now.mid);
    let date = view.as_of().date();
    let position = |name: &str, entry: f64, strategy: &str| OpenPosition {
        strategy: strategy.to_owned(),
        entry,
        ..OpenPosition::from_fill(id(name), &opening, entry, date)
    };
    // Entries chosen so that each rule fires on today's quotes: opened for 2.2× today's
    // closing cost (P&L ≥ 50 % of the credit), and for a third of it (a loss ≥ 2× the credit).
    // All four hold the same legs: the closings tell them apart by id.
    let winner = position("p1", 2.2 * now.mid, "iv_rank_premium");
    let loser = position("p2", now.mid / 3.5, "iv_rank_premium");
    let holding = position("p3", now.mid, "iv_rank_premium");
    let foreign = position("p4", 2.2 * now.mid, "someone_else");
    let view = [winner, loser, holding, foreign]
        .into_iter()
        .try_fold(view, MarketView::with_position)
        .unwrap();
    let closes = strategy.manage(&view).unwrap();
    let intents: Vec<&Intent> = closes.iter().map(|c| &c.intent).collect();
    assert_eq!(
        intents,
        [
            &Intent::Close {
                position: id("p1"),
                reason: ExitReason::ProfitTarget
            },
            &Intent::Close {
                position: id("p2"),
                reason: ExitReason::StopLoss
            }
        ]
    );
    for c in &closes {
        assert_eq!(c.order.side(), ComboSide::Sell);
        assert_eq!(c.order.legs(), opening.order.legs());
        assert_eq!(c.order.quantity(), opening.order.quantity());
        let limit: f64 = c.limit().to_string().parse().unwrap();
        // A SELL limit between natural and mid: reachable, not giving everything away.
        assert!(limit <= now.mid && limit >= now.natural - 0.01, "{limit}");
        assert_eq!(c.structure, Structure::PutCreditSpread);
        assert_eq!(c.strategy, "iv_rank_premium");
        assert!(c.max_loss().is_none(), "closings carry no opening risk");
    }
    assert!(closes[0].reason.starts_with("profit_target: SPY"));
    // Through the adaptive strategy the same rules apply, whatever today's regime.
    let adaptive = StrategiesConfig::default().build().unwrap();
    assert_eq!(adaptive.manage(&view).unwrap(), closes);

    // 21 days before its expiry the holding one is closed too; with no quotes for its
    // underlying (not in the view), only the calendar speaks and the limit is the worst payoff.
    let expiry = key_of(&opening.order.legs()[0]).expiry();
    let late = (expiry - chrono::TimeDelta::days(21))
        .and_hms_opt(15, 45, 0)
        .unwrap();
    let view = MarketView::new(late, Some(Regime::Neutral), None)
        .unwrap()
        .with_position(position("p3", now.mid, "iv_rank_premium"))
        .unwrap();
    let closes = strategy.manage(&view).unwrap();
    assert_eq!(closes.len(), 1);
    assert_eq!(
        closes[0].intent,
        Intent::Close {
            position: id("p3"),
            reason: ExitReason::DaysToExpiry
        }
    );
    let width = opening.width().unwrap();
    let limit: f64 = closes[0].limit().to_string().parse().unwrap();
    assert_eq!(limit, -width, "pay at most the width");
}

fn any_config() -> impl proptest::strategy::Strategy<Value = StrategyConfig> {
    use proptest::prelude::{Just, prop_oneof};
    use proptest::strategy::Strategy as _;
    let width = prop_oneof![
        (1.0..30.0f64).prop_map(Width::Dollars),
        (1u32..12).prop_map(Width::Strikes),
    ];
    let high = prop_oneof![
        Just(HighIvAction::PutCreditSpread),
        Just(HighIvAction::CallCreditSpread),
        Just(HighIvAction::IronCondor),
    ];
    let low = prop_oneof![
        Just(LowIvAction::Flat),
        Just(LowIvAction::CallDebitSpread),
        Just(LowIvAction::PutDebitSpread),
        Just(LowIvAction::LongStraddle),
    ];
    let body = prop_oneof![
        Just(volta_strategy::strategies::Body::Strangle),
        Just(volta_strategy::strategies::Body::Straddle),
    ];
    (
        0usize..3,
        0.05..0.45f64,
        width,
        high,
        low,
        body,
        0.05..0.45f64,
    )
        .prop_map(
            |(kind, delta, width, when_high, when_low, body, debit_long_delta)| {
                let (short_delta_min, short_delta_max) = (0.5 * delta, (1.5 * delta).min(0.49));
                match kind {
                    0 => StrategyConfig::IvRankPremium(IvRankPremiumConfig {
                        short_delta: delta,
                        short_delta_min,
                        short_delta_max,
                        width,
                        when_high,
                        when_low,
                        debit_long_delta,
                        ..IvRankPremiumConfig::default()
                    }),
                    1 => StrategyConfig::DefinedRiskStrangle(ShortVolConfig {
                        body,
                        short_delta: delta,
                        short_delta_min,
                        short_delta_max,
                        width,
                        ..ShortVolConfig::default()
                    }),
                    _ => StrategyConfig::ZeroDteIronCondor(ShortVolConfig {
                        short_delta: delta,
                        short_delta_min,
                        short_delta_max,
                        width,
                        ..ShortVolConfig::zero_dte()
                    }),
                }
            },
        )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Defined risk: whatever the settings, day and IV rank, every opening's worst loss is
    /// finite, positive and at most width × multiplier × quantity (the debit for a straddle).
    #[test]
    fn every_opening_has_defined_risk(
        config in any_config(),
        day in 0usize..40,
        rank in 0.0..=1.0f64,
    ) {
        let strategy = config.build().unwrap();
        let view = synthetic_view(day, [Some(rank), Some(rank), None], Some(Regime::Neutral));
        for p in strategy.propose(&view).unwrap() {
            let loss = p.max_loss();
            proptest::prop_assert!(loss.is_some_and(f64::is_finite), "{p}");
            let loss = loss.unwrap();
            let units = f64::from(p.order.multiplier()) * f64::from(p.order.quantity());
            let bound = p.width().map_or(-p.credit() * units, |w| w * units);
            proptest::prop_assert!(loss > 0.0 && loss <= bound + 1e-9, "{p}: {loss} > {bound}");
        }
    }
}
