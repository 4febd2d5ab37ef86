//! Chain metrics on the real SPX chains (Cboe delayed 2019, iVolatility 2011) checked against
//! the VIX, the vendors' own forwards and gammas, and raw-row sums; on the synthetic market
//! against its known smile; and on bad input.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use volta_core::{
    ChainSnapshot, CoreError, DailyBar, OptionRight, Price, QualityPolicy, RatesAndYield,
    Underlying,
};
use volta_data::DataDir;
use volta_data::import::{ChainRequest, ImportedRates, import_chains, import_index, import_rates};
use volta_data::source::{ChainDate, ExpirySelection, MarketDataSource};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
use volta_data::{DataError, Result as DataResult};
use volta_features::FeatureError;
use volta_features::chain_metrics::{
    ChainAnalysis, analyse, summarise, summarise_series, summarise_snapshots,
};

/// SPX's dividend yield in 2011 and 2019, about 1.9-2.0 % (S&P Dow Jones Indices factsheets);
/// it enters only the carry forward the parity forward is checked against.
const SPX_DIVIDEND_YIELD: f64 = 0.019;

fn spx() -> Underlying {
    "SPX".parse().unwrap()
}

fn at(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

/// The 3-month T-bill rate (continuous) of the last observation on or before `date`.
fn rate_on(rates: &ImportedRates, date: NaiveDate) -> f64 {
    rates
        .observations
        .iter()
        .rev()
        .find(|o| o.date <= date && o.continuous.is_some())
        .and_then(|o| o.continuous)
        .unwrap()
}

/// One Cboe delayed SPX day, stamped 15:45: the files' time of day was not recorded, and
/// 15:45 (Cboe's end-of-day snapshot time) keeps the same-day SPXW expiry alive.
fn cboe_day(path: &Path) -> ChainSnapshot {
    let request = ChainRequest {
        allowed: vec![spx()],
        ..ChainRequest::default()
    };
    let imported = import_chains(path, &request).unwrap();
    assert_eq!(imported.days.len(), 1);
    let day = &imported.days[0];
    day.snapshot(at(day.quote_date, 15, 45)).unwrap()
}

fn cboe_files() -> Option<Vec<PathBuf>> {
    let first = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv.gz")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(first.parent()?)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    files.sort();
    Some(files)
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Every 2019 day: the 30-day ATM vol against the VIX close, the smile's signs, the forwards.
#[test]
fn spx_2019_against_vix() {
    let Some(files) = cboe_files() else { return };
    let vix = import_index(&DataDir::test_file("vol/VIX_History.csv").unwrap(), None).unwrap();
    let rates = import_rates(&DataDir::test_file("rates/DTB3.csv").unwrap(), None).unwrap();
    assert_eq!(files.len(), 54);
    let policy = QualityPolicy::default();
    let (mut atm, mut vix_close) = (Vec::new(), Vec::new());
    let mut positive_butterflies = 0;
    let mut worst_forward_gap: f64 = 0.0;
    for file in &files {
        let chain = cboe_day(file);
        let date = chain.as_of().date();
        let market = RatesAndYield::try_new(rate_on(&rates, date), SPX_DIVIDEND_YIELD).unwrap();
        let ChainAnalysis {
            summary: s,
            expiries,
        } = analyse(&chain, &market, &policy).unwrap();
        let v = vix.records.iter().find(|r| r.date == date).unwrap().close / 100.0;
        let atm30 = s.atm_iv_30d.unwrap();
        let ratio = atm30 / v;
        // VIX is the 30-day variance-swap level: the ATM vol sits below it by the skew's
        // premium. 2019-05-01 (0.695) is the exception to 0.70: an FOMC day whose snapshot
        // (SPX 2946.7) predates the late sell-off into the 2923.7 close that lifted the VIX.
        assert!(
            (0.65..1.0).contains(&ratio),
            "{date}: ATM30 {atm30} / VIX {v}"
        );
        let rr = s.risk_reversal_25d.unwrap();
        assert!(rr < -0.02, "{date}: RR25 {rr}");
        let bf = s.butterfly_25d.unwrap();
        // Three days of the late-May 2019 sell-off have a slightly concave 30-day smile
        // (BF25 down to −0.0007: the ATM vol above the wings' mean); all others are convex.
        assert!(bf > -0.002, "{date}: BF25 {bf}");
        positive_butterflies += usize::from(bf > 0.0);
        assert!(
            s.skew_slope.unwrap() < -0.3,
            "{date}: skew {:?}",
            s.skew_slope
        );
        assert!(s.atm_iv_front.is_some() && s.atm_iv_back.is_some() && s.term_slope.is_some());
        assert!(s.quotes_used > s.quotes_total / 2 && s.quotes_used < s.quotes_total);
        // Parity forwards against the carry forward off the file's spot. The spot is an
        // intraday print not always in step with the quotes, so a few basis points apart.
        for e in expiries.iter().filter(|e| (7.0..400.0).contains(&e.days())) {
            assert!(e.forward_from_parity);
            let carry = s.spot * ((market.rate() - market.dividend_yield()) * e.years).exp();
            let gap = (e.forward.unwrap() / carry - 1.0).abs();
            worst_forward_gap = worst_forward_gap.max(gap);
        }
        atm.push(atm30);
        vix_close.push(v);
    }
    // Measured 0.0031 (13 index points at 2900, long expiries on a day the spot print lagged).
    assert!(worst_forward_gap < 0.005, "forward gap {worst_forward_gap}");
    assert!(positive_butterflies >= 50, "{positive_butterflies} of 54");
    let d_atm: Vec<f64> = atm.windows(2).map(|w| w[1] - w[0]).collect();
    let d_vix: Vec<f64> = vix_close.windows(2).map(|w| w[1] - w[0]).collect();
    let rho = correlation(&d_atm, &d_vix);
    let level_ratio: f64 = atm.iter().zip(&vix_close).map(|(a, v)| a / v).sum::<f64>() / 54.0;
    eprintln!(
        "SPX 2019: corr(ΔATM30, ΔVIX) = {rho:.3}, mean ATM30/VIX = {level_ratio:.3}, \
         worst forward gap {worst_forward_gap:.5}, BF25 > 0 on {positive_butterflies}/54 days"
    );
    // Measured 0.87, intraday snapshots against 16:15 closes.
    assert!(rho > 0.85, "corr {rho}");
}

/// One row of the raw Cboe file, read without the importer.
struct RawRow {
    call: bool,
    open_interest: u64,
    gamma: f64,
    spot: f64,
}

fn raw_rows(path: &Path) -> Vec<RawRow> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (ty, oi, gamma, spot) = (
        col("type"),
        col("openinterest"),
        col("gamma"),
        col("underlying_last"),
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            RawRow {
                call: f[ty] == "call",
                open_interest: f[oi].parse().unwrap(),
                gamma: f[gamma].parse().unwrap(),
                spot: f[spot].parse().unwrap(),
            }
        })
        .collect()
}

