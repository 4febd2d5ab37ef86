//! Derived and cross-asset features: implied versus realised volatility, risk-adjusted
//! momentum, the rate, and the underlying against its two peers (relative strength, rolling
//! correlation, beta, dispersion).

use polars::prelude::*;

use super::volatility::{rv_cc, yang_zhang};
use super::{Builder, Family, Feature, corr, cov, lag, ln, mean, range_pos, sq, var, zscore};
use crate::panel::Source;

#[expect(
    clippy::too_many_lines,
    reason = "one flat list of the family's features"
)]
pub(super) fn features() -> Vec<Feature> {
    let mut b = Builder::new(Family::DerivedCross);
    let iv = || col("_iv");
    let bv = &[Source::Bars, Source::Vix][..];
    for n in [10_usize, 21] {
        b.add(
            format!("iv_rv_spread_{n}d"),
            format!("VIX/100 − rv_cc_{n}d"),
            n,
            bv,
            iv() - rv_cc(n),
        );
    }
    b.add(
        "iv_yz_spread_21d",
        "VIX/100 − rv_yang_zhang_21d",
        21,
        bv,
        iv() - yang_zhang(21),
    );
    b.add(
        "atm_iv_rv_spread_21d",
        "atm_iv_30d − rv_cc_21d",
        21,
        &[Source::Bars, Source::Chains],
        col("ch_atm_iv_30d") - rv_cc(21),
    );
    for n in [5_usize, 21] {
        b.add(
            format!("rv_iv_ratio_{n}d"),
            format!("rv_cc_{n}d / (VIX/100)"),
            n,
            bv,
            rv_cc(n) / iv(),
        );
    }
    let vrp = || sq(iv()) - sq(rv_cc(21));
    b.add(
        "vrp_21d",
        "(VIX/100)² − rv_cc_21d² (variance risk premium)",
        21,
        bv,
        vrp(),
    );
    b.add("vrp_mean_21d", "mean_21(vrp_21d)", 41, bv, mean(vrp(), 21));
    let dvix = || iv() - lag(iv(), 1);
    b.add(
        "ret_vix_corr_63d",
        "corr_63(r, Δ VIX/100)",
        63,
        bv,
        corr(col("_r"), dvix(), 63),
    );
    let r_v = super::paired(col("_r"), dvix());
    let dvix_r = super::paired(dvix(), col("_r"));
    b.add(
        "vix_beta_63d",
        "cov_63(Δ VIX/100, r) / var_63(r)",
        63,
        bv,
        cov(dvix_r, r_v.clone(), 63) / var(r_v, 63),
    );
    b.add(
        "iv_rank_minus_rv_pct",
        "vix_rank_252d − rv_cc_21d_pct_252d",
        272,
        bv,
        range_pos(col("vix"), 252) - col("rv_cc_21d_pct_252d"),
    );
    for n in [21_usize, 63] {
        b.add(
            format!("ret_rv_ratio_{n}d"),
            format!("ret_{n}d / rv_cc_{n}d (risk-adjusted momentum)"),
            n,
            &[Source::Bars],
            col(format!("ret_{n}d")) / rv_cc(n),
        );
    }
    let bc = &[Source::Bars, Source::Chains][..];
    b.add(
        "yz_atm_iv_ratio",
        "rv_yang_zhang_21d / atm_iv_30d",
        21,
        bc,
        yang_zhang(21) / col("ch_atm_iv_30d"),
    );
    b.add(
        "atm_iv_vix_ratio",
        "atm_iv_30d / (VIX/100)",
        0,
        &[Source::Chains, Source::Vix],
        col("ch_atm_iv_30d") / iv(),
    );
    b.add(
        "rr25_norm",
        "rr25 / atm_iv_30d",
        0,
        &[Source::Chains],
        col("ch_rr25") / col("ch_atm_iv_30d"),
    );
    let br = &[Source::Bars, Source::Rate][..];
    b.add(
        "rate",
        "risk-free rate, continuously compounded (FRED DFF)",
        0,
        &[Source::Rate],
        col("rate"),
    );
    b.add(
        "excess_ret_21d",
        "ret_21d − (exp(rate · 21/252) − 1)",
        21,
        br,
        col("ret_21d") - ((col("rate") * lit(21.0 / 252.0)).exp() - lit(1.0)),
    );
    for (slot, source) in [(1_usize, Source::Peer1), (2, Source::Peer2)] {
        let p = || col(format!("peer{slot}_close"));
        let pr = || col(format!("_p{slot}r"));
        let rp = || col(format!("_r_p{slot}"));
        let inputs = &[Source::Bars, source][..];
        for n in [21_usize, 63] {
            b.add(
                format!("peer{slot}_rel_ret_{n}d"),
                format!("ret_{n}d − (peer{slot}/peer{slot}[{n}] − 1)"),
                n,
                inputs,
                col(format!("ret_{n}d")) - (p() / lag(p(), n) - lit(1.0)),
            );
            b.add(
                format!("peer{slot}_corr_{n}d"),
                format!("corr_{n}(r, r_peer{slot})"),
                n,
                inputs,
                corr(rp(), pr(), n),
            );
        }
        b.add(
            format!("peer{slot}_beta_63d"),
            format!("cov_63(r, r_peer{slot}) / var_63(r_peer{slot})"),
            63,
            inputs,
            cov(rp(), pr(), 63) / var(pr(), 63),
        );
        b.add(
            format!("peer{slot}_ratio_z_63d"),
            format!("z_63(ln(c / peer{slot}))"),
            62,
            inputs,
            zscore(ln(col("close") / p()), 63),
        );
        b.add(
            format!("peer{slot}_rv_ratio_21d"),
            format!("rv_cc_21d / (√252 · std_21(r_peer{slot}))"),
            21,
            inputs,
            rv_cc(21) / (lit(252.0_f64.sqrt()) * super::std(pr(), 21)),
        );
    }
    // Cross-sectional dispersion of the three underlyings' returns.
    let all3 = &[Source::Bars, Source::Peer1, Source::Peer2][..];
    let ret = |x: Expr, n: usize| x.clone() / lag(x, n) - lit(1.0);
    let disp = |a: Expr, b2: Expr, c2: Expr| {
        let m = (a.clone() + b2.clone() + c2.clone()) / lit(3.0);
        ((sq(a - m.clone()) + sq(b2 - m.clone()) + sq(c2 - m)) / lit(2.0)).sqrt()
    };
    b.add(
        "dispersion_21d",
        "sample std of (ret_21d, peer1 21-day return, peer2 21-day return)",
        21,
        all3,
        disp(
            col("ret_21d"),
            ret(col("peer1_close"), 21),
            ret(col("peer2_close"), 21),
        ),
    );
    b.add(
        "dispersion_1d_mean_21d",
        "mean_21(sample std of (r, r_peer1, r_peer2))",
        21,
        all3,
        mean(
            disp(
                col("_r"),
                ln(col("peer1_close") / lag(col("peer1_close"), 1)),
                ln(col("peer2_close") / lag(col("peer2_close"), 1)),
            ),
            21,
        ),
    );
    b.finish()
}
