//! The backtester: a configuration, a date range and a data choice in; the engine run on the
//! simulated broker; metrics, attribution and the report's summary out.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use volta_broker::{
    AM_SETTLEMENT_STAND_IN, CashInterest, Dividend, EarlyAssignment, FillModel, FillOdds,
    SimBroker, SimConfig, SizeLimit, Venue,
};
use volta_core::broker::LiveMarket;
use volta_core::calendar::REGULAR_OPEN;
use volta_core::{DailyBar, Money, NyseCalendar, RatesAndYield, Underlying, tick};
use volta_data::DataDir;
use volta_data::dividends::{self, ExDividend};
use volta_data::import::RateSeries;
use volta_data::source::{StoreSource, SyntheticSource};
use volta_data::store::{
    DataKind, JournalStore, MarketStore, RunRecord, SqliteStore, Store, StoreLocation, open_path,
};
use volta_data::synthetic::{SYNTHETIC_VIX_SYMBOL, SyntheticConfig, SyntheticMarket, VolHistory};
use volta_features::RegimeConfig;
use volta_risk::{RiskConfig, RiskManager};
use volta_strategy::config::{StrategiesConfig, StrategyConfig};
use volta_strategy::{AdaptiveConfig, PutWrite, Scorer};

use crate::clock::{Clock, SimulatedClock, StopSignal};
use crate::engine::{Companion, Engine, EngineConfig, RunOutput};
use crate::error::{EngineError, Result};
use crate::events::Observer;
use crate::feed::{Feed, FeedUnderlying, SourceFeed};
use crate::journal::Journal;
use crate::live::LiveFeed;
use crate::metrics::{Attribution, EquitySample, Metrics, TradeRecord};
use crate::report::Summary;
use crate::signals::Signals;
use crate::yardstick::{
    BuyAndHold, BuyingPower, CashInterestSummary, Excess, Yardstick, put_write_risk,
};

/// The PUT-write replica's engine: its own clock, simulated account and in-memory journal.
type PutWriteEngine = Engine<SimulatedClock, SimBroker, SqliteStore>;

/// A backtest's settings (a TOML file; every field has a default, unknown fields are errors).
///
/// ```toml
/// label = "SPY premium"
/// seed = 7
/// starting_cash = 100000.0
/// underlyings = ["SPY", "QQQ", "IWM"]
///
/// [[strategies]]
/// kind = "iv_rank_premium"
///
/// [adaptive.table]
/// neutral = ["iv_rank_premium"]
///
/// [risk]
/// kill_switch_drawdown = 0.2
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent switches of a flat configuration file, each with its own doc"
)]
pub struct BacktestConfig {
    /// A name for the report.
    pub label: String,
    /// Seed of the synthetic market (underlying `i` uses `seed + i`) and of the quotes' noise.
    pub seed: u64,
    /// Cash at the start, dollars.
    pub starting_cash: f64,
    /// The underlyings traded; the first one's bars (and, for a synthetic run, its VIX-like
    /// index) drive the regime detector.
    pub underlyings: Vec<String>,
    /// Rate for implied vols and deltas (and the synthetic market's carry), a decimal.
    pub rate: f64,
    /// Dividend yield, a decimal.
    pub dividend_yield: f64,
    /// Where in the bid/ask a combo fills: 0 = mid, 1 = the touch (natural).
    pub fill_spread_fraction: f64,
    /// `"uncertain"` (the default): a limit fills with a chance that depends on where it sits
    /// in the spread, and only within a share of the day's volume
    /// ([`volta_broker::FillOdds`], [`volta_broker::SizeLimit`]); `"always"`: every limit that
    /// reaches the model's price fills on the snapshot it meets, whatever its size (the first
    /// model).
    pub fill_model: FillModelKind,
    /// Under `"uncertain"`: the chance a limit at the mid fills on one snapshot (1 at the
    /// natural price, linear in between).
    pub fill_odds_at_mid: f64,
    /// Under `"uncertain"`: the share of a leg's daily volume one order may take.
    pub fill_volume_fraction: f64,
    /// Under `"uncertain"`: contracts per leg always allowed, whatever the volume.
    pub fill_min_contracts: u64,
    /// Early assignment of short in-the-money calls whose time value is below the next
    /// dividend, at the close before its ex-date (on by default; SPY's dividends from the data
    /// folder where recorded, estimated elsewhere; a synthetic underlying's from its yield).
    pub early_assignment: bool,
    /// Where in the bid/ask open positions are marked for equity, drawdown and the kill
    /// switch: 0 = mid, 1 = natural. Default: `fill_spread_fraction`, the price the simulated
    /// broker would close them at.
    pub mark_spread_fraction: Option<f64>,
    /// The volatility index in the store that drives the IV rank and the regime (`VIX`; a
    /// store written by `volta-data synth` holds `SYNVIX`). Ignored by synthetic runs, which
    /// use their own index.
    pub vix_index: String,
    /// Calendar days of history before the start that warm up the VIX rank (252 sessions) and
    /// the regime detector; nothing trades in them.
    pub warmup_days: u32,
    /// The strategies (`[[strategies]]`).
    pub strategies: Vec<StrategyConfig>,
    /// The regime table (`[adaptive]`).
    pub adaptive: AdaptiveConfig,
    /// The risk limits (`[risk]`).
    pub risk: RiskConfig,
    /// Run the yardsticks beside the strategies, on the same sessions: the PUT-write replica
    /// and buy and hold ([`crate::yardstick`]). On by default.
    pub yardsticks: bool,
    /// Idle cash earns the short rate, accrued daily ACT/360: the store's FRED DTB3 (DFF before
    /// DTB3 begins), or the synthetic market's `rate`. On by default.
    pub cash_interest: bool,
    /// Whether the cash the open positions hold as collateral (their worst loss plus the
    /// premium taken in) earns the rate too, as Treasury bills posted as collateral do and as
    /// Cboe's PUT index assumes. Off by default: only the cash above it earns.
    pub interest_on_collateral: bool,
    /// The synthetic market's variance risk premium
    /// ([`volta_data::synthetic::ModelParams::variance_risk_premium`]); `None` keeps the
    /// model's 0.35. [`ModelParams::MEASURED_VARIANCE_RISK_PREMIUM`](volta_data::synthetic::ModelParams::MEASURED_VARIANCE_RISK_PREMIUM) gives the synthetic VIX-like index the
    /// real VIX's gap over realised vol (docs/backtest.md, Modelled chains). Generated markets
    /// only (`--data synthetic`): the modelled chains of a store follow the real indices.
    pub synthetic_variance_risk_premium: Option<f64>,
    /// The generated market's chains priced as the modelled chains of a real history are:
    /// the surface through its own VIX9D/VIX/VIX3M-like indices and the spreads fitted on the
    /// real chains ([`volta_data::synthetic::ChainParams::surface_from_indices`],
    /// [`SyntheticConfig::with_fitted_spreads`]). Off by default (pinned figures).
    pub synthetic_fitted_chains: bool,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        let strategies = StrategiesConfig::default();
        Self {
            label: "Volta backtest".to_owned(),
            seed: 42,
            starting_cash: 100_000.0,
            underlyings: vec!["SPY".to_owned()],
            rate: 0.02,
            dividend_yield: 0.015,
            fill_spread_fraction: 0.5,
            fill_model: FillModelKind::Uncertain,
            fill_odds_at_mid: 0.5,
            fill_volume_fraction: 0.1,
            fill_min_contracts: 10,
            mark_spread_fraction: None,
            early_assignment: true,
            vix_index: "VIX".to_owned(),
            warmup_days: 400,
            strategies: strategies.strategies,
            adaptive: strategies.adaptive,
            risk: RiskConfig::default(),
            yardsticks: true,
            cash_interest: true,
            interest_on_collateral: false,
            synthetic_variance_risk_premium: None,
            synthetic_fitted_chains: false,
        }
    }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "callers pass temporaries (numbers, format!): by value keeps them short"
)]
fn bad(field: &'static str, value: impl ToString, requirement: &'static str) -> EngineError {
    EngineError::Config {
        field,
        value: value.to_string(),
        requirement,
    }
}

