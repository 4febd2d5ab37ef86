//! [`ModelRegistry`] on PostgreSQL: table `models` (migration 0004).

use chrono::NaiveDateTime;
use postgres::Row;

use super::codec::{Reader, fmt_date, ts_text};
use super::{PgStore, pg_err};
use crate::store::registry::{json_column, metrics_json, regime_json};
use crate::store::{ModelRecord, ModelRegistry};
use crate::{DataError, Result};

/// Selects every column [`read_model`] reads, in its order; a `WHERE` clause follows.
macro_rules! select_models {
    ($rest:literal) => {
        concat!(
            "SELECT model_id, kind, path, feature_set, train_from, train_to, created_at,
                    metrics, regime_metrics, promoted_at, promoted FROM models ",
            $rest
        )
    };
}

fn read_model(row: &Row) -> Result<ModelRecord> {
    let r = Reader::new("models", row, &"models");
    let id = r.req_text(0, "model_id")?.to_owned();
    let r = r.keyed(&id);
    Ok(ModelRecord {
        kind: r.req_text(1, "kind")?.to_owned(),
        path: r.req_text(2, "path")?.to_owned(),
        feature_set: r.req_text(3, "feature_set")?.to_owned(),
        train_from: r.date(4, "train_from")?,
        train_to: r.date(5, "train_to")?,
        created_at: r.time(6, "created_at")?,
        metrics: json_column(&id, "metrics", r.req_text(7, "metrics")?)?,
        regime_metrics: json_column(&id, "regime_metrics", r.req_text(8, "regime_metrics")?)?,
        promoted_at: r.opt_time(9, "promoted_at")?,
        promoted: r.flag(10, "promoted")?,
        id: id.clone(),
    })
}

impl ModelRegistry for PgStore {
    fn register_model(&mut self, record: &ModelRecord) -> Result<()> {
        record.validate()?;
        let created_at = ts_text(record.created_at, &record.id, "created_at")?;
        self.in_transaction("register model", |tx, shown| {
            let inserted = tx
                .execute(
                    "INSERT INTO models (model_id, kind, path, feature_set, train_from, train_to,
                         created_at, metrics, regime_metrics, promoted_at, promoted)
                     VALUES ($1, $2, $3, $4, $5::text::date, $6::text::date,
                         $7::text::timestamp, $8, $9, NULL, FALSE)
                     ON CONFLICT (model_id) DO NOTHING",
                    &[
                        &record.id,
                        &record.kind,
                        &record.path,
                        &record.feature_set,
                        &fmt_date(record.train_from),
                        &fmt_date(record.train_to),
                        &created_at,
                        &metrics_json(&record.metrics),
                        &regime_json(&record.regime_metrics),
                    ],
                )
                .map_err(pg_err(shown, "register model", &record.id))?;
            if inserted == 0 {
                return Err(DataError::ModelExists {
                    id: record.id.clone(),
                });
            }
            Ok(())
        })
    }

    fn models(&self) -> Result<Vec<ModelRecord>> {
        self.select(
            "list models",
            &"models",
            select_models!("ORDER BY created_at, model_id"),
            &[],
            read_model,
        )
    }

    fn model(&self, id: &str) -> Result<Option<ModelRecord>> {
        Ok(self
            .select(
                "read model",
                &id,
                select_models!("WHERE model_id = $1"),
                &[&id],
                read_model,
            )?
            .pop())
    }

    fn promote_model(&mut self, id: &str, at: NaiveDateTime) -> Result<()> {
        let at = ts_text(at, &id, "promoted_at")?;
        self.in_transaction("promote model", |tx, shown| {
            let err = || pg_err(shown, "promote model", id);
            // Row locks in a fixed order (the promoted row, then this one) so that two
            // promotions at once serialise instead of both setting a row.
            tx.execute(
                "SELECT 1 FROM models WHERE promoted OR model_id = $1 ORDER BY model_id FOR UPDATE",
                &[&id],
            )
            .map_err(err())?;
            let known = tx
                .query_opt("SELECT 1 FROM models WHERE model_id = $1", &[&id])
                .map_err(err())?;
            if known.is_none() {
                return Err(DataError::UnknownModel { id: id.to_owned() });
            }
            tx.execute(
                "UPDATE models SET promoted = FALSE WHERE promoted AND model_id <> $1",
                &[&id],
            )
            .map_err(err())?;
            tx.execute(
                "UPDATE models SET promoted = TRUE, promoted_at = $2::text::timestamp
                  WHERE model_id = $1",
                &[&id, &at],
            )
            .map_err(err())?;
            Ok(())
        })
    }

    fn promoted_model(&self) -> Result<Option<ModelRecord>> {
        Ok(self
            .select(
                "read promoted model",
                &"models",
                select_models!("WHERE promoted"),
                &[],
                read_model,
            )?
            .pop())
    }
}
