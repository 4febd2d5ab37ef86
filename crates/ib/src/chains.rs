//! Option chains from IB: `reqSecDefOptParams` for the expiries and strikes each trading class
//! lists, then one quote snapshot per option a strategy can use (the expiries and the strike
//! window asked for), paced under IB's limit of 50 messages a second. Delayed data (IB's type 3)
//! fills the same fields when the account has no subscription.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use ibapi::contracts::{Contract, SecurityType};
use ibapi::market_data::realtime::{Quote, TickTypes};
use volta_core::{
    ChainSnapshot, ContractKey, OptionContract, OptionQuote, OptionRight, Price, Strike, Underlying,
};

use crate::broker::IbBroker;
use crate::contracts::{option_query, stock_contract};
use crate::error::{IbError, Result};

/// Indexes whose options IB lists under an index (not a stock) underlying.
const INDEXES: [&str; 5] = ["SPX", "XSP", "NDX", "RUT", "VIX"];

/// The spacing between two snapshot requests: 40 a second, under IB's 50-message pacing limit
/// with room for the orders that share the connection.
const PACING: Duration = Duration::from_millis(25);

/// Which part of an underlying's chain to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRequest {
    /// The underlying.
    pub underlying: Underlying,
    /// The expiries wanted (those IB does not list are skipped).
    pub expiries: Vec<NaiveDate>,
    /// The lowest strike wanted, in dollars.
    pub min_strike: f64,
    /// The highest strike wanted, in dollars.
    pub max_strike: f64,
}

fn underlying_contract(symbol: &str) -> Contract {
    let mut contract = stock_contract(symbol);
    if INDEXES.contains(&symbol) {
        contract.security_type = SecurityType::Index;
        contract.exchange = "CBOE".into();
    }
    contract
}

/// A snapshot's bid, ask and last from its ticks (delayed ticks count as their real-time kind).
fn read_snapshot(
    subscription: &ibapi::client::blocking::Subscription<TickTypes>,
    timeout: Duration,
) -> Quote {
    let mut ticks = Vec::new();
    while let Some(Ok(item)) = subscription.next_timeout(timeout) {
        if let ibapi::subscriptions::SubscriptionItem::Data(tick) = item {
            let end = matches!(tick, TickTypes::SnapshotEnd);
            ticks.push(tick);
            if end {
                break;
            }
        }
    }
    Quote::from_ticks(&ticks)
}

fn price(x: Option<f64>) -> Option<Price> {
    x.filter(|p| p.is_finite() && *p >= 0.0)
        .and_then(|p| Price::from_f64(p).ok())
}

impl IbBroker {
    fn quote_snapshot(&self, contract: &Contract) -> Result<Quote> {
        let subscription = self
            .client()
            .market_data(contract)
            .snapshot()
            .subscribe()
            .map_err(|e| IbError::request("market data snapshot", e))?;
        let quote = read_snapshot(&subscription, self.config().request_timeout());
        std::thread::sleep(PACING);
        Ok(quote)
    }

    /// One snapshot of the chain's part that `request` names, stamped `at` (exchange time).
    /// Options without a two-sided quote are kept with the sides IB gave (the quality gate
    /// decides what to do with them, as for every other source).
    ///
    /// # Errors
    /// [`IbError::Contract`] when IB does not know the underlying; [`IbError::Request`];
    /// [`IbError::Core`] for an underlying without a price.
    pub fn chain_snapshot(
        &mut self,
        request: &ChainRequest,
        at: NaiveDateTime,
    ) -> Result<ChainSnapshot> {
        let symbol = request.underlying.as_str();
        let underlying = underlying_contract(symbol);
        let details = self
            .client()
            .contract_details(&underlying)
            .map_err(|e| IbError::request("underlying contract details", e))?;
        let [detail] = details.as_slice() else {
            return Err(IbError::Contract {
                contract: symbol.to_owned(),
                found: details.len(),
            });
        };
        let con_id = detail.contract.contract_id;
        let spot = self.quote_snapshot(&underlying)?;
        let spot = price(spot.last)
            .or_else(|| match (price(spot.bid), price(spot.ask)) {
                (Some(b), Some(a)) => {
                    Price::try_new((b.value() + a.value()) / rust_decimal::Decimal::TWO).ok()
                }
                _ => None,
            })
            .ok_or_else(|| IbError::Request {
                request: "underlying price",
                reason: format!("IB sent no last price and no two-sided quote for {symbol}"),
            })?;
        let params = self
            .client()
            .option_chain(symbol, underlying.security_type.clone(), con_id)
            .subscribe()
            .map_err(|e| IbError::request("option chain parameters", e))?
            .collect_to_end_within(self.config().request_timeout())
            .map_err(|e| IbError::request("option chain parameters", e))?;
        let wanted: BTreeSet<NaiveDate> = request.expiries.iter().copied().collect();
        let mut keys = Vec::new();
        for class in params.iter().filter(|p| p.exchange == "SMART") {
            for expiry in class
                .expirations
                .iter()
                .filter_map(|e| NaiveDate::parse_from_str(e, "%Y%m%d").ok())
                .filter(|e| wanted.contains(e))
            {
                for strike in class
                    .strikes
                    .iter()
                    .filter(|k| (request.min_strike..=request.max_strike).contains(*k))
                {
                    for right in [OptionRight::Call, OptionRight::Put] {
                        keys.push(ContractKey::try_new(
                            &class.trading_class,
                            expiry,
                            right,
                            Strike::from_f64(*strike)?,
                        )?);
                    }
                }
            }
        }
        keys.sort();
        keys.dedup();
        let mut quotes = Vec::with_capacity(keys.len());
        for key in keys {
            let contract = OptionContract::from_key(key.clone());
            let quote = self.quote_snapshot(&option_query(&contract))?;
            quotes.push(OptionQuote::new(key, price(quote.bid), price(quote.ask)));
        }
        Ok(ChainSnapshot::try_new(
            at,
            request.underlying.clone(),
            spot,
            quotes,
        )?)
    }
}
