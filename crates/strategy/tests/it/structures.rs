//! Contract selection and structures on a real SPX chain (Cboe delayed quotes, 2019-04-25).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use volta_core::order::LegAction;
use volta_core::{ChainSnapshot, QualityPolicy, RatesAndYield};
use volta_data::DataDir;
use volta_data::import::{ChainRequest, import_chains};
use volta_pricing::OptionRight;
use volta_strategy::select::{ExpirySlice, choose_expiry, days_to, gate, tradeable_root};
use volta_strategy::structures::{
    Pricing, Structure, credit_spread, iron_butterfly, iron_condor, long_straddle,
};

fn rates() -> RatesAndYield {
    RatesAndYield::try_new(0.024, 0.019).unwrap()
}

fn spx_day() -> Option<ChainSnapshot> {
    spx_on(4, 25)
}

/// The real SPX chain of 2019-`month`-`day`, as of 15:45.
fn spx_on(month: u32, day: u32) -> Option<ChainSnapshot> {
    let path = DataDir::test_file(format!(
        "options/SPX_cboe_delayed_2019/SPX_2019{month:02}{day:02}.csv.gz"
    ))?;
    let request = ChainRequest {
        allowed: vec!["SPX".parse().unwrap()],
        ..ChainRequest::default()
    };
    let quotes = import_chains(&path, &request).unwrap().days.remove(0);
    let as_of = NaiveDate::from_ymd_opt(2019, month, day)
        .unwrap()
        .and_hms_opt(15, 45, 0)
        .unwrap();
    Some(quotes.snapshot(as_of).unwrap())
}

fn roots(order: &volta_core::order::ComboOrder) -> BTreeSet<String> {
    order
        .legs()
        .iter()
        .map(|l| key_of(l).root().to_owned())
        .collect()
}

#[test]
fn a_condor_on_an_expiry_both_roots_list_is_built_from_one_root() {
    // 2019-06-21 lists the AM-settled SPX monthly and the PM-settled SPXW on the same strikes:
    // the condor of the issue (opened 2019-05-24) mixed them and lost beyond its width.
    let Some(chain) = spx_on(5, 24) else { return };
    let (gated, _) = gate(&chain, &QualityPolicy::default()).unwrap();
    let june = NaiveDate::from_ymd_opt(2019, 6, 21).unwrap();
    let listed: BTreeSet<&str> = gated.quotes(june).iter().map(|q| q.key.root()).collect();
    assert_eq!(listed, BTreeSet::from(["SPX", "SPXW"]));
    let slice = ExpirySlice::new(&gated, june, rates());
    assert!(["SPX", "SPXW"].contains(&slice.root.as_str()));
    let condor = iron_condor(&slice, 0.16, 25.0, Pricing::default())
        .unwrap()
        .unwrap();
    assert_eq!(roots(&condor.order), BTreeSet::from([slice.root.clone()]));
    for root in ["SPX", "SPXW"] {
        let one = ExpirySlice::for_root(&gated, june, root, rates());
        assert!(one.puts.len() > 50, "{root}: {} puts", one.puts.len());
        let condor = iron_condor(&one, 0.16, 25.0, Pricing::default())
            .unwrap()
            .unwrap();
        assert_eq!(roots(&condor.order), BTreeSet::from([root.to_owned()]));
    }
}

#[test]
fn on_its_settlement_day_an_am_series_no_longer_trades() {
    let Some(thursday) = spx_on(6, 20) else {
        return;
    };
    let Some(friday) = spx_on(6, 21) else { return };
    let june = NaiveDate::from_ymd_opt(2019, 6, 21).unwrap();
    let (thursday, _) = gate(&thursday, &QualityPolicy::default()).unwrap();
    // The file still lists the SPX monthly on its settlement day.
    assert!(friday.quotes(june).iter().any(|q| q.key.root() == "SPX"));
    let (friday, _) = gate(&friday, &QualityPolicy::default()).unwrap();
    // Thursday 06-20 is the SPX monthly's last trading day: both roots still trade.
    assert!(tradeable_root(&thursday, june).is_some());
    // On Friday its value is fixed by the opening prints: only SPXW (PM) trades.
    assert_eq!(tradeable_root(&friday, june).as_deref(), Some("SPXW"));
    let slice = ExpirySlice::new(&friday, june, rates());
    assert!(
        slice
            .puts
            .iter()
            .chain(&slice.calls)
            .all(|c| c.quote.key.root() == "SPXW")
    );
}

