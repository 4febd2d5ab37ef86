//! The normalised Black function at the branch points of Let's Be Rational, by fitted rational
//! functions of the inflection point alone (Jäckel's 2024 revision of "Let's Be Rational").
//!
//! Along the tangent construction, `s_l` and `s_u` are functions of `s_c` = √(2|x|) only, and so
//! are `b_l`/`b_max` = b(x, `s_l`)/e^{x/2} and `b_u`/`b_max`. Jäckel's 2024 revision of the
//! reference implementation replaces the two full Black evaluations at `s_l` and `s_u` by
//! minimax rational approximations in `s_c` (in 1/`s_c` for the upper point above √6). The
//! coefficients below are his published values; they were cross-checked against the port in the
//! `implied-vol` crate (version 2.1, `lets_be_rational.rs`, MIT/Apache-2.0). Only the initial
//! guess depends on them: a small misfit moves the guess, not the converged volatility (the
//! unit test below bounds it against the exact Black function).

#![expect(
    clippy::inline_always,
    reason = "the batch kernel's branch-free fits must be inlined into its SIMD-dispatched loop"
)]

/// Σ cᵢ·xⁱ with the coefficients from the highest degree down (Horner).
#[inline]
fn horner<const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut acc = c[0];
    for &ci in &c[1..] {
        acc = acc * x + ci;
    }
    acc
}

// Jäckel's fitted coefficients, highest degree first: `U_HI` for b_u above √6 (in 1/s_c),
// `U_LO` below; `L_0`..`L_3` the four pieces of b_l.
const U_HI_NUM: [f64; 8] = [
    -1.229_189_712_271_654_4,
    6.589_280_957_677_407E2,
    6.169_692_835_129_17E2,
    2.983_680_162_805_663E2,
    8.488_089_220_080_239E1,
    1.455_319_886_249_397_7E1,
    1.375_163_082_077_259_1,
    -4.605_394_817_212_609E-2,
];
const U_HI_DEN: [f64; 8] = [
    5.206_084_752_279_256E2,
    8.881_238_333_960_678E2,
    8.698_830_313_690_185E2,
    5.079_647_179_123_228E2,
    2.030_420_459_952_177_3E2,
    5.436_378_146_588_073E1,
    9.327_034_903_790_405,
    1.0,
];
const U_LO_NUM: [f64; 8] = [
    -3.386_756_817_001_176_5E-9,
    -8.733_991_026_156_887E-4,
    -8.143_812_878_548_491E-3,
    -3.512_133_741_041_69E-2,
    -8.976_383_086_137_545E-2,
    -1.416_368_116_424_721E-1,
    -1.344_864_378_589_371E-1,
    -6.063_099_880_334_851E-2,
];
const U_LO_DEN: [f64; 8] = [
    1.421_206_743_529_177_8E-2,
    1.324_801_623_892_073E-1,
    5.959_161_649_351_221E-1,
    1.652_734_794_196_848_7,
    3.018_638_953_766_389_6,
    3.650_335_036_015_884_6,
    2.722_003_340_655_505_5,
    1.0,
];
const L_0_NUM: [f64; 6] = [
    4.542_510_209_361_606_4E-7,
    -6.403_639_934_147_98E-6,
    5.971_692_845_958_919E-3,
    3.976_063_144_567_705_5E-2,
    9.807_891_178_635_89E-2,
    8.074_107_237_288_286E-2,
];
const L_0_DEN: [f64; 5] = [
    6.125_459_704_983_172E-2,
    4.613_270_710_865_565E-1,
    1.365_880_147_571_179,
    1.859_497_767_228_766_5,
    1.0,
];
const L_1_NUM: [f64; 7] = [
    6.971_140_063_983_471E-4,
    6.584_925_270_230_231E-3,
    2.953_705_895_096_301_8E-2,
    6.917_130_174_466_835E-2,
    7.561_014_227_254_904E-2,
    -2.708_128_856_468_558_7E-8,
    1.979_573_792_759_858E-9,
];
const L_1_DEN: [f64; 7] = [
    6.636_197_582_786_12E-3,
    7.171_486_244_882_935E-2,
    3.783_162_225_306_046E-1,
    1.157_148_318_717_978_3,
    2.129_710_354_999_518,
    2.194_144_852_558_658,
    1.0,
];
const L_2_NUM: [f64; 7] = [
    1.701_257_940_724_605_5E-3,
    1.002_291_337_825_409E-2,
    3.922_517_740_768_760_6E-2,
    7.403_965_818_682_282E-2,
    7.411_485_544_834_501E-2,
    5.311_803_397_279_465E-4,
    -9.332_511_535_483_788E-5,
];
const L_2_DEN: [f64; 7] = [
    1.619_540_589_593_093_7E-2,
    1.174_400_591_971_610_1E-1,
    5.323_125_844_350_184E-1,
    1.391_232_364_627_114,
    2.344_181_670_708_740_4,
    2.221_723_813_222_813_4,
    1.0,
];
const L_3_NUM: [f64; 7] = [
    1.693_020_807_842_147_5E-3,
    5.183_252_617_163_152E-3,
    2.934_240_565_862_844_5E-2,
    3.921_610_857_820_463_6E-2,
    7.168_217_831_093_633E-2,
    -1.511_669_248_501_119_6E-3,
    1.450_007_229_724_060_4E-3,
];
const L_3_DEN: [f64; 7] = [
    1.611_699_254_678_867_7E-2,
    7.126_137_099_644_303E-2,
    3.754_374_213_737_579E-1,
    8.487_830_756_737_222E-1,
    1.682_315_917_528_153_2,
    1.617_631_350_230_541_5,
    1.0,
];

