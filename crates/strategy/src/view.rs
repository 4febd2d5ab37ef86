//! What a strategy sees at a decision time: the [`MarketView`].
//!
//! # The no-look-ahead contract
//!
//! A `MarketView` for decision time `t` is built by the caller (the engine, a backtest, a test)
//! from data known at or before `t` only: chain snapshots taken at or before `t`, the day's
//! features (IV rank, regime, VIX) computed from closes up to `t`'s session, positions opened
//! at or before `t`. Strategies read nothing else — no clock, no store, no file — so a
//! strategy cannot see the future unless the caller hands it the future. The constructors
//! check what they can: a chain snapshot or a position entry after `t` is rejected with
//! [`StrategyError::InvalidView`]. Features are plain numbers, so their provenance stays the
//! caller's responsibility (volta-features' look-ahead property test covers the library).

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::Regime;
use volta_core::order::{ComboOrder, Instrument};
use volta_core::{
    ChainSnapshot, OptionContract, PositionId, QualityPolicy, RatesAndYield, Underlying,
};

use crate::error::{Result, StrategyError};
use crate::exit::Held;
use crate::proposal::Proposal;
use crate::select::{GateCounts, gate};
use crate::structures::Structure;

#[expect(
    clippy::needless_pass_by_value,
    reason = "callers pass temporaries (numbers, format!): by value keeps them short"
)]
fn invalid(field: &'static str, value: impl ToString, requirement: &'static str) -> StrategyError {
    StrategyError::InvalidView {
        field,
        value: value.to_string(),
        requirement,
    }
}

/// One underlying at the decision time: its quality-gated chain and the features of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct UnderlyingView {
    chain: ChainSnapshot,
    gate_counts: GateCounts,
    iv_rank: f64,
    rates: RatesAndYield,
}

impl UnderlyingView {
    /// Gates `raw` with `policy` (see [`gate`]) and attaches the day's IV rank (0..1, of the
    /// underlying's IV or of the VIX) and the rates used for IVs and deltas.
    ///
    /// # Errors
    /// [`StrategyError::InvalidView`] for an IV rank outside `0..=1`.
    pub fn gated(
        raw: &ChainSnapshot,
        policy: &QualityPolicy,
        iv_rank: f64,
        rates: RatesAndYield,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&iv_rank) {
            return Err(invalid("iv_rank", iv_rank, "in 0..=1"));
        }
        let (chain, gate_counts) = gate(raw, policy)?;
        Ok(Self {
            chain,
            gate_counts,
            iv_rank,
            rates,
        })
    }

    /// The gated chain.
    #[must_use]
    pub const fn chain(&self) -> &ChainSnapshot {
        &self.chain
    }

    /// The underlying.
    #[must_use]
    pub const fn symbol(&self) -> &Underlying {
        self.chain.underlying()
    }

    /// The underlying's price at the snapshot, dollars.
    #[must_use]
    pub fn spot(&self) -> f64 {
        self.chain.underlying_price().to_f64()
    }

    /// What the gate kept out.
    #[must_use]
    pub const fn gate_counts(&self) -> GateCounts {
        self.gate_counts
    }

    /// IV rank of the day, 0..1.
    #[must_use]
    pub const fn iv_rank(&self) -> f64 {
        self.iv_rank
    }

    /// Rates for IVs and deltas.
    #[must_use]
    pub const fn rates(&self) -> RatesAndYield {
        self.rates
    }
}

/// An open position as the strategies see it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenPosition {
    /// Its id: what a closing proposal names ([`crate::Intent::Close`]).
    pub id: PositionId,
    /// The strategy that opened it.
    pub strategy: String,
    /// Its shape.
    pub structure: Structure,
    /// The order that opened it: the legs as held, a BUY, its quantity.
    pub order: ComboOrder,
    /// Net fill price per share (negative: a credit received).
    pub entry: f64,
    /// The session it was opened.
    pub entered: NaiveDate,
}

impl OpenPosition {
    /// The position `id` an opening proposal becomes when filled at `entry` on `entered`.
    #[must_use]
    pub fn from_fill(id: PositionId, proposal: &Proposal, entry: f64, entered: NaiveDate) -> Self {
        Self {
            id,
            strategy: proposal.strategy.clone(),
            structure: proposal.structure,
            order: proposal.order.clone(),
            entry,
            entered,
        }
    }

    /// The underlying.
    #[must_use]
    pub fn underlying(&self) -> &Underlying {
        self.order.underlying()
    }

