//! Exit rules: when an open position is closed (profit target, stop loss, days to expiry,
//! expiry itself) or rolled, and what closing it costs now. Pure functions of a position's
//! entry, its expiry and the quotes; [`crate::manage`] turns a firing rule into a proposal.
//!
//! Prices follow the combo convention of [`volta_core::order`]: a position was opened by a BUY
//! of its legs at net price `entry` per share (negative for a credit) and is closed by a SELL of
//! the same legs at the net price `exit` (negative: paid). Its P&L per share is `exit − entry`.
//! For a credit position the reference amount is the credit (−entry), for a debit position the
//! debit (entry); targets and stops are fractions of it.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::ChainSnapshot;
use volta_core::order::{ComboOrder, Instrument, LegAction};

use crate::error::{Result, StrategyError};
use crate::select::days_to;

/// The exit rules of a strategy (a config table: every field defaults to [`ExitRules::default`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExitRules {
    /// Close when the P&L reaches this fraction of the credit (or debit): 0.5 = 50 %.
    pub profit_target: f64,
    /// Close when the loss reaches this multiple of the credit (or fraction of the debit):
    /// 2.0 = a loss of twice the credit.
    pub stop_loss: f64,
    /// Close (or roll) when this few calendar days are left; `None` holds to the last session.
    pub exit_days_to_expiry: Option<i64>,
    /// At the days-to-expiry exit, roll (close and reopen the same structure in the entry
    /// window) instead of only closing — when the position is not at a loss beyond the stop.
    pub roll_at_exit: bool,
    /// On the last trading day (the expiry day; the session before it for AM-settled series),
    /// close at the last snapshot rather than let the broker settle (avoids assignment and pin
    /// risk on physically settled options, and the opening-print gap of AM settlement).
    pub close_on_expiry_day: bool,
}

impl Default for ExitRules {
    /// The tastytrade-style defaults of the original plan: 50 % of the credit, a stop at 2× the
    /// credit, out at 21 days, no roll, closed on expiry day.
    fn default() -> Self {
        Self {
            profit_target: 0.5,
            stop_loss: 2.0,
            exit_days_to_expiry: Some(21),
            roll_at_exit: false,
            close_on_expiry_day: true,
        }
    }
}

impl ExitRules {
    /// Checks the settings, naming the strategy in the error.
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] for a non-positive target or stop or a negative
    /// days-to-expiry exit.
    pub fn validate(&self, strategy: &str) -> Result<()> {
        let bad = |field, value: String, requirement| StrategyError::InvalidConfig {
            strategy: strategy.to_owned(),
            field,
            value,
            requirement,
        };
        if !(self.profit_target.is_finite() && self.profit_target > 0.0) {
            return Err(bad(
                "profit_target",
                self.profit_target.to_string(),
                "a positive fraction of the credit",
            ));
        }
        if !(self.stop_loss.is_finite() && self.stop_loss > 0.0) {
            return Err(bad(
                "stop_loss",
                self.stop_loss.to_string(),
                "a positive multiple of the credit",
            ));
        }
        if let Some(d) = self.exit_days_to_expiry
            && d < 0
        {
            return Err(bad("exit_days_to_expiry", d.to_string(), "0 or more days"));
        }
        Ok(())
    }
}

/// Why a position is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExitReason {
    /// The profit target was reached.
    ProfitTarget,
    /// The stop loss was hit.
    StopLoss,
    /// The days-to-expiry exit.
    DaysToExpiry,
    /// The days-to-expiry exit, reopened further out.
    Roll,
    /// Closed on its expiry day.
    ExpiryDay,
    /// Settled, exercised or assigned by the broker at expiry.
    Settled,
    /// Flattened by the risk manager's kill switch.
    KillSwitch,
}