/// Put/call open interest and the dealer gamma exposure of 2019-04-25, against sums over the
/// raw file's rows.
#[test]
fn spx_open_interest_and_gamma_against_raw_rows() {
    let Some(csv) = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv") else {
        return;
    };
    let chain = cboe_day(&csv);
    let market = RatesAndYield::try_new(0.0239, SPX_DIVIDEND_YIELD).unwrap();
    let s = summarise(&chain, &market, &QualityPolicy::default()).unwrap();
    let rows = raw_rows(&csv);
    assert_eq!(rows.len(), 13_340);
    assert_eq!(s.quotes_total, 13_340);
    let oi = |call: bool| -> u64 {
        rows.iter()
            .filter(|r| r.call == call)
            .map(|r| r.open_interest)
            .sum()
    };
    assert_eq!(s.call_open_interest, oi(true));
    assert_eq!(s.put_open_interest, oi(false));
    let ratio = oi(false) as f64 / oi(true) as f64;
    assert!((s.put_call_oi_ratio.unwrap() - ratio).abs() < 1e-15);
    // SPX is put-heavy: index puts are the hedging instrument.
    assert!((1.5..2.5).contains(&ratio), "P/C OI {ratio}");

    // GEX from Cboe's own gammas (per point of SPX): Σ ±Γ·OI·100·S²·0.01.
    let spot = rows[0].spot;
    let vendor: f64 = rows
        .iter()
        .map(|r| {
            let sign = if r.call { 1.0 } else { -1.0 };
            sign * r.gamma * r.open_interest as f64 * 100.0 * spot * spot * 0.01
        })
        .sum();
    let ours = s.dealer_gamma_exposure.unwrap();
    eprintln!("GEX 2019-04-25: ours {ours:.4e} $/1%, from Cboe's gammas {vendor:.4e}");
    assert!(ours > 0.0 && vendor > 0.0);
    assert!((ours / vendor - 1.0).abs() < 0.15, "{ours} vs {vendor}");
}

