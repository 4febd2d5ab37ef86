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
    /// A right that is neither `call` nor `put` (e.g. in a CSV file).
    #[error("invalid right: {text:?} (must be `call` or `put`, or `c`/`p`, any case)")]
    InvalidRight {
        /// The rejected text, as given.
        text: String,
    },
    /// Slices of a batch call (inputs and outputs) whose lengths differ.
    #[error("slice `{name}` has length {found}, expected {expected} (the length of `{reference}`)")]
    SliceLength {
        /// The slice whose length is wrong.
        name: &'static str,
        /// The length every slice must have.
        expected: usize,
        /// The length it has.
        found: usize,
        /// The slice that sets the expected length.
        reference: &'static str,
    },
    /// The inputs are valid but the result does not fit in an `f64` (e.g. a put with
    /// r = −10 over 100 years is worth K·e^{1000}): reported instead of returning ∞ or NaN.
    #[error("the {quantity} overflows f64 for these inputs")]
    Overflow {
        /// What overflowed (`price`, `greeks`, …).
        quantity: &'static str,
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

/// `Ok(value)` when it is finite, else [`PricingError::Overflow`] naming `quantity`: the last
/// line of defence of every public pricing function, so that no non-finite number is ever
/// returned without an error.
pub(crate) fn finite_output(quantity: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PricingError::Overflow { quantity })
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

/// A one-byte reason code for the batch APIs, which write NaN and a code per option instead of
/// stopping at the first bad row. [`ErrorCode::Ok`] marks a good result.
#[non_exhaustive]
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ErrorCode {
    /// The output is valid.
    #[default]
    Ok = 0,
    /// Spot (or forward) was NaN, infinite or < 0 (or 0 where the call needs it positive:
    /// implied volatility).
    InvalidSpot,
    /// Strike was NaN, infinite or < 0 (or 0 where it must be positive).
    InvalidStrike,
    /// Time to expiry was NaN, infinite or < 0.
    InvalidYears,
    /// Rate was NaN or infinite.
    InvalidRate,
    /// Dividend yield was NaN or infinite.
    InvalidDividendYield,
    /// Volatility was NaN, infinite or < 0.
    InvalidVol,
    /// Option price was NaN, infinite or < 0.
    InvalidPrice,
    /// Price below the no-arbitrage lower bound.
    PriceBelowLowerBound,
    /// Price at or above the no-arbitrage upper bound.
    PriceAboveUpperBound,
    /// A solver did not converge.
    NoConvergence,
    /// Any other invalid input.
    InvalidInput,
    /// The inputs are valid but the result overflows `f64` (see [`PricingError::Overflow`]).
    Overflow,
}

impl ErrorCode {
    /// A short English description, for reports and CSV output.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::InvalidSpot => "invalid spot: must be finite and >= 0 (> 0 for implied vol)",
            Self::InvalidStrike => "invalid strike: must be finite and >= 0 (> 0 for implied vol)",
            Self::InvalidYears => "invalid years: must be finite and >= 0",
            Self::InvalidRate => "invalid rate: must be finite",
            Self::InvalidDividendYield => "invalid dividend_yield: must be finite",
            Self::InvalidVol => "invalid vol: must be finite and >= 0",
            Self::InvalidPrice => "invalid price: must be finite and >= 0",
            Self::PriceBelowLowerBound => "price below the no-arbitrage lower bound",
            Self::PriceAboveUpperBound => "price at or above the no-arbitrage upper bound",
            Self::NoConvergence => "solver did not converge",
            Self::InvalidInput => "invalid input",
            Self::Overflow => "the result overflows f64",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl From<&PricingError> for ErrorCode {
    fn from(e: &PricingError) -> Self {
        match e {
            PricingError::InvalidInput { name, .. } => match *name {
                "spot" | "forward" => Self::InvalidSpot,
                "strike" => Self::InvalidStrike,
                "years" => Self::InvalidYears,
                "rate" => Self::InvalidRate,
                "dividend_yield" => Self::InvalidDividendYield,
                "vol" => Self::InvalidVol,
                "price" => Self::InvalidPrice,
                _ => Self::InvalidInput,
            },
            PricingError::PriceBelowLowerBound { .. } => Self::PriceBelowLowerBound,
            PricingError::PriceAboveUpperBound { .. } => Self::PriceAboveUpperBound,
            PricingError::NoConvergence { .. } => Self::NoConvergence,
            PricingError::Overflow { .. } => Self::Overflow,
            PricingError::InvalidRight { .. } | PricingError::SliceLength { .. } => {
                Self::InvalidInput
            }
        }
    }
}
