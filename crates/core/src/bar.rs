//! Daily and intraday OHLCV bars, validated on construction.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::money::Price;

/// Open, high, low, close (US dollars per unit) and volume (units traded) of one period.
///
/// Invariants, checked by [`Ohlcv::try_new`]: every price positive; high ≥ max(open, close);
/// low ≤ min(open, close) (hence high ≥ low).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ohlcv {
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: u64,
}

impl Ohlcv {
    /// Validated OHLCV. `at` names the bar in errors (its date or timestamp).
    ///
    /// # Errors
    /// [`CoreError::InvalidBar`] naming the first field that breaks an invariant.
    pub fn try_new(
        at: &dyn std::fmt::Display,
        open: Price,
        high: Price,
        low: Price,
        close: Price,
        volume: u64,
    ) -> Result<Self> {
        let bad = |field, value: Price, requirement| CoreError::InvalidBar {
            at: at.to_string(),
            field,
            value: value.to_string(),
            requirement,
        };
        for (field, value) in [
            ("open", open),
            ("high", high),
            ("low", low),
            ("close", close),
        ] {
            if value.value() <= Decimal::ZERO {
                return Err(bad(field, value, "positive"));
            }
        }
        if high < open.max(close) {
            return Err(bad("high", high, "at least max(open, close)"));
        }
        if low > open.min(close) {
            return Err(bad("low", low, "at most min(open, close)"));
        }
        Ok(Self {
            open,
            high,
            low,
            close,
            volume,
        })
    }

    /// Validated OHLCV from `f64` fields as vendor files carry them (volume often printed as
    /// `4006500.0`).
    ///
    /// # Errors
    /// [`CoreError::InvalidBar`] naming the field: a non-finite or non-positive price, a
    /// negative, fractional or non-finite volume, or broken OHLC invariants.
    pub fn try_from_f64(
        at: &dyn std::fmt::Display,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<Self> {
        let price = |field, x: f64| {
            Price::from_f64(x)
                .ok()
                .filter(|p| p.value() > Decimal::ZERO)
                .ok_or_else(|| CoreError::InvalidBar {
                    at: at.to_string(),
                    field,
                    value: x.to_string(),
                    requirement: "finite and positive",
                })
        };
        let (o, h, l, c) = (
            price("open", open)?,
            price("high", high)?,
            price("low", low)?,
            price("close", close)?,
        );
        // 2^53: beyond it f64 no longer holds every integer.
        if !(volume.is_finite()
            && volume >= 0.0
            && volume.fract() == 0.0
            && volume <= 9_007_199_254_740_992.0)
        {
            return Err(CoreError::InvalidBar {
                at: at.to_string(),
                field: "volume",
                value: volume.to_string(),
                requirement: "a non-negative whole number",
            });
        }
        Self::try_new(at, o, h, l, c, volume as u64)
    }

    /// Opening price.
    #[must_use]
    pub const fn open(&self) -> Price {
        self.open
    }
    /// Highest price.
    #[must_use]
    pub const fn high(&self) -> Price {
        self.high
    }
    /// Lowest price.
    #[must_use]
    pub const fn low(&self) -> Price {
        self.low
    }
    /// Closing price.
    #[must_use]
    pub const fn close(&self) -> Price {
        self.close
    }
    /// Units traded.
    #[must_use]
    pub const fn volume(&self) -> u64 {
        self.volume
    }
}

/// One session's bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DailyBar {
    /// The session's date.
    pub date: NaiveDate,
    /// Prices and volume.
    pub ohlcv: Ohlcv,
}

impl DailyBar {
    /// A validated daily bar.
    ///
    /// # Errors
    /// As [`Ohlcv::try_new`].
    pub fn try_new(
        date: NaiveDate,
        open: Price,
        high: Price,
        low: Price,
        close: Price,
        volume: u64,
    ) -> Result<Self> {
        Ok(Self {
            date,
            ohlcv: Ohlcv::try_new(&date, open, high, low, close, volume)?,
        })
    }

    /// The same session with another high, low and close (a revised print, or a what-if).
    ///
    /// # Errors
    /// As [`Ohlcv::try_new`].
    pub fn with_range(&self, high: Price, low: Price, close: Price) -> Result<Self> {
        let o = self.ohlcv;
        Self::try_new(self.date, o.open(), high, low, close, o.volume())
    }
}

/// One intraday period's bar, stamped with the period's start in exchange time (New York).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntradayBar {
    /// Start of the period, exchange time.
    pub start: NaiveDateTime,
    /// Length of the period in seconds (60 for one-minute bars).
    pub period_seconds: u32,
    /// Prices and volume.
    pub ohlcv: Ohlcv,
}

impl IntradayBar {
    /// A validated intraday bar.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `period_seconds` is zero; otherwise as [`Ohlcv::try_new`].
    pub fn try_new(
        start: NaiveDateTime,
        period_seconds: u32,
        open: Price,
        high: Price,
        low: Price,
        close: Price,
        volume: u64,
    ) -> Result<Self> {
        if period_seconds == 0 {
            return Err(crate::error::invalid("period_seconds", 0, "positive"));
        }
        Ok(Self {
            start,
            period_seconds,
            ohlcv: Ohlcv::try_new(&start, open, high, low, close, volume)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(1999, 11, 1).unwrap()
    }

    #[test]
    fn accepts_the_first_spy_row() {
        // SPY_daily_unadjusted.csv, 1999-11-01.
        let bar =
            Ohlcv::try_from_f64(&day(), 136.5, 137.0, 135.5625, 135.5625, 4_006_500.0).unwrap();
        assert_eq!(bar.close(), "135.5625".parse().unwrap());
        assert_eq!(bar.volume(), 4_006_500);
    }

    #[rstest]
    #[case(0.0, 2.0, 1.0, 1.5, 1.0, "open")]
    #[case(1.0, f64::NAN, 1.0, 1.5, 1.0, "high")]
    #[case(1.0, 2.0, -1.0, 1.5, 1.0, "low")]
    #[case(1.0, 2.0, 1.0, 0.0, 1.0, "close")]
    #[case(1.0, 1.4, 1.0, 1.5, 1.0, "high")]
    #[case(1.0, 2.0, 1.2, 1.1, 1.0, "low")]
    #[case(1.0, 2.0, 1.0, 1.5, -1.0, "volume")]
    #[case(1.0, 2.0, 1.0, 1.5, 0.5, "volume")]
    fn names_the_bad_field(
        #[case] o: f64,
        #[case] h: f64,
        #[case] l: f64,
        #[case] c: f64,
        #[case] v: f64,
        #[case] field: &str,
    ) {
        match Ohlcv::try_from_f64(&day(), o, h, l, c, v) {
            Err(CoreError::InvalidBar { field: f, at, .. }) => {
                assert_eq!(f, field);
                assert_eq!(at, "1999-11-01");
            }
            other => panic!("expected an error on {field}, got {other:?}"),
        }
    }

    #[test]
    fn intraday_needs_a_period() {
        let p: Price = "1".parse().unwrap();
        let t = day().and_hms_opt(9, 30, 0).unwrap();
        assert!(IntradayBar::try_new(t, 0, p, p, p, p, 0).is_err());
        assert_eq!(
            IntradayBar::try_new(t, 60, p, p, p, p, 0)
                .unwrap()
                .ohlcv
                .volume(),
            0
        );
    }
}
