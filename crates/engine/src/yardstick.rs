//! The yardsticks every backtest is measured against, run beside the strategies on the same
//! sessions ([`crate::engine::Companion`]):
//!
//! - **PUT-write replica** (after Cboe's PUT index): a second engine on a second simulated
//!   account, with the same fill model, fees, marks, early assignment and cash interest,
//!   trading [`volta_strategy::PutWrite`] under [`put_write_risk`]: each monthly expiry, the
//!   at-the-money put of the next monthly expiry, cash-secured, held to expiry.
//! - **Buy and hold** ([`BuyAndHold`]): the starting cash in the underlyings, equal parts, at
//!   the first session's close; price return only (the data has no dividends).
//!
//! [`Yardstick`] puts each beside the strategies: the same metrics, the strategies' excess over
//! it, and the return on the buying power each used ([`BuyingPower`]).

use std::collections::BTreeMap;

use serde::Serialize;
use volta_core::{NyseCalendar, Underlying};
use volta_risk::RiskConfig;

use crate::engine::Companion;
use crate::error::Result;
use crate::feed::Session;
use crate::metrics::{EquitySample, Metrics, SESSIONS_PER_YEAR};

/// The PUT-write replica's risk limits over `underlyings` underlyings: one position per
/// underlying, each sized to at most `1 / underlyings` of equity at its worst loss (the strike
/// less the premium, × 100 per contract): the cash that secures the put, in whole contracts.
/// No delta, vega, daily-loss or regime limit binds and the kill switch fires only at a 100 %
/// drawdown: the yardstick is the unmanaged strategy.
#[must_use]
pub fn put_write_risk(underlyings: usize) -> RiskConfig {
    let n = underlyings.max(1);
    let share = 1.0 / n as f64;
    RiskConfig {
        max_risk_per_trade: share,
        max_total_risk: 1.0,
        max_open_positions: n,
        max_positions_per_underlying: 1,
        max_risk_per_underlying: share,
        max_dollar_delta: 1e6,
        max_vega_per_point: 1.0,
        daily_loss_limit: 1.0,
        kill_switch_drawdown: 1.0,
        regime_scale: BTreeMap::new(),
    }
}

/// Buy and hold: the starting cash split equally over the underlyings, each part bought at
/// its first close in the run (fractional shares, no fees) and held; price return only.
/// Equity at a close is `Σ part × close / first close`. The curve starts, as the engine's
/// does, with the starting cash at the close before the first session.
#[derive(Debug, Clone)]
pub struct BuyAndHold {
    part: f64,
    underlyings: Vec<Underlying>,
    first: BTreeMap<Underlying, f64>,
    last: BTreeMap<Underlying, f64>,
    equity: Vec<EquitySample>,
}

impl BuyAndHold {
    /// `starting_cash` dollars over `underlyings`.
    #[must_use]
    pub fn new(starting_cash: f64, underlyings: Vec<Underlying>) -> Self {
        Self {
            part: starting_cash / underlyings.len().max(1) as f64,
            underlyings,
            first: BTreeMap::new(),
            last: BTreeMap::new(),
            equity: Vec::new(),
        }
    }

    /// The equity curve so far.
    #[must_use]
    pub fn equity(&self) -> &[EquitySample] {
        &self.equity
    }
}

impl Companion for BuyAndHold {
    fn held(&self) -> Vec<volta_core::ContractKey> {
        Vec::new()
    }

    fn step(&mut self, session: &Session) -> Result<()> {
        if self.equity.is_empty() {
            self.equity.push(EquitySample {
                date: NyseCalendar.previous_session(session.date)?,
                cash: self.part * self.underlyings.len() as f64,
                equity: self.part * self.underlyings.len() as f64,
                open_positions: 0,
            });
        }
        for (u, prices) in &session.prices {
            let close = prices.close.to_f64();
            self.first.entry(u.clone()).or_insert(close);
            self.last.insert(u.clone(), close);
        }
        let (mut cash, mut equity) = (0.0, 0.0);
        for u in &self.underlyings {
            match (self.first.get(u), self.last.get(u)) {
                (Some(first), Some(last)) => equity += self.part * last / first,
                // Not priced yet: its part waits in cash.
                _ => cash += self.part,
            }
        }
        self.equity.push(EquitySample {
            date: session.date,
            cash,
            equity: equity + cash,
            open_positions: self.first.len(),
        });
        Ok(())
    }
}

/// The buying power a run used: the sum of its open positions' worst losses at each close
/// (for buy and hold, the equity invested), and the trading P&L earned on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuyingPower {
    /// Mean over the sessions (the start sample excluded), dollars.
    pub mean: f64,
    /// Highest at any close, dollars.
    pub peak: f64,
    /// Trading P&L — the change in equity less the interest earned on idle cash — over the
    /// mean buying power; `None` when none was used.
    pub return_on_mean: Option<f64>,
    /// `return_on_mean` × 252 / sessions: simple, annualised.
    pub annualised_return_on_mean: Option<f64>,
}

impl BuyingPower {
    /// From the buying power at each equity sample (`used[i]` at `equity[i]`) and the
    /// interest earned.
    #[must_use]
    pub fn measure(equity: &[EquitySample], used: &[f64], interest_earned: f64) -> Self {
        let sessions = used.len().saturating_sub(1);
        let mean = if sessions == 0 {
            0.0
        } else {
            used[1..].iter().sum::<f64>() / sessions as f64
        };
        let peak = used.iter().copied().fold(0.0, f64::max);
        let pnl = match (equity.first(), equity.last()) {
            (Some(a), Some(b)) => b.equity - a.equity - interest_earned,
            _ => 0.0,
        };
        let return_on_mean = (mean > 0.0).then(|| pnl / mean);
        Self {
            mean,
            peak,
            return_on_mean,
            annualised_return_on_mean: return_on_mean
                .map(|r| r * SESSIONS_PER_YEAR / sessions.max(1) as f64),
        }
    }
}

