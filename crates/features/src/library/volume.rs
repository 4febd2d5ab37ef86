//! Volume and open interest: activity, liquidity (Amihud), flow (OBV, Chaikin, MFI), and the
//! option chain's volume and open interest. A zero or unknown volume is missing.

use polars::prelude::*;

use super::{Builder, Family, Feature, corr, flag, lag, ln, mean, rank_pct, sum, zscore};
use crate::panel::Source;

const B: &[Source] = &[Source::Bars];

#[expect(
    clippy::too_many_lines,
    reason = "one flat list of the family's features"
)]
pub(super) fn features() -> Vec<Feature> {
    let mut b = Builder::new(Family::VolumeOpenInterest);
    let v = || col("_v");
    let r = || col("_r");
    for n in [20_usize, 63] {
        b.add(
            format!("volume_z_{n}d"),
            format!("z_{n}(ln v)"),
            n - 1,
            B,
            zscore(col("_lv"), n),
        );
    }
    b.add(
        "volume_ratio_20d",
        "v / mean_20(v)",
        19,
        B,
        v() / mean(v(), 20),
    );
    b.add(
        "volume_ratio_5_20",
        "mean_5(v) / mean_20(v)",
        19,
        B,
        mean(v(), 5) / mean(v(), 20),
    );
    b.add(
        "volume_trend_20_252",
        "mean_20(v) / mean_252(v)",
        251,
        B,
        mean(v(), 20) / mean(v(), 252),
    );
    b.add(
        "dollar_volume_log_20d",
        "ln(mean_20(c · v))",
        19,
        B,
        ln(mean(col("_dv"), 20)),
    );
    b.add(
        "dollar_volume_z_63d",
        "z_63(ln(c · v))",
        62,
        B,
        zscore(ln(col("_dv")), 63),
    );
    b.add("volume_pct_252d", "rank_252(v)", 251, B, rank_pct(v(), 252));
    // On-balance volume's change over n sessions, in units of the volume traded: the same
    // number as (OBV − OBV[n]) / sum_n(v), without a running sum that would tie the value to
    // the first date of the panel.
    // sign(r) · v with sign(0) = 0, null where r or v is.
    let signed = || {
        when(r().is_null()).then(lit(NULL)).otherwise(
            when(r().gt(lit(0.0)))
                .then(v())
                .otherwise(when(r().lt(lit(0.0))).then(-v()).otherwise(lit(0.0) * v())),
        )
    };
    for n in [20_usize, 63] {
        b.add(
            format!("obv_chg_{n}d"),
            format!("(OBV − OBV[{n}]) / sum_{n}(v), OBV = Σ sign(r) · v"),
            n,
            B,
            sum(signed(), n) / sum(v(), n),
        );
    }
    for n in [21_usize, 63] {
        b.add(
            format!("amihud_{n}d"),
            format!("1e9 · mean_{n}(|r| / (c · v)) (Amihud illiquidity, per US$ bn)"),
            n,
            B,
            lit(1e9) * mean(r().abs() / col("_dv"), n),
        );
    }
    b.add(
        "pv_corr_21d",
        "corr_21(r, Δ ln v)",
        21,
        B,
        corr(r(), col("_lv") - lag(col("_lv"), 1), 21),
    );
    b.add(
        "absret_volume_corr_63d",
        "corr_63(|r|, ln v)",
        63,
        B,
        corr(r().abs(), col("_lv"), 63),
    );
    b.add(
        "cmf_20d",
        "sum_20(clv · v) / sum_20(v) (Chaikin money flow)",
        19,
        B,
        sum(col("_clv") * v(), 20) / sum(v(), 20),
    );
    let tp = || col("_tp");
    let up = when(tp().gt(lag(tp(), 1))).then(tp() * v()).otherwise(
        when((tp() * v()).is_not_null().and(lag(tp(), 1).is_not_null()))
            .then(lit(0.0))
            .otherwise(lit(NULL)),
    );
    let down = when(tp().lt(lag(tp(), 1))).then(tp() * v()).otherwise(
        when((tp() * v()).is_not_null().and(lag(tp(), 1).is_not_null()))
            .then(lit(0.0))
            .otherwise(lit(NULL)),
    );
    b.add(
        "mfi_14d",
        "100 · P / (P + N), P (N) = sum_14 of tp · v on days tp rose (fell), tp = (h + l + c)/3",
        14,
        B,
        lit(100.0) * sum(up.clone(), 14) / (sum(up, 14) + sum(down, 14)),
    );
    b.add(
        "vwap_dev_20d",
        "c / (sum_20(tp · v) / sum_20(v)) − 1",
        19,
        B,
        col("close") / (sum(tp() * v(), 20) / sum(v(), 20)) - lit(1.0),
    );
    b.add(
        "up_volume_ratio_20d",
        "sum_20(v · 1[r > 0]) / sum_20(v)",
        20,
        B,
        sum(v() * flag(r().gt(lit(0.0))), 20) / sum(v(), 20),
    );
    let ch = &[Source::Chains][..];
    let opt_vol = || col("ch_call_volume") + col("ch_put_volume");
    let oi = || col("ch_call_oi") + col("ch_put_oi");
    b.add(
        "option_volume_log",
        "ln(1 + call volume + put volume), contracts",
        0,
        ch,
        opt_vol().log1p(),
    );
    b.add(
        "option_oi_log",
        "ln(1 + call OI + put OI), contracts",
        0,
        ch,
        oi().log1p(),
    );
    b.add(
        "option_stock_volume_ratio",
        "100 · (call + put volume) / v (option shares-equivalent per share traded)",
        0,
        &[Source::Chains, Source::Bars],
        lit(100.0) * opt_vol() / v(),
    );
    b.add(
        "option_oi_chg_5d",
        "ln(OI / OI[5]), OI = call OI + put OI",
        5,
        ch,
        ln(oi() / lag(oi(), 5)),
    );
    b.add(
        "put_oi_share",
        "put OI / (call OI + put OI)",
        0,
        ch,
        col("ch_put_oi") / oi(),
    );
    b.add(
        "option_volume_z_21d",
        "z_21(ln(1 + call volume + put volume))",
        20,
        ch,
        zscore(opt_vol().log1p(), 21),
    );
    b.finish()
}
