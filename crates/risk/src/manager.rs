//! Pre-trade checks, sizing and the kill switch.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use volta_core::order::{ComboOrder, DollarGreeks};
use volta_core::{Money, Regime, Underlying};

use crate::config::RiskConfig;
use crate::error::{Result, RiskError};

/// What an open position contributes to the portfolio's risk.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRisk {
    /// The underlying.
    pub underlying: Underlying,
    /// The strategy that opened it.
    pub strategy: String,
    /// The most it can still lose, US dollars (≥ 0).
    pub max_loss: Money,
    /// Its dollar greeks now.
    pub greeks: DollarGreeks,
}

/// The portfolio as the risk manager sees it at a decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Portfolio {
    /// Cash plus positions at their marks, US dollars.
    pub equity: Money,
    /// The open positions.
    pub open: Vec<OpenRisk>,
}

/// A trade a strategy wants: an order (its quantity is the most the strategy wants) with the
/// dollar greeks of one unit, and the regime it was decided in.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// When it is decided.
    pub at: NaiveDateTime,
    /// The strategy proposing it.
    pub strategy: String,
    /// The order; sizing may lower its quantity.
    pub order: ComboOrder,
    /// Dollar greeks of one unit of the combo.
    pub unit_greeks: DollarGreeks,
    /// The regime it was decided in, for regime-based sizing (`None`: not known).
    pub regime: Option<Regime>,
}

/// Why a trade was refused. Every rejection is recorded (see [`RiskManager::rejections`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RejectReason {
    /// The kill switch has fired and nobody has reset it.
    Halted {
        /// When it fired.
        since: NaiveDateTime,
    },
    /// The session's loss reached the daily limit.
    DailyLossLimit {
        /// The session's loss so far, as a fraction of the equity before it.
        loss: f64,
    },
    /// The regime's size multiplier is zero.
    RegimeOff {
        /// The regime.
        regime: Regime,
    },
    /// The combo's loss is unbounded (a naked short call) or not computable: only defined-risk
    /// trades are taken.
    UndefinedRisk,
    /// Even one unit risks more than the per-trade budget.
    TooLarge {
        /// The worst loss of one unit, US dollars.
        unit_loss: Money,
        /// The per-trade budget, US dollars.
        budget: Money,
    },
    /// A portfolio limit leaves room for no unit; `limit` names it.
    Limit {
        /// The binding limit's name (`max_open_positions`, `max_total_risk`, …).
        limit: &'static str,
        /// What the limit allows and what the trade would bring.
        detail: String,
    },
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Halted { since } => write!(
                f,
                "halted by the drawdown kill switch since {since}: a person must reset it"
            ),
            Self::DailyLossLimit { loss } => {
                write!(f, "daily loss limit reached ({:.2} % today)", loss * 100.0)
            }
            Self::RegimeOff { regime } => write!(f, "no new trades in the {regime} regime"),
            Self::UndefinedRisk => write!(f, "undefined risk: only defined-risk combos are taken"),
            Self::TooLarge { unit_loss, budget } => write!(
                f,
                "one unit risks {unit_loss}, over the per-trade budget of {budget}"
            ),
            Self::Limit { limit, detail } => write!(f, "limit {limit}: {detail}"),
        }
    }
}

/// The risk manager's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Take the trade with this order (its quantity sized down if needed).
    Approved {
        /// The sized order.
        order: ComboOrder,
        /// Its worst loss at the limit price: the buying power a defined-risk spread needs
        /// under Reg-T (width × multiplier × quantity − credit), US dollars.
        buying_power: Money,
    },
    /// Refused.
    Rejected(RejectReason),
}

/// A refusal, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// When.
    pub at: NaiveDateTime,
    /// The strategy.
    pub strategy: String,
    /// The underlying.
    pub underlying: Underlying,
    /// Why.
    pub reason: RejectReason,
}

