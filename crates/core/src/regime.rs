//! The volatility regime: the five states the regime detector (volta-features) classifies a
//! session into, and the name every config, report and risk table uses for them.

use std::fmt;
use std::str::FromStr;

use crate::error::CoreError;

/// A volatility regime of the original plan (see volta-features' `regime` module for the
/// rules that classify a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Regime {
    /// Low VIX and low VIX rank.
    LowVol,
    /// High VIX or high VIX rank.
    HighVol,
    /// Realised vol catching up with implied, VIX rank above the middle.
    IvExpansion,
    /// Implied vol well above realised, VIX rank below the middle.
    IvContraction,
    /// None of the above.
    Neutral,
}

impl Regime {
    /// All five, in the plan's priority order.
    pub const ALL: [Self; 5] = [
        Self::LowVol,
        Self::HighVol,
        Self::IvExpansion,
        Self::IvContraction,
        Self::Neutral,
    ];

    /// The plan's snake-case name (`low_vol`, `high_vol`, `iv_expansion`, `iv_contraction`,
    /// `neutral`): the one spelling of configs (TOML keys), reports and journals.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LowVol => "low_vol",
            Self::HighVol => "high_vol",
            Self::IvExpansion => "iv_expansion",
            Self::IvContraction => "iv_contraction",
            Self::Neutral => "neutral",
        }
    }

    /// Position in [`Regime::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Regime {
    type Err = CoreError;

    /// Parses the snake-case name of [`Regime::as_str`] (exactly; no other spelling).
    fn from_str(name: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| CoreError::UnknownRegime {
                name: name.to_owned(),
            })
    }
}

// By hand rather than derived, so that serde spells the names exactly as `as_str` and rejects
// an unknown one with the same message as `FromStr`.
impl serde::Serialize for Regime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Regime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Regime;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regime name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Regime, E> {
                name.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_all() {
        for (i, r) in Regime::ALL.into_iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(r.as_str().parse::<Regime>(), Ok(r));
            assert_eq!(r.to_string(), r.as_str());
        }
    }

    #[test]
    fn an_unknown_name_is_named() {
        let err = "hi_vol".parse::<Regime>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown regime `hi_vol`: known are low_vol, high_vol, iv_expansion, iv_contraction, \
             neutral"
        );
        assert!("HighVol".parse::<Regime>().is_err());
    }

    #[test]
    fn serde_uses_the_same_names() {
        let table: std::collections::BTreeMap<Regime, f64> =
            serde_json::from_str(r#"{"high_vol": 0.5, "low_vol": 1.0}"#).unwrap();
        assert_eq!(table[&Regime::HighVol], 0.5);
        assert_eq!(
            serde_json::to_string(&Regime::IvContraction).unwrap(),
            r#""iv_contraction""#
        );
        let err = serde_json::from_str::<Regime>(r#""calm""#).unwrap_err();
        assert!(err.to_string().contains("unknown regime `calm`"), "{err}");
    }
}