/// The four iVolatility days of January 2011: the 30-day ATM vol against the VIX, and the
/// parity forwards against iVolatility's own forward prices.
#[test]
fn spx_2011_ivolatility() {
    let Some(path) = DataDir::test_file("options/SPX_ivolatility_2011-01-03_to_2011-01-06.csv")
    else {
        return;
    };
    let vix = import_index(&DataDir::test_file("vol/VIX_History.csv").unwrap(), None).unwrap();
    let rates = import_rates(&DataDir::test_file("rates/DTB3.csv").unwrap(), None).unwrap();
    let request = ChainRequest {
        allowed: vec![spx()],
        ..ChainRequest::default()
    };
    let imported = import_chains(&path, &request).unwrap();
    assert_eq!(imported.days.len(), 4);
    // The vendor's forward per expiry (column `forward_price`), read from the raw text.
    let text = std::fs::read_to_string(&path).unwrap();
    let vendor_forward = |date: &str, expiry: &str| -> f64 {
        text.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f[3] == date && f[6] == expiry)
            .map(|f| f[18].parse().unwrap())
            .unwrap()
    };
    let snapshots: Vec<ChainSnapshot> = imported
        .days
        .iter()
        .map(|d| d.snapshot(at(d.quote_date, 16, 0)).unwrap())
        .collect();
    let market = |date| RatesAndYield::try_new(rate_on(&rates, date), SPX_DIVIDEND_YIELD).unwrap();
    let policy = QualityPolicy::default();
    let summaries = summarise_snapshots(&snapshots, market, &policy).unwrap();
    for (chain, s) in snapshots.iter().zip(&summaries) {
        let date = s.date;
        let v = vix.records.iter().find(|r| r.date == date).unwrap().close / 100.0;
        let ratio = s.atm_iv_30d.unwrap() / v;
        assert!((0.75..1.0).contains(&ratio), "{date}: ratio {ratio}");
        assert!(s.risk_reversal_25d.unwrap() < 0.0);
        assert!(s.skew_slope.unwrap() < 0.0);
        let a = analyse(chain, &market(date), &policy).unwrap();
        let feb = a
            .expiries
            .iter()
            .find(|e| e.expiry.format("%m").to_string() == "02" && e.root == "SPX")
            .unwrap();
        let theirs = vendor_forward(&date.format("%m/%d/%Y").to_string(), "02/18/2011");
        let ours = feb.forward.unwrap();
        eprintln!("{date}: ATM30/VIX {ratio:.3}; Feb forward {ours:.3} vs iVolatility {theirs}");
        // iVolatility's forward is a carry forward off the 16:00 close, ours the quotes' own (on 2011-01-03 its own IVs at the 1270 strike differ by a vol
        // point between call, 15.4 %, and put, 16.4 %: its forward is off parity).
        assert!((ours / theirs - 1.0).abs() < 0.003, "{ours} vs {theirs}");
    }
}

fn synthetic(chain: volta_data::synthetic::ChainParams) -> (SyntheticMarket, SyntheticConfig) {
    let config = SyntheticConfig {
        start: NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2023, 3, 14).unwrap(),
        chain,
        ..SyntheticConfig::default()
    };
    (SyntheticMarket::generate(&config).unwrap(), config)
}

