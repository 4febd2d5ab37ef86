//! Validation of settings: each check names the strategy, the field and the bad value.

use crate::error::{Result, StrategyError};

/// Validation helpers that name the strategy, the field and the value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Check<'a> {
    strategy: &'a str,
}

impl<'a> Check<'a> {
    /// A checker for `strategy`, whose name must not be empty.
    pub(crate) fn new(strategy: &'a str) -> Result<Self> {
        let check = Self { strategy };
        if strategy.trim().is_empty() {
            return Err(check.bad("name", strategy, "a non-empty name"));
        }
        Ok(check)
    }

    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers pass temporaries (numbers, format!): by value keeps them short"
    )]
    pub(crate) fn bad(
        self,
        field: &'static str,
        value: impl ToString,
        requirement: &'static str,
    ) -> StrategyError {
        StrategyError::InvalidConfig {
            strategy: self.strategy.to_owned(),
            field,
            value: value.to_string(),
            requirement,
        }
    }

    /// A |delta| in (0, 0.5): out of the money, not zero.
    pub(crate) fn delta(self, field: &'static str, v: f64) -> Result<()> {
        if v > 0.0 && v < 0.5 {
            Ok(())
        } else {
            Err(self.bad(field, v, "a |delta| in (0, 0.5)"))
        }
    }

    /// A fraction in 0..=1.
    pub(crate) fn unit(self, field: &'static str, v: f64) -> Result<()> {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(self.bad(field, v, "in 0..=1"))
        }
    }

    /// Finite and above zero.
    pub(crate) fn positive(self, field: &'static str, v: f64) -> Result<()> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.bad(field, v, "finite and above zero"))
        }
    }

    /// `low <= high` (reported on the `high` field).
    pub(crate) fn ordered(
        self,
        low_field: &'static str,
        low: f64,
        high_field: &'static str,
        high: f64,
    ) -> Result<()> {
        if low <= high {
            Ok(())
        } else {
            Err(self.bad(
                high_field,
                format!("{high} (< {low_field} = {low})"),
                "at least the lower bound",
            ))
        }
    }

    /// A days-to-expiry window `0 <= min <= max`.
    pub(crate) fn dte(self, min: i64, max: i64) -> Result<()> {
        if min < 0 {
            return Err(self.bad("dte_min", min, "0 or more days"));
        }
        if min > max {
            return Err(self.bad(
                "dte_min",
                format!("{min} (> dte_max = {max})"),
                "at most dte_max",
            ));
        }
        Ok(())
    }

    /// Exactly zero.
    pub(crate) fn zero(self, field: &'static str, v: i64) -> Result<()> {
        if v == 0 {
            Ok(())
        } else {
            Err(self.bad(field, v, "0 (the session's own expiry)"))
        }
    }
}