impl ExitReason {
    /// The snake-case name used in reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProfitTarget => "profit_target",
            Self::StopLoss => "stop_loss",
            Self::DaysToExpiry => "days_to_expiry",
            Self::Roll => "roll",
            Self::ExpiryDay => "expiry_day",
            Self::Settled => "settled",
            Self::KillSwitch => "kill_switch",
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the manager knows of an open position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Held {
    /// Net price per share it was opened at (negative: a credit).
    pub entry: f64,
    /// Its (nearest) expiry.
    pub expiry: NaiveDate,
    /// The last session its first-expiring leg trades (the session before the expiry for an
    /// AM-settled series).
    pub last_trading_day: NaiveDate,
}

/// The current prices of closing a position, per share: what a SELL of its legs gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosingQuote {
    /// At the legs' mids.
    pub mid: f64,
    /// Crossing every spread (sell at the bid, buy at the ask): the worst.
    pub natural: f64,
}

/// Decides whether a position closes now, and why. Checked in this order: last trading day, stop
/// loss, profit target, days to expiry (a stop beats a target when both hold on one snapshot:
/// the conservative reading of a gap). P&L is measured at the mid; `None` quotes (a leg
/// without a two-sided quote) let only the calendar rules fire.
#[must_use]
pub fn exit_reason(
    rules: &ExitRules,
    held: Held,
    quote: Option<ClosingQuote>,
    as_of: NaiveDateTime,
) -> Option<ExitReason> {
    let days = days_to(as_of, held.expiry);
    if rules.close_on_expiry_day && as_of.date() >= held.last_trading_day {
        return Some(ExitReason::ExpiryDay);
    }
    let reference = held.entry.abs();
    if let Some(q) = quote
        && reference > 0.0
    {
        let pnl = q.mid - held.entry;
        let stop = if held.entry < 0.0 {
            rules.stop_loss * reference
        } else {
            // A debit cannot lose more than itself: the stop is a fraction of it.
            rules.stop_loss.min(1.0) * reference
        };
        if pnl <= -stop {
            return Some(ExitReason::StopLoss);
        }
        if pnl >= rules.profit_target * reference {
            return Some(ExitReason::ProfitTarget);
        }
    }
    match rules.exit_days_to_expiry {
        Some(d) if days <= d => Some(if rules.roll_at_exit {
            ExitReason::Roll
        } else {
            ExitReason::DaysToExpiry
        }),
        _ => None,
    }
}

