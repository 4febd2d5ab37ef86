//! Ex-dividend schedules: when an underlying goes ex-dividend and by how much, so that the
//! simulated broker can assign short in-the-money American calls early, the evening before.
//!
//! This module only says what the dividends are; it does not book them and knows nothing of
//! brokers (the engine turns an [`ExDividend`] into the broker's dividend).
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_core::{DailyBar, Price};
//! use volta_data::dividends::{self, Provenance};
//!
//! # fn main() -> volta_data::Result<()> {
//! let day = |m, d| NaiveDate::from_ymd_opt(2019, m, d).unwrap();
//! let p = |s: &str| s.parse::<Price>().unwrap();
//! // SPY's close on 2019-03-14, the session before the third Friday of March 2019.
//! let (open, high, low, close) = (p("281.37"), p("281.84"), p("280.67"), p("281.16"));
//! let closes = [DailyBar::try_new(day(3, 14), open, high, low, close, 0)?];
//!
//! let schedule = dividends::spy_schedule(day(1, 1), day(3, 31), &closes, &[])?;
//! assert_eq!(schedule.len(), 1);
//! assert_eq!(schedule[0].ex_date, day(3, 15));
//! // 0.4 % of the close before (1.6 % a year): 281.16 × 0.004 = 1.12464 → 1.1246.
//! assert_eq!(schedule[0].amount, p("1.1246"));
//! assert!(matches!(schedule[0].provenance, Provenance::Estimated { .. }));
//! # Ok(())
//! # }
//! ```
//!
//! With the shared data folder, the recorded 2021 dividends replace the estimates of their
//! quarters: `spy_schedule(from, to, &closes, &spy_recorded(&DataDir::from_env())?)`.
//!
//! # Sources and approximations
//!
//! - **Recorded**: SPY's four 2021 ex-dividends, from Tiingo's `divCash` column in
//!   `underlying/SPY_tiingo_2021.csv` ([`DataDir::tiingo_bars`]): 1.2778 on 2021-03-19, 1.3759
//!   on 06-18, 1.4281 on 09-17 and 1.6335 on 12-17, dollars per share. Tiingo puts the cash on
//!   the ex-date's row. They are the only real dividends in the folder.
//! - **Dates elsewhere**: SPY goes ex-dividend on the third Friday of March, June, September
//!   and December, or the session before when that Friday is a holiday (the monthly option
//!   expiry's rule, [`volta_core::expiry::monthly_expiry`]; Good Friday 2008-03-21 moves it to
//!   Thursday 2008-03-20). The four 2021 dates follow it. SPY's real ex-dates before about 2010
//!   sometimes differed from this rule, and the folder records no dividend before 2021 to
//!   check them against: for those years the dates are an approximation.
//! - **Amounts elsewhere**: the close of the session before the ex-date times
//!   [`SPY_ESTIMATED_YIELD_PER_YEAR`] / 4, i.e. 0.4 % a quarter, rounded to 4 decimals (as
//!   Tiingo records them). SPY's trailing yield ranged about 1.3-2.2 % over 2010-2023 (a
//!   published figure, not derivable from the folder); 1.6 % is in the middle of it. Scaling the nearest recorded quarter by the price ratio was
//!   rejected: the only recorded year, 2021, paid 0.32-0.35 % of the close before each ex-date
//!   (1.2778 on 391.48 in March), 1.3-1.4 % a year after a year-long rally, the bottom of that
//!   range, and every estimate of 1999-2020 would inherit it. Against that 1.3-2.2 % range a
//!   1.6 % estimate is off by at most about a quarter of the amount (tens of cents a share),
//!   which moves the early-assignment threshold (time value below the dividend), not the
//!   evenings on which it is tested.
//! - **Synthetic markets** ([`crate::synthetic::SyntheticMarket::dividends`], or
//!   [`estimated_schedule`] with any yield): the same dates, with amount = yield / 4 × the close
//!   before, so that dividends agree with the continuous yield q the chains are priced with
//!   (a quarter of q paid in one sum; the exact discrete equivalent S(1 − e^{−q/4}) differs by
//!   about q/8 of the amount, 0.2 % at q = 1.5 %).
//!
//! One dividend a quarter is assumed: a special dividend, or two recorded in one quarter, is
//! refused rather than guessed around.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use volta_core::expiry::monthly_expiry;
use volta_core::{DailyBar, NyseCalendar, Price, Underlying};

