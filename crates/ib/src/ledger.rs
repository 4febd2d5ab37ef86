//! The order ledger: every order intent is written here **before** it is sent to IB, and every
//! step of its life after, so that a trader that stops at any moment (a crash, `kill -9`, a
//! power cut) restarts knowing what it asked for. Reconciliation matches the ledger with IB by
//! `orderRef`: an intent already at IB is never sent again, and an execution is booked once
//! (by IB's execution id).
//!
//! It is three tables in a SQLite file (by default the live journal's): `ib_intents`,
//! `ib_executions`, and `ib_meta`. Every statement is parameterised; each change is one
//! transaction.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use volta_core::broker::{OrderId, OrderRequest, OrderTag, StockOrder, TimeInForce};
use volta_core::order::{ComboOrder, ComboSide, Instrument, Leg, LegAction};
use volta_core::{ContractKey, Money, Price};

use crate::error::{IbError, Result};

/// Where an order intent is in its life. The order is the only direction it moves in:
/// `Intent` → `Submitted` → `Acknowledged` → `PartiallyFilled` → one of `Filled`,
/// `Cancelled`, `Rejected` (any earlier state may also end in one of the last three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntentState {
    /// Written, not yet handed to IB.
    Intent,
    /// Handed to the API client (the socket write returned).
    Submitted,
    /// IB reported it working (`PreSubmitted` / `Submitted`).
    Acknowledged,
    /// Some combo units filled, the rest still working.
    PartiallyFilled,
    /// Every unit filled.
    Filled,
    /// Cancelled (by request, at the day's end, or never sent: see the detail).
    Cancelled,
    /// Refused by IB or by the adapter's checks.
    Rejected,
}

impl IntentState {
    /// The name stored in the ledger.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Submitted => "submitted",
            Self::Acknowledged => "acknowledged",
            Self::PartiallyFilled => "partially_filled",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
        }
    }

    /// Whether the order is done.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Filled | Self::Cancelled | Self::Rejected)
    }

    /// Whether moving to `next` is forward (the ledger never moves an order back).
    #[must_use]
    pub fn can_become(self, next: Self) -> bool {
        !self.is_terminal() && next > self
    }
}

impl FromStr for IntentState {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "intent" => Self::Intent,
            "submitted" => Self::Submitted,
            "acknowledged" => Self::Acknowledged,
            "partially_filled" => Self::PartiallyFilled,
            "filled" => Self::Filled,
            "cancelled" => Self::Cancelled,
            "rejected" => Self::Rejected,
            other => return Err(format!("unknown intent state `{other}`")),
        })
    }
}

/// One order as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentRecord {
    /// Volta's order id.
    pub order_id: OrderId,
    /// The `orderRef` sent to IB: unique per ledger, so that IB's records name the intent.
    pub order_ref: String,
    /// IB's order id, once sent.
    pub ib_order_id: Option<i32>,
    /// Where it is.
    pub state: IntentState,
    /// What was asked.
    pub request: OrderRequest,
    /// The caller's labels.
    pub tag: OrderTag,
    /// DAY or GTC.
    pub tif: TimeInForce,
    /// When the intent was written, exchange time.
    pub created_at: NaiveDateTime,
    /// IB's last word on it (a rejection's reason, why it was cancelled).
    pub detail: Option<String>,
    /// Whether its terminal event has been handed to the engine.
    pub reported: bool,
}

/// One execution of one leg, as IB reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// IB's execution id (unique: the key that books a fill once).
    pub exec_id: String,
    /// The order it belongs to.
    pub order_id: OrderId,
    /// The instrument.
    pub instrument: Instrument,
    /// Signed units: contracts (positive bought) or shares.
    pub quantity: i64,
    /// Price per share, in dollars.
    pub price: Price,
    /// When, as IB wrote it.
    pub time: String,
    /// The commission IB reported for it, once its report arrived.
    pub commission: Option<Money>,
}

/// An option position settled at expiry, as booked (the settlement price decides how).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    /// The contract.
    pub contract: ContractKey,
    /// The session it settled at.
    pub date: NaiveDate,
    /// The signed quantity held when it settled.
    pub quantity: i64,
    /// The underlying's settlement price.
    pub price: Price,
}

