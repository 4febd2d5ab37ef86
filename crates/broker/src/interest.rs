//! Interest on idle cash: a short-rate schedule accrued ACT/360, one calendar day at a time.
//!
//! A cash balance swept into Treasury bills (or a money-market fund holding them) earns the
//! bill rate. FRED's DTB3 (3-month bill, secondary market) and DFF (effective federal funds)
//! are both quoted as simple annual rates on a 360-day year, so a day's interest on balance
//! `B` at rate `r` is `B · r / 360`, and a weekend or holiday accrues at the rate of the last
//! business day before it (as fed funds and a bill held over the weekend do). DTB3 is quoted
//! on a bank discount basis; taking it as a simple ACT/360 yield understates the bill's money
//! market yield by `d² · t / 360` (about 0.07 points at 5 % for 91 days): the conservative
//! side, and the convention Cboe's PUT index uses for its Treasury-bill account.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use volta_core::Money;

use crate::error::{BrokerError, Result};

/// Days in the money-market year.
const DAY_COUNT_BASIS: Decimal = Decimal::from_parts(360, 0, 0, false, 0);

/// A short-rate schedule for interest on idle cash: from each date on, a simple annual rate
/// (per 1.0: 0.0535 = 5.35 %), ACT/360, until the next date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashInterest {
    source: String,
    rates: Vec<(NaiveDate, Decimal)>,
}

