//! IV rank and IV percentile: where today's implied volatility (an underlying's ATM IV, or
//! the VIX) stands in its recent history. They answer different questions and are kept apart.
//!
//! * **IV rank** — position of today's value in the trailing range:
//!   `(xᵢ − min) / (max − min)`, min and max over the `window` observations ending **today,
//!   included** (`i − window + 1 ..= i`). 0 = at the window's low, 1 = at its high. `NaN` when
//!   `max = min` (a flat window: the rank is undefined, not 0 or ½).
//!   First value at index `window − 1`.
//! * **IV percentile** — share of the **previous** `window` observations (`i − window ..= i − 1`,
//!   today excluded) that are **strictly below** today's value: `#{xⱼ < xᵢ} / window`. Ties count
//!   as not below, so a value equal to every earlier one scores 0 and the top score 1 needs a
//!   new high. First value at index `window`.
//!
//! Both are `NaN` during warm-up and defined (finite, in `[0, 1]`) afterwards, except the rank
//! of a flat window. The default window is [`RANK_WINDOW`] = 252 observations, a trading year
//! when the series has one value per session. Only data up to `i` is read.
//!
//! ```
//! use volta_features::rank::{iv_percentile, iv_rank};
//!
//! # fn main() -> volta_features::Result<()> {
//! let vix = [20.0, 10.0, 30.0, 25.0];
//! let rank = iv_rank(&vix, 3)?;
//! assert!(rank[1].is_nan());
//! assert_eq!(rank[2], 1.0); // 30 is the top of [20, 10, 30]
//! assert_eq!(rank[3], 0.75); // (25 − 10) / (30 − 10)
//! let pct = iv_percentile(&vix, 3)?;
//! assert_eq!(pct[3], 2.0 / 3.0); // 25 is above 20 and 10 of [20, 10, 30]
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;

use chrono::NaiveDate;

use crate::error::{FeatureError, Result};
use crate::realised::{bad, check_sessions};

/// The default look-back of IV rank and percentile: 252 observations (a trading year).
pub const RANK_WINDOW: usize = 252;

/// IV rank over a trailing window of `window` observations including today (module docs).
///
/// # Errors
/// [`FeatureError::InvalidConfig`] if `window < 2`; [`FeatureError::BadInput`] naming the index
/// of the first value that is not finite.
pub fn iv_rank(values: &[f64], window: usize) -> Result<Vec<f64>> {
    check_window(window)?;
    check(values).map_err(|i| not_finite("values", &format!("index {i}"), values[i]))?;
    Ok(rank_unchecked(values, window))
}

/// IV percentile against the `window` observations before today (module docs).
///
/// # Errors
/// As [`iv_rank`].
pub fn iv_percentile(values: &[f64], window: usize) -> Result<Vec<f64>> {
    check_window(window)?;
    check(values).map_err(|i| not_finite("values", &format!("index {i}"), values[i]))?;
    Ok(percentile_unchecked(values, window))
}

/// A dated series (one value per NYSE session) with its IV rank and IV percentile.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedSeries {
    /// The sessions, ascending, none missing.
    pub dates: Vec<NaiveDate>,
    /// The values (annualised IV as a decimal, or index points for the VIX).
    pub values: Vec<f64>,
    /// IV rank, `NaN` in warm-up (see [`iv_rank`]).
    pub rank: Vec<f64>,
    /// IV percentile, `NaN` in warm-up (see [`iv_percentile`]).
    pub percentile: Vec<f64>,
}

impl RankedSeries {
    /// Rank and percentile of a dated series over `window` observations. `series` names it in
    /// errors (`VIX`, `SPY ATM IV 30d`).
    ///
    /// # Errors
    /// [`FeatureError::BadInput`] if the lengths differ, the dates are out of order or skip an
    /// NYSE session ([`check_sessions`]), or a value is not finite (naming its date);
    /// [`FeatureError::InvalidConfig`] if `window < 2`.
    pub fn compute(
        series: &str,
        dates: &[NaiveDate],
        values: &[f64],
        window: usize,
    ) -> Result<Self> {
        if dates.len() != values.len() {
            return Err(bad(
                series,
                format!("{} dates but {} values", dates.len(), values.len()),
            ));
        }
        check_sessions(series, dates)?;
        check_window(window)?;
        check(values).map_err(|i| not_finite(series, &dates[i].to_string(), values[i]))?;
        Ok(Self {
            dates: dates.to_vec(),
            values: values.to_vec(),
            rank: rank_unchecked(values, window),
            percentile: percentile_unchecked(values, window),
        })
    }
}

fn not_finite(series: &str, at: &str, value: f64) -> FeatureError {
    bad(series, format!("value {value} at {at} must be finite"))
}

