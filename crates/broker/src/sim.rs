//! The simulated broker: fills against quotes, commissions, expiry, exercise and assignment.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use volta_core::order::{ComboOrder, Instrument};
use volta_core::{
    ChainSnapshot, ContractKey, Money, NyseCalendar, OptionContract, OptionRight, Price,
    SettlementType, Underlying,
};

use crate::commission::Commissions;
use crate::error::{BrokerError, Result};
use crate::fill::{FillModel, between};
use crate::interest::CashInterest;
use volta_core::broker::{
    Account, Book, Broker, BrokerEvent, CancelReason, EventKind, ExerciseFees, Fill, LegFill,
    Marks, OrderId, OrderRequest, OrderState, OrderStatus, OrderTag, PinWarning, Position,
    Settlements, StockOrder, TimeInForce,
};

/// A cash dividend: shareholders of record before `ex_date` receive `amount` per share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dividend {
    /// The stock or ETF.
    pub underlying: Underlying,
    /// The ex-dividend date (buyers on or after it do not receive the dividend).
    pub ex_date: NaiveDate,
    /// Dollars per share.
    pub amount: Price,
}

/// Early assignment of short American calls before ex-dividend dates.
///
/// At the close of the session before an ex-dividend date, a call holder who exercises gets
/// the shares (and the dividend) and gives up the option's remaining time value; it pays to do
/// so when that time value is below the dividend. The simulated broker applies this rule of
/// thumb to every **short** in-the-money (by ≥ $0.01 at the close) American physically settled
/// call on the underlying: time value = last mid − intrinsic at the close; if it is below the
/// dividend, the whole short position is assigned at the close ([`EventKind::Assigned`] with
/// `early = true`). Without a two-sided quote for the contract the time value is taken as zero
/// (assigned: the cautious assumption). Puts, long calls and cash-settled options are never
/// assigned early. The dividend itself is not booked: paying it to (or charging it against)
/// stock positions is the engine's corporate-action job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EarlyAssignment {
    /// Off by default.
    pub enabled: bool,
    /// The dividends to consider.
    pub dividends: Vec<Dividend>,
}

/// The simulated broker's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Cash at the start, in dollars.
    pub starting_cash: Money,
    /// The broker's clock at the start (exchange time); data stamped earlier is refused.
    pub start: NaiveDateTime,
    /// Where in the spread combos fill.
    pub fill_model: FillModel,
    /// Where in the spread open option positions are marked for equity, drawdown and the
    /// kill switch: 0 = the mid, 1 = the natural price (longs at the bid, shorts at the ask).
    /// Default 0.5: the price the default fill model would close them at, so equity is what
    /// the book could be closed for, not the optimistic mid.
    pub mark_spread_fraction: Decimal,
    /// Commissions and exercise/assignment fees.
    pub commissions: Commissions,
    /// Early assignment before ex-dividend dates (off by default).
    pub early_assignment: EarlyAssignment,
    /// Distance from the strike, in dollars, within which an expiring physically settled
    /// position is reported as pin risk (warning during the expiry session, `near_pin` in the
    /// settlement event). Default $0.50.
    pub pin_band: Decimal,
    /// Interest on idle cash ([`SimBroker::accrue_interest`]); `None` (the default) pays none.
    pub cash_interest: Option<CashInterest>,
}

impl SimConfig {
    /// The defaults: IB's fixed commissions, fills halfway from mid to the touch, no early
    /// assignment, a $0.50 pin band.
    #[must_use]
    pub fn new(starting_cash: Money, start: NaiveDateTime) -> Self {
        Self {
            starting_cash,
            start,
            fill_model: FillModel::default(),
            mark_spread_fraction: Decimal::new(5, 1),
            commissions: Commissions::default(),
            early_assignment: EarlyAssignment::default(),
            pin_band: Decimal::new(50, 2),
            cash_interest: None,
        }
    }
}