/// The synthetic market's smile is known: the ATM vols, forwards and 30-day vol recovered
/// from its bid/ask mids match it.
#[test]
fn synthetic_recovers_the_model_smile() {
    let (market, config) = synthetic(volta_data::synthetic::ChainParams::default());
    let inputs = RatesAndYield::try_new(config.rate, config.dividend_yield).unwrap();
    let mut worst_atm: f64 = 0.0;
    for i in 0..market.days().len() {
        let chain = market.chain(i).unwrap();
        let smile = market.smile(i).unwrap();
        let a = analyse(&chain, &inputs, &QualityPolicy::default()).unwrap();
        for e in a.expiries.iter().filter(|e| e.days() >= 7.0) {
            let forward = e.forward.unwrap();
            assert!(e.forward_from_parity);
            assert!(
                (forward / smile.forward(e.years) - 1.0).abs() < 2e-4,
                "forward {forward} vs {}",
                smile.forward(e.years)
            );
            let gap = (e.atm_iv.unwrap() - smile.atm_vol(e.years)).abs();
            worst_atm = worst_atm.max(gap);
        }
        let s = &a.summary;
        let model30 = smile.atm_vol(30.0 / 365.0);
        assert!((s.atm_iv_30d.unwrap() - model30).abs() < 0.002);
        assert!(s.risk_reversal_25d.unwrap() < 0.0);
        assert!(s.skew_slope.unwrap() < 0.0);
    }
    eprintln!("synthetic: worst |ATM IV − model| over expiries ≥ 7 days: {worst_atm:.5}");
    assert!(worst_atm < 0.003, "{worst_atm}");
}

/// The risk reversal's and the skew slope's signs follow the model's skew.
#[test]
fn synthetic_risk_reversal_follows_the_skew() {
    let up = volta_data::synthetic::ChainParams {
        skew: 0.2,
        wing_asymmetry: 0.9,
        ..volta_data::synthetic::ChainParams::default()
    };
    let down = volta_data::synthetic::ChainParams::default();
    for (params, sign) in [(up, 1.0), (down, -1.0)] {
        let (market, config) = synthetic(params);
        let inputs = RatesAndYield::try_new(config.rate, config.dividend_yield).unwrap();
        let chain = market.chain(3).unwrap();
        let s = summarise(&chain, &inputs, &QualityPolicy::default()).unwrap();
        assert!(s.risk_reversal_25d.unwrap() * sign > 0.005, "{s:?}");
        assert!(s.skew_slope.unwrap() * sign > 0.0);
    }
}

fn spy_quote(symbol: &str, bid: &str, ask: &str, oi: u64) -> volta_core::OptionQuote {
    let mut q = volta_core::OptionQuote::new(
        symbol.parse().unwrap(),
        Some(bid.parse().unwrap()),
        Some(ask.parse().unwrap()),
    );
    q.open_interest = oi;
    q.volume = oi / 10;
    q
}

fn chain_of(quotes: Vec<volta_core::OptionQuote>) -> ChainSnapshot {
    ChainSnapshot::try_new(
        at(NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(), 15, 45),
        "SPY".parse().unwrap(),
        "368.79".parse().unwrap(),
        quotes,
    )
    .unwrap()
}

fn inputs() -> RatesAndYield {
    RatesAndYield::try_new(0.001, 0.015).unwrap()
}

#[test]
fn empty_chain_gives_nones() {
    let s = summarise(&chain_of(vec![]), &inputs(), &QualityPolicy::default()).unwrap();
    assert_eq!((s.quotes_total, s.quotes_used), (0, 0));
    assert_eq!(s.atm_iv_30d, None);
    assert_eq!(s.atm_iv_front, None);
    assert_eq!(s.term_slope, None);
    assert_eq!(s.put_call_oi_ratio, None);
    assert_eq!(s.put_call_volume_ratio, None);
    assert_eq!(s.dealer_gamma_exposure, None);
}