/// √6: the switch of the `b_u` fit from a rational in `s_c` to one in 1/`s_c`.
const SQRT_6: f64 = 2.449_489_742_783_178;

/// `b_u`/`b_max` = b(x, `s_u`)/e^{x/2} as a function of `s_c` ≥ 0.
#[inline]
pub(crate) fn b_u_over_b_max(s_c: f64) -> f64 {
    if s_c >= SQRT_6 {
        let y = 1.0 / s_c;
        let g = horner(y, &U_HI_NUM) / horner(y, &U_HI_DEN);
        (y * g - 1.253_314_137_315_500_3) * (0.113_984_531_941_499_06 * y) + 0.894_954_297_278_031_3
    } else {
        let g = horner(s_c, &U_LO_NUM) / horner(s_c, &U_LO_DEN);
        (s_c * g + 0.061_461_680_580_514_74) * (s_c * s_c) + 0.789_908_594_556_062_8
    }
}

/// `b_l`/`b_max` = b(x, `s_l`)/e^{x/2} as a function of `s_c` ≥ 0.
#[inline]
pub(crate) fn b_l_over_b_max(s_c: f64) -> f64 {
    if s_c < 0.709_929_573_971_953_9 {
        let g = horner(s_c, &L_0_NUM) / horner(s_c, &L_0_DEN);
        (s_c * s_c) * (s_c * (s_c * g - 0.096_727_192_813_394_37) + 0.075_609_966_402_963_62)
    } else if s_c < 2.626_785_107_312_739_5 {
        horner(s_c, &L_1_NUM) / horner(s_c, &L_1_DEN)
    } else if s_c < 7.348_469_228_349_534 {
        horner(s_c, &L_2_NUM) / horner(s_c, &L_2_DEN)
    } else {
        horner(s_c, &L_3_NUM) / horner(s_c, &L_3_DEN)
    }
}

