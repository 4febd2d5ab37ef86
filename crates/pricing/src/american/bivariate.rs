//! The bivariate standard normal distribution function M(a, b; ρ) = P(X ≤ a, Y ≤ b) for a
//! standard normal pair with correlation ρ, which Bjerksund-Stensland 2002 needs.
//!
//! Algorithm: Drezner & Wesolowsky (1990), "On the computation of the bivariate normal
//! integral", J. Statist. Comput. Simul. 35, as refined by Genz (2004), "Numerical computation
//! of rectangular bivariate and trivariate normal and t probabilities", Statistics and
//! Computing 14 (his `BVND`): Gauss-Legendre quadrature of Plackett's identity in
//! arcsin(ρ) for |ρ| < 0.925, and of an asymptotic expansion of the singular part for larger
//! |ρ|. Accuracy about 1e-15 absolute (Genz's figure), at 6, 12 or 20 nodes chosen by |ρ|.
//!
//! Bjerksund-Stensland needs only the correlations ±√((√5 − 1)/2), where the 12-point Plackett
//! rule suffices: [`FixedCorrelation`] precomputes its nodes and evaluates many M(a, b; ±ρ) in
//! one vectorised pass. The general routine (`bivariate_norm_cdf`) is the independent
//! reference it is tested against.

#![expect(
    clippy::inline_always,
    reason = "the kernels run under `fastmath::dispatch`, which enables the SIMD target features on its entry point only; they must be inlined into it to be compiled with them"
)]

use crate::fastmath::{exp_flush_subnormal, madd};
#[cfg(test)]
use crate::normal::norm_cdf;

const TWO_PI: f64 = std::f64::consts::TAU;

/// Gauss-Legendre nodes on (−1, 1), the negative half (the positive half by symmetry), and
/// weights, for 6, 12 and 20 points (Abramowitz & Stegun, Table 25.4).
#[cfg(test)]
const GL6_X: [f64; 3] = [
    -0.9324695142031522,
    -0.6612093864662647,
    -0.2386191860831970,
];
#[cfg(test)]
const GL6_W: [f64; 3] = [0.1713244923791705, 0.3607615730481384, 0.4679139345726904];
const GL12_X: [f64; 6] = [
    -0.9815606342467191,
    -0.9041172563704750,
    -0.7699026741943050,
    -0.5873179542866171,
    -0.3678314989981802,
    -0.1252334085114692,
];
const GL12_W: [f64; 6] = [
    0.04717533638651177,
    0.1069393259953183,
    0.1600783285433464,
    0.2031674267230659,
    0.2334925365383547,
    0.2491470458134029,
];
#[cfg(test)]
const GL20_X: [f64; 10] = [
    -0.9931285991850949,
    -0.9639719272779138,
    -0.9122344282513259,
    -0.8391169718222188,
    -0.7463319064601508,
    -0.6360536807265150,
    -0.5108670019508271,
    -0.3737060887154196,
    -0.2277858511416451,
    -0.07652652113349733,
];
#[cfg(test)]
const GL20_W: [f64; 10] = [
    0.01761400713915212,
    0.04060142980038694,
    0.06267204833410906,
    0.08327674157670475,
    0.1019301198172404,
    0.1181945319615184,
    0.1316886384491766,
    0.1420961093183821,
    0.1491729864726037,
    0.1527533871307259,
];

#[cfg(test)]
fn rule(abs_rho: f64) -> (&'static [f64], &'static [f64]) {
    if abs_rho < 0.3 {
        (&GL6_X, &GL6_W)
    } else if abs_rho < 0.75 {
        (&GL12_X, &GL12_W)
    } else {
        (&GL20_X, &GL20_W)
    }
}

/// Number of Plackett-quadrature nodes of [`FixedCorrelation`]: the 12-point Gauss-Legendre
/// rule, exact to ~1e-15 up to |ρ| ≈ 0.8 (tested below at Bjerksund-Stensland's 0.786).
const NODES: usize = 12;