/// The kill switch's state changes.
#[derive(Debug, Clone, PartialEq)]
pub enum KillSwitchEvent {
    /// The drawdown reached the limit: flatten everything and send no new order.
    Fired {
        /// When.
        at: NaiveDateTime,
        /// The drawdown from the peak, as a fraction.
        drawdown: f64,
        /// The equity peak, US dollars.
        peak: Money,
        /// The equity then, US dollars.
        equity: Money,
    },
    /// A person reset it.
    Reset {
        /// When.
        at: NaiveDateTime,
        /// Who (recorded for the audit trail).
        by: String,
    },
}

/// Enforces a [`RiskConfig`]: sizes and checks every proposal, watches equity for the daily
/// loss limit and the drawdown kill switch, and keeps a record of every refusal.
#[derive(Debug, Clone)]
pub struct RiskManager {
    config: RiskConfig,
    peak: Option<Money>,
    session: Option<(NaiveDate, Money)>,
    last_equity: Option<Money>,
    halted_since: Option<NaiveDateTime>,
    rejections: Vec<Rejection>,
    kill_switch: Vec<KillSwitchEvent>,
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or(Decimal::ZERO)
}

fn frac(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

impl RiskManager {
    /// A manager enforcing `config`.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] as [`RiskConfig::validate`].
    pub fn new(config: RiskConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            peak: None,
            session: None,
            last_equity: None,
            halted_since: None,
            rejections: Vec::new(),
            kill_switch: Vec::new(),
        })
    }

    /// The limits.
    #[must_use]
    pub const fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// Every refusal so far, in order.
    #[must_use]
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }

    /// Every kill-switch change so far, in order.
    #[must_use]
    pub fn kill_switch_events(&self) -> &[KillSwitchEvent] {
        &self.kill_switch
    }

    /// When the kill switch fired, if it is engaged.
    #[must_use]
    pub const fn halted_since(&self) -> Option<NaiveDateTime> {
        self.halted_since
    }

    /// The drawdown from the peak at the last equity seen, as a fraction (0 at a new peak).
    #[must_use]
    pub fn drawdown(&self) -> f64 {
        match (self.peak, self.last_equity) {
            (Some(peak), Some(equity)) if peak.value() > Decimal::ZERO => {
                frac((peak.value() - equity.value()) / peak.value()).max(0.0)
            }
            _ => 0.0,
        }
    }

    /// Records the account's equity at `at`. The first equity of a session is the base of its
    /// daily loss. Returns the kill switch's firing when this equity's drawdown reaches the
    /// limit (once: it stays engaged until [`Self::reset`]).
    ///
    /// # Errors
    /// [`RiskError::BadInput`] for equity at or below zero before any peak (nothing to
    /// measure against).
    pub fn on_equity(
        &mut self,
        at: NaiveDateTime,
        equity: Money,
    ) -> Result<Option<KillSwitchEvent>> {
        if self.peak.is_none() && equity.value() <= Decimal::ZERO {
            return Err(RiskError::BadInput {
                what: "equity",
                reason: format!("the first equity must be positive, got {equity}"),
            });
        }
        let date = at.date();
        if self.session.is_none_or(|(d, _)| d != date) {
            // Today's loss is measured from the last equity before today (the previous
            // close), as a trader reads the day's P&L: the engine marks once before its one
            // decision a day, so a baseline taken at that mark would never see a loss.
            self.session = Some((date, self.last_equity.unwrap_or(equity)));
        }
        self.last_equity = Some(equity);
        let peak = self.peak.map_or(equity, |p| p.max(equity));
        self.peak = Some(peak);
        let drawdown = self.drawdown();
        if self.halted_since.is_none() && drawdown >= self.config.kill_switch_drawdown {
            self.halted_since = Some(at);
            let event = KillSwitchEvent::Fired {
                at,
                drawdown,
                peak,
                equity,
            };
            self.kill_switch.push(event.clone());
            return Ok(Some(event));
        }
        Ok(None)
    }

    /// A person resets the kill switch; trading may resume. The peak restarts at the current
    /// equity, so the same loss does not fire it again at once.
    pub fn reset(&mut self, at: NaiveDateTime, by: &str) {
        if self.halted_since.take().is_some() {
            self.peak = self.last_equity;
            self.kill_switch.push(KillSwitchEvent::Reset {
                at,
                by: by.to_owned(),
            });
        }
    }

    /// The session's loss so far, as a fraction of the last equity before the session (the
    /// first one ever, on the first day).
    fn session_loss(&self) -> f64 {
        match (self.session, self.last_equity) {
            (Some((_, start)), Some(now)) if start.value() > Decimal::ZERO => {
                frac((start.value() - now.value()) / start.value()).max(0.0)
            }
            _ => 0.0,
        }
    }

    /// Sizes and checks `proposal` against the portfolio. A refusal is recorded and returned
    /// as [`Decision::Rejected`].
    ///
    /// Sizing: the quantity is the largest, up to the order's, that keeps the trade's worst
    /// loss within `equity × max_risk_per_trade × regime scale`, the total and per-underlying
    /// worst losses within their limits, the position counts within theirs, and the portfolio's
    /// dollar delta and vega within their bands (a trade that moves them back toward zero is
    /// never limited by them).
    ///
    /// # Errors
    /// [`RiskError::BadInput`] for a non-positive equity; [`RiskError::Core`] on decimal
    /// overflow.
    pub fn check(&mut self, proposal: &Proposal, portfolio: &Portfolio) -> Result<Decision> {
        let equity = portfolio.equity.value();
        if equity <= Decimal::ZERO {
            return Err(RiskError::BadInput {
                what: "portfolio equity",
                reason: format!("must be positive, got {}", portfolio.equity),
            });
        }
        let decision = self.decide(proposal, portfolio, equity)?;
        if let Decision::Rejected(reason) = &decision {
            self.rejections.push(Rejection {
                at: proposal.at,
                strategy: proposal.strategy.clone(),
                underlying: proposal.order.underlying().clone(),
                reason: reason.clone(),
            });
        }
        Ok(decision)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one limit after another, in the order a trader reads them"
    )]
    fn decide(
        &self,
        proposal: &Proposal,
        portfolio: &Portfolio,
        equity: Decimal,
    ) -> Result<Decision> {
        let c = &self.config;
        if let Some(since) = self.halted_since {
            return Ok(Decision::Rejected(RejectReason::Halted { since }));
        }
        let loss = self.session_loss();
        if loss >= c.daily_loss_limit {
            return Ok(Decision::Rejected(RejectReason::DailyLossLimit { loss }));
        }
        let scale = c.scale_for(proposal.regime);
        // Only a listed regime can scale to zero: an unknown one trades at 1.0.
        if let Some(regime) = proposal.regime
            && scale == 0.0
        {
            return Ok(Decision::Rejected(RejectReason::RegimeOff { regime }));
        }
        let order = &proposal.order;
        let unit = order.with_quantity(1)?;
        let Some(unit_loss) = unit.max_loss_at(order.limit())? else {
            return Ok(Decision::Rejected(RejectReason::UndefinedRisk));
        };
        let unit_loss = unit_loss.value();
        let budget = equity * dec(c.max_risk_per_trade * scale);
        // A zero-loss unit (an arbitrage at the limit) is bounded by the other limits only.
        let units_within = |room: Decimal| -> u64 {
            if unit_loss <= Decimal::ZERO {
                u64::MAX
            } else {
                (room.max(Decimal::ZERO) / unit_loss)
                    .floor()
                    .to_u64()
                    .unwrap_or(0)
            }
        };
        let mut quantity = u64::from(order.quantity()).min(units_within(budget));
        if quantity == 0 {
            return Ok(Decision::Rejected(RejectReason::TooLarge {
                unit_loss: Money::new(unit_loss.normalize()),
                budget: Money::new(budget.round_dp(2).normalize()),
            }));
        }
        let underlying = order.underlying();
        let on_underlying: Vec<&OpenRisk> = portfolio
            .open
            .iter()
            .filter(|p| &p.underlying == underlying)
            .collect();
        let limit = |limit: &'static str, detail: String| {
            Ok(Decision::Rejected(RejectReason::Limit { limit, detail }))
        };
        if portfolio.open.len() >= c.max_open_positions {
            return limit(
                "max_open_positions",
                format!(
                    "{} open, at most {}",
                    portfolio.open.len(),
                    c.max_open_positions
                ),
            );
        }
        if on_underlying.len() >= c.max_positions_per_underlying {
            return limit(
                "max_positions_per_underlying",
                format!(
                    "{} open on {underlying}, at most {}",
                    on_underlying.len(),
                    c.max_positions_per_underlying
                ),
            );
        }
        let total: Decimal = portfolio.open.iter().map(|p| p.max_loss.value()).sum();
        let total_room = equity * dec(c.max_total_risk) - total;
        quantity = quantity.min(units_within(total_room));
        if quantity == 0 {
            return limit(
                "max_total_risk",
                format!(
                    "open trades risk {}, one unit {unit_loss}, limit {}",
                    total.round_dp(2),
                    (equity * dec(c.max_total_risk)).round_dp(2)
                ),
            );
        }
        let here: Decimal = on_underlying.iter().map(|p| p.max_loss.value()).sum();
        let here_room = equity * dec(c.max_risk_per_underlying) - here;
        quantity = quantity.min(units_within(here_room));
        if quantity == 0 {
            return limit(
                "max_risk_per_underlying",
                format!(
                    "{underlying} trades risk {}, one unit {unit_loss}, limit {}",
                    here.round_dp(2),
                    (equity * dec(c.max_risk_per_underlying)).round_dp(2)
                ),
            );
        }
        let equity_f = frac(equity);
        for (name, now, per_unit, band) in [
            (
                "max_dollar_delta",
                portfolio
                    .open
                    .iter()
                    .map(|p| p.greeks.dollar_delta)
                    .sum::<f64>(),
                proposal.unit_greeks.dollar_delta,
                c.max_dollar_delta * equity_f,
            ),
            (
                "max_vega_per_point",
                portfolio
                    .open
                    .iter()
                    .map(|p| p.greeks.vega_per_point)
                    .sum::<f64>(),
                proposal.unit_greeks.vega_per_point,
                c.max_vega_per_point * equity_f,
            ),
        ] {
            quantity = quantity.min(units_within_band(now, per_unit, band));
            if quantity == 0 {
                return limit(
                    name,
                    format!("portfolio at {now:.0}, one unit adds {per_unit:.0}, band ±{band:.0}"),
                );
            }
        }
        let quantity = u32::try_from(quantity).unwrap_or(order.quantity());
        let sized = order.with_quantity(quantity)?;
        let buying_power = sized.max_loss_at(order.limit())?.unwrap_or(Money::ZERO);
        Ok(Decision::Approved {
            order: sized,
            buying_power,
        })
    }
}

/// The most units of `per_unit` that keep `|now + n·per_unit| ≤ band`. A trade that moves the
/// portfolio toward zero is allowed up to the far side of the band, also when the portfolio is
/// outside the band now (reducing exposure is never blocked by it).
fn units_within_band(now: f64, per_unit: f64, band: f64) -> u64 {
    if per_unit == 0.0 || !per_unit.is_finite() {
        return u64::MAX;
    }
    let toward_zero = now.signum() != per_unit.signum() && now != 0.0;
    if toward_zero {
        // Up to the far side of the band.
        return ((now.abs() + band) / per_unit.abs()).floor() as u64;
    }
    let room = band - now.abs();
    if room <= 0.0 {
        0
    } else {
        (room / per_unit.abs()).floor() as u64
    }
}
