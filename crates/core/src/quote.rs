//! Option quotes, their derived prices and their quality flags.

use chrono::{NaiveDateTime, TimeDelta};
use rust_decimal::Decimal;

use crate::contract::ContractKey;
use crate::money::{Price, decimal_to_f64};

/// Implied volatility and greeks as a data vendor published them, kept beside the quote for
/// comparison with Volta's own. Units are the vendor's (see the data README: some vendors
/// scale gamma or theta unusually); `None` where the vendor gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VendorAnalytics {
    /// Implied volatility per 1.0 (0.20 = 20 %).
    pub implied_vol: Option<f64>,
    /// Delta.
    pub delta: Option<f64>,
    /// Gamma.
    pub gamma: Option<f64>,
    /// Theta, in the vendor's time unit (usually per calendar day).
    pub theta: Option<f64>,
    /// Vega, in the vendor's unit (usually per volatility point).
    pub vega: Option<f64>,
}

/// A quote for one option contract. Missing sides are `None`, never zero: a bid of zero is a
/// real quote (nobody bids), a missing bid is missing data.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionQuote {
    /// The contract quoted.
    pub key: ContractKey,
    /// Best bid.
    pub bid: Option<Price>,
    /// Best ask.
    pub ask: Option<Price>,
    /// Last trade.
    pub last: Option<Price>,
    /// Contracts traded in the session so far.
    pub volume: u64,
    /// Open interest (contracts), as of the previous session's close.
    pub open_interest: u64,
    /// When the quote was last updated, in exchange time (New York), if the source says.
    pub updated_at: Option<NaiveDateTime>,
    /// The vendor's IV and greeks, if any.
    pub vendor: Option<VendorAnalytics>,
}

impl OptionQuote {
    /// A quote with only its contract and sides; volume, open interest, timestamp and vendor
    /// analytics empty.
    #[must_use]
    pub const fn new(key: ContractKey, bid: Option<Price>, ask: Option<Price>) -> Self {
        Self {
            key,
            bid,
            ask,
            last: None,
            volume: 0,
            open_interest: 0,
            updated_at: None,
            vendor: None,
        }
    }

    /// (bid + ask) / 2 when both sides are present (also when crossed: check [`Self::flags`]).
    #[must_use]
    pub fn mid(&self) -> Option<Price> {
        let (bid, ask) = (self.bid?, self.ask?);
        // Both are non-negative, so the mean is too.
        Price::try_new((bid.value() + ask.value()) / Decimal::TWO).ok()
    }

    /// ask − bid in dollars when both sides are present; negative for a crossed quote.
    #[must_use]
    pub fn spread(&self) -> Option<Decimal> {
        Some(self.ask?.value() - self.bid?.value())
    }

    /// The spread as a fraction of the mid (0.05 = 5 %); `None` without both sides or with a
    /// zero mid.
    #[must_use]
    pub fn spread_fraction(&self) -> Option<f64> {
        let mid = self.mid()?.value();
        if mid.is_zero() {
            return None;
        }
        Some(decimal_to_f64(self.spread()? / mid))
    }

    /// The quality flags of this quote as of `as_of` under `policy`. Flags describe; they never
    /// drop a quote.
    #[must_use]
    pub fn flags(&self, as_of: NaiveDateTime, policy: &QualityPolicy) -> QuoteFlags {
        let mut flags = QuoteFlags::default();
        match (self.bid, self.ask) {
            (None, _) => flags.insert(QuoteFlag::MissingBid),
            (Some(b), _) if b == Price::ZERO => flags.insert(QuoteFlag::ZeroBid),
            _ => {}
        }
        if self.ask.is_none() {
            flags.insert(QuoteFlag::MissingAsk);
        }
        if let Some(spread) = self.spread() {
            if spread < Decimal::ZERO {
                flags.insert(QuoteFlag::Crossed);
            } else if spread.is_zero() {
                flags.insert(QuoteFlag::Locked);
            }
        }
        if self
            .spread_fraction()
            .is_some_and(|f| f > policy.max_spread_fraction)
        {
            flags.insert(QuoteFlag::WideSpread);
        }
        if self.updated_at.is_some_and(|t| as_of - t > policy.max_age) {
            flags.insert(QuoteFlag::Stale);
        }
        if self.volume == 0 && self.open_interest == 0 {
            flags.insert(QuoteFlag::NoInterest);
        }
        flags
    }
}

/// Thresholds for [`OptionQuote::flags`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityPolicy {
    /// Spread / mid above which a quote is [`QuoteFlag::WideSpread`].
    pub max_spread_fraction: f64,
    /// Age beyond which a timestamped quote is [`QuoteFlag::Stale`].
    pub max_age: TimeDelta,
}

