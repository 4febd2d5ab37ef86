//! A scripted fake TWS / IB Gateway on 127.0.0.1 that speaks the real wire protocol to the real
//! ibapi 5.5 client (server version 226, every message protobuf-framed).
//!
//! One [`FakeTws`] owns a listener thread and one thread per client connection; its [`State`]
//! (orders, executions, commissions, positions, next valid id, scripted behaviours, quotes,
//! option chains, account values) lives behind one mutex and survives client reconnects, so
//! a test can drop every socket, fill an order "while the client is down" with
//! [`FakeTws::fill_order`], and see what the client finds on reconnect.
//!
//! # Wire summary
//! - Handshake: the client sends `API\0` and a length-prefixed `v213..226`; the fake answers
//!   a length-prefixed `"226\0<YYYYMMDD HH:MM:SS> UTC\0"` (the client's maximum if lower).
//!   The client then sends `StartApi` (271); the fake answers `NextValidId` (209),
//!   `ManagedAccounts` (215) and the farm notices 2104 / 2106 (`Error`, 204, id −1), or — for
//!   a client id in use — `Error` 326 (id −1) and a closed socket, which ibapi turns into
//!   `Error::ClientIdInUse { client_id }`.
//! - Every later frame: big-endian u32 length, big-endian i32 message id, payload. Ids above 200
//!   carry protobuf for message id − 200; ibapi 5.5 sends and expects protobuf for every
//!   message this fake handles, so the fake answers protobuf only and ignores text frames.
//!
//! | request (client → fake) | answer (fake → client) |
//! |---|---|
//! | `ReqIds` 208 | `NextValidId` 209 |
//! | `ReqManagedAccts` 217 | `ManagedAccounts` 215 |
//! | `ReqCurrentTime` 249 / `ReqCurrentTimeInMillis` 305 | `CurrentTime` 249 / `CurrentTimeInMillis` 309 (the fake's clock) |
//! | `ReqContractData` 209 | `ContractData` 210 + `ContractDataEnd` 252, or `Error` 200 for the request id |
//! | `ReqSecDefOptParams` 278 | `SecurityDefinitionOptionParameter` 275 per chain + End 276 |
//! | `ReqMarketDataType` 259 | nothing (recorded) |
//! | `ReqMktData` 201 | `MarketDataType` 258 (unless live), `TickPrice` 201 bid/ask/last (1/2/4, delayed 66/67/68), `TickSnapshotEnd` 257 for a snapshot |
//! | `ReqAccountSummary` 262 | `AccountSummary` 263 per requested tag + End 264 |
//! | `ReqPositions` 261 | `Position` 261 per conId + `PositionEnd` 262 |
//! | `PlaceOrder` 203 | per [`OrderBehaviour`]: `OpenOrder` 205, `OrderStatus` 203, `ExecutionData` 211, `CommissionReport` 259, `Error` 204 |
//! | `CancelOrder` 204 | `Error` 202 "Order Canceled - reason:" + `OrderStatus` Cancelled; `Error` 10147 (unknown id) / 10148 (not working) |
//! | `ReqGlobalCancel` 258 | as `CancelOrder` for every working order |
//! | `ReqOpenOrders` 205 / `ReqAllOpenOrders` 216 | `OpenOrder` + `OrderStatus` per working order (this client's / all), `OpenOrderEnd` 253 |
//! | `ReqCompletedOrders` 299 | `CompletedOrder` 301 per terminal order + `CompletedOrdersEnd` 302 |
//! | `ReqExecutions` 207 | `ExecutionData` (with the request id) + its `CommissionReport` per execution, `ExecutionDataEnd` 255 |
//! | cancels of market data, summary, positions, contract data; `ReqAutoOpenOrders` | nothing |
//! | anything else | nothing; logged to stderr and recorded in [`State::unknown_messages`] |
//!
//! Orders are keyed by order id alone (not by client id). A `PlaceOrder` for an id the fake
//! holds modifies a working order (new limit, quantity, tif; `OpenOrder` + `OrderStatus`
//! again) or is refused with `Error` 104 (filled) / 103 (otherwise). A single contract is
//! resolved as TWS does (conId, local symbol...); one it cannot resolve gets `Error` 200. A
//! `CompletedOrder`'s total quantity is what was left unfilled, as live TWS writes it.
//!
//! # Combo fill prices
//! A BAG order's limit is the net price per combo unit in the order's direction: a BUY at
//! 1.20 pays 1.20, a BUY at −2.05 receives a 2.05 credit. Each leg first gets a base price —
//! the mid of its quote ([`FakeTws::set_quote`]) rounded to the cent, else 1.00 — and one
//! "balancing" leg then absorbs the difference so that
//! `Σ sign(leg) × ratio × leg price = limit`, where sign is +1 for a leg bought and −1 for a
//! leg sold when the order is a BUY (reversed for a SELL order, whose limit is then the net
//! received). The balancing leg is the first leg whose price rises to absorb the difference;
//! when no leg can (all legs on one side), every base price is scaled instead. Orders without
//! a limit (market orders) fill at the base prices. A single-leg order fills at its limit.
//! Execution sides are `BOT` / `SLD` per leg, shares = ratio × filled combo units. The
//! `OrderStatus` average fill price of a combo is its limit (the net per unit).
//!
//! # Commissions
//! `rate × shares` per execution (default rate $0.65 per contract), with the order's running
//! total raised to the minimum (default $1.00) at its first execution, so an order pays
//! `max(rate × Σ leg shares, minimum)` in all.

