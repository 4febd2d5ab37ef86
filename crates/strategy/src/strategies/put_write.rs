//! [`PutWrite`]: the PUT-write yardstick, after the Cboe S&P 500 `PutWrite` index (PUT).

use chrono::Datelike;
use volta_core::NyseCalendar;
use volta_core::expiry::monthly_expiry;

use crate::error::Result;
use crate::exit::ExitRules;
use crate::proposal::Proposal;
use crate::select::ExpirySlice;
use crate::strategy::Strategy;
use crate::structures::{Pricing, short_put};
use crate::view::MarketView;

/// Sells the at-the-money put of the next standard monthly expiry on every underlying it does
/// not hold, and holds it to expiry (no exit rule: the broker settles or assigns it). With the
/// one-position-per-underlying, whole-account risk limits of the backtest's yardstick, the
/// risk manager sizes each sale to the cash that secures it, so the position is rolled the
/// first session after each monthly expiry, as Cboe's PUT index rolls on each third Friday.
///
/// Cboe's PUT sells SPX puts (cash settled, AM) and holds the cash in one- and three-month
/// Treasury bills; this replica sells the run's own chains (for SPY, QQQ and IWM: physically
/// settled puts, an assignment delivering shares the engine sells at the next open), whole
/// contracts only, at the fills and fees of the strategies. It ignores the regime and the IV
/// rank: a yardstick does not time the market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutWrite {
    name: String,
}

impl PutWrite {
    /// The name its positions are tagged with.
    pub const NAME: &'static str = "put_write";

    /// The yardstick.
    #[must_use]
    pub fn new() -> Self {
        Self {
            name: Self::NAME.to_owned(),
        }
    }
}

impl Default for PutWrite {
    fn default() -> Self {
        Self::new()
    }
}

/// The first standard monthly expiry after `today` (the third Friday, or the session before it
/// when that is a holiday): on the expiry day itself, the next month's.
///
/// # Errors
/// [`crate::StrategyError::Core`] outside the calendar.
pub fn next_monthly_expiry(today: chrono::NaiveDate) -> Result<chrono::NaiveDate> {
    let this_month = monthly_expiry(NyseCalendar, today.year(), today.month())?;
    if this_month > today {
        return Ok(this_month);
    }
    let (year, month) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    Ok(monthly_expiry(NyseCalendar, year, month)?)
}

impl Strategy for PutWrite {
    fn name(&self) -> &str {
        &self.name
    }

    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        let mut out = Vec::new();
        let expiry = next_monthly_expiry(view.as_of().date())?;
        for u in view.underlyings() {
            if view.holds(&self.name, u.symbol()) || !u.chain().expiries().any(|e| e == expiry) {
                continue;
            }
            let slice = ExpirySlice::new(u.chain(), expiry, u.rates());
            if let Some(trade) = short_put(&slice, Pricing::default())? {
                let why = format!(
                    "PUT-write: the at-the-money put of the {expiry} monthly, {} at {:.2}",
                    u.symbol(),
                    slice.spot
                );
                out.push(Proposal::open(&self.name, trade, why));
            }
        }
        Ok(out)
    }

    fn exit_rules(&self, strategy: &str) -> Option<ExitRules> {
        // Held to expiry: no rule closes it early.
        let _ = strategy;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_next_monthly_expiry() {
        // June 2019's third Friday is the 21st.
        assert_eq!(next_monthly_expiry(d(2019, 6, 3)).unwrap(), d(2019, 6, 21));
        assert_eq!(next_monthly_expiry(d(2019, 6, 20)).unwrap(), d(2019, 6, 21));
        // On expiry day and after it: July's, the 19th.
        assert_eq!(next_monthly_expiry(d(2019, 6, 21)).unwrap(), d(2019, 7, 19));
        assert_eq!(next_monthly_expiry(d(2019, 6, 24)).unwrap(), d(2019, 7, 19));
        // Over the year end, and Good Friday 2014 (18 April) moved to Thursday the 17th.
        assert_eq!(
            next_monthly_expiry(d(2019, 12, 23)).unwrap(),
            d(2020, 1, 17)
        );
        assert_eq!(next_monthly_expiry(d(2014, 4, 1)).unwrap(), d(2014, 4, 17));
    }
}