/// What a SELL of `order`'s legs gets now, per unit, from `chain`'s quotes: `None` when a
/// leg has no two-sided quote (or is not an option).
#[must_use]
pub fn closing_quote(chain: &ChainSnapshot, order: &ComboOrder) -> Option<ClosingQuote> {
    let mut mid = 0.0;
    let mut natural = 0.0;
    for leg in order.legs() {
        let Instrument::Option(c) = &leg.instrument else {
            return None;
        };
        let q = chain.get(c.key())?;
        let (bid, ask) = (q.bid?.to_f64(), q.ask?.to_f64());
        let ratio = f64::from(leg.ratio);
        // Selling the combo sells the bought legs (at the bid) and buys back the sold ones
        // (at the ask).
        mid += leg.action.sign() as f64 * ratio * 0.5 * (bid + ask);
        natural += match leg.action {
            LegAction::Buy => ratio * bid,
            LegAction::Sell => -ratio * ask,
        };
    }
    Some(ClosingQuote { mid, natural })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, m, d)
            .unwrap()
            .and_hms_opt(15, 45, 0)
            .unwrap()
    }

    const EXPIRY: (u32, u32) = (3, 21);

    fn held(entry: f64) -> Held {
        let expiry = NaiveDate::from_ymd_opt(2025, EXPIRY.0, EXPIRY.1).unwrap();
        Held {
            entry,
            expiry,
            last_trading_day: expiry,
        }
    }

    #[expect(
        clippy::unnecessary_wraps,
        reason = "builds the Option<ClosingQuote> argument of the case table"
    )]
    fn q(mid: f64) -> Option<ClosingQuote> {
        Some(ClosingQuote {
            mid,
            natural: mid - 0.05,
        })
    }

    #[test]
    fn credit_spread_targets_and_stops_by_hand() {
        let rules = ExitRules::default();
        // Opened for a 1.50 credit. Closing now costs 0.76: P&L 0.74 < 0.75, hold.
        assert_eq!(exit_reason(&rules, held(-1.50), q(-0.76), at(2, 10)), None);
        // Costs 0.75: P&L 0.75 = 50 % of the credit.
        assert_eq!(
            exit_reason(&rules, held(-1.50), q(-0.75), at(2, 10)),
            Some(ExitReason::ProfitTarget)
        );
        // Costs 4.50: a loss of 3.00 = 2 × the credit.
        assert_eq!(
            exit_reason(&rules, held(-1.50), q(-4.50), at(2, 10)),
            Some(ExitReason::StopLoss)
        );
        assert_eq!(exit_reason(&rules, held(-1.50), q(-4.49), at(2, 10)), None);
        // 21 days before 2025-03-21 is 2025-02-28: out, whatever the P&L.
        assert_eq!(exit_reason(&rules, held(-1.50), q(-1.40), at(2, 27)), None);
        assert_eq!(
            exit_reason(&rules, held(-1.50), q(-1.40), at(2, 28)),
            Some(ExitReason::DaysToExpiry)
        );
        let roll = ExitRules {
            roll_at_exit: true,
            ..rules
        };
        assert_eq!(
            exit_reason(&roll, held(-1.50), q(-1.40), at(2, 28)),
            Some(ExitReason::Roll)
        );
        // No quote: only the calendar speaks.
        assert_eq!(exit_reason(&rules, held(-1.50), None, at(2, 10)), None);
        assert_eq!(
            exit_reason(&rules, held(-1.50), None, at(3, 21)),
            Some(ExitReason::ExpiryDay)
        );
    }

    #[test]
    fn debit_positions_stop_at_most_at_their_debit() {
        let rules = ExitRules {
            stop_loss: 0.5,
            exit_days_to_expiry: None,
            ..ExitRules::default()
        };
        // Paid 3.00; worth 1.50 now: lost half.
        assert_eq!(
            exit_reason(&rules, held(3.0), q(1.5), at(2, 10)),
            Some(ExitReason::StopLoss)
        );
        // Worth 4.50: made 50 %.
        assert_eq!(
            exit_reason(&rules, held(3.0), q(4.5), at(2, 10)),
            Some(ExitReason::ProfitTarget)
        );
        assert_eq!(exit_reason(&rules, held(3.0), q(3.2), at(3, 20)), None);
    }

    #[test]
    fn an_am_settled_position_closes_the_session_before_its_expiry() {
        // SPX 2019-06-21 (AM): trading stops at Thursday 06-20's close.
        let contract =
            volta_core::OptionContract::from_key("SPX   190621P02700000".parse().unwrap());
        let held = Held {
            entry: -2.0,
            expiry: contract.expiry(),
            last_trading_day: contract.last_trading_day(),
        };
        assert_eq!(
            held.last_trading_day,
            NaiveDate::from_ymd_opt(2019, 6, 20).unwrap()
        );
        let rules = ExitRules {
            exit_days_to_expiry: None,
            ..ExitRules::default()
        };
        let on = |d: u32| {
            NaiveDate::from_ymd_opt(2019, 6, d)
                .unwrap()
                .and_hms_opt(15, 45, 0)
                .unwrap()
        };
        assert_eq!(exit_reason(&rules, held, None, on(19)), None);
        assert_eq!(
            exit_reason(&rules, held, None, on(20)),
            Some(ExitReason::ExpiryDay)
        );
        // The PM series of the same date trades through the 21st.
        let pm = volta_core::OptionContract::from_key("SPXW  190621P02700000".parse().unwrap());
        let held = Held {
            last_trading_day: pm.last_trading_day(),
            ..held
        };
        assert_eq!(exit_reason(&rules, held, None, on(20)), None);
        assert_eq!(
            exit_reason(&rules, held, None, on(21)),
            Some(ExitReason::ExpiryDay)
        );
    }

    #[test]
    fn bad_rules_are_named() {
        let err = ExitRules {
            stop_loss: -1.0,
            ..ExitRules::default()
        }
        .validate("iv_rank")
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "strategy `iv_rank` setting `stop_loss` = -1: must be a positive multiple of the credit"
        );
    }
}
