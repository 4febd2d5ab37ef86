//! The synthetic market's chains against the real ones. A generated market has no real chain
//! of its own day to be priced against, so its chains are compared in shape: per call-delta ×
//! days cell, the mean of **IV − the day's VIX** (the smile and the term structure relative to
//! the volatility level) and the mean **bid/ask spread in vol points** (the spread divided by the
//! vega of one vol point: scale-free, so SPX's and SPY's quotes average together). The modelled
//! chains of the real history are measured the same way on the same real quotes, so the report
//! says whether the synthetic market matches the real chains as well as they do.
//!
//! Which quotes count is [`super`]'s rule (out of the money, call delta in (0.05, 0.95), at
//! least a day to expiry); a spread counts where the bid is above 0 and below the ask.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Acc, DAYS_BUCKETS, DELTA_BUCKETS};
use crate::error::Result;
use crate::synthetic::{SyntheticConfig, SyntheticMarket};

/// One delta × days cell of the shape comparison, real quotes against a model's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShapeCell {
    /// The delta bucket's label.
    pub delta: &'static str,
    /// The days bucket's label.
    pub days: &'static str,
    /// Real quotes in the cell.
    pub real_quotes: usize,
    /// The model's quotes in the cell.
    pub model_quotes: usize,
    /// Mean IV − VIX of the real quotes, vol points.
    pub real_smile: f64,
    /// Mean IV − VIX of the model's quotes, vol points.
    pub model_smile: f64,
    /// Mean real spread, vol points (NaN without a usable spread).
    pub real_spread: f64,
    /// Mean spread of the model's quotes, vol points.
    pub model_spread: f64,
}

/// A model's shape against the real chains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShapeErrors {
    /// Every cell where both have quotes, delta-major.
    pub cells: Vec<ShapeCell>,
    /// RMS over the cells of model − real mean IV − VIX, weighted by the real quotes, vol
    /// points.
    pub smile_rms: f64,
    /// RMS over the cells of the relative error of the mean spread, (model − real) / real,
    /// weighted by the real spreads.
    pub spread_rms: f64,
}

impl ShapeErrors {
    /// The cell of `delta` × `days` labels.
    #[must_use]
    pub fn cell(&self, delta: &str, days: &str) -> Option<&ShapeCell> {
        self.cells
            .iter()
            .find(|c| c.delta == delta && c.days == days)
    }
}

/// Per cell, IV − VIX and the spread in vol points of one set of quotes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShapeAcc {
    smile: [[Acc; 4]; 5],
    spread: [[Acc; 4]; 5],
}

impl ShapeAcc {
    /// One quote of `delta_bucket` × `days_bucket`: its IV less the day's VIX (both in vol
    /// points) and, where it has a usable bid and ask, its spread over its vega per point.
    pub(crate) fn add(
        &mut self,
        delta_bucket: usize,
        days_bucket: usize,
        iv_less_vix: f64,
        spread_over_vega: Option<f64>,
    ) {
        self.smile[delta_bucket][days_bucket].add(iv_less_vix);
        if let Some(s) = spread_over_vega.filter(|s| s.is_finite()) {
            self.spread[delta_bucket][days_bucket].add(s);
        }
    }

    /// `model` against `real`, cell by cell.
    pub(crate) fn compare(real: &Self, model: &Self) -> ShapeErrors {
        let mean_or_nan = |s: &super::ErrorStats| if s.quotes == 0 { f64::NAN } else { s.mean };
        let mut cells = Vec::new();
        let (mut smile_sq, mut smile_w, mut spread_sq, mut spread_w) = (0.0, 0.0, 0.0, 0.0);
        for (d, (_, _, dl)) in DELTA_BUCKETS.iter().enumerate() {
            for (t, (_, _, tl)) in DAYS_BUCKETS.iter().enumerate() {
                let (rs, ms) = (real.smile[d][t].stats(), model.smile[d][t].stats());
                if rs.quotes == 0 || ms.quotes == 0 {
                    continue;
                }
                let (rp, mp) = (real.spread[d][t].stats(), model.spread[d][t].stats());
                let w = rs.quotes as f64;
                smile_sq += w * (ms.mean - rs.mean).powi(2);
                smile_w += w;
                if rp.quotes > 0 && mp.quotes > 0 && rp.mean > 0.0 {
                    let w = rp.quotes as f64;
                    spread_sq += w * ((mp.mean - rp.mean) / rp.mean).powi(2);
                    spread_w += w;
                }
                cells.push(ShapeCell {
                    delta: dl,
                    days: tl,
                    real_quotes: rs.quotes,
                    model_quotes: ms.quotes,
                    real_smile: rs.mean,
                    model_smile: ms.mean,
                    real_spread: mean_or_nan(&rp),
                    model_spread: mean_or_nan(&mp),
                });
            }
        }
        let rms = |sq: f64, w: f64| if w > 0.0 { (sq / w).sqrt() } else { f64::NAN };
        ShapeErrors {
            cells,
            smile_rms: rms(smile_sq, smile_w),
            spread_rms: rms(spread_sq, spread_w),
        }
    }
}

/// The first session of the synthetic shape's market: `just backtest`'s span, 2014-2023.
pub const SYNTHETIC_SHAPE_START: (i32, u32, u32) = (2014, 1, 2);
/// The last session of the synthetic shape's market.
pub const SYNTHETIC_SHAPE_END: (i32, u32, u32) = (2023, 12, 29);
/// Every how many sessions the synthetic shape reads a chain (a chain takes milliseconds; the
/// smile's shape needs no more than one a week).
pub const SYNTHETIC_SHAPE_STRIDE: usize = 5;

/// The shape of the chains of the synthetic market `config` generates over 2014-2023 (one
/// session in [`SYNTHETIC_SHAPE_STRIDE`]), its start and end replaced.
///
/// # Errors
/// The errors of [`SyntheticMarket::generate`] and [`SyntheticMarket::chain`].
pub(crate) fn synthetic_shape(config: &SyntheticConfig) -> Result<ShapeAcc> {
    let ymd =
        |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    let config = SyntheticConfig {
        start: ymd(SYNTHETIC_SHAPE_START),
        end: ymd(SYNTHETIC_SHAPE_END),
        ..config.clone()
    };
    let market = SyntheticMarket::generate(&config)?;
    let mut acc = ShapeAcc::default();
    for index in (0..market.days().len()).step_by(SYNTHETIC_SHAPE_STRIDE) {
        let chain = market.chain(index)?;
        let vix = market.days()[index].vix;
        let spot = chain.underlying_price().to_f64();
        let date = chain.as_of().date();
        for q in chain.iter() {
            let Some(v) = q.vendor else { continue };
            let (Some(iv), Some(delta), Some(vega)) = (v.implied_vol, v.delta, v.vega) else {
                continue;
            };
            let strike = q.key.strike().to_f64();
            let days = (q.key.expiry() - date).num_days();
            let Some((d, t)) = super::buckets(q.key.right(), strike, spot, delta, days, iv) else {
                continue;
            };
            let spread = match (q.bid, q.ask) {
                (Some(b), Some(a)) if b.to_f64() > 0.0 && a.to_f64() > b.to_f64() && vega > 0.0 => {
                    Some((a.to_f64() - b.to_f64()) / vega)
                }
                _ => None,
            };
            acc.add(d, t, (iv * 100.0) - vix, spread);
        }
    }
    Ok(acc)
}