/// A deterministic simulated broker: no randomness, no wall clock, ids and event numbers
/// sequential from 1.
///
/// The engine drives it with market data and session closes:
/// - [`SimBroker::on_quotes`] tries to fill the working orders on the chain's underlying
///   against its bid/ask (see [`FillModel::combo_price`]): all or nothing, at the achievable
///   net price when it reaches the limit. An order fills only on data that arrives after it
///   was placed; an engine that trades at the quotes it decided on passes the same snapshot
///   again after placing.
/// - [`SimBroker::on_stock_price`] (and each chain's underlying price) fills stock market
///   orders, and stock limit orders whose limit is reached, at that price (no stock spread is
///   modelled).
/// - [`SimBroker::on_session_close`]: stock orders still working fill at the close; DAY orders
///   still working are cancelled ([`CancelReason::DayEnd`]), and GTC orders with an option leg
///   past its last trading day ([`CancelReason::ContractExpired`]); short calls may be assigned
///   early ([`EarlyAssignment`]); then every option position expiring on or before that date
///   settles:
///   - cash-settled (SPX AM at the session's open, SPXW PM at its close): intrinsic value ×
///     multiplier × quantity in cash, position removed ([`EventKind::CashSettled`], or
///     [`EventKind::Expired`] when out of the money);
///   - physically settled (SPY, QQQ, IWM): OCC's exercise by exception — in the money by
///     **$0.01 or more** at the close is exercised (long) or assigned (short): a long call
///     delivers +multiplier shares per contract at the strike, a short call −multiplier, a
///     long put −multiplier, a short put +multiplier; cash moves by ∓ strike × shares. Less
///     than $0.01 in the money expires worthless.
///
/// # Pin risk
/// A short option that closes within a few cents of its strike may or may not be assigned
/// (holders can instruct against exercise by exception until after the close, and the stock
/// can move after hours), leaving an unhedged stock position over the weekend. The simulator
/// applies exactly OCC's $0.01 threshold, deterministically, and does not guess at holders'
/// choices. Instead it tells the strategy: a [`EventKind::PinRisk`] warning on the first chain
/// of the expiry session that shows the underlying within [`SimConfig::pin_band`] of the
/// strike of an expiring physically settled position, and `near_pin` in the settlement event.
/// Closing such positions before the close is the strategy's decision.
///
/// # Last trading day
/// An option trades through its expiry date's session, except AM-settled ones (SPX monthlies)
/// whose last trading day is the session before. Orders on an option past its last trading
/// day are rejected.
#[derive(Debug, Clone)]
pub struct SimBroker {
    config: SimConfig,
    now: NaiveDateTime,
    next_order: u64,
    next_seq: u64,
    orders: BTreeMap<OrderId, OrderState>,
    open: BTreeSet<OrderId>,
    events: Vec<BrokerEvent>,
    book: Book,
    cash: Money,
    fees: Money,
    realised: Money,
    stock_prices: BTreeMap<Underlying, Price>,
    /// Last (bid, ask) seen for each option held: marks and early assignment.
    quotes: HashMap<ContractKey, (Option<Price>, Option<Price>)>,
    pin_warned: BTreeSet<(ContractKey, NaiveDate)>,
    last_close: Option<NaiveDate>,
    /// Interest credited so far.
    interest: Money,
    /// The close interest was last accrued at, and the idle cash then.
    accrued: Option<(NaiveDate, Money)>,
}

