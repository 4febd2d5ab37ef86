//! [`IbBroker`]: Volta's [`Broker`] and [`Venue`] over TWS / IB Gateway.
//!
//! # How an order goes
//! 1. `place` checks the limit against the exchange's tick grid and the circuit breaker, asks
//!    IB for each leg's conId (cached), and writes the intent to the ledger (state `intent`).
//!    Only then is it sent, under a fresh IB order id and `orderRef = volta-<ledger>-<id>`;
//!    the ledger moves to `submitted`.
//! 2. `poll_events` drains IB's order-update stream: statuses move the ledger forward
//!    (`acknowledged`, `partially_filled`), each leg execution is booked once by its execution
//!    id, commission reports attach to executions. When every unit is filled and every
//!    execution has its commission, the order's `Filled` event carries IB's prices and IB's
//!    commissions (not a model's).
//! 3. On start and after every reconnect, [`IbBroker::reconcile`] asks IB for open orders,
//!    completed orders and executions and matches them with the ledger by `orderRef`: an
//!    intent IB already has is never sent again, an intent IB never got is cancelled (it was
//!    never sent), an execution that happened while Volta was away is booked once, and
//!    anything that cannot be explained halts trading with a message naming the order.
//!
//! Positions and cash are Volta's own book of IB's executions (the same exact cost-basis
//! accounting as the simulated broker), over the capital allotted to Volta; IB's account
//! summary is read for the pre-open check.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use ibapi::accounts::PositionUpdate;
use ibapi::client::blocking::{Client, Subscription};
use ibapi::orders::{
    ExecutionData, ExecutionFilter, ExecutionSide, OrderStatus as IbOrderStatus, OrderStatusKind,
    OrderUpdate, Orders,
};
use ibapi::subscriptions::SubscriptionItem;
use rust_decimal::Decimal;
use volta_core::broker::{
    Account, Book, Broker, BrokerEvent, CancelReason, EventKind, ExerciseFees, Fill, LegFill,
    MarkedAccount, Marks, OrderId, OrderRequest, OrderState, OrderStatus, OrderTag, Position,
    Settlements, StockOrder, TimeInForce, Venue,
};
use volta_core::calendar::REGULAR_CLOSE;
use volta_core::order::{ComboOrder, Instrument};
use volta_core::{ChainSnapshot, ContractKey, Money, OptionContract, Price, Underlying};

use crate::breaker::CircuitBreaker;
use crate::config::{IbConfig, MarketDataKind};
use crate::contracts::{ConIdCache, combo_to_ib, option_query, stock_to_ib};
use crate::error::{IbError, Result};
use crate::ledger::{ExecutionRecord, IntentLedger, IntentRecord, IntentState, SettlementRecord};

/// A point in an order's life where a test can stop the process (`kill -9`) to prove that
/// nothing is lost or sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// The intent is on disk; nothing has been sent.
    IntentWritten,
    /// The order was handed to IB; no fill has been seen.
    Sent,
    /// An execution was booked in the ledger; its `Filled` event has not reached the engine.
    ExecutionBooked,
}

type FaultHook = Box<dyn FnMut(FaultPoint) + Send>;

/// How near its strike a settlement counts as pinned (reported on the settlement), dollars.
const PIN_BAND: Decimal = Decimal::from_parts(50, 0, 0, false, 2);

/// The state of the link to IB that an operator watches (the dashboard's connection and
/// circuit-breaker panels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// Whether the API session is up.
    pub connected: bool,
    /// Why new openings are stopped (circuit breaker or halt), if they are.
    pub openings_stopped: Option<String>,
}

type LinkWatcher = Box<dyn FnMut(&LinkStatus) + Send>;

/// IB's contract and order for one of Volta's.
type IbOrder = (ibapi::contracts::Contract, ibapi::orders::Order);

/// IB's order id and last status, by orderRef.
type SeenAtIb = HashMap<String, (i32, Option<OrderStatusKind>)>;

/// An order as the adapter follows it.
#[derive(Debug, Clone)]
struct Tracked {
    state: OrderState,
    intent: IntentState,
    ib_order_id: Option<i32>,
    /// IB's last status word for it.
    ib_status: Option<OrderStatusKind>,
    /// IB's reason when it refused the order.
    rejection: Option<String>,
    cancel_requested: bool,
}

/// The Interactive Brokers broker.
pub struct IbBroker {
    config: IbConfig,
    client: Client,
    updates: Option<Subscription<OrderUpdate>>,
    /// Replies to cancel requests (IB may route the cancelled status here, not to `updates`).
    /// Dropped once their order has ended.
    cancels: Vec<(OrderId, Subscription<ibapi::orders::CancelOrder>)>,
    ledger: IntentLedger,
    ref_prefix: String,
    con_ids: ConIdCache,
    orders: BTreeMap<OrderId, Tracked>,
    by_ib_id: HashMap<i32, OrderId>,
    by_ref: HashMap<String, OrderId>,
    events: Vec<BrokerEvent>,
    seq: u64,
    book: Book,
    starting_cash: Money,
    cash: Money,
    fees: Money,
    realised: Money,
    marks: Marks,
    now: NaiveDateTime,
    breaker: CircuitBreaker,
    was_connected: bool,
    halted: Option<String>,
    fault_hook: Option<FaultHook>,
    link_watcher: Option<(LinkWatcher, Option<LinkStatus>)>,
}

impl std::fmt::Debug for IbBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IbBroker")
            .field("address", &self.config.address())
            .field("client_id", &self.config.client_id)
            .field("orders", &self.orders.len())
            .field("halted", &self.halted)
            .finish_non_exhaustive()
    }
}

