//! Greeks: what the price is, and how it moves.
//!
//! Every field is a plain partial derivative per 1.0 of its input (theta per year of calendar
//! time, vega per 1.00 of volatility, rho per 1.00 of rate). Traders quote theta per day, vega
//! per volatility point and rho per rate point: the `*_per_*` helpers convert.

use crate::error::{PricingError, Result};

/// Calendar days per year, for [`Greeks::theta_per_calendar_day`].
pub const CALENDAR_DAYS_PER_YEAR: f64 = 365.0;

/// Price and first-order sensitivities of one option.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Greeks {
    /// Option value, in the currency of the spot and strike.
    pub price: f64,
    /// ∂V/∂S: per 1.0 of spot (of the forward under Black-76).
    pub delta: f64,
    /// ∂²V/∂S²: per 1.0 of spot, squared.
    pub gamma: f64,
    /// ∂V/∂σ: per 1.00 (100 points) of volatility.
    pub vega: f64,
    /// −∂V/∂T: value change per year of calendar time passing, market unchanged.
    pub theta: f64,
    /// ∂V/∂r: per 1.00 (100 %) of the risk-free rate. Under Black-Scholes-Merton the dividend
    /// yield is held fixed (so the forward moves with r); under Black-76 the forward is held fixed.
    pub rho: f64,
    /// ∂V/∂q: per 1.00 of the dividend yield (Haug's "phi"). Zero under Black-76, which has no
    /// dividend yield.
    pub dividend_rho: f64,
}

impl Greeks {
    /// `Ok(self)` when every field is finite, else [`PricingError::Overflow`]: no pricing
    /// function returns a non-finite greek without an error.
    pub(crate) fn checked(self) -> Result<Self> {
        // x·0 is 0 for finite x and NaN for ±∞ or NaN: one comparison instead of seven.
        let zero = self.price * 0.0
            + self.delta * 0.0
            + self.gamma * 0.0
            + self.vega * 0.0
            + self.theta * 0.0
            + self.rho * 0.0
            + self.dividend_rho * 0.0;
        if zero == 0.0 {
            Ok(self)
        } else {
            Err(PricingError::Overflow { quantity: "greeks" })
        }
    }

    /// Theta per calendar day (theta / 365), the convention of most trading screens.
    #[must_use]
    pub fn theta_per_calendar_day(&self) -> f64 {
        self.theta / CALENDAR_DAYS_PER_YEAR
    }

    /// Vega per volatility point (per 0.01 of volatility).
    #[must_use]
    pub fn vega_per_vol_point(&self) -> f64 {
        self.vega / 100.0
    }

    /// Rho per rate point (per 0.01 = 1 % of the rate).
    #[must_use]
    pub fn rho_per_rate_point(&self) -> f64 {
        self.rho / 100.0
    }

    /// Dividend rho per point (per 0.01 of the dividend yield).
    #[must_use]
    pub fn dividend_rho_per_point(&self) -> f64 {
        self.dividend_rho / 100.0
    }
}

/// Second-order sensitivities of one option (Haug 2007, ch. 2). Time derivatives are, like
/// theta, taken as calendar time passes (−∂/∂T), per year.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SecondOrderGreeks {
    /// Vanna ∂²V/∂S∂σ = ∂Δ/∂σ: per 1.0 of spot and 1.00 of volatility.
    pub vanna: f64,
    /// Volga (vomma) ∂²V/∂σ²: per 1.00 of volatility, squared.
    pub volga: f64,
    /// Charm −∂Δ/∂T: delta change per year of calendar time passing.
    pub charm: f64,
    /// Speed ∂³V/∂S³ = ∂Γ/∂S: per 1.0 of spot, cubed.
    pub speed: f64,
    /// Zomma ∂Γ/∂σ: per 1.0 of spot squared and 1.00 of volatility.
    pub zomma: f64,
    /// Colour −∂Γ/∂T: gamma change per year of calendar time passing.
    pub colour: f64,
}

impl SecondOrderGreeks {
    /// `Ok(self)` when every field is finite, else [`PricingError::Overflow`].
    pub(crate) fn checked(self) -> Result<Self> {
        let fields = [
            self.vanna,
            self.volga,
            self.charm,
            self.speed,
            self.zomma,
            self.colour,
        ];
        if fields.iter().all(|x| x.is_finite()) {
            Ok(self)
        } else {
            Err(PricingError::Overflow {
                quantity: "second-order greeks",
            })
        }
    }
}
