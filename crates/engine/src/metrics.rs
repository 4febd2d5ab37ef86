//! Performance metrics of a run: returns, risk ratios, drawdowns, trade
//! statistics and P&L attribution, computed from the daily equity curve and
//! the trade records.
//!
//! Conventions: returns and drawdowns are fractions (0.25 = 25 %), money is in
//! dollars, a year has [`SESSIONS_PER_YEAR`] trading sessions, and the
//! risk-free rate is 0 unless [`Metrics::over_risk_free`] gives one (a backtest
//! whose idle cash earns interest measures Sharpe and Sortino over that rate).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::report_error::{ReportError, Result};

/// Trading sessions per year used to annualise returns and volatility.
pub const SESSIONS_PER_YEAR: f64 = 252.0;

/// Serialises a date as ISO 8601 (`YYYY-MM-DD`).
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes `&T`
pub(crate) fn ser_date<S: Serializer>(
    date: &NaiveDate,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(date)
}

/// Serialises a time as ISO 8601 (`YYYY-MM-DDTHH:MM:SS`): chrono's serde feature is left
/// off so that the backtester builds chrono as the other binaries do.
pub(crate) fn ser_time<S: Serializer>(
    time: &chrono::NaiveDateTime,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&time.format("%Y-%m-%dT%H:%M:%S"))
}

/// Serialises an optional date as ISO 8601 (`YYYY-MM-DD`) or `null`.
#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)] // serde passes `&T`
fn ser_opt_date<S: Serializer>(
    date: &Option<NaiveDate>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match date {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

/// One point of the daily equity curve (at each session's close).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EquitySample {
    /// Session date.
    #[serde(serialize_with = "ser_date")]
    pub date: NaiveDate,
    /// Cash at the close (dollars).
    pub cash: f64,
    /// Equity at the close: cash plus open positions at their marks (dollars).
    pub equity: f64,
    /// Number of open positions at the close.
    pub open_positions: usize,
}

/// One closed (or, at the end, still open and marked) trade: a combo position
/// from opening to close.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeRecord {
    /// Position identifier.
    pub position_id: String,
    /// Name of the strategy that opened it.
    pub strategy: String,
    /// Underlying symbol.
    pub underlying: String,
    /// Market regime at entry, `"unknown"` if none.
    pub regime: String,
    /// Structure, e.g. `"put credit spread"`.
    pub structure: String,
    /// Session the position was opened.
    #[serde(serialize_with = "ser_date")]
    pub opened: NaiveDate,
    /// Session it was closed; `None` if it was still open at the end (then
    /// `pnl` is at its mark).
    #[serde(serialize_with = "ser_opt_date")]
    pub closed: Option<NaiveDate>,
    /// Number of combos.
    pub quantity: u32,
    /// Net entry price per share (dollars); negative = credit received.
    pub entry_price: f64,
    /// Net price per share of the closing fill (dollars); `None` for
    /// expiry/settlement or a position still open.
    pub exit_price: Option<f64>,
    /// Why it was closed: `"profit_target"`, `"stop_loss"`, `"expired"`,
    /// `"assigned"`, `"open at end"`, ...
    pub exit_reason: String,
    /// Profit and loss after all fees (dollars).
    pub pnl: f64,
    /// Fees paid on the trade (dollars).
    pub fees: f64,
}

