//! The store: where market data and the trading journal live at rest.
//!
//! Two traits describe what the layers above need, whichever database holds the data:
//! - [`MarketStore`]: underlying daily bars, index histories (VIX, SKEW, …), risk-free rate
//!   series and option chain snapshots (bulk, atomic, idempotent upserts; a day's chain; a
//!   contract's history; coverage);
//! - [`JournalStore`]: runs, signals, orders, fills, positions and the equity curve.
//!
//! [`SqliteStore`] implements both on one SQLite file (WAL mode, numbered migrations applied
//! on open, online backup, integrity check): the embedded default. `PgStore` (cargo feature
//! `postgres`, on by default) implements both on a PostgreSQL database, for several machines
//! and writers sharing one store. [`open`] picks one by location: a `postgres://` URL or a
//! SQLite path ([`StoreLocation`]); [`copy`] moves everything from one store to another and
//! verifies it. [`checks`] tells whether a store is ready for use. `docs/data.md` documents
//! the schema and when to choose which.
//!
//! Every write method takes a whole batch and runs it in one transaction: either every row is
//! written or, on the first bad row, none is and the store is exactly as before. Writing the
//! same batch again changes nothing (upsert by key; rows whose values are unchanged are not
//! rewritten). Every statement is parameterised: no value is ever spliced into SQL text.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_core::{DailyBar, Underlying};
//! use volta_data::store::{MarketStore, SqliteStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut store = SqliteStore::open(dir.path().join("volta.db"))?;
//! let spy = Underlying::try_new("SPY")?;
//! let day = NaiveDate::from_ymd_opt(1999, 11, 1).unwrap();
//! let p = |s: &str| s.parse();
//! let bar = DailyBar::try_new(day, p("136.5")?, p("137")?, p("135.5625")?, p("135.5625")?, 4_006_500)?;
//! assert_eq!(store.upsert_daily_bars(&spy, &[bar])?, 1);
//! assert_eq!(store.upsert_daily_bars(&spy, &[bar])?, 0); // idempotent
//! assert_eq!(store.daily_bars(&spy, day, day)?, vec![bar]);
//! # Ok(())
//! # }
//! ```

pub mod checks;
mod codec;
pub mod copy;
mod location;
mod packed;
#[cfg(feature = "postgres")]
mod postgres;
mod registry;
mod sqlite;

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::{ChainSnapshot, ContractKey, DailyBar, Money, OptionQuote, Price, Underlying};

use crate::Result;
use crate::import::{IndexRecord, RateObservation, RateSeries};

pub use location::{Store, StoreLocation, is_postgres_url, open, open_at, open_path, redact_url};
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use registry::{Metrics, ModelRecord, ModelRegistry};
pub use sqlite::{SCHEMA_VERSION, SqliteStore};

/// Market data at rest: underlying bars, index histories, rate series and option chain
/// snapshots.
///
/// Object safe: the layers above hold a `Box<dyn MarketStore>`.
pub trait MarketStore {
    /// Inserts or updates the daily bars of `symbol`, keyed by (symbol, date), in one
    /// transaction. Returns the number of rows inserted or changed (0 when the store already
    /// held exactly these bars).
    ///
    /// # Errors
    /// [`DataError::StoreValue`](crate::DataError::StoreValue) for a volume beyond 2⁶³ − 1,
    /// [`DataError::Store`](crate::DataError::Store) if the database refuses a row; in both
    /// cases nothing of the batch is written.
    fn upsert_daily_bars(&mut self, symbol: &Underlying, bars: &[DailyBar]) -> Result<u64>;

    /// The daily bars of `symbol` from `from` to `to` (both inclusive), by date.
    ///
    /// # Errors
    /// [`DataError::Store`](crate::DataError::Store) on a database failure,
    /// [`DataError::StoreCorrupt`](crate::DataError::StoreCorrupt) for a row that does not parse.
    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>>;

    /// Inserts or updates chain snapshots in one transaction: a snapshot is keyed by
    /// (underlying, `as_of`), each quote by (snapshot, contract key). Quotes already stored
    /// for a snapshot but absent from `chains` are kept (an upsert, not a replacement).
    /// Returns the number of snapshot and quote rows inserted or changed.
    ///
    /// # Errors
    /// [`DataError::StoreValue`](crate::DataError::StoreValue) for a volume or open interest
    /// beyond 2⁶³ − 1 or a NaN vendor value; [`DataError::Store`](crate::DataError::Store) if
    /// the database refuses a row. Nothing of the batch is written then.
    fn upsert_chains(&mut self, chains: &[ChainSnapshot]) -> Result<u64>;

    /// The snapshot of `symbol` taken exactly at `as_of`, if stored.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn chain_at(&self, symbol: &Underlying, as_of: NaiveDateTime) -> Result<Option<ChainSnapshot>>;

    /// The last snapshot of `symbol` taken on `date` (exchange time), if any: a day's chain.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn chain_on(&self, symbol: &Underlying, date: NaiveDate) -> Result<Option<ChainSnapshot>>;