use crate::DataDir;
use crate::error::{DataError, Result};
use crate::import::{BarFormat, import_bars};

/// The dividend yield per year, a decimal, of SPY's estimated dividends (0.016 = 1.6 %, so
/// 0.4 % of the price a quarter). See the module docs for why this value.
pub const SPY_ESTIMATED_YIELD_PER_YEAR: f64 = 0.016;

/// The months whose third Friday is an ex-dividend date.
const EX_DIVIDEND_MONTHS: [u32; 4] = [3, 6, 9, 12];

/// Decimals of an estimated amount: the precision of Tiingo's recorded ones.
const AMOUNT_DECIMALS: u32 = 4;

/// One ex-dividend date of an underlying.
#[derive(Debug, Clone, PartialEq)]
pub struct ExDividend {
    /// The stock or ETF.
    pub underlying: Underlying,
    /// The ex-dividend date: shares bought on or after it do not receive the dividend.
    pub ex_date: NaiveDate,
    /// The cash dividend, dollars per share.
    pub amount: Price,
    /// Whether the amount and date were recorded or estimated.
    pub provenance: Provenance,
}

/// Where an [`ExDividend`] comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Provenance {
    /// Read from a data file.
    Recorded {
        /// The file.
        path: PathBuf,
        /// The row's line, 1-based (the header is line 1).
        line: u64,
    },
    /// The quarterly third-Friday pattern, the amount a yield of the close before.
    Estimated {
        /// The dividend yield per year the amount was estimated with, a decimal.
        yield_per_year: f64,
    },
}

impl ExDividend {
    /// Whether it was read from a file.
    #[must_use]
    pub const fn is_recorded(&self) -> bool {
        matches!(self.provenance, Provenance::Recorded { .. })
    }
}