/// An API session with TWS / IB Gateway as `client_id`, reconnecting forever, on the market
/// data type the settings ask for.
pub(crate) fn open_session(config: &IbConfig, client_id: i32) -> Result<Client> {
    let address = config.address();
    let client = Client::builder()
        .address(address.as_str())
        .client_id(client_id)
        .reconnect_forever()
        .connect()
        .map_err(|e| match e {
            ibapi::Error::ClientIdInUse { client_id } => IbError::ClientIdInUse {
                address: address.clone(),
                client_id,
            },
            other => IbError::Connect {
                address: address.clone(),
                client_id,
                reason: other.to_string(),
            },
        })?;
    let market_data = match config.market_data {
        MarketDataKind::Live => ibapi::market_data::MarketDataType::Realtime,
        MarketDataKind::Delayed => ibapi::market_data::MarketDataType::Delayed,
    };
    client
        .switch_market_data_type(market_data)
        .map_err(|e| IbError::request("market data type", e))?;
    Ok(client)
}

impl IbBroker {
    /// Connects to TWS / IB Gateway, opens the ledger, rebuilds the book from the executions it
    /// holds, and reconciles with IB.
    ///
    /// `capital` is the cash Volta trades with (its allotment of the account); `now` is the
    /// exchange time the engine starts at.
    ///
    /// # Errors
    /// [`IbError::Connect`] / [`IbError::ClientIdInUse`] when the session cannot be opened,
    /// [`IbError::Ledger`], and [`IbError::Reconciliation`] when IB and the ledger disagree in
    /// a way that cannot be explained (nothing is sent then).
    pub fn connect(
        config: IbConfig,
        ledger_path: impl AsRef<Path>,
        capital: Money,
        now: NaiveDateTime,
    ) -> Result<Self> {
        config.validate()?;
        let client = open_session(&config, config.client_id)?;
        let ledger = IntentLedger::open(ledger_path)?;
        // A tag per ledger, from when it was first used, keeps orderRefs unique across
        // ledgers trading one account.
        let ledger_tag = if let Some(tag) = ledger.meta("ledger_tag")? {
            tag
        } else {
            let tag = now.format("%Y%m%d%H%M%S").to_string();
            ledger.set_meta("ledger_tag", &tag)?;
            tag
        };
        let mut broker = Self {
            breaker: CircuitBreaker::new(config.breaker),
            config,
            client,
            updates: None,
            cancels: Vec::new(),
            ledger,
            ref_prefix: format!("volta-{ledger_tag}-"),
            con_ids: ConIdCache::new(),
            orders: BTreeMap::new(),
            by_ib_id: HashMap::new(),
            by_ref: HashMap::new(),
            events: Vec::new(),
            seq: 0,
            book: Book::default(),
            starting_cash: capital,
            cash: capital,
            fees: Money::ZERO,
            realised: Money::ZERO,
            marks: Marks::new(),
            now,
            was_connected: true,
            halted: None,
            fault_hook: None,
            link_watcher: None,
        };
        broker.load_ledger()?;
        broker.reconcile()?;
        Ok(broker)
    }

    /// Calls `watcher` with the link's state now and whenever it changes (checked at every
    /// poll): the connection lost or back, the circuit breaker tripped or reset.
    pub fn watch_link(&mut self, watcher: impl FnMut(&LinkStatus) + Send + 'static) {
        self.link_watcher = Some((Box::new(watcher), None));
        self.report_link();
    }

    fn report_link(&mut self) {
        // The link as the last poll saw it, not as the client says now: the client may drop
        // mid-poll, and a "down" reported before the poll tripped the breaker would say
        // openings still go.
        let status = LinkStatus {
            connected: self.was_connected,
            openings_stopped: self.openings_stopped().map(str::to_owned),
        };
        if let Some((watcher, last)) = self.link_watcher.as_mut()
            && last.as_ref() != Some(&status)
        {
            watcher(&status);
            *last = Some(status);
        }
    }

    /// Stops the process at a [`FaultPoint`] (tests of crash recovery only).
    #[doc(hidden)]
    pub fn set_fault_hook(&mut self, hook: impl FnMut(FaultPoint) + Send + 'static) {
        self.fault_hook = Some(Box::new(hook));
    }

    fn fault(&mut self, point: FaultPoint) {
        if let Some(hook) = self.fault_hook.as_mut() {
            hook(point);
        }
    }

    /// The ledger (read-only): intents and executions as written.
    #[must_use]
    pub const fn ledger(&self) -> &IntentLedger {
        &self.ledger
    }

    /// Why new openings are stopped (circuit breaker or a halt), if they are.
    #[must_use]
    pub fn openings_stopped(&self) -> Option<&str> {
        self.halted.as_deref().or_else(|| self.breaker.tripped())
    }