/// The order ledger on a SQLite file.
#[derive(Debug)]
pub struct IntentLedger {
    path: PathBuf,
    db: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ib_intents (
    order_id     INTEGER PRIMARY KEY,
    order_ref    TEXT NOT NULL UNIQUE,
    ib_order_id  INTEGER,
    state        TEXT NOT NULL,
    request      TEXT NOT NULL,
    strategy     TEXT NOT NULL,
    position_id  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    tif          TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    detail       TEXT,
    reported     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ib_executions (
    exec_id     TEXT PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES ib_intents(order_id),
    instrument  TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    price       TEXT NOT NULL,
    time        TEXT NOT NULL,
    commission  TEXT
);
CREATE INDEX IF NOT EXISTS ib_executions_by_order ON ib_executions(order_id);
CREATE TABLE IF NOT EXISTS ib_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ib_settlements (
    contract    TEXT NOT NULL,
    date        TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    price       TEXT NOT NULL,
    PRIMARY KEY (contract, date)
);
";

impl IntentLedger {
    /// Opens (creating if needed) the ledger in a SQLite file. The file may be shared with the
    /// journal: the tables are prefixed `ib_`.
    ///
    /// # Errors
    /// [`IbError::Ledger`] when the file cannot be opened or the tables created.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let fail = |e: rusqlite::Error| IbError::Ledger {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let db = Connection::open(&path).map_err(fail)?;
        db.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(fail)?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        // FULL: an intent that `record_intent` returned for is on disk before the order is
        // sent, even if the machine loses power.
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        db.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Self { path, db })
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, e: impl std::fmt::Display) -> IbError {
        IbError::Ledger {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// The next free order id (one more than the highest ever written).
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn next_order_id(&self) -> Result<OrderId> {
        let max: Option<i64> = self
            .db
            .query_row("SELECT MAX(order_id) FROM ib_intents", [], |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        let next = u64::try_from(max.unwrap_or(0)).map_err(|e| self.fail(e))? + 1;
        Ok(OrderId::new(next))
    }

    /// A value kept across restarts (the session id that makes `orderRef`s unique).
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.db
            .query_row(
                "SELECT value FROM ib_meta WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Sets a kept value.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO ib_meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Writes a new intent (state `Intent`). Returns once it is on disk.
    ///
    /// # Errors
    /// [`IbError::Ledger`], e.g. for an id or orderRef already used.
    pub fn record_intent(&self, intent: &IntentRecord) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO ib_intents(order_id, order_ref, ib_order_id, state, request, strategy,
                     position_id, reason, tif, created_at, detail, reported)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    order_number(intent.order_id)?,
                    intent.order_ref,
                    intent.ib_order_id,
                    intent.state.as_str(),
                    encode_request(&intent.request).to_string(),
                    intent.tag.strategy,
                    intent.tag.position_id,
                    intent.tag.reason,
                    tif_name(intent.tif),
                    intent.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    intent.detail,
                    intent.reported,
                ],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Records IB's order id for an intent about to be sent (so that a restart finds it by id
    /// as well as by orderRef).
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn set_ib_order_id(&self, order_id: OrderId, ib_order_id: i32) -> Result<()> {
        self.db
            .execute(
                "UPDATE ib_intents SET ib_order_id = ?2 WHERE order_id = ?1",
                params![order_number(order_id)?, ib_order_id],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Moves an intent forward to `state` (with IB's words, if any). Returns whether it moved:
    /// a move backwards or out of a terminal state is ignored, so that a late or replayed
    /// status from IB cannot undo what is known.
    ///
    /// # Errors
    /// [`IbError::Ledger`]; [`IbError::UnknownOrder`].
    pub fn advance(
        &self,
        order_id: OrderId,
        state: IntentState,
        detail: Option<&str>,
    ) -> Result<bool> {
        let current = self.state(order_id)?;
        if !current.can_become(state) {
            return Ok(false);
        }
        self.db
            .execute(
                "UPDATE ib_intents SET state = ?2, detail = COALESCE(?3, detail) WHERE order_id = ?1",
                params![order_number(order_id)?, state.as_str(), detail],
            )
            .map_err(|e| self.fail(e))?;
        Ok(true)
    }

    /// One intent's state.
    ///
    /// # Errors
    /// [`IbError::UnknownOrder`]; [`IbError::Ledger`].
    pub fn state(&self, order_id: OrderId) -> Result<IntentState> {
        let state: Option<String> = self
            .db
            .query_row(
                "SELECT state FROM ib_intents WHERE order_id = ?1",
                params![order_number(order_id)?],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        state
            .ok_or(IbError::UnknownOrder { id: order_id })?
            .parse()
            .map_err(|e: String| self.fail(e))
    }

    /// Marks an intent's terminal event as handed to the engine.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn mark_reported(&self, order_id: OrderId) -> Result<()> {
        self.db
            .execute(
                "UPDATE ib_intents SET reported = 1 WHERE order_id = ?1",
                params![order_number(order_id)?],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Every intent, oldest first.
    ///
    /// # Errors
    /// [`IbError::Ledger`] (also for a row that no longer decodes).
    pub fn intents(&self) -> Result<Vec<IntentRecord>> {
        let mut stmt = self
            .db
            .prepare(
                "SELECT order_id, order_ref, ib_order_id, state, request, strategy, position_id,
                        reason, tif, created_at, detail, reported
                 FROM ib_intents ORDER BY order_id",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i32>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    (
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                    ),
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, bool>(11)?,
                ))
            })
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                order_ref,
                ib_order_id,
                state,
                request,
                tag,
                tif,
                created_at,
                detail,
                reported,
            ) = row.map_err(|e| self.fail(e))?;
            let decode = |what: &str, e: &dyn std::fmt::Display| {
                self.fail(format!("intent {id}: bad {what}: {e}"))
            };
            out.push(IntentRecord {
                order_id: OrderId::new(u64::try_from(id).map_err(|e| decode("order id", &e))?),
                order_ref,
                ib_order_id,
                state: state.parse().map_err(|e: String| decode("state", &e))?,
                request: decode_request(&request).map_err(|e| decode("request", &e))?,
                tag: OrderTag::new(tag.0, tag.1, tag.2),
                tif: parse_tif(&tif).map_err(|e| decode("tif", &e))?,
                created_at: NaiveDateTime::parse_from_str(&created_at, "%Y-%m-%d %H:%M:%S")
                    .map_err(|e| decode("created_at", &e))?,
                detail,
                reported,
            });
        }
        Ok(out)
    }

    /// Books an execution unless one with its id is already booked. Returns whether it was new.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn add_execution(&self, execution: &ExecutionRecord) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "INSERT INTO ib_executions(exec_id, order_id, instrument, quantity, price, time, commission)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(exec_id) DO NOTHING",
                params![
                    execution.exec_id,
                    order_number(execution.order_id)?,
                    encode_instrument(&execution.instrument),
                    execution.quantity,
                    execution.price.to_string(),
                    execution.time,
                    execution.commission.map(|c| c.to_string()),
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(changed == 1)
    }

    /// Records the commission of an execution (IB sends it after the execution). Returns whether
    /// a booked execution without a commission was updated.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn set_commission(&self, exec_id: &str, commission: Money) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE ib_executions SET commission = ?2 WHERE exec_id = ?1 AND commission IS NULL",
                params![exec_id, commission.to_string()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(changed == 1)
    }

    /// One order's executions, in the order they were booked.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn executions(&self, order_id: OrderId) -> Result<Vec<ExecutionRecord>> {
        let mut stmt = self
            .db
            .prepare(
                "SELECT exec_id, instrument, quantity, price, time, commission
                 FROM ib_executions WHERE order_id = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![order_number(order_id)?], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (exec_id, instrument, quantity, price, time, commission) =
                row.map_err(|e| self.fail(e))?;
            out.push(ExecutionRecord {
                instrument: decode_instrument(&instrument).map_err(|e| self.fail(e))?,
                price: price.parse().map_err(|e| self.fail(e))?,
                commission: commission
                    .map(|c| c.parse::<Money>())
                    .transpose()
                    .map_err(|e| self.fail(e))?,
                exec_id,
                order_id,
                quantity,
                time,
            });
        }
        Ok(out)
    }

    /// Books an option's settlement at expiry (expired, exercised, assigned or cash-settled as
    /// the price says) unless it is booked already. Returns whether it was new.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn add_settlement(&self, settlement: &SettlementRecord) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "INSERT INTO ib_settlements(contract, date, quantity, price) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(contract, date) DO NOTHING",
                params![
                    settlement.contract.to_string(),
                    settlement.date.to_string(),
                    settlement.quantity,
                    settlement.price.to_string(),
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(changed == 1)
    }

    /// Every settlement booked, by date then contract.
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn settlements(&self) -> Result<Vec<SettlementRecord>> {
        let mut stmt = self
            .db
            .prepare("SELECT contract, date, quantity, price FROM ib_settlements ORDER BY date, contract")
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (contract, date, quantity, price) = row.map_err(|e| self.fail(e))?;
            out.push(SettlementRecord {
                contract: contract.parse().map_err(|e| self.fail(e))?,
                date: date.parse().map_err(|e| self.fail(e))?,
                quantity,
                price: price.parse().map_err(|e| self.fail(e))?,
            });
        }
        Ok(out)
    }