/// The quarterly ex-dividend dates from `from` to `to`, both included, ascending: the third
/// Friday of March, June, September and December, or the session before when it is a holiday.
/// Empty if `from > to`.
///
/// # Errors
/// [`DataError::Core`] if the years of the range reach outside the NYSE calendar (1990-2099).
pub fn quarterly_ex_dates(from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>> {
    let mut dates = Vec::new();
    for year in from.year()..=to.year() {
        for month in EX_DIVIDEND_MONTHS {
            let date = monthly_expiry(NyseCalendar, year, month)?;
            if (from..=to).contains(&date) {
                dates.push(date);
            }
        }
    }
    Ok(dates)
}

/// The dividends recorded in a Tiingo daily file (`divCash`; rows of 0 are not dividends),
/// ascending, each naming the file and line.
///
/// # Errors
/// As [`import_bars`] with [`BarFormat::Tiingo`]: [`DataError::UnknownFormat`] for another
/// header, [`DataError::BadValue`] naming the file, line and column for a bad row (a negative
/// or non-numeric `divCash` among them).
pub fn read_recorded(path: &Path) -> Result<Vec<ExDividend>> {
    let imported = import_bars(path, Some(BarFormat::Tiingo))?;
    // A Tiingo file without rows is refused by the importer, so the symbol is always there.
    let underlying = imported.symbol.ok_or_else(|| DataError::Empty {
        path: path.to_owned(),
    })?;
    Ok(imported
        .dividends
        .into_iter()
        .map(|d| ExDividend {
            underlying: underlying.clone(),
            ex_date: d.ex_date,
            amount: d.amount,
            provenance: Provenance::Recorded {
                path: path.to_owned(),
                line: d.line,
            },
        })
        .collect())
}

/// SPY's recorded dividends in the shared folder: those of 2021 ([`DataDir::tiingo_bars`]).
///
/// # Errors
/// As [`read_recorded`]; [`DataError::Io`] if the file is not there.
pub fn spy_recorded(data: &DataDir) -> Result<Vec<ExDividend>> {
    read_recorded(&data.tiingo_bars("SPY", 2021))
}

/// SPY's ex-dividends from `from` to `to` (both included), one a quarter, ascending: the
/// `recorded` ones in their quarters, estimated ones elsewhere (the third-Friday date, 0.4 % of
/// the close before; see the module docs).
///
/// `closes` are SPY's daily bars (any order); it needs the close of the session before each
/// estimated ex-date, not those of recorded quarters.
///
/// # Errors
/// [`DataError::InvalidRequest`] for a recorded dividend of another underlying, two recorded in
/// one quarter, or a bar missing from `closes` (naming the date); [`DataError::Core`] outside
/// the NYSE calendar.
pub fn spy_schedule(
    from: NaiveDate,
    to: NaiveDate,
    closes: &[DailyBar],
    recorded: &[ExDividend],
) -> Result<Vec<ExDividend>> {
    schedule(
        &Underlying::try_new("SPY")?,
        from,
        to,
        closes,
        recorded,
        SPY_ESTIMATED_YIELD_PER_YEAR,
    )
}

/// Estimated ex-dividends of `underlying` from `from` to `to` (both included), one a quarter
/// on SPY's dates, with amount = `yield_per_year` / 4 × the close of the session before: a
/// synthetic market's dividends at the yield its chains are priced with. A zero yield gives no
/// dividends.
///
/// # Errors
/// [`DataError::InvalidRequest`] for a yield that is not finite or not in [0, 1), or a bar
/// missing from `closes` (naming the date); [`DataError::Core`] outside the NYSE calendar.
pub fn estimated_schedule(
    underlying: &Underlying,
    from: NaiveDate,
    to: NaiveDate,
    closes: &[DailyBar],
    yield_per_year: f64,
) -> Result<Vec<ExDividend>> {
    schedule(underlying, from, to, closes, &[], yield_per_year)
}

/// `recorded` in range, and an estimate for every quarter without a recorded dividend.
fn schedule(
    underlying: &Underlying,
    from: NaiveDate,
    to: NaiveDate,
    closes: &[DailyBar],
    recorded: &[ExDividend],
    yield_per_year: f64,
) -> Result<Vec<ExDividend>> {
    let invalid = |reason: String| DataError::InvalidRequest { reason };
    if !(yield_per_year.is_finite() && (0.0..1.0).contains(&yield_per_year)) {
        return Err(invalid(format!(
            "dividend yield {yield_per_year} per year for {underlying}: must be finite, in [0, 1)"
        )));
    }
    let per_quarter = Decimal::from_f64(yield_per_year).unwrap_or_default() / Decimal::from(4);
    let mut known: BTreeMap<(i32, u32), NaiveDate> = BTreeMap::new();
    for r in recorded {
        if r.underlying != *underlying {
            return Err(invalid(format!(
                "a recorded dividend of {} on {} among {underlying}'s",
                r.underlying, r.ex_date
            )));
        }
        if let Some(first) = known.insert(quarter(r.ex_date), r.ex_date) {
            return Err(invalid(format!(
                "two recorded dividends of {underlying} in one quarter, on {first} and {}: \
                 the schedule assumes one a quarter",
                r.ex_date
            )));
        }
    }
    let mut out: Vec<ExDividend> = recorded
        .iter()
        .filter(|r| (from..=to).contains(&r.ex_date))
        .cloned()
        .collect();
    if !per_quarter.is_zero() {
        for ex_date in quarterly_ex_dates(from, to)? {
            if known.contains_key(&quarter(ex_date)) {
                continue;
            }
            let before = NyseCalendar.previous_session(ex_date)?;
            let close = closes
                .iter()
                .find(|b| b.date == before)
                .ok_or_else(|| {
                    invalid(format!(
                        "no close of {underlying} on {before}, the session before the \
                         ex-dividend date {ex_date}: the estimated dividend is a yield of it"
                    ))
                })?
                .ohlcv
                .close();
            // A quarter's yield is below 1, so the product cannot overflow.
            let amount = (close.value() * per_quarter)
                .round_dp_with_strategy(AMOUNT_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
            out.push(ExDividend {
                underlying: underlying.clone(),
                ex_date,
                amount: Price::try_new(amount)?,
                provenance: Provenance::Estimated { yield_per_year },
            });
        }
    }
    out.sort_by_key(|d| d.ex_date);
    Ok(out)
}

/// The calendar quarter of a date: (year, 0-3).
fn quarter(date: NaiveDate) -> (i32, u32) {
    (date.year(), date.month0() / 3)
}