impl CashInterest {
    /// A schedule named `source` (for the report, e.g. "FRED DTB3") from `(date, rate per 1.0)`
    /// pairs: each rate holds from its date until the next pair's date.
    ///
    /// # Errors
    /// [`BrokerError::InvalidConfig`] for no rate, dates that do not ascend strictly, or a
    /// rate that is not finite or outside −5 %…30 % (far outside anything published).
    pub fn try_new(source: impl Into<String>, rates: &[(NaiveDate, f64)]) -> Result<Self> {
        let bad = |value: String, requirement: &'static str| BrokerError::InvalidConfig {
            name: "cash_interest",
            value,
            requirement,
        };
        if rates.is_empty() {
            return Err(bad("[]".to_owned(), "at least one rate"));
        }
        if let Some(w) = rates.windows(2).find(|w| w[0].0 >= w[1].0) {
            return Err(bad(
                format!("{} then {}", w[0].0, w[1].0),
                "dates ascending strictly",
            ));
        }
        let mut schedule = Vec::with_capacity(rates.len());
        for &(date, rate) in rates {
            let value = Decimal::from_f64_retain(rate)
                .filter(|_| (-0.05..=0.30).contains(&rate))
                .ok_or_else(|| {
                    bad(
                        format!("{rate} on {date}"),
                        "a rate per 1.0 between -0.05 and 0.30",
                    )
                })?;
            // The published precision (two decimals of a percent) and no binary noise.
            schedule.push((date, value.round_dp(8).normalize()));
        }
        Ok(Self {
            source: source.into(),
            rates: schedule,
        })
    }

    /// One rate from `from` on (a synthetic market's constant rate).
    ///
    /// # Errors
    /// As [`CashInterest::try_new`].
    pub fn constant(source: impl Into<String>, rate: f64, from: NaiveDate) -> Result<Self> {
        Self::try_new(source, &[(from, rate)])
    }

    /// Where the rates come from, as given.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The rate in force on `date` (per 1.0): the last one dated on or before it; `None` before
    /// the first.
    #[must_use]
    pub fn rate_on(&self, date: NaiveDate) -> Option<Decimal> {
        let after = self.rates.partition_point(|(d, _)| *d <= date);
        after.checked_sub(1).map(|i| self.rates[i].1)
    }

    /// Interest on `idle` dollars held from the close of `from` to the close of `to`: each
    /// calendar day in `from..to` earns `idle × rate_on(day) / 360` (days before the first rate
    /// earn nothing), the sum rounded to the cent. Zero when `to` is not after `from`.
    #[must_use]
    pub fn accrue(&self, idle: Money, from: NaiveDate, to: NaiveDate) -> Money {
        Money::new(idle.value() * self.rate_days(from, to) / DAY_COUNT_BASIS).round_to_cents()
    }

    /// What one dollar of cash earns from the close of `from` to the close of `to` (simple,
    /// unrounded): the risk-free return of that stretch, for Sharpe and Sortino ratios.
    #[must_use]
    pub fn simple_return(&self, from: NaiveDate, to: NaiveDate) -> f64 {
        Money::new(self.rate_days(from, to) / DAY_COUNT_BASIS).to_f64()
    }

    /// The sum of the rates in force on each calendar day of `from..to`.
    fn rate_days(&self, from: NaiveDate, to: NaiveDate) -> Decimal {
        let mut rate_days = Decimal::ZERO;
        let mut day = from;
        while day < to {
            rate_days += self.rate_on(day).unwrap_or(Decimal::ZERO);
            let Some(next) = day.checked_add_days(Days::new(1)) else {
                break;
            };
            day = next;
        }
        rate_days
    }

    /// The mean rate (per 1.0) over the calendar days `from..=to`, for the report; `None` when
    /// no day of it has a rate.
    #[must_use]
    pub fn mean_rate(&self, from: NaiveDate, to: NaiveDate) -> Option<f64> {
        let (mut sum, mut days) = (0.0, 0_u32);
        let mut day = from;
        while day <= to {
            if let Some(r) = self.rate_on(day) {
                sum += Money::new(r).to_f64();
                days += 1;
            }
            let Some(next) = day.checked_add_days(Days::new(1)) else {
                break;
            };
            day = next;
        }
        (days > 0).then(|| sum / f64::from(days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn money(s: &str) -> Money {
        s.parse().unwrap()
    }

    /// FRED DTB3 (percent), 2023-10-02 → 2023-10-13, as in `../shared/data/rates/DTB3.csv`;
    /// 2023-10-09 (Columbus Day) is empty there and so absent here: the 6th's rate carries on.
    fn dtb3_october_2023() -> CashInterest {
        let published = [
            (d(2023, 10, 2), 5.35),
            (d(2023, 10, 3), 5.35),
            (d(2023, 10, 4), 5.34),
            (d(2023, 10, 5), 5.34),
            (d(2023, 10, 6), 5.36),
            (d(2023, 10, 10), 5.34),
            (d(2023, 10, 11), 5.34),
            (d(2023, 10, 12), 5.35),
            (d(2023, 10, 13), 5.35),
        ];
        let rates: Vec<(NaiveDate, f64)> =
            published.iter().map(|&(day, p)| (day, p / 100.0)).collect();
        CashInterest::try_new("FRED DTB3", &rates).unwrap()
    }

    #[test]
    fn a_week_of_real_dtb3_by_hand() {
        let dtb3 = dtb3_october_2023();
        // $100,000 from Friday 6 Oct's close to Friday 13 Oct's close, seven calendar days:
        // Fri, Sat, Sun and the Monday holiday at Friday's 5.36, Tue and Wed at 5.34, Thu at
        // 5.35: 4 × 5.36 + 2 × 5.34 + 5.35 = 37.47 %·days; × 100,000 / 360 / 100 = 104.0833.
        let earned = dtb3.accrue(money("100000"), d(2023, 10, 6), d(2023, 10, 13));
        assert_eq!(earned, money("104.08"));
        // One session, Wednesday to Thursday at Wednesday's 5.34: 100,000 × 0.0534 / 360.
        let one = dtb3.accrue(money("100000"), d(2023, 10, 11), d(2023, 10, 12));
        assert_eq!(one, money("14.83"));
        // A dollar over the same week: 0.3747 / 360.
        let week = dtb3.simple_return(d(2023, 10, 6), d(2023, 10, 13));
        assert!((week - 0.3747 / 360.0).abs() < 1e-15, "{week}");
        // Nothing for no time, nothing for no cash.
        assert_eq!(
            dtb3.accrue(money("100000"), d(2023, 10, 12), d(2023, 10, 12)),
            Money::ZERO
        );
        assert_eq!(
            dtb3.accrue(Money::ZERO, d(2023, 10, 2), d(2023, 10, 13)),
            Money::ZERO
        );
    }

    #[test]
    fn rates_hold_until_the_next_and_not_before_the_first() {
        let dtb3 = dtb3_october_2023();
        assert_eq!(dtb3.rate_on(d(2023, 10, 1)), None);
        assert_eq!(dtb3.rate_on(d(2023, 10, 9)), Some(Decimal::new(536, 4)));
        assert_eq!(dtb3.rate_on(d(2023, 12, 31)), Some(Decimal::new(535, 4)));
        // From Sunday 1 Oct: the Sunday earns nothing, Monday 2 Oct's 5.35 then applies.
        assert_eq!(
            dtb3.accrue(money("36000"), d(2023, 10, 1), d(2023, 10, 3)),
            money("5.35")
        );
        let mean = dtb3.mean_rate(d(2023, 10, 2), d(2023, 10, 4)).unwrap();
        assert!((mean - (0.0535 + 0.0535 + 0.0534) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_simulated_broker_pays_on_cash_above_the_reserve() {
        use crate::{Broker, SimBroker, SimConfig};
        let mut config = SimConfig::new(
            money("100000"),
            d(2023, 10, 10).and_hms_opt(0, 0, 0).unwrap(),
        );
        config.cash_interest = Some(dtb3_october_2023());
        let mut broker = SimBroker::new(config).unwrap();
        // The first close, Tuesday 10 Oct: the starting cash earned from Monday's close (the
        // NYSE opens on Columbus Day, the bond market does not: DTB3 is empty, the 6th's 5.36
        // carries on): 100,000 × 0.0536 / 360 = 14.888… → 14.89. Then $40,000 is reserved:
        // 60,014.89 idle.
        let first = broker
            .accrue_interest(d(2023, 10, 10), money("40000"))
            .unwrap();
        assert_eq!(first, money("14.89"));
        // Wednesday: the idle cash of Tuesday's close at Tuesday's 5.34: 60,014.89 × 0.0534 /
        // 360 = 8.902… → 8.90; 60,023.79 idle.
        let second = broker
            .accrue_interest(d(2023, 10, 11), money("40000"))
            .unwrap();
        assert_eq!(second, money("8.90"));
        // The same close twice pays once.
        assert_eq!(
            broker
                .accrue_interest(d(2023, 10, 11), Money::ZERO)
                .unwrap(),
            Money::ZERO
        );
        // Thursday: Wednesday's idle cash earned 60,023.79 × 0.0534 / 360 = 8.903… → 8.90;
        // then everything is reserved, so Friday earns nothing.
        let third = broker
            .accrue_interest(d(2023, 10, 12), money("200000"))
            .unwrap();
        assert_eq!(third, money("8.90"));
        assert_eq!(
            broker
                .accrue_interest(d(2023, 10, 13), Money::ZERO)
                .unwrap(),
            Money::ZERO
        );
        assert_eq!(broker.interest_earned(), money("32.69"));
        assert_eq!(broker.account().cash, money("100032.69"));
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert!(CashInterest::try_new("x", &[]).is_err());
        assert!(
            CashInterest::try_new("x", &[(d(2023, 1, 3), 0.05), (d(2023, 1, 3), 0.05)]).is_err()
        );
        assert!(CashInterest::constant("x", f64::NAN, d(2023, 1, 3)).is_err());
        assert!(CashInterest::constant("x", 5.0, d(2023, 1, 3)).is_err());
        // A negative bill rate (DTB3 printed −0.05 % in 2020) is a real one: it costs.
        let negative = CashInterest::constant("x", -0.0005, d(2020, 3, 1)).unwrap();
        assert_eq!(
            negative.accrue(money("360000"), d(2020, 3, 2), d(2020, 3, 3)),
            money("-0.5")
        );
    }
}