mod proto;
mod server;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The server version the fake reports: ibapi 5.5's maximum (`CONDITIONS_INCLUDE_OVERNIGHT`).
pub const SERVER_VERSION: i32 = 226;

/// The account the fake manages unless [`FakeTws::set_account`] says otherwise.
pub const DEFAULT_ACCOUNT: &str = "DU1234567";

/// What the fake does with an order when it receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderBehaviour {
    /// `OpenOrder` + `OrderStatus` Submitted, one `ExecutionData` per leg, a `CommissionReport` per
    /// execution, then `OrderStatus` Filled (and an `OpenOrder` with status Filled).
    Fill,
    /// Like [`OrderBehaviour::Fill`] in `n` batches: each batch sends its executions and
    /// commission reports and an `OrderStatus` Submitted with the cumulative filled quantity and
    /// the remaining one; the last batch's status is Filled. `n` is clamped to 1..=quantity.
    FillInParts(u32),
    /// An Error for the order id with this code and message (TWS: 201
    /// "Order rejected - reason: ..."), then `OrderStatus` Cancelled; the order ends Cancelled
    /// with filled 0.
    Reject {
        /// The TWS error code (201 for a rejection).
        code: i32,
        /// The error text.
        message: String,
    },
    /// `OpenOrder` + `OrderStatus` Submitted, then rest until cancelled or until
    /// [`FakeTws::fill_order`].
    Work,
    /// Record the order (it rests as Submitted, visible to open-order requests) and send
    /// nothing at all.
    Silent,
}

/// Names an order for [`FakeTws::fill_order`] and [`FakeTws::order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKey {
    /// By IB order id.
    Id(i32),
    /// By `orderRef` (the most recent order with it).
    Ref(String),
}

impl From<i32> for OrderKey {
    fn from(id: i32) -> Self {
        OrderKey::Id(id)
    }
}

impl From<&str> for OrderKey {
    fn from(order_ref: &str) -> Self {
        OrderKey::Ref(order_ref.to_string())
    }
}

impl From<String> for OrderKey {
    fn from(order_ref: String) -> Self {
        OrderKey::Ref(order_ref)
    }
}

/// One leg of a BAG contract as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ComboLegInfo {
    /// The leg's `conId`.
    pub con_id: i32,
    /// Contracts of this leg per combo unit.
    pub ratio: i32,
    /// `BUY` or `SELL` (for a BUY of the combo).
    pub action: String,
    /// The leg's exchange (`SMART`).
    pub exchange: String,
}

