-- Migration 0004: the model registry (crates/data/src/store/registry.rs, docs/data.md). One row
-- per trained model; the files live in the models folder, named by a relative path. At most one
-- row is promoted: the partial unique index makes a second promoted row impossible, whoever
-- writes it. Metrics are JSON objects of numbers (name → value; regime → name → value).

CREATE TABLE models (
    model_id       TEXT    NOT NULL PRIMARY KEY,
    kind           TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    feature_set    TEXT    NOT NULL,
    train_from     TEXT    NOT NULL,
    train_to       TEXT    NOT NULL CHECK (train_to >= train_from),
    created_at     TEXT    NOT NULL,
    metrics        TEXT    NOT NULL,
    regime_metrics TEXT    NOT NULL,
    promoted_at    TEXT,
    promoted       INTEGER NOT NULL DEFAULT 0 CHECK (promoted IN (0, 1))
) WITHOUT ROWID;

CREATE UNIQUE INDEX models_one_promoted ON models (promoted) WHERE promoted = 1;