/// Summary performance metrics of a run.
///
/// Daily returns are simple returns of consecutive equity samples,
/// `r_i = equity_i / equity_{i−1} − 1`. Ratios use a risk-free rate of 0 unless
/// [`Metrics::over_risk_free`] gives one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Date of the first equity sample.
    #[serde(serialize_with = "ser_date")]
    pub start: NaiveDate,
    /// Date of the last equity sample.
    #[serde(serialize_with = "ser_date")]
    pub end: NaiveDate,
    /// Number of equity samples. A backtest's curve starts at the close before its first
    /// session (the starting cash), so this is the sessions traded plus one.
    pub sessions: usize,
    /// Equity of the first sample (dollars).
    pub starting_equity: f64,
    /// Equity of the last sample (dollars).
    pub ending_equity: f64,
    /// Total return as a fraction: `ending / starting − 1`.
    pub total_return: f64,
    /// Annualised return as a fraction:
    /// `(ending / starting)^(252 / (sessions − 1)) − 1`; 0 with fewer than 2
    /// samples. Can overflow to infinity for huge returns over few sessions.
    pub annualised_return: f64,
    /// Annualised volatility as a fraction: sample standard deviation (n − 1
    /// denominator) of daily returns × √252; 0 with fewer than 2 returns.
    pub annualised_volatility: f64,
    /// Sharpe ratio: mean daily excess return / its sample standard deviation
    /// × √252, the excess over the risk-free rate ([`Metrics::risk_free_rate`],
    /// 0 unless [`Metrics::over_risk_free`] set one); 0 when the standard
    /// deviation is 0 or undefined.
    pub sharpe: f64,
    /// Sortino ratio, target the risk-free rate (0 unless set): mean daily
    /// excess return / downside deviation × √252, where the downside deviation
    /// is `sqrt(mean over ALL daily excess returns of min(r, 0)²)` (days above
    /// the target count as 0 in the mean); 0 when the downside deviation is 0.
    pub sortino: f64,
    /// The risk-free rate Sharpe and Sortino are measured over, annualised (the mean daily
    /// risk-free return × 252); 0 for none ([`Metrics::over_risk_free`]).
    pub risk_free_rate: f64,
    /// Calmar ratio: `annualised_return / max_drawdown`; 0 when the maximum
    /// drawdown is 0.
    pub calmar: f64,
    /// Maximum drawdown as a positive fraction of the running peak
    /// (0.25 = 25 %).
    pub max_drawdown: f64,
    /// Date of the peak before the maximum drawdown; `None` without drawdown.
    #[serde(serialize_with = "ser_opt_date")]
    pub max_drawdown_start: Option<NaiveDate>,
    /// Date of the trough of the maximum drawdown; `None` without drawdown.
    #[serde(serialize_with = "ser_opt_date")]
    pub max_drawdown_trough: Option<NaiveDate>,
    /// Longest drawdown duration over all drawdowns, in sessions: from a peak
    /// until equity first regains that peak (or the last sample if never).
    pub max_drawdown_sessions: usize,
    /// The worst calendar month's return as a fraction (−0.08 = −8 %): equity at the month's
    /// last sample over equity at the last sample before the month (the first sample, for the
    /// first month), minus 1; 0 with fewer than two samples.
    pub worst_month: f64,
    /// That month, `YYYY-MM`; `None` with fewer than two samples.
    pub worst_month_of: Option<String>,
    /// Number of closed trades (open-at-end trades are not counted).
    pub trades: usize,
    /// Winners (`pnl > 0`) / closed trades as a fraction; 0 without trades.
    pub win_rate: f64,
    /// Gross profit / gross loss of closed trades; `None` when the gross loss
    /// is 0 (no losing trades, including no trades at all).
    pub profit_factor: Option<f64>,
    /// Mean P&L of winning closed trades (dollars); 0 if none.
    pub average_win: f64,
    /// Mean P&L of losing closed trades (dollars, negative); 0 if none.
    pub average_loss: f64,
    /// Share of sessions (fraction) that closed with at least one open
    /// position.
    pub exposure: f64,
    /// Total fees paid over the run (dollars), as passed in.
    pub fees_paid: f64,
}

/// Checks the equity curve: non-empty, finite, positive equity, strictly
/// ascending dates.
fn validate_equity(equity: &[EquitySample]) -> Result<()> {
    if equity.is_empty() {
        return Err(ReportError::EmptyEquity);
    }
    let mut previous: Option<NaiveDate> = None;
    for s in equity {
        if let Some(p) = previous
            && s.date <= p
        {
            return Err(ReportError::UnorderedDates {
                previous: p,
                date: s.date,
            });
        }
        previous = Some(s.date);
        for (field, value) in [("cash", s.cash), ("equity", s.equity)] {
            if !value.is_finite() {
                return Err(ReportError::NonFiniteSample {
                    date: s.date,
                    field,
                    value,
                });
            }
        }
        if s.equity <= 0.0 {
            return Err(ReportError::NonPositiveEquity {
                date: s.date,
                value: s.equity,
            });
        }
    }
    Ok(())
}

/// Checks that every number of every trade is finite.
fn validate_trades(trades: &[TradeRecord]) -> Result<()> {
    for t in trades {
        let fields = [
            ("entry_price", Some(t.entry_price)),
            ("exit_price", t.exit_price),
            ("pnl", Some(t.pnl)),
            ("fees", Some(t.fees)),
        ];
        for (field, value) in fields {
            if let Some(value) = value
                && !value.is_finite()
            {
                return Err(ReportError::NonFiniteTrade {
                    position_id: t.position_id.clone(),
                    field,
                    value,
                });
            }
        }
    }
    Ok(())
}