/// The contract fields the fake keeps (as received, or as it resolved them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContractInfo {
    /// IB `conId` (0 for a BAG).
    pub con_id: i32,
    /// Underlying symbol.
    pub symbol: String,
    /// `OPT`, `BAG`, `STK`, `IND`.
    pub sec_type: String,
    /// Expiry `YYYYMMDD` (options).
    pub expiry: String,
    /// Strike (options).
    pub strike: f64,
    /// `C` / `P` (options; `CALL` / `PUT` are normalised).
    pub right: String,
    /// Multiplier, e.g. `100`.
    pub multiplier: String,
    /// Exchange, e.g. `SMART`.
    pub exchange: String,
    /// Currency, e.g. `USD`.
    pub currency: String,
    /// Local symbol (the OCC symbol for options).
    pub local_symbol: String,
    /// Trading class (`SPY`, `SPXW`).
    pub trading_class: String,
    /// BAG legs.
    pub legs: Vec<ComboLegInfo>,
}

/// Every `PlaceOrder` the fake received, in order (duplicates and modifications included).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedOrder {
    /// The order id the client sent.
    pub order_id: i32,
    /// The client id of the connection it came on.
    pub client_id: i32,
    /// The connection it came on (1, 2, ... in accept order).
    pub connection: u64,
    /// `orderRef`.
    pub order_ref: String,
    /// The contract.
    pub contract: ContractInfo,
    /// `BUY` / `SELL`.
    pub action: String,
    /// Total quantity (combo units for a BAG).
    pub total_quantity: f64,
    /// `LMT`, `MKT`, ...
    pub order_type: String,
    /// The limit price, if any.
    pub limit_price: Option<f64>,
    /// Time in force (`DAY`, `GTC`, ...).
    pub tif: String,
}

/// An order as the fake TWS holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrder {
    /// IB order id.
    pub order_id: i32,
    /// The fake's permanent id.
    pub perm_id: i64,
    /// The client id that placed it.
    pub client_id: i32,
    /// `orderRef`.
    pub order_ref: String,
    /// The contract.
    pub contract: ContractInfo,
    /// `BUY` / `SELL`.
    pub action: String,
    /// Total quantity.
    pub total_quantity: f64,
    /// `LMT`, `MKT`, ...
    pub order_type: String,
    /// The limit price, if any.
    pub limit_price: Option<f64>,
    /// Time in force.
    pub tif: String,
    /// `Submitted`, `Filled`, `Cancelled`, ...
    pub status: String,
    /// Filled quantity.
    pub filled: f64,
    /// Average fill price (net per combo unit).
    pub avg_fill_price: f64,
    /// The behaviour it was given.
    pub behaviour: OrderBehaviour,
    /// When it reached a terminal status, as TWS writes it (`YYYYMMDD HH:MM:SS UTC`).
    pub completed_time: String,
    raw_contract: proto::Contract,
    raw_order: proto::Order,
}

impl FakeOrder {
    /// True while the order can still fill or be cancelled.
    #[must_use]
    pub fn is_working(&self) -> bool {
        !is_terminal(&self.status)
    }

    /// Quantity not filled yet.
    #[must_use]
    pub fn remaining(&self) -> f64 {
        (self.total_quantity - self.filled).max(0.0)
    }
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "Filled" | "Cancelled" | "ApiCancelled" | "Inactive")
}

/// One execution (one leg of one fill batch).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeExecution {
    /// Execution id, unique.
    pub exec_id: String,
    /// The order's id.
    pub order_id: i32,
    /// The order's perm id.
    pub perm_id: i64,
    /// The client id that placed the order.
    pub client_id: i32,
    /// The order's `orderRef`.
    pub order_ref: String,
    /// The leg's `conId`.
    pub con_id: i32,
    /// The leg's contract (resolved fields where the fake knows the `conId`).
    pub contract: ContractInfo,
    /// `BOT` / `SLD`.
    pub side: String,
    /// Contracts in this execution.
    pub shares: f64,
    /// Price per contract (per share of the option, i.e. before the multiplier).
    pub price: f64,
    /// Cumulative contracts of this leg filled for the order.
    pub cum_qty: f64,
    /// Average price of this leg for the order so far.
    pub avg_price: f64,
    /// Execution time `YYYYMMDD HH:MM:SS UTC`.
    pub time: String,
}

/// One commission report.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeCommission {
    /// The execution it belongs to.
    pub exec_id: String,
    /// Commission and fees.
    pub commission: f64,
    /// Currency (`USD`).
    pub currency: String,
}