/// A small SPY 2021-01-29 slice (25 days out), quoted around a 20 % vol.
fn one_expiry_quotes() -> Vec<volta_core::OptionQuote> {
    vec![
        spy_quote("SPY   210129P00360000", "4.10", "4.14", 5000),
        spy_quote("SPY   210129C00360000", "12.30", "12.36", 3000),
        spy_quote("SPY   210129P00365000", "5.55", "5.59", 4000),
        spy_quote("SPY   210129C00365000", "8.75", "8.80", 2500),
        spy_quote("SPY   210129P00370000", "7.40", "7.45", 3000),
        spy_quote("SPY   210129C00370000", "5.60", "5.65", 6000),
        spy_quote("SPY   210129P00375000", "9.75", "9.81", 1000),
        spy_quote("SPY   210129C00375000", "3.10", "3.14", 7000),
    ]
}

#[test]
fn one_expiry_gives_slice_metrics_but_no_30_day_point() {
    let a = analyse(
        &chain_of(one_expiry_quotes()),
        &inputs(),
        &QualityPolicy::default(),
    )
    .unwrap();
    assert_eq!(a.expiries.len(), 1);
    let e = &a.expiries[0];
    assert!(e.forward_from_parity);
    // Parity at 370: F = 370 + (5.625 − 7.425)/D ≈ 368.2.
    assert!((e.forward.unwrap() - 368.2).abs() < 0.1, "{:?}", e.forward);
    let atm = e.atm_iv.unwrap();
    assert!((0.15..0.30).contains(&atm), "{atm}");
    let s = &a.summary;
    assert_eq!(s.atm_iv_30d, None);
    assert_eq!(s.risk_reversal_25d, None);
    assert_eq!(s.atm_iv_front, Some(atm));
    assert_eq!(s.atm_iv_back, None);
    assert_eq!(s.term_slope, None);
    assert_eq!(s.call_open_interest, 18_500);
    assert_eq!(s.put_open_interest, 13_000);
    assert!((s.put_call_oi_ratio.unwrap() - 13_000.0 / 18_500.0).abs() < 1e-15);
    assert!(s.dealer_gamma_exposure.unwrap() > 0.0);
    assert_eq!((s.quotes_total, s.quotes_used), (8, 8));
}

#[test]
fn only_calls_gives_nones_and_no_panic() {
    let calls: Vec<_> = one_expiry_quotes()
        .into_iter()
        .filter(|q| q.key.right() == OptionRight::Call)
        .collect();
    let a = analyse(&chain_of(calls), &inputs(), &QualityPolicy::default()).unwrap();
    let e = &a.expiries[0];
    assert!(!e.forward_from_parity);
    assert_eq!(e.atm_iv, None);
    assert_eq!(e.put_25d_iv, None);
    let s = &a.summary;
    assert_eq!(s.atm_iv_front, None);
    assert_eq!(s.put_call_oi_ratio, Some(0.0));
    assert_eq!(s.put_call_volume_ratio, Some(0.0));
    assert!(s.dealer_gamma_exposure.unwrap() > 0.0);
    // Only puts: no call volume, so no ratio rather than ∞.
    let puts: Vec<_> = one_expiry_quotes()
        .into_iter()
        .filter(|q| q.key.right() == OptionRight::Put)
        .collect();
    let s = summarise(&chain_of(puts), &inputs(), &QualityPolicy::default()).unwrap();
    assert_eq!(s.put_call_oi_ratio, None);
    assert_eq!(s.put_call_volume_ratio, None);
    assert!(s.dealer_gamma_exposure.unwrap() < 0.0);
}