/// Drawdown of each sample as a fraction below the running peak of equity
/// (0 at a new peak, 0.1 = 10 % below the peak). Empty input gives an empty
/// vector. Assumes positive equity (as [`Metrics::compute`] checks).
#[must_use]
pub fn drawdown_series(equity: &[EquitySample]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|s| {
            if s.equity >= peak {
                peak = s.equity;
                0.0
            } else {
                1.0 - s.equity / peak
            }
        })
        .collect()
}

/// Maximum drawdown, its peak and trough indices, and the longest drawdown
/// duration in sessions.
struct Drawdowns {
    max: f64,
    peak_trough: Option<(usize, usize)>,
    longest: usize,
}

fn drawdowns(equity: &[EquitySample]) -> Drawdowns {
    let series = drawdown_series(equity);
    let mut max = 0.0;
    let mut peak_trough = None;
    let mut longest = 0;
    let mut peak_idx = 0;
    let mut in_drawdown = false;
    for (i, &dd) in series.iter().enumerate() {
        if dd == 0.0 {
            // At or above the running peak: a drawdown (if any) has ended.
            if in_drawdown {
                longest = longest.max(i - peak_idx);
                in_drawdown = false;
            }
            peak_idx = i;
        } else {
            in_drawdown = true;
            if dd > max {
                max = dd;
                peak_trough = Some((peak_idx, i));
            }
        }
    }
    if in_drawdown {
        longest = longest.max(series.len() - 1 - peak_idx);
    }
    Drawdowns {
        max,
        peak_trough,
        longest,
    }
}

/// The worst calendar month's return and the month (`YYYY-MM`); `(0, None)` with fewer than
/// two samples. See [`Metrics::worst_month`].
fn worst_month(equity: &[EquitySample]) -> (f64, Option<String>) {
    use chrono::Datelike;
    let Some(first) = equity.first() else {
        return (0.0, None);
    };
    let mut base = first.equity;
    let mut worst: Option<(f64, NaiveDate)> = None;
    for (i, s) in equity.iter().enumerate().skip(1) {
        let month_ends = equity.get(i + 1).is_none_or(|next| {
            (next.date.year(), next.date.month()) != (s.date.year(), s.date.month())
        });
        if month_ends {
            let r = s.equity / base - 1.0;
            if worst.is_none_or(|(w, _)| r < w) {
                worst = Some((r, s.date));
            }
            base = s.equity;
        }
    }
    worst.map_or((0.0, None), |(r, d)| {
        (r, Some(d.format("%Y-%m").to_string()))
    })
}

/// Sample standard deviation (n − 1 denominator); 0 with fewer than two values.
fn sample_std(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    let ss: f64 = xs.iter().map(|x| (x - m).powi(2)).sum();
    (ss / (xs.len() - 1) as f64).sqrt()
}

/// Sharpe and Sortino ratios, annualised, of daily `excess` returns (the returns less the
/// risk-free return of each day; the returns themselves at a zero rate): mean / sample
/// standard deviation × √252, and mean / downside deviation × √252 with the downside
/// deviation `sqrt(mean over all days of min(excess, 0)²)`; 0 where the deviation is 0.
fn ratios(excess: &[f64]) -> (f64, f64) {
    let annualisation = SESSIONS_PER_YEAR.sqrt();
    let mean_r = mean(excess);
    let std = sample_std(excess);
    let sharpe = if std > 0.0 {
        mean_r / std * annualisation
    } else {
        0.0
    };
    let downside: Vec<f64> = excess.iter().map(|r| r.min(0.0).powi(2)).collect();
    let downside_dev = mean(&downside).sqrt();
    let sortino = if downside_dev > 0.0 {
        mean_r / downside_dev * annualisation
    } else {
        0.0
    };
    (sharpe, sortino)
}

/// Mean of a slice; 0 when empty.
fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