/// How limits fill in a backtest (see [`BacktestConfig::fill_model`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillModelKind {
    /// A chance of no fill by where the limit sits, and a size limit against volume.
    Uncertain,
    /// Every limit that reaches the model's price fills at once, whatever its size.
    Always,
}

fn decimal(x: f64) -> Decimal {
    Decimal::from_f64_retain(x).unwrap_or_default()
}

impl BacktestConfig {
    /// The simulated broker's fill model these settings describe.
    ///
    /// # Errors
    /// The broker's [`volta_broker::BrokerError::InvalidConfig`] for a fraction out of range.
    pub fn fill_model(&self) -> Result<FillModel> {
        let model = FillModel::try_new(decimal(self.fill_spread_fraction))?;
        Ok(match self.fill_model {
            FillModelKind::Always => model,
            FillModelKind::Uncertain => model
                .with_fill_odds(FillOdds {
                    at_mid: decimal(self.fill_odds_at_mid),
                    seed: self.seed,
                })?
                .with_size_limit(SizeLimit {
                    fraction_of_volume: decimal(self.fill_volume_fraction),
                    min_contracts: self.fill_min_contracts,
                })?,
        })
    }

    /// One sentence for the report: how fills, fees, marks and early assignment are modelled.
    pub(crate) fn market_rules(&self, sim: &SimConfig) -> String {
        let fills = match self.fill_model {
            FillModelKind::Always => format!(
                "every limit that reaches the price {} of the way from mid to the touch fills at \
                 once, whatever its size",
                self.fill_spread_fraction
            ),
            FillModelKind::Uncertain => format!(
                "limits fill at {} of the way from mid to the touch, with a chance of {:.0} % at \
                 the mid rising to 100 % at the natural price (an assumption: no fill data), and \
                 only up to {:.0} % of a leg's daily volume (at least {} contracts)",
                self.fill_spread_fraction,
                self.fill_odds_at_mid * 100.0,
                self.fill_volume_fraction * 100.0,
                self.fill_min_contracts
            ),
        };
        format!(
            "Simulated broker: {fills}; limits on the exchanges' price grid (SPX ${} complex, \
             SPY/QQQ/IWM ${}); fees from {}; positions marked {} of the way from mid toward the \
             price that closes them; early assignment before ex-dividend dates {}.",
            tick::complex("SPX"),
            tick::complex("SPY"),
            sim.commissions.options.source(),
            sim.mark_spread_fraction,
            if sim.early_assignment.enabled {
                "on"
            } else {
                "off"
            }
        )
    }

