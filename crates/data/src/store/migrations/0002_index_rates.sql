-- Migration 0002: index histories (VIX, VIX9D, VIX3M, VVIX, SKEW, …), risk-free rates (FRED
-- DTB3, DFF). docs/data.md describes every column.
--
-- Why REAL here when bars keep decimal TEXT: these are published statistics read as f64 by the
-- importers (volta_data::import::IndexRecord, RateObservation), never booked money; an IEEE
-- double stored as REAL reads back bit for bit.

-- One index level per symbol and session. Close-only series (VVIX, SKEW) leave open, high and
-- low NULL; CBOE's OHLC histories fill all four.
CREATE TABLE index_values (
    symbol TEXT NOT NULL,
    date   TEXT NOT NULL,
    open   REAL CHECK (open > 0),
    high   REAL CHECK (high > 0),
    low    REAL CHECK (low > 0),
    close  REAL NOT NULL CHECK (close > 0),
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;

-- One observation of a rate series per date. `published_percent` is the value as the publisher
-- prints it (DTB3: discount basis, percent; DFF: simple annual rate, percent); `continuous` is
-- the same rate continuously compounded, per year, as a fraction (0.0539 = 5.39 %). A holiday
-- row that the publisher leaves empty is kept with both values NULL: the date is known to have
-- no value, which differs from a date never imported.
CREATE TABLE rates (
    series            TEXT NOT NULL,
    date              TEXT NOT NULL,
    published_percent REAL,
    continuous        REAL,
    CHECK ((published_percent IS NULL) = (continuous IS NULL)),
    PRIMARY KEY (series, date)
) WITHOUT ROWID;
