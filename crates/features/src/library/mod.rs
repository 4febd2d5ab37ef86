//! The feature library: one registry of daily features in six families (after Bali et al.),
//! each a polars expression over a [`DailyPanel`]'s frame, computed in one `with_columns`
//! pass per family.
//!
//! Every feature has a name, a family, a formula (text) and a lookback in [`registry`];
//! `docs/features.md` is generated from it by [`registry_markdown`].
//!
//! # NaN policy (one for every feature)
//!
//! 1. **Warm-up.** A feature's *lookback* L is the number of earlier sessions its value
//!    uses: with complete inputs, the value is NaN on the first L rows of the panel and
//!    defined from row L on. Rolling windows need every observation
//!    (`min_periods = window`): a partial window is never averaged.
//! 2. **Missing inputs.** Where an input is missing (a session without a bar, a VIX close
//!    CBOE did not publish, a series that does not cover the date, a chain metric the chain
//!    cannot support), every feature whose formula or window touches it is NaN. Daily
//!    series are never filled (see [`crate::panel`]); rates are carried at most
//!    [`crate::panel::RATE_MAX_STALENESS_DAYS`] days.
//! 3. **Undefined arithmetic.** A value that is not finite (a ratio over a zero range or a
//!    zero volume) is NaN in the output. Guards that give a defined value instead are in the
//!    formulas (the close-location value of a bar with high = low is 0).
//! 4. **Exponential averages** (MACD, the `RiskMetrics` volatility) skip missing rows and carry
//!    their state across them: their lookback is the warm-up (`min_periods`), not a window.
//!
//! No feature looks ahead: every expression uses rows at or before its own (shifts are
//! non-negative, windows trail), so a value at t is bit-identical whether or not data after
//! t exists (`tests/lookahead.rs` checks this on random cut dates).

mod derived;
mod options;
mod price;
mod temporal;
mod volatility;
mod volume;

use std::fmt::Write as _;

use polars::prelude::*;

use crate::error::Result;
use crate::matrix::FeatureMatrix;
use crate::panel::{DailyPanel, Source};

/// The semantic version of the feature set: bumped by hand when a formula's meaning
/// changes. [`feature_set_version`] appends a hash of the registry, so any change shows.
pub const FEATURE_SET_SEMVER: &str = "1.0.0";

/// The families of the library (Bali et al.'s grouping, as in the plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Implied volatility, its term structure and skew, put/call ratios, dealer gamma.
    Options,
    /// Realised-volatility estimators and their dynamics.
    Volatility,
    /// Returns, trend and oscillators.
    PriceMomentum,
    /// Volume, liquidity and options volume / open interest.
    VolumeOpenInterest,
    /// Calendar: weekday, month, expiries, holidays, turn of month and quarter.
    Temporal,
    /// Combinations across families and across assets.
    DerivedCross,
}

impl Family {
    /// All families, in computation order (derived features use the others' columns).
    pub const ALL: [Self; 6] = [
        Self::PriceMomentum,
        Self::Volatility,
        Self::Options,
        Self::VolumeOpenInterest,
        Self::Temporal,
        Self::DerivedCross,
    ];

    /// The family's name in docs and metadata.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Options => "options",
            Self::Volatility => "volatility",
            Self::PriceMomentum => "price_momentum",
            Self::VolumeOpenInterest => "volume_open_interest",
            Self::Temporal => "temporal",
            Self::DerivedCross => "derived_cross",
        }
    }

    /// The plan's target count of features in the family (issue #5 §3).
    #[must_use]
    pub const fn target(self) -> usize {
        match self {
            Self::Options => 40,
            Self::Volatility | Self::DerivedCross => 30,
            Self::PriceMomentum => 50,
            Self::VolumeOpenInterest => 20,
            Self::Temporal => 15,
        }
    }
}

/// One feature's entry in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Column name, unique.
    pub name: String,
    /// Family.
    pub family: Family,
    /// The formula, as text (`c` close, `o h l` open/high/low, `v` volume, `r` the daily log
    /// return ln(cₜ/cₜ₋₁); `mean_n`, `std_n` (sample, n − 1), `min_n`, `max_n`, `sum_n` trail
    /// over the last n sessions including today; `x[k]` is x k sessions ago).
    pub formula: String,
    /// Earlier sessions the value uses: NaN on the first `lookback` rows.
    pub lookback: usize,
    /// The panel sources it reads.
    pub inputs: Vec<Source>,
}

