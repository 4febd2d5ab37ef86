//! Market data from IB for the live trader ([`IbMarketData`], a [`LiveMarket`]): the
//! underlyings' prices, and option chains: `reqSecDefOptParams` for the expiries and strikes
//! each trading class lists, then one quote snapshot per option a strategy can use (the
//! expiries and the strike window asked for, and every contract held), requested paced under
//! IB's limit of 50 messages a second, a few dozen in flight at once. Delayed data (IB's type 3)
//! fills the same fields when the account has no subscription.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use ibapi::client::blocking::Client;
use ibapi::contracts::{Contract, SecurityType};
use ibapi::market_data::realtime::{Quote, TickTypes};
use volta_core::broker::LiveMarket;
use volta_core::{
    ChainSnapshot, ContractKey, OptionContract, OptionQuote, OptionRight, Price, Strike, Underlying,
};

use crate::broker::open_session;
use crate::config::IbConfig;
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

/// Which part of each chain the live trader fetches: the expiries within `max_days` calendar
/// days and the strikes within `strike_fraction` of the underlying's price (plus every
/// contract held). A strategy whose window lies outside it sees no candidates there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainWindow {
    /// The last expiry fetched, in calendar days from the decision (the default strategies
    /// trade up to 45).
    pub max_days: i64,
    /// Strikes within this fraction of the underlying's price either side (0.15: ±15 %).
    pub strike_fraction: f64,
}

impl Default for ChainWindow {
    fn default() -> Self {
        Self {
            max_days: 50,
            strike_fraction: 0.15,
        }
    }
}

/// IB's market data for the live trader: prices and option chains on an API session of its
/// own (a client id beside the orders' one), so that a chain's hundreds of snapshots never
/// queue behind an order, and the broker's connection carries orders only.
pub struct IbMarketData {
    client: Client,
    config: IbConfig,
    window: ChainWindow,
}

impl std::fmt::Debug for IbMarketData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IbMarketData")
            .field("address", &self.config.address())
            .field("client_id", &self.config.client_id)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// How many snapshots are in flight at once: IB allows 100 market-data lines on a basic
/// account; a third of them leaves room for the trader's other requests.
const SNAPSHOTS_IN_FLIGHT: usize = 33;

impl IbMarketData {
    /// Connects as `config.client_id` (give it a client id of its own: the orders' session
    /// holds another), fetching chains within `window`.
    ///
    /// # Errors
    /// [`IbError::Connect`] / [`IbError::ClientIdInUse`]; an invalid setting.
    pub fn connect(config: IbConfig, window: ChainWindow) -> Result<Self> {
        config.validate()?;
        if !(window.max_days >= 0
            && window.strike_fraction.is_finite()
            && window.strike_fraction > 0.0)
        {
            return Err(IbError::InvalidConfig {
                name: "chain window",
                value: format!("{window:?}"),
                requirement: "max_days of 0 or more and a positive strike_fraction",
            });
        }
        let client = open_session(&config, config.client_id)?;
        Ok(Self {
            client,
            config,
            window,
        })
    }

