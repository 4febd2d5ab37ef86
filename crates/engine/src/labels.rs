//! Labels for the models: every candidate trade the strategies propose, traded forward alone
//! by the engine itself.
//!
//! # How a label is made
//! One pass over the run's sessions. A *discovery* engine runs the configured adaptive
//! strategy on a simulated account, but its strategy is wrapped so that every opening it
//! proposes is recorded and none is placed: its decisions see exactly the [`MarketView`] a
//! backtest's engine builds (gated chains, the previous close's signals), and record every
//! candidate — underlying, structure, strikes, expiry — the strategies would propose there,
//! before the risk manager. Each candidate then gets an engine of its own, a fresh simulated
//! account on the backtest's broker settings (fill model, fees, marks, early assignment),
//! whose strategy proposes that one candidate at its decision and manages it with the
//! proposing strategy's exit rules. It is stepped through the same sessions as the others
//! (as the backtest's yardsticks are, [`crate::Companion`]) until its position is closed —
//! by an exit rule, settlement or assignment — and is then dropped: nothing after its exit
//! is read. The label is the position's cash (every fill, fee and settlement: P&L after
//! fees), over its capital at risk (its worst loss at expiry from the entry price, the risk
//! manager's measure), with the horizon entry → exit for purging.
//!
//! The engine runs one unit per candidate (`max_units_per_trade = 1`), so the return on risk
//! is that of one combo. A candidate whose opening does not fill (the uncertain fill model)
//! or that the risk manager refuses gets no label (counted in [`LabelReport`]); one still open
//! when the data ends has none either (its outcome is unknown).
//!
//! Each candidate's fill draws come from its own seed (the run's seed mixed with its decision
//! time and key): candidate accounts all place their first order as order 1, and sharing one
//! draw would make every candidate of a session fill or miss together.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use volta_broker::{SimBroker, SimConfig};
use volta_core::order::Instrument;
use volta_data::store::{RunRecord, SqliteStore};
use volta_risk::RiskManager;
use volta_strategy::exit::ExitRules;
use volta_strategy::structures::Structure;
use volta_strategy::{Adaptive, Intent, MarketView, Proposal, Strategy};

use crate::backtest::{Backtest, BacktestConfig};
use crate::clock::SimulatedClock;
use crate::engine::{Companion, Engine, EngineConfig};
use crate::error::Result;
use crate::feed::{Feed, SourceFeed};
use crate::journal::Journal;
use crate::signals::Signals;

/// The engines of a label run: simulated clock and broker, an in-memory journal.
type LabelEngine = Engine<SimulatedClock, SimBroker, SqliteStore>;

/// The names of the candidate-level features ([`candidate_features`]), in column order.
pub const CANDIDATE_FEATURES: [&str; 18] = [
    "cand_days_to_expiry",
    "cand_credit",
    "cand_credit_to_width",
    "cand_width_pct_spot",
    "cand_short_put_moneyness",
    "cand_short_call_moneyness",
    "cand_spread_to_mid",
    "cand_delta_per_risk",
    "cand_vega_per_risk",
    "cand_legs",
    "cand_put_credit_spread",
    "cand_call_credit_spread",
    "cand_iron_condor",
    "cand_iron_butterfly",
    "cand_put_debit_spread",
    "cand_call_debit_spread",
    "cand_long_straddle",
    "cand_short_put",
];

/// A candidate's identity: `SPY iron condor [+1 SPY 2020-01-17 P 300, …]` — underlying,
/// structure, and each leg's signed ratio, expiry, right and strike.
#[must_use]
pub fn candidate_key(proposal: &Proposal) -> String {
    let legs: Vec<String> = proposal
        .order
        .legs()
        .iter()
        .map(|l| match &l.instrument {
            Instrument::Option(c) => format!("{:+} {}", l.signed_ratio(), c.key().compact()),
            Instrument::Stock(u) => format!("{:+} {u}", l.signed_ratio()),
        })
        .collect();
    format!(
        "{} {} [{}]",
        proposal.underlying(),
        proposal.structure.as_str(),
        legs.join(", ")
    )
}