/// A registry entry with its polars expression.
#[derive(Debug, Clone)]
pub(crate) struct Feature {
    pub(crate) spec: FeatureSpec,
    pub(crate) expr: Expr,
}

/// Builds [`Feature`]s of one family.
pub(crate) struct Builder {
    family: Family,
    features: Vec<Feature>,
}

impl Builder {
    pub(crate) const fn new(family: Family) -> Self {
        Self {
            family,
            features: Vec::new(),
        }
    }

    /// Adds a feature.
    pub(crate) fn add(
        &mut self,
        name: impl Into<String>,
        formula: impl Into<String>,
        lookback: usize,
        inputs: &[Source],
        expr: Expr,
    ) {
        let name = name.into();
        self.features.push(Feature {
            expr: expr.alias(name.as_str()),
            spec: FeatureSpec {
                name,
                family: self.family,
                formula: formula.into(),
                lookback,
                inputs: inputs.to_vec(),
            },
        });
    }

    pub(crate) fn finish(self) -> Vec<Feature> {
        self.features
    }
}

/// The features of one family, in registry order.
pub(crate) fn family_features(family: Family) -> Vec<Feature> {
    match family {
        Family::PriceMomentum => price::features(),
        Family::Volatility => volatility::features(),
        Family::Options => options::features(),
        Family::VolumeOpenInterest => volume::features(),
        Family::Temporal => temporal::features(),
        Family::DerivedCross => derived::features(),
    }
}

/// Every feature's spec, family by family in computation order.
#[must_use]
pub fn registry() -> Vec<FeatureSpec> {
    Family::ALL
        .iter()
        .flat_map(|f| family_features(*f).into_iter().map(|x| x.spec))
        .collect()
}

/// The feature-set version: `<semver>+<16 hex digits>`, the hash (FNV-1a, 64 bit) of every
/// spec's name, family, formula, lookback and inputs in registry order.
#[must_use]
pub fn feature_set_version() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for s in registry() {
        eat(&s.name);
        eat(s.family.name());
        eat(&s.formula);
        eat(&s.lookback.to_string());
        for i in &s.inputs {
            eat(i.name());
        }
    }
    format!("{FEATURE_SET_SEMVER}+{h:016x}")
}

/// `docs/features.md`, generated from the registry.
#[must_use]
pub fn registry_markdown() -> String {
    let specs = registry();
    let mut s = String::new();
    let _ = writeln!(s, "# Volta's daily features\n");
    let _ = writeln!(
        s,
        "Generated from the registry in `crates/features/src/library/` by \
         `volta_features::library::registry_markdown()`; do not edit by hand. Regenerate with \
         `cargo test -p volta-features --test library -- --ignored write_features_md`.\n"
    );
    let _ = writeln!(
        s,
        "Feature set {} — {} features.\n",
        feature_set_version(),
        specs.len()
    );
    let _ = writeln!(s, "| family | features | target |\n|---|---|---|");
    for f in Family::ALL {
        let n = specs.iter().filter(|x| x.family == f).count();
        let _ = writeln!(s, "| {} | {n} | ≥ {} |", f.name(), f.target());
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Notation\n");
    let _ = writeln!(
        s,
        "`c o h l v`: the underlying's close, open, high, low (US dollars, split-adjusted, not \
         dividend-adjusted) and volume (shares). `r = ln(c/c[1])`, the daily log return. \
         `x[k]`: x k sessions ago. `mean_n, std_n, min_n, max_n, sum_n`: over the last n \
         sessions including today (std is the sample standard deviation, n − 1); \
         `rank_n(x)`: (rank of today's x among the last n − 1) / (n − 1), ties averaged; \
         `z_n(x) = (x − mean_n(x)) / std_n(x)`; `ema_a`: exponential average with \
         weight a on today, started at the first value. Volatilities are annualised with \
         252 sessions a year and written as decimals (0.18 = 18 %); VIX-family indices are \
         divided by 100 the same way. `peer1`, `peer2`: the panel's other underlyings (for \
         SPY: QQQ, IWM; for QQQ: SPY, IWM; for IWM: SPY, QQQ). `lookback`: earlier sessions \
         used (NaN on the first `lookback` rows). `inputs`: the panel sources read.\n"
    );
    let _ = writeln!(s, "## NaN policy\n");
    let _ = writeln!(
        s,
        "1. **Warm-up.** A feature is NaN on the panel's first `lookback` rows; rolling \
         windows need every observation (`min_periods = window`).\n\
         2. **Missing inputs.** Where an input is missing, every feature whose formula or \
         window touches it is NaN. The panel's grid is every NYSE session between the \
         underlying's first and last bar; a session without a bar is a row of missing \
         prices, never dropped (so nothing shifts). Daily series (VIX family, peers, \
         put/call ratios, chain summaries) join on the exact date and are never filled \
         forward or backward: a series that does not cover a date leaves its features NaN \
         there. The risk-free rate is the last FRED observation at most 7 calendar days old \
         (FRED leaves holidays blank). NaN in an auxiliary series is a missing value; a \
         non-finite or non-positive price of the underlying is an error naming the date.\n\
         3. **Undefined arithmetic.** A non-finite result (a ratio over a zero range or a \
         zero volume) is NaN.\n\
         4. **Exponential averages** (MACD, RiskMetrics volatility) skip missing rows; their \
         lookback is their warm-up.\n"
    );
    for f in Family::ALL {
        let _ = writeln!(s, "## {}\n", f.name());
        let _ = writeln!(
            s,
            "| name | formula | lookback | inputs |\n|---|---|---|---|"
        );
        for x in specs.iter().filter(|x| x.family == f) {
            let inputs: Vec<&str> = x.inputs.iter().map(|i| i.name()).collect();
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} |",
                x.name,
                x.formula.replace('|', "\\|"),
                x.lookback,
                inputs.join(", ")
            );
        }
        let _ = writeln!(s);
    }
    s
}