    /// Why trading is halted (an unexplained mismatch with IB), if it is.
    #[must_use]
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
    }

    /// A person looked: the circuit breaker lets openings go again (a halt stays).
    pub fn reset_breaker(&mut self) {
        self.breaker.reset();
    }

    /// The settings it was connected with.
    #[must_use]
    pub const fn config(&self) -> &IbConfig {
        &self.config
    }

    /// TWS's clock, in seconds since 1970.
    ///
    /// # Errors
    /// [`IbError::Request`].
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "naming the method needs the `time` crate, which is ibapi's, not ours"
    )]
    pub fn server_unix_seconds(&self) -> Result<i64> {
        self.client
            .server_time()
            .map(|t| t.unix_timestamp())
            .map_err(|e| IbError::request("server time", e))
    }

    /// Whether the API session is up.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.client.is_connected()
    }

    /// The accounts TWS manages for this login.
    #[must_use]
    pub fn managed_accounts(&self) -> Vec<String> {
        self.client.handshake_managed_accounts().to_vec()
    }

    /// The orderRef Volta sends for an order of this ledger.
    #[must_use]
    pub fn order_ref(&self, id: OrderId) -> String {
        format!("{}{}", self.ref_prefix, id.get())
    }

    /// IB's conId for an option, from the cache or from IB's contract details.
    ///
    /// # Errors
    /// [`IbError::Contract`] when IB has none or several; [`IbError::Request`].
    pub fn con_id(&mut self, contract: &OptionContract) -> Result<i32> {
        if let Some(id) = self.con_ids.get(contract.key()) {
            return Ok(id);
        }
        let details = self
            .client
            .contract_details(&option_query(contract))
            .map_err(|e| match e {
                ibapi::Error::Notice(n) if n.code == 200 => IbError::Contract {
                    contract: contract.key().to_string(),
                    found: 0,
                },
                other => IbError::request("contract details", other),
            })?;
        match details.as_slice() {
            [one] if one.contract.contract_id > 0 => {
                self.con_ids
                    .insert(contract.key().clone(), one.contract.contract_id);
                Ok(one.contract.contract_id)
            }
            other => Err(IbError::Contract {
                contract: contract.key().to_string(),
                found: other.len(),
            }),
        }
    }

    fn emit(&mut self, kind: EventKind) {
        self.seq += 1;
        self.events.push(BrokerEvent {
            seq: self.seq,
            at: self.now,
            kind,
        });
    }

    /// Rebuilds the adapter's state from the ledger: orders, and the book from every booked
    /// execution and commission.
    fn load_ledger(&mut self) -> Result<()> {
        for intent in self.ledger.intents()? {
            let id = intent.order_id;
            for exec in self.ledger.executions(id)? {
                self.book_execution(&exec);
                if let Some(c) = exec.commission {
                    self.book_commission(c);
                }
            }
            self.track(&intent);
        }
        // After every execution: an expired contract trades no more.
        for settlement in self.ledger.settlements()? {
            self.book_settlement(&settlement);
        }
        Ok(())
    }

    /// Books the options held that settle at the close of `date`, each at its underlying's
    /// settlement price (PM: the close; AM: the open, [`volta_core::broker::AM_SETTLEMENT_STAND_IN`]),
    /// written to the ledger first so that a restart books it once, and reported as the
    /// simulated broker reports it (expired, exercised, assigned, cash-settled). IB charges no
    /// exercise or assignment fee on US equity and index options.
    fn settle_expiring(&mut self, date: NaiveDate, settlements: &Settlements) -> Result<()> {
        let expiring: Vec<(OptionContract, i64)> = self
            .book
            .options()
            .filter(|(c, _)| c.settlement_date() <= date)
            .map(|(c, q)| (c.clone(), q))
            .collect();
        // Every price first: a close missing one books none.
        let mut due = Vec::with_capacity(expiring.len());
        for (contract, quantity) in expiring {
            let prices =
                settlements
                    .get(contract.underlying())
                    .ok_or_else(|| IbError::Settlement {
                        contract: contract.key().to_string(),
                        date,
                        reason: format!("no closing price for {}", contract.underlying()),
                    })?;
            due.push(SettlementRecord {
                contract: contract.key().clone(),
                date,
                quantity,
                price: prices.settlement_value(contract.settlement_time()),
            });
        }
        for settlement in due {
            if self.ledger.add_settlement(&settlement)? {
                let kind = self.book_settlement(&settlement);
                self.emit(kind);
            }
        }
        Ok(())
    }

    fn book_settlement(&mut self, settlement: &SettlementRecord) -> EventKind {
        let contract = OptionContract::from_key(settlement.contract.clone());
        let settled = self.book.settle_option(
            &contract,
            settlement.quantity,
            settlement.price,
            ExerciseFees::default(),
            (PIN_BAND, false),
        );
        self.realised += settled.realised;
        self.cash += settled.cash;
        self.fees += settled.fee;
        settled.kind
    }

    /// Follows an order as the ledger holds it: its state, and IB's ids for it.
    fn track(&mut self, intent: &IntentRecord) {
        let id = intent.order_id;
        let mut state = OrderState::submitted(
            id,
            intent.request.clone(),
            intent.tag.clone(),
            intent.tif,
            intent.created_at,
        );
        state.status = match intent.state {
            IntentState::Filled => OrderStatus::Filled,
            IntentState::Cancelled => OrderStatus::Cancelled(CancelReason::Requested),
            IntentState::Rejected => {
                OrderStatus::Rejected(intent.detail.clone().unwrap_or_default())
            }
            _ => OrderStatus::Submitted,
        };
        if let Some(ib) = intent.ib_order_id {
            self.by_ib_id.insert(ib, id);
        }
        self.by_ref.insert(intent.order_ref.clone(), id);
        self.orders.insert(
            id,
            Tracked {
                state,
                intent: intent.state,
                ib_order_id: intent.ib_order_id,
                ib_status: None,
                rejection: intent.detail.clone(),
                cancel_requested: false,
            },
        );
    }

    /// Matches the ledger with IB by orderRef (see the module docs). Called on start and after
    /// every reconnect; safe to call at any time.
    ///
    /// # Errors
    /// [`IbError::Request`] when IB does not answer; [`IbError::Reconciliation`] (and trading
    /// halts) when the two disagree in a way that cannot be explained.
    pub fn reconcile(&mut self) -> Result<()> {
        // The update stream first, so that nothing falls between the snapshots and it.
        if self.updates.is_none() {
            self.updates = Some(
                self.client
                    .order_update_stream()
                    .map_err(|e| IbError::request("order updates", e))?,
            );
        }
        let (seen_at_ib, exec_items) = self.snapshot()?;
        // Orders IB knows by one of our orderRefs that the ledger does not: unexplained.
        for order_ref in seen_at_ib.keys() {
            if !self.by_ref.contains_key(order_ref) {
                return self.halt(format!(
                    "IB has order `{order_ref}`, which this ledger ({}) never wrote",
                    self.ledger.path().display()
                ));
            }
        }
        for item in exec_items {
            match item {
                ibapi::orders::Executions::ExecutionData(e) => self.on_execution(&e)?,
                ibapi::orders::Executions::CommissionReport(c) => {
                    self.on_commission(&c.execution_id, c.commission)?;
                }
            }
        }
        self.reconcile_pending(&seen_at_ib)?;
        self.settle_all()?;
        Ok(())
    }

    /// IB's open and completed orders carrying one of this ledger's orderRefs (IB order id and
    /// status by orderRef), and every execution of the last seven days.
    fn snapshot(&self) -> Result<(SeenAtIb, Vec<ibapi::orders::Executions>)> {
        let timeout = self.config.request_timeout();
        let mut seen_at_ib = SeenAtIb::new();
        let open = self
            .client
            .all_open_orders()
            .map_err(|e| IbError::request("open orders", e))?;
        let completed = self
            .client
            .completed_orders(false)
            .map_err(|e| IbError::request("completed orders", e))?;
        for subscription in [open, completed] {
            for item in subscription
                .collect_to_end_within(timeout)
                .map_err(|e| IbError::request("orders snapshot", e))?
            {
                if let Orders::OrderData(data) = item
                    && data.order.order_ref.starts_with(&self.ref_prefix)
                {
                    seen_at_ib.insert(
                        data.order.order_ref.clone(),
                        (data.order_id, Some(data.order_state.status.clone())),
                    );
                }
            }
        }
        let executions = self
            .client
            .executions(ExecutionFilter {
                // The gateway's nightly reset can put a gap across midnight.
                last_n_days: 7,
                ..ExecutionFilter::default()
            })
            .map_err(|e| IbError::request("executions", e))?;
        let mut exec_items = Vec::new();
        for item in executions
            .collect_to_end_within(timeout)
            .map_err(|e| IbError::request("executions snapshot", e))?
        {
            exec_items.push(item);
        }
        Ok((seen_at_ib, exec_items))
    }

    fn reconcile_pending(&mut self, seen_at_ib: &SeenAtIb) -> Result<()> {
        let pending: Vec<(OrderId, String, IntentState)> = self
            .orders
            .iter()
            .filter(|(_, t)| !t.intent.is_terminal())
            .map(|(id, t)| (*id, self.order_ref(*id), t.intent))
            .collect();
        for (id, order_ref, intent) in pending {
            let has_executions = !self.ledger.executions(id)?.is_empty();
            match seen_at_ib.get(&order_ref) {
                Some((ib_id, status)) => {
                    self.by_ib_id.insert(*ib_id, id);
                    if let Some(t) = self.orders.get_mut(&id) {
                        t.ib_order_id = Some(*ib_id);
                        t.ib_status.clone_from(status);
                    }
                    if intent == IntentState::Intent {
                        // Sent before the crash, confirmation lost: IB has it, so it is never
                        // sent again.
                        self.ledger.set_ib_order_id(id, *ib_id)?;
                        self.advance(id, IntentState::Submitted, None)?;
                    }
                    if let Some(status) = status {
                        self.apply_status_kind(id, status, None)?;
                    }
                }
                None if has_executions => {
                    // Filled while away, and aged out of IB's completed orders: the executions
                    // say what happened; settle() books the fill once.
                    if let Some(t) = self.orders.get_mut(&id) {
                        t.ib_status = Some(OrderStatusKind::Filled);
                    }
                }
                None if intent == IntentState::Intent => {
                    self.advance(
                        id,
                        IntentState::Cancelled,
                        Some("never sent: the trader stopped after writing the intent and before sending it"),
                    )?;
                    if let Some(t) = self.orders.get_mut(&id) {
                        t.state.status = OrderStatus::Cancelled(CancelReason::Requested);
                    }
                    self.emit(EventKind::Cancelled {
                        order: id,
                        reason: CancelReason::Requested,
                    });
                    self.ledger.mark_reported(id)?;
                }
                None => {
                    return self.halt(format!(
                        "order {id} (`{order_ref}`) was sent to IB but IB has no open or completed order and no execution for it"
                    ));
                }
            }
        }
        Ok(())
    }

    fn halt(&mut self, detail: String) -> Result<()> {
        self.halted = Some(detail.clone());
        self.breaker.trip(format!("halted: {detail}"));
        Err(IbError::Reconciliation { detail })
    }

    fn advance(&mut self, id: OrderId, state: IntentState, detail: Option<&str>) -> Result<()> {
        if self.ledger.advance(id, state, detail)?
            && let Some(t) = self.orders.get_mut(&id)
        {
            t.intent = state;
        }
        Ok(())
    }

    fn book_execution(&mut self, exec: &ExecutionRecord) {
        let multiplier = Decimal::from(exec.instrument.multiplier());
        self.realised += self.book.trade(&exec.instrument, exec.quantity, exec.price);
        self.cash -= Money::new(exec.price.value() * multiplier * Decimal::from(exec.quantity));
    }

    fn book_commission(&mut self, commission: Money) {
        self.cash -= commission;
        self.fees += commission;
    }

    fn order_of_execution(&self, e: &ExecutionData) -> Option<OrderId> {
        self.by_ref
            .get(&e.execution.order_reference)
            .or_else(|| self.by_ib_id.get(&e.execution.order_id))
            .copied()
    }

    fn instrument_of(&self, e: &ExecutionData) -> Result<Instrument> {
        self.instrument_of_contract(&e.contract)
    }

    fn instrument_of_contract(&self, contract: &ibapi::contracts::Contract) -> Result<Instrument> {
        if contract.security_type == ibapi::contracts::SecurityType::Stock {
            return Ok(Instrument::Stock(contract.symbol.to_string().parse()?));
        }
        let key: ContractKey = match self.con_ids.key_of(contract.contract_id) {
            Some(key) => key.clone(),
            None => contract.local_symbol.parse()?,
        };
        Ok(Instrument::Option(OptionContract::from_key(key)))
    }

    /// IB's positions in `account`, by Volta's instrument names (OCC keys, `SPY stock`).
    pub(crate) fn positions_at_ib(&self, account: &str) -> Result<BTreeMap<String, i64>> {
        let subscription = self
            .client
            .positions()
            .map_err(|e| IbError::request("positions", e))?;
        let mut held = BTreeMap::new();
        loop {
            match subscription.next_timeout(self.config.request_timeout()) {
                Some(Ok(SubscriptionItem::Data(PositionUpdate::Position(p)))) => {
                    if p.account == account && p.position != 0.0 {
                        let name = self.instrument_of_contract(&p.contract)?.to_string();
                        *held.entry(name).or_insert(0) += p.position.round() as i64;
                    }
                }
                Some(Ok(SubscriptionItem::Data(PositionUpdate::PositionEnd))) => return Ok(held),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(IbError::request("positions", e)),
                None => {
                    return Err(IbError::Request {
                        request: "positions",
                        reason: "TWS sent no end of positions in time".to_owned(),
                    });
                }
            }
        }
    }

    /// Where IB's positions and the ledger's book differ, over the instruments Volta trades
    /// (the book's, and every contract the ledger has executions in): `name: IB x, Volta y`.
    /// Options settling today and the stock they deliver are left out: IB books expiries
    /// overnight, the ledger at the close.
    pub(crate) fn position_differences(&self, account: &str) -> Result<Vec<String>> {
        let at_ib = self.positions_at_ib(account)?;
        let today = self.now.date();
        let settled_today: Vec<Underlying> = self
            .ledger
            .settlements()?
            .into_iter()
            .filter(|s| s.date == today)
            .map(|s| OptionContract::from_key(s.contract).underlying().clone())
            .collect();
        let skip = |i: &Instrument| match i {
            Instrument::Option(c) => c.settlement_date() <= today,
            Instrument::Stock(u) => settled_today.contains(u),
        };
        let mut ours: BTreeMap<String, i64> = BTreeMap::new();
        for intent in self.ledger.intents()? {
            for exec in self.ledger.executions(intent.order_id)? {
                if !skip(&exec.instrument) {
                    ours.entry(exec.instrument.to_string()).or_insert(0);
                }
            }
        }
        for p in self.book.iter().filter(|p| !skip(&p.instrument)) {
            ours.insert(p.instrument.to_string(), p.quantity);
        }
        Ok(ours
            .into_iter()
            .filter_map(|(name, volta)| {
                let ib = at_ib.get(&name).copied().unwrap_or(0);
                (ib != volta).then(|| format!("{name}: IB {ib}, Volta {volta}"))
            })
            .collect())
    }

    fn on_execution(&mut self, e: &ExecutionData) -> Result<()> {
        // IB reports a combo's fill per leg and once more for the BAG itself; the legs are
        // what changes hands.
        if e.contract.security_type == ibapi::contracts::SecurityType::Spread {
            return Ok(());
        }
        let Some(id) = self.order_of_execution(e) else {
            return Ok(()); // another client's or the user's own trade
        };
        let sign = match e.execution.side {
            ExecutionSide::Bought => 1,
            ExecutionSide::Sold => -1,
        };
        #[allow(clippy::cast_possible_truncation)]
        let quantity = sign * e.execution.shares.round() as i64;
        let record = ExecutionRecord {
            exec_id: e.execution.execution_id.clone(),
            order_id: id,
            instrument: self.instrument_of(e)?,
            quantity,
            price: Price::from_f64(e.execution.price)?,
            time: e.execution.time.clone(),
            commission: None,
        };
        if self.ledger.add_execution(&record)? {
            self.book_execution(&record);
            self.fault(FaultPoint::ExecutionBooked);
        }
        Ok(())
    }

    fn on_commission(&mut self, exec_id: &str, commission: f64) -> Result<()> {
        let commission = Money::from_f64(commission)?;
        if self.ledger.set_commission(exec_id, commission)? {
            self.book_commission(commission);
        }
        Ok(())
    }

    fn on_status(&mut self, status: &IbOrderStatus) -> Result<()> {
        let Some(id) = self.by_ib_id.get(&status.order_id).copied() else {
            return Ok(());
        };
        self.apply_status_kind(id, &status.status, Some((status.filled, status.remaining)))
    }

    fn apply_status_kind(
        &mut self,
        id: OrderId,
        kind: &OrderStatusKind,
        progress: Option<(f64, f64)>,
    ) -> Result<()> {
        if let Some(t) = self.orders.get_mut(&id) {
            t.ib_status = Some(kind.clone());
        }
        match kind {
            OrderStatusKind::PreSubmitted | OrderStatusKind::Submitted => {
                let partly =
                    progress.is_some_and(|(filled, remaining)| filled > 0.0 && remaining > 0.0);
                let state = if partly {
                    IntentState::PartiallyFilled
                } else {
                    IntentState::Acknowledged
                };
                self.advance(id, state, None)
            }
            _ => Ok(()),
        }
    }

    fn on_notice(&mut self, notice: &ibapi::Notice) {
        let Some(id) = notice
            .request_id
            .and_then(|ib| self.by_ib_id.get(&ib).copied())
        else {
            if !(notice.is_informational() || notice.is_system_message()) {
                self.breaker.on_error(self.now, &notice.to_string());
            }
            return;
        };
        // 202: the cancel we asked for; 399 and 2xxx: warnings. Anything else bound to an order
        // is IB refusing it.
        if notice.code == 202 || notice.code == 399 || notice.is_informational() {
            return;
        }
        let reason = format!("IB error {}: {}", notice.code, notice.message);
        self.breaker.on_error(self.now, &reason);
        if let Some(t) = self.orders.get_mut(&id)
            && t.rejection.is_none()
        {
            t.rejection = Some(reason);
        }
    }

    fn drain_cancels(&mut self) -> Result<()> {
        let mut statuses = Vec::new();
        let mut notices = Vec::new();
        let ended: Vec<OrderId> = self
            .cancels
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| {
                self.orders
                    .get(id)
                    .is_none_or(|t| t.state.status.is_terminal())
            })
            .collect();
        self.cancels.retain(|(id, replies)| {
            if ended.contains(id) {
                return false;
            }
            loop {
                match replies.try_next() {
                    Some(Ok(SubscriptionItem::Data(ibapi::orders::CancelOrder::OrderStatus(
                        s,
                    )))) => {
                        statuses.push(s);
                    }
                    Some(Ok(SubscriptionItem::Notice(n))) => notices.push(n),
                    Some(Err(_)) => return false,
                    None => return true,
                }
            }
        });
        for s in &statuses {
            self.on_status(s)?;
        }
        for n in &notices {
            self.on_notice(n);
        }
        Ok(())
    }

    fn drain_updates(&mut self) -> Result<()> {
        self.drain_cancels()?;
        loop {
            let Some(updates) = self.updates.as_ref() else {
                return Ok(());
            };
            let Some(item) = updates.try_next() else {
                return Ok(());
            };
            match item {
                Ok(SubscriptionItem::Data(update)) => match update {
                    OrderUpdate::OrderStatus(s) => self.on_status(&s)?,
                    OrderUpdate::OpenOrder(data) => {
                        if let Some(id) = self.by_ref.get(&data.order.order_ref).copied() {
                            self.by_ib_id.insert(data.order_id, id);
                            self.apply_status_kind(id, &data.order_state.status, None)?;
                        }
                    }
                    OrderUpdate::ExecutionData(e) => self.on_execution(&e)?,
                    OrderUpdate::CommissionReport(c) => {
                        self.on_commission(&c.execution_id, c.commission)?;
                    }
                    OrderUpdate::OrderBound(_) => {}
                },
                Ok(SubscriptionItem::Notice(notice)) => self.on_notice(&notice),
                Err(_) => {
                    // The stream ended (shutdown or a decode error): open a new one and
                    // reconcile, so that nothing it would have said is missed.
                    self.updates = None;
                    return self.reconcile();
                }
            }
        }
    }

    /// Units filled so far: for a combo, the smallest leg's filled contracts over its ratio.
    fn filled_units(request: &OrderRequest, executions: &[ExecutionRecord]) -> u32 {
        let filled_of = |instrument: &Instrument| -> i64 {
            executions
                .iter()
                .filter(|e| &e.instrument == instrument)
                .map(|e| e.quantity)
                .sum::<i64>()
                .abs()
        };
        let units = match request {
            OrderRequest::Combo(c) => c
                .legs()
                .iter()
                .map(|leg| filled_of(&leg.instrument) / i64::from(leg.ratio))
                .min()
                .unwrap_or(0),
            OrderRequest::StockMarket(s) => filled_of(&Instrument::Stock(s.underlying.clone())),
        };
        u32::try_from(units).unwrap_or(u32::MAX)
    }

    fn build_fill(
        &self,
        id: OrderId,
        request: &OrderRequest,
        executions: &[ExecutionRecord],
        units: u32,
    ) -> Result<Fill> {
        let legs: Vec<LegFill> = match request {
            OrderRequest::Combo(c) => c
                .legs()
                .iter()
                .map(|leg| leg_fill(&leg.instrument, executions))
                .collect::<Result<_>>()?,
            OrderRequest::StockMarket(s) => {
                vec![leg_fill(
                    &Instrument::Stock(s.underlying.clone()),
                    executions,
                )?]
            }
        };
        let net_price = match request {
            OrderRequest::Combo(c) => {
                let prices: Vec<Price> = legs.iter().map(|l| l.price).collect();
                c.net_price(&prices)?.round_dp(4)
            }
            OrderRequest::StockMarket(_) => legs[0].price.value(),
        };
        let cash = executions.iter().fold(Money::ZERO, |sum, e| {
            sum - Money::new(
                e.price.value()
                    * Decimal::from(e.instrument.multiplier())
                    * Decimal::from(e.quantity),
            )
        });
        let commission = executions
            .iter()
            .filter_map(|e| e.commission)
            .fold(Money::ZERO, |a, b| a + b);
        Ok(Fill {
            order: id,
            at: self.now,
            net_price,
            quantity: units,
            legs,
            cash,
            commission,
        })
    }

    /// Turns what IB said about each open order into at most one terminal event.
    fn settle_all(&mut self) -> Result<()> {
        let open: Vec<OrderId> = self
            .orders
            .iter()
            .filter(|(_, t)| !t.state.status.is_terminal())
            .map(|(id, _)| *id)
            .collect();
        for id in open {
            self.settle(id)?;
        }
        Ok(())
    }

    fn settle(&mut self, id: OrderId) -> Result<()> {
        let Some(t) = self.orders.get(&id).cloned() else {
            return Ok(());
        };
        let executions = self.ledger.executions(id)?;
        let wanted = match &t.state.request {
            OrderRequest::Combo(c) => c.quantity(),
            OrderRequest::StockMarket(s) => s.quantity,
        };
        let units = Self::filled_units(&t.state.request, &executions);
        let commissions_in = executions.iter().all(|e| e.commission.is_some());
        let ended_at_ib = matches!(
            t.ib_status,
            Some(
                OrderStatusKind::Cancelled
                    | OrderStatusKind::ApiCancelled
                    | OrderStatusKind::Inactive
            )
        );
        let rejected = t.rejection.is_some() && units == 0;
        let (status, kind) = if units >= wanted && commissions_in {
            let fill = self.build_fill(id, &t.state.request, &executions, units)?;
            self.advance(id, IntentState::Filled, None)?;
            (OrderStatus::Filled, EventKind::Filled(fill))
        } else if units > 0 && ended_at_ib && commissions_in {
            // Partly filled, then cancelled: the units that filled are a fill (never lost);
            // the rest is not working. `Fill::quantity` says how many.
            let fill = self.build_fill(id, &t.state.request, &executions, units)?;
            self.advance(
                id,
                IntentState::Filled,
                Some(&format!("{units} of {wanted} filled, the rest cancelled")),
            )?;
            (OrderStatus::Filled, EventKind::Filled(fill))
        } else if rejected && !t.cancel_requested {
            let reason = t.rejection.clone().unwrap_or_default();
            self.advance(id, IntentState::Rejected, Some(&reason))?;
            self.breaker.on_rejection(&reason);
            (
                OrderStatus::Rejected(reason.clone()),
                EventKind::Rejected { order: id, reason },
            )
        } else if units == 0 && ended_at_ib {
            let reason = if t.cancel_requested {
                CancelReason::Requested
            } else if t.state.tif == TimeInForce::Day && self.now.time() >= REGULAR_CLOSE {
                CancelReason::DayEnd
            } else {
                // Cancelled at IB without Volta asking (in TWS by a person, or by IB itself).
                CancelReason::Requested
            };
            self.advance(id, IntentState::Cancelled, t.rejection.as_deref())?;
            (
                OrderStatus::Cancelled(reason),
                EventKind::Cancelled { order: id, reason },
            )
        } else {
            return Ok(());
        };
        if let Some(tracked) = self.orders.get_mut(&id) {
            tracked.state.status = status;
            if let EventKind::Filled(fill) = &kind {
                tracked.state.fill = Some(fill.clone());
            }
        }
        self.emit(kind);
        Ok(())
    }

    /// IB's contract and order for a request, or why it is refused (breaker, tick grid, an
    /// unknown contract). A connection failure is an error: nothing is recorded.
    fn prepare(
        &mut self,
        request: &OrderRequest,
        tag: &OrderTag,
        tif: TimeInForce,
        order_ref: &str,
    ) -> Result<(Option<IbOrder>, Option<String>)> {
        let mut refusal = None;
        if tag.opens_position()
            && let Some(why) = self.openings_stopped()
        {
            refusal = Some(format!("circuit breaker open, no new positions: {why}"));
        }
        if let OrderRequest::Combo(c) = &request
            && refusal.is_none()
            && !c.limit_on_grid()
        {
            refusal = Some(format!(
                "limit {} is off the exchange's tick grid for {}",
                c.limit(),
                c.grid_root().unwrap_or("the contract")
            ));
        }
        // The contract's legs before the intent, so that an unknown contract is a rejection
        // and a lost connection an error that records nothing.
        let ib_order = match (request, &refusal) {
            (_, Some(_)) => None,
            (OrderRequest::Combo(c), None) => match self.resolve_legs(c) {
                Ok(con_ids) => Some(combo_to_ib(
                    c,
                    &con_ids,
                    tif,
                    order_ref,
                    self.config.account.as_deref(),
                )?),
                Err(IbError::Contract { contract, found }) => {
                    refusal = Some(format!(
                        "IB has {found} contract(s) for {contract}; exactly one is needed"
                    ));
                    None
                }
                Err(other) => return Err(other),
            },
            (OrderRequest::StockMarket(s), None) => {
                Some(stock_to_ib(s, order_ref, self.config.account.as_deref()))
            }
        };
        Ok((ib_order, refusal))
    }

    fn record_and_send(
        &mut self,
        request: OrderRequest,
        tag: OrderTag,
        tif: TimeInForce,
    ) -> Result<OrderId> {
        let id = self.ledger.next_order_id()?;
        let order_ref = self.order_ref(id);
        let (ib_order, refusal) = self.prepare(&request, &tag, tif, &order_ref)?;
        let intent = IntentRecord {
            order_id: id,
            order_ref: order_ref.clone(),
            ib_order_id: None,
            state: IntentState::Intent,
            request: request.clone(),
            tag: tag.clone(),
            tif,
            created_at: self.now,
            detail: None,
            reported: false,
        };
        self.ledger.record_intent(&intent)?;
        self.track(&intent);
        self.emit(EventKind::Submitted {
            order: id,
            request,
            tag,
            tif,
        });
        self.fault(FaultPoint::IntentWritten);
        match (ib_order, refusal) {
            (Some((contract, order)), None) => {
                let ib_id = self.client.next_order_id();
                self.ledger.set_ib_order_id(id, ib_id)?;
                self.by_ib_id.insert(ib_id, id);
                if let Some(t) = self.orders.get_mut(&id) {
                    t.ib_order_id = Some(ib_id);
                }
                if let Err(e) = self.client.submit_order(ib_id, &contract, &order) {
                    // Not handed over: IB may or may not have it; reconciliation decides.
                    self.breaker.on_error(self.now, &e.to_string());
                    return Ok(id);
                }
                self.advance(id, IntentState::Submitted, None)?;
                self.fault(FaultPoint::Sent);
            }
            (_, refusal) => {
                let reason = refusal.unwrap_or_default();
                self.advance(id, IntentState::Rejected, Some(&reason))?;
                if let Some(t) = self.orders.get_mut(&id) {
                    t.state.status = OrderStatus::Rejected(reason.clone());
                }
                self.emit(EventKind::Rejected { order: id, reason });
            }
        }
        Ok(id)
    }

    fn resolve_legs(&mut self, order: &ComboOrder) -> Result<Vec<i32>> {
        order
            .legs()
            .iter()
            .map(|leg| match &leg.instrument {
                Instrument::Option(c) => self.con_id(c),
                Instrument::Stock(_) => Err(IbError::Unsupported {
                    what: "a combo with a stock leg".to_owned(),
                }),
            })
            .collect()
    }

    fn tracked(&self, id: OrderId) -> Result<&Tracked> {
        let t = self.orders.get(&id).ok_or(IbError::UnknownOrder { id })?;
        if t.state.status.is_terminal() {
            return Err(IbError::OrderNotOpen {
                id,
                status: t.state.status.clone(),
            });
        }
        Ok(t)
    }
}

