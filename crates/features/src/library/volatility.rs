//! Realised volatility: close-to-close and range-based estimators, ATR, their dynamics.
//!
//! Estimators (annualised with 252 sessions, decimals):
//! - close-to-close: `√252 · std_n(r)` (sample standard deviation);
//! - Parkinson (1980): `√(252 · mean_n(ln(h/l)²) / (4 ln 2))`;
//! - Garman & Klass (1980): `√(252 · mean_n(½ ln(h/l)² − (2 ln 2 − 1) ln(c/o)²))`;
//! - Rogers & Satchell (1991): `√(252 · mean_n(ln(h/c) ln(h/o) + ln(l/c) ln(l/o)))`;
//! - Yang & Zhang (2000): `√(252 · (σ²_o + k σ²_c + (1 − k) σ²_rs))` with `σ²_o` the sample
//!   variance of the overnight returns ln(o/c[1]), `σ²_c` that of ln(c/o), `σ²_rs` the
//!   Rogers-Satchell mean, and `k = 0.34 / (1.34 + (n + 1)/(n − 1))`.

use polars::prelude::*;

use super::{Builder, Family, Feature, ema, lag, mean, rank_pct, rmax, sq, std, var};
use crate::panel::Source;

const B: &[Source] = &[Source::Bars];
const A: f64 = 252.0;

/// Close-to-close volatility over `n` returns.
pub(super) fn rv_cc(n: usize) -> Expr {
    lit(A.sqrt()) * std(col("_r"), n)
}

/// Yang-Zhang volatility over `n` sessions.
pub(super) fn yang_zhang(n: usize) -> Expr {
    let nf = n as f64;
    let k = 0.34 / (1.34 + (nf + 1.0) / (nf - 1.0));
    (lit(A)
        * (var(col("_on"), n) + lit(k) * var(col("_co"), n) + lit(1.0 - k) * mean(col("_rs"), n)))
    .sqrt()
}

#[expect(
    clippy::too_many_lines,
    reason = "one flat list of the family's features"
)]
pub(super) fn features() -> Vec<Feature> {
    let mut b = Builder::new(Family::Volatility);
    for n in [5_usize, 10, 21, 63, 126, 252] {
        b.add(
            format!("rv_cc_{n}d"),
            format!("√252 · std_{n}(r)"),
            n,
            B,
            rv_cc(n),
        );
    }
    for n in [10_usize, 21, 63] {
        b.add(
            format!("rv_parkinson_{n}d"),
            format!("√(252 · mean_{n}(ln(h/l)²) / (4 ln 2))"),
            n - 1,
            B,
            (lit(A) * mean(col("_pk"), n)).sqrt(),
        );
        b.add(
            format!("rv_garman_klass_{n}d"),
            format!("√(252 · mean_{n}(½ ln(h/l)² − (2 ln 2 − 1) ln(c/o)²))"),
            n - 1,
            B,
            (lit(A) * mean(col("_gk"), n)).sqrt(),
        );
        b.add(
            format!("rv_rogers_satchell_{n}d"),
            format!("√(252 · mean_{n}(ln(h/c) ln(h/o) + ln(l/c) ln(l/o)))"),
            n - 1,
            B,
            (lit(A) * mean(col("_rs"), n)).sqrt(),
        );
        b.add(
            format!("rv_yang_zhang_{n}d"),
            format!(
                "√(252 · (var_{n}(ln(o/c[1])) + k var_{n}(ln(c/o)) + (1 − k) mean_{n}(RS))), \
                 k = 0.34 / (1.34 + ({n}+1)/({n}−1))"
            ),
            n,
            B,
            yang_zhang(n),
        );
    }
    for n in [14_usize, 21] {
        b.add(
            format!("atr_{n}d"),
            format!("mean_{n}(TR) / c, TR = max(h, c[1]) − min(l, c[1])"),
            n,
            B,
            mean(col("_tr"), n) / col("close"),
        );
    }
    b.add(
        "rv_ewma_94",
        "√(252 · ema_0.06(r²)) (RiskMetrics, λ = 0.94), after 21 returns",
        21,
        B,
        (lit(A) * ema(sq(col("_r")), 0.06, 21)).sqrt(),
    );
    b.add(
        "vol_of_vol_63d",
        "std_63(rv_cc_21d)",
        83,
        B,
        std(rv_cc(21), 63),
    );
    for (fast, slow) in [(5_usize, 21_usize), (21, 63), (21, 252)] {
        b.add(
            format!("rv_ratio_{fast}_{slow}"),
            format!("rv_cc_{fast}d / rv_cc_{slow}d"),
            slow,
            B,
            rv_cc(fast) / rv_cc(slow),
        );
    }
    for n in [21_usize, 63] {
        b.add(
            format!("rv_down_{n}d"),
            format!("√(252 · mean_{n}(min(r, 0)²)) (downside semivolatility)"),
            n,
            B,
            (lit(A) * mean(sq((col("_r") - col("_r").abs()) / lit(2.0)), n)).sqrt(),
        );
    }
    b.add(
        "rv_up_21d",
        "√(252 · mean_21(max(r, 0)²)) (upside semivolatility)",
        21,
        B,
        (lit(A) * mean(sq((col("_r") + col("_r").abs()) / lit(2.0)), 21)).sqrt(),
    );
    b.add(
        "rv_cc_21d_pct_252d",
        "rank_252(rv_cc_21d)",
        272,
        B,
        rank_pct(rv_cc(21), 252),
    );
    b.add(
        "max_abs_ret_21d",
        "max_21(|r|)",
        21,
        B,
        rmax(col("_r").abs(), 21),
    );
    b.add(
        "range_mean_21d",
        "mean_21(ln(h/l))",
        20,
        B,
        mean(col("_hl"), 21),
    );
    b.add(
        "rv_cc_21d_chg_5d",
        "rv_cc_21d − rv_cc_21d[5]",
        26,
        B,
        rv_cc(21) - lag(rv_cc(21), 5),
    );
    b.add(
        "rv_overnight_21d",
        "√252 · std_21(ln(o/c[1]))",
        21,
        B,
        lit(A.sqrt()) * std(col("_on"), 21),
    );
    b.add(
        "rv_intraday_21d",
        "√252 · std_21(ln(c/o))",
        20,
        B,
        lit(A.sqrt()) * std(col("_co"), 21),
    );
    b.finish()
}
