//! The one error type of `volta-pricing`.

/// Why a pricing call could not return a number.
///
/// Every variant names the input that was wrong and the value it had, so that a batch job can
/// report the offending row without re-deriving the cause.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    /// An input was NaN, infinite, or outside its domain (e.g. a negative strike).
    #[error("invalid {name}: {value} (must be {requirement})")]
    InvalidInput {
        /// The input's name as it appears in the API (`spot`, `strike`, `years`, …).
        name: &'static str,
        /// The value that was passed.
        value: f64,
        /// What the input must satisfy.
        requirement: &'static str,
    },
    /// An option price below its no-arbitrage lower bound (the discounted intrinsic value for a
    /// European option, the immediate-exercise value for an American one): no volatility
    /// reproduces it.
    #[error("price {price} is below the no-arbitrage lower bound {bound}")]
    PriceBelowLowerBound {
        /// The price that was passed.
        price: f64,
        /// The lower bound it violates.
        bound: f64,
    },
    /// An option price at or above its no-arbitrage upper bound (the discounted forward for a
    /// call, the discounted strike for a put): it would need an infinite volatility.
    #[error("price {price} is at or above the no-arbitrage upper bound {bound}")]
    PriceAboveUpperBound {
        /// The price that was passed.
        price: f64,
        /// The upper bound it violates.
        bound: f64,
    },
    /// An iterative solver stopped without meeting its tolerance.
    #[error("{solver} did not converge: {reason}")]
    NoConvergence {
        /// Which solver (e.g. `american implied volatility`).
        solver: &'static str,
        /// What went wrong, in words.
        reason: String,
    },
}

/// `Result` with [`PricingError`].
pub type Result<T> = std::result::Result<T, PricingError>;

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PricingError::InvalidInput {
            name,
            value,
            requirement: "finite and > 0",
        })
    }
}

/// Checks that `value` is finite and not negative.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PricingError::InvalidInput {
            name,
            value,
            requirement: "finite and >= 0",
        })
    }
}

/// Checks that `value` is finite (rates and yields may be negative).
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PricingError::InvalidInput {
            name,
            value,
            requirement: "finite",
        })
    }
}
