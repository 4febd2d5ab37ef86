//! Underlyings, option contracts and their stable key, the OCC/OSI option symbol.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use volta_pricing::OptionRight;

use crate::calendar::NyseCalendar;
use crate::error::{CoreError, Result, invalid};
use crate::money::decimal_to_f64;

/// The ticker of an underlying instrument (`SPY`, `SPX`, `BRK.B`): 1 to 10 characters of
/// upper-case ASCII letters, digits, `.`, `/` or `^`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Underlying(String);

impl Underlying {
    /// A validated ticker.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `symbol` is empty, longer than 10 characters, or holds
    /// anything but `A-Z`, `0-9`, `.`, `/`, `^`.
    pub fn try_new(symbol: &str) -> Result<Self> {
        let ok = (1..=10).contains(&symbol.len())
            && symbol
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"./^".contains(&b));
        if ok {
            Ok(Self(symbol.to_owned()))
        } else {
            Err(invalid(
                "symbol",
                symbol,
                "1-10 characters of A-Z, 0-9, '.', '/', '^'",
            ))
        }
    }

    /// The ticker.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Underlying {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Underlying {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::try_new(s)
    }
}

/// When an option may be exercised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExerciseStyle {
    /// On any business day up to expiry (US equity and ETF options: SPY, QQQ, IWM).
    American,
    /// Only at expiry (SPX, SPXW).
    European,
}

/// What is delivered at exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettlementType {
    /// Shares of the underlying change hands (equity and ETF options).
    Physical,
    /// The cash difference between settlement value and strike (index options).
    Cash,
}

/// Which price fixes the settlement value on the expiry date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettlementTime {
    /// The opening prints of the expiry morning (SPX standard monthlies, ticker SET): trading
    /// in the series stops at the previous session's close.
    Am,
    /// The expiry day's close (SPXW, and every equity/ETF option).
    Pm,
}

/// Largest OCC strike: eight digits of thousandths.
const MAX_STRIKE_THOUSANDTHS: i64 = 99_999_999;

/// An option's strike price in US dollars, positive, with at most three decimals (the OCC
/// symbol's precision) and below 100 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Strike(Decimal);

impl Strike {
    /// A validated strike.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `value` is not positive, has more than three decimals
    /// or is 100 000 or more.
    pub fn try_new(value: Decimal) -> Result<Self> {
        let value = value.normalize();
        if value <= Decimal::ZERO {
            return Err(invalid("strike", value, "positive"));
        }
        if value.scale() > 3 {
            return Err(invalid("strike", value, "at most three decimals (OCC)"));
        }
        if value * Decimal::from(1000) > Decimal::from(MAX_STRIKE_THOUSANDTHS) {
            return Err(invalid("strike", value, "below 100000 (OCC)"));
        }
        Ok(Self(value))
    }

    /// A strike from an `f64` such as `450.0` or `2.5`: rounded to the nearest thousandth
    /// first, since vendor files print strikes through binary floats.
    ///
    /// # Errors
    /// As [`Strike::try_new`], and if `x` is not finite.
    pub fn from_f64(x: f64) -> Result<Self> {
        if !x.is_finite() || x.abs() > 1e6 {
            return Err(invalid("strike", x, "finite and below 100000"));
        }
        // |x| ≤ 1e6 so x·1000 fits an i64 exactly enough to round.
        let thousandths = (x * 1000.0).round() as i64;
        Self::try_new(Decimal::new(thousandths, 3))
    }

    /// A strike from OCC thousandths (`450000` is 450.000).
    ///
    /// # Errors
    /// As [`Strike::try_new`].
    pub fn from_thousandths(thousandths: u32) -> Result<Self> {
        Self::try_new(Decimal::new(i64::from(thousandths), 3))
    }

    /// The strike in thousandths of a dollar, as the OCC symbol writes it.
    #[must_use]
    pub fn thousandths(self) -> u32 {
        // try_new guarantees 0 < value·1000 ≤ 99 999 999, an integer.
        (self.0 * Decimal::from(1000)).to_u32().unwrap_or(0)
    }

    /// The strike as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// The strike as the nearest `f64`, for the pricing models.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        decimal_to_f64(self.0)
    }
}

impl fmt::Display for Strike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Strike {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        let d =
            Decimal::from_str(s.trim()).map_err(|_| invalid("strike", s, "a decimal number"))?;
        Self::try_new(d)
    }
}