#[test]
fn the_gate_counts_every_quote_once() {
    let Some(chain) = spx_day() else { return };
    let (gated, counts) = gate(&chain, &QualityPolicy::default()).unwrap();
    assert_eq!(counts.total, chain.len() as u64);
    assert_eq!(
        counts.missing + counts.zero_bid + counts.crossed + counts.stale + counts.kept,
        counts.total
    );
    assert_eq!(counts.kept, gated.len() as u64);
    // Counted independently from the raw quotes: 748 far out-of-the-money options bid at zero.
    let zero_bids = chain
        .iter()
        .filter(|q| q.bid.is_some_and(|b| b.to_f64() == 0.0))
        .count() as u64;
    assert_eq!(counts.zero_bid, zero_bids);
    assert_eq!(counts.zero_bid, 748);
    assert!(
        gated
            .iter()
            .all(|q| q.bid.is_some_and(|b| b.to_f64() > 0.0))
    );
}

#[test]
fn a_16_delta_put_credit_spread_on_the_real_chain() {
    let Some(chain) = spx_day() else { return };
    let (gated, _) = gate(&chain, &QualityPolicy::default()).unwrap();
    let expiry = choose_expiry(&gated, 30, 45, 38).unwrap();
    let dte = days_to(gated.as_of(), expiry);
    assert!((30..=45).contains(&dte), "{expiry}: {dte} days");
    let slice = ExpirySlice::new(&gated, expiry, rates());
    assert!(slice.puts.len() > 50 && slice.calls.len() > 50);
    // Out-of-the-money put deltas fall from 0 toward −0.5 as the strike rises (the analytics
    // on real quotes; in the money, quotes are sparse and mids can sit below intrinsic).
    let otm: Vec<_> = slice
        .puts
        .iter()
        .filter(|p| p.strike <= slice.spot)
        .collect();
    assert!(otm.len() > 50);
    assert!(otm.windows(2).all(|w| w[0].delta >= w[1].delta - 1e-9));
    assert!(slice.puts.iter().all(|p| (-1.0..0.0).contains(&p.delta)));

    let trade = credit_spread(&slice, OptionRight::Put, 0.16, 25.0, Pricing::default())
        .unwrap()
        .unwrap();
    assert_eq!(trade.structure, Structure::PutCreditSpread);
    let legs = trade.order.legs();
    assert_eq!(legs.len(), 2);
    assert_eq!(legs[0].action, LegAction::Sell);
    let short = slice
        .puts
        .iter()
        .find(|c| c.quote.key == *key_of(&legs[0]))
        .unwrap();
    let long = slice
        .puts
        .iter()
        .find(|c| c.quote.key == *key_of(&legs[1]))
        .unwrap();
    assert!(
        (short.delta + 0.16).abs() < 0.02,
        "short delta {}",
        short.delta
    );
    assert!((short.strike - long.strike - 25.0).abs() <= 5.0);
    // By hand from the file's quotes: mid = short mid − long mid, natural = short bid − long ask.
    let mid = short.mid() - long.mid();
    let natural = short.bid - long.ask;
    assert!((trade.mid + mid).abs() < 1e-9);
    assert!((trade.natural + natural).abs() < 1e-9);
    // The limit sits half way between mid and natural, moved toward natural onto SPX's $0.05
    // complex grid.
    let credit: f64 = trade.credit().to_string().parse().unwrap();
    let halfway = 0.5 * (mid + natural);
    assert!(
        credit <= halfway + 1e-9 && credit > halfway - 0.05,
        "{credit} vs {halfway}"
    );
    assert!(trade.order.limit_on_grid());
    assert!(
        (credit * 20.0 - (credit * 20.0).round()).abs() < 1e-9,
        "{credit}"
    );
    assert!(
        credit > 0.5,
        "a 25-wide 16-delta SPX put spread pays real credit: {credit}"
    );
    // A short put spread is long delta and short vega.
    assert!(trade.greeks.dollar_delta > 0.0 && trade.greeks.vega_per_point < 0.0);
    // Worst loss: width − credit, × 100.
    let width = short.strike - long.strike;
    let loss = trade
        .order
        .max_loss_at(trade.order.limit())
        .unwrap()
        .unwrap();
    let loss: f64 = loss.to_string().parse().unwrap();
    assert!((loss - (width - credit) * 100.0).abs() < 1e-6);
}

fn key_of(leg: &volta_core::order::Leg) -> &volta_core::ContractKey {
    match &leg.instrument {
        volta_core::order::Instrument::Option(c) => c.key(),
        volta_core::order::Instrument::Stock(_) => panic!("option legs only"),
    }
}