impl Default for QualityPolicy {
    /// 50 % of mid, 15 minutes.
    fn default() -> Self {
        Self {
            max_spread_fraction: 0.5,
            max_age: TimeDelta::minutes(15),
        }
    }
}

/// One thing that may be wrong with a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuoteFlag {
    /// No bid at all.
    MissingBid,
    /// No ask at all.
    MissingAsk,
    /// Bid of zero: the contract can be bought but not sold to the market.
    ZeroBid,
    /// Ask below bid (happens in vendor files, e.g. on expiry days).
    Crossed,
    /// Ask equal to bid.
    Locked,
    /// Spread above the policy's fraction of mid.
    WideSpread,
    /// Last update older than the policy's age.
    Stale,
    /// Neither volume nor open interest.
    NoInterest,
}

impl QuoteFlag {
    /// Every flag, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::MissingBid,
        Self::MissingAsk,
        Self::ZeroBid,
        Self::Crossed,
        Self::Locked,
        Self::WideSpread,
        Self::Stale,
        Self::NoInterest,
    ];

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of [`QuoteFlag`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QuoteFlags(u16);

impl QuoteFlags {
    /// Adds a flag.
    pub fn insert(&mut self, flag: QuoteFlag) {
        self.0 |= flag.bit();
    }

    /// Whether `flag` is set.
    #[must_use]
    pub const fn contains(self, flag: QuoteFlag) -> bool {
        self.0 & flag.bit() != 0
    }

    /// No flag set: a clean two-sided quote.
    #[must_use]
    pub const fn is_clean(self) -> bool {
        self.0 == 0
    }

    /// The flags set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = QuoteFlag> {
        QuoteFlag::ALL
            .into_iter()
            .filter(move |f| self.contains(*f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[expect(
        clippy::unnecessary_wraps,
        reason = "builds the Option<Price> sides of the case table"
    )]
    fn p(s: &str) -> Option<Price> {
        Some(s.parse().unwrap())
    }

    fn quote(bid: Option<Price>, ask: Option<Price>) -> OptionQuote {
        let mut q = OptionQuote::new("SPY   210129P00345000".parse().unwrap(), bid, ask);
        q.volume = 10;
        q
    }

    fn t(h: u32, m: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2021, 1, 4)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[rstest]
    #[case(p("2.76"), p("2.78"), &[])]
    #[case(None, p("2.78"), &[QuoteFlag::MissingBid])]
    #[case(p("2.76"), None, &[QuoteFlag::MissingAsk])]
    #[case(None, None, &[QuoteFlag::MissingBid, QuoteFlag::MissingAsk])]
    #[case(p("0"), p("0.05"), &[QuoteFlag::ZeroBid, QuoteFlag::WideSpread])]
    #[case(p("2.80"), p("2.78"), &[QuoteFlag::Crossed])]
    #[case(p("2.78"), p("2.78"), &[QuoteFlag::Locked])]
    #[case(p("1.00"), p("2.00"), &[QuoteFlag::WideSpread])]
    fn flags_table(
        #[case] bid: Option<Price>,
        #[case] ask: Option<Price>,
        #[case] expected: &[QuoteFlag],
    ) {
        let flags = quote(bid, ask).flags(t(16, 0), &QualityPolicy::default());
        assert_eq!(flags.iter().collect::<Vec<_>>(), expected);
        assert_eq!(flags.is_clean(), expected.is_empty());
    }

    #[test]
    fn stale_and_no_interest() {
        let mut q = quote(p("1"), p("1.1"));
        q.updated_at = Some(t(15, 30));
        let policy = QualityPolicy::default();
        assert!(!q.flags(t(15, 45), &policy).contains(QuoteFlag::Stale));
        assert!(q.flags(t(15, 46), &policy).contains(QuoteFlag::Stale));
        q.volume = 0;
        assert!(q.flags(t(15, 45), &policy).contains(QuoteFlag::NoInterest));
    }

    #[test]
    fn mid_spread_and_fraction() {
        let q = quote(p("2.76"), p("2.78"));
        assert_eq!(q.mid(), p("2.77"));
        assert_eq!(q.spread(), Some(Decimal::new(2, 2)));
        assert!((q.spread_fraction().unwrap() - 0.02 / 2.77).abs() < 1e-15);
        let crossed = quote(p("2.80"), p("2.78"));
        assert_eq!(crossed.spread(), Some(Decimal::new(-2, 2)));
        assert_eq!(quote(None, p("1")).mid(), None);
        assert_eq!(quote(p("0"), p("0")).spread_fraction(), None);
    }
}