/// Dollars per cent, the tick every limit and fill is on.
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// 16:00, the regular close, when the calendar has no time.
const REGULAR_CLOSE: NaiveTime = match NaiveTime::from_hms_opt(16, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

impl SimBroker {
    /// A broker with `config`.
    ///
    /// # Errors
    /// [`BrokerError::InvalidConfig`] for negative commissions or a negative pin band.
    pub fn new(config: SimConfig) -> Result<Self> {
        config.commissions.validate()?;
        if config.mark_spread_fraction < Decimal::ZERO || config.mark_spread_fraction > Decimal::ONE
        {
            return Err(BrokerError::InvalidConfig {
                name: "mark_spread_fraction",
                value: config.mark_spread_fraction.to_string(),
                requirement: "between 0 (mid) and 1 (natural)",
            });
        }
        if config.pin_band < Decimal::ZERO {
            return Err(BrokerError::InvalidConfig {
                name: "pin_band",
                value: config.pin_band.to_string(),
                requirement: "non-negative",
            });
        }
        Ok(Self {
            now: config.start,
            cash: config.starting_cash,
            config,
            next_order: 1,
            next_seq: 1,
            orders: BTreeMap::new(),
            open: BTreeSet::new(),
            events: Vec::new(),
            book: Book::default(),
            fees: Money::ZERO,
            realised: Money::ZERO,
            stock_prices: BTreeMap::new(),
            quotes: HashMap::new(),
            pin_warned: BTreeSet::new(),
            last_close: None,
            interest: Money::ZERO,
            accrued: None,
        })
    }

    /// The settings.
    #[must_use]
    pub const fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The broker's clock: the latest data or session close seen, exchange time.
    #[must_use]
    pub const fn now(&self) -> NaiveDateTime {
        self.now
    }

    /// Interest credited on idle cash so far ([`SimBroker::accrue_interest`]).
    #[must_use]
    pub const fn interest_earned(&self) -> Money {
        self.interest
    }

    /// The close of session `date`: credits the interest that the idle cash of the last
    /// accrual earned from that close to this one at [`SimConfig::cash_interest`]
    /// ([`CashInterest::accrue`]: ACT/360, each calendar day earning on the balance at its end,
    /// as a bank's daily-balance method does — Friday's balance earns Saturday's and Sunday's),
    /// then notes the idle cash now: the cash above `reserved`, never below zero (a debit
    /// balance is not charged: the simulator lends nothing). Before the first accrual the
    /// idle cash is the starting cash, from the close of the session before `date`. Nothing
    /// without a schedule, or for a date not after the last accrual. Returns the amount
    /// credited.
    ///
    /// # Errors
    /// [`BrokerError::Core`] for a date outside the calendar.
    pub fn accrue_interest(&mut self, date: NaiveDate, reserved: Money) -> Result<Money> {
        let Some(schedule) = &self.config.cash_interest else {
            return Ok(Money::ZERO);
        };
        let (from, idle) = match self.accrued {
            Some(last) => last,
            None => (
                NyseCalendar.previous_session(date)?,
                self.config.starting_cash.max(Money::ZERO),
            ),
        };
        if date <= from {
            return Ok(Money::ZERO);
        }
        let amount = schedule.accrue(idle, from, date);
        self.cash += amount;
        self.interest += amount;
        self.accrued = Some((date, (self.cash - reserved).max(Money::ZERO)));
        Ok(amount)
    }

    /// The last price seen for an underlying's shares.
    #[must_use]
    pub fn stock_price(&self, underlying: &Underlying) -> Option<Price> {
        self.stock_prices.get(underlying).copied()
    }

    /// Marks for the positions held, from the last quotes seen: options (two-sided, not
    /// crossed) at [`SimConfig::mark_spread_fraction`] of the half-spread from the mid toward
    /// the price that closes them (the bid for a long, the ask for a short), shares at the
    /// last price. Use with [`Account::marked`].
    #[must_use]
    pub fn marks(&self) -> Marks {
        let mut marks = Marks::new();
        for (contract, quantity) in self.book.options() {
            let Some((Some(bid), Some(ask))) = self.quotes.get(contract.key()) else {
                continue;
            };
            // Closing a long sells it, closing a short buys it back.
            let closing = between(*bid, *ask, self.config.mark_spread_fraction, quantity < 0);
            if let Some(mark) = closing {
                marks.insert(&Instrument::Option(contract.clone()), mark);
            }
        }
        for (u, p) in &self.stock_prices {
            marks.insert(&Instrument::Stock(u.clone()), *p);
        }
        marks
    }

    /// The account marked at [`SimBroker::marks`].
    #[must_use]
    pub fn account_marked(&self) -> volta_core::broker::MarkedAccount {
        self.account().marked(&self.positions(), &self.marks())
    }

    /// A chain snapshot of one underlying: its price updates the stock price, then every
    /// working order on that underlying is tried against it, in id order.
    ///
    /// # Errors
    /// [`BrokerError::TimeWentBackwards`] if the snapshot is older than the broker's clock
    /// (nothing changes); [`BrokerError::Core`] on decimal overflow of an order's cash (beyond
    /// ±7.9e28 dollars), which stops the call after the fills before it.
    pub fn on_quotes(&mut self, chain: &ChainSnapshot) -> Result<()> {
        self.advance(chain.as_of())?;
        let underlying = chain.underlying();
        let price = chain.underlying_price();
        self.stock_prices.insert(underlying.clone(), price);
        let ids: Vec<OrderId> = self.open_on(underlying);
        for id in ids {
            self.try_fill(id, Some(chain), price)?;
        }
        // Remember the quotes of the options now held, and warn of pins on expiry day.
        let today = chain.as_of().date();
        let held: Vec<(OptionContract, i64)> = self
            .book
            .options()
            .filter(|(c, _)| c.underlying() == underlying)
            .map(|(c, q)| (c.clone(), q))
            .collect();
        for (contract, quantity) in held {
            if let Some(q) = chain.get(contract.key()) {
                self.quotes.insert(contract.key().clone(), (q.bid, q.ask));
            }
            let distance = (price.value() - contract.strike().value()).abs();
            if contract.expiry() == today
                && contract.settlement() == SettlementType::Physical
                && distance <= self.config.pin_band
                && self.pin_warned.insert((contract.key().clone(), today))
            {
                self.emit(EventKind::PinRisk(PinWarning {
                    contract,
                    quantity,
                    underlying_price: price,
                    distance,
                }));
            }
        }
        Ok(())
    }

    /// A price for an underlying's shares at `at`: fills its stock orders (market, and limit
    /// orders whose limit is reached) at that price.
    ///
    /// # Errors
    /// [`BrokerError::TimeWentBackwards`] if `at` is before the broker's clock.
    pub fn on_stock_price(
        &mut self,
        underlying: &Underlying,
        price: Price,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.advance(at)?;
        self.stock_prices.insert(underlying.clone(), price);
        for id in self.open_on(underlying) {
            self.try_fill(id, None, price)?;
        }
        Ok(())
    }

    /// The close of session `date` (see the type's docs for the order of what happens).
    /// Needs settlement prices for every underlying with an option position expiring on or
    /// before `date` (and, with early assignment on, for underlyings whose short calls may be
    /// assigned). The clock moves to the session's close (13:00 on early-close days).
    ///
    /// # Errors
    /// [`BrokerError::NotASession`], [`BrokerError::TimeWentBackwards`],
    /// [`BrokerError::MissingSettlement`]: checked first, and nothing changes.
    pub fn on_session_close(&mut self, date: NaiveDate, settlements: &Settlements) -> Result<()> {
        if !NyseCalendar.is_session(date)? {
            return Err(BrokerError::NotASession { date });
        }
        let close_time = date.and_time(NyseCalendar.session_close(date)?.unwrap_or(REGULAR_CLOSE));
        if close_time < self.now {
            return Err(BrokerError::TimeWentBackwards {
                now: self.now,
                at: close_time,
            });
        }
        let expiring: Vec<(OptionContract, i64)> = self
            .book
            .options()
            .filter(|(c, _)| c.settlement_date() <= date)
            .map(|(c, q)| (c.clone(), q))
            .collect();
        let needs = |u: &Underlying| {
            settlements
                .get(u)
                .ok_or_else(|| BrokerError::MissingSettlement {
                    underlying: u.clone(),
                    date,
                })
        };
        for (c, _) in &expiring {
            needs(c.underlying())?;
        }
        let early = self.early_assignments(date, settlements)?;

        // Checks passed: from here on every step applies.
        self.now = close_time;
        for (u, p) in settlements.iter() {
            self.stock_prices.insert(u.clone(), p.close);
        }
        let stock_orders: Vec<(OrderId, Price)> = self
            .open
            .iter()
            .filter_map(|id| {
                let state = self.orders.get(id)?;
                let close = settlements.get(state.request.underlying())?.close;
                is_stock_order(&state.request).then_some((*id, close))
            })
            .collect();
        for (id, close) in stock_orders {
            self.try_fill(id, None, close)?;
        }
        let last_close = Some(date);
        let ending: Vec<(OrderId, CancelReason)> = self
            .open
            .iter()
            .filter_map(|id| {
                let state = self.orders.get(id)?;
                if state.tif == TimeInForce::Day {
                    Some((*id, CancelReason::DayEnd))
                } else if !tradable(&state.request, date) {
                    Some((*id, CancelReason::ContractExpired))
                } else {
                    None
                }
            })
            .collect();
        for (id, reason) in ending {
            self.end_cancelled(id, reason);
        }
        for (contract, quantity, close) in early {
            self.settle(&contract, quantity, close, true);
        }
        for (contract, quantity) in expiring {
            // Checked above: every expiring underlying has prices.
            let Some(prices) = settlements.get(contract.underlying()) else {
                continue;
            };
            let price = prices.settlement_value(contract.settlement_time());
            self.settle(&contract, quantity, price, false);
        }
        self.pin_warned.retain(|(_, d)| *d > date);
        self.last_close = last_close;
        Ok(())
    }

    /// The short calls to assign early at the close of `date`, with the close used.
    fn early_assignments(
        &self,
        date: NaiveDate,
        settlements: &Settlements,
    ) -> Result<Vec<(OptionContract, i64, Price)>> {
        let policy = &self.config.early_assignment;
        if !policy.enabled || policy.dividends.is_empty() {
            return Ok(Vec::new());
        }
        let next = NyseCalendar.next_session(date)?;
        let mut chosen: BTreeMap<ContractKey, (OptionContract, i64, Price)> = BTreeMap::new();
        for div in &policy.dividends {
            if !(date < div.ex_date && div.ex_date <= next) {
                continue;
            }
            for (c, q) in self.book.options() {
                let candidate = q < 0
                    && c.underlying() == &div.underlying
                    && c.right() == OptionRight::Call
                    && c.exercise_style() == volta_core::ExerciseStyle::American
                    && c.settlement() == SettlementType::Physical
                    && c.expiry() > date;
                if !candidate {
                    continue;
                }
                let close = settlements
                    .get(c.underlying())
                    .ok_or_else(|| BrokerError::MissingSettlement {
                        underlying: c.underlying().clone(),
                        date,
                    })?
                    .close;
                let intrinsic = close.value() - c.strike().value();
                if intrinsic < CENT {
                    continue;
                }
                let time_value = self
                    .quotes
                    .get(c.key())
                    .and_then(|(b, a)| match (b, a) {
                        (Some(b), Some(a)) if a >= b => {
                            Some((b.value() + a.value()) / Decimal::TWO - intrinsic)
                        }
                        _ => None,
                    })
                    .unwrap_or(Decimal::ZERO);
                if time_value < div.amount.value() {
                    chosen.insert(c.key().clone(), (c.clone(), q, close));
                }
            }
        }
        Ok(chosen.into_values().collect())
    }

    /// Removes an option position at settlement price `price` and books the cash, stock and
    /// fees.
    fn settle(&mut self, contract: &OptionContract, quantity: i64, price: Price, early: bool) {
        let fees = ExerciseFees {
            exercise: self.config.commissions.exercise_fee,
            assignment: self.config.commissions.assignment_fee,
        };
        let settled = self.book.settle_option(
            contract,
            quantity,
            price,
            fees,
            (self.config.pin_band, early),
        );
        self.quotes.remove(contract.key());
        self.realised += settled.realised;
        self.cash += settled.cash;
        self.fees += settled.fee;
        self.emit(settled.kind);
    }

    fn emit(&mut self, kind: EventKind) {
        self.events.push(BrokerEvent {
            seq: self.next_seq,
            at: self.now,
            kind,
        });
        self.next_seq += 1;
    }

    fn advance(&mut self, at: NaiveDateTime) -> Result<()> {
        if at < self.now {
            return Err(BrokerError::TimeWentBackwards { now: self.now, at });
        }
        self.now = at;
        Ok(())
    }

    /// Working orders on one underlying, by id.
    fn open_on(&self, underlying: &Underlying) -> Vec<OrderId> {
        self.open
            .iter()
            .filter(|id| {
                self.orders
                    .get(id)
                    .is_some_and(|s| s.request.underlying() == underlying)
            })
            .copied()
            .collect()
    }

    fn record(
        &mut self,
        request: OrderRequest,
        tag: OrderTag,
        tif: TimeInForce,
        rejection: Option<String>,
    ) -> OrderId {
        let id = OrderId::new(self.next_order);
        self.next_order += 1;
        self.orders.insert(
            id,
            OrderState::submitted(id, request.clone(), tag.clone(), tif, self.now),
        );
        self.emit(EventKind::Submitted {
            order: id,
            request,
            tag,
            tif,
        });
        match rejection {
            Some(reason) => {
                if let Some(state) = self.orders.get_mut(&id) {
                    state.status = OrderStatus::Rejected(reason.clone());
                }
                self.emit(EventKind::Rejected { order: id, reason });
            }
            None => {
                self.open.insert(id);
            }
        }
        id
    }

    /// Why a combo cannot be worked now, if it cannot.
    fn combo_rejection(&self, order: &ComboOrder) -> Option<String> {
        if !order.limit_on_grid() {
            let root = order.grid_root().unwrap_or("stock");
            let step = volta_core::tick::increment(root, order.is_complex(), order.limit());
            let kind = if order.is_complex() {
                "complex"
            } else {
                "single-leg"
            };
            return Some(format!(
                "limit {} is off the {root} {kind} price grid (multiples of {step})",
                order.limit()
            ));
        }
        for leg in order.legs() {
            if let Instrument::Option(c) = &leg.instrument {
                let ltd = c.last_trading_day();
                if self.now.date() > ltd || self.last_close.is_some_and(|d| d >= ltd) {
                    return Some(format!("{} is past its last trading day {ltd}", c.key()));
                }
            }
        }
        None
    }

    fn end_cancelled(&mut self, id: OrderId, reason: CancelReason) {
        if let Some(state) = self.orders.get_mut(&id) {
            state.status = OrderStatus::Cancelled(reason);
        }
        self.open.remove(&id);
        self.emit(EventKind::Cancelled { order: id, reason });
    }

    /// Tries to fill working order `id` against `chain` (option combos) or `stock_price`
    /// (stock orders).
    fn try_fill(
        &mut self,
        id: OrderId,
        chain: Option<&ChainSnapshot>,
        stock_price: Price,
    ) -> Result<()> {
        let Some(state) = self.orders.get(&id) else {
            return Ok(());
        };
        let commissions = &self.config.commissions;
        let (net, quantity, legs, cash, commission) = match &state.request {
            OrderRequest::StockMarket(s) => {
                let shares = s.side.sign() * i64::from(s.quantity);
                let leg = LegFill {
                    instrument: Instrument::Stock(s.underlying.clone()),
                    quantity: shares,
                    price: stock_price,
                };
                (
                    stock_price.value(),
                    s.quantity,
                    vec![leg],
                    Money::new(-stock_price.value() * Decimal::from(shares)),
                    commissions.stock_order(u64::from(s.quantity), stock_price),
                )
            }
            OrderRequest::Combo(order) if is_stock_order(&state.request) => {
                let net = order.net_price(&[stock_price])?;
                if !order.limit_reached(net) {
                    return Ok(());
                }
                let (instrument, shares) = order
                    .position_changes()
                    .into_iter()
                    .map(|(i, q)| (i.clone(), q))
                    .next()
                    .unwrap_or((Instrument::Stock(order.underlying().clone()), 0));
                let leg = LegFill {
                    instrument,
                    quantity: shares,
                    price: stock_price,
                };
                (
                    net,
                    order.quantity(),
                    vec![leg],
                    order.cash_flow(net)?,
                    commissions.stock_order(shares.unsigned_abs(), stock_price),
                )
            }
            OrderRequest::Combo(order) => {
                let Some(chain) = chain else {
                    return Ok(());
                };
                let model = &self.config.fill_model;
                let Some(price) = model.combo_price(order, chain)? else {
                    return Ok(());
                };
                if !order.limit_reached(price.net) || !model.fills(order, chain, id.get())? {
                    return Ok(());
                }
                let legs: Vec<LegFill> = order
                    .position_changes()
                    .into_iter()
                    .zip(&price.legs)
                    .map(|((instrument, quantity), p)| LegFill {
                        instrument: instrument.clone(),
                        quantity,
                        price: *p,
                    })
                    .collect();
                let fees = commissions.option_order(&legs, self.now.date())?;
                (
                    price.net,
                    order.quantity(),
                    legs,
                    order.cash_flow(price.net)?,
                    fees,
                )
            }
        };
        let fill = Fill {
            order: id,
            at: self.now,
            net_price: net,
            quantity,
            legs,
            cash,
            commission,
        };
        for leg in &fill.legs {
            self.realised += self.book.trade(&leg.instrument, leg.quantity, leg.price);
        }
        self.cash += fill.cash - fill.commission;
        self.fees += fill.commission;
        if let Some(state) = self.orders.get_mut(&id) {
            state.status = OrderStatus::Filled;
            state.fill = Some(fill.clone());
        }
        self.open.remove(&id);
        self.emit(EventKind::Filled(fill));
        Ok(())
    }

    fn working(&self, id: OrderId) -> Result<&OrderState> {
        let state = self
            .orders
            .get(&id)
            .ok_or(BrokerError::UnknownOrder { id })?;
        if state.status.is_terminal() {
            return Err(BrokerError::OrderNotOpen {
                id,
                status: state.status.clone(),
            });
        }
        Ok(state)
    }
}

/// Whether an order trades shares (a market order, or a combo whose one leg is stock).
fn is_stock_order(request: &OrderRequest) -> bool {
    match request {
        OrderRequest::StockMarket(_) => true,
        OrderRequest::Combo(c) => c
            .legs()
            .iter()
            .all(|l| matches!(l.instrument, Instrument::Stock(_))),
    }
}

/// Whether every option leg of `request` still trades after the close of `date`.
fn tradable(request: &OrderRequest, date: NaiveDate) -> bool {
    match request {
        OrderRequest::StockMarket(_) => true,
        OrderRequest::Combo(c) => c.legs().iter().all(|l| match &l.instrument {
            Instrument::Option(o) => o.last_trading_day() > date,
            Instrument::Stock(_) => true,
        }),
    }
}

impl Broker for SimBroker {
    type Error = BrokerError;

    fn place_with(
        &mut self,
        order: ComboOrder,
        tag: OrderTag,
        tif: TimeInForce,
    ) -> Result<OrderId> {
        let rejection = self.combo_rejection(&order);
        Ok(self.record(OrderRequest::Combo(order), tag, tif, rejection))
    }

    fn place_stock(&mut self, order: StockOrder, tag: OrderTag) -> Result<OrderId> {
        let rejection = (order.quantity == 0).then(|| "quantity 0".to_owned());
        Ok(self.record(
            OrderRequest::StockMarket(order),
            tag,
            TimeInForce::Day,
            rejection,
        ))
    }

    fn modify(&mut self, id: OrderId, new_limit: Decimal) -> Result<()> {
        let state = self.working(id)?;
        let OrderRequest::Combo(order) = &state.request else {
            return Err(BrokerError::NotModifiable {
                id,
                reason: "a market order has no limit",
            });
        };
        if !order.with_limit(new_limit).limit_on_grid() {
            return Err(BrokerError::InvalidLimit {
                id,
                limit: new_limit,
                reason: "off the exchange's price grid for the contract",
            });
        }
        let old_limit = order.limit();
        let modified = order.with_limit(new_limit);
        let new_limit = modified.limit();
        if let Some(state) = self.orders.get_mut(&id) {
            state.request = OrderRequest::Combo(modified);
            state.modifications += 1;
        }
        self.emit(EventKind::Modified {
            order: id,
            old_limit,
            new_limit,
        });
        Ok(())
    }

    fn cancel(&mut self, id: OrderId) -> Result<()> {
        self.working(id)?;
        self.end_cancelled(id, CancelReason::Requested);
        Ok(())
    }

    fn poll_events(&mut self) -> Vec<BrokerEvent> {
        std::mem::take(&mut self.events)
    }

    fn order(&self, id: OrderId) -> Option<OrderState> {
        self.orders.get(&id).cloned()
    }

    fn open_orders(&self) -> Vec<OrderState> {
        self.open
            .iter()
            .filter_map(|id| self.orders.get(id).cloned())
            .collect()
    }

    fn positions(&self) -> Vec<Position> {
        self.book.iter().cloned().collect()
    }

    fn account(&self) -> Account {
        Account {
            starting_cash: self.config.starting_cash,
            cash: self.cash,
            fees_paid: self.fees,
            realised_pnl: self.realised,
        }
    }
}