impl Metrics {
    /// Measures Sharpe and Sortino over a risk-free rate instead of zero: `risk_free[i]` is
    /// the return cash earned from sample `i` to sample `i + 1` of `equity` (the curve these
    /// metrics were computed from), so that each daily return is taken less it. Sets
    /// [`Metrics::risk_free_rate`]. A run whose idle cash earns interest should be measured
    /// so: at a zero rate the interest alone would look like skill.
    pub fn over_risk_free(&mut self, equity: &[EquitySample], risk_free: &[f64]) {
        let excess: Vec<f64> = equity
            .windows(2)
            .zip(risk_free)
            .map(|(w, rf)| w[1].equity / w[0].equity - 1.0 - rf)
            .collect();
        (self.sharpe, self.sortino) = ratios(&excess);
        self.risk_free_rate = mean(risk_free) * SESSIONS_PER_YEAR;
    }

    /// Computes the metrics of a run from its daily equity curve, its trades
    /// and the total fees paid (dollars).
    ///
    /// Only closed trades (`closed.is_some()`) count in the trade statistics.
    ///
    /// # Errors
    /// [`ReportError::EmptyEquity`] for an empty curve,
    /// [`ReportError::UnorderedDates`] if dates are not strictly ascending,
    /// [`ReportError::NonFiniteSample`] / [`ReportError::NonPositiveEquity`]
    /// for a NaN, infinite, zero or negative equity (or non-finite cash),
    /// [`ReportError::NonFiniteTrade`] for a non-finite trade number and
    /// [`ReportError::NonFinite`] for non-finite `fees_paid`.
    pub fn compute(
        equity: &[EquitySample],
        trades: &[TradeRecord],
        fees_paid: f64,
    ) -> Result<Metrics> {
        validate_equity(equity)?;
        validate_trades(trades)?;
        if !fees_paid.is_finite() {
            return Err(ReportError::NonFinite {
                what: "fees_paid",
                value: fees_paid,
            });
        }
        let (Some(first), Some(last)) = (equity.first(), equity.last()) else {
            return Err(ReportError::EmptyEquity);
        };
        let n = equity.len();
        let growth = last.equity / first.equity;
        let total_return = growth - 1.0;
        let annualised_return = if n < 2 {
            0.0
        } else {
            growth.powf(SESSIONS_PER_YEAR / (n - 1) as f64) - 1.0
        };

        let returns: Vec<f64> = equity
            .windows(2)
            .map(|w| w[1].equity / w[0].equity - 1.0)
            .collect();
        let std = sample_std(&returns);
        let annualisation = SESSIONS_PER_YEAR.sqrt();
        let (sharpe, sortino) = ratios(&returns);

        let dd = drawdowns(equity);
        let (worst_month, worst_month_of) = worst_month(equity);
        let calmar = if dd.max > 0.0 {
            annualised_return / dd.max
        } else {
            0.0
        };

        let closed: Vec<f64> = trades
            .iter()
            .filter(|t| t.closed.is_some())
            .map(|t| t.pnl)
            .collect();
        let wins: Vec<f64> = closed.iter().copied().filter(|&p| p > 0.0).collect();
        let losses: Vec<f64> = closed.iter().copied().filter(|&p| p < 0.0).collect();
        let gross_profit: f64 = wins.iter().sum();
        let gross_loss: f64 = -losses.iter().sum::<f64>();
        let exposed = equity.iter().filter(|s| s.open_positions > 0).count();

        Ok(Metrics {
            start: first.date,
            end: last.date,
            sessions: n,
            starting_equity: first.equity,
            ending_equity: last.equity,
            total_return,
            annualised_return,
            annualised_volatility: std * annualisation,
            sharpe,
            sortino,
            risk_free_rate: 0.0,
            calmar,
            max_drawdown: dd.max,
            max_drawdown_start: dd.peak_trough.map(|(p, _)| equity[p].date),
            max_drawdown_trough: dd.peak_trough.map(|(_, t)| equity[t].date),
            max_drawdown_sessions: dd.longest,
            worst_month,
            worst_month_of,
            trades: closed.len(),
            win_rate: if closed.is_empty() {
                0.0
            } else {
                wins.len() as f64 / closed.len() as f64
            },
            profit_factor: (gross_loss > 0.0).then(|| gross_profit / gross_loss),
            average_win: mean(&wins),
            average_loss: mean(&losses),
            exposure: exposed as f64 / n as f64,
            fees_paid,
        })
    }
}