#[test]
fn quotes_failing_the_gate_are_counted_not_used() {
    let mut quotes = one_expiry_quotes();
    // Crossed, zero bid, one-sided, and a mid below intrinsic value (no IV).
    quotes[0] = spy_quote("SPY   210129P00360000", "4.20", "4.10", 5000);
    quotes[1] = spy_quote("SPY   210129C00360000", "0", "12.36", 3000);
    quotes[2].ask = None;
    quotes[7] = spy_quote("SPY   210129C00375000", "0.01", "0.02", 7000);
    quotes[6] = spy_quote("SPY   210129P00375000", "1.00", "1.01", 1000);
    let s = summarise(&chain_of(quotes), &inputs(), &QualityPolicy::default()).unwrap();
    assert_eq!(s.quotes_total, 8);
    // Left: the 365 call, the 370 put and call. The 375 call's spread is wider than half
    // its mid; the 375 put's mid is below its intrinsic value at the parity forward (368.2),
    // so it has no IV.
    assert_eq!(s.quotes_used, 3);
}

#[test]
fn bad_spot_and_inputs_are_errors() {
    let chain = ChainSnapshot::try_new(
        at(NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(), 15, 45),
        "SPY".parse().unwrap(),
        Price::ZERO,
        one_expiry_quotes(),
    )
    .unwrap();
    let err = summarise(&chain, &inputs(), &QualityPolicy::default()).unwrap_err();
    assert!(matches!(err, FeatureError::BadInput { .. }), "{err}");
    // A non-finite rate or yield cannot be built, so it cannot reach `summarise`.
    assert!(matches!(
        RatesAndYield::try_new(f64::NAN, 0.0),
        Err(CoreError::InvalidValue { name: "rate", .. })
    ));
    assert!(matches!(
        RatesAndYield::try_new(0.01, f64::INFINITY),
        Err(CoreError::InvalidValue {
            name: "dividend_yield",
            ..
        })
    ));
}

/// A source serving the synthetic market's chains, with one session missing.
struct Gappy {
    market: SyntheticMarket,
    missing: NaiveDate,
}

impl MarketDataSource for Gappy {
    fn name(&self) -> &'static str {
        "gappy"
    }
    fn daily_bars(&self, _: &Underlying, _: NaiveDate, _: NaiveDate) -> DataResult<Vec<DailyBar>> {
        Ok(self.market.bars().collect())
    }
    fn expirations(&self, _: &Underlying, _: ChainDate) -> DataResult<Vec<NaiveDate>> {
        Ok(Vec::new())
    }
    fn chain(
        &self,
        _: &Underlying,
        date: ChainDate,
        _: ExpirySelection,
    ) -> DataResult<ChainSnapshot> {
        let ChainDate::On(date) = date else {
            return Err(DataError::InvalidRequest {
                reason: "latest".into(),
            });
        };
        let not_available = || DataError::NotAvailable {
            source_name: "gappy".into(),
            what: format!("chain on {date}"),
        };
        if date == self.missing {
            return Err(not_available());
        }
        self.market
            .chain(self.market.index_of(date).ok_or_else(not_available)?)
    }
}

#[test]
fn series_skips_missing_days() {
    let (market, config) = synthetic(volta_data::synthetic::ChainParams::default());
    let dates: Vec<NaiveDate> = market.days().iter().map(|d| d.bar.date).take(4).collect();
    let source = Gappy {
        market,
        missing: dates[1],
    };
    // A weekend date the source has never heard of is missing too.
    let mut asked = dates.clone();
    asked.push(NaiveDate::from_ymd_opt(2023, 3, 4).unwrap());
    let inputs = RatesAndYield::try_new(config.rate, config.dividend_yield).unwrap();
    let rows = summarise_series(
        &source,
        &"SPY".parse().unwrap(),
        &asked,
        |_| inputs,
        &QualityPolicy::default(),
    )
    .unwrap();
    let got: Vec<NaiveDate> = rows.iter().map(|r| r.date).collect();
    assert_eq!(got, [dates[0], dates[2], dates[3]]);
    assert!(rows.iter().all(|r| r.atm_iv_30d.is_some()));
}

