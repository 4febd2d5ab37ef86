//! Labels from the engine (issue 15 §2): every candidate traded forward alone with the
//! backtester's fills, fees and position management. A hand-checkable case (a candidate that
//! expires worthless: its P&L is the credit taken less the fees, its horizon the decision to
//! the expiry) and no look-ahead (a future replaced by garbage leaves every label that exited
//! before it unchanged).

use crate::common;

use chrono::NaiveDate;
use volta_core::NyseCalendar;
use volta_core::{DailyBar, Money, Price};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_engine::labels::CANDIDATE_FEATURES;
use volta_engine::{
    BacktestConfig, EngineConfig, FillModelKind, LabelReport, LabelSetup, Signals, label_candidates,
};
use volta_features::RegimeConfig;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A simulated history: bars and VIX closes.
fn history(seed: u64) -> (Vec<DailyBar>, Vec<(NaiveDate, f64)>) {
    let m = SyntheticMarket::generate(&SyntheticConfig {
        start: date(2020, 6, 1),
        end: date(2021, 12, 31),
        seed,
        ..SyntheticConfig::default()
    })
    .unwrap();
    (
        m.bars().collect(),
        m.days().iter().map(|d| (d.bar.date, d.vix)).collect(),
    )
}

const START: (i32, u32, u32) = (2021, 7, 1);
const END: (i32, u32, u32) = (2021, 10, 29);

/// The labels of the default strategies over START..END on chains priced from the history.
fn labels(bars: &[DailyBar], vix: &[(NaiveDate, f64)], fills: FillModelKind) -> LabelReport {
    let (start, end) = (date(START.0, START.1, START.2), date(END.0, END.1, END.2));
    let in_range: Vec<DailyBar> = bars.iter().copied().filter(|b| b.date >= start).collect();
    let market =
        SyntheticMarket::from_history(&SyntheticConfig::default(), &in_range, vix).unwrap();
    let mut feed = common::synthetic_feed(market, start, end);
    // Every strategy in every regime: the simulated months may sit in one regime whose row of
    // the default table runs nothing (low vol).
    let mut config = BacktestConfig::default();
    config.adaptive.table = volta_core::Regime::ALL
        .iter()
        .map(|r| {
            let all = volta_strategy::config::KINDS.map(str::to_owned).to_vec();
            (r.as_str().to_owned(), all)
        })
        .collect();
    config.fill_model = fills;
    let mut broker = volta_broker::SimConfig::new(
        Money::from_f64(100_000.0).unwrap(),
        start.and_hms_opt(0, 0, 0).unwrap(),
    );
    broker.fill_model = config.fill_model().unwrap();
    let setup = LabelSetup {
        config,
        broker,
        engine: EngineConfig::default(),
        signals: Signals::from_history(vix, bars, RegimeConfig::default()).unwrap(),
    };
    label_candidates(&mut feed, &setup, Vec::new(), &mut |_, _| {}).unwrap()
}

fn close_on(bars: &[DailyBar], day: NaiveDate) -> f64 {
    bars.iter()
        .find(|b| b.date == day)
        .map(|b| b.ohlcv.close().to_f64())
        .unwrap()
}