/// `Err(index)` of the first non-finite value.
fn check(values: &[f64]) -> std::result::Result<(), usize> {
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return Err(i);
    }
    Ok(())
}

pub(crate) fn check_window(window: usize) -> Result<()> {
    if window < 2 {
        return Err(FeatureError::InvalidConfig {
            field: "rank window",
            value: window.to_string(),
            requirement: "at least 2 observations",
        });
    }
    Ok(())
}

/// Rolling min and max by monotonic deques of indices: O(len) whatever the window.
pub(crate) fn rank_unchecked(values: &[f64], window: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; values.len()];
    if window < 2 {
        return out;
    }
    let mut mins: VecDeque<usize> = VecDeque::with_capacity(window + 1);
    let mut maxs: VecDeque<usize> = VecDeque::with_capacity(window + 1);
    for (i, &x) in values.iter().enumerate() {
        while mins.back().is_some_and(|&j| values[j] >= x) {
            mins.pop_back();
        }
        mins.push_back(i);
        while maxs.back().is_some_and(|&j| values[j] <= x) {
            maxs.pop_back();
        }
        maxs.push_back(i);
        if i + 1 < window {
            continue;
        }
        let oldest = i + 1 - window;
        for q in [&mut mins, &mut maxs] {
            while q.front().is_some_and(|&j| j < oldest) {
                q.pop_front();
            }
        }
        // Both deques hold `i` or a later-dominating index inside the window: never empty.
        let (lo, hi) = (values[mins[0]], values[maxs[0]]);
        out[i] = if hi > lo {
            (x - lo) / (hi - lo)
        } else {
            f64::NAN
        };
    }
    out
}

/// A direct count per day: O(len × window), ~2 million comparisons for the VIX history, which
/// the compiler vectorises; an order-statistic tree would be faster only for far longer windows.
pub(crate) fn percentile_unchecked(values: &[f64], window: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; values.len()];
    if window < 2 {
        return out;
    }
    let w = window as f64;
    for i in window..values.len() {
        let x = values[i];
        let below = values[i - window..i].iter().filter(|&&v| v < x).count();
        out[i] = below as f64 / w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Straightforward reference: slices and iterators, no deques.
    fn naive_rank(values: &[f64], window: usize) -> Vec<f64> {
        (0..values.len())
            .map(|i| {
                if i + 1 < window {
                    return f64::NAN;
                }
                let w = &values[i + 1 - window..=i];
                let lo = w.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if hi > lo {
                    (values[i] - lo) / (hi - lo)
                } else {
                    f64::NAN
                }
            })
            .collect()
    }

    #[test]
    fn percentile_ties_count_as_not_below() {
        let p = iv_percentile(&[5.0, 5.0, 5.0, 5.0, 6.0], 3).unwrap();
        assert!(p[2].is_nan());
        assert_eq!(p[3], 0.0); // equal to all three previous
        assert_eq!(p[4], 1.0); // a new high
    }

    #[test]
    fn flat_window_rank_is_nan() {
        let r = iv_rank(&[5.0, 5.0, 5.0, 6.0], 3).unwrap();
        assert!(r[2].is_nan());
        assert_eq!(r[3], 1.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            iv_rank(&[1.0, 2.0], 1),
            Err(FeatureError::InvalidConfig { .. })
        ));
        let e = iv_percentile(&[1.0, f64::NAN, 2.0], 2).unwrap_err();
        assert!(e.to_string().contains("index 1"), "{e}");
        let d = NaiveDate::from_ymd_opt(2020, 3, 16).unwrap();
        let e = RankedSeries::compute("VIX", &[d], &[f64::INFINITY], 2).unwrap_err();
        assert!(
            e.to_string().contains("VIX") && e.to_string().contains("2020-03-16"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn deque_rank_matches_the_naive_one(
            values in prop::collection::vec(5.0f64..90.0, 0..120),
            window in 2usize..40,
        ) {
            let fast = iv_rank(&values, window).unwrap();
            let slow = naive_rank(&values, window);
            for (a, b) in fast.iter().zip(&slow) {
                prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "{a} vs {b}");
            }
        }

        #[test]
        fn both_lie_in_the_unit_interval(
            values in prop::collection::vec(5.0f64..90.0, 0..120),
            window in 2usize..40,
        ) {
            let rank = iv_rank(&values, window).unwrap();
            let pct = iv_percentile(&values, window).unwrap();
            for i in 0..values.len() {
                prop_assert_eq!(pct[i].is_nan(), i < window);
                if i >= window {
                    prop_assert!((0.0..=1.0).contains(&pct[i]));
                }
                if i + 1 >= window {
                    prop_assert!(rank[i].is_nan() || (0.0..=1.0).contains(&rank[i]));
                }
            }
        }
    }
}
