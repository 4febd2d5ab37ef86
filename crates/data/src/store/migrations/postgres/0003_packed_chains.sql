-- Migration 0003 (PostgreSQL): each chain snapshot's quotes packed into one value, as
-- ../0003_packed_chains.sql. Why here above all: the server's per-value output functions were
-- ~6 ms of a 5 000-quote chain's 14 × 5 000 values before a byte crossed the socket; one BYTEA
-- is sent as it lies. STORAGE EXTERNAL keeps the value out of line and uncompressed: pglz would
-- cost CPU on every read for a value that is mostly varints already.

ALTER TABLE chain_snapshots ADD COLUMN packed_quotes BYTEA;
ALTER TABLE chain_snapshots ALTER COLUMN packed_quotes SET STORAGE EXTERNAL;
