//! The 0DTE iron condor through the engine: on a synthetic SPY market snapped in the morning
//! (10:30, five and a half hours before the close) and listing 25 strikes each side of the
//! money on every expiry (as SPY's same-day chains do), the condor opens on days with a
//! same-day expiry and settles at that day's close. (The default market is snapped at 15:45,
//! when a same-day option has a quarter of an hour left and too little premium to sell.)

use crate::common;

use chrono::NaiveDate;
use volta_data::synthetic::{ChainParams, SyntheticConfig, SyntheticMarket};
use volta_strategy::config::{StrategiesConfig, StrategyConfig};
use volta_strategy::strategies::Width;
use volta_strategy::{AdaptiveConfig, ShortVolConfig};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn the_zero_dte_condor_opens_and_settles_the_same_day() {
    let market = SyntheticMarket::generate(&SyntheticConfig {
        start: date(2021, 6, 1),
        end: date(2022, 9, 30),
        chain: ChainParams {
            snapshot_minutes_before_close: 330,
            min_strikes_each_side: 25,
            ..ChainParams::default()
        },
        ..SyntheticConfig::default()
    })
    .unwrap();
    let signals = common::signals_of(&market);
    let (start, end) = (date(2022, 1, 3), date(2022, 9, 30));
    let mut feed = common::synthetic_feed(market, start, end);
    let strategies = StrategiesConfig {
        strategies: vec![StrategyConfig::ZeroDteIronCondor(ShortVolConfig {
            short_delta: 0.15,
            width: Width::Strikes(3),
            ..ShortVolConfig::zero_dte()
        })],
        adaptive: AdaptiveConfig::everywhere("zero_dte_iron_condor"),
    };
    let (mut engine, _dir) = common::engine(Box::new(strategies.build().unwrap()), signals, start);
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    let out = engine.finish(&volta_broker::Marks::new()).unwrap();
    let condors: Vec<_> = out
        .trades
        .iter()
        .filter(|t| t.strategy == "zero_dte_iron_condor")
        .collect();
    assert!(
        !condors.is_empty(),
        "{:?} {:?} {:?}",
        out.trades,
        out.rejections,
        out.gate
    );
    for t in &condors {
        assert_eq!(t.structure, "iron_condor");
        assert_eq!(t.closed, Some(t.opened), "settled the day it opened: {t:?}");
        assert!(t.entry_price < 0.0, "a credit: {t:?}");
        // Days without a same-day expiry have no trade: SPY listed Monday, Wednesday and
        // Friday expiries in 2022 before the daily ones of November.
        let weekday = chrono::Datelike::weekday(&t.opened);
        assert!(
            matches!(
                weekday,
                chrono::Weekday::Mon | chrono::Weekday::Wed | chrono::Weekday::Fri
            ),
            "{t:?}"
        );
    }
    assert!(condors.iter().any(|t| t.exit_reason == "expired"));
}