/// A position by `conId`.
#[derive(Debug, Clone, PartialEq)]
pub struct FakePosition {
    /// The contract.
    pub contract: ContractInfo,
    /// Signed quantity.
    pub position: f64,
    /// Average cost per contract including the multiplier (as IB reports it).
    pub avg_cost: f64,
}

/// A quote for market-data snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    /// Bid.
    pub bid: f64,
    /// Ask.
    pub ask: f64,
    /// Last trade, if any.
    pub last: Option<f64>,
}

/// An option chain for `SecDefOptParams` and contract validation.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionChain {
    /// Underlying symbol (`SPY`, `SPX`).
    pub symbol: String,
    /// Exchange (`SMART`).
    pub exchange: String,
    /// The underlying's `conId`.
    pub underlying_con_id: i32,
    /// Trading class (`SPY`, `SPXW`).
    pub trading_class: String,
    /// Multiplier (`100`).
    pub multiplier: String,
    /// Expirations `YYYYMMDD`.
    pub expirations: Vec<String>,
    /// Strikes.
    pub strikes: Vec<f64>,
    /// Minimum tick of these options.
    pub min_tick: f64,
}

impl OptionChain {
    /// A chain with exchange `SMART`, multiplier `100`, trading class = symbol, min tick 0.01,
    /// and the underlying `conId` derived from the symbol.
    #[must_use]
    pub fn new(symbol: &str, expirations: &[&str], strikes: &[f64]) -> Self {
        OptionChain {
            symbol: symbol.to_string(),
            exchange: "SMART".to_string(),
            underlying_con_id: stable_con_id(&format!("{symbol}:underlying")),
            trading_class: symbol.to_string(),
            multiplier: "100".to_string(),
            expirations: expirations.iter().map(|e| (*e).to_string()).collect(),
            strikes: strikes.to_vec(),
            min_tick: 0.01,
        }
    }
}

/// Everything the fake TWS knows. Survives client reconnects; read it with
/// [`FakeTws::state`] or [`FakeTws::wait_until`].
#[derive(Debug)]
pub struct State {
    /// Orders by IB order id.
    pub orders: BTreeMap<i32, FakeOrder>,
    /// Every `PlaceOrder` received, in order.
    pub placed: Vec<PlacedOrder>,
    /// Every `CancelOrder` received (order ids), in order.
    pub cancel_requests: Vec<i32>,
    /// Executions in time order.
    pub executions: Vec<FakeExecution>,
    /// Commission reports in time order.
    pub commissions: Vec<FakeCommission>,
    /// Positions by `conId`.
    pub positions: BTreeMap<i32, FakePosition>,
    /// The next valid order id the fake hands out.
    pub next_valid_id: i32,
    /// The last market data type requested (1 live, 2 frozen, 3 delayed, 4 delayed frozen).
    pub market_data_type: Option<i32>,
    /// Client connections open now (past `StartApi`).
    pub connections: usize,
    /// Client connections accepted past `StartApi` since start.
    pub total_connections: usize,
    /// The managed account.
    pub account: String,
    /// Account summary values by tag (`NetLiquidation`, `TotalCashValue`, `BuyingPower`,
    /// `AvailableFunds`, ...), in USD.
    pub account_values: BTreeMap<String, String>,
    /// Behaviour for orders with no scripted behaviour.
    pub default_behaviour: OrderBehaviour,
    /// Behaviours for the next orders, first in first used.
    pub scripted: VecDeque<OrderBehaviour>,
    /// Quotes by `conId`.
    pub quotes: HashMap<i32, Quote>,
    /// Option chains.
    pub chains: Vec<OptionChain>,
    /// Contracts the fake resolved, by `conId`.
    pub contracts: HashMap<i32, ContractInfo>,
    /// Client ids answered with error 326 at `StartApi`.
    pub client_ids_in_use: HashSet<i32>,
    /// Commission per contract.
    pub commission_per_contract: f64,
    /// Minimum commission per order.
    pub commission_minimum: f64,
    /// Message ids received that the fake does not handle.
    pub unknown_messages: Vec<i32>,
    /// Whether a combo fill also reports an execution for the `BAG` itself, as live TWS does
    /// (net price per unit, no commission report; conId 0 here). Default false: legs only.
    pub combo_executions: bool,
    /// A fixed time for every stamp the fake writes (handshake server time, execution,
    /// completion and error times); `None` for the wall clock.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    next_perm_id: i64,
    next_exec_seq: u64,
}

