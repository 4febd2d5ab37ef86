//! Commissions: Interactive Brokers' fixed US schedule by default.

use rust_decimal::Decimal;
use volta_core::{Money, Price};

use crate::error::{BrokerError, Result};

/// What a fill costs in commissions, and what exercise and assignment cost, in dollars.
///
/// The default is IB's fixed pricing for US options and stock: $0.65 per contract with $1.00
/// per order minimum, $0.005 per share with $1.00 minimum and at most 1 % of the trade value.
/// IB charges nothing for exercise or assignment, so both fees default to 0; other brokers
/// charge a flat fee per event or per contract (set `exercise_fee` / `assignment_fee`).
///
/// The minimum applies per combo order (all its legs together), as IB's fixed schedule bills
/// an order. IB's lower per-contract rates for premiums under $0.10 and exchange or regulatory
/// pass-through fees are not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commissions {
    /// Per option contract traded (every leg's contracts count).
    pub per_contract: Money,
    /// Least charged for an option order.
    pub min_per_order: Money,
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
            per_contract: Money::new(Decimal::new(65, 2)),
            min_per_order: Money::new(Decimal::ONE),
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
    pub const fn free() -> Self {
        Self {
            per_contract: Money::ZERO,
            min_per_order: Money::ZERO,
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
            ("per_contract", self.per_contract),
            ("min_per_order", self.min_per_order),
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

    /// The commission on an option order of `contracts` contracts in total (Σ leg ratio ×
    /// quantity).
    #[must_use]
    pub fn option_order(&self, contracts: u64) -> Money {
        let fee = Money::new(self.per_contract.value() * Decimal::from(contracts));
        fee.max(self.min_per_order)
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
        assert_eq!(c.option_order(1), m("1.00")); // 0.65 < $1 minimum
        assert_eq!(c.option_order(2), m("1.30"));
        assert_eq!(c.option_order(4), m("2.60"));
        assert_eq!(c.option_order(40), m("26.00"));
        // 100 shares at $290: 0.50 → $1 minimum; 1000 shares: $5.
        assert_eq!(c.stock_order(100, "290".parse().unwrap()), m("1.00"));
        assert_eq!(c.stock_order(1000, "290".parse().unwrap()), m("5.00"));
        // 10 shares at $5 = $50 of stock: 1 % cap is $0.50, below the minimum.
        assert_eq!(c.stock_order(10, "5".parse().unwrap()), m("0.50"));
        assert_eq!(Commissions::free().option_order(3), Money::ZERO);
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
