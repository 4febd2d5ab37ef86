//! Commissions and fees: Interactive Brokers' US schedules by default.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use volta_core::order::Instrument;
use volta_core::{Money, Price};

use crate::error::{BrokerError, Result};
use crate::fees::{FeeLeg, OptionFeeSchedule};
use volta_core::broker::LegFill;

/// What a fill costs in commissions and fees, and what exercise and assignment cost, in
/// dollars.
///
/// Option orders are charged by a dated [`OptionFeeSchedule`]: by default IB's Fixed pricing
/// ($0.65 per contract, less under $0.10 of premium, $1.00 per order minimum) plus the SPX
/// surcharges, ORF, OCC clearing, FINRA TAF and SEC fees it passes through. Stock: $0.005 per
/// share with $1.00 minimum and at most 1 % of the trade value. IB charges nothing for
/// exercise or assignment, so both fees default to 0; other brokers charge a flat fee per
/// event or per contract (set `exercise_fee` / `assignment_fee`).
///
/// The minimum applies per combo order (all its legs together), as IB bills an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commissions {
    /// Option orders: commission, surcharges, regulatory and clearing fees.
    pub options: OptionFeeSchedule,
    /// Per share of stock traded.
    pub per_share: Money,
    /// Least charged for a stock order.
    pub min_per_stock_order: Money,
    /// Most charged for a stock order, as a fraction of its value (0.01 = 1 %); `None` for no
    /// cap. The cap wins over the minimum, as at IB.
    pub max_stock_fraction_of_value: Option<Decimal>,
    /// Per long contract exercised.
    pub exercise_fee: Money,
    /// Per short contract assigned.
    pub assignment_fee: Money,
}

impl Default for Commissions {
    fn default() -> Self {
        Self {
            options: OptionFeeSchedule::interactive_brokers(),
            per_share: Money::new(Decimal::new(5, 3)),
            min_per_stock_order: Money::new(Decimal::ONE),
            max_stock_fraction_of_value: Some(Decimal::new(1, 2)),
            exercise_fee: Money::ZERO,
            assignment_fee: Money::ZERO,
        }
    }
}

impl Commissions {
    /// No commissions at all (for tests that isolate the fill model).
    #[must_use]
    pub fn free() -> Self {
        Self {
            options: OptionFeeSchedule::free(),
            per_share: Money::ZERO,
            min_per_stock_order: Money::ZERO,
            max_stock_fraction_of_value: None,
            exercise_fee: Money::ZERO,
            assignment_fee: Money::ZERO,
        }
    }

    /// Checks every amount is non-negative.
    ///
    /// # Errors
    /// [`BrokerError::InvalidConfig`] naming the first negative amount.
    pub fn validate(&self) -> Result<()> {
        let amounts = [
            ("per_share", self.per_share),
            ("min_per_stock_order", self.min_per_stock_order),
            ("exercise_fee", self.exercise_fee),
            ("assignment_fee", self.assignment_fee),
        ];
        for (name, amount) in amounts {
            if amount < Money::ZERO {
                return Err(BrokerError::InvalidConfig {
                    name,
                    value: amount.to_string(),
                    requirement: "non-negative",
                });
            }
        }
        if let Some(f) = self.max_stock_fraction_of_value
            && f < Decimal::ZERO
        {
            return Err(BrokerError::InvalidConfig {
                name: "max_stock_fraction_of_value",
                value: f.to_string(),
                requirement: "non-negative",
            });
        }
        Ok(())
    }

    /// The commission and fees of a filled option order on `on` (stock legs are not charged
    /// here), rounded to the cent.
    ///
    /// # Errors
    /// [`BrokerError::InvalidFeeSchedule`] when the schedule does not cover `on`.
    pub fn option_order(&self, legs: &[LegFill], on: NaiveDate) -> Result<Money> {
        let legs: Vec<FeeLeg<'_>> = legs
            .iter()
            .filter_map(|l| match &l.instrument {
                Instrument::Option(c) => Some(FeeLeg {
                    root: c.key().root(),
                    contracts: l.quantity,
                    price: l.price,
                    multiplier: c.multiplier(),
                }),
                Instrument::Stock(_) => None,
            })
            .collect();
        Ok(self.options.order(&legs, on)?.total())
    }

    /// The commission on a stock order of `shares` shares at `price`, rounded to the cent.
    #[must_use]
    pub fn stock_order(&self, shares: u64, price: Price) -> Money {
        let mut fee = Money::new(self.per_share.value() * Decimal::from(shares))
            .max(self.min_per_stock_order);
        if let Some(f) = self.max_stock_fraction_of_value {
            let cap = Money::new(price.value() * Decimal::from(shares) * f);
            fee = fee.min(cap);
        }
        fee.round_to_cents()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn ib_fixed_schedule_by_hand() {
        let c = Commissions::default();
        // 100 shares at $290: 0.50 → $1 minimum; 1000 shares: $5.
        assert_eq!(c.stock_order(100, "290".parse().unwrap()), m("1.00"));
        assert_eq!(c.stock_order(1000, "290".parse().unwrap()), m("5.00"));
        // 10 shares at $5 = $50 of stock: 1 % cap is $0.50, below the minimum.
        assert_eq!(c.stock_order(10, "5".parse().unwrap()), m("0.50"));
    }

    #[test]
    fn option_fills_are_charged_by_the_fee_schedule() {
        let on = NaiveDate::from_ymd_opt(2021, 3, 1).unwrap();
        let fill = |key: &str, quantity: i64, price: &str| LegFill {
            instrument: Instrument::Option(volta_core::OptionContract::from_key(
                key.parse().unwrap(),
            )),
            quantity,
            price: price.parse().unwrap(),
        };
        // A SPY put credit spread, 2 lots: 4 × 0.65 + 4 × (0.0388 + 0.055) + 2 × 0.002
        // + 2 × 1.20 × 100 × 0.0000221 = 2.984… → 2.98.
        let legs = [
            fill("SPY   210319P00370000", -2, "1.20"),
            fill("SPY   210319P00365000", 2, "0.80"),
        ];
        let c = Commissions::default();
        assert_eq!(c.option_order(&legs, on).unwrap(), m("2.98"));
        assert_eq!(
            Commissions::free().option_order(&legs, on).unwrap(),
            Money::ZERO
        );
    }

    #[test]
    fn negative_amounts_are_refused_by_name() {
        let c = Commissions {
            assignment_fee: m("-1"),
            ..Commissions::default()
        };
        let err = c.validate().unwrap_err();
        assert!(err.to_string().contains("assignment_fee"), "{err}");
        assert!(Commissions::default().validate().is_ok());
    }
}
