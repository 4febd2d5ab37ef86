//! The model registry: which trained models exist, what they were trained on, how they scored
//! out of sample, and which one is promoted — the one the adaptive strategy loads in backtests
//! and in the live trader. Table `models` (migration 0004), on both stores.
//!
//! The model files themselves (LightGBM text, safetensors, JSON sidecars) live on disk under a
//! models folder; a record names them by a path relative to it, so the store stays small and a
//! store copied to another machine still names the right files there.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_data::store::{ModelRecord, ModelRegistry, SqliteStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut store = SqliteStore::open(dir.path().join("volta.db"))?;
//! let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
//! let mut record = ModelRecord::new("gbm-2024-01", "gbm", "gbm-2024-01/model.txt", "1.0.0", day(2), day(31));
//! record.created_at = day(31).and_hms_opt(18, 0, 0).unwrap();
//! record.metrics.insert("auc".into(), 0.57);
//! store.register_model(&record)?;
//! assert_eq!(store.promoted_model()?, None);
//! store.promote_model("gbm-2024-01", day(31).and_hms_opt(18, 5, 0).unwrap())?;
//! assert_eq!(store.promoted_model()?.unwrap().id, "gbm-2024-01");
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};

use crate::{DataError, Result};

/// Metrics by name (`auc`, `log_loss`, `brier`, …): finite numbers.
pub type Metrics = BTreeMap<String, f64>;

/// One trained model in the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecord {
    /// The model's id: 1-128 characters of `A-Z a-z 0-9 . _ -`.
    pub id: String,
    /// What kind of model (`gbm`, `lstm`, `logistic`, `ensemble`, …).
    pub kind: String,
    /// Its main file, relative to the models folder.
    pub path: String,
    /// The version of the feature set it was trained on.
    pub feature_set: String,
    /// The first decision date of its training data.
    pub train_from: NaiveDate,
    /// The last decision date of its training data.
    pub train_to: NaiveDate,
    /// When it was registered (exchange time for the live trader's retraining, the
    /// researcher's clock otherwise).
    pub created_at: NaiveDateTime,
    /// Out-of-sample metrics (the latest walk-forward fold's, or the whole validation's).
    pub metrics: Metrics,
    /// The same metrics per market regime, for the dashboard.
    pub regime_metrics: BTreeMap<String, Metrics>,
    /// When it was last promoted; `None` if never.
    pub promoted_at: Option<NaiveDateTime>,
    /// Whether it is the promoted model now (at most one is).
    pub promoted: bool,
}

impl ModelRecord {
    /// A record with no metrics, never promoted, created at the start of `train_to`'s next
    /// day (set `created_at` to the real time).
    #[must_use]
    pub fn new(
        id: &str,
        kind: &str,
        path: &str,
        feature_set: &str,
        train_from: NaiveDate,
        train_to: NaiveDate,
    ) -> Self {
        Self {
            id: id.to_owned(),
            kind: kind.to_owned(),
            path: path.to_owned(),
            feature_set: feature_set.to_owned(),
            train_from,
            train_to,
            created_at: train_to
                .succ_opt()
                .unwrap_or(train_to)
                .and_time(chrono::NaiveTime::MIN),
            metrics: Metrics::new(),
            regime_metrics: BTreeMap::new(),
            promoted_at: None,
            promoted: false,
        }
    }

    /// Refuses a record the registry must not hold, naming the field.
    ///
    /// # Errors
    /// [`DataError::StoreValue`] for a bad id, an empty kind, path or feature set, a path that
    /// leaves the models folder, a training range that ends before it starts, or a metric that
    /// is not finite.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, value: &str, requirement: &'static str| {
            Err(DataError::StoreValue {
                key: self.id.clone(),
                field,
                value: value.to_owned(),
                requirement,
            })
        };
        check_id(&self.id)?;
        if self.kind.trim().is_empty() {
            return bad("kind", &self.kind, "not empty");
        }
        if self.feature_set.trim().is_empty() {
            return bad("feature_set", &self.feature_set, "not empty");
        }
        let path = std::path::Path::new(&self.path);
        let escapes = path.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        if self.path.is_empty() || escapes {
            return bad(
                "path",
                &self.path,
                "a relative path inside the models folder (no `..`, no root)",
            );
        }
        if self.train_to < self.train_from {
            return bad(
                "train_to",
                &self.train_to.to_string(),
                "on or after train_from",
            );
        }
        let all = self
            .metrics
            .iter()
            .chain(self.regime_metrics.values().flat_map(|m| m.iter()));
        for (name, value) in all {
            if !value.is_finite() {
                return bad("metrics", &format!("{name} = {value}"), "finite numbers");
            }
        }
        Ok(())
    }
}

/// Refuses an id that is not 1-128 characters of `A-Z a-z 0-9 . _ -`.
pub(crate) fn check_id(id: &str) -> Result<()> {
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(DataError::StoreValue {
            key: id.to_owned(),
            field: "id",
            value: id.to_owned(),
            requirement: "1-128 characters of A-Z, a-z, 0-9, '.', '_', '-'",
        })
    }
}

