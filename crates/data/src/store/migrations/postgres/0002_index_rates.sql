-- Migration 0002 (PostgreSQL): index histories and risk-free rates, as ../0002_index_rates.sql.
-- DOUBLE PRECISION, as SQLite's REAL: published statistics read as f64, never booked money.

CREATE TABLE index_values (
    symbol TEXT COLLATE "C" NOT NULL,
    date   DATE NOT NULL,
    open   DOUBLE PRECISION CHECK (open > 0),
    high   DOUBLE PRECISION CHECK (high > 0),
    low    DOUBLE PRECISION CHECK (low > 0),
    close  DOUBLE PRECISION NOT NULL CHECK (close > 0),
    PRIMARY KEY (symbol, date)
);

CREATE TABLE rates (
    series            TEXT COLLATE "C" NOT NULL,
    date              DATE NOT NULL,
    published_percent DOUBLE PRECISION,
    continuous        DOUBLE PRECISION,
    CHECK ((published_percent IS NULL) = (continuous IS NULL)),
    PRIMARY KEY (series, date)
);
