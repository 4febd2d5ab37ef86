//! No look-ahead: what the engine does up to a session `t` — orders, fills, positions, the
//! equity curve — is identical when every price and VIX close after `t` is changed. The chains
//! are priced by the synthetic smile model on a history (as for underlyings without real
//! chains), so perturbing the history's future perturbs every later chain too.

use crate::common;

use chrono::NaiveDate;
use proptest::prelude::*;
use volta_core::{DailyBar, Price};
use volta_data::store::JournalStore;
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_engine::Signals;
use volta_features::RegimeConfig;
use volta_strategy::config::StrategiesConfig;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A real-looking history: a simulated path's bars and VIX.
fn history() -> (Vec<DailyBar>, Vec<(NaiveDate, f64)>) {
    let m = SyntheticMarket::generate(&SyntheticConfig {
        start: date(2020, 6, 1),
        end: date(2022, 3, 31),
        seed: 11,
        ..SyntheticConfig::default()
    })
    .unwrap();
    (
        m.bars().collect(),
        m.days().iter().map(|d| (d.bar.date, d.vix)).collect(),
    )
}

/// Every bar after `cut` scaled by `factor` (a crash or a rally), every VIX close after it
/// multiplied by `vix_factor`.
fn perturbed(
    bars: &[DailyBar],
    vix: &[(NaiveDate, f64)],
    cut: NaiveDate,
    factor: f64,
    vix_factor: f64,
) -> (Vec<DailyBar>, Vec<(NaiveDate, f64)>) {
    let scale = |p: Price| Price::from_f64((p.to_f64() * factor * 100.0).round() / 100.0).unwrap();
    let bars = bars
        .iter()
        .map(|b| {
            if b.date <= cut {
                return *b;
            }
            let o = &b.ohlcv;
            DailyBar::try_new(
                b.date,
                scale(o.open()),
                scale(o.high()),
                scale(o.low()),
                scale(o.close()),
                o.volume(),
            )
            .unwrap()
        })
        .collect();
    let vix = vix
        .iter()
        .map(|&(d, v)| (d, if d <= cut { v } else { v * vix_factor }))
        .collect();
    (bars, vix)
}

/// What the run did, as comparable rows, up to `cut` (inclusive).
type Trace = (Vec<String>, Vec<String>, Vec<String>);

fn run(bars: &[DailyBar], vix: &[(NaiveDate, f64)], cut: NaiveDate) -> Trace {
    let (start, end) = (date(2021, 7, 1), date(2022, 3, 31));
    let in_range: Vec<DailyBar> = bars.iter().copied().filter(|b| b.date >= start).collect();
    let market =
        SyntheticMarket::from_history(&SyntheticConfig::default(), &in_range, vix).unwrap();
    let mut feed = common::synthetic_feed(market, start, end);
    let signals = Signals::from_history(vix, bars, RegimeConfig::default()).unwrap();
    let strategy = Box::new(StrategiesConfig::default().build().unwrap());
    let (mut engine, _dir) = common::engine(strategy, signals, start);
    engine.run(&mut feed, &mut |_, _| {}).unwrap();
    let out = engine.finish(&volta_broker::Marks::new()).unwrap();
    let store = out.store;
    let until = cut.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap();
    let orders = store
        .orders("run")
        .unwrap()
        .into_iter()
        .filter(|o| o.created_at < until)
        // The status of an order placed on the cut day is known by the day's close.
        .map(|o| format!("{o:?}"))
        .collect();
    let fills = store
        .fills("run")
        .unwrap()
        .into_iter()
        .filter(|f| f.at < until)
        .map(|f| format!("{f:?}"))
        .collect();
    let equity = out
        .equity
        .iter()
        .filter(|e| e.date <= cut)
        .map(|e| format!("{e:?}"))
        .collect();
    (orders, fills, equity)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn the_run_up_to_t_ignores_everything_after_t(
        cut_index in 110usize..180,
        factor in prop_oneof![Just(0.8), Just(1.15)],
        vix_factor in prop_oneof![Just(0.6), Just(2.0)],
    ) {
        let (bars, vix) = history();
        let sessions: Vec<NaiveDate> =
            bars.iter().map(|b| b.date).filter(|d| *d >= date(2021, 7, 1)).collect();
        let cut = sessions[cut_index];
        let base = run(&bars, &vix, cut);
        let (pb, pv) = perturbed(&bars, &vix, cut, factor, vix_factor);
        let changed = run(&pb, &pv, cut);
        prop_assert!(!base.0.is_empty(), "the run trades before the cut");
        prop_assert_eq!(base.2.len(), cut_index + 2);
        prop_assert_eq!(base, changed);
    }
}

#[test]
fn a_perturbed_future_does_change_the_future() {
    // The test above would pass vacuously if the perturbation changed nothing: it does.
    let (bars, vix) = history();
    let cut = date(2021, 10, 1);
    let end = date(2022, 3, 31);
    let base = run(&bars, &vix, end);
    let (pb, pv) = perturbed(&bars, &vix, cut, 0.8, 2.0);
    assert_ne!(base, run(&pb, &pv, end));
}
