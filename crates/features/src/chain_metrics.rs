//! Metrics of one day's option chain: the options family's raw inputs.

use chrono::NaiveDate;
use volta_core::Underlying;

/// One underlying's chain on one day, reduced to the numbers the feature library uses.
///
/// Volatilities are annualised decimals (0.18 = 18 %). A metric the chain cannot support
/// (no expiry on one side of 30 days, no 25-delta strike, no volume) is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSummary {
    /// The session.
    pub date: NaiveDate,
    /// The underlying.
    pub underlying: Underlying,
    /// The underlying's price at the snapshot.
    pub spot: f64,
    /// 30-calendar-day constant-maturity ATM implied vol, interpolated in total variance
    /// between the expiries around 30 days.
    pub atm_iv_30d: Option<f64>,
    /// ATM implied vol of the front expiry (the nearest with at least 7 days to run).
    pub atm_iv_front: Option<f64>,
    /// ATM implied vol of the back expiry (the nearest with at least 60 days to run).
    pub atm_iv_back: Option<f64>,
    /// 30-day 25-delta risk reversal: IV(25Δ call) − IV(25Δ put).
    pub risk_reversal_25d: Option<f64>,
    /// 30-day 25-delta butterfly: (IV(25Δ call) + IV(25Δ put)) / 2 − ATM IV.
    pub butterfly_25d: Option<f64>,
    /// 30-day skew slope: d IV / d ln(K/F) near the money (negative for equity skew).
    pub skew_slope: Option<f64>,
    /// Term-structure slope: back ATM IV − front ATM IV (positive in contango).
    pub term_slope: Option<f64>,
    /// Total put volume / total call volume.
    pub put_call_volume_ratio: Option<f64>,
    /// Total put open interest / total call open interest.
    pub put_call_oi_ratio: Option<f64>,
    /// Total call volume, contracts.
    pub call_volume: u64,
    /// Total put volume, contracts.
    pub put_volume: u64,
    /// Total call open interest, contracts.
    pub call_open_interest: u64,
    /// Total put open interest, contracts.
    pub put_open_interest: u64,
    /// Dealer gamma exposure in dollars per 1 % move of the underlying, assuming dealers are
    /// long the calls and short the puts customers trade (the usual convention).
    pub dealer_gamma_exposure: Option<f64>,
    /// Quotes in the chain.
    pub quotes_total: u32,
    /// Quotes that passed the quality gate and were used.
    pub quotes_used: u32,
}