/// The stable key of a listed US option: its OCC/OSI symbol, e.g. `SPY   250321C00450000`.
///
/// The 21-character form is the option root left-aligned and space-padded to six characters,
/// the expiry as `yymmdd`, `C` or `P`, and the strike in thousandths of a dollar as eight
/// digits. It is what Interactive Brokers reports as `localSymbol` for US equity and index
/// options, and it is unique per contract, so it serves as the primary key in the store.
/// [`Display`](fmt::Display) writes the padded form; [`ContractKey::compact`] writes the
/// unpadded form (`SPY250321C00450000`) that OPRA feeds and vendor files use. Parsing accepts
/// both.
///
/// The expiry is the date in the symbol. For monthly options listed before February 2015 the
/// OCC symbol carries the Saturday after the expiration day; Volta's importers re-date those
/// keys to the expiration day (the session before), so stored keys carry a session. A key
/// parsed from such a symbol still works: [`OptionContract::settlement_date`] moves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContractKey {
    root: String,
    expiry: NaiveDate,
    right: OptionRight,
    strike: Strike,
}

/// Keys order by root, expiry, strike, then calls before puts (`OptionRight` has no `Ord`).
impl Ord for ContractKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.root, self.order_key()).cmp(&(&other.root, other.order_key()))
    }
}

impl PartialOrd for ContractKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// 0 for calls, 1 for puts: the order of rights within a strike.
pub(crate) const fn right_rank(right: OptionRight) -> u8 {
    match right {
        OptionRight::Call => 0,
        OptionRight::Put => 1,
    }
}

impl ContractKey {
    /// A key from its parts.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `root` is not 1-6 characters of `A-Z`/`0-9`, or the expiry
    /// year is outside 2000-2099 (the symbol writes two digits).
    pub fn try_new(
        root: &str,
        expiry: NaiveDate,
        right: OptionRight,
        strike: Strike,
    ) -> Result<Self> {
        let ok = (1..=6).contains(&root.len())
            && root
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            return Err(invalid("option root", root, "1-6 characters of A-Z, 0-9"));
        }
        if !(2000..=2099).contains(&expiry.year()) {
            return Err(invalid(
                "expiry",
                expiry,
                "in 2000-2099 (two-digit OCC year)",
            ));
        }
        Ok(Self {
            root: root.to_owned(),
            expiry,
            right,
            strike,
        })
    }

    /// The option root (trading class): `SPY`, `SPX`, `SPXW`.
    #[must_use]
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The expiry date written in the symbol.
    #[must_use]
    pub const fn expiry(&self) -> NaiveDate {
        self.expiry
    }

    /// Call or put.
    #[must_use]
    pub const fn right(&self) -> OptionRight {
        self.right
    }

    /// The strike.
    #[must_use]
    pub const fn strike(&self) -> Strike {
        self.strike
    }

    /// The unpadded symbol, `SPY250321C00450000`.
    #[must_use]
    pub fn compact(&self) -> String {
        self.write(false)
    }

    fn write(&self, padded: bool) -> String {
        let width = if padded { 6 } else { 0 };
        format!(
            "{:<width$}{:02}{:02}{:02}{}{:08}",
            self.root,
            self.expiry.year() % 100,
            self.expiry.month(),
            self.expiry.day(),
            match self.right {
                OptionRight::Call => 'C',
                OptionRight::Put => 'P',
            },
            self.strike.thousandths(),
        )
    }

    /// Sort key: root, expiry, strike, then calls before puts.
    pub(crate) fn order_key(&self) -> (NaiveDate, Strike, u8, &str) {
        (self.expiry, self.strike, right_rank(self.right), &self.root)
    }
}

impl fmt::Display for ContractKey {
    /// The 21-character OCC form, root padded to six: `SPY   250321C00450000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write(true))
    }
}

impl FromStr for ContractKey {
    type Err = CoreError;