/// The candidate-level features of `proposal` at `view` ([`CANDIDATE_FEATURES`]): what the
/// proposal itself says (days to its nearest expiry, credit, credit ÷ width, width and short
/// strikes against the spot, bid/ask cost, greeks per dollar at risk, structure). Only the
/// view's time and spot and the proposal are read, so it is the same at training and at
/// scoring. `NaN` where a feature does not apply (no width, no short put).
#[must_use]
pub fn candidate_features(view: &MarketView, proposal: &Proposal) -> Vec<f64> {
    let date = view.as_of().date();
    let spot = view
        .underlying(proposal.underlying())
        .map_or(f64::NAN, volta_strategy::UnderlyingView::spot);
    let mut nearest: Option<NaiveDate> = None;
    let (mut short_put, mut short_call) = (f64::NAN, f64::NAN);
    for leg in proposal.order.legs() {
        if let Instrument::Option(c) = &leg.instrument {
            nearest = Some(nearest.map_or(c.expiry(), |n| n.min(c.expiry())));
            if leg.signed_ratio() < 0 {
                let moneyness = c.strike().to_f64() / spot - 1.0;
                match c.right() {
                    volta_core::OptionRight::Put => short_put = moneyness,
                    volta_core::OptionRight::Call => short_call = moneyness,
                }
            }
        }
    }
    let days = nearest.map_or(f64::NAN, |e| (e - date).num_days() as f64);
    let credit = proposal.credit();
    let width = proposal.width().unwrap_or(f64::NAN);
    let risk = proposal.max_loss().unwrap_or(f64::NAN);
    let greeks = proposal.greeks.unwrap_or_default();
    let spread = if proposal.mid.abs() > 0.0 {
        (proposal.natural - proposal.mid).abs() / proposal.mid.abs()
    } else {
        f64::NAN
    };
    let mut out = vec![
        days,
        credit,
        credit / width,
        width / spot,
        short_put,
        short_call,
        spread,
        greeks.dollar_delta / risk,
        greeks.vega_per_point / risk,
        proposal.order.legs().len() as f64,
    ];
    out.extend(
        Structure::ALL
            .iter()
            .map(|s| f64::from(u8::from(*s == proposal.structure))),
    );
    out
}

/// One option leg of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelLeg {
    /// Contracts per combo, signed (negative: sold).
    pub ratio: i64,
    /// `P` or `C`.
    pub right: char,
    /// Strike, dollars.
    pub strike: f64,
    /// Expiry.
    #[serde(serialize_with = "crate::metrics::ser_date")]
    pub expiry: NaiveDate,
}

/// The option legs of `proposal`.
fn legs_of(proposal: &Proposal) -> Vec<LabelLeg> {
    proposal
        .order
        .legs()
        .iter()
        .filter_map(|l| match &l.instrument {
            Instrument::Option(c) => Some(LabelLeg {
                ratio: l.signed_ratio(),
                right: match c.right() {
                    volta_core::OptionRight::Put => 'P',
                    volta_core::OptionRight::Call => 'C',
                },
                strike: c.strike().to_f64(),
                expiry: c.expiry(),
            }),
            Instrument::Stock(_) => None,
        })
        .collect()
}

/// One labelled candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateLabel {
    /// The session it was proposed.
    #[serde(serialize_with = "crate::metrics::ser_date")]
    pub decision_date: NaiveDate,
    /// The decision time (the chain snapshot).
    #[serde(serialize_with = "crate::metrics::ser_time")]
    pub decided_at: NaiveDateTime,
    /// Its identity ([`candidate_key`]).
    pub key: String,
    /// The strategy that proposed it.
    pub strategy: String,
    /// Its structure.
    pub structure: String,
    /// The underlying.
    pub underlying: String,
    /// The market regime the decision saw (`calm`, …; `None` before the detector is warm):
    /// the models' metrics are kept per regime.
    pub regime: Option<String>,
    /// Its option legs.
    pub legs: Vec<LabelLeg>,
    /// Its candidate-level features ([`CANDIDATE_FEATURES`]).
    pub features: Vec<f64>,
    /// The session its opening filled.
    #[serde(serialize_with = "crate::metrics::ser_date")]
    pub entry: NaiveDate,
    /// The session it was closed (exit fill, settlement, or the flattening of assigned stock).
    #[serde(serialize_with = "crate::metrics::ser_date")]
    pub exit: NaiveDate,
    /// Why it was closed (`profit_target`, `expired`, …).
    pub exit_reason: String,
    /// Net entry price per share (negative: a credit received), dollars.
    pub entry_price: f64,
    /// Net price per share of the closing fill (the IB BAG convention: the held legs sold
    /// at this net price); `None` when the position was settled at expiry.
    pub exit_price: Option<f64>,
    /// Commissions and fees paid, dollars.
    pub fees: f64,
    /// Profit and loss after fees, dollars (one combo).
    pub pnl: f64,
    /// Its worst loss at expiry from the entry price, dollars: the capital at risk.
    pub capital_at_risk: f64,
    /// `pnl / capital_at_risk`.
    pub return_on_risk: f64,
    /// Whether `pnl > 0`.
    pub profitable: bool,
}

