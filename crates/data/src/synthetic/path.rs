//! The underlying's path: SVCJ dynamics discretised per session, with OHLC bars.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use super::config::ModelParams;

/// One session of the underlying, in `f64` (the market rounds to cents when it builds bars).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PathStep {
    pub(crate) open: f64,
    pub(crate) high: f64,
    pub(crate) low: f64,
    pub(crate) close: f64,
    pub(crate) volume: f64,
    /// Instantaneous variance per year at the close, after truncation at zero.
    pub(crate) variance: f64,
    /// Price jumps in the session (overnight).
    pub(crate) jumps: u32,
}

/// Sessions per year: the variance clock.
pub(crate) const SESSIONS_PER_YEAR: f64 = 252.0;

/// A Poisson draw by inversion of the CDF (Knuth); `mean` is small (λ·dt < 0.1 unless the
/// variance explodes), so the loop is short. Capped at 50 to bound the work on absurd inputs.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let u: f64 = rng.random();
    let mut p = (-mean).exp();
    let mut cdf = p;
    let mut n = 0;
    while u > cdf && n < 50 {
        n += 1;
        p *= mean / f64::from(n);
        cdf += p;
    }
    n
}

/// Advances the state `(ln S, v)` by one session and returns the session's bar.
///
/// Scheme: Euler with full truncation for the variance (Lord, Koekkoek and van Dijk 2010, "A
/// comparison of biased simulation schemes for stochastic volatility models": use v⁺ = max(v, 0)
/// in drift and diffusion, keep the possibly negative v in the state); the log-price is exact
/// given v⁺ over the step. Jumps: N ~ Poisson((λ₀ + λ₁v⁺)·dt); the log-price moves by
/// Σ N(μ_J, σ_J²) and the variance by Σ Exp(μ_V) (Duffie, Pan and Singleton 2000). The drift is
/// compensated so that E\[S_{t+dt}/S_t\] = e^{μ·dt}.
///
/// Intraday: the session's diffusive log-return D is split at the Brownian-bridge point
/// ω (overnight share): night = ω·D + √(ω(1−ω)·v⁺dt)·Z, jumps are added overnight, and the
/// high and low of the day part are drawn from the exact marginal laws of the maximum and
/// minimum of a Brownian bridge from 0 to x with variance s²: M = (x + √(x² − 2s² ln U))/2
/// (Glasserman 2004, §6.4). The two are drawn independently (their joint law is ignored).
pub(crate) fn step(p: &ModelParams, rng: &mut ChaCha8Rng, ln_s: &mut f64, v: &mut f64) -> PathStep {
    let dt = 1.0 / SESSIONS_PER_YEAR;
    let vp = v.max(0.0);
    let z_v: f64 = rng.sample(StandardNormal);
    let z_perp: f64 = rng.sample(StandardNormal);
    let z_s = p.rho * z_v + (1.0 - p.rho * p.rho).max(0.0).sqrt() * z_perp;
    let intensity = p.jump_intensity + p.jump_intensity_per_variance * vp;
    // E[e^J − 1] for J ~ N(μ_J, σ_J²): the jump compensator.
    let mean_jump = (p.jump_mean + 0.5 * p.jump_std * p.jump_std).exp() - 1.0;
    let diffusive = (p.drift - 0.5 * vp - intensity * mean_jump) * dt + (vp * dt).sqrt() * z_s;
    let jumps = poisson(rng, intensity * dt);
    let (mut jump_return, mut variance_jump) = (0.0, 0.0);
    if jumps > 0 {
        let n = f64::from(jumps);
        let z_j: f64 = rng.sample(StandardNormal);
        jump_return = n * p.jump_mean + n.sqrt() * p.jump_std * z_j;
        for _ in 0..jumps {
            let e: f64 = rng.sample(Exp1);
            variance_jump += p.variance_jump_mean * e;
        }
    }
    let omega = p.overnight_variance_share;
    let z_bridge: f64 = rng.sample(StandardNormal);
    let night =
        omega * diffusive + (omega * (1.0 - omega) * vp * dt).sqrt() * z_bridge + jump_return;
    let day = diffusive + jump_return - night;
    let s2 = day_variance(p, vp);
    let (u_hi, u_lo): (f64, f64) = (rng.random(), rng.random());
    // 1 − U lies in (0, 1]: ln never sees zero.
    let up = 0.5 * (day + (day * day - 2.0 * s2 * (1.0 - u_hi).ln()).sqrt());
    let down = 0.5 * (day - (day * day - 2.0 * s2 * (1.0 - u_lo).ln()).sqrt());
    let z_volume: f64 = rng.sample(StandardNormal);

    let ln_open = *ln_s + night;
    *ln_s = ln_open + day;
    *v = *v + p.kappa * (p.theta - vp) * dt + p.vol_of_vol * (vp * dt).sqrt() * z_v + variance_jump;
    // Volume rises with volatility (Karpoff 1987): √(v/θ) with 30 % lognormal noise of mean 1.
    let volume = p.base_volume * (vp / p.theta).sqrt().max(0.3) * (0.3 * z_volume - 0.045).exp();
    PathStep {
        open: ln_open.exp(),
        high: (ln_open + up).exp(),
        low: (ln_open + down).exp(),
        close: ln_s.exp(),
        volume,
        variance: v.max(0.0),
        jumps,
    }
}