impl State {
    fn new() -> Self {
        let account_values = [
            ("NetLiquidation", "100000.00"),
            ("TotalCashValue", "100000.00"),
            ("BuyingPower", "400000.00"),
            ("AvailableFunds", "100000.00"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        State {
            orders: BTreeMap::new(),
            placed: Vec::new(),
            cancel_requests: Vec::new(),
            executions: Vec::new(),
            commissions: Vec::new(),
            positions: BTreeMap::new(),
            next_valid_id: 1,
            market_data_type: None,
            connections: 0,
            total_connections: 0,
            account: DEFAULT_ACCOUNT.to_string(),
            account_values,
            default_behaviour: OrderBehaviour::Fill,
            scripted: VecDeque::new(),
            quotes: HashMap::new(),
            chains: Vec::new(),
            contracts: HashMap::new(),
            client_ids_in_use: HashSet::new(),
            commission_per_contract: 0.65,
            commission_minimum: 1.0,
            unknown_messages: Vec::new(),
            clock: None,
            combo_executions: false,
            next_perm_id: 1_000_000,
            next_exec_seq: 1,
        }
    }

    /// The order for `key` (by id, or the most recent with that `orderRef`).
    #[must_use]
    pub fn find_order(&self, key: &OrderKey) -> Option<&FakeOrder> {
        match key {
            OrderKey::Id(id) => self.orders.get(id),
            OrderKey::Ref(r) => self
                .orders
                .values()
                .filter(|o| &o.order_ref == r)
                .max_by_key(|o| o.perm_id),
        }
    }

    /// Executions of one order.
    #[must_use]
    pub fn executions_of(&self, order_id: i32) -> Vec<&FakeExecution> {
        self.executions
            .iter()
            .filter(|e| e.order_id == order_id)
            .collect()
    }
}

/// Shared between the handle, the listener and the connection threads.
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
    accepting: AtomicBool,
    conns: Mutex<Vec<server::ConnHandle>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn conns(&self) -> MutexGuard<'_, Vec<server::ConnHandle>> {
        self.conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A scripted fake TWS listening on 127.0.0.1. Dropping it stops it.
pub struct FakeTws {
    shared: Arc<Shared>,
    port: u16,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for FakeTws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeTws")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl FakeTws {
    /// Binds 127.0.0.1 on a free port and starts listening.
    ///
    /// # Errors
    /// When the socket cannot be bound or the listener thread cannot start.
    pub fn start() -> io::Result<FakeTws> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
            conns: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let for_thread = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("fake-tws-{port}"))
            .spawn(move || server::accept_loop(&listener, &for_thread))?;
        Ok(FakeTws {
            shared,
            port,
            listener: Mutex::new(Some(handle)),
        })
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"127.0.0.1:PORT"`, for `Client::connect`.
    #[must_use]
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    // ---- scripting -------------------------------------------------------------------------

    /// The behaviour of every order that has no scripted behaviour (default
    /// [`OrderBehaviour::Fill`]).
    pub fn set_default_behaviour(&self, behaviour: OrderBehaviour) {
        self.shared.lock().default_behaviour = behaviour;
    }

    /// The behaviour of the next new order (queued: each call scripts one more order).
    pub fn push_behaviour(&self, behaviour: OrderBehaviour) {
        self.shared.lock().scripted.push_back(behaviour);
    }

    /// Answer `StartApi` for `client_id` with error 326 (as when another session holds it).
    pub fn set_client_id_in_use(&self, client_id: i32, in_use: bool) {
        let mut state = self.shared.lock();
        if in_use {
            state.client_ids_in_use.insert(client_id);
        } else {
            state.client_ids_in_use.remove(&client_id);
        }
    }

    /// The quote market-data snapshots return for `con_id`.
    pub fn set_quote(&self, con_id: i32, quote: Quote) {
        self.shared.lock().quotes.insert(con_id, quote);
    }

    /// Adds an option chain (`SecDefOptParams` rows; option contract requests for its symbol are
    /// then validated against its expirations and strikes).
    pub fn add_option_chain(&self, chain: OptionChain) {
        self.shared.lock().chains.push(chain);
    }

    /// Sets one account summary value (e.g. `"NetLiquidation"`, `"125000.00"`).
    pub fn set_account_value(&self, tag: &str, value: &str) {
        self.shared
            .lock()
            .account_values
            .insert(tag.to_string(), value.to_string());
    }

    /// The managed account (default [`DEFAULT_ACCOUNT`]).
    pub fn set_account(&self, account: &str) {
        account.clone_into(&mut self.shared.lock().account);
    }

    /// Sets a position (replacing any for that `conId`).
    pub fn set_position(&self, contract: ContractInfo, position: f64, avg_cost: f64) {
        let mut state = self.shared.lock();
        state.positions.insert(
            contract.con_id,
            FakePosition {
                contract,
                position,
                avg_cost,
            },
        );
    }

    /// Commission per contract and minimum per order (default 0.65 and 1.00).
    pub fn set_commission(&self, per_contract: f64, minimum: f64) {
        let mut state = self.shared.lock();
        state.commission_per_contract = per_contract;
        state.commission_minimum = minimum;
    }

    /// Whether a combo fill also sends and records an execution for the `BAG` itself (net
    /// price per unit, side by the order's action, no commission report), as live TWS does.
    /// Default false: one execution per leg only.
    pub fn set_combo_executions(&self, on: bool) {
        self.shared.lock().combo_executions = on;
    }

    /// Fixes the time the fake stamps (server time at the handshake, execution, completion
    /// and error times); `None` returns to the wall clock.
    pub fn set_clock(&self, time: Option<chrono::DateTime<chrono::Utc>>) {
        self.shared.lock().clock = time;
    }

    /// The next valid order id (`NextValidId` at connect and for `ReqIds`).
    pub fn set_next_valid_id(&self, id: i32) {
        self.shared.lock().next_valid_id = id;
    }

    /// Fills the rest of a working order now, whether or not a client is connected: the
    /// executions, commissions and final status are recorded, and sent to the owning client's
    /// connections if there are any. Returns false when no working order matches.
    pub fn fill_order(&self, key: impl Into<OrderKey>) -> bool {
        self.fill(&key.into(), None)
    }

    /// Fills `quantity` (combo units; capped at what remains) of a working order now, like
    /// [`FakeTws::fill_order`]: the order stays `Submitted` until nothing remains. Returns
    /// false when no working order matches or `quantity` is not positive.
    pub fn fill_part(&self, key: impl Into<OrderKey>, quantity: f64) -> bool {
        quantity > 0.0 && self.fill(&key.into(), Some(quantity))
    }

    fn fill(&self, key: &OrderKey, quantity: Option<f64>) -> bool {
        let mut state = self.shared.lock();
        let Some(order_id) = state
            .find_order(key)
            .filter(|o| o.is_working())
            .map(|o| o.order_id)
        else {
            return false;
        };
        let remaining = state.orders[&order_id].remaining();
        let quantity = quantity.map_or(remaining, |q| q.min(remaining));
        let frames = server::fill_batch(&mut state, order_id, quantity);
        let client_id = state.orders[&order_id].client_id;
        server::send_to_client(&self.shared, client_id, &frames);
        drop(state);
        self.shared.changed.notify_all();
        true
    }

    /// Cancels a working order from the TWS side (`OrderStatus` Cancelled to its client if
    /// connected). Returns false when no working order matches.
    pub fn cancel_order(&self, key: impl Into<OrderKey>) -> bool {
        let key = key.into();
        let mut state = self.shared.lock();
        let Some(order_id) = state
            .find_order(&key)
            .filter(|o| o.is_working())
            .map(|o| o.order_id)
        else {
            return false;
        };
        let frames = server::cancel_frames(&mut state, order_id);
        let client_id = state.orders[&order_id].client_id;
        server::send_to_client(&self.shared, client_id, &frames);
        drop(state);
        self.shared.changed.notify_all();
        true
    }

    // ---- faults ----------------------------------------------------------------------------

    /// Closes every client socket; keeps listening (clients reconnect).
    pub fn drop_connections(&self) {
        let conns: Vec<server::ConnHandle> = self.shared.conns().drain(..).collect();
        for conn in &conns {
            conn.close();
        }
        self.shared.changed.notify_all();
    }

    /// While false, new connections are accepted and closed at once.
    pub fn set_accepting(&self, accepting: bool) {
        self.shared.accepting.store(accepting, Ordering::SeqCst);
    }

    /// Stops listening, closes every connection and joins the threads. Idempotent.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.drop_connections();
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(handle) = listener {
            let _ = handle.join();
        }
        let threads: Vec<JoinHandle<()>> = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
            .collect();
        for handle in threads {
            let _ = handle.join();
        }
    }

    // ---- observation -----------------------------------------------------------------------

    /// Locks and returns the state (do not hold it across client calls: the connection
    /// threads need it to answer).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Every `PlaceOrder` received, in order, duplicates included.
    #[must_use]
    pub fn placed_orders(&self) -> Vec<PlacedOrder> {
        self.shared.lock().placed.clone()
    }

    /// The current orders by id.
    #[must_use]
    pub fn orders(&self) -> Vec<FakeOrder> {
        self.shared.lock().orders.values().cloned().collect()
    }

    /// The order for `key`, if any.
    #[must_use]
    pub fn order(&self, key: impl Into<OrderKey>) -> Option<FakeOrder> {
        self.shared.lock().find_order(&key.into()).cloned()
    }

    /// Every execution so far.
    #[must_use]
    pub fn executions(&self) -> Vec<FakeExecution> {
        self.shared.lock().executions.clone()
    }

    /// Every commission report so far.
    #[must_use]
    pub fn commissions(&self) -> Vec<FakeCommission> {
        self.shared.lock().commissions.clone()
    }

    /// Positions by `conId`.
    #[must_use]
    pub fn positions(&self) -> Vec<FakePosition> {
        self.shared.lock().positions.values().cloned().collect()
    }

    /// Order ids of every `CancelOrder` received, in order.
    #[must_use]
    pub fn cancel_requests(&self) -> Vec<i32> {
        self.shared.lock().cancel_requests.clone()
    }

    /// Client connections open now (past `StartApi`).
    #[must_use]
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Connections accepted past `StartApi` since start (reconnects included).
    #[must_use]
    pub fn total_connections(&self) -> usize {
        self.shared.lock().total_connections
    }

    /// The last market data type requested.
    #[must_use]
    pub fn market_data_type(&self) -> Option<i32> {
        self.shared.lock().market_data_type
    }

    /// The `conId` the fake gives an option (the same as its `ContractData` answer), from the
    /// trading class (the OCC root), expiry `YYYYMMDD`, right `C`/`P` and strike.
    #[must_use]
    pub fn option_con_id(trading_class: &str, expiry: &str, right: &str, strike: f64) -> i32 {
        stable_con_id(&occ_symbol(trading_class, expiry, right, strike))
    }

    /// Waits until `pred` holds on the state (checked at every change and every 50 ms), or
    /// `timeout` passes. Returns whether it held.
    #[expect(clippy::disallowed_methods, reason = "a test's timeout is wall time")]
    pub fn wait_until(&self, mut pred: impl FnMut(&State) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if pred(&state) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            state = self
                .shared
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for FakeTws {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The OCC symbol: root padded to 6, `YYMMDD`, `C`/`P`, strike × 1000 in 8 digits
/// (`SPY   250321P00560000`).
#[must_use]
pub fn occ_symbol(root: &str, expiry: &str, right: &str, strike: f64) -> String {
    let yymmdd = expiry.get(2..8).unwrap_or(expiry);
    let right = right.chars().next().unwrap_or('?').to_ascii_uppercase();
    let strike = (strike * 1000.0).round() as i64;
    format!("{root:<6}{yymmdd}{right}{strike:08}")
}

/// A deterministic `conId` in 1..2^31 from a key (FNV-1a, 32 bit).
#[must_use]
pub fn stable_con_id(key: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in key.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let id = i32::try_from(hash & 0x7fff_ffff).unwrap_or(1);
    if id == 0 { 1 } else { id }
}

/// A stream the fake accepted; used only by [`server`].
fn configure(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)
}
