//! The id of a combo position, shared by the strategies that close it, the engine that books
//! it and the journal that records it.

use std::fmt;
use std::str::FromStr;

use crate::error::{CoreError, Result, invalid};

/// The id of one combo position, unique within a run: the engine numbers them `p1`, `p2`, … in
/// opening order. A closing order names the position it closes by this id, not by its legs
/// (two positions may hold the same legs).
///
/// One word of ASCII letters, digits, `-`, `_` and `.`: it is written into order tags
/// (IB's `orderRef`) and journal keys (`{run_id}/{id}`).
///
/// ```
/// use volta_core::PositionId;
///
/// let id: PositionId = "p12".parse()?;
/// assert_eq!(id.as_str(), "p12");
/// assert_eq!(id.to_string(), "p12");
/// assert!(PositionId::try_new("run/p1").is_err());
/// # Ok::<(), volta_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PositionId(String);

impl PositionId {
    /// A checked id.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] for an empty id or one with a character other than ASCII
    /// letters, digits, `-`, `_` and `.`.
    pub fn try_new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if id.is_empty() || !id.chars().all(ok) {
            return Err(invalid(
                "position id",
                id,
                "one word of ASCII letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Self(id))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PositionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PositionId {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::try_new(s)
    }
}

impl AsRef<str> for PositionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_word() {
        for good in ["p1", "p10", "ib-42", "run_1.p3"] {
            assert_eq!(PositionId::try_new(good).unwrap().as_str(), good);
        }
        for bad in ["", "p 1", "run/p1", "p1\n", "é"] {
            assert!(PositionId::try_new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            PositionId::try_new("").unwrap_err().to_string(),
            "invalid position id ``: must be one word of ASCII letters, digits, '-', '_' and '.'"
        );
    }
}
