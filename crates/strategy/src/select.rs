//! The quality gate and choosing contracts: an expiry by days to expiry, strikes by delta.

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::{
    ChainSnapshot, OptionContract, OptionQuote, Price, QualityPolicy, RatesAndYield,
    SettlementTime, chain_rows,
};
use volta_pricing::{OptionRight, Vanilla, bsm};

/// Why quotes were kept out of a chain, counted per reason (a quote is counted under the first
/// reason that applies, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GateCounts {
    /// Quotes looked at.
    pub total: u64,
    /// No bid or no ask.
    pub missing: u64,
    /// Bid of zero.
    pub zero_bid: u64,
    /// Ask below bid.
    pub crossed: u64,
    /// Last update older than the policy allows.
    pub stale: u64,
    /// Kept.
    pub kept: u64,
}

impl GateCounts {
    /// Adds another chain's counts.
    pub fn add(&mut self, other: &Self) {
        self.total += other.total;
        self.missing += other.missing;
        self.zero_bid += other.zero_bid;
        self.crossed += other.crossed;
        self.stale += other.stale;
        self.kept += other.kept;
    }
}

/// The quality gate every chain passes before a strategy sees it: missing, zero-bid, crossed
/// and stale quotes are excluded and counted. (A zero bid is a real quote, but a strategy that
/// sells or later closes the contract needs someone to sell to.)
///
/// # Errors
/// [`volta_core::CoreError`] only if the snapshot could not be rebuilt (it cannot: its quotes
/// are a subset of a valid snapshot's).
pub fn gate(
    chain: &ChainSnapshot,
    policy: &QualityPolicy,
) -> Result<(ChainSnapshot, GateCounts), volta_core::CoreError> {
    let as_of = chain.as_of();
    let mut counts = GateCounts::default();
    // The gate's four reasons, checked directly: the full `OptionQuote::flags` also computes
    // the spread as a fraction of the mid (a decimal division per quote) that the gate ignores.
    let kept: Vec<OptionQuote> = chain
        .iter()
        .filter(|q| {
            counts.total += 1;
            let counter = match (q.bid, q.ask) {
                (None, _) | (_, None) => &mut counts.missing,
                (Some(bid), _) if bid == Price::ZERO => &mut counts.zero_bid,
                (Some(bid), Some(ask)) if ask < bid => &mut counts.crossed,
                _ if q.updated_at.is_some_and(|t| as_of - t > policy.max_age) => &mut counts.stale,
                _ => {
                    counts.kept += 1;
                    return true;
                }
            };
            *counter += 1;
            false
        })
        .cloned()
        .collect();
    let gated = ChainSnapshot::try_new(
        chain.as_of(),
        chain.underlying().clone(),
        chain.underlying_price(),
        kept,
    )?;
    Ok((gated, counts))
}

/// Calendar days from `as_of`'s date to `expiry` (0 on the expiry day: 0DTE).
#[must_use]
pub fn days_to(as_of: NaiveDateTime, expiry: NaiveDate) -> i64 {
    (expiry - as_of.date()).num_days()
}

/// The listed expiry with days to expiry in `min..=max` nearest to `target` (the earlier one on
/// a tie), if any.
#[must_use]
pub fn choose_expiry(chain: &ChainSnapshot, min: i64, max: i64, target: i64) -> Option<NaiveDate> {
    chain
        .expiries()
        .filter(|e| (min..=max).contains(&days_to(chain.as_of(), *e)))
        .min_by_key(|e| (days_to(chain.as_of(), *e) - target).abs())
}

/// The option root to trade `expiry` under: of the roots quoted on it that still trade on the
/// chain's date (an AM-settled series stops the session before its settlement date), the one
/// with the most quotes; on a tie, a PM-settled root (it trades through its last day and settles
/// at the close), then the alphabetically first. `None` when no quote of `expiry` still trades.
#[must_use]
pub fn tradeable_root(chain: &ChainSnapshot, expiry: NaiveDate) -> Option<String> {
    let today = chain.as_of().date();
    // (root, quotes, still trades, PM-settled), in order of first appearance.
    let mut roots: Vec<(&str, usize, bool, bool)> = Vec::new();
    for quote in chain.quotes(expiry) {
        let root = quote.key.root();
        if let Some(entry) = roots.iter_mut().find(|r| r.0 == root) {
            entry.1 += 1;
            continue;
        }
        let contract = OptionContract::from_key(quote.key.clone());
        let trades = contract.last_trading_day() >= today;
        let pm = contract.settlement_time() == SettlementTime::Pm;
        roots.push((root, 1, trades, pm));
    }
    roots
        .into_iter()
        .filter(|r| r.2)
        .max_by(|a, b| (a.1, a.3).cmp(&(b.1, b.3)).then_with(|| b.0.cmp(a.0)))
        .map(|r| r.0.to_owned())
}

/// One usable contract of an expiry with its analytics (dollars, years, per-unit greeks).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    /// The quote.
    pub quote: &'a OptionQuote,
    /// Strike, dollars.
    pub strike: f64,
    /// Bid, dollars.
    pub bid: f64,
    /// Ask, dollars.
    pub ask: f64,
    /// Implied volatility per √year, recomputed from the mid (Black-Scholes-Merton).
    pub iv: f64,
    /// Black-Scholes-Merton delta per share at that IV (calls in (0, 1), puts in (−1, 0)).
    pub delta: f64,
    /// Vega per share per 1.00 of volatility.
    pub vega: f64,
}

