//! Price and momentum: returns over horizons, moving-average ratios, oscillators, ranges.

use polars::prelude::*;

use super::{
    Builder, Family, Feature, corr, ema, flag, lag, ln, mean, range_pos, rmax, rmin, std, sum,
    zscore,
};
use crate::panel::Source;

const B: &[Source] = &[Source::Bars];

#[expect(
    clippy::too_many_lines,
    reason = "one flat list of the family's features"
)]
pub(super) fn features() -> Vec<Feature> {
    let mut b = Builder::new(Family::PriceMomentum);
    let c = || col("close");
    let r = || col("_r");
    for n in [1_usize, 2, 3, 5, 10, 21, 42, 63, 126, 252] {
        b.add(
            format!("ret_{n}d"),
            format!("c / c[{n}] − 1"),
            n,
            B,
            c() / lag(c(), n) - lit(1.0),
        );
    }
    for n in [5_usize, 10, 20, 50, 100, 200] {
        b.add(
            format!("sma_ratio_{n}d"),
            format!("c / mean_{n}(c) − 1"),
            n - 1,
            B,
            c() / mean(c(), n) - lit(1.0),
        );
    }
    for n in [12_usize, 26, 50] {
        b.add(
            format!("ema_ratio_{n}d"),
            format!("c / ema_a(c) − 1, a = 2/({n}+1), after {n} values"),
            n - 1,
            B,
            c() / ema(c(), 2.0 / (n as f64 + 1.0), n) - lit(1.0),
        );
    }
    for (fast, slow) in [(5_usize, 20_usize), (20, 50), (50, 200)] {
        b.add(
            format!("sma_cross_{fast}_{slow}"),
            format!("mean_{fast}(c) / mean_{slow}(c) − 1"),
            slow - 1,
            B,
            mean(c(), fast) / mean(c(), slow) - lit(1.0),
        );
    }
    // Cutler's RSI (simple averages of gains and losses): a finite window, unlike Wilder's
    // exponential one, so the lookback is exact.
    for n in [2_usize, 14, 28] {
        let d = c() - lag(c(), 1);
        // (d + |d|) / 2 = max(d, 0), null where d is null (a `when` would turn null into 0).
        let gain = mean((d.clone() + d.clone().abs()) / lit(2.0), n);
        let loss = mean((d.clone().abs() - d) / lit(2.0), n);
        b.add(
            format!("rsi_{n}d"),
            format!(
                "100 · G / (G + L), G = mean_{n}(max(Δc, 0)), L = mean_{n}(max(−Δc, 0)); 50 when G + L = 0"
            ),
            n,
            B,
            when((gain.clone() + loss.clone()).gt(lit(0.0)))
                .then(lit(100.0) * gain.clone() / (gain.clone() + loss.clone()))
                .otherwise(when(gain.is_not_null()).then(lit(50.0)).otherwise(lit(NULL))),
        );
    }
    let macd = (ema(c(), 2.0 / 13.0, 12) - ema(c(), 2.0 / 27.0, 26)) / c();
    let signal = ema(macd.clone(), 0.2, 9);
    b.add(
        "macd",
        "(ema_{2/13}(c) − ema_{2/27}(c)) / c (MACD 12/26, in units of the close)",
        25,
        B,
        macd.clone(),
    );
    b.add(
        "macd_signal",
        "ema_{2/10}(macd), after 9 values",
        33,
        B,
        signal.clone(),
    );
    b.add("macd_hist", "macd − macd_signal", 33, B, macd - signal);
    for n in [20_usize, 50] {
        b.add(
            format!("bollinger_pos_{n}d"),
            format!("(c − mean_{n}(c)) / (2 · std_{n}(c)) (−1, 1 at the 2σ bands)"),
            n - 1,
            B,
            (c() - mean(c(), n)) / (lit(2.0) * std(c(), n)),
        );
    }
    b.add(
        "bollinger_width_20d",
        "4 · std_20(c) / mean_20(c)",
        19,
        B,
        lit(4.0) * std(c(), 20) / mean(c(), 20),
    );
    for n in [14_usize, 50] {
        let lo = rmin(col("low"), n);
        b.add(
            format!("stoch_k_{n}d"),
            format!("(c − min_{n}(l)) / (max_{n}(h) − min_{n}(l))"),
            n - 1,
            B,
            (c() - lo.clone()) / (rmax(col("high"), n) - lo),
        );
    }
    let lo14 = rmin(col("low"), 14);
    b.add(
        "stoch_d_14d",
        "mean_3(stoch_k_14d)",
        15,
        B,
        mean((c() - lo14.clone()) / (rmax(col("high"), 14) - lo14), 3),
    );
    for n in [20_usize, 252] {
        b.add(
            format!("dist_high_{n}d"),
            format!("c / max_{n}(h) − 1"),
            n - 1,
            B,
            c() / rmax(col("high"), n) - lit(1.0),
        );
        b.add(
            format!("dist_low_{n}d"),
            format!("c / min_{n}(l) − 1"),
            n - 1,
            B,
            c() / rmin(col("low"), n) - lit(1.0),
        );
    }
    for n in [20_usize, 55] {
        b.add(
            format!("donchian_pos_{n}d"),
            format!("(c − min_{n}(c)) / (max_{n}(c) − min_{n}(c))"),
            n - 1,
            B,
            range_pos(c(), n),
        );
    }
    b.add(
        "drawdown_252d",
        "c / max_252(c) − 1",
        251,
        B,
        c() / rmax(c(), 252) - lit(1.0),
    );
    b.add(
        "mom_12_1",
        "c[21] / c[252] − 1 (12-month momentum skipping the last month)",
        252,
        B,
        lag(c(), 21) / lag(c(), 252) - lit(1.0),
    );
    for n in [63_usize, 252] {
        b.add(
            format!("sharpe_{n}d"),
            format!("√252 · mean_{n}(r) / std_{n}(r)"),
            n,
            B,
            lit(252.0_f64.sqrt()) * mean(r(), n) / std(r(), n),
        );
    }
    for n in [63_usize, 252] {
        b.add(
            format!("skew_{n}d"),
            format!("sample skewness of r over {n} sessions (biased estimator)"),
            n,
            B,
            r().rolling_skew(super::win(n)),
        );
    }
    b.add(
        "kurt_63d",
        "excess kurtosis of r over 63 sessions (Fisher, biased estimator)",
        63,
        B,
        r().rolling_kurtosis(super::win(63)),
    );
    for n in [20_usize, 63] {
        b.add(
            format!("up_frac_{n}d"),
            format!("mean_{n}(1[r > 0])"),
            n,
            B,
            mean(flag(r().gt(lit(0.0))), n),
        );
    }
    b.add("overnight_ret", "ln(o / c[1])", 1, B, col("_on"));
    b.add("intraday_ret", "ln(c / o)", 0, B, col("_co"));
    b.add(
        "clv",
        "((c − l) − (h − c)) / (h − l), 0 when h = l (close location value)",
        0,
        B,
        col("_clv"),
    );
    b.add("clv_mean_5d", "mean_5(clv)", 4, B, mean(col("_clv"), 5));
    b.add(
        "ret_z_20d",
        "r / std_20(r[1]) (today's return in units of the previous 20 days' volatility)",
        21,
        B,
        r() / std(lag(r(), 1), 20),
    );
    for n in [10_usize, 20] {
        b.add(
            format!("efficiency_{n}d"),
            format!("|c − c[{n}]| / sum_{n}(|Δc|) (Kaufman's efficiency ratio)"),
            n,
            B,
            (c() - lag(c(), n)).abs() / sum((c() - lag(c(), 1)).abs(), n),
        );
    }
    b.add(
        "sma50_slope_5d",
        "mean_50(c) / mean_50(c)[5] − 1",
        54,
        B,
        mean(c(), 50) / lag(mean(c(), 50), 5) - lit(1.0),
    );
    b.add(
        "sma200_slope_20d",
        "mean_200(c) / mean_200(c)[20] − 1",
        219,
        B,
        mean(c(), 200) / lag(mean(c(), 200), 20) - lit(1.0),
    );
    b.add(
        "autocorr_63d",
        "corr_63(r, r[1]) (lag-1 autocorrelation of daily returns)",
        64,
        B,
        corr(r(), lag(r(), 1), 63),
    );
    b.add(
        "log_price_z_252d",
        "z_252(ln c)",
        251,
        B,
        zscore(ln(c()), 252),
    );
    b.finish()
}