/// Totals of the trades sharing one key (a strategy, regime or underlying).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// The strategy, regime or underlying.
    pub key: String,
    /// Number of trades, open-at-end ones included.
    pub trades: usize,
    /// Trades with `pnl > 0`.
    pub wins: usize,
    /// Sum of P&L after fees (dollars), open-at-end trades at their mark.
    pub pnl: f64,
    /// Sum of fees (dollars).
    pub fees: f64,
}

/// P&L attribution by strategy, by regime at entry and by underlying.
///
/// Covers ALL trades: those still open at the end are included at their
/// marked P&L. Buckets are sorted by key (byte order), so output is
/// deterministic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// One bucket per strategy.
    pub by_strategy: Vec<Bucket>,
    /// One bucket per regime at entry.
    pub by_regime: Vec<Bucket>,
    /// One bucket per underlying.
    pub by_underlying: Vec<Bucket>,
}

impl Attribution {
    /// Groups all trades (open-at-end ones included, at their mark) by
    /// strategy, regime and underlying.
    #[must_use]
    pub fn from_trades(trades: &[TradeRecord]) -> Attribution {
        fn group(trades: &[TradeRecord], key: impl Fn(&TradeRecord) -> &str) -> Vec<Bucket> {
            let mut map: BTreeMap<&str, Bucket> = BTreeMap::new();
            for t in trades {
                let k = key(t);
                let b = map.entry(k).or_insert_with(|| Bucket {
                    key: k.to_owned(),
                    trades: 0,
                    wins: 0,
                    pnl: 0.0,
                    fees: 0.0,
                });
                b.trades += 1;
                b.wins += usize::from(t.pnl > 0.0);
                b.pnl += t.pnl;
                b.fees += t.fees;
            }
            map.into_values().collect()
        }
        Attribution {
            by_strategy: group(trades, |t| &t.strategy),
            by_regime: group(trades, |t| &t.regime),
            by_underlying: group(trades, |t| &t.underlying),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, day).unwrap()
    }

    /// 100, 110, 99, 105, 121 on 2024-03-04..08 (cash = equity).
    pub(crate) fn curve() -> Vec<EquitySample> {
        [100.0, 110.0, 99.0, 105.0, 121.0]
            .iter()
            .enumerate()
            .map(|(i, &e)| EquitySample {
                date: d(4 + i as u32),
                cash: e,
                equity: e,
                open_positions: usize::from(i % 2 == 1),
            })
            .collect()
    }

    pub(crate) fn trade(
        id: &str,
        strategy: &str,
        regime: &str,
        underlying: &str,
        closed: bool,
        pnl: f64,
    ) -> TradeRecord {
        TradeRecord {
            position_id: id.to_owned(),
            strategy: strategy.to_owned(),
            underlying: underlying.to_owned(),
            regime: regime.to_owned(),
            structure: "put credit spread".to_owned(),
            opened: d(4),
            closed: closed.then(|| d(6)),
            quantity: 1,
            entry_price: -1.25,
            exit_price: closed.then_some(0.5),
            exit_reason: if closed {
                "profit_target"
            } else {
                "open at end"
            }
            .to_owned(),
            pnl,
            fees: 2.0,
        }
    }

    /// Wins 100, 50, losses −30, −20, and one open trade marked at +40.
    pub(crate) fn trades() -> Vec<TradeRecord> {
        vec![
            trade("p1", "wheel", "calm", "SPY", true, 100.0),
            trade("p2", "condor", "calm", "QQQ", true, 50.0),
            trade("p3", "wheel", "stress", "SPY", true, -30.0),
            trade("p4", "condor", "calm", "SPY", true, -20.0),
            trade("p5", "wheel", "unknown", "IWM", false, 40.0),
        ]
    }

    fn close(actual: f64, expected: f64) {
        let rel = ((actual - expected) / expected).abs();
        assert!(rel <= 1e-12, "{actual} vs {expected} (rel {rel:e})");
    }

