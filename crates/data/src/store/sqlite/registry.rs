//! [`ModelRegistry`] on SQLite: table `models` (migration 0004).

use chrono::NaiveDateTime;
use rusqlite::{OptionalExtension, Row, params};

use super::codec::{Reader, fmt_date, fmt_datetime};
use super::{SqliteStore, sql_err};
use crate::store::registry::{json_column, metrics_json, regime_json};
use crate::store::{ModelRecord, ModelRegistry};
use crate::{DataError, Result};

/// The columns [`read_model`] reads, in its order.
const COLUMNS: &str = "model_id, kind, path, feature_set, train_from, train_to, created_at,
    metrics, regime_metrics, promoted_at, promoted";

fn read_model(row: &Row<'_>) -> Result<ModelRecord> {
    let r = Reader::new("models", row, &"models");
    let id = r.req_text(0, "model_id")?.to_owned();
    let r = r.keyed(&id);
    Ok(ModelRecord {
        kind: r.req_text(1, "kind")?.to_owned(),
        path: r.req_text(2, "path")?.to_owned(),
        feature_set: r.req_text(3, "feature_set")?.to_owned(),
        train_from: r.req(4, "train_from")?,
        train_to: r.req(5, "train_to")?,
        created_at: r.req(6, "created_at")?,
        metrics: json_column(&id, "metrics", r.req_text(7, "metrics")?)?,
        regime_metrics: json_column(&id, "regime_metrics", r.req_text(8, "regime_metrics")?)?,
        promoted_at: r.opt(9, "promoted_at")?,
        promoted: r.int(10, "promoted")? == 1,
        id: id.clone(),
    })
}

impl ModelRegistry for SqliteStore {
    fn register_model(&mut self, record: &ModelRecord) -> Result<()> {
        record.validate()?;
        self.in_transaction("register model", |tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO models (model_id, kind, path, feature_set, train_from, train_to,
                         created_at, metrics, regime_metrics, promoted_at, promoted)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 0)
                     ON CONFLICT (model_id) DO NOTHING",
                    params![
                        record.id,
                        record.kind,
                        record.path,
                        record.feature_set,
                        fmt_date(record.train_from),
                        fmt_date(record.train_to),
                        fmt_datetime(record.created_at),
                        metrics_json(&record.metrics),
                        regime_json(&record.regime_metrics),
                    ],
                )
                .map_err(sql_err("register model", &record.id))?;
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
            &format!("SELECT {COLUMNS} FROM models ORDER BY created_at, model_id"),
            [],
            read_model,
        )
    }

    fn model(&self, id: &str) -> Result<Option<ModelRecord>> {
        Ok(self
            .select(
                "read model",
                &id,
                &format!("SELECT {COLUMNS} FROM models WHERE model_id = ?1"),
                [id],
                read_model,
            )?
            .pop())
    }

    fn promote_model(&mut self, id: &str, at: NaiveDateTime) -> Result<()> {
        self.in_transaction("promote model", |tx| {
            let known = tx
                .query_row("SELECT 1 FROM models WHERE model_id = ?1", [id], |_| Ok(()))
                .optional()
                .map_err(sql_err("promote model", id))?;
            if known.is_none() {
                return Err(DataError::UnknownModel { id: id.to_owned() });
            }
            tx.execute(
                "UPDATE models SET promoted = 0 WHERE promoted = 1 AND model_id <> ?1",
                [id],
            )
            .map_err(sql_err("promote model", id))?;
            tx.execute(
                "UPDATE models SET promoted = 1, promoted_at = ?2 WHERE model_id = ?1",
                params![id, fmt_datetime(at)],
            )
            .map_err(sql_err("promote model", id))?;
            Ok(())
        })
    }

    fn promoted_model(&self) -> Result<Option<ModelRecord>> {
        Ok(self
            .select(
                "read promoted model",
                &"models",
                &format!("SELECT {COLUMNS} FROM models WHERE promoted = 1"),
                [],
                read_model,
            )?
            .pop())
    }
}