impl Candidate<'_> {
    /// (bid + ask) / 2.
    #[must_use]
    pub fn mid(&self) -> f64 {
        0.5 * (self.bid + self.ask)
    }
}

/// The usable calls and puts of one expiry of one option root, by ascending strike.
///
/// A structure is built from one slice, so its legs share one root: SPX (AM-settled monthlies)
/// and SPXW (PM-settled) list the same dates and strikes but settle at different prices and stop
/// trading on different days, and a combo mixing them is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpirySlice<'a> {
    /// The expiry.
    pub expiry: NaiveDate,
    /// The option root every contract of the slice has (empty when the expiry has no quote
    /// that still trades).
    pub root: String,
    /// Years to settlement (ACT/365).
    pub years: f64,
    /// The underlying's price.
    pub spot: f64,
    /// Calls, by strike.
    pub calls: Vec<Candidate<'a>>,
    /// Puts, by strike.
    pub puts: Vec<Candidate<'a>>,
}

impl<'a> ExpirySlice<'a> {
    /// The usable contracts of `expiry` in a gated chain (two-sided, with an IV and a delta) of
    /// its [`tradeable_root`].
    #[must_use]
    pub fn new(chain: &'a ChainSnapshot, expiry: NaiveDate, rates: RatesAndYield) -> Self {
        let root = tradeable_root(chain, expiry).unwrap_or_default();
        Self::for_root(chain, expiry, &root, rates)
    }

    /// The usable contracts of `expiry` under option root `root` only.
    #[must_use]
    pub fn for_root(
        chain: &'a ChainSnapshot,
        expiry: NaiveDate,
        root: &str,
        rates: RatesAndYield,
    ) -> Self {
        let spot = chain.underlying_price().to_f64();
        let mut slice = Self {
            expiry,
            root: root.to_owned(),
            years: 0.0,
            spot,
            calls: Vec::new(),
            puts: Vec::new(),
        };
        // The rows of one expiry only: recomputing IVs across the whole chain would cost ~20×.
        // Vendor IVs are dropped so that every IV is recomputed from the mid the strategy
        // trades at, one consistent model (Cboe's raw IVs are 0 or above 5 on deep rows).
        let one = ChainSnapshot::try_new(
            chain.as_of(),
            chain.underlying().clone(),
            chain.underlying_price(),
            chain
                .quotes(expiry)
                .iter()
                .filter(|q| q.key.root() == root)
                .map(|q| OptionQuote {
                    vendor: None,
                    ..q.clone()
                }),
        );
        let Ok(one) = one else { return slice };
        for row in chain_rows(&one, rates, &QualityPolicy::default()) {
            let (Some(iv), Some(bid), Some(ask)) = (row.implied_vol, row.quote.bid, row.quote.ask)
            else {
                continue;
            };
            slice.years = row.years;
            let option = Vanilla::try_new(
                row.quote.key.right(),
                spot,
                row.quote.key.strike().to_f64(),
                row.years,
                rates.rate(),
                rates.dividend_yield(),
            );
            let Some(greeks) = option.ok().and_then(|o| bsm::greeks(&o, iv).ok()) else {
                continue;
            };
            // Refer to the caller's chain, not the one-expiry copy.
            let Some(quote) = chain.get(&row.quote.key) else {
                continue;
            };
            let candidate = Candidate {
                quote,
                strike: row.quote.key.strike().to_f64(),
                bid: bid.to_f64(),
                ask: ask.to_f64(),
                iv,
                delta: greeks.delta,
                vega: greeks.vega,
            };
            match row.quote.key.right() {
                OptionRight::Call => slice.calls.push(candidate),
                OptionRight::Put => slice.puts.push(candidate),
            }
        }
        slice
    }

    /// The side of `right`.
    #[must_use]
    pub fn side(&self, right: OptionRight) -> &[Candidate<'a>] {
        match right {
            OptionRight::Call => &self.calls,
            OptionRight::Put => &self.puts,
        }
    }

    /// The out-of-the-money contract whose |delta| is nearest `target` (0.16 = 16Δ).
    #[must_use]
    pub fn by_delta(&self, right: OptionRight, target: f64) -> Option<&Candidate<'a>> {
        self.side(right)
            .iter()
            .filter(|c| match right {
                OptionRight::Call => c.strike >= self.spot,
                OptionRight::Put => c.strike <= self.spot,
            })
            .min_by(|a, b| {
                (a.delta.abs() - target)
                    .abs()
                    .total_cmp(&(b.delta.abs() - target).abs())
            })
    }

    /// The contract nearest the money (smallest |strike − spot|).
    #[must_use]
    pub fn at_the_money(&self, right: OptionRight) -> Option<&Candidate<'a>> {
        self.side(right).iter().min_by(|a, b| {
            (a.strike - self.spot)
                .abs()
                .total_cmp(&(b.strike - self.spot).abs())
        })
    }

    /// The wing for a short strike: the listed strike nearest `width` dollars further out of the
    /// money (below for puts, above for calls), at least one strike away.
    #[must_use]
    pub fn wing(
        &self,
        right: OptionRight,
        short_strike: f64,
        width: f64,
    ) -> Option<&Candidate<'a>> {
        let target = match right {
            OptionRight::Call => short_strike + width,
            OptionRight::Put => short_strike - width,
        };
        self.side(right)
            .iter()
            .filter(|c| match right {
                OptionRight::Call => c.strike > short_strike,
                OptionRight::Put => c.strike < short_strike,
            })
            .min_by(|a, b| {
                (a.strike - target)
                    .abs()
                    .total_cmp(&(b.strike - target).abs())
            })
    }
}