/// [`b_u_over_b_max`] without branches, for the batch kernel: both pieces evaluated and one
/// picked by a select, one division. The same operations, so the same bits.
#[inline(always)]
pub(crate) fn b_u_over_b_max_lanes(s_c: f64) -> f64 {
    let high = s_c >= SQRT_6;
    let y = 1.0 / s_c;
    let (num, den) = if high {
        (horner(y, &U_HI_NUM), horner(y, &U_HI_DEN))
    } else {
        (horner(s_c, &U_LO_NUM), horner(s_c, &U_LO_DEN))
    };
    let g = num / den;
    let above = (y * g - 1.253_314_137_315_500_3) * (0.113_984_531_941_499_06 * y)
        + 0.894_954_297_278_031_3;
    let below = (s_c * g + 0.061_461_680_580_514_74) * (s_c * s_c) + 0.789_908_594_556_062_8;
    if high { above } else { below }
}

/// [`b_l_over_b_max`] without branches (see [`b_u_over_b_max_lanes`]).
#[inline(always)]
pub(crate) fn b_l_over_b_max_lanes(s_c: f64) -> f64 {
    let piece0 = s_c < 0.709_929_573_971_953_9;
    let (n1, d1) = (horner(s_c, &L_1_NUM), horner(s_c, &L_1_DEN));
    let (n2, d2) = (horner(s_c, &L_2_NUM), horner(s_c, &L_2_DEN));
    let (n3, d3) = (horner(s_c, &L_3_NUM), horner(s_c, &L_3_DEN));
    let (n0, d0) = (horner(s_c, &L_0_NUM), horner(s_c, &L_0_DEN));
    let (num, den) = if piece0 {
        (n0, d0)
    } else if s_c < 2.626_785_107_312_739_5 {
        (n1, d1)
    } else if s_c < 7.348_469_228_349_534 {
        (n2, d2)
    } else {
        (n3, d3)
    };
    let g = num / den;
    let low = (s_c * s_c) * (s_c * (s_c * g - 0.096_727_192_813_394_37) + 0.075_609_966_402_963_62);
    if piece0 { low } else { g }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::implied::black::{SQRT_PI_OVER_2, otm_black};
    use crate::normal::erfcx;

    /// The fits against the exact normalised Black function at `s_l` = `s_c` − √(π/2)·(1 −
    /// erfcx(√|x|)) and `s_u` = `s_c` + √(π/2)·(1 + erfcx(√|x|)) (Jäckel 2015, eqs. (4.7),
    /// (4.8)) over |x| from 1e-6 to 500, across every piece of both fits.
    #[test]
    fn fits_match_the_black_function_at_the_branch_points() {
        let mut worst: f64 = 0.0;
        for i in 0..=400 {
            let x = -(10f64).powf(-6.0 + 8.7 * f64::from(i) / 400.0);
            let sqrt_ax = (-x).sqrt();
            let s_c = std::f64::consts::SQRT_2 * sqrt_ax;
            let ome = 1.0 - erfcx(sqrt_ax);
            let b_max = (0.5 * x).exp();
            let half = (b_max, 1.0 / b_max);
            let s_l = s_c - SQRT_PI_OVER_2 * ome;
            let s_u = s_c + SQRT_PI_OVER_2 * (2.0 - ome);
            let exact_u = otm_black(x, s_u, half).b;
            let rel_u = (b_u_over_b_max(s_c) * b_max / exact_u - 1.0).abs();
            worst = worst.max(rel_u);
            if s_l > 0.0 {
                let exact_l = otm_black(x, s_l, half).b;
                let rel_l = (b_l_over_b_max(s_c) * b_max / exact_l - 1.0).abs();
                worst = worst.max(rel_l);
            }
        }
        // Observed: 2.7e-10 at worst, far below the accuracy an initial guess needs.
        assert!(worst < 1e-9, "worst relative misfit {worst:e}");
    }

    #[test]
    fn branch_free_fits_are_the_fits() {
        for i in 0..=2000 {
            let s_c = 12.0 * f64::from(i) / 2000.0;
            assert_eq!(
                b_u_over_b_max_lanes(s_c).to_bits(),
                b_u_over_b_max(s_c).to_bits()
            );
            assert_eq!(
                b_l_over_b_max_lanes(s_c).to_bits(),
                b_l_over_b_max(s_c).to_bits()
            );
        }
    }
}