/// What a label run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelReport {
    /// The labels, by decision time then in the order the strategies proposed them.
    pub labels: Vec<CandidateLabel>,
    /// Sessions stepped through.
    pub sessions: usize,
    /// Candidates the strategies proposed.
    pub candidates: usize,
    /// Candidates whose opening order did not fill.
    pub unfilled: usize,
    /// Candidates the risk manager refused (sized to zero, or a limit).
    pub rejected: usize,
    /// Candidates still open when the data ended: no label.
    pub open_at_end: usize,
    /// Where the data came from (as in a backtest report).
    pub provenance: Vec<String>,
}

/// A proposal seen by the discovery engine.
#[derive(Debug, Clone)]
struct Seen {
    at: NaiveDateTime,
    regime: Option<volta_core::Regime>,
    proposal: Proposal,
    features: Vec<f64>,
}

/// The adaptive strategy, recording every opening it proposes and placing none.
#[derive(Debug)]
struct Recorder {
    inner: Arc<Adaptive>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Strategy for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn propose(&self, view: &MarketView) -> volta_strategy::Result<Vec<Proposal>> {
        let proposals = self.inner.propose(view)?;
        // A poisoned lock means another thread panicked while pushing; the vector itself is
        // still whole, so carry on with it.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        for proposal in proposals {
            if proposal.intent == Intent::Open {
                seen.push(Seen {
                    at: view.as_of(),
                    regime: view.regime(),
                    features: candidate_features(view, &proposal),
                    proposal,
                });
            }
        }
        Ok(Vec::new())
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        self.inner.exit_rules(strategy)
    }
}

/// One candidate: proposes it at its decision time, then manages it with the exit rules of
/// the strategy that proposed it.
#[derive(Debug)]
struct OneCandidate {
    rules: Arc<Adaptive>,
    at: NaiveDateTime,
    proposal: Proposal,
}

impl Strategy for OneCandidate {
    fn name(&self) -> &str {
        self.rules.name()
    }

    fn propose(&self, view: &MarketView) -> volta_strategy::Result<Vec<Proposal>> {
        Ok(if view.as_of() == self.at {
            vec![self.proposal.clone()]
        } else {
            Vec::new()
        })
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        self.rules.exit_rules(strategy)
    }
}

/// What a label run needs besides its feed: the backtest's settings, its broker settings
/// (fills, fees, marks, dividends) and its signals.
#[derive(Debug, Clone)]
pub struct LabelSetup {
    /// The backtest's settings: strategies, risk limits, fill model, rates, seed.
    pub config: BacktestConfig,
    /// The simulated broker's settings (interest on cash is left out: a trade's P&L is its
    /// own cash flows).
    pub broker: SimConfig,
    /// The engine's settings (its `max_units_per_trade` is set to 1).
    pub engine: EngineConfig,
    /// VIX level, rank and regime by session.
    pub signals: Signals,
}

/// The candidate engine of one candidate, and what is known of it.
struct Running {
    seen: Seen,
    engine: LabelEngine,
}

/// What became of a candidate after a session.
enum Outcome {
    Running,
    Label(Box<CandidateLabel>),
    Unfilled,
    Rejected,
}

impl Running {
    fn outcome(&self, today: NaiveDate) -> Outcome {
        let Some(p) = self.engine.book().all().next() else {
            if today < self.seen.at.date() {
                return Outcome::Running;
            }
            return if self.engine.risk().rejections().is_empty() {
                Outcome::Unfilled
            } else {
                Outcome::Rejected
            };
        };
        let Some(exit) = &p.exit else {
            return Outcome::Running;
        };
        let pnl = p.cash.to_f64();
        let capital_at_risk = p.max_loss.to_f64();
        let return_on_risk = pnl / capital_at_risk;
        Outcome::Label(Box::new(CandidateLabel {
            decision_date: self.seen.at.date(),
            decided_at: self.seen.at,
            key: candidate_key(&self.seen.proposal),
            strategy: self.seen.proposal.strategy.clone(),
            structure: self.seen.proposal.structure.as_str().to_owned(),
            underlying: self.seen.proposal.underlying().to_string(),
            regime: self.seen.regime.map(|r| r.as_str().to_owned()),
            legs: legs_of(&self.seen.proposal),
            features: self.seen.features.clone(),
            entry: p.opened_at.date(),
            exit: exit.at.date(),
            exit_reason: exit.reason.clone(),
            entry_price: p.position.entry,
            exit_price: exit
                .price
                .and_then(|x| rust_decimal::prelude::ToPrimitive::to_f64(&x)),
            fees: p.fees.to_f64(),
            pnl,
            capital_at_risk,
            return_on_risk,
            profitable: pnl > 0.0,
        }))
    }
}

