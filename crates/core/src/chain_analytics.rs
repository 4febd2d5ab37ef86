//! Derived columns of a chain, for any source: days to expiry, mid, spread, moneyness, implied
//! volatility (the vendor's, or recomputed), and quality flags. Quotes are described, never
//! dropped.
//!
//! Here rather than in volta-data so that every layer — features, strategies, the engine —
//! reads a chain the same way without depending on the data crate (its store, HTTP client and
//! Parquet reader).
//!
//! ```
//! use volta_core::{ChainSnapshot, OptionQuote, QualityPolicy, RatesAndYield, chain_rows};
//!
//! # fn main() -> Result<(), volta_core::CoreError> {
//! let as_of = chrono::NaiveDate::from_ymd_opt(2021, 1, 4)
//!     .unwrap()
//!     .and_hms_opt(15, 45, 0)
//!     .unwrap();
//! let put = OptionQuote::new(
//!     "SPY   210129P00345000".parse()?,
//!     Some("2.76".parse()?),
//!     Some("2.78".parse()?),
//! );
//! let chain = ChainSnapshot::try_new(as_of, "SPY".parse()?, "368.79".parse()?, [put])?;
//! let rates = RatesAndYield::try_new(0.001, 0.015)?;
//! let rows = chain_rows(&chain, rates, &QualityPolicy::default());
//! assert!(rows[0].is_usable());
//! assert!((rows[0].implied_vol.unwrap() - 0.25).abs() < 0.05);
//! # Ok(())
//! # }
//! ```

use chrono::NaiveDateTime;
use volta_pricing::{Vanilla, bsm};

use crate::calendar::{REGULAR_CLOSE, REGULAR_OPEN};
use crate::{
    ChainSnapshot, NyseCalendar, OptionContract, OptionQuote, QualityPolicy, QuoteFlag, QuoteFlags,
    RatesAndYield, SettlementTime,
};

/// Minutes in a 365-day year: option times to expiry are ACT/365 in minutes.
pub const MINUTES_PER_YEAR: f64 = 365.0 * 24.0 * 60.0;

/// Where [`ChainRow::implied_vol`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvSource {
    /// The vendor's published IV.
    Vendor,
    /// Recomputed from the mid with Black-Scholes-Merton (European; see [`chain_rows`]).
    Recomputed,
    /// No IV: no two-sided mid, expired, or the mid outside the no-arbitrage bounds.
    Unavailable,
}

/// One quote of a chain with its derived columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainRow<'a> {
    /// The quote.
    pub quote: &'a OptionQuote,
    /// Calendar days from the snapshot to the expiry's settlement (16:00 for PM settlement, or
    /// the early close; 09:30 for AM), fractional; ≤ 0 once settled.
    pub days_to_expiry: f64,
    /// The same in years, ACT/365.
    pub years: f64,
    /// (bid + ask) / 2 in dollars; `None` without both sides.
    pub mid: Option<f64>,
    /// (ask − bid) / mid (0.05 = 5 %); `None` without both sides or with a zero mid.
    pub spread_fraction: Option<f64>,
    /// Strike / spot.
    pub moneyness: f64,
    /// ln(strike / spot).
    pub log_moneyness: f64,
    /// ln(strike / forward), forward = spot·e^{(r−q)T}: the smile's coordinate.
    pub log_forward_moneyness: f64,
    /// Implied volatility per √year.
    pub implied_vol: Option<f64>,
    /// Where `implied_vol` came from.
    pub iv_source: IvSource,
    /// The quote's quality flags (crossed, zero bid, wide, stale, …) under the policy.
    pub flags: QuoteFlags,
}

impl ChainRow<'_> {
    /// A two-sided, uncrossed quote with a positive bid and an IV: fit for analytics.
    #[must_use]
    pub fn is_usable(&self) -> bool {
        !(self.flags.contains(QuoteFlag::MissingBid)
            || self.flags.contains(QuoteFlag::MissingAsk)
            || self.flags.contains(QuoteFlag::ZeroBid)
            || self.flags.contains(QuoteFlag::Crossed))
            && self.implied_vol.is_some()
    }
}

/// Settlement instant of a contract: the session's close (or 16:00) for PM, the open for AM.
fn settlement(quote: &OptionQuote) -> NaiveDateTime {
    let contract = OptionContract::from_key(quote.key.clone());
    let date = quote.key.expiry();
    let time = match contract.settlement_time() {
        SettlementTime::Am => REGULAR_OPEN,
        SettlementTime::Pm => NyseCalendar
            .session_close(date)
            .ok()
            .flatten()
            .unwrap_or(REGULAR_CLOSE),
    };
    date.and_time(time)
}

