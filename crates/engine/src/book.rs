//! The engine's book: each combo position from its opening fill to its close, with every cash
//! flow that belongs to it (fills, commissions, settlement, the stock an assignment delivered
//! and the order that flattened it), so that a trade's P&L is exactly what it did to cash.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};
use volta_broker::{EventKind, Fill, Marks, OptionSettlement};
use volta_core::order::{ComboOrder, ComboSide, DollarGreeks, Instrument, Leg, LegAction};
use volta_core::{ContractKey, Money, PositionId, Regime, Underlying};
use volta_strategy::OpenPosition;
use volta_strategy::structures::Structure;

use crate::metrics::TradeRecord;

/// How a position ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// When.
    pub at: NaiveDateTime,
    /// Why (`profit_target`, `expired`, `assigned`, `kill_switch`, …).
    pub reason: String,
    /// Net price per share of the closing fill (IB BAG convention); `None` when the broker
    /// settled it.
    pub price: Option<Decimal>,
}

/// One combo position the engine holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedPosition {
    /// As the strategies see it, with its id (`p1`, `p2`, … in opening order).
    pub position: OpenPosition,
    /// The regime when it was opened.
    pub regime: Option<Regime>,
    /// When the opening order filled.
    pub opened_at: NaiveDateTime,
    /// Its worst loss at expiry from the entry price, dollars (the risk manager's measure).
    pub max_loss: Money,
    /// Its dollar greeks at entry (all units).
    pub greeks: DollarGreeks,
    /// Option contracts still held, signed.
    legs: BTreeMap<ContractKey, i64>,
    /// Shares delivered by exercise or assignment and not yet flattened, signed.
    pub stock: i64,
    /// Every cash flow so far, commissions and fees included, dollars.
    pub cash: Money,
    /// Commissions and fees so far, dollars.
    pub fees: Money,
    /// How the settlement at expiry went, the strongest of its legs (`assigned` over
    /// `exercised` over `cash_settled` over `expired`).
    settled: Option<&'static str>,
    /// Set once closed.
    pub exit: Option<Exit>,
}

impl TrackedPosition {
    /// The position's id.
    #[must_use]
    pub const fn id(&self) -> &PositionId {
        &self.position.id
    }

    /// Whether it is still open (option legs or delivered stock left).
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.exit.is_none()
    }

    /// The option contracts still held, signed.
    #[must_use]
    pub const fn legs(&self) -> &BTreeMap<ContractKey, i64> {
        &self.legs
    }

    fn apply_fill(&mut self, fill: &Fill) {
        self.cash += fill.cash - fill.commission;
        self.fees += fill.commission;
        for leg in &fill.legs {
            match &leg.instrument {
                Instrument::Option(c) => {
                    let q = self.legs.entry(c.key().clone()).or_insert(0);
                    *q += leg.quantity;
                    if *q == 0 {
                        self.legs.remove(c.key());
                    }
                }
                Instrument::Stock(_) => self.stock += leg.quantity,
            }
        }
    }

    fn close_if_flat(&mut self, at: NaiveDateTime, reason: &str, price: Option<Decimal>) {
        if self.exit.is_none() && self.legs.is_empty() && self.stock == 0 {
            self.exit = Some(Exit {
                at,
                reason: reason.to_owned(),
                price,
            });
        }
    }

    /// The position as a trade: realised P&L when closed, else cash so far plus what its legs
    /// and stock are worth at `marks` (an unmarked leg counts zero).
    #[must_use]
    pub fn trade(&self, marks: &Marks) -> TradeRecord {
        let order = &self.position.order;
        let mut value = self.cash;
        if self.is_open() {
            for leg in order.legs() {
                if let Instrument::Option(c) = &leg.instrument
                    && let Some(q) = self.legs.get(c.key())
                    && let Some(mark) = marks.get(&leg.instrument)
                    && let Ok(v) = mark.notional(order.multiplier(), *q)
                {
                    value += v;
                }
            }
            let stock = Instrument::Stock(order.underlying().clone());
            if let Some(mark) = marks.get(&stock)
                && let Ok(v) = mark.notional(1, self.stock)
            {
                value += v;
            }
        }
        TradeRecord {
            position_id: self.id().to_string(),
            strategy: self.position.strategy.clone(),
            underlying: order.underlying().to_string(),
            regime: self
                .regime
                .map_or_else(|| "unknown".to_owned(), |r| r.as_str().to_owned()),
            structure: self.position.structure.as_str().to_owned(),
            opened: self.opened_at.date(),
            closed: self.exit.as_ref().map(|e| e.at.date()),
            quantity: order.quantity(),
            entry_price: self.position.entry,
            exit_price: self
                .exit
                .as_ref()
                .and_then(|e| e.price)
                .and_then(|p| p.to_f64()),
            exit_reason: self
                .exit
                .as_ref()
                .map_or_else(|| "open at end".to_owned(), |e| e.reason.clone()),
            pnl: value.to_f64(),
            fees: self.fees.to_f64(),
        }
    }
}