// ---- Expression helpers shared by the families. ----

/// A trailing window of `n` rows that needs all `n` (the NaN policy).
pub(crate) fn win(n: usize) -> RollingOptionsFixedWindow {
    RollingOptionsFixedWindow {
        window_size: n,
        min_periods: n,
        ..Default::default()
    }
}

pub(crate) fn ln(e: Expr) -> Expr {
    e.log(lit(std::f64::consts::E))
}

pub(crate) fn sq(e: Expr) -> Expr {
    e.clone() * e
}

/// `x[k]`: the value `k` sessions ago (a non-negative shift: never a future row).
pub(crate) fn lag(e: Expr, k: usize) -> Expr {
    e.shift(lit(k as u64))
}

pub(crate) fn mean(e: Expr, n: usize) -> Expr {
    e.rolling_mean(win(n))
}

pub(crate) fn sum(e: Expr, n: usize) -> Expr {
    e.rolling_sum(win(n))
}

pub(crate) fn std(e: Expr, n: usize) -> Expr {
    e.rolling_std(win(n))
}

pub(crate) fn var(e: Expr, n: usize) -> Expr {
    e.rolling_var(win(n))
}

pub(crate) fn rmax(e: Expr, n: usize) -> Expr {
    e.rolling_max(win(n))
}

pub(crate) fn rmin(e: Expr, n: usize) -> Expr {
    e.rolling_min(win(n))
}

/// `z_n(x)`.
pub(crate) fn zscore(e: Expr, n: usize) -> Expr {
    (e.clone() - mean(e.clone(), n)) / std(e, n)
}

/// Where today's value sits in the window's range, 0 (at the min) to 1 (at the max).
pub(crate) fn range_pos(e: Expr, n: usize) -> Expr {
    let lo = rmin(e.clone(), n);
    (e.clone() - lo.clone()) / (rmax(e, n) - lo)
}

/// `rank_n(x)`: 0 when today's value is the lowest of the window, 1 when the highest.
pub(crate) fn rank_pct(e: Expr, n: usize) -> Expr {
    let options = RollingOptionsFixedWindow {
        fn_params: Some(RollingFnParams::Rank {
            method: RollingRankMethod::Average,
            seed: None,
        }),
        ..win(n)
    };
    (e.rolling_rank(options).cast(DataType::Float64) - lit(1.0)) / lit((n - 1) as f64)
}

pub(crate) fn corr(x: Expr, y: Expr, n: usize) -> Expr {
    rolling_corr(
        x,
        y,
        RollingCovOptions {
            window_size: n as IdxSize,
            min_periods: n as IdxSize,
            ddof: 1,
        },
    )
}

pub(crate) fn cov(x: Expr, y: Expr, n: usize) -> Expr {
    rolling_cov(
        x,
        y,
        RollingCovOptions {
            window_size: n as IdxSize,
            min_periods: n as IdxSize,
            ddof: 1,
        },
    )
}