    /// Parses a TOML configuration; `source_name` (the file) is named in errors.
    ///
    /// # Errors
    /// [`EngineError::ConfigParse`] with the parser's line and column (an unknown field or
    /// strategy kind, a wrong type), then the errors of [`BacktestConfig::validate`].
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| EngineError::ConfigParse {
            source_name: source_name.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every setting, the strategies' and the risk limits' included, so that a bad
    /// configuration fails before the run starts.
    ///
    /// # Errors
    /// [`EngineError::Config`] naming the setting; the strategy crate's errors (unknown
    /// strategy, negative width, delta out of range, …); the risk crate's.
    pub fn validate(&self) -> Result<()> {
        if !(self.starting_cash.is_finite() && self.starting_cash > 0.0) {
            return Err(bad(
                "starting_cash",
                self.starting_cash,
                "a positive amount",
            ));
        }
        if self.underlyings.is_empty() {
            return Err(bad("underlyings", "[]", "at least one underlying"));
        }
        let mut seen = BTreeSet::new();
        for u in &self.underlyings {
            Underlying::try_new(u)?;
            if !seen.insert(u) {
                return Err(bad("underlyings", u, "each underlying once"));
            }
        }
        for (field, v) in [("rate", self.rate), ("dividend_yield", self.dividend_yield)] {
            if !(v.is_finite() && (-0.5..=0.5).contains(&v)) {
                return Err(bad(field, v, "a decimal rate between -0.5 and 0.5"));
            }
        }
        let fractions = [
            ("fill_spread_fraction", Some(self.fill_spread_fraction)),
            ("mark_spread_fraction", self.mark_spread_fraction),
            ("fill_odds_at_mid", Some(self.fill_odds_at_mid)),
            ("fill_volume_fraction", Some(self.fill_volume_fraction)),
        ];
        for (field, value) in fractions {
            if let Some(v) = value
                && !(0.0..=1.0).contains(&v)
            {
                return Err(bad(field, v, "between 0 and 1"));
            }
        }
        if let Some(p) = self.synthetic_variance_risk_premium
            && !(p.is_finite() && p > -1.0 && p < 10.0)
        {
            return Err(bad(
                "synthetic_variance_risk_premium",
                p,
                "a premium above -1 and below 10",
            ));
        }
        if self.warmup_days < 370 {
            return Err(bad(
                "warmup_days",
                self.warmup_days,
                "at least 370 (the VIX rank needs 252 sessions)",
            ));
        }
        self.strategies_config().build()?;
        RiskManager::new(self.risk.clone())?;
        Ok(())
    }

    /// The underlyings as symbols.
    ///
    /// # Errors
    /// [`EngineError::Core`] for a name that is not a valid symbol.
    pub fn underlying_symbols(&self) -> Result<Vec<Underlying>> {
        Ok(self
            .underlyings
            .iter()
            .map(|u| Underlying::try_new(u))
            .collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// The strategies and their regime table.
    #[must_use]
    pub fn strategies_config(&self) -> StrategiesConfig {
        StrategiesConfig {
            strategies: self.strategies.clone(),
            adaptive: self.adaptive.clone(),
        }
    }

    fn synthetic(&self, index: usize, symbol: &str) -> SyntheticConfig {
        SyntheticConfig {
            seed: self.seed + index as u64,
            symbol: symbol.to_owned(),
            rate: self.rate,
            dividend_yield: self.dividend_yield,
            ..SyntheticConfig::default()
        }
    }

    /// [`Self::synthetic`] with the synthetic market's own premium, for a generated market.
    fn generated(&self, index: usize, symbol: &str) -> SyntheticConfig {
        let mut config = self.synthetic(index, symbol);
        if let Some(premium) = self.synthetic_variance_risk_premium {
            config.model.variance_risk_premium = premium;
        }
        if self.synthetic_fitted_chains {
            config = config.with_fitted_chains();
        }
        config
    }
}

/// Where the market data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataChoice {
    /// The synthetic market (no network, no files): every price simulated.
    Synthetic,
    /// A store built from `../shared/data` (`volta-data import dir`): real chains where the
    /// store has them, else chains modelled on the real bars, the VIX family and SKEW
    /// (docs/backtest.md, Modelled chains). A SQLite path or a `postgres://` URL ([`StoreLocation::from_path`]).
    Store(PathBuf),
}

impl DataChoice {
    /// What the binaries' `--data` flag takes.
    pub const FLAG_VALUES: [&'static str; 2] = ["synthetic", "store"];

    /// The choice a `--data` flag names: `synthetic`, or `store` with the store at `store`.
    ///
    /// # Errors
    /// [`EngineError::Config`] for another name, or a store that does not exist (with how to
    /// build one).
    pub fn from_flag(name: &str, store: &std::path::Path) -> Result<Self> {
        match name {
            "synthetic" => Ok(Self::Synthetic),
            "store" if store.exists() || StoreLocation::from_path(store).is_postgres() => {
                Ok(Self::Store(store.to_owned()))
            }
            "store" => Err(bad(
                "store",
                store.display(),
                "an existing store (build it with `just data-import`, or pass --store)",
            )),
            other => Err(bad("data", other, "synthetic or store")),
        }
    }
}

/// One backtest to run.
#[derive(Debug, Clone)]
pub struct Backtest {
    /// The settings.
    pub config: BacktestConfig,
    /// The configuration as given (kept with the run in the journal), if from a file.
    pub config_text: Option<String>,
    /// First session traded.
    pub start: NaiveDate,
    /// Last session traded.
    pub end: NaiveDate,
    /// The data.
    pub data: DataChoice,
    /// The SQLite file the run's journal is written to (created if missing), or a
    /// `postgres://` URL ([`StoreLocation::from_path`]).
    pub journal: PathBuf,
}

/// What a backtest produced.
#[derive(Debug, Clone)]
pub struct BacktestResult {
    /// The run's id in the journal.
    pub run_id: String,
    /// Everything the report says.
    pub summary: Summary,
    /// Equity at each session's close.
    pub equity: Vec<EquitySample>,
    /// Every trade.
    pub trades: Vec<TradeRecord>,
    /// When the kill switch fired, if it did.
    pub halted_at: Option<chrono::NaiveDateTime>,
    /// The return idle cash earned from each close of `equity` to the next (one fewer than
    /// `equity`): what Sharpe and Sortino are measured over. Empty when cash earned nothing.
    pub risk_free: Vec<f64>,
}

/// What a run needs besides its feed.
struct RunParts {
    /// A live trader's book file ([`Engine::keep_book`]): carried on at the start, kept at
    /// every close.
    book_file: Option<PathBuf>,
    signals: Signals,
    provenance: Vec<String>,
    data: String,
    /// Ex-dividend dates of the underlyings whose options can be assigned early.
    dividends: Vec<ExDividend>,
    /// The short rate idle cash earns, if any.
    cash_interest: Option<CashInterest>,
    /// Whether the yardsticks run beside the strategies.
    yardsticks: bool,
    /// A scorer for the adaptive strategy's openings and the minimum score they must reach
    /// (`None`: the configuration's own, [`volta_strategy::AcceptAll`]).
    scorer: Option<(Box<dyn Scorer>, f64)>,
}

pub(crate) struct Prepared {
    pub(crate) underlyings: Vec<FeedUnderlying>,
    pub(crate) signals: Signals,
    pub(crate) provenance: Vec<String>,
    pub(crate) data: String,
    /// Ex-dividend dates of the underlyings whose options can be assigned early.
    pub(crate) dividends: Vec<ExDividend>,
    /// The short rate idle cash earns, if any.
    pub(crate) cash_interest: Option<CashInterest>,
}

impl Backtest {
    /// The run's id from its data, underlyings, range and seed. A journal that already holds a
    /// run of that id (an earlier run of the same backtest) gets `…-run2`, `…-run3`: runs are
    /// facts, never overwritten.
    #[must_use]
    pub fn run_id(&self) -> String {
        let data = match &self.data {
            DataChoice::Synthetic => "synthetic",
            DataChoice::Store(_) => "store",
        };
        format!(
            "backtest-{data}-{}-{}-{}-seed{}",
            self.config.underlyings.join("+"),
            self.start,
            self.end,
            self.config.seed
        )
    }

    /// Runs the backtest, calling `progress(done, total)` after each session.
    ///
    /// # Errors
    /// A bad setting or range ([`EngineError::Config`]), missing data
    /// ([`EngineError::MissingData`]), and any error of the run.
    pub fn run(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<BacktestResult> {
        self.run_observed(progress, Vec::new())
    }

    /// Runs the backtest as [`Backtest::run`], handing every event of the engine to
    /// `observers` as well as to the journal ([`crate::events`]).
    ///
    /// # Errors
    /// As [`Backtest::run`], and the first error an observer returns.
    pub fn run_observed(
        &self,
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
    ) -> Result<BacktestResult> {
        self.run_with_clock(
            "backtest",
            SimulatedClock::new,
            progress,
            observers,
            &StopSignal::new(),
        )
    }

    /// The run on the clock `clock(start)` builds, journaled under `mode` (`sim-paper` for
    /// paper trading on the simulated broker: a clock that waits for each event's time, as
    /// `volta-live`'s does), and stopped between sessions once `stop` is raised (the result
    /// then covers the sessions run). The decisions, fills and journal are the backtest's,
    /// event for event: only the clock differs.
    ///
    /// # Errors
    /// As [`Backtest::run_observed`]; [`EngineError::Stopped`] when stopped before the first
    /// session (nothing ran).
    pub fn run_with_clock<C: Clock>(
        &self,
        mode: &str,
        clock: impl FnOnce(chrono::NaiveDateTime) -> C,
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
        stop: &StopSignal,
    ) -> Result<BacktestResult> {
        self.run_with_clock_scored(mode, clock, None, progress, observers, stop)
    }

    /// As [`Backtest::run_with_clock`], with `filter` (a scorer and the minimum score) in the
    /// adaptive strategy when given: `volta-live`'s sim-paper run with a model.
    ///
    /// # Errors
    /// As [`Backtest::run_with_clock`]; [`EngineError::Strategy`] for a minimum score outside
    /// 0..=1.
    pub fn run_with_clock_scored<C: Clock>(
        &self,
        mode: &str,
        clock: impl FnOnce(chrono::NaiveDateTime) -> C,
        filter: Option<(Box<dyn Scorer>, f64)>,
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
        stop: &StopSignal,
    ) -> Result<BacktestResult> {
        self.run_scored_on_venue(
            mode,
            (clock, |sim| SimBroker::new(sim).map_err(EngineError::from)),
            filter,
            progress,
            observers,
            stop,
        )
    }

    /// As [`Backtest::run_with_clock`], on a venue that `venue` builds from the simulated
    /// broker's settings (which carry the starting cash and the start time; a live venue such
    /// as Interactive Brokers takes those and fills from the exchange instead of the fill
    /// model). Everything else, from strategies to journal, is the backtest's own code.
    ///
    /// # Errors
    /// As [`Backtest::run_with_clock`], and `venue`'s.
    pub fn run_on_venue<C: Clock, V: Venue>(
        &self,
        mode: &str,
        clock: impl FnOnce(chrono::NaiveDateTime) -> C,
        venue: impl FnOnce(SimConfig) -> Result<V>,
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
        stop: &StopSignal,
    ) -> Result<BacktestResult> {
        self.run_scored_on_venue(mode, (clock, venue), None, progress, observers, stop)
    }

    /// Runs the backtest as [`Backtest::run`] with `scorer` in the adaptive strategy: its
    /// openings scoring below `min_score` are dropped ([`volta_strategy::Adaptive::with_scorer`]);
    /// a model-filtered run when the scorer is a model's ([`crate::scoring`]).
    ///
    /// # Errors
    /// As [`Backtest::run`]; [`EngineError::Strategy`] for a minimum score outside 0..=1.
    pub fn run_scored(
        &self,
        scorer: Box<dyn Scorer>,
        min_score: f64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BacktestResult> {
        self.run_scored_on_venue(
            "backtest",
            (SimulatedClock::new, |sim| {
                SimBroker::new(sim).map_err(EngineError::from)
            }),
            Some((scorer, min_score)),
            progress,
            Vec::new(),
            &StopSignal::new(),
        )
    }

    /// The data of the run prepared: the feed's underlyings, the signals, the provenance.
    pub(crate) fn prepare(&self) -> Result<Prepared> {
        self.config.validate()?;
        if self.start > self.end {
            return Err(bad(
                "start..end",
                format!("{}..{}", self.start, self.end),
                "a start on or before the end",
            ));
        }
        match &self.data {
            DataChoice::Store(path) => self.prepare_store(path),
            DataChoice::Synthetic => self.prepare_synthetic(),
        }
    }

    fn run_scored_on_venue<C: Clock, V: Venue>(
        &self,
        mode: &str,
        (clock, venue): (
            impl FnOnce(chrono::NaiveDateTime) -> C,
            impl FnOnce(SimConfig) -> Result<V>,
        ),
        scorer: Option<(Box<dyn Scorer>, f64)>,
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
        stop: &StopSignal,
    ) -> Result<BacktestResult> {
        let prepared = self.prepare()?;
        let mut feed = SourceFeed::new(prepared.underlyings, self.start, self.end)?;
        let first = feed.dates()[0];
        let run = RunParts {
            book_file: None,
            signals: prepared.signals,
            provenance: prepared.provenance,
            data: prepared.data,
            dividends: prepared.dividends,
            cash_interest: prepared.cash_interest,
            yardsticks: self.config.yardsticks,
            scorer,
        };
        self.run_feed(
            mode,
            first,
            run,
            &mut feed,
            (clock, venue),
            progress,
            observers,
            stop,
        )
    }

    /// Trades live: as [`Backtest::run_on_venue`], on sessions that `market` (Interactive
    /// Brokers) gives as they happen ([`LiveFeed`]): each session's prices at the open, its
    /// chains at the management checks (`options.check_every`) and at the decision, 15
    /// minutes before the close, and its last prices at the close. The signals (VIX
    /// rank, regime) come from the store's history (`data` must be [`DataChoice::Store`]),
    /// read again before each session; the history must reach the session before the first
    /// one traded. The open positions are kept beside the journal (`<journal>.book.json`) at
    /// every close and carried on by the next run ([`Engine::resume`]): a restarted trader
    /// manages what it holds. `clock` builds both the engine's clock and the feed's (two instances of
    /// the same time). The run is journaled under `mode`.
    ///
    /// # Errors
    /// [`EngineError::Config`] for synthetic data; [`EngineError::MissingData`] for a
    /// history that stops before the previous session; the market's errors
    /// ([`EngineError::LiveMarket`]); any error of the run.
    #[expect(
        clippy::too_many_arguments,
        reason = "the run's parts, each injected by the binary that wires them"
    )]
    pub fn run_live<C: Clock, V: Venue, M: LiveMarket>(
        &self,
        mode: &str,
        mut clock: impl FnMut(chrono::NaiveDateTime) -> C,
        venue: impl FnOnce(SimConfig) -> Result<V>,
        market: M,
        options: crate::live::LiveOptions,
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
        stop: &StopSignal,
    ) -> Result<BacktestResult> {
        self.config.validate()?;
        let DataChoice::Store(path) = &self.data else {
            return Err(bad(
                "data",
                "synthetic",
                "the store (live decisions take the VIX rank and the regime from its history)",
            ));
        };
        let first = NyseCalendar
            .sessions_between(self.start, self.end)?
            .first()
            .copied()
            .ok_or_else(|| {
                bad(
                    "start..end",
                    format!("{}..{}", self.start, self.end),
                    "a range with at least one NYSE session",
                )
            })?;
        let mut history = LiveHistory {
            store: path.clone(),
            underlying: self.config.underlyings[0].clone(),
            vix_index: self.config.vix_index.clone(),
            warmup_days: self.config.warmup_days,
            started: false,
        };
        let signals = history.signals_before(first)?;
        let start = first.and_time(chrono::NaiveTime::MIN);
        let underlyings = self.config.underlying_symbols()?;
        let mut feed = LiveFeed::new(
            market,
            clock(start),
            underlyings,
            (self.start, self.end),
            Box::new(move |date| history.signals_before(date)),
        )?;
        if let Some(recorder) = options.recorder {
            feed = feed.recording(recorder);
        }
        let mut feed = feed.checking_every(options.check_every);
        let run = RunParts {
            book_file: Some(book_file_for(&self.journal)),
            provenance: vec![format!(
                "Live market data from {}: each session's chains at its decision time (15 \
                 minutes before the close) and its last prices at the close; regime and IV rank \
                 from the store's {} closes and {} bars, read again each session.",
                feed.market().name(),
                self.config.vix_index,
                self.config.underlyings[0]
            )],
            signals,
            data: format!("live ({})", feed.market().name()),
            dividends: Vec::new(),
            // A live account earns its broker's interest; the yardsticks are a backtest's.
            cash_interest: None,
            yardsticks: false,
            scorer: options.filter,
        };
        self.run_feed(
            mode,
            first,
            run,
            &mut feed,
            (clock, venue),
            progress,
            observers,
            stop,
        )
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the run's parts: one function for the backtest and the live trader"
    )]
    fn run_feed<C: Clock, V: Venue>(
        &self,
        mode: &str,
        first: NaiveDate,
        prepared: RunParts,
        feed: &mut dyn Feed,
        (clock, venue): (
            impl FnOnce(chrono::NaiveDateTime) -> C,
            impl FnOnce(SimConfig) -> Result<V>,
        ),
        progress: &mut dyn FnMut(usize, usize),
        observers: Vec<Box<dyn Observer + Send>>,
        stop: &StopSignal,
    ) -> Result<BacktestResult> {
        let journal_store = open_path(&self.journal)?;
        let base_id = self.run_id().replacen("backtest", mode, 1);
        let run_id = free_run_id(journal_store.as_ref(), base_id)?;
        let journal = Journal::start(
            journal_store,
            &RunRecord {
                run_id: run_id.clone(),
                mode: mode.to_owned(),
                started_at: first.and_time(REGULAR_OPEN),
                label: self.config.label.clone(),
                config: self
                    .config_text
                    .clone()
                    .unwrap_or_else(|| "defaults".to_owned()),
            },
        )?;
        let sim = self.sim_config(first, &prepared.dividends, prepared.cash_interest.as_ref())?;
        let mut provenance = prepared.provenance;
        provenance.push(self.config.market_rules(&sim));
        let engine_config = self.engine_config()?;
        let mut yardsticks = if prepared.yardsticks {
            Some(self.yardsticks(&sim, engine_config, &prepared.signals, &run_id)?)
        } else {
            None
        };
        let venue = venue(sim)?;
        let adaptive = self.config.strategies_config().build()?;
        let adaptive = match prepared.scorer {
            Some((scorer, min_score)) => adaptive.with_scorer(scorer, min_score)?,
            None => adaptive,
        };
        let mut engine = Engine::new(
            engine_config,
            clock(first.and_time(chrono::NaiveTime::MIN)),
            venue,
            Box::new(adaptive),
            RiskManager::new(self.config.risk.clone())?,
            prepared.signals,
            journal,
        );
        for observer in observers {
            engine.observe(observer);
        }
        engine.obey(stop.clone());
        if let Some(path) = &prepared.book_file {
            engine.resume(path, first)?;
            engine.keep_book(path);
        }
        let mut companions: Vec<&mut dyn Companion> = Vec::new();
        if let Some((put_write, hold)) = yardsticks.as_mut() {
            companions.push(put_write);
            companions.push(hold);
        }
        match engine.run_beside(feed, progress, &mut || !stop.is_raised(), &mut companions) {
            // A real-time clock ends its wait on a stop: the run ends at that point.
            Ok(()) | Err(EngineError::Stopped { .. }) => {}
            Err(e) => return Err(e),
        }
        if engine.equity().is_empty() {
            // Stopped before the first session: nothing to measure.
            return Err(EngineError::Stopped {
                at: first.and_time(chrono::NaiveTime::MIN),
            });
        }
        let marks = Venue::marks(engine.venue());
        let out = engine.finish(&marks)?;
        let cash_interest = self.interest_summary(prepared.cash_interest.as_ref(), &out);
        let rate = prepared.cash_interest.as_ref();
        let (metrics, risk_free) = measure(&out.equity, &out.trades, out.fees_paid, rate)?;
        let yardsticks = match yardsticks {
            Some((put_write, hold)) => self.measure_yardsticks(put_write, &hold, &metrics, rate)?,
            None => Vec::new(),
        };
        Ok(self.summarise(
            run_id,
            out,
            (metrics, cash_interest, yardsticks, risk_free),
            provenance,
            prepared.data,
        ))
    }

    /// The simulated broker's settings of a run whose first session is `first`: starting
    /// cash, fill model, marks, early assignment on `dividends`, interest at `cash_interest`.
    pub(crate) fn sim_config(
        &self,
        first: NaiveDate,
        dividends: &[ExDividend],
        cash_interest: Option<&CashInterest>,
    ) -> Result<SimConfig> {
        let starting_cash = Money::from_f64(self.config.starting_cash)?.round_to_cents();
        let mut sim = SimConfig::new(starting_cash, first.and_time(chrono::NaiveTime::MIN));
        sim.fill_model = self.config.fill_model()?;
        sim.mark_spread_fraction = decimal(
            self.config
                .mark_spread_fraction
                .unwrap_or(self.config.fill_spread_fraction),
        );
        sim.early_assignment = EarlyAssignment {
            enabled: self.config.early_assignment,
            dividends: dividends
                .iter()
                .map(|d| Dividend {
                    underlying: d.underlying.clone(),
                    ex_date: d.ex_date,
                    amount: d.amount,
                })
                .collect(),
        };
        sim.cash_interest = cash_interest.cloned();
        Ok(sim)
    }

    /// The engine's settings of a run: the configuration's rates and collateral interest.
    pub(crate) fn engine_config(&self) -> Result<EngineConfig> {
        Ok(EngineConfig {
            rates: RatesAndYield::try_new(self.config.rate, self.config.dividend_yield)?,
            collateral_earns_interest: self.config.interest_on_collateral,
            ..EngineConfig::default()
        })
    }

    /// What idle cash earned over the run, at `schedule`.
    fn interest_summary<S>(
        &self,
        schedule: Option<&CashInterest>,
        out: &RunOutput<S>,
    ) -> CashInterestSummary {
        CashInterestSummary {
            source: schedule.map(|c| c.source().to_owned()),
            mean_rate: schedule.and_then(|c| {
                let (from, to) = (out.equity.first()?.date, out.equity.last()?.date);
                c.mean_rate(from, to)
            }),
            collateral_earns_interest: self.config.interest_on_collateral,
            earned: out.interest_earned,
        }
    }

    /// The yardsticks' accounts, ready to step beside the strategies: the PUT-write replica on
    /// a simulated broker of the strategies' settings `sim` (fills, fees, marks, early
    /// assignment, cash interest), journaled in memory, and buy and hold.
    fn yardsticks(
        &self,
        sim: &SimConfig,
        config: EngineConfig,
        signals: &Signals,
        run_id: &str,
    ) -> Result<(PutWriteEngine, BuyAndHold)> {
        let journal = Journal::start(
            SqliteStore::open(":memory:")?,
            &RunRecord {
                run_id: format!("{run_id}/{}", PutWrite::NAME),
                mode: "yardstick".to_owned(),
                started_at: sim.start,
                label: "PUT-write replica".to_owned(),
                config: "yardstick".to_owned(),
            },
        )?;
        let put_write = Engine::new(
            config,
            SimulatedClock::new(sim.start),
            SimBroker::new(sim.clone())?,
            Box::new(PutWrite::new()),
            RiskManager::new(put_write_risk(self.config.underlyings.len()))?,
            signals.clone(),
            journal,
        );
        let underlyings = self.config.underlying_symbols()?;
        let hold = BuyAndHold::new(self.config.starting_cash, underlyings);
        Ok((put_write, hold))
    }

    /// The yardsticks' figures beside the strategies' `strategies`.
    fn measure_yardsticks(
        &self,
        put_write: PutWriteEngine,
        hold: &BuyAndHold,
        strategies: &Metrics,
        rate: Option<&CashInterest>,
    ) -> Result<Vec<Yardstick>> {
        let names = self.config.underlyings.join(", ");
        let marks = Venue::marks(put_write.venue());
        let out = put_write.finish(&marks)?;
        let (put_metrics, _) = measure(&out.equity, &out.trades, out.fees_paid, rate)?;
        let sold = out.trades.len();
        let n = self.config.underlyings.len();
        let put = Yardstick {
            name: PutWrite::NAME.to_owned(),
            description: format!(
                "PUT-write replica (after Cboe's PUT index): each monthly expiry, the \
                 at-the-money put of the next monthly expiry sold on {names}{}, cash-secured in \
                 whole contracts, held to expiry (an assigned put's shares sold at the next \
                 open); the strategies' chains, fills, fees and cash interest, on an account of \
                 its own. {sold} monthly sales, {} in fees.{}",
                if n > 1 {
                    format!(" (1/{n} of the account each)")
                } else {
                    String::new()
                },
                crate::report::dollars(out.fees_paid),
                if sold == 0 {
                    " No put was sold: the collateral of one contract exceeds the account's \
                     share (an SPX put needs its strike × 100), or no monthly expiry was \
                     quoted; the replica held cash."
                } else {
                    ""
                }
            ),
            buying_power: BuyingPower::measure(&out.equity, &out.buying_power, out.interest_earned),
            interest_earned: out.interest_earned,
            strategies_excess: Excess::of(strategies, &put_metrics),
            metrics: put_metrics,
        };
        let (hold_metrics, _) = measure(hold.equity(), &[], 0.0, rate)?;
        let invested: Vec<f64> = hold.equity().iter().map(|s| s.equity - s.cash).collect();
        let buy_and_hold = Yardstick {
            name: "buy_and_hold".to_owned(),
            description: format!(
                "Buy and hold: {names} bought at the first session's close{} and held; price \
                 return only — the data has no dividends (SPY yields about 1.5-2 % a year), \
                 no fees, no cash left to earn interest.",
                if n > 1 { ", in equal parts," } else { "" }
            ),
            buying_power: BuyingPower::measure(hold.equity(), &invested, 0.0),
            interest_earned: 0.0,
            strategies_excess: Excess::of(strategies, &hold_metrics),
            metrics: hold_metrics,
        };
        Ok(vec![put, buy_and_hold])
    }

    fn summarise(
        &self,
        run_id: String,
        out: RunOutput<Box<dyn Store>>,
        (metrics, cash_interest, yardsticks, risk_free): (
            Metrics,
            CashInterestSummary,
            Vec<Yardstick>,
            Vec<f64>,
        ),
        provenance: Vec<String>,
        data: String,
    ) -> BacktestResult {
        let attribution = Attribution::from_trades(&out.trades);
        let summary = Summary {
            label: self.config.label.clone(),
            mode: "backtest".to_owned(),
            data,
            seed: Some(self.config.seed),
            underlyings: self.config.underlyings.clone(),
            provenance,
            metrics,
            attribution,
            orders: out.orders,
            fills: out.fills,
            rejections: out.rejections,
            kill_switch: out.kill_switch,
            open_at_end: out.trades.iter().filter(|t| t.closed.is_none()).count(),
            quality_gate: vec![
                ("total".to_owned(), out.gate.total),
                ("missing".to_owned(), out.gate.missing),
                ("zero_bid".to_owned(), out.gate.zero_bid),
                ("crossed".to_owned(), out.gate.crossed),
                ("stale".to_owned(), out.gate.stale),
                ("kept".to_owned(), out.gate.kept),
            ],
            buying_power: BuyingPower::measure(&out.equity, &out.buying_power, out.interest_earned),
            cash_interest,
            yardsticks,
        };
        BacktestResult {
            run_id,
            summary,
            equity: out.equity,
            trades: out.trades,
            halted_at: out.halted_at,
            risk_free,
        }
    }

    fn warmup_start(&self) -> NaiveDate {
        self.start
            .checked_sub_days(Days::new(u64::from(self.config.warmup_days)))
            .unwrap_or(self.start)
    }

    fn prepare_synthetic(&self) -> Result<Prepared> {
        let mut underlyings = Vec::new();
        let mut dividends = Vec::new();
        let mut signals = None;
        for (i, symbol) in self.config.underlyings.iter().enumerate() {
            let market = SyntheticMarket::generate(&SyntheticConfig {
                start: self.warmup_start(),
                end: self.end,
                ..self.config.generated(i, symbol)
            })?;
            if signals.is_none() {
                let vix: Vec<_> = market.days().iter().map(|d| (d.bar.date, d.vix)).collect();
                let bars: Vec<DailyBar> = market.bars().collect();
                signals = Some(Signals::from_history(&vix, &bars, RegimeConfig::default())?);
            }
            dividends.extend(market.dividends()?);
            underlyings.push(FeedUnderlying::from_source(
                Underlying::try_new(symbol)?,
                Box::new(SyntheticSource::new(market)?),
                self.start,
                self.end,
            )?);
        }
        let signals = signals.ok_or_else(|| bad("underlyings", "[]", "at least one"))?;
        let seeds = (0..self.config.underlyings.len())
            .map(|i| (self.config.seed + i as u64).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Prepared {
            underlyings,
            signals,
            provenance: vec![
                format!(
                    "Synthetic market (seeds {seeds}): every price, the VIX-like index ({}) and \
                     every option chain are simulated (SVCJ path, SVI smile, modelled spreads). \
                     None of it is real market data; the underlyings' paths are independent.",
                    SYNTHETIC_VIX_SYMBOL
                ),
                format!(
                    "Dividends for early assignment: each underlying goes ex on the third Friday \
                     of March, June, September and December, paying a quarter of its yield \
                     ({:.1} %/yr) on the previous close ({} ex-dates).",
                    self.config.dividend_yield * 100.0,
                    dividends.len()
                ),
            ],
            data: format!("synthetic (seed {})", self.config.seed),
            dividends,
            cash_interest: if self.config.cash_interest {
                Some(CashInterest::constant(
                    "the synthetic market's rate (the configuration's `rate`)",
                    self.config.rate,
                    self.warmup_start(),
                )?)
            } else {
                None
            },
        })
    }

    /// The short rate idle cash earns in a run on `store` ([`stored_short_rate`]), if
    /// `cash_interest` is on; a provenance note when the store has none.
    fn stored_interest(
        &self,
        store: &dyn MarketStore,
        provenance: &mut Vec<String>,
    ) -> Result<Option<CashInterest>> {
        if !self.config.cash_interest {
            return Ok(None);
        }
        let rate = stored_short_rate(store, self.start, self.end)?;
        if rate.is_none() {
            provenance.push(
                "Idle cash earned no interest: the store holds no DTB3 or DFF rate over the run \
                 (volta-data import rates)."
                    .to_owned(),
            );
        }
        Ok(rate)
    }

    /// SPY's ex-dividends over the run: recorded where the data folder has them (the Tiingo
    /// 2021 file), estimated elsewhere; the provenance says which.
    fn spy_dividends(
        &self,
        bars: &[DailyBar],
        provenance: &mut Vec<String>,
    ) -> Result<Vec<ExDividend>> {
        let Some(last) = bars.last().map(|b| b.date.min(self.end)) else {
            return Ok(Vec::new());
        };
        let data = DataDir::from_env();
        let (recorded, note) = match dividends::spy_recorded(&data) {
            Ok(r) => (
                r,
                format!("recorded in {}", data.tiingo_bars("SPY", 2021).display()),
            ),
            Err(e) => (Vec::new(), format!("none recorded: {e}")),
        };
        let schedule = dividends::spy_schedule(self.start, last, bars, &recorded)?;
        let known = schedule.iter().filter(|d| d.is_recorded()).count();
        provenance.push(format!(
            "SPY dividends for early assignment: {} ex-dates, {known} {note}, the others on the \
             third Friday of each quarter at {:.1} %/yr of the previous close (estimated).",
            schedule.len(),
            dividends::SPY_ESTIMATED_YIELD_PER_YEAR * 100.0
        ));
        Ok(schedule)
    }

    /// The volatility history the modelled chains of `bars`' underlying are priced from: the
    /// store's VIX (`vix`) and, when the run reads the real VIX, its VIX9D, VIX3M and SKEW
    /// where the store holds them; QQQ and IWM (any underlying but SPY and SPX) take the VIX
    /// scaled by their trailing realised vol over SPY's
    /// ([`volta_data::synthetic::surface::realised_vol_ratios`], 63 sessions) when the store
    /// holds SPY's bars. Also the provenance note that says so (`seed`: the quotes' noise).
    fn modelled_vol_history(
        &self,
        store: &dyn MarketStore,
        symbol: &str,
        seed: u64,
        vix: &[(NaiveDate, f64)],
        bars: &[DailyBar],
    ) -> Result<(VolHistory, String)> {
        use volta_data::synthetic::surface::{REALISED_VOL_WINDOW, realised_vol_ratios};
        let from = self.warmup_start();
        let vix_name = &self.config.vix_index;
        let mut history = VolHistory::vix_only(vix);
        let mut names = vec![vix_name.clone()];
        if vix_name == "VIX" {
            let mut index = |name: &str| -> Result<Vec<(NaiveDate, f64)>> {
                let values: Vec<(NaiveDate, f64)> = store
                    .index_values(&Underlying::try_new(name)?, from, self.end)?
                    .into_iter()
                    .map(|r| (r.date, r.close))
                    .collect();
                if !values.is_empty() {
                    names.push(name.to_owned());
                }
                Ok(values)
            };
            history.vix9d = index("VIX9D")?;
            history.vix3m = index("VIX3M")?;
            history.skew = index("SKEW")?;
        }
        let scaled = if symbol == "SPY" || symbol == "SPX" {
            String::new()
        } else {
            let spy = store.daily_bars(&Underlying::try_new("SPY")?, from, self.end)?;
            if spy.is_empty() {
                format!(
                    " (unscaled: the store holds no SPY bars for {symbol}'s realised-vol proxy)"
                )
            } else {
                history.level_scale = realised_vol_ratios(bars, &spy, REALISED_VOL_WINDOW);
                format!(
                    " scaled to {symbol} by its trailing {REALISED_VOL_WINDOW}-session realised \
                     vol over SPY's"
                )
            }
        };
        let note = format!(
            "{symbol} chains are modelled: the store's {symbol} chains do not cover {}..{}, so \
             they are priced with the synthetic market's smile model from the real {symbol} \
             bars and the store's {} closes{scaled}, with spreads fitted on the real chains \
             (seed {seed}; docs/backtest.md, Modelled chains). Prices and volatility indices \
             are real; option quotes are not.",
            self.start,
            self.end,
            names.join(", ")
        );
        Ok((history, note))
    }

    fn prepare_store(&self, path: &std::path::Path) -> Result<Prepared> {
        let store = &open_path(path)?;
        let from = self.warmup_start();
        let vix_symbol = Underlying::try_new(&self.config.vix_index)?;
        let vix: Vec<(NaiveDate, f64)> = store
            .index_values(&vix_symbol, from, self.end)?
            .into_iter()
            .map(|r| (r.date, r.close))
            .collect();
        if vix.is_empty() {
            return Err(EngineError::MissingData {
                what: format!("{vix_symbol} {from}..{}", self.end),
                reason: "no index closes in the store (volta-data import vix)".to_owned(),
            });
        }
        let coverage = store.coverage()?;
        let mut underlyings = Vec::new();
        let mut provenance = Vec::new();
        let mut signals = None;
        let mut dividends = Vec::new();
        for (i, symbol) in self.config.underlyings.iter().enumerate() {
            let underlying = Underlying::try_new(symbol)?;
            // Index options settle on the index: SPX chains take ^GSPC's bars.
            let bars_symbol = Underlying::try_new(if symbol == "SPX" { "^GSPC" } else { symbol })?;
            let bars = store.daily_bars(&bars_symbol, from, self.end)?;
            if bars.is_empty() {
                return Err(EngineError::MissingData {
                    what: format!("{bars_symbol} bars {from}..{}", self.end),
                    reason: "no daily bars in the store (volta-data import bars)".to_owned(),
                });
            }
            if signals.is_none() {
                signals = Some(Signals::from_history(&vix, &bars, RegimeConfig::default())?);
            }
            if symbol == "SPY" {
                dividends.extend(self.spy_dividends(&bars, &mut provenance)?);
            }
            // Real chains only where the store's span covers the whole run: a run half on
            // real quotes and half on none would trade the real half only.
            let chains = coverage.iter().find(|c| {
                c.kind == DataKind::Chains
                    && c.symbol == underlying
                    && c.first <= self.start
                    && c.last >= self.end
            });
            let in_range: Vec<DailyBar> = bars
                .iter()
                .copied()
                .filter(|b| b.date >= self.start && b.date <= self.end)
                .collect();
            if let Some(c) = chains {
                provenance.extend(real_chain_notes(
                    store,
                    &underlying,
                    &bars_symbol,
                    (c.first, c.last),
                    &in_range,
                )?);
                // A connection of its own: the feed owns its sources.
                underlyings.push(FeedUnderlying {
                    underlying,
                    bars: in_range,
                    chains: Box::new(StoreSource::new(open_path(path)?)),
                });
            } else {
                let seed = self.config.seed + i as u64;
                let (history, note) =
                    self.modelled_vol_history(store.as_ref(), symbol, seed, &vix, &bars)?;
                provenance.push(note);
                let market = SyntheticMarket::from_history_with(
                    &self.config.synthetic(i, symbol).with_fitted_spreads(),
                    &in_range,
                    &history,
                )?;
                if symbol != "SPY" {
                    // The chains are priced with the config's yield: its dividends match it.
                    dividends.extend(market.dividends()?);
                }
                underlyings.push(FeedUnderlying {
                    underlying,
                    bars: in_range,
                    chains: Box::new(SyntheticSource::new(market)?),
                });
            }
        }
        let signals = signals.ok_or_else(|| bad("underlyings", "[]", "at least one"))?;
        provenance.push(format!(
            "Regime and IV rank: the store's {vix_symbol} closes and the first underlying's \
                 bars."
        ));
        let cash_interest = self.stored_interest(store.as_ref(), &mut provenance)?;
        Ok(Prepared {
            underlyings,
            signals,
            provenance,
            data: "store (real history)".to_owned(),
            dividends,
            cash_interest,
        })
    }
}

/// A run's metrics ([`Metrics::compute`]), with Sharpe and Sortino over the short rate its
/// idle cash earned, when it earned one ([`Metrics::over_risk_free`]); and that rate's return
/// from each close of `equity` to the next (empty without a rate).
fn measure(
    equity: &[EquitySample],
    trades: &[TradeRecord],
    fees_paid: f64,
    rate: Option<&CashInterest>,
) -> Result<(Metrics, Vec<f64>)> {
    let mut metrics = Metrics::compute(equity, trades, fees_paid)?;
    let Some(rate) = rate else {
        return Ok((metrics, Vec::new()));
    };
    let risk_free: Vec<f64> = equity
        .windows(2)
        .map(|w| rate.simple_return(w[0].date, w[1].date))
        .collect();
    metrics.over_risk_free(equity, &risk_free);
    Ok((metrics, risk_free))
}

/// The short rate idle cash earns over a run from `start` to `to`, from the store's FRED
/// series: DTB3 (the 3-month Treasury bill, secondary market) from its first value on, DFF
/// (effective federal funds) before it when DTB3 begins after the run has started; each
/// published value holds until the next (FRED's empty holiday rows are skipped, so the rate
/// before them carries on). `None` when the store holds neither.
fn stored_short_rate(
    store: &dyn MarketStore,
    start: NaiveDate,
    to: NaiveDate,
) -> Result<Option<CashInterest>> {
    // A month before the start, so that the first session has the rate published before it;
    // DTB3 is needed from the close before the first session (a week covers any holiday).
    let lookback = start.checked_sub_days(Days::new(31)).unwrap_or(start);
    let needed = start.checked_sub_days(Days::new(7)).unwrap_or(start);
    let published = |series| -> Result<Vec<(NaiveDate, f64)>> {
        Ok(store
            .rates(series, lookback, to)?
            .into_iter()
            .filter_map(|o| o.published_percent.map(|p| (o.date, p / 100.0)))
            .collect())
    };
    let dtb3 = published(RateSeries::Dtb3)?;
    let dtb3_from = dtb3.first().map(|r| r.0).filter(|d| *d > needed);
    let dff: Vec<(NaiveDate, f64)> = if dtb3.is_empty() || dtb3_from.is_some() {
        published(RateSeries::Dff)?
            .into_iter()
            .filter(|r| dtb3_from.is_none_or(|d| r.0 < d))
            .collect()
    } else {
        Vec::new()
    };
    let source = match (dff.is_empty(), dtb3.is_empty(), dtb3_from) {
        (true, true, _) => return Ok(None),
        (true, false, _) => {
            "FRED DTB3 (3-month Treasury bill, secondary market) from the store".to_owned()
        }
        (false, true, _) | (false, false, None) => {
            "FRED DFF (effective federal funds) from the store".to_owned()
        }
        (false, false, Some(d)) => format!(
            "FRED DFF (effective federal funds) until {d}, then DTB3 (3-month Treasury bill, \
             secondary market), from the store"
        ),
    };
    let rates: Vec<(NaiveDate, f64)> = dff.into_iter().chain(dtb3).collect();
    Ok(Some(CashInterest::try_new(source, &rates)?))
}

/// The live trader's history in the store: the volatility index's closes and the first
/// underlying's bars, which the regime detector and the IV rank run over.
struct LiveHistory {
    store: PathBuf,
    underlying: String,
    vix_index: String,
    warmup_days: u32,
    /// Whether a session was already traded: the first must have a fresh history; later ones
    /// whose history was not brought up to date trade without openings (management goes on).
    started: bool,
}

impl LiveHistory {
    /// The signals known before session `date`: the history must reach the session before it.
    fn signals_before(&mut self, date: NaiveDate) -> Result<Signals> {
        let previous = NyseCalendar.previous_session(date)?;
        let from = date
            .checked_sub_days(Days::new(u64::from(self.warmup_days)))
            .unwrap_or(date);
        let store = open_path(&self.store)?;
        let vix_symbol = Underlying::try_new(&self.vix_index)?;
        let vix: Vec<(NaiveDate, f64)> = store
            .index_values(&vix_symbol, from, previous)?
            .into_iter()
            .map(|r| (r.date, r.close))
            .collect();
        let bars_symbol = Underlying::try_new(if self.underlying == "SPX" {
            "^GSPC"
        } else {
            &self.underlying
        })?;
        let bars = store.daily_bars(&bars_symbol, from, previous)?;
        let stale = [
            (vix_symbol.to_string(), vix.last().map(|v| v.0)),
            (bars_symbol.to_string(), bars.last().map(|b| b.date)),
        ]
        .into_iter()
        .find(|(_, last)| *last != Some(previous));
        if let Some((what, last)) = stale {
            if self.started {
                return Ok(Signals::unknown());
            }
            return Err(EngineError::MissingData {
                what: format!("{what} up to {previous}"),
                reason: format!(
                    "the store {} holds it up to {}: bring it up to date (volta-data fetch or \
                     import) before trading on {date}",
                    self.store.display(),
                    last.map_or_else(|| "nothing".to_owned(), |d| d.to_string())
                ),
            });
        }
        self.started = true;
        Signals::from_history(&vix, &bars, RegimeConfig::default())
    }
}

/// `base`, or `base-runN` with the smallest N ≥ 2 the journal does not hold yet.
/// Where a live run keeps its open positions between runs: beside a SQLite journal
/// (`<journal>.book.json`); for a PostgreSQL journal, in `var/` of the working folder, named
/// after the database (the book is the trader's local state, like its logs).
fn book_file_for(journal: &std::path::Path) -> std::path::PathBuf {
    let location = StoreLocation::from_path(journal);
    match &location {
        StoreLocation::Sqlite(path) => path.with_extension("book.json"),
        StoreLocation::Postgres(_) => {
            let name: String = location
                .to_string()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            std::path::PathBuf::from("var").join(format!("{name}.book.json"))
        }
    }
}

fn free_run_id(journal: &dyn JournalStore, base: String) -> Result<String> {
    let taken: BTreeSet<String> = journal.runs()?.into_iter().map(|r| r.run_id).collect();
    if !taken.contains(&base) {
        return Ok(base);
    }
    // At most one id per run held: one of the first `taken.len() + 2` candidates is free.
    Ok((2..=taken.len() + 2)
        .map(|n| format!("{base}-run{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or(base))
}

/// The report's notes on an underlying traded on the store's real chains: their span, the
/// settlement prices, and the sessions without a snapshot (when nothing could fire).
fn real_chain_notes(
    store: &dyn MarketStore,
    underlying: &Underlying,
    bars_symbol: &Underlying,
    (first, last): (NaiveDate, NaiveDate),
    in_range: &[DailyBar],
) -> Result<Vec<String>> {
    let symbol = underlying.as_str();
    let missing = days_without_snapshots(store, underlying, in_range)?;
    let mut notes = vec![format!(
        "{symbol} chains are real quotes from the store ({first} to {last}; snapshots on {} of \
         the {} sessions traded). Settlement prices are {bars_symbol}'s close (PM) and open \
         (AM). {AM_SETTLEMENT_STAND_IN}",
        in_range.len() - missing.len(),
        in_range.len()
    )];
    if !missing.is_empty() {
        let dates: Vec<String> = missing.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "{symbol} has no snapshot on {}: on those sessions no order was placed, stops and \
             profit targets could not fire, positions were marked at their last quotes and \
             only settlement ran.",
            dates.join(", ")
        ));
    }
    Ok(notes)
}

/// The sessions of `bars` with no chain snapshot of `underlying` in the store.
fn days_without_snapshots(
    store: &dyn MarketStore,
    underlying: &Underlying,
    bars: &[DailyBar],
) -> Result<Vec<NaiveDate>> {
    let mut missing = Vec::new();
    for b in bars {
        if store.snapshot_times(underlying, b.date)?.is_empty() {
            missing.push(b.date);
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use volta_data::ingest::ingest_rates;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The real FRED files of `../shared/data/rates` in a store: DFF until DTB3 begins on
    /// 2006-03-27 (its first value 4.51), DTB3 alone once it covers the run.
    #[test]
    fn the_stored_short_rate_is_dff_until_dtb3_begins() {
        let (Some(dtb3), Some(dff)) = (
            DataDir::test_file("rates/DTB3.csv"),
            DataDir::test_file("rates/DFF.csv"),
        ) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("rates.sqlite")).unwrap();
        ingest_rates(&mut store, &dtb3, None).unwrap();
        ingest_rates(&mut store, &dff, None).unwrap();

        let early = stored_short_rate(&store, d(2006, 3, 1), d(2006, 4, 28))
            .unwrap()
            .unwrap();
        assert!(early.source().contains("DFF") && early.source().contains("until 2006-03-27"));
        // Friday 24 March's fed funds 4.69 % holds through the weekend (DFF prints every
        // calendar day: 4.69 on the 25th and 26th too), then DTB3's 4.51 %.
        let pct = |p: i64| Some(rust_decimal::Decimal::new(p, 4));
        assert_eq!(early.rate_on(d(2006, 3, 24)), pct(469));
        assert_eq!(early.rate_on(d(2006, 3, 26)), pct(469));
        assert_eq!(early.rate_on(d(2006, 3, 27)), pct(451));

        let later = stored_short_rate(&store, d(2021, 1, 4), d(2021, 12, 31))
            .unwrap()
            .unwrap();
        assert!(!later.source().contains("DFF"), "{}", later.source());
        // New Year's Eve 2020 printed 0.09 %, the rate of the close before the first session.
        assert_eq!(later.rate_on(d(2020, 12, 31)), pct(9));
        assert_eq!(later.rate_on(d(2021, 1, 1)), pct(9));

        let empty = SqliteStore::open(dir.path().join("empty.sqlite")).unwrap();
        assert!(
            stored_short_rate(&empty, d(2021, 1, 4), d(2021, 12, 31))
                .unwrap()
                .is_none()
        );
    }
}
