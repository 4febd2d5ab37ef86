//! From Volta's orders to IB's contracts and orders, and back from IB's executions.
//!
//! - An option is asked for by its OCC key as IB's `localSymbol`, with the symbol, expiry,
//!   strike, right and trading class (SPXW for the PM SPX weeklies, SPX for the AM
//!   monthlies), on SMART in USD. IB answers with its `conId`, cached per key.
//! - A combo of two or more legs is a BAG on SMART whose legs carry their conIds, ratios and
//!   actions as held (IB's sign convention, the one [`volta_core::order`] uses), each leg's
//!   exchange set to SMART explicitly (IB refuses an empty one) and the BAG's symbol set (TWS
//!   error 321 without it). One net limit for the whole combo: Volta never sends per-leg prices,
//!   which IB accepts only for two-leg non-guaranteed combos.
//! - A one-leg "combo" is an ordinary option order: BUY or SELL at the leg's own (positive)
//!   price.

use std::collections::HashMap;

use ibapi::contracts::{
    ComboLeg, Contract, Currency, Exchange, LegAction as IbLegAction, OptionRight as IbRight,
    SecurityType, Symbol,
};
use ibapi::orders::{Action, Order, TimeInForce as IbTif};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use volta_core::broker::{StockOrder, TimeInForce};
use volta_core::order::{ComboOrder, ComboSide, Instrument, LegAction};
use volta_core::{ContractKey, OptionContract, OptionRight};

use crate::error::{IbError, Result};

/// IB's symbol for an option's underlying: the index for index options (SPXW and SPX are
/// both `SPX`), the ticker otherwise.
#[must_use]
pub fn ib_symbol(contract: &OptionContract) -> String {
    contract.underlying().as_str().to_owned()
}

/// The contract IB is asked about for one option (contract details → conId).
#[must_use]
pub fn option_query(contract: &OptionContract) -> Contract {
    Contract {
        security_type: SecurityType::Option,
        symbol: Symbol::from(ib_symbol(contract).as_str()),
        last_trade_date_or_contract_month: contract.expiry().format("%Y%m%d").to_string(),
        strike: contract.strike().to_f64(),
        right: Some(match contract.right() {
            OptionRight::Call => IbRight::Call,
            OptionRight::Put => IbRight::Put,
        }),
        multiplier: contract.multiplier().to_string(),
        exchange: Exchange::from("SMART"),
        currency: Currency::from("USD"),
        local_symbol: contract.key().to_string(),
        trading_class: contract.key().root().to_owned(),
        ..Contract::default()
    }
}

/// The stock (or ETF) contract for an underlying.
#[must_use]
pub fn stock_contract(symbol: &str) -> Contract {
    Contract {
        security_type: SecurityType::Stock,
        symbol: Symbol::from(symbol),
        exchange: Exchange::from("SMART"),
        currency: Currency::from("USD"),
        ..Contract::default()
    }
}

/// conIds by OCC key: contract details are asked once per contract per session.
#[derive(Debug, Default, Clone)]
pub struct ConIdCache {
    by_key: HashMap<ContractKey, i32>,
    by_con_id: HashMap<i32, ContractKey>,
}

impl ConIdCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached conId of a key.
    #[must_use]
    pub fn get(&self, key: &ContractKey) -> Option<i32> {
        self.by_key.get(key).copied()
    }

    /// The key of a cached conId.
    #[must_use]
    pub fn key_of(&self, con_id: i32) -> Option<&ContractKey> {
        self.by_con_id.get(&con_id)
    }

    /// Remembers a conId.
    pub fn insert(&mut self, key: ContractKey, con_id: i32) {
        self.by_con_id.insert(con_id, key.clone());
        self.by_key.insert(key, con_id);
    }

    /// How many contracts are cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// IB's contract and order for a Volta combo, given each leg's conId (in leg order) and the
/// orderRef that names the intent.
///
/// # Errors
/// [`IbError::Unsupported`] for a combo with a stock leg (Volta's strategies never build one)
/// or a limit that does not fit an `f64` exactly enough to send.
pub fn combo_to_ib(
    order: &ComboOrder,
    con_ids: &[i32],
    tif: TimeInForce,
    order_ref: &str,
    account: Option<&str>,
) -> Result<(Contract, Order)> {
    let options: Vec<&OptionContract> = order
        .legs()
        .iter()
        .map(|leg| match &leg.instrument {
            Instrument::Option(c) => Ok(c),
            Instrument::Stock(_) => Err(IbError::Unsupported {
                what: "a combo with a stock leg".to_owned(),
            }),
        })
        .collect::<Result<_>>()?;
    let limit = order.limit();
    let (contract, action, price) =
        if let ([leg], [option], [con_id]) = (order.legs(), options.as_slice(), con_ids) {
            // One leg: BUY (or SELL) the option at its own price. A BUY combo of a sold leg at a
            // net −1.25 is selling the option at 1.25.
            let sign = order.side().sign() * leg.action.sign();
            let mut contract = option_query(option);
            contract.contract_id = *con_id;
            (
                contract,
                if sign > 0 { Action::Buy } else { Action::Sell },
                limit * Decimal::from(leg.action.sign()),
            )
        } else {
            let legs = order
                .legs()
                .iter()
                .zip(con_ids)
                .map(|(leg, con_id)| ComboLeg {
                    contract_id: *con_id,
                    ratio: i32::try_from(leg.ratio).unwrap_or(i32::MAX),
                    action: match leg.action {
                        LegAction::Buy => IbLegAction::Buy,
                        LegAction::Sell => IbLegAction::Sell,
                    },
                    exchange: "SMART".to_owned(),
                    ..ComboLeg::default()
                })
                .collect();
            let contract = Contract {
                security_type: SecurityType::Spread,
                symbol: Symbol::from(ib_symbol(options[0]).as_str()),
                exchange: Exchange::from("SMART"),
                currency: Currency::from("USD"),
                combo_legs: legs,
                ..Contract::default()
            };
            let action = match order.side() {
                ComboSide::Buy => Action::Buy,
                ComboSide::Sell => Action::Sell,
            };
            (contract, action, limit)
        };
    let limit_price = price.to_f64().ok_or_else(|| IbError::Unsupported {
        what: format!("a limit of {price}"),
    })?;
    let ib_order = Order {
        action,
        total_quantity: f64::from(order.quantity()),
        order_type: "LMT".to_owned(),
        limit_price: Some(limit_price),
        tif: ib_tif(tif),
        order_ref: order_ref.to_owned(),
        account: account.unwrap_or_default().to_owned(),
        transmit: true,
        ..Order::default()
    };
    Ok((contract, ib_order))
}

