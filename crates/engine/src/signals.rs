//! The day's signals a decision may use: VIX level, its IV rank and the regime, as known at the
//! previous session's close.

use chrono::NaiveDate;
use volta_core::DailyBar;
use volta_features::regime::Smoothing;
use volta_features::{Regime, RegimeConfig, RegimeDetector};

use crate::error::Result;

/// What the strategies see of the market's volatility at a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DaySignals {
    /// The session whose close the values come from.
    pub as_of: NaiveDate,
    /// VIX close, points.
    pub vix: f64,
    /// IV rank of the VIX over 252 sessions, 0..1; `None` in warm-up.
    pub vix_rank: Option<f64>,
    /// The regime (with hysteresis); `None` in warm-up.
    pub regime: Option<Regime>,
}

/// The regime detector's output over a history, looked up without look-ahead.
///
/// Decisions are taken intraday (at the chain snapshot, before the close), so a decision on
/// session `d` sees the signals of the last session **before** `d`: the VIX close, its rank and
/// the regime of `d − 1`. The detector itself is causal (volta-features' look-ahead property
/// test), so computing it once over the whole history gives the same values as computing it
/// each day on the data known then.
///
/// The IV rank the strategies use is the VIX's (the synthetic market's VIX-like index for a
/// synthetic run): one market-wide rank for every underlying, since volatility indices for QQQ
/// and IWM (VXN, RVX) are not in the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    dates: Vec<NaiveDate>,
    vix: Vec<f64>,
    rank: Vec<f64>,
    regime: Vec<Option<Regime>>,
}

impl Signals {
    /// Runs the regime detector over the VIX closes and the bars of the underlying whose
    /// realised volatility the rules use.
    ///
    /// # Errors
    /// The detector's [`volta_features::FeatureError`] naming the bad series and date.
    pub fn from_history(
        vix: &[(NaiveDate, f64)],
        bars: &[DailyBar],
        config: RegimeConfig,
    ) -> Result<Self> {
        let detector = RegimeDetector::new(config)?;
        let dates: Vec<NaiveDate> = vix.iter().map(|(d, _)| *d).collect();
        let closes: Vec<f64> = vix.iter().map(|(_, v)| *v).collect();
        let series = detector.run(&dates, &closes, bars)?;
        Ok(Self {
            regime: series.regimes(Smoothing::Hysteresis).to_vec(),
            dates: series.dates,
            vix: series.vix,
            rank: series.vix_rank,
        })
    }

    /// No signals: every decision is in warm-up (no rank, no regime), so nothing opens and
    /// open positions are still managed. A live trader whose history was not brought up to date
    /// trades on these rather than on stale values.
    #[must_use]
    pub const fn unknown() -> Self {
        Self {
            dates: Vec::new(),
            vix: Vec::new(),
            rank: Vec::new(),
            regime: Vec::new(),
        }
    }

    /// The signals known before session `date` opens: those of the last session before it.
    #[must_use]
    pub fn known_before(&self, date: NaiveDate) -> Option<DaySignals> {
        let i = self.dates.partition_point(|d| *d < date).checked_sub(1)?;
        let rank = self.rank[i];
        Some(DaySignals {
            as_of: self.dates[i],
            vix: self.vix[i],
            vix_rank: rank.is_finite().then_some(rank),
            regime: self.regime[i],
        })
    }
}

#[cfg(test)]
mod tests {
    use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};

    use super::*;

    #[test]
    fn a_decision_sees_the_previous_sessions_values_only() {
        let market = SyntheticMarket::generate(&SyntheticConfig {
            start: NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(),
            end: NaiveDate::from_ymd_opt(2022, 6, 30).unwrap(),
            ..SyntheticConfig::default()
        })
        .unwrap();
        let vix: Vec<_> = market.days().iter().map(|d| (d.bar.date, d.vix)).collect();
        let bars: Vec<_> = market.bars().collect();
        let signals = Signals::from_history(&vix, &bars, RegimeConfig::default()).unwrap();
        let (d0, d1) = (vix[300].0, vix[301].0);
        let s = signals.known_before(d1).unwrap();
        assert_eq!(s.as_of, d0);
        assert_eq!(s.vix, vix[300].1);
        assert!(s.vix_rank.is_some() && s.regime.is_some());
        // Nothing is known before the first session; the warm-up has no rank.
        assert!(signals.known_before(vix[0].0).is_none());
        assert_eq!(signals.known_before(vix[5].0).unwrap().vix_rank, None);
    }
}
