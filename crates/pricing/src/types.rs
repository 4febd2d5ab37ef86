//! The inputs every model shares: the option's right and its contract and market terms.

use crate::error::{Result, finite, non_negative};

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum OptionRight {
    /// The right to buy at the strike.
    Call,
    /// The right to sell at the strike.
    Put,
}

impl OptionRight {
    /// +1.0 for a call, −1.0 for a put: the θ of Haug's formulas, which write both rights as one.
    #[inline]
    #[must_use]
    pub const fn sign(self) -> f64 {
        match self {
            Self::Call => 1.0,
            Self::Put => -1.0,
        }
    }

    /// The other right (put for a call), for parity relations.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Call => Self::Put,
            Self::Put => Self::Call,
        }
    }

    /// The payoff of exercising now against `underlying`: max(±(underlying − strike), 0).
    #[inline]
    #[must_use]
    pub fn intrinsic(self, underlying: f64, strike: f64) -> f64 {
        (self.sign() * (underlying - strike)).max(0.0)
    }
}

impl std::fmt::Display for OptionRight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Call => "call",
            Self::Put => "put",
        })
    }
}

impl std::str::FromStr for OptionRight {
    type Err = crate::PricingError;

    /// Parses `call`/`put` (also `c`/`p`, any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "call" | "c" => Ok(Self::Call),
            "put" | "p" => Ok(Self::Put),
            _ => Err(crate::PricingError::InvalidRight { text: s.to_owned() }),
        }
    }
}

/// An option on a spot asset paying a continuous dividend yield: the terms that
/// Black-Scholes-Merton and the American models price. Volatility (or, for implied volatility,
/// the price) is passed beside it.
///
/// The fields are public so that a call site reads like the formula's inputs; every pricing
/// function validates them and returns [`PricingError::InvalidInput`](crate::PricingError)
/// naming the field that was wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Vanilla {
    /// Call or put.
    pub right: OptionRight,
    /// Spot price of the underlying, ≥ 0 (> 0 for implied volatility). At 0 the asset stays
    /// worthless and the option's value is deterministic (a put is worth its strike,
    /// discounted for a European, at once for an American when r ≥ 0).
    pub spot: f64,
    /// Strike price, ≥ 0 (> 0 for implied volatility). At 0 a call is the asset itself.
    pub strike: f64,
    /// Time to expiry in years (ACT/365 is the usual convention), ≥ 0.
    pub years: f64,
    /// Continuously compounded risk-free rate per year (0.05 = 5 %); may be negative.
    pub rate: f64,
    /// Continuously compounded dividend yield per year (0.02 = 2 %); may be negative
    /// (e.g. a borrow cost on a hard-to-borrow stock).
    pub dividend_yield: f64,
}

impl Vanilla {
    /// Builds the terms after checking each of them.
    ///
    /// # Errors
    /// [`PricingError::InvalidInput`](crate::PricingError) naming the first field that is NaN,
    /// infinite, or out of its domain.
    pub fn try_new(
        right: OptionRight,
        spot: f64,
        strike: f64,
        years: f64,
        rate: f64,
        dividend_yield: f64,
    ) -> Result<Self> {
        let v = Self {
            right,
            spot,
            strike,
            years,
            rate,
            dividend_yield,
        };
        v.validate()?;
        Ok(v)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`PricingError::InvalidInput`](crate::PricingError) naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        non_negative("spot", self.spot)?;
        non_negative("strike", self.strike)?;
        non_negative("years", self.years)?;
        finite("rate", self.rate)?;
        finite("dividend_yield", self.dividend_yield)?;
        Ok(())
    }

    /// The cost of carry b = r − q of Haug's generalised Black-Scholes.
    #[inline]
    #[must_use]
    pub fn carry(&self) -> f64 {
        self.rate - self.dividend_yield
    }

    /// The forward price S·e^{(r−q)T}.
    #[inline]
    #[must_use]
    pub fn forward(&self) -> f64 {
        self.spot * (self.carry() * self.years).exp()
    }

    /// The same terms with the other right.
    #[must_use]
    pub fn with_right(self, right: OptionRight) -> Self {
        Self { right, ..self }
    }
}

/// An option on a forward or futures price, priced by Black-76.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FuturesOption {
    /// Call or put.
    pub right: OptionRight,
    /// Forward (or futures) price of the underlying for the option's expiry, ≥ 0 (> 0 for
    /// implied volatility).
    pub forward: f64,
    /// Strike price, ≥ 0 (> 0 for implied volatility).
    pub strike: f64,
    /// Time to expiry in years, ≥ 0.
    pub years: f64,
    /// Continuously compounded rate per year used to discount the payoff; may be negative.
    pub rate: f64,
}

impl FuturesOption {
    /// Builds the terms after checking each of them.
    ///
    /// # Errors
    /// [`PricingError::InvalidInput`](crate::PricingError) naming the first bad field.
    pub fn try_new(
        right: OptionRight,
        forward: f64,
        strike: f64,
        years: f64,
        rate: f64,
    ) -> Result<Self> {
        let v = Self {
            right,
            forward,
            strike,
            years,
            rate,
        };
        v.validate()?;
        Ok(v)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`PricingError::InvalidInput`](crate::PricingError) naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        non_negative("forward", self.forward)?;
        non_negative("strike", self.strike)?;
        non_negative("years", self.years)?;
        finite("rate", self.rate)?;
        Ok(())
    }

    /// The same terms with the other right.
    #[must_use]
    pub fn with_right(self, right: OptionRight) -> Self {
        Self { right, ..self }
    }
}

/// Checks a volatility input: finite and ≥ 0 (zero volatility prices the discounted intrinsic
/// value of the forward).
pub(crate) fn check_vol(vol: f64) -> Result<f64> {
    non_negative("vol", vol)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PricingError;

    #[test]
    fn rights_parse_and_a_bad_one_names_the_rejected_text() {
        for (text, right) in [
            ("call", OptionRight::Call),
            (" P ", OptionRight::Put),
            ("C", OptionRight::Call),
        ] {
            assert_eq!(text.parse::<OptionRight>().unwrap(), right);
        }
        let err = "straddle".parse::<OptionRight>().unwrap_err();
        assert_eq!(
            err,
            PricingError::InvalidRight {
                text: "straddle".to_owned()
            }
        );
        assert!(err.to_string().contains("\"straddle\""), "{err}");
    }
}