    /// Parses the padded (`SPY   250321C00450000`) or compact (`SPY250321C00450000`) form.
    fn from_str(s: &str) -> Result<Self> {
        let err = |reason| CoreError::InvalidContractKey {
            symbol: s.to_owned(),
            reason,
        };
        if !s.is_ascii() {
            return Err(err("not ASCII"));
        }
        // The last 15 characters are fixed-width: yymmdd, C/P, 8 strike digits.
        if s.len() < 16 || s.len() > 21 {
            return Err(err(
                "expected 16-21 characters: root, yymmdd, C/P, 8 strike digits",
            ));
        }
        let (root, tail) = s.split_at(s.len() - 15);
        let root = root.trim_end_matches(' ');
        if root.is_empty() || root.contains(' ') {
            return Err(err("root must be 1-6 characters without inner spaces"));
        }
        let digits = |part: &str| -> Option<u32> {
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let yy = digits(&tail[0..2]).ok_or_else(|| err("year is not two digits"))?;
        let mm = digits(&tail[2..4]).ok_or_else(|| err("month is not two digits"))?;
        let dd = digits(&tail[4..6]).ok_or_else(|| err("day is not two digits"))?;
        let expiry = NaiveDate::from_ymd_opt(2000 + yy.cast_signed(), mm, dd)
            .ok_or_else(|| err("expiry is not a calendar date"))?;
        let right = match &tail[6..7] {
            "C" => OptionRight::Call,
            "P" => OptionRight::Put,
            _ => return Err(err("right must be C or P")),
        };
        let thousandths = digits(&tail[7..15]).ok_or_else(|| err("strike is not eight digits"))?;
        let strike =
            Strike::from_thousandths(thousandths).map_err(|_| err("strike must be positive"))?;
        Self::try_new(root, expiry, right, strike)
            .map_err(|_| err("root must be 1-6 characters of A-Z, 0-9"))
    }
}

/// Standard US equity and index option multiplier: one contract is 100 units of the underlying.
pub const STANDARD_MULTIPLIER: u32 = 100;

/// A listed option contract: what it is written on, when it expires, at what strike, and how it
/// exercises and settles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptionContract {
    underlying: Underlying,
    key: ContractKey,
    multiplier: u32,
    style: ExerciseStyle,
    settlement: SettlementType,
    settlement_time: SettlementTime,
}

impl OptionContract {
    /// A contract on a known root with its standard terms: SPX (European, cash, AM-settled),
    /// SPXW and SPXPM (European, cash, PM-settled), and every other root as a US equity/ETF option
    /// (American, physical, PM) on the underlying of the same name. Multiplier 100.
    ///
    /// # Errors
    /// As [`ContractKey::try_new`] and [`Underlying::try_new`].
    pub fn standard(
        root: &str,
        expiry: NaiveDate,
        right: OptionRight,
        strike: Strike,
    ) -> Result<Self> {
        let key = ContractKey::try_new(root, expiry, right, strike)?;
        Ok(Self::from_key(key))
    }

    /// The standard contract a key names (see [`OptionContract::standard`]).
    #[must_use]
    pub fn from_key(key: ContractKey) -> Self {
        let (underlying, style, settlement, time) = match key.root() {
            "SPX" => (
                "SPX",
                ExerciseStyle::European,
                SettlementType::Cash,
                SettlementTime::Am,
            ),
            // SPXPM (2011-2017) was the PM-settled SPX option before Cboe renamed it SPXW.
            "SPXW" | "SPXPM" => (
                "SPX",
                ExerciseStyle::European,
                SettlementType::Cash,
                SettlementTime::Pm,
            ),
            other => (
                other,
                ExerciseStyle::American,
                SettlementType::Physical,
                SettlementTime::Pm,
            ),
        };
        Self {
            // Roots are validated as 1-6 of A-Z/0-9, a subset of valid tickers.
            underlying: Underlying(underlying.to_owned()),
            key,
            multiplier: STANDARD_MULTIPLIER,
            style,
            settlement,
            settlement_time: time,
        }
    }

    /// A contract with explicit terms (non-standard deliverables after corporate actions, mini
    /// options, other index products).
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `multiplier` is zero.
    pub fn with_terms(
        underlying: Underlying,
        key: ContractKey,
        multiplier: u32,
        style: ExerciseStyle,
        settlement: SettlementType,
        settlement_time: SettlementTime,
    ) -> Result<Self> {
        if multiplier == 0 {
            return Err(invalid("multiplier", multiplier, "positive"));
        }
        Ok(Self {
            underlying,
            key,
            multiplier,
            style,
            settlement,
            settlement_time,
        })
    }

    /// The underlying (`SPX` for both SPX and SPXW).
    #[must_use]
    pub const fn underlying(&self) -> &Underlying {
        &self.underlying
    }

    /// The OCC key.
    #[must_use]
    pub const fn key(&self) -> &ContractKey {
        &self.key
    }

    /// Expiry date.
    #[must_use]
    pub const fn expiry(&self) -> NaiveDate {
        self.key.expiry
    }

    /// Strike.
    #[must_use]
    pub const fn strike(&self) -> Strike {
        self.key.strike
    }

    /// Call or put.
    #[must_use]
    pub const fn right(&self) -> OptionRight {
        self.key.right
    }

    /// Units of the underlying per contract.
    #[must_use]
    pub const fn multiplier(&self) -> u32 {
        self.multiplier
    }

    /// American or European.
    #[must_use]
    pub const fn exercise_style(&self) -> ExerciseStyle {
        self.style
    }