#[test]
fn condors_butterflies_and_straddles_on_the_real_chain() {
    let Some(chain) = spx_day() else { return };
    let (gated, _) = gate(&chain, &QualityPolicy::default()).unwrap();
    let expiry = choose_expiry(&gated, 30, 45, 38).unwrap();
    let slice = ExpirySlice::new(&gated, expiry, rates());
    let condor = iron_condor(&slice, 0.20, 25.0, Pricing::default())
        .unwrap()
        .unwrap();
    let strikes: Vec<f64> = condor
        .order
        .legs()
        .iter()
        .map(|l| key_of(l).strike().to_f64())
        .collect();
    assert!(strikes.windows(2).all(|w| w[0] < w[1]), "{strikes:?}");
    assert!(strikes[1] < slice.spot && strikes[2] > slice.spot);
    assert!(condor.credit() > Decimal::ZERO);
    // Equity skew: the 20-delta put is further from the money than the 20-delta call.
    assert!(slice.spot - strikes[1] > strikes[2] - slice.spot);

    let fly = iron_butterfly(&slice, 50.0, Pricing::default())
        .unwrap()
        .unwrap();
    let k: Vec<f64> = fly
        .order
        .legs()
        .iter()
        .map(|l| key_of(l).strike().to_f64())
        .collect();
    assert_eq!(k[1], k[2]);
    assert!((k[1] - slice.spot).abs() <= 5.0);
    assert!(fly.credit() > condor.credit());

    let straddle = long_straddle(&slice, Pricing::default()).unwrap().unwrap();
    assert!(straddle.credit() < Decimal::ZERO, "a straddle is a debit");
    assert!(straddle.greeks.vega_per_point > 0.0);
    // A quick sanity check against the ATM straddle rule of thumb: ≈ 0.8·S·σ·√T.
    let atm_iv = slice.at_the_money(OptionRight::Call).unwrap().iv;
    let rule = 0.8 * slice.spot * atm_iv * slice.years.sqrt();
    assert!(
        (straddle.mid / rule - 1.0).abs() < 0.1,
        "{} vs {rule}",
        straddle.mid
    );
}

/// Over every real SPX day of 2019 and each expiry from one week to two months out: every
/// condor and butterfly the structures build has one root that still trades that day, a limit
/// on SPX's $0.05 complex grid, and a worst loss bounded by its width (the mixed-root condor of
/// 2019-05-24 could lose more).
#[test]
fn every_structure_on_the_real_2019_chains_has_one_tradeable_root_and_a_grid_limit() {
    let Some(dir) = DataDir::test_file("options/SPX_cboe_delayed_2019") else {
        return;
    };
    let mut days: Vec<(u32, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stamp = name
                .strip_prefix("SPX_2019")?
                .strip_suffix(".csv.gz")?
                .to_owned();
            Some((stamp[..2].parse().ok()?, stamp[2..].parse().ok()?))
        })
        .collect();
    days.sort_unstable();
    assert_eq!(days.len(), 54);
    let mut built = 0;
    for (month, day) in days {
        let chain = spx_on(month, day).unwrap();
        let (gated, _) = gate(&chain, &QualityPolicy::default()).unwrap();
        let expiries: Vec<NaiveDate> = gated
            .expiries()
            .filter(|e| (7..=60).contains(&days_to(gated.as_of(), *e)))
            .collect();
        for expiry in expiries {
            let slice = ExpirySlice::new(&gated, expiry, rates());
            let trades = [
                iron_condor(&slice, 0.16, 25.0, Pricing::default()).unwrap(),
                iron_butterfly(&slice, 50.0, Pricing::default()).unwrap(),
            ];
            for trade in trades.into_iter().flatten() {
                let order = &trade.order;
                assert_eq!(roots(order), BTreeSet::from([slice.root.clone()]));
                assert!(order.limit_on_grid(), "{} on {month}-{day}", order.limit());
                assert!(
                    volta_core::OptionContract::from_key(key_of(&order.legs()[0]).clone())
                        .last_trading_day()
                        >= gated.as_of().date()
                );
                let strikes: Vec<f64> = order
                    .legs()
                    .iter()
                    .map(|l| key_of(l).strike().to_f64())
                    .collect();
                let width = (strikes[1] - strikes[0]).max(strikes[3] - strikes[2]);
                let worst = order.max_loss_at(order.limit()).unwrap().unwrap();
                let worst: f64 = worst.to_string().parse().unwrap();
                assert!(
                    worst <= width * 100.0 + 1e-6,
                    "{month}-{day} {expiry}: worst {worst} beyond width {width}"
                );
                built += 1;
            }
        }
    }
    assert!(built > 500, "{built} structures built");
}