/// Every position of a run, by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Book {
    positions: BTreeMap<PositionId, TrackedPosition>,
    /// Ids in opening order (ids sort as strings: p10 before p2).
    order: Vec<PositionId>,
}

impl Book {
    /// Records an opening fill of `position` (under its id).
    pub fn open(
        &mut self,
        position: OpenPosition,
        regime: Option<Regime>,
        fill: &Fill,
        max_loss: Money,
        greeks: DollarGreeks,
    ) {
        let id = position.id.clone();
        let mut tracked = TrackedPosition {
            position,
            regime,
            opened_at: fill.at,
            max_loss,
            greeks,
            legs: BTreeMap::new(),
            stock: 0,
            cash: Money::ZERO,
            fees: Money::ZERO,
            settled: None,
            exit: None,
        };
        tracked.apply_fill(fill);
        self.order.push(id.clone());
        self.positions.insert(id, tracked);
    }

    /// Records a closing fill (combo or stock) of position `id`; `reason` names the exit if
    /// this fill leaves it flat.
    pub fn on_fill(&mut self, id: &PositionId, fill: &Fill, reason: &str) {
        if let Some(p) = self.positions.get_mut(id) {
            p.apply_fill(fill);
            let price = fill
                .legs
                .iter()
                .all(|l| matches!(l.instrument, Instrument::Option(_)))
                .then_some(fill.net_price);
            let reason = p.settled.unwrap_or(reason);
            p.close_if_flat(fill.at, reason, price);
        }
    }

    /// Books an expiry, exercise, assignment or cash settlement against the positions holding
    /// the contract, each by its share of the quantity. Returns the positions touched, and
    /// those left holding delivered stock with the shares, for the engine to flatten.
    pub fn on_settlement(
        &mut self,
        kind: &EventKind,
        s: &OptionSettlement,
        at: NaiveDateTime,
    ) -> (Vec<PositionId>, Vec<(PositionId, Underlying, i64)>) {
        let label = match kind {
            EventKind::Assigned(_) => "assigned",
            EventKind::Exercised(_) => "exercised",
            EventKind::CashSettled(_) => "cash_settled",
            _ => "expired",
        };
        let key = s.contract.key();
        let mut out = Vec::new();
        let mut touched = Vec::new();
        let total = Decimal::from(s.quantity);
        for id in &self.order {
            let Some(p) = self.positions.get_mut(id) else {
                continue;
            };
            let Some(&held) = p.legs.get(key) else {
                continue;
            };
            if total.is_zero() {
                continue;
            }
            let share = Decimal::from(held) / total;
            let cash = Money::new(s.cash.value() * share);
            let fee = Money::new(s.fee.value() * share);
            p.cash += cash - fee;
            p.fees += fee;
            p.stock += s.stock_delivered * held / s.quantity;
            p.legs.remove(key);
            p.settled = Some(strongest(p.settled, label));
            if p.stock != 0 && p.legs.is_empty() {
                out.push((id.clone(), s.contract.underlying().clone(), p.stock));
            }
            let reason = p.settled.unwrap_or(label);
            p.close_if_flat(at, reason, None);
            touched.push(id.clone());
        }
        (touched, out)
    }