/// One leg's fill: its signed contracts and volume-weighted price.
fn leg_fill(instrument: &Instrument, executions: &[ExecutionRecord]) -> Result<LegFill> {
    let mine: Vec<&ExecutionRecord> = executions
        .iter()
        .filter(|e| &e.instrument == instrument)
        .collect();
    let quantity: i64 = mine.iter().map(|e| e.quantity).sum();
    let volume: i64 = mine.iter().map(|e| e.quantity.abs()).sum();
    let notional: Decimal = mine
        .iter()
        .map(|e| e.price.value() * Decimal::from(e.quantity.abs()))
        .sum();
    let price = if volume == 0 {
        Price::ZERO
    } else {
        Price::try_new((notional / Decimal::from(volume)).round_dp(6))?
    };
    Ok(LegFill {
        instrument: instrument.clone(),
        quantity,
        price,
    })
}

impl Broker for IbBroker {
    type Error = IbError;

    fn place_with(
        &mut self,
        order: ComboOrder,
        tag: OrderTag,
        tif: TimeInForce,
    ) -> Result<OrderId> {
        self.record_and_send(OrderRequest::Combo(order), tag, tif)
    }

    fn place_stock(&mut self, order: StockOrder, tag: OrderTag) -> Result<OrderId> {
        self.record_and_send(OrderRequest::StockMarket(order), tag, TimeInForce::Day)
    }

