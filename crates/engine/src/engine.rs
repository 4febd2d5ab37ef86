//! The event loop: one session at a time, the same for a backtest and for live trading (only
//! the clock, the feed, the venue and the journal's store change).
//!
//! # A session
//! 1. **Open** (09:30): each underlying's opening price goes to the venue, which fills the
//!    stock orders left from yesterday (flattening shares an assignment delivered).
//! 2. **Decision** (the chain snapshot, before the close): the chains go to the venue (marks);
//!    equity is marked and checked by the kill switch; the strategies see a [`MarketView`] built
//!    from the snapshot, the signals of the previous close and the open positions. Exits first
//!    (the strategy's rules, or every position when the kill switch has fired), then openings
//!    through the risk manager. The orders are placed and the same snapshot is passed again,
//!    so they fill at the quotes they were decided on or not at all. The orders, fills and
//!    positions are written to the journal at once.
//! 3. **Close**: the closing prices go to the venue, then the session close: DAY orders still
//!    working are cancelled, options expiring today settle (cash, or exercise and assignment
//!    into stock, which is flattened at the next open); the venue credits interest on the idle
//!    cash (above the positions' collateral, [`Engine::collateral`]). Equity is marked at the
//!    close, the kill switch checked again, the book reconciled with the broker's positions,
//!    and the rest of the session's records (status changes, settlements, signals, the equity
//!    point) written.
//!
//! Every broker event is handled exactly once, in order; a fill the engine cannot place in its
//! book, or a book that disagrees with the broker's positions, stops the run
//! ([`EngineError::Reconciliation`]) rather than trade on a wrong book.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDateTime;
use rust_decimal::prelude::ToPrimitive;
use volta_broker::{EventKind, Fill, Marks, OrderId, OrderRequest, OrderTag, StockOrder, Venue};
use volta_core::order::{ComboOrder, ComboSide, DollarGreeks, Instrument};
use volta_core::{
    ChainSnapshot, Money, PositionId, QualityPolicy, RatesAndYield, Regime, Underlying,
};
use volta_data::store::{
    EquityPoint, FillRecord, JournalStore, OrderRecord, PositionRecord, Side, SignalRecord,
};
use volta_risk::{Decision, KillSwitchEvent, OpenRisk, Portfolio, RejectReason, RiskManager};
use volta_strategy::manage::ExitReason;
use volta_strategy::select::GateCounts;
use volta_strategy::structures::Pricing;
use volta_strategy::{Intent, MarketView, OpenPosition, Proposal, Strategy, UnderlyingView};

use crate::book::{Book, TrackedPosition};
use crate::clock::{Clock, StopSignal};
use crate::error::{EngineError, Result};
use crate::events::{
    EngineEvent, Observer, Observers, OrderEnd, OrderPurpose, PositionView, SettlementKind,
};
use crate::feed::{Feed, Session};
use crate::journal::Journal;
use crate::metrics::{EquitySample, TradeRecord};
use crate::signals::Signals;

/// The engine's own settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// The chain quality gate applied before strategies see a chain.
    pub quality: QualityPolicy,
    /// Rate and dividend yield for implied vols and deltas.
    pub rates: RatesAndYield,
    /// Units asked of the risk manager for each opening (strategies propose one unit; the
    /// risk manager sizes it down to what its limits allow).
    pub max_units_per_trade: u32,
    /// Whether the cash the open positions hold as collateral earns the venue's interest too
    /// (as Treasury bills posted as collateral do, and as Cboe's PUT index assumes), or only
    /// the cash above it (the default). See [`Engine::collateral`].
    pub collateral_earns_interest: bool,
}

impl Default for EngineConfig {
    /// The default gate; 2 % rate, 1.5 % dividend yield; up to 1 000 units a trade.
    fn default() -> Self {
        Self {
            quality: QualityPolicy::default(),
            rates: RatesAndYield::try_new(0.02, 0.015).expect("2 % and 1.5 % are in range"),
            max_units_per_trade: 1_000,
            collateral_earns_interest: false,
        }
    }
}

/// What an order is for.
#[derive(Debug, Clone)]
enum Role {
    /// Opens a position: the approved proposal and its risk figures.
    Open {
        proposal: Box<Proposal>,
        regime: Option<Regime>,
        max_loss: Money,
        greeks: DollarGreeks,
    },
    /// Closes a position.
    Close(ExitReason),
    /// Flattens the stock an assignment delivered to a position.
    Flatten,
}

impl Role {
    const fn purpose(&self) -> OrderPurpose {
        match self {
            Self::Open { .. } => OrderPurpose::Open,
            Self::Close(_) => OrderPurpose::Close,
            Self::Flatten => OrderPurpose::Flatten,
        }
    }
}

#[derive(Debug, Clone)]
struct Working {
    position_id: PositionId,
    role: Role,
    /// The journal's id of the order.
    order_id: String,
}