/// A 64-bit mix (splitmix64's finaliser) of the run's seed and a candidate's decision time
/// and key: its own fill draws, the same on every rerun.
fn candidate_seed(seed: u64, at: NaiveDateTime, key: &str) -> u64 {
    let mut z = seed ^ (at.and_utc().timestamp() as u64).rotate_left(17);
    for b in key.bytes() {
        z = (z ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn memory_journal(run_id: String, t0: NaiveDateTime) -> Result<Journal<SqliteStore>> {
    Journal::start(
        SqliteStore::open(":memory:")?,
        &RunRecord {
            run_id,
            mode: "labels".to_owned(),
            started_at: t0,
            label: "candidate labels".to_owned(),
            config: "labels".to_owned(),
        },
    )
}

/// Labels every candidate the strategies of `setup` propose over the sessions of `feed`
/// (module docs), calling `progress(done, total)` after each session.
///
/// # Errors
/// The errors of the engine's run (strategy, risk, broker, journal); a settings error of the
/// fill model.
pub fn label_candidates(
    feed: &mut dyn Feed,
    setup: &LabelSetup,
    provenance: Vec<String>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<LabelReport> {
    let strategies = Arc::new(setup.config.strategies_config().build()?);
    let engine_config = EngineConfig {
        max_units_per_trade: 1,
        ..setup.engine
    };
    let t0 = setup.broker.start;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut discovery: LabelEngine = Engine::new(
        engine_config,
        SimulatedClock::new(t0),
        SimBroker::new(setup.broker.clone())?,
        Box::new(Recorder {
            inner: Arc::clone(&strategies),
            seen: Arc::clone(&seen),
        }),
        RiskManager::new(setup.config.risk.clone())?,
        setup.signals.clone(),
        memory_journal("labels/discovery".to_owned(), t0)?,
    );
    let mut report = LabelReport {
        labels: Vec::new(),
        sessions: 0,
        candidates: 0,
        unfilled: 0,
        rejected: 0,
        open_at_end: 0,
        provenance,
    };
    let mut running: Vec<Running> = Vec::new();
    let total = feed.remaining();
    loop {
        let mut held: Vec<_> = running
            .iter()
            .flat_map(|r| r.engine.book().held_contracts())
            .collect();
        held.sort();
        held.dedup();
        let Some(session) = feed.next_session(&held)? else {
            break;
        };
        Companion::step(&mut discovery, &session)?;
        let new: Vec<Seen> =
            std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        for s in new {
            report.candidates += 1;
            let key = candidate_key(&s.proposal);
            let mut config = setup.config.clone();
            config.seed = candidate_seed(setup.config.seed, s.at, &key);
            let mut broker = setup.broker.clone();
            broker.fill_model = config.fill_model()?;
            let engine = Engine::new(
                engine_config,
                SimulatedClock::new(t0),
                SimBroker::new(broker)?,
                Box::new(OneCandidate {
                    rules: Arc::clone(&strategies),
                    at: s.at,
                    proposal: s.proposal.clone(),
                }),
                RiskManager::new(setup.config.risk.clone())?,
                setup.signals.clone(),
                memory_journal(format!("labels/{}", report.candidates), t0)?,
            );
            running.push(Running { seen: s, engine });
        }
        let mut still = Vec::with_capacity(running.len());
        for mut r in running {
            Companion::step(&mut r.engine, &session)?;
            match r.outcome(session.date) {
                Outcome::Running => still.push(r),
                Outcome::Label(label) => report.labels.push(*label),
                Outcome::Unfilled => report.unfilled += 1,
                Outcome::Rejected => report.rejected += 1,
            }
        }
        running = still;
        report.sessions += 1;
        progress(report.sessions, total);
    }
    report.open_at_end = running.len();
    // Candidates close in any order; the data set wants them by decision time, then in the
    // order they were proposed (a stable sort keeps that).
    report.labels.sort_by_key(|l| l.decided_at);
    Ok(report)
}

impl Backtest {
    /// Labels every candidate the configured strategies propose over this backtest's
    /// sessions and data ([`label_candidates`]; the journal path is not used: each candidate
    /// account journals in memory).
    ///
    /// # Errors
    /// As [`Backtest::run`].
    pub fn labels(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<LabelReport> {
        let prepared = self.prepare()?;
        let mut feed = SourceFeed::new(prepared.underlyings, self.start, self.end)?;
        let first = feed.dates()[0];
        let broker = self.sim_config(first, &prepared.dividends, None)?;
        let mut provenance = prepared.provenance;
        provenance.push(self.config.market_rules(&broker));
        let setup = LabelSetup {
            config: self.config.clone(),
            broker,
            engine: self.engine_config()?,
            signals: prepared.signals,
        };
        label_candidates(&mut feed, &setup, provenance, progress)
    }
}