    /// The times of the snapshots of `symbol` on `date`, ascending.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn snapshot_times(&self, symbol: &Underlying, date: NaiveDate) -> Result<Vec<NaiveDateTime>>;

    /// Every stored quote of one contract taken from `from` to `to` (dates inclusive, exchange
    /// time), by time.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn contract_history(
        &self,
        key: &ContractKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ContractObservation>>;

    /// Inserts or updates the daily values of the index `symbol` (`VIX`, `VVIX`, …), keyed by
    /// (symbol, date), in one transaction. Returns the number of rows inserted or changed (0
    /// when the store already held exactly these values).
    ///
    /// # Errors
    /// [`DataError::StoreValue`](crate::DataError::StoreValue) for a NaN value,
    /// [`DataError::Store`](crate::DataError::Store) if the database refuses a row (a close
    /// ≤ 0); nothing of the batch is written then.
    fn upsert_index_values(&mut self, symbol: &Underlying, values: &[IndexRecord]) -> Result<u64>;

    /// The daily values of the index `symbol` from `from` to `to` (both inclusive), by date.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn index_values(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IndexRecord>>;

    /// Inserts or updates observations of a rate series, keyed by (series, date), in one
    /// transaction. A missing value (a FRED holiday row) is stored as such (NULL), not as 0.
    /// Returns the number of rows inserted or changed.
    ///
    /// # Errors
    /// As [`MarketStore::upsert_index_values`].
    fn upsert_rates(&mut self, series: RateSeries, observations: &[RateObservation])
    -> Result<u64>;

    /// The observations of `series` from `from` to `to` (both inclusive), by date, missing
    /// values included as `None`.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn rates(
        &self,
        series: RateSeries,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RateObservation>>;

    /// What the store holds: per symbol and kind, the first and last date and the row count;
    /// sorted by kind, then symbol.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn coverage(&self) -> Result<Vec<Coverage>>;
}

/// One quote of a contract in its history, with the snapshot it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractObservation {
    /// When the snapshot was taken, exchange time.
    pub as_of: NaiveDateTime,
    /// The underlying's price in that snapshot (US dollars).
    pub underlying_price: Price,
    /// The quote.
    pub quote: OptionQuote,
}

/// Which kind of data a [`Coverage`] row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataKind {
    /// Underlying daily bars; `rows` counts bars.
    DailyBars,
    /// Option chain snapshots; `rows` counts snapshots (not quotes).
    Chains,
    /// Index values (VIX, SKEW, …); `rows` counts dates.
    IndexValues,
    /// Rate series (DTB3, DFF); the symbol is the series name; `rows` counts dates, missing
    /// values included.
    Rates,
}

/// The span of one kind of data for one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The kind of data.
    pub kind: DataKind,
    /// The symbol (the underlying, for chains; the series name, for rates).
    pub symbol: Underlying,
    /// First date held.
    pub first: NaiveDate,
    /// Last date held.
    pub last: NaiveDate,
    /// Bars, snapshots, index values or rate observations.
    pub rows: u64,
}

/// The trading journal at rest: what runs did.
///
/// Ids are the caller's (the engine's or the broker's); money is exact ([`Money`], [`Price`]).
/// Rows of a run, an order or a position must name an existing run / order: the store refuses
/// orphans.
pub trait JournalStore {
    /// Inserts or updates a run, keyed by `run_id`.
    ///
    /// # Errors
    /// [`DataError::Store`](crate::DataError::Store) if the database refuses it.
    fn upsert_run(&mut self, run: &RunRecord) -> Result<u64>;

    /// Every run, by start time then id.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn runs(&self) -> Result<Vec<RunRecord>>;

    /// Inserts or updates signals, keyed by (run, time, underlying, strategy, name), in one
    /// transaction.
    ///
    /// # Errors
    /// [`DataError::StoreValue`](crate::DataError::StoreValue) for a NaN value,
    /// [`DataError::Store`](crate::DataError::Store) for an unknown run; nothing written then.
    fn upsert_signals(&mut self, signals: &[SignalRecord]) -> Result<u64>;

    /// The signals of a run, by time, underlying, strategy, name.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn signals(&self, run_id: &str) -> Result<Vec<SignalRecord>>;

    /// Inserts or updates orders, keyed by `order_id` (an order's status changes), in one
    /// transaction.
    ///
    /// # Errors
    /// [`DataError::StoreValue`](crate::DataError::StoreValue) for a zero or too large
    /// quantity, [`DataError::Store`](crate::DataError::Store) for an unknown run; nothing
    /// written then.
    fn upsert_orders(&mut self, orders: &[OrderRecord]) -> Result<u64>;

    /// The orders of a run, by creation time then id.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn orders(&self, run_id: &str) -> Result<Vec<OrderRecord>>;

    /// Records fills, keyed by `fill_id`, in one transaction. A fill is a fact: recording the
    /// same fill again changes nothing, recording a different fill under a known id is refused.
    ///
    /// # Errors
    /// [`DataError::StoreValue`](crate::DataError::StoreValue) for a zero or too large
    /// quantity, [`DataError::Store`](crate::DataError::Store) for an unknown order or a
    /// conflicting fill; nothing written then.
    fn record_fills(&mut self, fills: &[FillRecord]) -> Result<u64>;

