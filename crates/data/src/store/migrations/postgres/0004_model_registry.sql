-- Migration 0004 (PostgreSQL): the model registry, as ../0004_model_registry.sql. Metrics as
-- TEXT holding JSON (not JSONB): the store reads them back exactly as written, and the numbers
-- keep every digit serde_json gave them.

CREATE TABLE models (
    model_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    kind           TEXT      NOT NULL,
    path           TEXT      NOT NULL,
    feature_set    TEXT      NOT NULL,
    train_from     DATE      NOT NULL,
    train_to       DATE      NOT NULL CHECK (train_to >= train_from),
    created_at     TIMESTAMP NOT NULL,
    metrics        TEXT      NOT NULL,
    regime_metrics TEXT      NOT NULL,
    promoted_at    TIMESTAMP,
    promoted       BOOLEAN   NOT NULL DEFAULT FALSE
);

CREATE UNIQUE INDEX models_one_promoted ON models (promoted) WHERE promoted;