    #[test]
    fn equity_metrics_by_hand() {
        let m = Metrics::compute(&curve(), &[], 12.5).unwrap();
        assert_eq!(m.sessions, 5);
        assert_eq!((m.start, m.end), (d(4), d(8)));
        close(m.total_return, 0.21);
        // Daily returns: 1/10, −1/10, 105/99 − 1 = 2/33, 121/105 − 1 = 16/105.
        // Mean = 41/770 ≈ 0.0532467532.
        // Sample variance = Σ(r − mean)² / 3 = 18971/1600830,
        // std = 0.10886104645438155790, vol = std·√252 = 1.72811553828325984668.
        close(m.annualised_volatility, 1.728_115_538_283_259_8);
        // Sharpe = mean/std·√252 = 7.76463235294537905600.
        close(m.sharpe, 7.764_632_352_945_379);
        // Downside: min(r,0)² = 0, 1/100, 0, 0; mean over all 4 days = 1/400,
        // deviation = 0.05; Sortino = (41/770)/0.05·√252 = 16.90532006550361779905.
        close(m.sortino, 16.905_320_065_503_618);
        // Annualised: 1.21^(252/4) − 1 = 1.1^126 − 1 = 164238.77066398384243.
        close(m.annualised_return, 164_238.770_663_983_84);
        close(m.max_drawdown, 0.1); // 110 → 99
        assert_eq!(m.max_drawdown_start, Some(d(5)));
        assert_eq!(m.max_drawdown_trough, Some(d(6)));
        // Peak 110 at index 1, first regained (121) at index 4 → 3 sessions.
        assert_eq!(m.max_drawdown_sessions, 3);
        close(m.calmar, 1_642_387.706_639_838_4);
        close(m.exposure, 0.4); // open positions on indices 1 and 3
        assert_eq!(m.fees_paid, 12.5);
        assert_eq!(m.trades, 0);
        assert_eq!(m.win_rate, 0.0);
        assert_eq!(m.profit_factor, None);
    }

    #[test]
    fn ratios_over_a_risk_free_rate_by_hand() {
        let mut m = Metrics::compute(&curve(), &[], 0.0).unwrap();
        // 1 % a day of risk-free return: the excess returns are the returns less 0.01, with
        // the same standard deviation 0.10886104645438155790 (a constant shift) and mean
        // 41/770 − 0.01: Sharpe = 0.04324675324675324675 / 0.10886… × √252 = 6.30640…
        m.over_risk_free(&curve(), &[0.01; 4]);
        close(
            m.sharpe,
            (41.0 / 770.0 - 0.01) / 0.108_861_046_454_381_56 * 252f64.sqrt(),
        );
        close(m.risk_free_rate, 2.52);
        // Downside: min(r − 0.01, 0)² = 0, 0.11², 0, 0: deviation √(0.0121 / 4) = 0.055.
        close(m.sortino, (41.0 / 770.0 - 0.01) / 0.055 * 252f64.sqrt());
        // Return, volatility and drawdown do not depend on it.
        close(m.annualised_volatility, 1.728_115_538_283_259_8);
    }