/// The derived columns of every quote of `chain`, in chain order, with `rates` (continuously
/// compounded, per year) for forwards and implied volatilities.
///
/// The IV is the vendor's when the quote carries one; otherwise it is recomputed from the mid
/// with [`volta_pricing::bsm::implied_vol`] (European exercise: for American equity options
/// this slightly overstates the IV of deep in-the-money puts and of calls before dividends).
/// Crossed, zero-bid, one-sided and wide quotes keep their row, with their flags set.
#[must_use]
pub fn chain_rows<'a>(
    chain: &'a ChainSnapshot,
    rates: RatesAndYield,
    policy: &QualityPolicy,
) -> Vec<ChainRow<'a>> {
    let (rate, dividend_yield) = (rates.rate(), rates.dividend_yield());
    let as_of = chain.as_of();
    let spot = chain.underlying_price().to_f64();
    chain
        .iter()
        .map(|quote| {
            let minutes = (settlement(quote) - as_of).num_minutes() as f64;
            let years = minutes / MINUTES_PER_YEAR;
            let strike = quote.key.strike().to_f64();
            let mid = quote.mid().map(crate::Price::to_f64);
            let forward = spot * ((rate - dividend_yield) * years.max(0.0)).exp();
            let vendor_iv = quote.vendor.and_then(|v| v.implied_vol);
            let recomputed = || {
                let price = mid?;
                if years <= 0.0 || spot <= 0.0 {
                    return None;
                }
                let option = Vanilla {
                    right: quote.key.right(),
                    spot,
                    strike,
                    years,
                    rate,
                    dividend_yield,
                };
                bsm::implied_vol(&option, price).ok().filter(|v| *v > 0.0)
            };
            let (implied_vol, iv_source) = match vendor_iv {
                Some(iv) => (Some(iv), IvSource::Vendor),
                None => match recomputed() {
                    Some(iv) => (Some(iv), IvSource::Recomputed),
                    None => (None, IvSource::Unavailable),
                },
            };
            ChainRow {
                quote,
                days_to_expiry: minutes / (24.0 * 60.0),
                years,
                mid,
                spread_fraction: quote.spread_fraction(),
                moneyness: strike / spot,
                log_moneyness: (strike / spot).ln(),
                log_forward_moneyness: (strike / forward).ln(),
                implied_vol,
                iv_source,
                flags: quote.flags(as_of, policy),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Price;
    use chrono::NaiveDate;

    #[expect(
        clippy::unnecessary_wraps,
        reason = "builds the Option<Price> sides of the quotes"
    )]
    fn p(s: &str) -> Option<Price> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn derives_columns_and_flags_without_dropping() {
        // SPY 2021-01-29 345 put, snapped 2021-01-04 15:45: 25 days and 15 minutes out.
        let as_of = NaiveDate::from_ymd_opt(2021, 1, 4)
            .unwrap()
            .and_hms_opt(15, 45, 0)
            .unwrap();
        let mut good = OptionQuote::new(
            "SPY   210129P00345000".parse().unwrap(),
            p("2.76"),
            p("2.78"),
        );
        good.volume = 10;
        let crossed = OptionQuote::new(
            "SPY   210129P00340000".parse().unwrap(),
            p("2.80"),
            p("2.70"),
        );
        let zero = OptionQuote::new("SPY   210129C00450000".parse().unwrap(), p("0"), p("0.01"));
        let chain = ChainSnapshot::try_new(
            as_of,
            "SPY".parse().unwrap(),
            "368.79".parse().unwrap(),
            [good, crossed, zero],
        )
        .unwrap();
        let rates = RatesAndYield::try_new(0.001, 0.015).unwrap();
        let rows = chain_rows(&chain, rates, &QualityPolicy::default());
        assert_eq!(rows.len(), 3);
        let r = &rows[1];
        assert_eq!(r.quote.key.to_string(), "SPY   210129P00345000");
        assert!((r.days_to_expiry - (25.0 + 15.0 / 1440.0)).abs() < 1e-12);
        assert!((r.mid.unwrap() - 2.77).abs() < 1e-12);
        assert!((r.spread_fraction.unwrap() - 0.02 / 2.77).abs() < 1e-12);
        assert!((r.moneyness - 345.0 / 368.79).abs() < 1e-15);
        assert_eq!(r.iv_source, IvSource::Recomputed);
        // Cross-check: the recomputed IV reprices the mid.
        let option = Vanilla {
            right: volta_pricing::OptionRight::Put,
            spot: 368.79,
            strike: 345.0,
            years: r.years,
            rate: 0.001,
            dividend_yield: 0.015,
        };
        let iv = r.implied_vol.unwrap();
        assert!((bsm::price(&option, iv).unwrap() - 2.77).abs() < 1e-10);
        assert!(r.is_usable());
        // The crossed 340 put stays, flagged (its mid is still a price).
        assert!(rows[0].flags.contains(QuoteFlag::Crossed));
        assert!(!rows[0].is_usable());
        // The zero-bid 450 call stays, flagged.
        assert!(rows[2].flags.contains(QuoteFlag::ZeroBid));
        assert!(!rows[2].is_usable());
    }
}
