//! The rate and dividend yield a chain is read with: one checked pair for every analytic that
//! needs them (implied vols, deltas, forwards).

use crate::error::{Result, invalid};

/// The risk-free rate and the underlying's dividend yield, per year, continuously compounded
/// (0.024 = 2.4 %), checked once so that every user can trust them: finite, and within
/// (−1, 1) per year (a rate of 100 % a year is a unit mistake, a percent given as a decimal).
///
/// The rate discounts (e^{−rT}); both enter the carry forward S·e^{(r−q)T} and the
/// Black-Scholes-Merton implied vols and deltas.
///
/// ```
/// use volta_core::RatesAndYield;
///
/// let spx = RatesAndYield::try_new(0.024, 0.019)?;
/// assert_eq!((spx.rate(), spx.dividend_yield()), (0.024, 0.019));
/// assert!(RatesAndYield::try_new(2.4, 0.019).is_err()); // percent, not a decimal
/// assert!(RatesAndYield::try_new(0.024, f64::NAN).is_err());
/// # Ok::<(), volta_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatesAndYield {
    rate: f64,
    dividend_yield: f64,
}

impl RatesAndYield {
    /// A checked pair.
    ///
    /// # Errors
    /// [`crate::CoreError::InvalidValue`] naming `rate` or `dividend_yield` when it is not
    /// finite or not within (−1, 1) per year.
    pub fn try_new(rate: f64, dividend_yield: f64) -> Result<Self> {
        for (name, value) in [("rate", rate), ("dividend_yield", dividend_yield)] {
            if !(value.is_finite() && value.abs() < 1.0) {
                return Err(invalid(name, value, "finite and within (-1, 1) per year"));
            }
        }
        Ok(Self {
            rate,
            dividend_yield,
        })
    }

    /// Risk-free rate per year, continuously compounded.
    #[must_use]
    pub const fn rate(self) -> f64 {
        self.rate
    }

    /// Dividend yield per year, continuously compounded.
    #[must_use]
    pub const fn dividend_yield(self) -> f64 {
        self.dividend_yield
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CoreError;

    #[test]
    fn bad_values_are_named() {
        assert!(RatesAndYield::try_new(-0.005, 0.0).is_ok());
        let err = RatesAndYield::try_new(f64::NAN, 0.0).unwrap_err();
        assert!(
            matches!(err, CoreError::InvalidValue { name: "rate", .. }),
            "{err}"
        );
        let err = RatesAndYield::try_new(0.01, f64::INFINITY).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid dividend_yield `inf`: must be finite and within (-1, 1) per year"
        );
        assert!(RatesAndYield::try_new(1.0, 0.0).is_err());
        assert!(RatesAndYield::try_new(0.0, -1.0).is_err());
    }
}