    /// Whether the API session is up.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.client.is_connected()
    }

    /// Snapshots of `contracts`, in order: up to [`SNAPSHOTS_IN_FLIGHT`] requested at once,
    /// each request spaced by [`PACING`].
    fn snapshots(&self, contracts: &[Contract]) -> Result<Vec<Quote>> {
        let mut quotes = Vec::with_capacity(contracts.len());
        for batch in contracts.chunks(SNAPSHOTS_IN_FLIGHT) {
            let mut pending = Vec::with_capacity(batch.len());
            for contract in batch {
                pending.push(
                    self.client
                        .market_data(contract)
                        .snapshot()
                        .subscribe()
                        .map_err(|e| IbError::request("market data snapshot", e))?,
                );
                std::thread::sleep(PACING);
            }
            for subscription in &pending {
                quotes.push(read_snapshot(subscription, self.config.request_timeout()));
            }
        }
        Ok(quotes)
    }

    fn last_or_mid(&self, symbol: &str, contract: &Contract) -> Result<Price> {
        let quotes = self.snapshots(std::slice::from_ref(contract))?;
        let quote = quotes.first().ok_or_else(|| IbError::Request {
            request: "underlying price",
            reason: format!("no snapshot came back for {symbol}"),
        })?;
        price(quote.last)
            .or_else(|| match (price(quote.bid), price(quote.ask)) {
                (Some(b), Some(a)) => {
                    Price::try_new((b.value() + a.value()) / rust_decimal::Decimal::TWO).ok()
                }
                _ => None,
            })
            .ok_or_else(|| IbError::Request {
                request: "underlying price",
                reason: format!("IB sent no last price and no two-sided quote for {symbol}"),
            })
    }

    /// One snapshot of the chain's part that `request` names, stamped `at` (exchange time).
    /// Options without a two-sided quote are kept with the sides IB gave (the quality gate
    /// decides what to do with them, as for every other source).
    ///
    /// # Errors
    /// [`IbError::Contract`] when IB does not know the underlying; [`IbError::Request`];
    /// [`IbError::Core`] for an underlying without a price.
    pub fn chain_snapshot(
        &self,
        request: &ChainRequest,
        at: NaiveDateTime,
    ) -> Result<ChainSnapshot> {
        let wanted: BTreeSet<NaiveDate> = request.expiries.iter().copied().collect();
        self.chain_where(
            &request.underlying,
            at,
            |expiry| wanted.contains(&expiry),
            |_| (request.min_strike, request.max_strike),
            &[],
        )
    }

    /// The chain of `underlying` at `at`: the expiries `expiry_wanted` keeps, the strikes in
    /// the range `strikes(spot)` gives, and every contract of `extra` IB lists.
    fn chain_where(
        &self,
        underlying: &Underlying,
        at: NaiveDateTime,
        expiry_wanted: impl Fn(NaiveDate) -> bool,
        strikes: impl Fn(f64) -> (f64, f64),
        extra: &[ContractKey],
    ) -> Result<ChainSnapshot> {
        let symbol = underlying.as_str();
        let contract = underlying_contract(symbol);
        let details = self
            .client
            .contract_details(&contract)
            .map_err(|e| IbError::request("underlying contract details", e))?;
        let [detail] = details.as_slice() else {
            return Err(IbError::Contract {
                contract: symbol.to_owned(),
                found: details.len(),
            });
        };
        let con_id = detail.contract.contract_id;
        let spot = self.last_or_mid(symbol, &contract)?;
        let (min_strike, max_strike) = strikes(spot.to_f64());
        let params = self
            .client
            .option_chain(symbol, contract.security_type.clone(), con_id)
            .subscribe()
            .map_err(|e| IbError::request("option chain parameters", e))?
            .collect_to_end_within(self.config.request_timeout())
            .map_err(|e| IbError::request("option chain parameters", e))?;
        let mut keys = Vec::new();
        let mut listed = BTreeSet::new();
        for class in params.iter().filter(|p| p.exchange == "SMART") {
            for expiry in class
                .expirations
                .iter()
                .filter_map(|e| NaiveDate::parse_from_str(e, "%Y%m%d").ok())
            {
                for strike in &class.strikes {
                    let Ok(strike) = Strike::from_f64(*strike) else {
                        continue;
                    };
                    let in_window = expiry_wanted(expiry)
                        && (min_strike..=max_strike).contains(&strike.to_f64());
                    for right in [OptionRight::Call, OptionRight::Put] {
                        let key =
                            ContractKey::try_new(&class.trading_class, expiry, right, strike)?;
                        if in_window {
                            keys.push(key.clone());
                        }
                        listed.insert(key);
                    }
                }
            }
        }
        // Held contracts still listed are quoted whatever the window: a position can always be
        // marked and closed.
        keys.extend(extra.iter().filter(|k| listed.contains(*k)).cloned());
        keys.sort();
        keys.dedup();
        let contracts: Vec<Contract> = keys
            .iter()
            .map(|k| option_query(&OptionContract::from_key(k.clone())))
            .collect();
        let quotes: Vec<OptionQuote> = self
            .snapshots(&contracts)?
            .into_iter()
            .zip(keys)
            .map(|(q, key)| OptionQuote::new(key, price(q.bid), price(q.ask)))
            .collect();
        Ok(ChainSnapshot::try_new(
            at,
            underlying.clone(),
            spot,
            quotes,
        )?)
    }
}

impl LiveMarket for IbMarketData {
    type Error = IbError;

    fn name(&self) -> &'static str {
        "ib"
    }

    fn last_price(&mut self, underlying: &Underlying, _at: NaiveDateTime) -> Result<Price> {
        let symbol = underlying.as_str();
        self.last_or_mid(symbol, &underlying_contract(symbol))
    }

    fn chain(
        &mut self,
        underlying: &Underlying,
        at: NaiveDateTime,
        held: &[ContractKey],
    ) -> Result<ChainSnapshot> {
        let today = at.date();
        let last = today + chrono::Days::new(self.window.max_days.unsigned_abs());
        let fraction = self.window.strike_fraction;
        self.chain_where(
            underlying,
            at,
            |expiry| (today..=last).contains(&expiry),
            |spot| (spot * (1.0 - fraction), spot * (1.0 + fraction)),
            held,
        )
    }
}