    /// The fills of the orders of a run, by time then id.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn fills(&self, run_id: &str) -> Result<Vec<FillRecord>>;

    /// Inserts or updates positions, keyed by `position_id`, in one transaction.
    ///
    /// # Errors
    /// [`DataError::Store`](crate::DataError::Store) for an unknown run; nothing written then.
    fn upsert_positions(&mut self, positions: &[PositionRecord]) -> Result<u64>;

    /// The positions of a run, by opening time then id.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn positions(&self, run_id: &str) -> Result<Vec<PositionRecord>>;

    /// Inserts or updates points of equity curves, keyed by (run, time), in one transaction.
    ///
    /// # Errors
    /// [`DataError::Store`](crate::DataError::Store) for an unknown run; nothing written then.
    fn upsert_equity(&mut self, points: &[EquityPoint]) -> Result<u64>;

    /// The equity curve of a run, by time.
    ///
    /// # Errors
    /// As [`MarketStore::daily_bars`].
    fn equity_curve(&self, run_id: &str) -> Result<Vec<EquityPoint>>;
}

/// A backtest, paper or live run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// `backtest`, `paper` or `live` (free text, so new modes need no migration).
    pub mode: String,
    /// When the run started: simulated time for a backtest, exchange time otherwise.
    pub started_at: NaiveDateTime,
    /// A human label.
    pub label: String,
    /// The run's configuration, serialised by the caller (TOML or JSON text).
    pub config: String,
}

/// A named number a strategy computed for an underlying (an IV rank, a model score).
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    /// The run.
    pub run_id: String,
    /// When it was computed, exchange time.
    pub at: NaiveDateTime,
    /// The underlying it is about.
    pub underlying: Underlying,
    /// The strategy that computed it.
    pub strategy: String,
    /// The signal's name.
    pub name: String,
    /// Its value, in the signal's own unit (finite or infinite; never NaN).
    pub value: f64,
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Buy (opening a long or closing a short).
    Buy,
    /// Sell.
    Sell,
}

/// An order as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The order's id.
    pub order_id: String,
    /// The run that placed it.
    pub run_id: String,
    /// When it was created, exchange time.
    pub created_at: NaiveDateTime,
    /// What it trades: an OCC key, a ticker, or a combination's description.
    pub instrument: String,
    /// Buy or sell.
    pub side: Side,
    /// Quantity in contracts or shares, positive.
    pub quantity: u64,
    /// Limit price per unit (US dollars; a combination's net price may be negative); `None`
    /// for a market order.
    pub limit_price: Option<Money>,
    /// The order's status as the broker reports it (`submitted`, `filled`, `cancelled`, …).
    pub status: String,
}

/// An execution of (part of) an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// The fill's id (the broker's execution id).
    pub fill_id: String,
    /// The order filled.
    pub order_id: String,
    /// When, exchange time.
    pub at: NaiveDateTime,
    /// Quantity filled, positive; the order says the side.
    pub quantity: u64,
    /// Net price per unit, US dollars, in the order's convention (a combination's net price
    /// may be negative: IB's BAG convention, a credit bought at a negative price).
    pub price: Money,
    /// Commissions and fees of this fill, US dollars (positive = paid).
    pub fees: Money,
}

/// A position as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRecord {
    /// The position's id.
    pub position_id: String,
    /// The run holding it.
    pub run_id: String,
    /// What is held: an OCC key, a ticker, or a combination's description.
    pub instrument: String,
    /// Signed quantity: positive long, negative short, zero once closed.
    pub quantity: i64,
    /// Average opening price per unit, US dollars (a combination's may be negative: a credit).
    pub average_price: Money,
    /// P&L realised so far, US dollars.
    pub realized_pnl: Money,
    /// When it was opened, exchange time.
    pub opened_at: NaiveDateTime,
    /// When it was closed, if it is.
    pub closed_at: Option<NaiveDateTime>,
}

/// One point of a run's equity curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityPoint {
    /// The run.
    pub run_id: String,
    /// When, exchange time.
    pub at: NaiveDateTime,
    /// Cash, US dollars.
    pub cash: Money,
    /// Cash plus the marked value of every position, US dollars.
    pub equity: Money,
}

/// What [`SqliteStore::integrity_check`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntegrityReport {
    /// The lines of `PRAGMA integrity_check` other than `ok` (damaged pages, index entries
    /// missing, …).
    pub problems: Vec<String>,
    /// The rows of `PRAGMA foreign_key_check`: rows whose parent is missing.
    pub foreign_key_violations: Vec<ForeignKeyViolation>,
}

impl IntegrityReport {
    /// Whether the database is sound: no problem and no orphan row.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.foreign_key_violations.is_empty()
    }
}

/// A row that refers to a missing parent row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyViolation {
    /// The table holding the orphan.
    pub table: String,
    /// The orphan's rowid (`None` for the store's `WITHOUT ROWID` tables).
    pub rowid: Option<i64>,
    /// The table the missing parent belongs to.
    pub parent: String,
}