/// The metrics as stored: a JSON object (the registry's one JSON column pair, read by the
/// dashboard too).
pub(crate) fn metrics_json(m: &Metrics) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

/// The per-regime metrics as stored: a JSON object of objects.
pub(crate) fn regime_json(m: &BTreeMap<String, Metrics>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

/// A stored JSON column of model `id` (`metrics`, `regime_metrics`) read back, or
/// [`DataError::StoreCorrupt`] naming it.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    id: &str,
    column: &'static str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|_| DataError::StoreCorrupt {
        table: "models",
        column,
        key: id.to_owned(),
        value: text.to_owned(),
        expected: "a JSON object of numbers",
    })
}

/// Trained models and the promoted one.
pub trait ModelRegistry {
    /// Adds a model to the registry, not promoted.
    ///
    /// # Errors
    /// What [`ModelRecord::validate`] refuses; [`DataError::ModelExists`] if the id is taken
    /// (a record is never overwritten: a retrained model gets a new id); a database failure.
    fn register_model(&mut self, record: &ModelRecord) -> Result<()>;

    /// Every model, oldest first (by creation time, then id).
    ///
    /// # Errors
    /// A database failure, or [`DataError::StoreCorrupt`] for a row that does not parse.
    fn models(&self) -> Result<Vec<ModelRecord>>;

    /// The model `id`, if registered.
    ///
    /// # Errors
    /// As [`ModelRegistry::models`].
    fn model(&self, id: &str) -> Result<Option<ModelRecord>>;

    /// Makes `id` the promoted model at `at`, and no other, in one transaction.
    ///
    /// # Errors
    /// [`DataError::UnknownModel`] if no model has that id (nothing changes); a database
    /// failure.
    fn promote_model(&mut self, id: &str, at: NaiveDateTime) -> Result<()>;

    /// The promoted model, if any.
    ///
    /// # Errors
    /// As [`ModelRegistry::models`].
    fn promoted_model(&self) -> Result<Option<ModelRecord>> {
        Ok(self.models()?.into_iter().find(|m| m.promoted))
    }
}

impl<T: ModelRegistry + ?Sized> ModelRegistry for Box<T> {
    fn register_model(&mut self, record: &ModelRecord) -> Result<()> {
        (**self).register_model(record)
    }
    fn models(&self) -> Result<Vec<ModelRecord>> {
        (**self).models()
    }
    fn model(&self, id: &str) -> Result<Option<ModelRecord>> {
        (**self).model(id)
    }
    fn promote_model(&mut self, id: &str, at: NaiveDateTime) -> Result<()> {
        (**self).promote_model(id, at)
    }
    fn promoted_model(&self) -> Result<Option<ModelRecord>> {
        (**self).promoted_model()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ModelRecord {
        let d = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        ModelRecord::new(
            "gbm-1",
            "gbm",
            "gbm-1/model.txt",
            "1.0.0",
            d(1, 2),
            d(6, 28),
        )
    }

    #[test]
    fn bad_records_are_refused_by_field() {
        let field = |r: ModelRecord| match r.validate() {
            Err(DataError::StoreValue { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert!(record().validate().is_ok());
        assert_eq!(
            field(ModelRecord {
                id: "a b".into(),
                ..record()
            }),
            "id"
        );
        assert_eq!(
            field(ModelRecord {
                id: String::new(),
                ..record()
            }),
            "id"
        );
        assert_eq!(
            field(ModelRecord {
                id: "x".repeat(129),
                ..record()
            }),
            "id"
        );
        assert_eq!(
            field(ModelRecord {
                kind: " ".into(),
                ..record()
            }),
            "kind"
        );
        assert_eq!(
            field(ModelRecord {
                path: "../etc/passwd".into(),
                ..record()
            }),
            "path"
        );
        assert_eq!(
            field(ModelRecord {
                path: "/abs/model.txt".into(),
                ..record()
            }),
            "path"
        );
        let mut late = record();
        late.train_to = late.train_from.pred_opt().unwrap();
        assert_eq!(field(late), "train_to");
        let mut nan = record();
        nan.regime_metrics
            .entry("calm".into())
            .or_default()
            .insert("auc".into(), f64::NAN);
        assert_eq!(field(nan), "metrics");
    }

    #[test]
    fn metrics_round_trip_through_their_json() {
        let mut m = Metrics::new();
        m.insert("auc".into(), 0.5712345678901234);
        m.insert("log_loss".into(), 0.69);
        assert_eq!(
            json_column::<Metrics>("m", "metrics", &metrics_json(&m)).unwrap(),
            m
        );
        for bad in ["[1, 2]", r#"{"auc": "high"}"#] {
            assert!(matches!(
                json_column::<Metrics>("m", "metrics", bad),
                Err(DataError::StoreCorrupt {
                    column: "metrics",
                    ..
                })
            ));
        }
    }
}