    #[test]
    fn worst_month_by_hand() {
        let sample = |date: NaiveDate, equity: f64| EquitySample {
            date,
            cash: equity,
            equity,
            open_positions: 0,
        };
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2023, m, d).unwrap();
        // From 100 (30 Dec 2022): January ends at 104 (+4 %), February at 91 (91/104 − 1 =
        // −12.5 %, though its low was 90), March at 95 (+4.4 %).
        let curve = [
            sample(NaiveDate::from_ymd_opt(2022, 12, 30).unwrap(), 100.0),
            sample(day(1, 3), 102.0),
            sample(day(1, 31), 104.0),
            sample(day(2, 1), 90.0),
            sample(day(2, 28), 91.0),
            sample(day(3, 31), 95.0),
        ];
        let m = Metrics::compute(&curve, &[], 0.0).unwrap();
        close(m.worst_month, 91.0 / 104.0 - 1.0);
        assert_eq!(m.worst_month_of.as_deref(), Some("2023-02"));
        let one = Metrics::compute(&curve[..1], &[], 0.0).unwrap();
        assert_eq!((one.worst_month, one.worst_month_of), (0.0, None));
    }

    #[test]
    fn drawdown_series_by_hand() {
        let dd = drawdown_series(&curve());
        let expected = [0.0, 0.0, 0.1, 1.0 - 105.0 / 110.0, 0.0];
        assert_eq!(dd.len(), 5);
        for (a, e) in dd.iter().zip(expected) {
            assert!((a - e).abs() < 1e-15, "{a} vs {e}");
        }
        assert!(drawdown_series(&[]).is_empty());
    }

    #[test]
    fn drawdown_never_regained_counts_to_end() {
        // 100, 120 (peak, idx 1), 90, 110, 115: never regained → 4 − 1 = 3;
        // an earlier short drawdown must not win.
        let mut c = curve();
        for (s, e) in c.iter_mut().zip([100.0, 120.0, 90.0, 110.0, 115.0]) {
            s.equity = e;
        }
        let m = Metrics::compute(&c, &[], 0.0).unwrap();
        assert_eq!(m.max_drawdown_sessions, 3);
        close(m.max_drawdown, 0.25);
        assert_eq!(m.max_drawdown_trough, Some(d(6)));
    }

    #[test]
    fn single_and_flat_curves() {
        let one = &curve()[..1];
        let m = Metrics::compute(one, &[], 0.0).unwrap();
        assert_eq!(m.sessions, 1);
        assert_eq!(
            (m.total_return, m.annualised_return, m.sharpe, m.sortino),
            (0.0, 0.0, 0.0, 0.0)
        );
        let mut flat = curve();
        for s in &mut flat {
            s.equity = 50.0;
        }
        let m = Metrics::compute(&flat, &[], 0.0).unwrap();
        assert_eq!((m.annualised_volatility, m.sharpe), (0.0, 0.0));
        assert_eq!((m.max_drawdown, m.max_drawdown_sessions), (0.0, 0));
        assert_eq!(m.max_drawdown_start, None);
        assert_eq!(m.calmar, 0.0);
    }

    #[test]
    fn trade_stats_count_closed_trades_only() {
        let m = Metrics::compute(&curve(), &trades(), 10.0).unwrap();
        assert_eq!(m.trades, 4);
        assert_eq!(m.win_rate, 0.5);
        assert_eq!(m.profit_factor, Some(3.0)); // 150 / 50
        assert_eq!(m.average_win, 75.0);
        assert_eq!(m.average_loss, -25.0);
    }

    #[test]
    fn profit_factor_none_without_losses() {
        let t = vec![trade("a", "s", "r", "SPY", true, 10.0)];
        let m = Metrics::compute(&curve(), &t, 0.0).unwrap();
        assert_eq!(m.profit_factor, None);
        assert_eq!((m.win_rate, m.average_loss), (1.0, 0.0));
    }

    #[test]
    fn attribution_includes_open_trades_sorted() {
        let a = Attribution::from_trades(&trades());
        let b = |key: &str, trades, wins, pnl| Bucket {
            key: key.to_owned(),
            trades,
            wins,
            pnl,
            fees: 2.0 * trades as f64,
        };
        assert_eq!(
            a.by_strategy,
            vec![b("condor", 2, 1, 30.0), b("wheel", 3, 2, 110.0)]
        );
        assert_eq!(
            a.by_regime,
            vec![
                b("calm", 3, 2, 130.0),
                b("stress", 1, 0, -30.0),
                b("unknown", 1, 1, 40.0)
            ]
        );
        assert_eq!(
            a.by_underlying,
            vec![
                b("IWM", 1, 1, 40.0),
                b("QQQ", 1, 1, 50.0),
                b("SPY", 3, 1, 50.0)
            ]
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(
            Metrics::compute(&[], &[], 0.0),
            Err(ReportError::EmptyEquity)
        ));

        let mut c = curve();
        c.swap(2, 3);
        let e = Metrics::compute(&c, &[], 0.0).unwrap_err();
        assert!(matches!(e, ReportError::UnorderedDates { date, .. } if date == d(6)));
        assert!(e.to_string().contains("2024-03-06"), "{e}");

        let mut c = curve();
        c[2].date = c[1].date; // duplicate date
        assert!(matches!(
            Metrics::compute(&c, &[], 0.0),
            Err(ReportError::UnorderedDates { .. })
        ));

        let mut c = curve();
        c[3].equity = f64::NAN;
        let e = Metrics::compute(&c, &[], 0.0).unwrap_err();
        assert!(
            matches!(e, ReportError::NonFiniteSample { field: "equity", date, .. } if date == d(7))
        );

        let mut c = curve();
        c[0].equity = 0.0;
        assert!(matches!(
            Metrics::compute(&c, &[], 0.0),
            Err(ReportError::NonPositiveEquity { .. })
        ));

        let mut t = trades();
        t[1].pnl = f64::INFINITY;
        let e = Metrics::compute(&curve(), &t, 0.0).unwrap_err();
        assert!(e.to_string().contains("p2"), "{e}");

        assert!(matches!(
            Metrics::compute(&curve(), &[], f64::NAN),
            Err(ReportError::NonFinite { .. })
        ));
    }
}
