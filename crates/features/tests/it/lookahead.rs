//! No look-ahead, proved on real data: for random cut dates t, every feature at every date
//! ≤ t is bit-identical (`f64::to_bits`, NaN == NaN) between the run on the full data and a
//! run where the data after t is gone, or perturbed (prices scaled, values replaced by NaN,
//! rows removed) in every input: bars, VIX family, rate, peers, put/call ratios and chain
//! summaries.
//!
//! Inputs: the real SPY, QQQ, IWM bars, CBOE indices, DFF and put/call ratios of
//! 2018-01-02 … 2021-12-31 (1008 sessions), and chain summaries made up in this test from
//! VIX, with ten sessions missing (the synthetic stand-in for the options family: no real
//! chain history exists).

use crate::support::{d, data_dir};
#[allow(
    dead_code,
    reason = "each test crate uses a part of the shared helpers"
)]
use chrono::NaiveDate;
use proptest::prelude::*;
use volta_core::Underlying;
use volta_data::import::{
    ImportedRates, IndexRecord, PutCallRatios, RateSeries, import_index, import_put_call_ratios,
    import_rates,
};
use volta_features::chain_metrics::ChainSummary;
use volta_features::panel::{BarRow, IndexSeries, load_bars};
use volta_features::{DailyPanel, FeatureMatrix, Provenance, compute};

/// Every input of a panel, as plain data that a test can cut and perturb.
#[derive(Clone)]
struct Inputs {
    bars: Vec<BarRow>,
    indices: Vec<(IndexSeries, Vec<(NaiveDate, f64)>)>,
    rate: ImportedRates,
    peers: Vec<(String, Vec<(NaiveDate, f64)>)>,
    put_call: PutCallRatios,
    chains: Vec<ChainSummary>,
}

impl Inputs {
    fn panel(&self) -> DailyPanel {
        let mut p = DailyPanel::from_rows("SPY", &self.bars, Provenance::RealFile).unwrap();
        for (s, v) in &self.indices {
            p = p.with_index(*s, v, Provenance::RealFile).unwrap();
        }
        p = p.with_rate(&self.rate, Provenance::RealFile).unwrap();
        for (k, (name, v)) in self.peers.iter().enumerate() {
            p = p.with_peer(k + 1, name, v, Provenance::RealFile).unwrap();
        }
        p = p
            .with_put_call(&self.put_call, Provenance::RealFile)
            .unwrap();
        p.with_chains(&self.chains, Provenance::Synthetic).unwrap()
    }

    /// Drops everything dated after `t`.
    fn cut(&self, t: NaiveDate) -> Self {
        let mut x = self.clone();
        x.bars.retain(|b| b.date <= t);
        for (_, v) in &mut x.indices {
            v.retain(|p| p.0 <= t);
        }
        x.rate.observations.retain(|o| o.date <= t);
        for (_, v) in &mut x.peers {
            v.retain(|p| p.0 <= t);
        }
        x.put_call.days.retain(|p| p.date <= t);
        x.chains.retain(|c| c.date <= t);
        x
    }

    /// Perturbs everything dated after `t`: bars scaled by `k` (the bar stays consistent)
    /// with every `drop_every`-th row removed; index values scaled, or NaN every third
    /// row; rates shifted; peers scaled and thinned; put/call ratios NaN; chain metrics
    /// scaled or removed.
    fn perturb(&self, t: NaiveDate, k: f64, drop_every: usize) -> Self {
        let mut x = self.clone();
        let mut i = 0;
        x.bars.retain_mut(|b| {
            if b.date <= t {
                return true;
            }
            i += 1;
            b.open *= k;
            b.high *= k;
            b.low *= k;
            b.close *= k;
            b.volume = b.volume.map(|v| (v * k).round());
            i % drop_every != 0
        });
        for (_, v) in &mut x.indices {
            for (j, p) in v.iter_mut().filter(|p| p.0 > t).enumerate() {
                p.1 = if j % 3 == 1 { f64::NAN } else { p.1 * k };
            }
        }
        for o in x.rate.observations.iter_mut().filter(|o| o.date > t) {
            o.continuous = o.continuous.map(|r| r + 0.01);
        }
        for (_, v) in &mut x.peers {
            for p in v.iter_mut().filter(|p| p.0 > t) {
                p.1 *= k;
            }
            let mut j = 0;
            v.retain(|p| {
                j += usize::from(p.0 > t);
                p.0 <= t || j % drop_every != 1
            });
        }
        for day in x.put_call.days.iter_mut().filter(|p| p.date > t) {
            day.ratios.iter_mut().for_each(|r| *r = None);
        }
        for c in x.chains.iter_mut().filter(|c| c.date > t) {
            c.atm_iv_30d = c.atm_iv_30d.map(|v| v * k);
            c.risk_reversal_25d = None;
            c.call_volume *= 2;
        }
        let mut j = 0;
        x.chains.retain(|c| {
            j += usize::from(c.date > t);
            c.date <= t || j % drop_every != 2
        });
        x
    }
}

fn closes(records: &[IndexRecord]) -> Vec<(NaiveDate, f64)> {
    records.iter().map(|r| (r.date, r.close)).collect()
}

