//! Exact decimal prices and cash amounts.
//!
//! Booked numbers (premiums, fees, cash, P&L) are [`rust_decimal::Decimal`]s so that they add up
//! to the cent; pricing models work in `f64`, and the conversions between the two are explicit
//! and checked ([`Price::from_f64`], [`Price::to_f64`]).

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{CoreError, Result, invalid};

/// Converts a finite `f64` to a `Decimal` (shortest decimal that round-trips, as `Decimal`'s
/// `from_f64` does), naming the input on failure.
fn decimal_from_f64(name: &'static str, x: f64) -> Result<Decimal> {
    if !x.is_finite() {
        return Err(invalid(name, x, "finite"));
    }
    Decimal::from_f64(x)
        .map(|d| d.normalize())
        .ok_or_else(|| invalid(name, x, "within Decimal's range (|x| < 7.9e28)"))
}

/// Converts a `Decimal` to the nearest `f64`. Every `Decimal` is within `f64`'s range.
pub(crate) fn decimal_to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// A non-negative price per unit of an instrument (per share, per index point, per option
/// share), in US dollars. A quoted bid of zero is a valid price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(Decimal);

impl Price {
    /// Zero dollars.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// A price from a decimal.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `value` is negative.
    pub fn try_new(value: Decimal) -> Result<Self> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(invalid("price", value, "non-negative"));
        }
        Ok(Self(value.normalize()))
    }

    /// A price from a model's `f64` output: the shortest decimal that converts back to `x`.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `x` is NaN, infinite or negative.
    pub fn from_f64(x: f64) -> Result<Self> {
        Self::try_new(decimal_from_f64("price", x)?)
    }

    /// A model's `f64` price rounded half away from zero to the cent.
    ///
    /// # Errors
    /// As [`Price::from_f64`].
    pub fn from_f64_cents(x: f64) -> Result<Self> {
        let exact = decimal_from_f64("price", x)?;
        Self::try_new(exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
    }

    /// The price as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// The price as the nearest `f64`, for the pricing models.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        decimal_to_f64(self.0)
    }

    /// The cash value of `quantity` units at this price, each unit being `multiplier` of the
    /// underlying (100 for a standard option): price × multiplier × quantity. Negative
    /// quantities (sales, short positions) give negative amounts.
    ///
    /// # Errors
    /// [`CoreError::Overflow`] if the product leaves `Decimal`'s range.
    pub fn notional(self, multiplier: u32, quantity: i64) -> Result<Money> {
        self.0
            .checked_mul(Decimal::from(multiplier))
            .and_then(|x| x.checked_mul(Decimal::from(quantity)))
            .map(Money)
            .ok_or(CoreError::Overflow {
                operation: "price × multiplier × quantity",
            })
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Price {
    type Err = CoreError;

    /// Parses a plain decimal (`"2.71"`, `"450"`).
    fn from_str(s: &str) -> Result<Self> {
        let d = Decimal::from_str(s.trim()).map_err(|_| invalid("price", s, "a decimal number"))?;
        Self::try_new(d)
    }
}

/// A signed amount of US dollars: cash, fees, premiums paid or received, P&L.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero dollars.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// An amount from a decimal (any sign).
    #[must_use]
    pub const fn new(value: Decimal) -> Self {
        Self(value)
    }

    /// An amount from an `f64` (e.g. a model's P&L estimate): the shortest decimal that converts
    /// back to `x`.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `x` is NaN or infinite.
    pub fn from_f64(x: f64) -> Result<Self> {
        decimal_from_f64("money", x).map(Self)
    }

    /// The amount as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// The amount as the nearest `f64`.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        decimal_to_f64(self.0)
    }

    /// The amount rounded to whole cents, half away from zero (the convention of brokers'
    /// statements).
    #[must_use]
    pub fn round_to_cents(self) -> Self {
        Self(
            self.0
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// `self + other`, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self − other`, or `None` on overflow.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Money {
    type Err = CoreError;

    /// Parses a plain signed decimal (`"-12.50"`).
    fn from_str(s: &str) -> Result<Self> {
        Decimal::from_str(s.trim())
            .map(Self)
            .map_err(|_| invalid("money", s, "a decimal number"))
    }
}

/// Addition panics only on overflow beyond ±7.9e28 dollars, as `Decimal`'s operators do; use
/// [`Money::checked_add`] where inputs are untrusted.
impl Add for Money {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Self) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_reconcile_where_f64_does_not() {
        // 0.1 + 0.2 != 0.3 in binary floating point; in Money it is exact.
        let a = Money::from_f64(0.1).unwrap();
        let b = Money::from_f64(0.2).unwrap();
        assert_eq!(a + b, "0.3".parse::<Money>().unwrap());
        let fees: Money = std::iter::repeat_n("0.65".parse::<Money>().unwrap(), 1000).sum();
        assert_eq!(fees, "650".parse::<Money>().unwrap());
    }

    #[test]
    fn price_rejects_bad_inputs_with_named_errors() {
        assert!(matches!(
            Price::from_f64(f64::NAN),
            Err(CoreError::InvalidValue { name: "price", .. })
        ));
        assert!(Price::from_f64(-0.01).is_err());
        assert!(Price::from_f64(f64::INFINITY).is_err());
        assert_eq!(Price::from_f64(-0.0).unwrap(), Price::ZERO);
        assert!("abc".parse::<Price>().is_err());
    }

    #[test]
    fn notional_is_price_times_multiplier_times_quantity() {
        let p: Price = "2.71".parse().unwrap();
        assert_eq!(p.notional(100, 3).unwrap(), "813".parse().unwrap());
        assert_eq!(p.notional(100, -1).unwrap(), "-271".parse().unwrap());
        assert_eq!(p.to_f64(), 2.71);
    }

    #[test]
    fn rounding_to_cents_is_half_away_from_zero() {
        assert_eq!(
            "1.005".parse::<Money>().unwrap().round_to_cents(),
            "1.01".parse().unwrap()
        );
        assert_eq!(
            "-1.005".parse::<Money>().unwrap().round_to_cents(),
            "-1.01".parse().unwrap()
        );
    }
}