    /// The number of executions booked (all orders).
    ///
    /// # Errors
    /// [`IbError::Ledger`].
    pub fn execution_count(&self) -> Result<usize> {
        let n: i64 = self
            .db
            .query_row("SELECT COUNT(*) FROM ib_executions", [], |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        usize::try_from(n).map_err(|e| self.fail(e))
    }
}

fn order_number(id: OrderId) -> Result<i64> {
    i64::try_from(id.get()).map_err(|_| IbError::UnknownOrder { id })
}

const fn tif_name(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Day => "DAY",
        TimeInForce::Gtc => "GTC",
    }
}

fn parse_tif(s: &str) -> std::result::Result<TimeInForce, String> {
    match s {
        "DAY" => Ok(TimeInForce::Day),
        "GTC" => Ok(TimeInForce::Gtc),
        other => Err(format!("unknown time in force `{other}`")),
    }
}

fn encode_instrument(instrument: &Instrument) -> String {
    match instrument {
        Instrument::Option(c) => format!("option:{}", c.key()),
        Instrument::Stock(u) => format!("stock:{u}"),
    }
}

fn decode_instrument(s: &str) -> std::result::Result<Instrument, String> {
    if let Some(key) = s.strip_prefix("option:") {
        let key: ContractKey = key.parse().map_err(|e| format!("{e}"))?;
        Ok(Instrument::Option(volta_core::OptionContract::from_key(
            key,
        )))
    } else if let Some(u) = s.strip_prefix("stock:") {
        Ok(Instrument::Stock(u.parse().map_err(|e| format!("{e}"))?))
    } else {
        Err(format!("unknown instrument `{s}`"))
    }
}