/// Hand-checkable labels. With fills certain (every limit that reaches the model's price
/// fills on its snapshot), a candidate's forward path is known from the rules alone:
///
/// - it enters on its decision;
/// - closed by the days-to-expiry rule (21 days for the strangle's condors), it exits on the
///   first session within 21 calendar days of its expiry, and its P&L is the closing net
///   price less the entry net price, per 100 shares, less the fees;
/// - expired worthless, every leg is out of the money at the expiry's close and its P&L is
///   the credit taken less the fees;
/// - its capital at risk is the widest wing less the credit (the risk manager's worst loss at
///   the order's limit), its return on risk the P&L over it.
#[test]
fn labels_follow_the_rules_by_hand() {
    let (bars, vix) = history(11);
    let report = labels(&bars, &vix, FillModelKind::Always);
    assert!(report.candidates > 0, "{report:?}");
    assert_eq!(
        report.candidates,
        report.labels.len() + report.unfilled + report.rejected + report.open_at_end
    );
    assert_eq!(report.unfilled, 0, "certain fills");
    let mut by_rule = 0;
    for l in &report.labels {
        let expiry = l.legs.iter().map(|g| g.expiry).min().unwrap();
        assert_eq!(l.entry, l.decision_date, "{l:?}");
        assert_eq!(
            (expiry - l.decision_date).num_days() as f64,
            l.features[0],
            "{}",
            CANDIDATE_FEATURES[0]
        );
        assert!(l.fees > 0.0);
        assert_eq!(l.profitable, l.pnl > 0.0);
        assert!((l.return_on_risk - l.pnl / l.capital_at_risk).abs() < 1e-12);
        let credit = l.features[1];
        let width = credit / l.features[2];
        if width.is_finite() && credit > 0.0 {
            let worst = (width - credit) * 100.0;
            assert!((l.capital_at_risk - worst).abs() < 0.01, "{worst} vs {l:?}");
        }
        match (l.exit_reason.as_str(), l.exit_price) {
            ("days_to_expiry", Some(exit_price)) => {
                by_rule += 1;
                let due = expiry - chrono::Days::new(21);
                let first = NyseCalendar
                    .sessions_between(due, expiry)
                    .unwrap()
                    .into_iter()
                    .next()
                    .unwrap();
                assert_eq!(l.exit, first.max(l.entry), "{l:?}");
                let by_hand = (exit_price - l.entry_price) * 100.0 - l.fees;
                assert!((l.pnl - by_hand).abs() < 1e-6, "{by_hand} vs {l:?}");
            }
            ("expired", None) => {
                by_rule += 1;
                assert_eq!(l.exit, expiry, "{l:?}");
                let close = close_on(&bars, expiry);
                for g in &l.legs {
                    let otm = match g.right {
                        'P' => g.strike <= close,
                        _ => g.strike >= close,
                    };
                    assert!(otm, "leg {g:?} in the money at {close}: {l:?}");
                }
                let by_hand = -l.entry_price * 100.0 - l.fees;
                assert!((l.pnl - by_hand).abs() < 1e-6, "{by_hand} vs {l:?}");
            }
            _ => {}
        }
    }
    assert!(by_rule > 5, "{:?}", report.labels);
}

/// The labels of candidates that exited by `cut` are bit-identical when every price and VIX
/// close after `cut` is garbage (and so every later chain); later ones are not (the garbage
/// does reach the labels that live through it).
#[test]
fn labels_read_nothing_after_their_exit() {
    let (bars, vix) = history(11);
    let cut = date(2021, 9, 15);
    let garbage = |p: Price| Price::from_f64((p.to_f64() * 1.7 * 100.0).round() / 100.0).unwrap();
    let bad_bars: Vec<DailyBar> = bars
        .iter()
        .map(|b| {
            if b.date <= cut {
                return *b;
            }
            let o = &b.ohlcv;
            DailyBar::try_new(
                b.date,
                garbage(o.open()),
                garbage(o.high()),
                garbage(o.low()),
                garbage(o.close()),
                o.volume() * 3,
            )
            .unwrap()
        })
        .collect();
    let bad_vix: Vec<(NaiveDate, f64)> = vix
        .iter()
        .map(|&(d, v)| (d, if d <= cut { v } else { v * 2.3 + 7.0 }))
        .collect();
    let clean = labels(&bars, &vix, FillModelKind::Uncertain);
    let dirty = labels(&bad_bars, &bad_vix, FillModelKind::Uncertain);
    let before = |r: &LabelReport| -> Vec<String> {
        r.labels
            .iter()
            .filter(|l| l.exit <= cut)
            .map(|l| format!("{l:?}"))
            .collect()
    };
    let (a, b) = (before(&clean), before(&dirty));
    assert!(a.len() > 5, "too few labels before the cut: {}", a.len());
    assert_eq!(a, b);
    let after = |r: &LabelReport| -> Vec<String> {
        r.labels
            .iter()
            .filter(|l| l.exit > cut)
            .map(|l| format!("{l:?}"))
            .collect()
    };
    assert_ne!(
        after(&clean),
        after(&dirty),
        "the garbage never reached a label"
    );
}

/// A candidate's key names its underlying, structure and every leg.
#[test]
fn candidate_keys_name_the_legs() {
    let (bars, vix) = history(11);
    let report = labels(&bars, &vix, FillModelKind::Uncertain);
    let l = &report.labels[0];
    assert!(
        l.key
            .starts_with(&format!("{} {}", l.underlying, l.structure)),
        "{}",
        l.key
    );
    assert_eq!(l.key.matches(", ").count() + 1, l.legs.len(), "{}", l.key);
}
