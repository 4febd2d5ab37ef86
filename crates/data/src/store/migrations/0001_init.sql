-- Migration 0001: the initial schema. docs/data.md describes every table and column.
--
-- Conventions (why): money and prices are decimal TEXT ('2.76', '-12.50') so that they come
-- back exactly as booked (rust_decimal round trip; REAL would turn 0.1 into 0.1000000000000000055);
-- dates are 'YYYY-MM-DD' and timestamps 'YYYY-MM-DD HH:MM:SS[.fff]' in exchange time
-- (America/New_York), which sort chronologically as text and which SQLite's date functions read.
-- Keyed tables are WITHOUT ROWID: the primary key is the lookup key, so rows are stored in key
-- order and a range scan on it (a day's chain, a symbol's bars) reads contiguous pages.

-- Underlying daily bars: one row per symbol and session.
CREATE TABLE bars (
    symbol TEXT    NOT NULL,
    date   TEXT    NOT NULL,
    open   TEXT    NOT NULL,
    high   TEXT    NOT NULL,
    low    TEXT    NOT NULL,
    close  TEXT    NOT NULL,
    volume INTEGER NOT NULL CHECK (volume >= 0),
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;

-- One option chain snapshot: an underlying at one moment.
CREATE TABLE chain_snapshots (
    snapshot_id      INTEGER PRIMARY KEY,
    underlying       TEXT NOT NULL,
    as_of            TEXT NOT NULL,
    underlying_price TEXT NOT NULL,
    UNIQUE (underlying, as_of)
);

-- The quotes of a snapshot, keyed by (snapshot, OCC contract key).
CREATE TABLE option_quotes (
    snapshot_id   INTEGER NOT NULL REFERENCES chain_snapshots (snapshot_id),
    contract      TEXT    NOT NULL CHECK (length(contract) = 21),
    bid           TEXT,
    ask           TEXT,
    last          TEXT,
    volume        INTEGER NOT NULL CHECK (volume >= 0),
    open_interest INTEGER NOT NULL CHECK (open_interest >= 0),
    updated_at    TEXT,
    has_vendor    INTEGER NOT NULL CHECK (has_vendor IN (0, 1)),
    vendor_iv     REAL,
    vendor_delta  REAL,
    vendor_gamma  REAL,
    vendor_theta  REAL,
    vendor_vega   REAL,
    PRIMARY KEY (snapshot_id, contract)
) WITHOUT ROWID;

-- A contract's history across snapshots.
CREATE INDEX option_quotes_by_contract ON option_quotes (contract, snapshot_id);

-- A backtest, paper or live run: everything below belongs to one.
CREATE TABLE runs (
    run_id     TEXT NOT NULL PRIMARY KEY,
    mode       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    label      TEXT NOT NULL,
    config     TEXT NOT NULL
) WITHOUT ROWID;

-- Named numeric signals a strategy computed.
CREATE TABLE signals (
    run_id     TEXT NOT NULL REFERENCES runs (run_id),
    at         TEXT NOT NULL,
    underlying TEXT NOT NULL,
    strategy   TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      REAL NOT NULL,
    PRIMARY KEY (run_id, at, underlying, strategy, name)
) WITHOUT ROWID;

CREATE TABLE orders (
    order_id    TEXT    NOT NULL PRIMARY KEY,
    run_id      TEXT    NOT NULL REFERENCES runs (run_id),
    created_at  TEXT    NOT NULL,
    instrument  TEXT    NOT NULL,
    side        TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    limit_price TEXT,
    status      TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX orders_by_run ON orders (run_id, created_at);

CREATE TABLE fills (
    fill_id  TEXT    NOT NULL PRIMARY KEY,
    order_id TEXT    NOT NULL REFERENCES orders (order_id),
    at       TEXT    NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    price    TEXT    NOT NULL,
    fees     TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX fills_by_order ON fills (order_id, at);

CREATE TABLE positions (
    position_id   TEXT    NOT NULL PRIMARY KEY,
    run_id        TEXT    NOT NULL REFERENCES runs (run_id),
    instrument    TEXT    NOT NULL,
    quantity      INTEGER NOT NULL,
    average_price TEXT    NOT NULL,
    realized_pnl  TEXT    NOT NULL,
    opened_at     TEXT    NOT NULL,
    closed_at     TEXT
) WITHOUT ROWID;
CREATE INDEX positions_by_run ON positions (run_id, opened_at);

CREATE TABLE equity_curve (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    at     TEXT NOT NULL,
    cash   TEXT NOT NULL,
    equity TEXT NOT NULL,
    PRIMARY KEY (run_id, at)
) WITHOUT ROWID;