/// Plackett-quadrature nodes for one fixed |ρ| < 0.925: sin(arcsin(ρ)(1 + xᵢ)/2) and
/// 1/(1 − sin²) precomputed, so that each M(a, b; ±ρ) costs only the exponentials. Used by
/// Bjerksund-Stensland 2002, whose correlation is always ±√(t₁/T) = ±√((√5 − 1)/2).
pub(crate) struct FixedCorrelation {
    /// arcsin(ρ)/(4π) times the weight.
    scaled_w: [f64; NODES],
    sin: [f64; NODES],
    inv_cos2: [f64; NODES],
}

impl FixedCorrelation {
    /// Tables for correlation `rho` with the 12-point rule (accurate to ~1e-15 up to
    /// |ρ| ≈ 0.8; Genz's own choice for 0.3 ≤ |ρ| < 0.75).
    pub(crate) fn twelve_point(rho: f64) -> Self {
        debug_assert!(rho.abs() < 0.925);
        let asr = rho.asin();
        let mut me = Self {
            scaled_w: [0.0; NODES],
            sin: [0.0; NODES],
            inv_cos2: [0.0; NODES],
        };
        // Same node order as `upper_orthant` (xᵢ then −xᵢ), so the sums agree to rounding.
        for (i, (&xi, &wi)) in GL12_X.iter().zip(&GL12_W).enumerate() {
            for (j, node) in [xi, -xi].into_iter().enumerate() {
                let sn = (asr * 0.5 * (node + 1.0)).sin();
                me.scaled_w[2 * i + j] = wi * asr / (2.0 * TWO_PI);
                me.sin[2 * i + j] = sn;
                me.inv_cos2[2 * i + j] = 1.0 / (1.0 - sn * sn);
            }
        }
        me
    }

    /// M(a, b; ρ), as [`bivariate_norm_cdf`] to a few ulp.
    #[cfg(test)]
    pub(crate) fn cdf(&self, a: f64, b: f64) -> f64 {
        use crate::fastmath::norm_cdf_scalar;
        self.cdf_many::<false, 1>(&BivariateArgs {
            a: [a],
            b: [b],
            cdf_a: [norm_cdf_scalar(a)],
            cdf_b: [norm_cdf_scalar(b)],
            negate: [false],
        })[0]
    }

    /// M(aₚ, bₚ; ±ρ) for `N` argument pairs at once, given the margins Φ(aₚ), Φ(bₚ) (which
    /// Bjerksund-Stensland shares between evaluations). Branch-free: the quadrature runs node
    /// by node over all pairs, an inner loop that LLVM vectorises 4 or 8 wide under
    /// [`crate::fastmath::dispatch`]; each pair's terms are still summed in node order.
    ///
    /// M(a, b; −ρ) uses the same tables: arcsin and sin are odd, so negating ρ negates every
    /// weight and sine, which is negating hk = ab and the sum. Every exponent
    /// −(h² + k² − 2hk·sin θ)/(2cos² θ) is ≤ 0. A pair with an infinite argument, or one so
    /// large that its square overflows, gets M = Φ(a)Φ(b) — exact in those limits (M is 0, or
    /// the other margin).
    #[inline(always)]
    pub(crate) fn cdf_many<const F: bool, const N: usize>(
        &self,
        args: &BivariateArgs<N>,
    ) -> [f64; N] {
        let mut hk = [0.0; N];
        let mut hs = [0.0; N];
        for p in 0..N {
            let (a, b) = (args.a[p], args.b[p]);
            let half_sq = 0.5 * madd::<F>(a, a, b * b);
            let regular = half_sq < f64::INFINITY;
            let ab = if args.negate[p] { -a * b } else { a * b };
            hk[p] = if regular { ab } else { 0.0 };
            hs[p] = if regular { half_sq } else { f64::INFINITY };
        }
        let mut sum = [0.0; N];
        for i in 0..NODES {
            let (w, sn, ic) = (self.scaled_w[i], self.sin[i], self.inv_cos2[i]);
            for p in 0..N {
                let z = madd::<F>(sn, hk[p], -hs[p]) * ic;
                sum[p] = madd::<F>(w, exp_flush_subnormal::<F>(z), sum[p]);
            }
        }
        // Loops rather than `array::from_fn`, whose closure might not be inlined into the
        // kernel (and would then call the software `fma`).
        let mut m = [0.0; N];
        for p in 0..N {
            let signed = if args.negate[p] { -sum[p] } else { sum[p] };
            m[p] = madd::<F>(args.cdf_a[p], args.cdf_b[p], signed).clamp(0.0, 1.0);
        }
        m
    }
}