/// The variance of a session's day part (open to close) in log-price, for instantaneous
/// variance `v` per year over the session: (1 − ω)·v⁺·dt, the share of the session's diffusive
/// variance that is not overnight. One definition for the path's high and low and for the
/// snapshot's bridge; written as `(1 − ω)·v⁺·(1/252)` in that order, so the path's bits are
/// those it always had.
pub(crate) fn day_variance(p: &ModelParams, v: f64) -> f64 {
    (1.0 - p.overnight_variance_share) * v.max(0.0) * (1.0 / SESSIONS_PER_YEAR)
}

/// The log-price at `fraction` (in \[0, 1\]) of a session's day part, on a Brownian bridge
/// pinned at `ln_open` and `ln_close` whose whole span has variance `day_variance`, for the
/// standard normal draw `z`: ln O + f·(ln C − ln O) + √(f(1 − f)·s²)·z, the conditional law of
/// a Brownian motion at f given its two ends (Glasserman 2004, §3.1). Given the same `z`, the
/// point moves with the close by exactly f·Δ ln C: the close only enters through its pin.
pub(crate) fn bridge_point(
    ln_open: f64,
    ln_close: f64,
    day_variance: f64,
    fraction: f64,
    z: f64,
) -> f64 {
    let f = fraction.clamp(0.0, 1.0);
    ln_open + f * (ln_close - ln_open) + (f * (1.0 - f) * day_variance.max(0.0)).sqrt() * z
}

/// `x` folded into \[`lo`, `hi`\] by reflection at the bounds (as often as it takes), and `x`
/// itself, bit for bit, when it is already inside. Reflection rather than clamping: a clamp
/// would put a point mass on the bounds (a snapshot exactly at the day's high or low on every
/// draw beyond it), reflection keeps the density continuous, as the reflection principle does
/// for a path that must not cross a barrier. `lo >= hi` gives `lo`.
pub(crate) fn reflect_into(x: f64, lo: f64, hi: f64) -> f64 {
    if (lo..=hi).contains(&x) {
        return x;
    }
    let width = hi - lo;
    if width <= 0.0 || !width.is_finite() {
        return lo;
    }
    let folded = (x - lo).rem_euclid(2.0 * width);
    lo + if folded <= width {
        folded
    } else {
        2.0 * width - folded
    }
}

/// Risk-neutral expected average variance per year over the next `years` from instantaneous
/// variance `v`: (1 + premium) × \[θ̄ + (v − θ̄)(1 − e^{−κ̄T})/(κ̄T) + jump variance\], with the
/// Heston conditional mean E\[v_s\] = θ̄ + (v − θ̄)e^{−κ̄s} (Heston 1993) with κ̄, θ̄ the reversion
/// speed and long-run mean including the variance jumps, and the jumps' contribution to the variance swap
/// 2λ̄(E\[e^J\] − 1 − E\[J\]) (Carr and Wu 2009, "Variance risk premiums", eq. 9), λ̄ = λ₀ + λ₁·(mean
/// variance over the period).
pub(crate) fn expected_variance(p: &ModelParams, v: f64, years: f64) -> f64 {
    // The variance jumps add a drift λ(v)·μ_V = (λ₀ + λ₁v)·μ_V per year: the variance reverts
    // at κ̄ = κ − λ₁μ_V to θ̄ = (κθ + λ₀μ_V)/κ̄ (floored at κ/10 where jumps would explode it).
    let kappa_bar =
        (p.kappa - p.jump_intensity_per_variance * p.variance_jump_mean).max(0.1 * p.kappa);
    let theta_bar = (p.kappa * p.theta + p.jump_intensity * p.variance_jump_mean) / kappa_bar;
    let kt = kappa_bar * years;
    let decay = if kt < 1e-8 {
        1.0 - 0.5 * kt
    } else {
        (1.0 - (-kt).exp()) / kt
    };
    let mean_v = theta_bar + (v - theta_bar) * decay;
    let intensity = p.jump_intensity + p.jump_intensity_per_variance * mean_v;
    let jump_var =
        2.0 * intensity * ((p.jump_mean + 0.5 * p.jump_std * p.jump_std).exp() - 1.0 - p.jump_mean);
    (1.0 + p.variance_risk_premium) * (mean_v + jump_var).max(0.0)
}