    fn modify(&mut self, id: OrderId, new_limit: Decimal) -> Result<()> {
        let t = self.tracked(id)?;
        Err(IbError::Unsupported {
            what: format!(
                "modifying order {id} to {new_limit} ({}): cancel it and place a new one",
                t.state.tag.reason
            ),
        })
    }

    fn cancel(&mut self, id: OrderId) -> Result<()> {
        let ib_id = self.tracked(id)?.ib_order_id;
        if let Some(t) = self.orders.get_mut(&id) {
            t.cancel_requested = true;
        }
        match ib_id {
            Some(ib_id) => {
                let replies = self
                    .client
                    .cancel_order(ib_id, "")
                    .map_err(|e| IbError::request("cancel order", e))?;
                self.cancels.push((id, replies));
                Ok(())
            }
            None => Err(IbError::Unsupported {
                what: format!("cancelling order {id}, which was never sent"),
            }),
        }
    }

    fn poll_events(&mut self) -> Vec<BrokerEvent> {
        let connected = self.client.is_connected();
        if !connected && self.was_connected {
            self.breaker.on_disconnect();
        }
        let reconnected = connected && !self.was_connected;
        self.was_connected = connected;
        let outcome = if reconnected {
            self.reconcile()
        } else {
            self.drain_updates()
        }
        .and_then(|()| self.settle_all());
        if let Err(e) = outcome {
            // Polling cannot fail: the error stops openings and is kept for the operator.
            self.breaker.trip(format!("IB: {e}"));
        }
        self.report_link();
        let events = std::mem::take(&mut self.events);
        for event in &events {
            if matches!(
                event.kind,
                EventKind::Filled(_) | EventKind::Cancelled { .. } | EventKind::Rejected { .. }
            ) && let Some(id) = event.kind.order_id()
            {
                // Best effort: a failure here only means the event may be reported again.
                let _ = self.ledger.mark_reported(id);
            }
        }
        events
    }