/// What a finished run leaves: the equity curve, the trades, the counts, and the journal's
/// store.
#[derive(Debug)]
pub struct RunOutput<S> {
    /// Equity at each session's close.
    pub equity: Vec<EquitySample>,
    /// Every position as a trade, in opening order (open ones marked at the last quotes).
    pub trades: Vec<TradeRecord>,
    /// Commissions and fees paid, dollars.
    pub fees_paid: f64,
    /// Orders placed.
    pub orders: usize,
    /// Orders filled.
    pub fills: usize,
    /// Risk rejections by reason, sorted.
    pub rejections: Vec<(String, usize)>,
    /// The kill switch firing, described, if it fired.
    pub kill_switch: Option<String>,
    /// When the kill switch fired.
    pub halted_at: Option<NaiveDateTime>,
    /// What the quality gate kept out, over the run.
    pub gate: GateCounts,
    /// Interest the venue credited on idle cash over the run, dollars.
    pub interest_earned: f64,
    /// Buying power the open positions used at each equity sample's close (the sum of their
    /// worst losses, [`Engine::collateral`]), dollars; one per sample of `equity`.
    pub buying_power: Vec<f64>,
    /// The journal's store, flushed.
    pub store: S,
}

/// A second account stepped through the same sessions as an engine's run, beside it
/// ([`Engine::run_beside`]): the backtest's yardsticks, which trade the very chains, fills
/// and fees the strategies do without a second pass over the data.
pub trait Companion {
    /// The option contracts it holds: the feed keeps quoting them, as it does the engine's.
    fn held(&self) -> Vec<volta_core::ContractKey>;

    /// Runs one session, after the engine has.
    ///
    /// # Errors
    /// Whatever stops it; the run stops too.
    fn step(&mut self, session: &Session) -> Result<()>;
}

impl<C: Clock, V: Venue, S: JournalStore> Companion for Engine<C, V, S> {
    fn held(&self) -> Vec<volta_core::ContractKey> {
        self.book.held_contracts()
    }

    fn step(&mut self, session: &Session) -> Result<()> {
        if self.equity.is_empty() {
            self.start_equity(session.date)?;
        }
        Self::step(self, session)
    }
}

/// The engine. See the module docs for what a session does.
#[derive(Debug)]
pub struct Engine<C: Clock, V: Venue, S: JournalStore> {
    config: EngineConfig,
    clock: C,
    venue: V,
    strategy: Box<dyn Strategy>,
    risk: RiskManager,
    signals: Signals,
    journal: Journal<S>,
    observers: Observers,
    book: Book,
    working: BTreeMap<OrderId, Working>,
    next_position: u64,
    equity: Vec<EquitySample>,
    /// Buying power used at each equity sample.
    buying_power: Vec<f64>,
    /// Interest credited by the venue so far.
    interest: Money,
    kill_switch: Option<String>,
    fills: usize,
    gate: GateCounts,
    /// A person's halt (and flatten), shared with whoever asks for it.
    control: StopSignal,
    /// The halt already reported: (openings halted, flattening).
    halt_reported: (bool, bool),
    /// Where the open positions are kept at every close, for a restart to carry them on.
    book_file: Option<std::path::PathBuf>,
}

impl<C: Clock, V: Venue, S: JournalStore> Engine<C, V, S> {
    /// An engine over its parts. The journal has recorded the run already.
    #[must_use]
    pub fn new(
        config: EngineConfig,
        clock: C,
        venue: V,
        strategy: Box<dyn Strategy>,
        risk: RiskManager,
        signals: Signals,
        journal: Journal<S>,
    ) -> Self {
        Self {
            config,
            clock,
            venue,
            strategy,
            risk,
            signals,
            journal,
            observers: Observers::default(),
            book: Book::default(),
            working: BTreeMap::new(),
            next_position: 0,
            equity: Vec::new(),
            buying_power: Vec::new(),
            interest: Money::ZERO,
            kill_switch: None,
            fills: 0,
            gate: GateCounts::default(),
            control: StopSignal::new(),
            halt_reported: (false, false),
            book_file: None,
        }
    }

    /// Obeys `control`'s halt and flatten requests ([`StopSignal::halt_openings`],
    /// [`StopSignal::flatten`]) at each decision from now on. (Its stop is the caller's to
    /// honour between sessions, as [`Engine::run_while`]'s `keep_going`.)
    pub fn obey(&mut self, control: StopSignal) {
        self.control = control;
    }

    /// Keeps the open positions in `path` (JSON, replaced atomically) at every session's close,
    /// after the book has reconciled with the venue. A live trader restarted on the same
    /// venue carries them on with [`Engine::resume`].
    pub fn keep_book(&mut self, path: impl Into<std::path::PathBuf>) {
        self.book_file = Some(path.into());
    }