/// Arguments of [`FixedCorrelation::cdf_many`]: pairs (aₚ, bₚ), their margins Φ(aₚ), Φ(bₚ),
/// and whether M(aₚ, bₚ; −ρ) rather than M(aₚ, bₚ; ρ) is wanted.
pub(crate) struct BivariateArgs<const N: usize> {
    pub(crate) a: [f64; N],
    pub(crate) b: [f64; N],
    pub(crate) cdf_a: [f64; N],
    pub(crate) cdf_b: [f64; N],
    pub(crate) negate: [bool; N],
}

/// M(a, b; ρ) = P(X ≤ a, Y ≤ b), ρ ∈ [−1, 1]. Infinite limits are allowed.
#[cfg(test)]
pub(crate) fn bivariate_norm_cdf(a: f64, b: f64, rho: f64) -> f64 {
    // Genz's BVND computes the upper orthant P(X > h, Y > k); M(a, b) is that at h = −a, k = −b.
    upper_orthant(-a, -b, rho.clamp(-1.0, 1.0)).clamp(0.0, 1.0)
}

#[cfg(test)]
fn upper_orthant(h: f64, k: f64, r: f64) -> f64 {
    if h.is_infinite() || k.is_infinite() {
        // One margin is degenerate: the probability is 0 or the other margin's tail.
        return if h == f64::INFINITY || k == f64::INFINITY {
            0.0
        } else if h == f64::NEG_INFINITY {
            norm_cdf(-k)
        } else {
            norm_cdf(-h)
        };
    }
    let (x, w) = rule(r.abs());
    let mut hk = h * k;
    if r.abs() < 0.925 {
        // Plackett's identity integrated over θ = arcsin(ρ·s), s ∈ (0, 1).
        let hs = 0.5 * (h * h + k * k);
        let asr = r.asin();
        let mut sum = 0.0;
        for (&xi, &wi) in x.iter().zip(w) {
            for node in [xi, -xi] {
                let sn = (asr * 0.5 * (node + 1.0)).sin();
                sum += wi * ((sn * hk - hs) / (1.0 - sn * sn)).exp();
            }
        }
        return sum * asr / (2.0 * TWO_PI) + norm_cdf(-h) * norm_cdf(-k);
    }
    // |ρ| ≥ 0.925: reduce to ρ > 0 and integrate the non-singular remainder of the
    // asymptotic expansion in √(1 − ρ²) (Drezner-Wesolowsky, Genz 2004 §2.1).
    let k = if r < 0.0 {
        hk = -hk;
        -k
    } else {
        k
    };
    let mut bvn = 0.0;
    if r.abs() < 1.0 {
        let a_s = (1.0 - r) * (1.0 + r);
        let mut a = a_s.sqrt();
        let bs = (h - k) * (h - k);
        let c = (4.0 - hk) / 8.0;
        let d = (12.0 - hk) / 16.0;
        bvn = a
            * (-(bs / a_s + hk) / 2.0).exp()
            * (1.0 - c * (bs - a_s) * (1.0 - d * bs / 5.0) / 3.0 + c * d * a_s * a_s / 5.0);
        if hk > -160.0 {
            let b = bs.sqrt();
            bvn -= (-hk / 2.0).exp()
                * TWO_PI.sqrt()
                * norm_cdf(-b / a)
                * b
                * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0);
        }
        a /= 2.0;
        for (&xi, &wi) in x.iter().zip(w) {
            for node in [xi, -xi] {
                let xs = (a * (node + 1.0)).powi(2);
                let rs = (1.0 - xs).sqrt();
                bvn += a
                    * wi
                    * ((-bs / (2.0 * xs) - hk / (1.0 + rs)).exp() / rs
                        - (-(bs / xs + hk) / 2.0).exp() * (1.0 + c * xs * (1.0 + d * xs)));
            }
        }
        bvn = -bvn / TWO_PI;
    }
    if r > 0.0 {
        bvn + norm_cdf(-h.max(k))
    } else {
        -bvn + (norm_cdf(-h) - norm_cdf(-k)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each Gauss-Legendre rule must integrate x^{2j} exactly on (−1, 1) for 2j < 2n: a typo in
    /// any node or weight breaks this.
    #[test]
    fn gauss_legendre_rules_are_exact_for_even_polynomials() {
        for (x, w) in [
            (&GL6_X[..], &GL6_W[..]),
            (&GL12_X[..], &GL12_W[..]),
            (&GL20_X[..], &GL20_W[..]),
        ] {
            let n = 2 * x.len();
            for j in 0..n {
                let p = 2 * i32::try_from(j).unwrap();
                let quad: f64 = x.iter().zip(w).map(|(xi, wi)| 2.0 * wi * xi.powi(p)).sum();
                let exact = 2.0 / f64::from(p + 1);
                assert!(
                    (quad - exact).abs() < 1e-14,
                    "n={n} p={p}: {quad} vs {exact}"
                );
            }
        }
    }

    /// M(0, 0; ρ) = 1/4 + arcsin(ρ)/(2π) (Sheppard 1899), in every quadrature regime.
    #[test]
    fn orthant_probability_matches_sheppard() {
        for rho in [
            -0.999, -0.95, -0.8, -0.5, -0.2, 0.0, 0.1, 0.4, 0.9, 0.93, 0.999,
        ] {
            let exact = 0.25 + f64::asin(rho) / TWO_PI;
            assert!(
                (bivariate_norm_cdf(0.0, 0.0, rho) - exact).abs() < 1e-15,
                "rho={rho}"
            );
        }
    }

    /// Against M(a, b; ρ) = ∫_{−∞}^{a} φ(x) Φ((b − ρx)/√(1 − ρ²)) dx by composite Simpson on
    /// a fine grid (independent of the Genz algorithm), in every regime and both signs of ρ.
    #[test]
    fn matches_one_dimensional_quadrature() {
        let reference = |a: f64, b: f64, rho: f64| {
            let lo = -12.0_f64;
            let n = 20_000;
            let h = (a - lo) / f64::from(n);
            let s = (1.0 - rho * rho).sqrt();
            let f = |x: f64| crate::normal::norm_pdf(x) * norm_cdf((b - rho * x) / s);
            let mut sum = f(lo) + f(a);
            for i in 1..n {
                let x = lo + h * f64::from(i);
                sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
            }
            sum * h / 3.0
        };
        for &(a, b) in &[
            (0.3, -0.7),
            (-1.5, 2.0),
            (1.2, 0.8),
            (-2.5, -0.4),
            (3.0, -3.0),
        ] {
            for rho in [-0.97, -0.6, -0.1, 0.2, 0.5, 0.8, 0.96] {
                let m = bivariate_norm_cdf(a, b, rho);
                let r = reference(a, b, rho);
                assert!((m - r).abs() < 1e-12, "a={a} b={b} rho={rho}: {m} vs {r}");
            }
        }
    }

    /// Bjerksund-Stensland's |ρ| = 0.786 is just above Genz's 12-point threshold (0.75); the
    /// 12-point rule is still exact to ~1e-15 there (checked on a grid against the 20-point
    /// general routine), which is why `twelve_point` serves it at 60 % of the cost.
    #[test]
    fn twelve_points_suffice_at_the_bjerksund_stensland_correlation() {
        let rho = (0.5 * (5.0_f64.sqrt() - 1.0)).sqrt();
        let mut worst = 0.0_f64;
        for sgn in [1.0, -1.0] {
            let t12 = FixedCorrelation::twelve_point(sgn * rho);
            for i in -40..=40 {
                for j in -40..=40 {
                    let (a, b) = (f64::from(i) * 0.2, f64::from(j) * 0.2);
                    worst = worst.max((t12.cdf(a, b) - bivariate_norm_cdf(a, b, sgn * rho)).abs());
                }
            }
        }
        assert!(worst < 5e-15, "{worst:e}");
    }

    /// Where Genz's rule is itself the 12-point one (0.3 ≤ |ρ| < 0.75) the tables compute the
    /// same sum; only the exponential and Φ implementations differ (a few ulp).
    #[test]
    fn fixed_correlation_tables_agree_with_the_general_routine() {
        for rho in [-0.7, -0.5, 0.3, 0.6] {
            let table = FixedCorrelation::twelve_point(rho);
            for (a, b) in [
                (0.3, -0.7),
                (-1.5, 2.0),
                (4.0, 3.0),
                (-6.0, 1.0),
                (-9.0, -8.5),
            ] {
                let (m, g) = (table.cdf(a, b), bivariate_norm_cdf(a, b, rho));
                // Absolute agreement; relative too where nothing cancels (ρ > 0).
                let relative = if rho > 0.0 { 1e-13 * g } else { 1.0 };
                assert!(
                    (m - g).abs() < 1e-15 && (m - g).abs() <= relative,
                    "rho={rho} a={a} b={b}: {m} vs {g}"
                );
            }
        }
    }

    /// The batched form, as Bjerksund-Stensland calls it: pairs at +ρ and −ρ from the one
    /// table, with and without fused multiply-adds, against the general routine; and the
    /// degenerate pairs (infinite or overflowing arguments), which give Φ(a)Φ(b) exactly.
    #[test]
    fn batched_pairs_match_the_general_routine_at_both_signs() {
        use crate::fastmath::norm_cdf_scalar;
        const N: usize = 16;
        let rho = (0.5 * (5.0_f64.sqrt() - 1.0)).sqrt();
        let table = FixedCorrelation::twelve_point(rho);
        let a: [f64; N] = std::array::from_fn(|p| -6.0 + 0.77 * p as f64);
        let b: [f64; N] = std::array::from_fn(|p| 5.0 - 0.61 * p as f64);
        let args = BivariateArgs {
            a,
            b,
            cdf_a: a.map(norm_cdf_scalar),
            cdf_b: b.map(norm_cdf_scalar),
            negate: std::array::from_fn(|p| p % 3 == 1),
        };
        for m in [
            table.cdf_many::<false, N>(&args),
            table.cdf_many::<true, N>(&args),
        ] {
            for p in 0..N {
                let r = if args.negate[p] { -rho } else { rho };
                let want = bivariate_norm_cdf(a[p], b[p], r);
                assert!((m[p] - want).abs() < 5e-15, "p={p}: {} vs {want}", m[p]);
            }
        }
        let big = 1e200;
        let a = [f64::INFINITY, f64::NEG_INFINITY, big, -big, 0.3, big];
        let b = [0.4, 0.4, -0.2, 1.0, f64::INFINITY, big];
        let args = BivariateArgs {
            a,
            b,
            cdf_a: a.map(norm_cdf_scalar),
            cdf_b: b.map(norm_cdf_scalar),
            negate: [false, true, true, false, true, false],
        };
        let m = table.cdf_many::<false, 6>(&args);
        let want = [norm_cdf(0.4), 0.0, norm_cdf(-0.2), 0.0, norm_cdf(0.3), 1.0];
        for p in 0..6 {
            assert!(
                (m[p] - want[p]).abs() < 1e-16,
                "p={p}: {} vs {}",
                m[p],
                want[p]
            );
        }
    }

    #[test]
    fn limits() {
        assert_eq!(bivariate_norm_cdf(f64::NEG_INFINITY, 0.3, 0.5), 0.0);
        assert!((bivariate_norm_cdf(f64::INFINITY, 0.3, 0.5) - norm_cdf(0.3)).abs() < 1e-16);
        // ρ = 1: P(X ≤ min(a, b)); ρ = −1: P(−b ≤ X ≤ a).
        assert!((bivariate_norm_cdf(0.4, -0.2, 1.0) - norm_cdf(-0.2)).abs() < 1e-15);
        let expect = (norm_cdf(0.4) - norm_cdf(0.2)).max(0.0);
        assert!((bivariate_norm_cdf(0.4, -0.2, -1.0) - expect).abs() < 1e-15);
        // Independence.
        let p = bivariate_norm_cdf(0.7, -1.1, 0.0);
        assert!((p - norm_cdf(0.7) * norm_cdf(-1.1)).abs() < 1e-16);
    }
}