fn load() -> Option<Inputs> {
    let dir = data_dir()?;
    let (from, to) = (d(2018, 1, 2), d(2021, 12, 31));
    let in_range = |x: &NaiveDate| (from..=to).contains(x);
    let bars: Vec<BarRow> = load_bars(&dir, "SPY", to)
        .unwrap()
        .0
        .iter()
        .filter(|b| in_range(&b.date))
        .map(|b| BarRow::from_bar(b, true))
        .collect();
    let indices = IndexSeries::ALL
        .iter()
        .map(|s| {
            let r = import_index(&dir.cboe_index(s.symbol()), None).unwrap();
            let mut v = closes(&r.records);
            v.retain(|p| in_range(&p.0));
            (*s, v)
        })
        .collect();
    let mut rate = import_rates(&dir.fred_rate(RateSeries::Dff), Some(RateSeries::Dff)).unwrap();
    rate.observations.retain(|o| in_range(&o.date));
    let peers = ["QQQ", "IWM"]
        .iter()
        .map(|p| {
            let v: Vec<(NaiveDate, f64)> = load_bars(&dir, p, to)
                .unwrap()
                .0
                .iter()
                .filter(|b| in_range(&b.date))
                .map(|b| (b.date, b.ohlcv.close().to_f64()))
                .collect();
            ((*p).to_owned(), v)
        })
        .collect();
    let mut put_call = import_put_call_ratios(&dir.put_call_ratios()).unwrap();
    put_call.days.retain(|p| in_range(&p.date));
    // Chain summaries made up from VIX, missing for ten sessions in mid-2018.
    let vix = import_index(&dir.vix(), None).unwrap();
    let spy = Underlying::try_new("SPY").unwrap();
    let chains = vix
        .records
        .iter()
        .filter(|r| in_range(&r.date))
        .enumerate()
        .filter(|(i, _)| !(100..110).contains(i))
        .map(|(i, r)| {
            let iv = r.close / 100.0;
            ChainSummary {
                date: r.date,
                underlying: spy.clone(),
                spot: 300.0,
                atm_iv_30d: Some(iv * 0.92),
                atm_iv_front: Some(iv * 0.9),
                atm_iv_back: Some(iv * 0.95 + 0.01),
                risk_reversal_25d: Some(-0.05 - iv * 0.1),
                butterfly_25d: Some(0.004 + iv * 0.01),
                skew_slope: Some(-0.2 - iv),
                term_slope: Some(0.01 - iv * 0.05),
                put_call_volume_ratio: Some(1.2 + (i % 5) as f64 * 0.1),
                put_call_oi_ratio: Some(1.6),
                call_volume: 1_000_000 + (i as u64 % 13) * 50_000,
                put_volume: 1_300_000,
                call_open_interest: 5_000_000 + (i as u64 % 17) * 10_000,
                put_open_interest: 8_000_000,
                dealer_gamma_exposure: Some(2e9 - iv * 1e10),
                quotes_total: 5000,
                quotes_used: 4000,
            }
        })
        .collect();
    Some(Inputs {
        bars,
        indices,
        rate,
        peers,
        put_call,
        chains,
    })
}

/// Asserts every feature on every date ≤ t agrees bit for bit.
fn assert_same_up_to(full: &FeatureMatrix, other: &FeatureMatrix, t: NaiveDate) {
    let rows = full.dates().partition_point(|x| *x <= t);
    assert_eq!(&full.dates()[..rows], &other.dates()[..rows]);
    for name in full.names() {
        let (a, b) = (full.column(name).unwrap(), other.column(name).unwrap());
        for i in 0..rows {
            assert!(
                a[i].to_bits() == b[i].to_bits(),
                "{name} on {}: {} (full) vs {} (cut at {t})",
                full.dates()[i],
                a[i],
                b[i]
            );
        }
    }
}

#[test]
fn the_full_run_has_values_in_every_family() {
    // Guards the property below against passing vacuously (all NaN).
    let Some(inputs) = load() else { return };
    let m = compute(&inputs.panel()).unwrap();
    let last = *m.dates().last().unwrap();
    for name in [
        "ret_21d",
        "rv_yang_zhang_21d",
        "vix_vix3m",
        "atm_iv_rank_252d",
        "pc_total",
        "amihud_63d",
        "days_to_opex",
        "peer2_beta_63d",
        "excess_ret_21d",
    ] {
        assert!(!m.value(name, last).unwrap().is_nan(), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn no_feature_looks_ahead(cut in 260_usize..1000, k in 0.5_f64..2.0, drop_every in 2_usize..7) {
        let Some(inputs) = load() else { return Ok(()) };
        let full_panel = inputs.panel();
        let t = full_panel.dates()[cut.min(full_panel.dates().len() - 2)];
        let full = compute(&full_panel).unwrap();
        let truncated = compute(&inputs.cut(t).panel()).unwrap();
        prop_assert_eq!(*truncated.dates().last().unwrap(), t);
        assert_same_up_to(&full, &truncated, t);
        let perturbed = compute(&inputs.perturb(t, k, drop_every).panel()).unwrap();
        assert_same_up_to(&full, &perturbed, t);
        // The perturbation is real: something after t changed.
        let r = full.column("ret_1d").unwrap();
        let p = perturbed.column("ret_1d").unwrap();
        let rows = full.dates().partition_point(|x| *x <= t);
        prop_assert!(r[rows..].iter().zip(&p[rows..]).any(|(a, b)| a.to_bits() != b.to_bits()));
    }
}