    /// Carries on the positions an earlier run of this trader kept (see [`Engine::keep_book`]):
    /// the strategies manage them and the risk manager counts them as if this run had opened
    /// them. Without a file, the venue must hold nothing. Either way the book must then agree
    /// with the venue's positions (a fill or a settlement after the file was written, while
    /// the trader was down, cannot be attributed to a position: the run refuses to start and
    /// says what differs). Returns the number of positions carried on.
    ///
    /// # Errors
    /// [`EngineError::Reconciliation`] when book and venue disagree;
    /// [`EngineError::MissingData`] for a file that cannot be read or parsed.
    pub fn resume(&mut self, path: &std::path::Path, date: chrono::NaiveDate) -> Result<usize> {
        let unreadable = |reason: String| EngineError::MissingData {
            what: format!("the book kept in {}", path.display()),
            reason,
        };
        let carried = match std::fs::read_to_string(path) {
            Ok(text) => {
                let doc: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
                let (positions, next) = crate::book::restore(&doc).map_err(unreadable)?;
                self.next_position = self.next_position.max(next);
                positions
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(unreadable(e.to_string())),
        };
        let count = carried.len();
        for position in carried {
            let id = position.id().clone();
            self.book.carry(position);
            self.journal_position(&id)?;
        }
        self.reconcile_on(date).map_err(|e| match e {
            EngineError::Reconciliation { date, detail } => EngineError::Reconciliation {
                date,
                detail: format!(
                    "{detail}(the positions carried on from {} are not what the venue holds: \
                     settle the difference at the broker, or move the file away to start flat \
                     once the venue holds nothing)",
                    path.display()
                ),
            },
            other => other,
        })?;
        Ok(count)
    }

    fn write_book(&self) -> Result<()> {
        let Some(path) = &self.book_file else {
            return Ok(());
        };
        let fail = |e: std::io::Error| EngineError::Observer {
            observer: "book file",
            reason: format!("{}: {e}", path.display()),
        };
        let doc = crate::book::snapshot(&self.book, self.next_position);
        let tmp = path.with_extension("tmp");
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(fail)?;
        }
        {
            let mut file = std::fs::File::create(&tmp).map_err(fail)?;
            std::io::Write::write_all(&mut file, doc.to_string().as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
        }
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// Adds an observer of the engine's events ([`crate::events`]); it sees every event from
    /// now on, after the journal.
    pub fn observe(&mut self, observer: Box<dyn Observer + Send>) {
        self.observers.push(observer);
    }

    /// The positions so far.
    #[must_use]
    pub const fn book(&self) -> &Book {
        &self.book
    }

    /// The venue.
    #[must_use]
    pub const fn venue(&self) -> &V {
        &self.venue
    }

    /// The risk manager.
    #[must_use]
    pub const fn risk(&self) -> &RiskManager {
        &self.risk
    }

    /// The equity curve so far.
    #[must_use]
    pub fn equity(&self) -> &[EquitySample] {
        &self.equity
    }

    /// Runs every session of `feed`, calling `progress(done, total)` after each.
    ///
    /// # Errors
    /// The first error of a session (see [`Engine::step`]); the journal keeps every session
    /// before it.
    pub fn run(
        &mut self,
        feed: &mut dyn Feed,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        self.run_while(feed, progress, &mut || true)
    }

    /// As [`Engine::run`], asking `keep_going` before each session: a paper or live run stops
    /// between sessions when it answers `false` (a stop asked for), with every session before
    /// it complete in the journal.
    ///
    /// # Errors
    /// As [`Engine::run`].
    pub fn run_while(
        &mut self,
        feed: &mut dyn Feed,
        progress: &mut dyn FnMut(usize, usize),
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<()> {
        self.run_beside(feed, progress, keep_going, &mut [])
    }

    /// As [`Engine::run_while`], stepping `companions` through each session after the engine
    /// (the feed keeps quoting what any of them holds).
    ///
    /// # Errors
    /// As [`Engine::run`], and the first error of a companion.
    pub fn run_beside(
        &mut self,
        feed: &mut dyn Feed,
        progress: &mut dyn FnMut(usize, usize),
        keep_going: &mut dyn FnMut() -> bool,
        companions: &mut [&mut dyn Companion],
    ) -> Result<()> {
        let total = feed.remaining();
        let mut done = 0;
        while keep_going() {
            let mut held = self.book.held_contracts();
            if !companions.is_empty() {
                held.extend(companions.iter().flat_map(|c| c.held()));
                held.sort();
                held.dedup();
            }
            let Some(session) = feed.next_session(&held)? else {
                break;
            };
            if self.equity.is_empty() {
                self.start_equity(session.date)?;
            }
            if let Some(signals) = feed.signals_before(session.date)? {
                self.signals = signals;
            }
            self.step_on(&session, feed)?;
            for companion in companions.iter_mut() {
                companion.step(&session)?;
            }
            done += 1;
            progress(done, total);
        }
        Ok(())
    }

    /// Runs one session (module docs).
    ///
    /// # Errors
    /// Data out of order ([`EngineError::ClockWentBack`]), a broker, strategy or risk error,
    /// a book that disagrees with the broker ([`EngineError::Reconciliation`]), or a journal
    /// write that failed.
    pub fn step(&mut self, session: &Session) -> Result<()> {
        self.step_on(session, &mut crate::feed::ReplayFeed::default())
    }

    /// [`Engine::step`], asking `feed` for the closing prices once the clock is at the close.
    fn step_on(&mut self, session: &Session, feed: &mut dyn Feed) -> Result<()> {
        self.clock.advance_to(session.open_at)?;
        self.venue
            .on_session_open(session.date)
            .map_err(EngineError::venue)?;
        self.emit(&EngineEvent::SessionStarted {
            date: session.date,
            at: session.open_at,
        })?;
        for (u, p) in &session.prices {
            self.venue
                .on_stock_price(u, p.open, session.open_at)
                .map_err(EngineError::venue)?;
        }
        self.drain_events()?;

        let held = self.book.held_contracts();
        let mut checks = 0;
        while let Some(check) = feed.next_check(session, &held, checks)? {
            checks += 1;
            if let Some(what) = check.gap {
                let at = self.clock.now();
                self.emit(&EngineEvent::DataGap { at, what })?;
                continue;
            }
            self.look(session.date, &check.chains, check.openings)?;
        }

        self.clock.advance_to(session.close_at)?;
        let closing = feed.closing_prices(session)?;
        for (u, p) in &closing {
            self.venue
                .on_stock_price(u, p.close, session.close_at)
                .map_err(EngineError::venue)?;
        }
        self.venue
            .on_session_close(session.date, &crate::feed::settlements(&closing))
            .map_err(EngineError::venue)?;
        self.drain_events()?;
        let (used, reserved) = self.collateral();
        self.interest += self
            .venue
            .accrue_interest(session.date, reserved)
            .map_err(EngineError::venue)?;
        self.buying_power.push(used.to_f64());
        let marked = self.venue.marked();
        self.check_equity(session.close_at, marked.equity)?;
        self.equity.push(EquitySample {
            date: session.date,
            cash: marked.cash.to_f64(),
            equity: marked.equity.to_f64(),
            open_positions: self.book.open_positions().count(),
        });
        let run_id = self.journal.run_id().to_owned();
        self.emit(&EngineEvent::Equity {
            point: EquityPoint {
                run_id,
                at: session.close_at,
                cash: marked.cash,
                equity: marked.equity,
            },
            open_positions: self.book.open_positions().count(),
        })?;
        self.emit_book(session.close_at, marked.equity)?;
        self.reconcile_on(session.date)?;
        self.write_book()?;
        self.emit(&EngineEvent::SessionClosed {
            date: session.date,
            at: session.close_at,
        })
    }

    /// The buying power the open positions use — the sum of their worst losses as the risk
    /// manager sized them — and the cash they hold as collateral, on which no interest is
    /// paid: each one's worst loss plus the cash it has taken in so far (a credit received is
    /// held against the worst case; a debit paid has left the cash already), never below zero;
    /// nothing when [`EngineConfig::collateral_earns_interest`].
    #[must_use]
    pub fn collateral(&self) -> (Money, Money) {
        let mut used = Money::ZERO;
        let mut reserved = Money::ZERO;
        for p in self.book.open_positions() {
            used += p.max_loss;
            reserved += (p.max_loss + p.cash).max(Money::ZERO);
        }
        if self.config.collateral_earns_interest {
            reserved = Money::ZERO;
        }
        (used, reserved)
    }

    /// The open positions, marked, with the risk manager's greek bands at `equity`.
    fn emit_book(&mut self, at: NaiveDateTime, equity: Money) -> Result<()> {
        let marks = self.venue.marks();
        let positions = self
            .book
            .open_positions()
            .map(|p| {
                let trade = p.trade(&marks);
                PositionView {
                    position_id: p.id().clone(),
                    strategy: p.position.strategy.clone(),
                    underlying: p.position.underlying().clone(),
                    structure: trade.structure,
                    quantity: trade.quantity,
                    opened_at: p.opened_at,
                    entry_price: trade.entry_price,
                    pnl: trade.pnl,
                    max_loss: p.max_loss,
                    greeks: p.greeks,
                }
            })
            .collect();
        let limits = self.risk.config();
        let equity = equity.to_f64();
        self.emit(&EngineEvent::Book {
            at,
            positions,
            dollar_delta_band: limits.max_dollar_delta * equity,
            vega_band: limits.max_vega_per_point * equity,
        })
    }

    /// Hands `event` to the journal, then to every observer.
    fn emit(&mut self, event: &EngineEvent) -> Result<()> {
        self.journal.on_event(event)?;
        self.observers.emit(event)
    }

    /// Flushes the journal and returns what the run produced; open positions are marked at the
    /// venue's last marks.
    ///
    /// # Errors
    /// The journal's, if the last write fails.
    pub fn finish(self, marks: &Marks) -> Result<RunOutput<S>> {
        let trades = self.book.all().map(|p| p.trade(marks)).collect();
        let mut rejections: BTreeMap<String, usize> = BTreeMap::new();
        for r in self.risk.rejections() {
            *rejections.entry(reject_key(&r.reason)).or_insert(0) += 1;
        }
        let halted_at = self.risk.halted_since();
        let fees_paid = self.venue.account().fees_paid.to_f64();
        let orders = self.journal.orders().len();
        let interest_earned = self.interest.to_f64();
        Ok(RunOutput {
            equity: self.equity,
            trades,
            fees_paid,
            orders,
            fills: self.fills,
            rejections: rejections.into_iter().collect(),
            kill_switch: self.kill_switch,
            halted_at,
            gate: self.gate,
            interest_earned,
            buying_power: self.buying_power,
            store: self.journal.finish()?,
        })
    }

    /// The equity curve starts at the close of the session before the first one: the starting
    /// cash, before any trade or fee.
    fn start_equity(&mut self, first: chrono::NaiveDate) -> Result<()> {
        let marked = self.venue.marked();
        let date = volta_core::NyseCalendar.previous_session(first)?;
        self.equity.push(EquitySample {
            date,
            cash: marked.cash.to_f64(),
            equity: marked.equity.to_f64(),
            open_positions: 0,
        });
        self.buying_power.push(0.0);
        Ok(())
    }

    fn check_equity(&mut self, at: NaiveDateTime, equity: Money) -> Result<()> {
        if let Some(KillSwitchEvent::Fired {
            drawdown,
            peak,
            equity,
            ..
        }) = self.risk.on_equity(at, equity)?
        {
            self.kill_switch = Some(format!(
                "fired at {at}: equity {equity} is {:.1} % below its peak {peak}; every \
                 position flattened, no new orders after it",
                drawdown * 100.0
            ));
            self.emit(&EngineEvent::KillSwitch {
                at,
                equity,
                peak,
                drawdown,
            })?;
        }
        Ok(())
    }

    /// The strategies look at the market: `chains` go to the venue in time order, the exits
    /// are checked and (when `openings`) new positions proposed at the latest chain's time,
    /// and the orders meet each underlying's latest quotes.
    fn look(
        &mut self,
        date: chrono::NaiveDate,
        chains: &[ChainSnapshot],
        openings: bool,
    ) -> Result<()> {
        let Some(t) = chains.iter().map(ChainSnapshot::as_of).max() else {
            return Ok(());
        };
        let given: Vec<&ChainSnapshot> = chains.iter().collect();
        let mut chains = given.clone();
        chains.sort_by_key(|c| c.as_of());
        for chain in &chains {
            self.clock.advance_to(chain.as_of())?;
            self.venue.on_quotes(chain).map_err(EngineError::venue)?;
        }
        self.drain_events()?;
        let equity = self.venue.marked().equity;
        self.check_equity(t, equity)?;
        self.decide(date, &given, (t, equity), openings)?;
        // The orders fill against each underlying's latest snapshot, as known at `t`.
        for chain in chains {
            if chain.as_of() == t {
                self.venue.on_quotes(chain).map_err(EngineError::venue)?;
            } else {
                self.venue
                    .on_quotes(&restamped(chain, t)?)
                    .map_err(EngineError::venue)?;
            }
        }
        self.drain_events()?;
        self.emit(&EngineEvent::DecisionDone { at: t })?;
        let marked = self.venue.marked().equity;
        self.emit_book(t, marked)
    }

    fn decide(
        &mut self,
        date: chrono::NaiveDate,
        chains: &[&ChainSnapshot],
        (t, equity): (NaiveDateTime, Money),
        openings: bool,
    ) -> Result<()> {
        let (view, rank) = self.view(date, chains, t, equity)?;
        let halt = (
            self.control.openings_halted(),
            self.control.flatten_requested(),
        );
        if halt != self.halt_reported && (halt.0 || halt.1) {
            self.halt_reported = halt;
            self.emit(&EngineEvent::Halted {
                at: t,
                flatten: halt.1,
            })?;
        }
        let flatten = self.risk.halted_since().is_some() || halt.1;
        self.close_positions(&view, flatten)?;
        if flatten || halt.0 || rank.is_none() || !openings {
            return Ok(());
        }
        self.open_positions(&view, t, equity)
    }

    /// The strategies' view at `t`: the session's gated chains, the signals of the previous
    /// close, the open positions with option legs (the ones the strategies manage); the VIX
    /// rank if known.
    fn view(
        &mut self,
        date: chrono::NaiveDate,
        chains: &[&ChainSnapshot],
        t: NaiveDateTime,
        equity: Money,
    ) -> Result<(MarketView, Option<f64>)> {
        let signals = self.signals.known_before(date);
        let rank = signals.and_then(|s| s.vix_rank);
        // Without a rank (warm-up) no strategy opens anything; management still runs.
        let regime = rank.and(signals.and_then(|s| s.regime));
        self.emit(&EngineEvent::Decision {
            at: t,
            regime,
            vix: signals.map(|s| s.vix),
            vix_rank: rank,
            equity,
        })?;
        let mut view = MarketView::new(t, regime, signals.map(|s| s.vix))?;
        let run_id = self.journal.run_id().to_owned();
        for chain in chains {
            let u = UnderlyingView::gated(
                chain,
                &self.config.quality,
                rank.unwrap_or(0.0),
                self.config.rates,
            )?;
            self.gate.add(&u.gate_counts());
            if let Some(s) = signals {
                for (name, value) in [("vix", Some(s.vix)), ("vix_rank", rank)] {
                    if let Some(value) = value {
                        self.emit(&EngineEvent::Signal(SignalRecord {
                            run_id: run_id.clone(),
                            at: t,
                            underlying: chain.underlying().clone(),
                            strategy: "engine".to_owned(),
                            name: name.to_owned(),
                            value,
                        }))?;
                    }
                }
            }
            view = view.with_underlying(u)?;
        }
        let managed = self
            .book
            .open_positions()
            .filter(|p| !p.legs().is_empty() && p.stock == 0);
        for p in managed {
            view = view.with_position(p.position.clone())?;
        }
        Ok((view, rank))
    }

    /// Closes what the exit rules say (or everything when `flatten`: the kill switch has fired
    /// or a person asked): the view's positions, each named by its id.
    fn close_positions(&mut self, view: &MarketView, flatten: bool) -> Result<()> {
        let closings: Vec<Proposal> = if flatten {
            view.positions()
                .iter()
                .map(|p| {
                    volta_strategy::manage::closing_proposal(
                        view,
                        p,
                        ExitReason::KillSwitch,
                        Pricing { edge: 1.0 },
                    )
                })
                .collect::<volta_strategy::Result<_>>()?
        } else {
            self.strategy.manage(view)?
        };
        for proposal in closings {
            let Intent::Close { position, reason } = proposal.intent else {
                continue;
            };
            if !view.positions().iter().any(|p| p.id == position) {
                continue;
            }
            let tag = OrderTag::new(
                &proposal.strategy,
                position.as_str(),
                format!("close: {}", proposal.reason),
            );
            self.place(
                OrderRequest::Combo(proposal.order),
                tag,
                position,
                Role::Close(reason),
            )?;
        }
        Ok(())
    }

    /// Opens what the strategies propose and the risk manager approves, sized by it.
    /// `equity` is the account marked at the snapshot, before any of this decision's orders.
    fn open_positions(&mut self, view: &MarketView, t: NaiveDateTime, equity: Money) -> Result<()> {
        let regime = view.regime();
        if equity.value() <= rust_decimal::Decimal::ZERO {
            return Ok(());
        }
        let mut open: Vec<OpenRisk> = self
            .book
            .open_positions()
            .map(|p| OpenRisk {
                underlying: p.position.underlying().clone(),
                strategy: p.position.strategy.clone(),
                max_loss: p.max_loss,
                greeks: p.greeks,
            })
            .collect();
        for mut proposal in self.strategy.propose(view)? {
            if proposal.intent != Intent::Open {
                continue;
            }
            let unit_greeks = proposal.greeks.unwrap_or_default();
            let request = volta_risk::Proposal {
                at: t,
                strategy: proposal.strategy.clone(),
                order: proposal
                    .order
                    .with_quantity(self.config.max_units_per_trade.max(1))?,
                unit_greeks,
                regime,
            };
            let portfolio = Portfolio {
                equity,
                open: open.clone(),
            };
            let (order, buying_power) = match self.risk.check(&request, &portfolio)? {
                Decision::Approved {
                    order,
                    buying_power,
                } => (order, buying_power),
                Decision::Rejected(reason) => {
                    self.emit(&EngineEvent::RiskRejected {
                        at: t,
                        strategy: proposal.strategy.clone(),
                        underlying: proposal.order.underlying().clone(),
                        reason,
                    })?;
                    continue;
                }
            };
            let units = f64::from(order.quantity());
            let greeks = DollarGreeks {
                dollar_delta: unit_greeks.dollar_delta * units,
                vega_per_point: unit_greeks.vega_per_point * units,
            };
            open.push(OpenRisk {
                underlying: order.underlying().clone(),
                strategy: proposal.strategy.clone(),
                max_loss: buying_power,
                greeks,
            });
            self.next_position += 1;
            let id = PositionId::try_new(format!("p{}", self.next_position))?;
            proposal.order = order.clone();
            let tag = OrderTag::new(
                &proposal.strategy,
                id.as_str(),
                format!("open: {}", proposal.reason),
            );
            self.place(
                OrderRequest::Combo(order),
                tag,
                id,
                Role::Open {
                    proposal: Box::new(proposal),
                    regime,
                    max_loss: buying_power,
                    greeks,
                },
            )?;
        }
        Ok(())
    }

    fn place(
        &mut self,
        request: OrderRequest,
        tag: OrderTag,
        position_id: PositionId,
        role: Role,
    ) -> Result<()> {
        let (instrument, side, quantity, limit) = match &request {
            OrderRequest::Combo(c) => (
                combo_description(c),
                side_of(c.side()),
                u64::from(c.quantity()),
                Some(Money::new(c.limit())),
            ),
            OrderRequest::StockMarket(s) => (
                s.underlying.to_string(),
                side_of(s.side),
                u64::from(s.quantity),
                None,
            ),
        };
        let reason = tag.reason.clone();
        let id = match request {
            OrderRequest::Combo(c) => self.venue.place(c, tag).map_err(EngineError::venue)?,
            OrderRequest::StockMarket(s) => {
                self.venue.place_stock(s, tag).map_err(EngineError::venue)?
            }
        };
        let order_id = self.journal.order_id(id.get());
        let purpose = role.purpose();
        self.working.insert(
            id,
            Working {
                position_id: position_id.clone(),
                role,
                order_id: order_id.clone(),
            },
        );
        self.emit(&EngineEvent::OrderPlaced {
            order: OrderRecord {
                order_id,
                run_id: self.journal.run_id().to_owned(),
                created_at: self.clock.now(),
                instrument,
                side,
                quantity,
                limit_price: limit,
                status: "submitted".to_owned(),
            },
            position_id,
            purpose,
            reason,
        })
    }

    fn drain_events(&mut self) -> Result<()> {
        for event in self.venue.poll_events() {
            let (kind, settlement) = match &event.kind {
                EventKind::Filled(fill) => {
                    self.on_fill(fill)?;
                    continue;
                }
                EventKind::Cancelled { order, reason } => {
                    self.end_order(*order, event.at, OrderEnd::Cancelled(*reason))?;
                    continue;
                }
                EventKind::Rejected { order, reason } => {
                    self.end_order(*order, event.at, OrderEnd::Rejected(reason.clone()))?;
                    continue;
                }
                EventKind::Exercised(s) => (SettlementKind::Exercised, s),
                EventKind::Assigned(s) => (SettlementKind::Assigned, s),
                EventKind::Expired(s) => (SettlementKind::Expired, s),
                EventKind::CashSettled(s) => (SettlementKind::CashSettled, s),
                _ => continue,
            };
            let (touched, to_flatten) = self.book.on_settlement(&event.kind, settlement, event.at);
            self.emit(&EngineEvent::Settled {
                at: event.at,
                kind,
                settlement: settlement.clone(),
                position_ids: touched.clone(),
            })?;
            for id in touched {
                self.journal_position(&id)?;
            }
            for (id, underlying, shares) in to_flatten {
                self.flatten_stock(&id, underlying, shares)?;
            }
        }
        Ok(())
    }

    fn flatten_stock(
        &mut self,
        id: &PositionId,
        underlying: Underlying,
        shares: i64,
    ) -> Result<()> {
        let Some(order) = StockOrder::flatten(underlying, shares) else {
            return Ok(());
        };
        let strategy = self
            .book
            .get(id)
            .map(|p| p.position.strategy.clone())
            .unwrap_or_default();
        let tag = OrderTag::new(strategy, id.as_str(), "flatten stock delivered at expiry");
        self.place(
            OrderRequest::StockMarket(order),
            tag,
            id.clone(),
            Role::Flatten,
        )
    }

    fn end_order(&mut self, order: OrderId, at: NaiveDateTime, end: OrderEnd) -> Result<()> {
        match self.working.remove(&order) {
            Some(w) => self.emit(&EngineEvent::OrderEnded {
                order_id: w.order_id,
                at,
                end,
            }),
            None => Ok(()),
        }
    }

    fn on_fill(&mut self, fill: &Fill) -> Result<()> {
        let Some(w) = self.working.remove(&fill.order) else {
            return Err(EngineError::Reconciliation {
                date: fill.at.date(),
                detail: format!(
                    "a fill of order {} that the engine did not place",
                    fill.order
                ),
            });
        };
        self.fills += 1;
        let order_id = w.order_id;
        self.emit(&EngineEvent::Filled {
            fill: FillRecord {
                fill_id: format!("{order_id}/f1"),
                order_id,
                at: fill.at,
                quantity: u64::from(fill.quantity),
                price: Money::new(fill.net_price),
                fees: fill.commission,
            },
            position_id: w.position_id.clone(),
        })?;
        match w.role {
            Role::Open {
                proposal,
                regime,
                max_loss,
                greeks,
            } => {
                let entry = fill.net_price.to_f64().unwrap_or(f64::NAN);
                let position = OpenPosition::from_fill(
                    w.position_id.clone(),
                    &proposal,
                    entry,
                    fill.at.date(),
                );
                self.book.open(position, regime, fill, max_loss, greeks);
            }
            Role::Close(reason) => self.book.on_fill(&w.position_id, fill, reason.as_str()),
            Role::Flatten => self.book.on_fill(&w.position_id, fill, "assigned"),
        }
        self.journal_position(&w.position_id)
    }

    fn journal_position(&mut self, id: &PositionId) -> Result<()> {
        let Some(p) = self.book.get(id) else {
            return Ok(());
        };
        let record = position_record(self.journal.run_id(), p);
        self.emit(&EngineEvent::PositionChanged(record))
    }

    fn reconcile_on(&self, date: chrono::NaiveDate) -> Result<()> {
        let mut broker: BTreeMap<String, i64> = BTreeMap::new();
        for p in self.venue.positions() {
            let key = match &p.instrument {
                Instrument::Option(c) => c.key().to_string(),
                Instrument::Stock(u) => u.to_string(),
            };
            *broker.entry(key).or_insert(0) += p.quantity;
        }
        broker.retain(|_, q| *q != 0);
        let book = self.book.holdings();
        if broker != book {
            let mut detail = String::new();
            for k in broker.keys().chain(book.keys()) {
                let (b, e) = (broker.get(k), book.get(k));
                if b != e && !detail.contains(k.as_str()) {
                    let _ = write!(
                        detail,
                        "{k}: broker {} engine {}; ",
                        b.copied().unwrap_or(0),
                        e.copied().unwrap_or(0)
                    );
                }
            }
            return Err(EngineError::Reconciliation { date, detail });
        }
        Ok(())
    }
}

/// `chain`'s quotes as the latest known at `t` (a later time): what an order placed at `t`
/// on an underlying snapped earlier in the session fills against.
fn restamped(chain: &ChainSnapshot, t: NaiveDateTime) -> Result<ChainSnapshot> {
    Ok(ChainSnapshot::try_new(
        t,
        chain.underlying().clone(),
        chain.underlying_price(),
        chain.iter().cloned(),
    )?)
}

fn side_of(side: ComboSide) -> Side {
    match side {
        ComboSide::Buy => Side::Buy,
        ComboSide::Sell => Side::Sell,
    }
}

fn combo_description(order: &ComboOrder) -> String {
    let legs: Vec<String> = order
        .legs()
        .iter()
        .map(|l| format!("{:+} {}", l.signed_ratio(), l.instrument))
        .collect();
    format!("{} [{}]", order.underlying(), legs.join(", "))
}

fn position_record(run_id: &str, p: &TrackedPosition) -> PositionRecord {
    let order = &p.position.order;
    let closed = p.exit.as_ref();
    PositionRecord {
        position_id: format!("{run_id}/{}", p.id()),
        run_id: run_id.to_owned(),
        instrument: format!(
            "{} {}",
            p.position.structure.as_str(),
            combo_description(order)
        ),
        quantity: if closed.is_some() {
            0
        } else {
            i64::from(order.quantity())
        },
        average_price: Money::from_f64(p.position.entry).unwrap_or(Money::ZERO),
        realized_pnl: if closed.is_some() {
            p.cash
        } else {
            Money::ZERO
        },
        opened_at: p.opened_at,
        closed_at: closed.map(|e| e.at),
    }
}

/// A risk refusal's key, as the summary's counts and the monitor's metrics label it:
/// `halted`, `daily_loss_limit`, `regime_off (<regime>)`, `undefined_risk`, `too_large`, or
/// the binding limit's name.
#[must_use]
pub fn reject_key(reason: &RejectReason) -> String {
    match reason {
        RejectReason::Halted { .. } => "halted".to_owned(),
        RejectReason::DailyLossLimit { .. } => "daily_loss_limit".to_owned(),
        RejectReason::RegimeOff { regime } => format!("regime_off ({regime})"),
        RejectReason::UndefinedRisk => "undefined_risk".to_owned(),
        RejectReason::TooLarge { .. } => "too_large".to_owned(),
        RejectReason::Limit { limit, .. } => (*limit).to_owned(),
    }
}