    /// The option contracts of its legs.
    fn contracts(&self) -> impl Iterator<Item = &OptionContract> {
        self.order
            .legs()
            .iter()
            .filter_map(|l| match &l.instrument {
                Instrument::Option(c) => Some(c),
                Instrument::Stock(_) => None,
            })
    }

    /// The nearest expiry of its option legs (`None` for stock only).
    #[must_use]
    pub fn expiry(&self) -> Option<NaiveDate> {
        self.contracts().map(OptionContract::expiry).min()
    }

    /// The earliest last trading day of its option legs (`None` for stock only): the session
    /// before the expiry for an AM-settled series.
    #[must_use]
    pub fn last_trading_day(&self) -> Option<NaiveDate> {
        self.contracts().map(OptionContract::last_trading_day).min()
    }

    /// What [`crate::exit::exit_reason`] needs.
    #[must_use]
    pub fn held(&self) -> Option<Held> {
        Some(Held {
            entry: self.entry,
            expiry: self.expiry()?,
            last_trading_day: self.last_trading_day()?,
        })
    }
}

/// Everything known at one decision time (see the module docs for the no-look-ahead contract).
#[derive(Debug, Clone, PartialEq)]
pub struct MarketView {
    as_of: NaiveDateTime,
    regime: Option<Regime>,
    vix: Option<f64>,
    underlyings: Vec<UnderlyingView>,
    positions: Vec<OpenPosition>,
}

impl MarketView {
    /// A view at `as_of` with the day's regime (`None` while the detector warms up) and VIX
    /// level, no underlyings and no positions yet.
    ///
    /// # Errors
    /// [`StrategyError::InvalidView`] for a VIX that is not finite and positive.
    pub fn new(as_of: NaiveDateTime, regime: Option<Regime>, vix: Option<f64>) -> Result<Self> {
        if let Some(v) = vix
            && !(v.is_finite() && v > 0.0)
        {
            return Err(invalid("vix", v, "finite and positive"));
        }
        Ok(Self {
            as_of,
            regime,
            vix,
            underlyings: Vec::new(),
            positions: Vec::new(),
        })
    }

    /// Adds an underlying.
    ///
    /// # Errors
    /// [`StrategyError::InvalidView`] for a chain snapped after the decision time (look-ahead)
    /// or an underlying already in the view.
    pub fn with_underlying(mut self, underlying: UnderlyingView) -> Result<Self> {
        if underlying.chain.as_of() > self.as_of {
            return Err(invalid(
                "chain as_of",
                underlying.chain.as_of(),
                "at or before the decision time (no look-ahead)",
            ));
        }
        if self.underlying(underlying.symbol()).is_some() {
            return Err(invalid(
                "underlying",
                underlying.symbol(),
                "in the view once",
            ));
        }
        self.underlyings.push(underlying);
        Ok(self)
    }

    /// Adds an open position.
    ///
    /// # Errors
    /// [`StrategyError::InvalidView`] for a position entered after the decision date or one
    /// whose id is already in the view (closings name their position by id).
    pub fn with_position(mut self, position: OpenPosition) -> Result<Self> {
        if position.entered > self.as_of.date() {
            return Err(invalid(
                "position entered",
                position.entered,
                "on or before the decision date (no look-ahead)",
            ));
        }
        if self.positions.iter().any(|p| p.id == position.id) {
            return Err(invalid("position id", &position.id, "unique in the view"));
        }
        self.positions.push(position);
        Ok(self)
    }

    /// The decision time.
    #[must_use]
    pub const fn as_of(&self) -> NaiveDateTime {
        self.as_of
    }

    /// The day's regime (`None`: not known yet).
    #[must_use]
    pub const fn regime(&self) -> Option<Regime> {
        self.regime
    }

    /// The day's VIX level, if given.
    #[must_use]
    pub const fn vix(&self) -> Option<f64> {
        self.vix
    }

    /// The underlyings, in the order added.
    #[must_use]
    pub fn underlyings(&self) -> &[UnderlyingView] {
        &self.underlyings
    }

    /// One underlying.
    #[must_use]
    pub fn underlying(&self, symbol: &Underlying) -> Option<&UnderlyingView> {
        self.underlyings.iter().find(|u| u.symbol() == symbol)
    }

    /// The open positions.
    #[must_use]
    pub fn positions(&self) -> &[OpenPosition] {
        &self.positions
    }

    /// Whether `strategy` holds an open position on `underlying`.
    #[must_use]
    pub fn holds(&self, strategy: &str, underlying: &Underlying) -> bool {
        self.positions
            .iter()
            .any(|p| p.strategy == strategy && p.underlying() == underlying)
    }
}