/// The instantaneous variance v whose [`expected_variance`] over `years` is `target`: the
/// inverse used to drive the chains from a real VIX history. `expected_variance` is affine in
/// v (the conditional mean of v is, and the jump term is linear in it), so the inverse is
/// closed form; a target below what v = 0 gives returns 0 (full truncation, as the path does).
pub(crate) fn variance_for_expected(p: &ModelParams, target: f64, years: f64) -> f64 {
    let at_zero = expected_variance(p, 0.0, years);
    let slope = expected_variance(p, 1.0, years) - at_zero;
    if slope <= 0.0 || target <= at_zero {
        return 0.0;
    }
    (target - at_zero) / slope
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn variance_for_expected_inverts_expected_variance() {
        let p = ModelParams::default();
        for v in [0.005, 0.02, 0.04, 0.1, 0.5] {
            let target = expected_variance(&p, v, 30.0 / 365.0);
            let back = variance_for_expected(&p, target, 30.0 / 365.0);
            assert!((back - v).abs() < 1e-12 * v.max(1.0), "{v} -> {back}");
        }
        assert_eq!(variance_for_expected(&p, 0.0, 30.0 / 365.0), 0.0);
    }

    #[test]
    fn expected_variance_limits() {
        let p = ModelParams::default();
        let m = 1.0 + p.variance_risk_premium;
        let jump = |v: f64| {
            2.0 * (p.jump_intensity + p.jump_intensity_per_variance * v)
                * ((p.jump_mean + 0.5 * p.jump_std * p.jump_std).exp() - 1.0 - p.jump_mean)
        };
        // Over no time: the current variance plus the jumps at the current intensity.
        let v = 0.09;
        assert!((expected_variance(&p, v, 0.0) - m * (v + jump(v))).abs() < 1e-12);
        // Over a very long time: the long-run mean θ̄ = (κθ + λ₀μ_V)/(κ − λ₁μ_V).
        let kappa_bar = p.kappa - p.jump_intensity_per_variance * p.variance_jump_mean;
        let theta_bar = (p.kappa * p.theta + p.jump_intensity * p.variance_jump_mean) / kappa_bar;
        let long = expected_variance(&p, v, 1e6);
        assert!((long - m * (theta_bar + jump(theta_bar))).abs() < 1e-6);
        // Mean reversion: from above and below, towards θ̄.
        assert!(expected_variance(&p, 0.5, 1.0) < expected_variance(&p, 0.5, 0.1));
        assert!(expected_variance(&p, 0.0, 1.0) > expected_variance(&p, 0.0, 0.1));
    }

    #[test]
    fn bars_bracket_open_and_close_and_variance_stays_non_negative() {
        let p = ModelParams {
            vol_of_vol: 1.5,
            ..ModelParams::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut ln_s, mut v) = (100f64.ln(), p.theta);
        let mut truncated = 0;
        for _ in 0..20_000 {
            let s = step(&p, &mut rng, &mut ln_s, &mut v);
            assert!(s.high >= s.open.max(s.close) && s.low <= s.open.min(s.close));
            assert!(s.variance >= 0.0 && s.volume > 0.0);
            truncated += usize::from(v < 0.0);
        }
        // ξ = 1.5 breaks the Feller condition hard: the state goes negative, the output not.
        assert!(truncated > 0);
    }

    #[test]
    fn the_bridge_is_pinned_at_both_ends_and_moves_with_the_close_only_through_its_pin() {
        let (o, c, s2) = (100f64.ln(), 101f64.ln(), 1e-4);
        for z in [-2.0, 0.0, 1.3] {
            assert_eq!(bridge_point(o, c, s2, 0.0, z), o);
            assert_eq!(bridge_point(o, c, s2, 1.0, z), c);
        }
        // Mean f·(C − O) from the open, standard deviation √(f(1 − f)s²).
        let f = 375.0 / 390.0;
        let at = |z| bridge_point(o, c, s2, f, z);
        assert!((at(0.0) - (o + f * (c - o))).abs() < 1e-15);
        assert!((at(1.0) - at(0.0) - (f * (1.0 - f) * s2).sqrt()).abs() < 1e-15);
        // Same draw, another close: the point moves by f·Δ ln C.
        let c2 = 97f64.ln();
        let moved = bridge_point(o, c2, s2, f, 0.7) - bridge_point(o, c, s2, f, 0.7);
        assert!((moved - f * (c2 - c)).abs() < 1e-14, "{moved}");
    }

    #[test]
    fn reflection_folds_into_the_range_and_leaves_the_inside_alone() {
        assert_eq!(reflect_into(0.3, 0.0, 1.0).to_bits(), 0.3f64.to_bits());
        assert!((reflect_into(1.25, 0.0, 1.0) - 0.75).abs() < 1e-15);
        assert!((reflect_into(-0.25, 0.0, 1.0) - 0.25).abs() < 1e-15);
        // Beyond the far bound too: 2.25 reflects at 1 to −0.25, then at 0 to 0.25.
        assert!((reflect_into(2.25, 0.0, 1.0) - 0.25).abs() < 1e-15);
        assert_eq!(reflect_into(5.0, 2.0, 2.0), 2.0);
    }

    #[test]
    fn poisson_matches_its_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 200_000;
        let total: u32 = (0..n).map(|_| poisson(&mut rng, 0.3)).sum();
        let mean = f64::from(total) / f64::from(n);
        // Standard error √(0.3/n) ≈ 0.0012.
        assert!((mean - 0.3).abs() < 0.005, "{mean}");
    }
}