/// The gamma exposure of one out-of-the-money call equals the textbook BSM gamma
/// (Haug 2007, §1.1) × OI × 100 × S² × 1 %, at the IV of its mid.
#[test]
fn gamma_exposure_of_one_call_is_bsm_gamma() {
    let quote = spy_quote("SPY   210129C00375000", "3.10", "3.14", 1000);
    let chain = chain_of(vec![quote]);
    let m = inputs();
    let a = analyse(&chain, &m, &QualityPolicy::default()).unwrap();
    let e = &a.expiries[0];
    // No put: the carry forward, so BSM with (r, q) and Black-76 on F are the same model.
    assert!(!e.forward_from_parity);
    let option = volta_pricing::Vanilla::try_new(
        OptionRight::Call,
        368.79,
        375.0,
        e.years,
        m.rate(),
        m.dividend_yield(),
    )
    .unwrap();
    let vol = volta_pricing::bsm::implied_vol(&option, 3.12).unwrap();
    let gamma = volta_pricing::bsm::greeks(&option, vol).unwrap().gamma;
    let expected = gamma * 1000.0 * 100.0 * 368.79 * 368.79 * 0.01;
    let got = a.summary.dealer_gamma_exposure.unwrap();
    assert!((got / expected - 1.0).abs() < 1e-9, "{got} vs {expected}");
    assert_eq!(a.summary.quotes_used, 1);
}

/// Real SPY bars and VIX closes of the 2020 crash through the synthetic market: the summaries'
/// 30-day ATM vol is the day's VIX (the synthetic smile is pinned to it), the real path's
/// crash shows in them (VIX closed at 82.69 on 2020-03-16), and their spot is the 15:45
/// snapshot's, not the close.
#[test]
fn synthetic_summaries_follow_the_real_vix() {
    let (Some(_spy), Some(vix_file)) = (
        DataDir::test_file("underlying/SPY_daily_unadjusted.csv"),
        DataDir::test_file("vol/VIX_History.csv"),
    ) else {
        return;
    };
    let (from, to) = (
        NaiveDate::from_ymd_opt(2020, 1, 2).unwrap(),
        NaiveDate::from_ymd_opt(2020, 4, 30).unwrap(),
    );
    let (bars, _) = volta_features::panel::load_bars(&DataDir::from_env(), "SPY", to).unwrap();
    let bars: Vec<DailyBar> = bars.into_iter().filter(|b| b.date >= from).collect();
    let vix: Vec<(NaiveDate, f64)> = import_index(&vix_file, None)
        .unwrap()
        .records
        .iter()
        .map(|r| (r.date, r.close))
        .collect();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let summaries = volta_features::synthetic_chains::synthetic_summaries(
        &SyntheticConfig::default(),
        &bars,
        &vix,
        &|| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(summaries.len(), bars.len(), "one summary per session");
    assert_eq!(calls.into_inner(), bars.len());
    assert!(summaries.windows(2).all(|w| w[0].date < w[1].date));
    let mut worst = 0.0_f64;
    for s in &summaries {
        let close = vix.iter().find(|(d, _)| *d == s.date).unwrap().1 / 100.0;
        let atm = s.atm_iv_30d.unwrap();
        worst = worst.max((atm - close).abs() / close);
        assert!(
            s.risk_reversal_25d.unwrap() < 0.0,
            "equity skew on {}",
            s.date
        );
    }
    assert!(
        worst < 0.03,
        "30-day ATM vol within 3 % of the VIX close, worst {worst}"
    );
    let crash = summaries
        .iter()
        .find(|s| s.date == NaiveDate::from_ymd_opt(2020, 3, 16).unwrap())
        .unwrap();
    assert!(
        (crash.atm_iv_30d.unwrap() - 0.8269).abs() < 0.025,
        "{:?}",
        crash.atm_iv_30d
    );
    // Snapped at 15:45 on the bridge from the real open to the real 239.85 close (issue 12
    // §5), within the real day's range.
    let market = SyntheticMarket::from_history(&SyntheticConfig::default(), &bars, &vix).unwrap();
    let index = market.index_of(crash.date).unwrap();
    let bar = bars[index].ohlcv;
    assert_eq!(
        crash.spot,
        market.snapshot_price(index).unwrap().to_f64(),
        "the synthetic snapshot's price"
    );
    assert!(
        crash.spot != 239.85 && (bar.low().to_f64()..=bar.high().to_f64()).contains(&crash.spot)
    );
}
