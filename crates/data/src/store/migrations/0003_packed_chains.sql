-- Migration 0003: each chain snapshot's quotes packed into one value, beside their rows in
-- option_quotes (crates/data/src/store/packed.rs has the format and docs/data.md says why: a
-- chain is read whole at every decision, and one value reads faster than thousands of rows).
-- The rows stay the record; the packed value is derived from them in the same transaction.
-- NULL (a snapshot written by another tool) means "read the rows". The store fills the column
-- for existing snapshots right after this statement, in the migration's transaction.

ALTER TABLE chain_snapshots ADD COLUMN packed_quotes BLOB;