    /// One position.
    #[must_use]
    pub fn get(&self, id: &PositionId) -> Option<&TrackedPosition> {
        self.positions.get(id)
    }

    /// The open positions, in opening order.
    pub fn open_positions(&self) -> impl Iterator<Item = &TrackedPosition> {
        self.order
            .iter()
            .filter_map(|id| self.positions.get(id))
            .filter(|p| p.is_open())
    }

    /// Every position, in opening order.
    pub fn all(&self) -> impl Iterator<Item = &TrackedPosition> {
        self.order.iter().filter_map(|id| self.positions.get(id))
    }

    /// The option contracts held by open positions, each once, sorted.
    #[must_use]
    pub fn held_contracts(&self) -> Vec<ContractKey> {
        let mut keys: Vec<ContractKey> = self
            .open_positions()
            .flat_map(|p| p.legs.keys().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Option contracts and shares held by all open positions together, signed: what the
    /// broker must hold too.
    #[must_use]
    pub fn holdings(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for p in self.open_positions() {
            for (k, q) in &p.legs {
                *out.entry(k.to_string()).or_insert(0) += q;
            }
            if p.stock != 0 {
                *out.entry(p.position.underlying().to_string()).or_insert(0) += p.stock;
            }
        }
        out.retain(|_, q| *q != 0);
        out
    }
}

fn strongest(current: Option<&'static str>, new: &'static str) -> &'static str {
    let rank = |s: &str| match s {
        "assigned" => 3,
        "exercised" => 2,
        "cash_settled" => 1,
        _ => 0,
    };
    match current {
        Some(c) if rank(c) >= rank(new) => c,
        _ => new,
    }
}

/// The open positions as a document that survives a restart (see [`crate::Engine::keep_book`]):
/// everything the strategies and the risk manager need to manage them on.
pub(crate) fn snapshot(book: &Book, next_position: u64) -> Value {
    let positions: Vec<Value> = book
        .open_positions()
        .map(TrackedPosition::to_json)
        .collect();
    json!({ "version": 1, "next_position": next_position, "positions": positions })
}

/// The positions and the id counter of a [`snapshot`].
///
/// # Errors
/// A message naming what does not parse.
pub(crate) fn restore(doc: &Value) -> Result<(Vec<TrackedPosition>, u64), String> {
    if doc["version"] != 1 {
        return Err(format!("version {} (this build reads 1)", doc["version"]));
    }
    let next = doc["next_position"]
        .as_u64()
        .ok_or("next_position is not a count")?;
    let positions = doc["positions"]
        .as_array()
        .ok_or("positions is not a list")?
        .iter()
        .map(TrackedPosition::from_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((positions, next))
}

impl Book {
    /// Carries `position`, opened in an earlier run, into this one.
    pub(crate) fn carry(&mut self, position: TrackedPosition) {
        let id = position.id().clone();
        self.order.push(id.clone());
        self.positions.insert(id, position);
    }
}

const SETTLEMENTS: [&str; 4] = ["assigned", "exercised", "cash_settled", "expired"];

fn text<'a>(v: &'a Value, field: &str) -> Result<&'a str, String> {
    v[field]
        .as_str()
        .ok_or_else(|| format!("{field} is missing or not text"))
}

fn parsed<T: std::str::FromStr>(v: &Value, field: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text(v, field)?.parse().map_err(|e| format!("{field}: {e}"))
}

fn number(v: &Value, field: &str) -> Result<f64, String> {
    v[field]
        .as_f64()
        .ok_or_else(|| format!("{field} is missing or not a number"))
}

fn integer(v: &Value, field: &str) -> Result<i64, String> {
    v[field]
        .as_i64()
        .ok_or_else(|| format!("{field} is missing or not an integer"))
}

