//! A snapshot of an option chain: every quote of one underlying at one moment.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use volta_pricing::OptionRight;

use crate::contract::{ContractKey, Strike, Underlying, right_rank};
use crate::error::{CoreError, Result};
use crate::money::Price;
use crate::quote::OptionQuote;

/// Quotes for all listed expiries of one underlying, taken at one moment.
///
/// The timestamp is a [`NaiveDateTime`] in **exchange time (`America/New_York`)**: the session
/// times the calendar gives (09:30, 16:00, 13:00) compare with it directly, every vendor file
/// we read dates its rows that way, and no trading hour falls in the ambiguous hour at the end
/// of daylight saving time. Convert to UTC at the edges (broker API, database) where a
/// time zone database is available.
///
/// Quotes are grouped by expiry and sorted by strike, then calls before puts, then root (SPX
/// and SPXW share expiries on third Fridays).
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSnapshot {
    as_of: NaiveDateTime,
    underlying: Underlying,
    underlying_price: Price,
    by_expiry: BTreeMap<NaiveDate, Vec<OptionQuote>>,
}

impl ChainSnapshot {
    /// A snapshot from its quotes, in any order.
    ///
    /// # Errors
    /// [`CoreError::DuplicateQuote`] if two quotes name the same contract.
    pub fn try_new(
        as_of: NaiveDateTime,
        underlying: Underlying,
        underlying_price: Price,
        quotes: impl IntoIterator<Item = OptionQuote>,
    ) -> Result<Self> {
        let mut by_expiry: BTreeMap<NaiveDate, Vec<OptionQuote>> = BTreeMap::new();
        for q in quotes {
            by_expiry.entry(q.key.expiry()).or_default().push(q);
        }
        for quotes in by_expiry.values_mut() {
            quotes.sort_by(|a, b| a.key.cmp_in_chain(&b.key));
            if let Some(w) = quotes.windows(2).find(|w| w[0].key == w[1].key) {
                return Err(CoreError::DuplicateQuote {
                    key: w[0].key.to_string(),
                });
            }
        }
        Ok(Self {
            as_of,
            underlying,
            underlying_price,
            by_expiry,
        })
    }

    /// When the snapshot was taken, exchange time.
    #[must_use]
    pub const fn as_of(&self) -> NaiveDateTime {
        self.as_of
    }

    /// The underlying.
    #[must_use]
    pub const fn underlying(&self) -> &Underlying {
        &self.underlying
    }

    /// The underlying's price at `as_of`.
    #[must_use]
    pub const fn underlying_price(&self) -> Price {
        self.underlying_price
    }

    /// The expiries present, ascending.
    pub fn expiries(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.by_expiry.keys().copied()
    }

    /// All quotes of one expiry, by strike then right then root (empty if none).
    #[must_use]
    pub fn quotes(&self, expiry: NaiveDate) -> &[OptionQuote] {
        self.by_expiry.get(&expiry).map_or(&[], Vec::as_slice)
    }

    /// The distinct strikes of one expiry, ascending.
    #[must_use]
    pub fn strikes(&self, expiry: NaiveDate) -> Vec<Strike> {
        let mut strikes: Vec<Strike> = self.quotes(expiry).iter().map(|q| q.key.strike()).collect();
        strikes.dedup();
        strikes
    }

    /// The quotes at one expiry, strike and right: one per root (two on a third Friday for
    /// SPX and SPXW), none if not listed.
    #[must_use]
    pub fn quotes_at(
        &self,
        expiry: NaiveDate,
        strike: Strike,
        right: OptionRight,
    ) -> &[OptionQuote] {
        let quotes = self.quotes(expiry);
        let target = (strike, right_rank(right));
        let start =
            quotes.partition_point(|q| (q.key.strike(), right_rank(q.key.right())) < target);
        let end = quotes.partition_point(|q| (q.key.strike(), right_rank(q.key.right())) <= target);
        &quotes[start..end]
    }

    /// The quote for one contract.
    #[must_use]
    pub fn get(&self, key: &ContractKey) -> Option<&OptionQuote> {
        self.quotes_at(key.expiry(), key.strike(), key.right())
            .iter()
            .find(|q| q.key == *key)
    }

    /// Every quote, by expiry, then strike, right and root.
    pub fn iter(&self) -> impl Iterator<Item = &OptionQuote> {
        self.by_expiry.values().flatten()
    }

    /// Number of quotes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_expiry.values().map(Vec::len).sum()
    }

    /// Whether the snapshot holds no quote.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_expiry.is_empty()
    }
}

impl ContractKey {
    /// Order within one expiry: strike, calls before puts, root.
    fn cmp_in_chain(&self, other: &Self) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key())
    }

    /// The order of [`ChainSnapshot::iter`]: expiry, then strike, calls before puts, root.
    /// Stores that keep a chain's quotes in this order rebuild the snapshot without sorting.
    #[must_use]
    pub fn cmp_chain_order(&self, other: &Self) -> std::cmp::Ordering {
        self.expiry()
            .cmp(&other.expiry())
            .then_with(|| self.cmp_in_chain(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(symbol: &str) -> OptionQuote {
        OptionQuote::new(symbol.parse().unwrap(), Some(Price::ZERO), None)
    }

    fn snapshot(quotes: Vec<OptionQuote>) -> Result<ChainSnapshot> {
        ChainSnapshot::try_new(
            NaiveDate::from_ymd_opt(2019, 4, 26)
                .unwrap()
                .and_hms_opt(16, 0, 0)
                .unwrap(),
            "SPX".parse().unwrap(),
            "2939.88".parse().unwrap(),
            quotes,
        )
    }

    #[test]
    fn groups_sorts_and_finds() {
        let chain = snapshot(vec![
            q("SPXW  190517P02900000"),
            q("SPX   190517C02900000"),
            q("SPXW  190426C02950000"),
            q("SPXW  190517C02900000"),
            q("SPXW  190517C02850000"),
        ])
        .unwrap();
        let may17 = NaiveDate::from_ymd_opt(2019, 5, 17).unwrap();
        assert_eq!(chain.len(), 5);
        assert_eq!(chain.expiries().count(), 2);
        let keys: Vec<String> = chain
            .quotes(may17)
            .iter()
            .map(|q| q.key.to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "SPXW  190517C02850000",
                "SPX   190517C02900000",
                "SPXW  190517C02900000",
                "SPXW  190517P02900000"
            ]
        );
        let strike = "2900".parse().unwrap();
        assert_eq!(chain.quotes_at(may17, strike, OptionRight::Call).len(), 2);
        assert_eq!(chain.quotes_at(may17, strike, OptionRight::Put).len(), 1);
        assert!(
            chain
                .quotes_at(may17, "2000".parse().unwrap(), OptionRight::Put)
                .is_empty()
        );
        let key: ContractKey = "SPX   190517C02900000".parse().unwrap();
        assert_eq!(chain.get(&key).unwrap().key, key);
        assert_eq!(chain.strikes(may17).len(), 2);
        assert_eq!(chain.iter().count(), 5);
    }

    #[test]
    fn rejects_duplicates() {
        let err = snapshot(vec![q("SPXW  190426C02950000"), q("SPXW190426C02950000")]).unwrap_err();
        assert!(matches!(err, CoreError::DuplicateQuote { .. }));
    }
}