    /// Physical or cash.
    #[must_use]
    pub const fn settlement(&self) -> SettlementType {
        self.settlement
    }

    /// AM or PM settlement.
    #[must_use]
    pub const fn settlement_time(&self) -> SettlementTime {
        self.settlement_time
    }

    /// The session whose prices settle the contract: the key's date, or the session before it
    /// when the key carries a non-session (the Saturday of pre-2015 monthly OCC symbols).
    #[must_use]
    pub fn settlement_date(&self) -> NaiveDate {
        let date = self.expiry();
        if NyseCalendar.is_session(date).unwrap_or(true) {
            date
        } else {
            NyseCalendar.previous_session(date).unwrap_or(date)
        }
    }

    /// The last session the contract trades: its settlement date for PM settlement, the session
    /// before for AM settlement (trading in SPX monthlies stops at the close the day before the
    /// opening prints fix the settlement value).
    #[must_use]
    pub fn last_trading_day(&self) -> NaiveDate {
        let settles = self.settlement_date();
        match self.settlement_time {
            SettlementTime::Pm => settles,
            SettlementTime::Am => NyseCalendar.previous_session(settles).unwrap_or(settles),
        }
    }
}

impl fmt::Display for OptionContract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.key, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn formats_the_occ_example() {
        let k = ContractKey::try_new(
            "SPY",
            date(2025, 3, 21),
            OptionRight::Call,
            "450".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(k.to_string(), "SPY   250321C00450000");
        assert_eq!(k.compact(), "SPY250321C00450000");
        assert_eq!("SPY   250321C00450000".parse::<ContractKey>().unwrap(), k);
        assert_eq!("SPY250321C00450000".parse::<ContractKey>().unwrap(), k);
    }

    #[test]
    fn three_decimal_strikes_round_trip() {
        let k: ContractKey = "SPXW  190426P02937500".parse().unwrap();
        assert_eq!(k.strike().value(), Decimal::new(29375, 1));
        assert_eq!(k.root(), "SPXW");
        let k: ContractKey = "IWM   230120C00001125".parse().unwrap();
        assert_eq!(k.strike().to_string(), "1.125");
        assert_eq!(k.to_string(), "IWM   230120C00001125");
    }

    #[test]
    fn rejects_malformed_symbols() {
        for bad in [
            "",
            "SPY250321X00450000",
            "SPY251321C00450000",
            "SPY250321C0045000",
            "SPY250321C00000000",
            "TOOLONGROOT250321C00450000",
            "S Y250321C00450000",
            "spy250321C00450000",
            "SPY25032AC00450000",
        ] {
            assert!(
                matches!(
                    bad.parse::<ContractKey>(),
                    Err(CoreError::InvalidContractKey { .. })
                ),
                "{bad:?} parsed"
            );
        }
    }

    #[test]
    fn strike_validation() {
        assert!(Strike::from_f64(0.0).is_err());
        assert!(Strike::from_f64(-5.0).is_err());
        assert!("1.0005".parse::<Strike>().is_err());
        assert!("100000".parse::<Strike>().is_err());
        assert_eq!(
            Strike::from_f64(99_999.999).unwrap().thousandths(),
            99_999_999
        );
        assert_eq!(Strike::from_f64(345.0).unwrap(), "345".parse().unwrap());
    }

    #[test]
    fn standard_terms_by_root() {
        let strike = "4000".parse().unwrap();
        let spx =
            OptionContract::standard("SPX", date(2023, 3, 17), OptionRight::Put, strike).unwrap();
        assert_eq!(spx.exercise_style(), ExerciseStyle::European);
        assert_eq!(spx.settlement(), SettlementType::Cash);
        assert_eq!(spx.settlement_time(), SettlementTime::Am);
        let spxw =
            OptionContract::standard("SPXW", date(2023, 3, 17), OptionRight::Put, strike).unwrap();
        assert_eq!(spxw.settlement_time(), SettlementTime::Pm);
        assert_eq!(spxw.underlying().as_str(), "SPX");
        let spy = OptionContract::standard(
            "SPY",
            date(2023, 3, 17),
            OptionRight::Call,
            "400".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(spy.exercise_style(), ExerciseStyle::American);
        assert_eq!(spy.settlement(), SettlementType::Physical);
        assert_eq!(spy.multiplier(), 100);
        assert!(
            OptionContract::with_terms(
                spy.underlying().clone(),
                spy.key().clone(),
                0,
                ExerciseStyle::American,
                SettlementType::Physical,
                SettlementTime::Pm
            )
            .is_err()
        );
    }
}