    fn order(&self, id: OrderId) -> Option<OrderState> {
        self.orders.get(&id).map(|t| t.state.clone())
    }

    fn open_orders(&self) -> Vec<OrderState> {
        self.orders
            .values()
            .filter(|t| !t.state.status.is_terminal())
            .map(|t| t.state.clone())
            .collect()
    }

    fn positions(&self) -> Vec<Position> {
        self.book.iter().cloned().collect()
    }

    fn account(&self) -> Account {
        Account {
            starting_cash: self.starting_cash,
            cash: self.cash,
            fees_paid: self.fees,
            realised_pnl: self.realised,
        }
    }
}

impl Venue for IbBroker {
    fn on_quotes(&mut self, chain: &ChainSnapshot) -> Result<()> {
        self.now = self.now.max(chain.as_of());
        self.marks.add_chain(chain);
        Ok(())
    }

    fn on_stock_price(
        &mut self,
        underlying: &Underlying,
        price: Price,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.now = self.now.max(at);
        self.marks
            .insert(&Instrument::Stock(underlying.clone()), price);
        Ok(())
    }

    fn on_session_open(&mut self, date: NaiveDate) -> Result<()> {
        // Each morning, IB's positions against the ledger's book: what IB booked overnight
        // (an early assignment, an expiry settled otherwise than booked) stops openings with
        // the contracts named, until a person has looked. Closing orders still go.
        self.now = self
            .now
            .max(date.and_time(volta_core::calendar::REGULAR_OPEN));
        let differences = self
            .trading_account()
            .and_then(|account| self.position_differences(&account));
        match differences {
            Ok(d) if d.is_empty() => {}
            Ok(d) => {
                self.breaker.trip(format!(
                    "IB's positions differ from the ledger's at the open of {date}: {}",
                    d.join("; ")
                ));
            }
            Err(e) => {
                self.breaker
                    .trip(format!("positions check at the open of {date} failed: {e}"));
            }
        }
        self.report_link();
        Ok(())
    }

    fn on_session_close(&mut self, date: NaiveDate, settlements: &Settlements) -> Result<()> {
        // IB cancels DAY orders; the close reconciles with IB so that the day's fills are in
        // the ledger before the backup, then books the options expiring today as OCC settles
        // them (IB shows the result in its positions the next morning).
        self.now = self.now.max(date.and_time(REGULAR_CLOSE));
        self.reconcile()?;
        self.settle_expiring(date, settlements)
    }

    fn marked(&self) -> MarkedAccount {
        self.account().marked(&self.positions(), &self.marks)
    }

    fn marks(&self) -> Marks {
        self.marks.clone()
    }
}