impl TrackedPosition {
    fn to_json(&self) -> Value {
        let p = &self.position;
        let legs: Vec<Value> = p
            .order
            .legs()
            .iter()
            .map(|l| {
                json!({
                    "instrument": l.instrument.to_string(),
                    "buy": l.action == LegAction::Buy,
                    "ratio": l.ratio,
                })
            })
            .collect();
        let held: serde_json::Map<String, Value> = self
            .legs
            .iter()
            .map(|(k, q)| (k.to_string(), json!(q)))
            .collect();
        json!({
            "id": p.id.as_str(),
            "strategy": p.strategy,
            "structure": p.structure.as_str(),
            "order": {
                "legs": legs,
                "buy": p.order.side() == ComboSide::Buy,
                "quantity": p.order.quantity(),
                "limit": p.order.limit().to_string(),
            },
            "entry": p.entry,
            "entered": p.entered.to_string(),
            "regime": self.regime.map(Regime::as_str),
            "opened_at": self.opened_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            "max_loss": self.max_loss.to_string(),
            "dollar_delta": self.greeks.dollar_delta,
            "vega_per_point": self.greeks.vega_per_point,
            "held": held,
            "stock": self.stock,
            "cash": self.cash.to_string(),
            "fees": self.fees.to_string(),
            "settled": self.settled,
        })
    }

    fn from_json(v: &Value) -> Result<Self, String> {
        let order = &v["order"];
        let legs = order["legs"]
            .as_array()
            .ok_or("order.legs is not a list")?
            .iter()
            .map(|l| {
                let key: ContractKey = parsed(l, "instrument")?;
                let action = if l["buy"] == true {
                    LegAction::Buy
                } else {
                    LegAction::Sell
                };
                let ratio = u32::try_from(integer(l, "ratio")?).map_err(|e| e.to_string())?;
                Leg::option(key, action, ratio).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?;
        let side = if order["buy"] == true {
            ComboSide::Buy
        } else {
            ComboSide::Sell
        };
        let quantity = u32::try_from(integer(order, "quantity")?).map_err(|e| e.to_string())?;
        let order = ComboOrder::new(legs, side, quantity, parsed(order, "limit")?)
            .map_err(|e| e.to_string())?;
        let structure = text(v, "structure")?;
        let held = v["held"]
            .as_object()
            .ok_or("held is not a map")?
            .iter()
            .map(|(k, q)| {
                let key: ContractKey = k.parse().map_err(|e| format!("held {k}: {e}"))?;
                let q = q
                    .as_i64()
                    .ok_or_else(|| format!("held {k} is not a quantity"))?;
                Ok((key, q))
            })
            .collect::<Result<BTreeMap<_, _>, String>>()?;
        let settled = match v["settled"].as_str() {
            None => None,
            Some(s) => Some(
                SETTLEMENTS
                    .into_iter()
                    .find(|k| *k == s)
                    .ok_or_else(|| format!("settled: unknown {s}"))?,
            ),
        };
        Ok(Self {
            position: OpenPosition {
                id: PositionId::try_new(text(v, "id")?).map_err(|e| e.to_string())?,
                strategy: text(v, "strategy")?.to_owned(),
                structure: Structure::from_name(structure)
                    .ok_or_else(|| format!("structure: unknown {structure}"))?,
                order,
                entry: number(v, "entry")?,
                entered: parsed(v, "entered")?,
            },
            regime: match v["regime"].as_str() {
                None => None,
                Some(r) => Some(r.parse().map_err(|e| format!("regime: {e}"))?),
            },
            opened_at: parsed(v, "opened_at")?,
            max_loss: parsed(v, "max_loss")?,
            greeks: DollarGreeks {
                dollar_delta: number(v, "dollar_delta")?,
                vega_per_point: number(v, "vega_per_point")?,
            },
            legs: held,
            stock: integer(v, "stock")?,
            cash: parsed(v, "cash")?,
            fees: parsed(v, "fees")?,
            settled,
            exit: None,
        })
    }
}