const fn side_name(side: ComboSide) -> &'static str {
    match side {
        ComboSide::Buy => "BUY",
        ComboSide::Sell => "SELL",
    }
}

fn parse_side(s: &str) -> std::result::Result<ComboSide, String> {
    match s {
        "BUY" => Ok(ComboSide::Buy),
        "SELL" => Ok(ComboSide::Sell),
        other => Err(format!("unknown side `{other}`")),
    }
}

/// The request as JSON (the ledger's `request` column).
fn encode_request(request: &OrderRequest) -> Value {
    match request {
        OrderRequest::Combo(c) => json!({
            "kind": "combo",
            "side": side_name(c.side()),
            "quantity": c.quantity(),
            "limit": c.limit().to_string(),
            "legs": c.legs().iter().map(|leg| json!({
                "instrument": encode_instrument(&leg.instrument),
                "action": match leg.action { LegAction::Buy => "BUY", LegAction::Sell => "SELL" },
                "ratio": leg.ratio,
            })).collect::<Vec<_>>(),
        }),
        OrderRequest::StockMarket(s) => json!({
            "kind": "stock-market",
            "underlying": s.underlying.to_string(),
            "side": side_name(s.side),
            "quantity": s.quantity,
        }),
    }
}

fn decode_request(text: &str) -> std::result::Result<OrderRequest, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let field = |name: &str| v.get(name).ok_or_else(|| format!("no `{name}`"));
    let str_field = |name: &str| {
        field(name)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("`{name}` is not text"))
    };
    let quantity = u32::try_from(
        field("quantity")?
            .as_u64()
            .ok_or("`quantity` is not a count")?,
    )
    .map_err(|e| e.to_string())?;
    let side = parse_side(&str_field("side")?)?;
    match str_field("kind")?.as_str() {
        "combo" => {
            let mut legs = Vec::new();
            for leg in field("legs")?.as_array().ok_or("`legs` is not a list")? {
                let instrument = decode_instrument(
                    leg.get("instrument")
                        .and_then(Value::as_str)
                        .ok_or("a leg without `instrument`")?,
                )?;
                let action = match leg.get("action").and_then(Value::as_str) {
                    Some("BUY") => LegAction::Buy,
                    Some("SELL") => LegAction::Sell,
                    other => return Err(format!("bad leg action {other:?}")),
                };
                let ratio = leg
                    .get("ratio")
                    .and_then(Value::as_u64)
                    .and_then(|r| u32::try_from(r).ok())
                    .ok_or("bad leg ratio")?;
                legs.push(Leg::new(instrument, action, ratio).map_err(|e| e.to_string())?);
            }
            let limit = Decimal::from_str(&str_field("limit")?).map_err(|e| e.to_string())?;
            Ok(OrderRequest::Combo(
                ComboOrder::new(legs, side, quantity, limit).map_err(|e| e.to_string())?,
            ))
        }
        "stock-market" => Ok(OrderRequest::StockMarket(StockOrder {
            underlying: str_field("underlying")?
                .parse()
                .map_err(|e| format!("{e}"))?,
            side,
            quantity,
        })),
        other => Err(format!("unknown request kind `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread() -> OrderRequest {
        let leg = |k: &str, a| Leg::option(k.parse().unwrap(), a, 1).unwrap();
        OrderRequest::Combo(
            ComboOrder::new(
                vec![
                    leg("SPY   250321P00560000", LegAction::Sell),
                    leg("SPY   250321P00550000", LegAction::Buy),
                ],
                ComboSide::Buy,
                2,
                "-2.05".parse().unwrap(),
            )
            .unwrap(),
        )
    }

    fn intent(id: u64) -> IntentRecord {
        IntentRecord {
            order_id: OrderId::new(id),
            order_ref: format!("volta-test-{id}"),
            ib_order_id: None,
            state: IntentState::Intent,
            request: spread(),
            tag: OrderTag::new("put-spread", "p1", "open: iv rank 62"),
            tif: TimeInForce::Day,
            created_at: NaiveDateTime::parse_from_str("2025-03-17 10:00:00", "%Y-%m-%d %H:%M:%S")
                .unwrap(),
            detail: None,
            reported: false,
        }
    }

    #[test]
    fn an_intent_survives_reopening_the_file_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        {
            let ledger = IntentLedger::open(&path).unwrap();
            assert_eq!(ledger.next_order_id().unwrap(), OrderId::new(1));
            ledger.record_intent(&intent(1)).unwrap();
            let stock = IntentRecord {
                request: OrderRequest::StockMarket(StockOrder {
                    underlying: "SPY".parse().unwrap(),
                    side: ComboSide::Sell,
                    quantity: 100,
                }),
                tif: TimeInForce::Gtc,
                ..intent(2)
            };
            ledger.record_intent(&stock).unwrap();
        }
        let ledger = IntentLedger::open(&path).unwrap();
        let all = ledger.intents().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], intent(1));
        assert_eq!(all[1].tif, TimeInForce::Gtc);
        assert_eq!(ledger.next_order_id().unwrap(), OrderId::new(3));
        // The same orderRef twice is refused: it is what reconciliation keys on.
        let dup = IntentRecord {
            order_id: OrderId::new(9),
            ..intent(1)
        };
        assert!(matches!(
            ledger.record_intent(&dup),
            Err(IbError::Ledger { .. })
        ));
    }

    #[test]
    fn states_only_move_forward_and_stop_at_a_terminal_one() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = IntentLedger::open(dir.path().join("l.sqlite")).unwrap();
        ledger.record_intent(&intent(1)).unwrap();
        let id = OrderId::new(1);
        assert!(ledger.advance(id, IntentState::Acknowledged, None).unwrap());
        // A late "submitted" after "acknowledged" changes nothing.
        assert!(!ledger.advance(id, IntentState::Submitted, None).unwrap());
        assert!(ledger.advance(id, IntentState::Filled, None).unwrap());
        assert!(
            !ledger
                .advance(id, IntentState::Cancelled, Some("late cancel"))
                .unwrap()
        );
        assert_eq!(ledger.state(id).unwrap(), IntentState::Filled);
        assert!(matches!(
            ledger.state(OrderId::new(7)),
            Err(IbError::UnknownOrder { .. })
        ));
    }

    #[test]
    fn an_execution_is_booked_once_and_its_commission_set_once() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = IntentLedger::open(dir.path().join("l.sqlite")).unwrap();
        ledger.record_intent(&intent(1)).unwrap();
        let exec = ExecutionRecord {
            exec_id: "0000e0d5.6571a0b1.01.01".to_owned(),
            order_id: OrderId::new(1),
            instrument: decode_instrument("option:SPY   250321P00560000").unwrap(),
            quantity: -2,
            price: "3.05".parse().unwrap(),
            time: "20250317 10:00:01 US/Eastern".to_owned(),
            commission: None,
        };
        assert!(ledger.add_execution(&exec).unwrap());
        assert!(!ledger.add_execution(&exec).unwrap());
        assert!(
            ledger
                .set_commission(&exec.exec_id, "1.30".parse().unwrap())
                .unwrap()
        );
        assert!(
            !ledger
                .set_commission(&exec.exec_id, "9.99".parse().unwrap())
                .unwrap()
        );
        let booked = ledger.executions(OrderId::new(1)).unwrap();
        assert_eq!(booked.len(), 1);
        assert_eq!(booked[0].commission, Some("1.30".parse().unwrap()));
        assert_eq!(booked[0].quantity, -2);
        assert_eq!(ledger.execution_count().unwrap(), 1);
    }
}