/// IB's contract and order for a stock market order.
#[must_use]
pub fn stock_to_ib(
    order: &StockOrder,
    order_ref: &str,
    account: Option<&str>,
) -> (Contract, Order) {
    let ib_order = Order {
        action: match order.side {
            ComboSide::Buy => Action::Buy,
            ComboSide::Sell => Action::Sell,
        },
        total_quantity: f64::from(order.quantity),
        order_type: "MKT".to_owned(),
        tif: IbTif::Day,
        order_ref: order_ref.to_owned(),
        account: account.unwrap_or_default().to_owned(),
        transmit: true,
        ..Order::default()
    };
    (stock_contract(order.underlying.as_str()), ib_order)
}

const fn ib_tif(tif: TimeInForce) -> IbTif {
    match tif {
        TimeInForce::Day => IbTif::Day,
        TimeInForce::Gtc => IbTif::GoodTillCanceled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use volta_core::order::Leg;

    fn leg(key: &str, action: LegAction) -> Leg {
        Leg::option(key.parse().unwrap(), action, 1).unwrap()
    }

    #[test]
    fn an_spx_weekly_is_asked_for_as_spx_in_the_spxw_class_by_its_occ_local_symbol() {
        let c = OptionContract::from_key("SPXW  250321P05600000".parse().unwrap());
        let q = option_query(&c);
        assert_eq!(q.symbol.to_string(), "SPX");
        assert_eq!(q.trading_class, "SPXW");
        assert_eq!(q.local_symbol, "SPXW  250321P05600000");
        assert_eq!(q.last_trade_date_or_contract_month, "20250321");
        assert!((q.strike - 5600.0).abs() < 1e-9);
        assert_eq!(q.right, Some(IbRight::Put));
        assert_eq!(q.multiplier, "100");
        assert_eq!(q.exchange.to_string(), "SMART");
    }

    #[test]
    fn a_credit_condor_is_a_bag_bought_at_a_negative_net_with_smart_on_every_leg() {
        let condor = ComboOrder::new(
            vec![
                leg("SPY   250321P00540000", LegAction::Buy),
                leg("SPY   250321P00550000", LegAction::Sell),
                leg("SPY   250321C00590000", LegAction::Sell),
                leg("SPY   250321C00600000", LegAction::Buy),
            ],
            ComboSide::Buy,
            3,
            "-1.45".parse().unwrap(),
        )
        .unwrap();
        let (contract, order) = combo_to_ib(
            &condor,
            &[11, 12, 13, 14],
            TimeInForce::Day,
            "volta-s1-7",
            None,
        )
        .unwrap();
        assert_eq!(contract.security_type, SecurityType::Spread);
        assert_eq!(contract.symbol.to_string(), "SPY");
        let legs: Vec<(i32, i32, IbLegAction, &str)> = contract
            .combo_legs
            .iter()
            .map(|l| (l.contract_id, l.ratio, l.action, l.exchange.as_str()))
            .collect();
        assert_eq!(
            legs,
            [
                (11, 1, IbLegAction::Buy, "SMART"),
                (12, 1, IbLegAction::Sell, "SMART"),
                (13, 1, IbLegAction::Sell, "SMART"),
                (14, 1, IbLegAction::Buy, "SMART"),
            ]
        );
        assert_eq!(order.action, Action::Buy);
        assert_eq!(order.limit_price, Some(-1.45));
        assert!((order.total_quantity - 3.0).abs() < f64::EPSILON);
        assert_eq!(order.order_type, "LMT");
        assert_eq!(order.order_ref, "volta-s1-7");
        assert_eq!(order.tif, IbTif::Day);
    }

    #[test]
    fn a_one_leg_combo_is_a_plain_option_order_at_a_positive_price() {
        let short_put = ComboOrder::new(
            vec![leg("SPY   250321P00560000", LegAction::Sell)],
            ComboSide::Buy,
            1,
            "-1.25".parse().unwrap(),
        )
        .unwrap();
        let (contract, order) =
            combo_to_ib(&short_put, &[42], TimeInForce::Gtc, "r", Some("DU1")).unwrap();
        assert_eq!(contract.security_type, SecurityType::Option);
        assert_eq!(contract.contract_id, 42);
        assert_eq!(order.action, Action::Sell);
        assert_eq!(order.limit_price, Some(1.25));
        assert_eq!(order.tif, IbTif::GoodTillCanceled);
        assert_eq!(order.account, "DU1");
        // Closing it: SELL the combo at −0.40 is buying the put back at 0.40.
        let (_, close) = combo_to_ib(
            &short_put.closing("-0.40".parse().unwrap()),
            &[42],
            TimeInForce::Day,
            "c",
            None,
        )
        .unwrap();
        assert_eq!((close.action, close.limit_price), (Action::Buy, Some(0.40)));
    }
}
