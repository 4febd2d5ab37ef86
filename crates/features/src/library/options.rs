//! Options: implied volatility (the CBOE VIX family and the underlying's own chain), its term
//! structure and skew, IV rank and percentile, put/call ratios, dealer gamma.
//!
//! The VIX family is real CBOE data for every underlying (it is the S&P 500's implied
//! volatility; for QQQ and IWM it is the market's). Chain metrics come from
//! [`crate::chain_metrics::ChainSummary`] of the underlying itself, real or synthetic as the
//! matrix's metadata says.

use polars::prelude::*;

use super::{Builder, Family, Feature, flag, lag, ln, mean, range_pos, rank_pct, zscore};
use crate::panel::Source;

#[expect(
    clippy::too_many_lines,
    reason = "one flat list of the family's features"
)]
pub(super) fn features() -> Vec<Feature> {
    let mut b = Builder::new(Family::Options);
    let vix = || col("vix") / lit(100.0);
    let v = &[Source::Vix][..];
    b.add("vix", "VIX / 100", 0, v, vix());
    for n in [1_usize, 5, 21] {
        b.add(
            format!("vix_chg_{n}d"),
            format!("(VIX − VIX[{n}]) / 100"),
            n,
            v,
            vix() - lag(vix(), n),
        );
    }
    b.add(
        "vix_logchg_1d",
        "ln(VIX / VIX[1])",
        1,
        v,
        ln(col("vix") / lag(col("vix"), 1)),
    );
    for n in [21_usize, 63, 252] {
        b.add(
            format!("vix_z_{n}d"),
            format!("z_{n}(VIX)"),
            n - 1,
            v,
            zscore(col("vix"), n),
        );
    }
    for n in [126_usize, 252] {
        b.add(
            format!("vix_rank_{n}d"),
            format!("IV rank: (VIX − min_{n}(VIX)) / (max_{n}(VIX) − min_{n}(VIX))"),
            n - 1,
            v,
            range_pos(col("vix"), n),
        );
    }
    b.add(
        "vix_pct_252d",
        "IV percentile: rank_252(VIX)",
        251,
        v,
        rank_pct(col("vix"), 252),
    );
    b.add(
        "vix_sma_ratio_21d",
        "VIX / mean_21(VIX) − 1",
        20,
        v,
        col("vix") / mean(col("vix"), 21) - lit(1.0),
    );
    let v3 = &[Source::Vix, Source::Vix3m][..];
    b.add(
        "vix_vix3m",
        "VIX / VIX3M (term structure; > 1 is backwardation)",
        0,
        v3,
        col("vix") / col("vix3m"),
    );
    b.add(
        "vix_vix3m_mean_5d",
        "mean_5(VIX / VIX3M)",
        4,
        v3,
        mean(col("vix") / col("vix3m"), 5),
    );
    b.add(
        "vix_backwardation",
        "1[VIX > VIX3M]",
        0,
        v3,
        flag(col("vix").gt(col("vix3m"))),
    );
    b.add(
        "vix9d_vix",
        "VIX9D / VIX",
        0,
        &[Source::Vix9d, Source::Vix],
        col("vix9d") / col("vix"),
    );
    b.add(
        "vix9d_vix3m",
        "VIX9D / VIX3M",
        0,
        &[Source::Vix9d, Source::Vix3m],
        col("vix9d") / col("vix3m"),
    );
    let vv = &[Source::Vvix][..];
    b.add("vvix", "VVIX / 100", 0, vv, col("vvix") / lit(100.0));
    b.add("vvix_z_63d", "z_63(VVIX)", 62, vv, zscore(col("vvix"), 63));
    b.add(
        "vvix_vix",
        "VVIX / VIX",
        0,
        &[Source::Vvix, Source::Vix],
        col("vvix") / col("vix"),
    );
    let sk = &[Source::Skew][..];
    b.add(
        "skew_implied",
        "(100 − SKEW) / 10 (the 30-day risk-neutral skewness CBOE's SKEW encodes)",
        0,
        sk,
        (lit(100.0) - col("skew")) / lit(10.0),
    );
    b.add("skew_z_63d", "z_63(SKEW)", 62, sk, zscore(col("skew"), 63));
    b.add(
        "skew_chg_5d",
        "(SKEW − SKEW[5]) / 10",
        5,
        sk,
        (col("skew") - lag(col("skew"), 5)) / lit(10.0),
    );
    let pc = &[Source::PutCall][..];
    for (name, column) in [
        ("pc_total", "pc_total"),
        ("pc_equity", "pc_equity"),
        ("pc_index", "pc_index"),
    ] {
        b.add(
            name,
            format!("CBOE {} put/call volume ratio", &name[3..]),
            0,
            pc,
            col(column),
        );
    }
    b.add(
        "pc_total_mean_5d",
        "mean_5(pc_total)",
        4,
        pc,
        mean(col("pc_total"), 5),
    );
    b.add(
        "pc_equity_z_63d",
        "z_63(pc_equity)",
        62,
        pc,
        zscore(col("pc_equity"), 63),
    );
    let ch = &[Source::Chains][..];
    for (name, column, text) in [
        (
            "atm_iv_30d",
            "ch_atm_iv_30d",
            "30-day constant-maturity ATM implied vol",
        ),
        (
            "atm_iv_front",
            "ch_atm_iv_front",
            "ATM implied vol of the front expiry (≥ 7 days)",
        ),
        (
            "atm_iv_back",
            "ch_atm_iv_back",
            "ATM implied vol of the back expiry (≥ 60 days)",
        ),
        (
            "rr25",
            "ch_rr25",
            "30-day 25Δ risk reversal: IV(25Δ call) − IV(25Δ put)",
        ),
        (
            "fly25",
            "ch_fly25",
            "30-day 25Δ butterfly: (IV(25Δ call) + IV(25Δ put)) / 2 − ATM IV",
        ),
        (
            "skew_slope",
            "ch_skew_slope",
            "d IV / d ln(K/F) near the money, 30 days",
        ),
        ("term_slope", "ch_term_slope", "back ATM IV − front ATM IV"),
        (
            "chain_pc_volume",
            "ch_pc_volume",
            "put volume / call volume of the chain",
        ),
        (
            "chain_pc_oi",
            "ch_pc_oi",
            "put open interest / call open interest of the chain",
        ),
    ] {
        b.add(name, text, 0, ch, col(column));
    }
    b.add(
        "gex_bn",
        "dealer gamma exposure, US$ bn per 1 % move (dealers long calls, short puts)",
        0,
        ch,
        col("ch_gex") / lit(1e9),
    );
    b.add("gex_z_63d", "z_63(GEX)", 62, ch, zscore(col("ch_gex"), 63));
    let iv = || col("ch_atm_iv_30d");
    for n in [1_usize, 5] {
        b.add(
            format!("atm_iv_chg_{n}d"),
            format!("atm_iv_30d − atm_iv_30d[{n}]"),
            n,
            ch,
            iv() - lag(iv(), n),
        );
    }
    b.add(
        "atm_iv_rank_252d",
        "IV rank of atm_iv_30d over 252 sessions",
        251,
        ch,
        range_pos(iv(), 252),
    );
    b.add(
        "atm_iv_pct_252d",
        "IV percentile: rank_252(atm_iv_30d)",
        251,
        ch,
        rank_pct(iv(), 252),
    );
    b.add("atm_iv_z_63d", "z_63(atm_iv_30d)", 62, ch, zscore(iv(), 63));
    b.add(
        "rr25_chg_5d",
        "rr25 − rr25[5]",
        5,
        ch,
        col("ch_rr25") - lag(col("ch_rr25"), 5),
    );
    b.add(
        "rr25_z_63d",
        "z_63(rr25)",
        62,
        ch,
        zscore(col("ch_rr25"), 63),
    );
    b.add(
        "fly25_z_63d",
        "z_63(fly25)",
        62,
        ch,
        zscore(col("ch_fly25"), 63),
    );
    b.add(
        "term_slope_z_63d",
        "z_63(term_slope)",
        62,
        ch,
        zscore(col("ch_term_slope"), 63),
    );
    b.finish()
}