/// The strategies' figures less a yardstick's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Excess {
    /// Total return, fraction points.
    pub total_return: f64,
    /// Annualised return, fraction points.
    pub annualised_return: f64,
    /// Sharpe ratio.
    pub sharpe: f64,
    /// Sortino ratio.
    pub sortino: f64,
    /// Maximum drawdown (positive: the strategies fell further).
    pub max_drawdown: f64,
}

impl Excess {
    /// `strategies` − `yardstick`.
    #[must_use]
    pub fn of(strategies: &Metrics, yardstick: &Metrics) -> Self {
        Self {
            total_return: strategies.total_return - yardstick.total_return,
            annualised_return: strategies.annualised_return - yardstick.annualised_return,
            sharpe: strategies.sharpe - yardstick.sharpe,
            sortino: strategies.sortino - yardstick.sortino,
            max_drawdown: strategies.max_drawdown - yardstick.max_drawdown,
        }
    }
}

/// One yardstick beside the strategies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Yardstick {
    /// `put_write` or `buy_and_hold`.
    pub name: String,
    /// What it is, in a sentence, with how it ran (for the report).
    pub description: String,
    /// Its metrics, computed as the strategies' are (its own trades, fees and equity curve).
    pub metrics: Metrics,
    /// Interest its idle cash earned, dollars.
    pub interest_earned: f64,
    /// The buying power it used.
    pub buying_power: BuyingPower,
    /// The strategies' excess over it.
    pub strategies_excess: Excess,
}

/// Interest on idle cash over a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CashInterestSummary {
    /// Where the rate came from (the store's FRED series, or the synthetic market's rate);
    /// `None` when idle cash earned nothing (no rate in the store, or interest switched off).
    pub source: Option<String>,
    /// The rate's mean over the run's calendar days, per 1.0 (simple, ACT/360).
    pub mean_rate: Option<f64>,
    /// Whether the cash held as the positions' collateral earned it too.
    pub collateral_earns_interest: bool,
    /// Dollars the strategies' account earned.
    pub earned: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use volta_broker::SessionPrices;

    fn session(date: NaiveDate, closes: &[(&str, &str)]) -> Session {
        let prices = closes
            .iter()
            .map(|(u, c)| {
                let p = c.parse().unwrap();
                (
                    Underlying::try_new(u).unwrap(),
                    SessionPrices { open: p, close: p },
                )
            })
            .collect();
        Session::on(date, prices, Vec::new()).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 10, d).unwrap()
    }

    #[test]
    fn buy_and_hold_returns_the_close_ratio() {
        // SPY's real closes (../shared/data/underlying/SPY_daily_unadjusted.csv).
        let spy = Underlying::try_new("SPY").unwrap();
        let mut hold = BuyAndHold::new(100_000.0, vec![spy]);
        for (d, close) in [(2, "427.31"), (3, "421.59"), (4, "424.66")] {
            hold.step(&session(day(d), &[("SPY", close)])).unwrap();
        }
        let curve = hold.equity();
        assert_eq!(curve.len(), 4);
        // The close before the first session, then bought at the first close.
        assert_eq!(curve[0].date, NaiveDate::from_ymd_opt(2023, 9, 29).unwrap());
        assert_eq!((curve[0].equity, curve[1].equity), (100_000.0, 100_000.0));
        let m = Metrics::compute(curve, &[], 0.0).unwrap();
        assert!((m.total_return - (424.66 / 427.31 - 1.0)).abs() < 1e-12);
        // Equal parts: one underlying up 10 %, the other flat: +5 %.
        let mut two = BuyAndHold::new(
            1000.0,
            vec![
                Underlying::try_new("QQQ").unwrap(),
                Underlying::try_new("IWM").unwrap(),
            ],
        );
        two.step(&session(day(2), &[("QQQ", "100"), ("IWM", "50")]))
            .unwrap();
        two.step(&session(day(3), &[("QQQ", "110"), ("IWM", "50")]))
            .unwrap();
        assert!((two.equity()[2].equity - 1050.0).abs() < 1e-9);
    }

    #[test]
    fn buying_power_and_its_return() {
        let sample = |d: u32, equity: f64| EquitySample {
            date: day(d),
            cash: equity,
            equity,
            open_positions: 0,
        };
        let curve = [sample(2, 1000.0), sample(3, 1010.0), sample(4, 1030.0)];
        // 500 then 300 used: mean 400; P&L 30 of which 10 interest: 20 / 400 = 5 %.
        let bp = BuyingPower::measure(&curve, &[0.0, 500.0, 300.0], 10.0);
        assert_eq!((bp.mean, bp.peak), (400.0, 500.0));
        assert_eq!(bp.return_on_mean, Some(0.05));
        assert_eq!(bp.annualised_return_on_mean, Some(0.05 * 252.0 / 2.0));
        assert_eq!(
            BuyingPower::measure(&curve, &[0.0; 3], 0.0).return_on_mean,
            None
        );
    }

    #[test]
    fn the_replica_risk_limits_are_valid_and_split_the_account() {
        for n in 1..=3 {
            let risk = put_write_risk(n);
            risk.validate().unwrap();
            assert!((risk.max_risk_per_underlying * n as f64 - 1.0).abs() < 1e-12);
        }
    }
}