/// An exponential average with weight `alpha` on today (`adjust = false`: the recursive
/// form), defined once `min_periods` values were seen; missing rows are skipped.
pub(crate) fn ema(e: Expr, alpha: f64, min_periods: usize) -> Expr {
    e.ewm_mean(EWMOptions {
        alpha,
        adjust: false,
        bias: false,
        min_periods,
        ignore_nulls: true,
    })
}

/// 1.0 where `cond` holds, 0.0 where it does not, null where it is null.
pub(crate) fn flag(cond: Expr) -> Expr {
    cond.cast(DataType::Float64)
}

/// `a` where both `a` and `b` are present, else null: pairs two series for a correlation.
pub(crate) fn paired(a: Expr, b: Expr) -> Expr {
    when(b.is_not_null()).then(a).otherwise(lit(NULL))
}

/// Columns computed before the families: the panel's raw material in the forms the
/// formulas use. Their names start with `_` and are dropped from the output.
fn helpers() -> Vec<Expr> {
    let c = || col("close");
    let o = || col("open");
    let h = || col("high");
    let l = || col("low");
    let c1 = || lag(col("close"), 1);
    let v = || {
        when(col("volume").gt(lit(0.0)))
            .then(col("volume"))
            .otherwise(lit(NULL))
    };
    let ln2 = std::f64::consts::LN_2;
    let p1r = ln(col("peer1_close") / lag(col("peer1_close"), 1));
    let p2r = ln(col("peer2_close") / lag(col("peer2_close"), 1));
    let r = ln(c() / c1());
    vec![
        r.clone().alias("_r"),
        ln(h() / l()).alias("_hl"),
        ln(c() / o()).alias("_co"),
        ln(o() / c1()).alias("_on"),
        (when(h().gt(c1())).then(h()).otherwise(c1())
            - when(l().lt(c1())).then(l()).otherwise(c1()))
        .alias("_tr"),
        (sq(ln(h() / l())) / lit(4.0 * ln2)).alias("_pk"),
        (lit(0.5) * sq(ln(h() / l())) - lit(2.0 * ln2 - 1.0) * sq(ln(c() / o()))).alias("_gk"),
        (ln(h() / c()) * ln(h() / o()) + ln(l() / c()) * ln(l() / o())).alias("_rs"),
        when(h().gt(l()))
            .then(((c() - l()) - (h() - c())) / (h() - l()))
            .otherwise(lit(0.0))
            .alias("_clv"),
        v().alias("_v"),
        (c() * v()).alias("_dv"),
        ln(v()).alias("_lv"),
        ((h() + l() + c()) / lit(3.0)).alias("_tp"),
        paired(r.clone(), p1r.clone()).alias("_r_p1"),
        paired(p1r.clone(), r.clone()).alias("_p1r"),
        paired(r.clone(), p2r.clone()).alias("_r_p2"),
        paired(p2r, r).alias("_p2r"),
        (col("vix") / lit(100.0)).alias("_iv"),
    ]
}

/// Which families [`compute_with`] reports as done.
pub type Progress<'a> = &'a mut dyn FnMut(Family, usize);

/// Computes every feature of the registry on `panel`: one `with_columns` pass for the
/// helper columns, then one per family. NaN follows the module's policy.
///
/// # Errors
/// [`crate::FeatureError::Core`] for a panel date outside the calendar's range;
/// [`crate::FeatureError::Polars`] if polars fails.
pub fn compute(panel: &DailyPanel) -> Result<FeatureMatrix> {
    compute_with(panel, &mut |_, _| {})
}

/// [`compute`], calling `progress(family, features_in_family)` after each family's pass.
///
/// # Errors
/// As [`compute`].
pub fn compute_with(panel: &DailyPanel, progress: Progress<'_>) -> Result<FeatureMatrix> {
    let mut df = panel
        .to_dataframe()?
        .lazy()
        .with_columns(helpers())
        .collect()?;
    let mut specs = Vec::new();
    for family in Family::ALL {
        let features = family_features(family);
        let n = features.len();
        let (s, exprs): (Vec<FeatureSpec>, Vec<Expr>) =
            features.into_iter().map(|f| (f.spec, f.expr)).unzip();
        df = df.lazy().with_columns(exprs).collect()?;
        specs.extend(s);
        progress(family, n);
    }
    FeatureMatrix::from_frame(panel, &df, specs)
}
