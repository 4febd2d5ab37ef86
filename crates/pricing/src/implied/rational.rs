//! Delbourgo and Gregory's shape-preserving rational cubic interpolation, as Jäckel (2015, §5)
//! uses it for the initial guess: R. Delbourgo and J. A. Gregory, "Shape preserving piecewise
//! rational interpolation", SIAM J. Sci. Stat. Comput. 6 (1985) 967–976.

#![expect(
    clippy::inline_always,
    reason = "the batch kernel's branch-free forms must be inlined into its SIMD-dispatched loop"
)]

/// The smallest control parameter: −(1 − √ε), where the denominator is about to vanish.
const R_MIN: f64 = -(1.0 - 1.490_116_119_384_765_6e-8);
/// From here on the interpolant is linear to double precision.
const R_MAX: f64 = 2.0 / (f64::EPSILON * f64::EPSILON);

/// The rational cubic through (`x_l`, y.0) and (`x_l` + width, y.1) with slopes d at the ends and
/// control parameter r, at x = `x_l` + offset (Jäckel 2015, eq. (5.8)). r = 3 is the Hermite
/// cubic; r → ∞ the straight line.
#[inline]
pub(crate) fn interpolate(offset: f64, width: f64, y: (f64, f64), d: (f64, f64), r: f64) -> f64 {
    if width == 0.0 {
        return 0.5 * (y.0 + y.1);
    }
    let t = offset / width;
    // A NaN control parameter also falls back to the chord.
    if r.is_nan() || r >= R_MAX {
        return y.0 + (y.1 - y.0) * t;
    }
    let omt = 1.0 - t;
    let t2 = t * t;
    let omt2 = omt * omt;
    (y.1 * t2 * t
        + (r * y.1 - width * d.1) * t2 * omt
        + (r * y.0 + width * d.0) * t * omt2
        + y.0 * omt2 * omt)
        / (1.0 + (r - 3.0) * t * omt)
}

/// Which end of the interval the second derivative is matched at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// The control parameter that matches `second_derivative` at `side` (Jäckel 2015, eqs. (5.9)
/// and (5.10)), raised to the minimum that keeps the interpolant monotone and convex or concave
/// like its data (Delbourgo-Gregory 1985, §3). `prefer_shape` chooses shape preservation over
/// smoothness where the two conflict (Jäckel uses it on the two outer branches).
#[inline]
pub(crate) fn control_parameter(
    side: Side,
    width: f64,
    dy: f64,
    d: (f64, f64),
    second_derivative: f64,
    prefer_shape: bool,
) -> f64 {
    let slope = dy / width;
    let numerator = 0.5 * width * second_derivative + (d.1 - d.0);
    let denominator = match side {
        Side::Left => slope - d.0,
        Side::Right => d.1 - slope,
    };
    let fit = if numerator == 0.0 {
        0.0
    } else if denominator == 0.0 {
        if numerator > 0.0 { R_MAX } else { R_MIN }
    } else {
        numerator / denominator
    };
    fit.max(minimum_control_parameter(d, slope, prefer_shape))
}

/// The smallest r that preserves monotonicity and convexity of the data.
#[inline]
fn minimum_control_parameter(d: (f64, f64), slope: f64, prefer_shape: bool) -> f64 {
    let monotone = d.0 * slope >= 0.0 && d.1 * slope >= 0.0;
    let convex = d.0 <= slope && slope <= d.1;
    let concave = d.0 >= slope && slope >= d.1;
    if !monotone && !convex && !concave {
        return R_MIN;
    }
    let tiny = |v: f64| v.abs() < f64::MIN_POSITIVE;
    let mut r1 = f64::MIN;
    let mut r2 = f64::MIN;
    if monotone {
        if !tiny(slope) {
            r1 = (d.1 + d.0) / slope;
        } else if prefer_shape {
            r1 = R_MAX;
        }
    }
    if convex || concave {
        let left = slope - d.0;
        let right = d.1 - slope;
        if !(tiny(left) || tiny(right)) {
            let spread = d.1 - d.0;
            r2 = (spread / right).abs().max((spread / left).abs());
        } else if prefer_shape {
            r2 = R_MAX;
        }
    } else if monotone && prefer_shape {
        r2 = R_MAX;
    }
    R_MIN.max(r1).max(r2)
}

/// [`interpolate`] without branches, for the batch kernel (the same operations and result).
#[inline(always)]
pub(crate) fn interpolate_lanes(
    offset: f64,
    width: f64,
    y: (f64, f64),
    d: (f64, f64),
    r: f64,
) -> f64 {
    let t = offset / width;
    let omt = 1.0 - t;
    let t2 = t * t;
    let omt2 = omt * omt;
    let cubic = (y.1 * t2 * t
        + (r * y.1 - width * d.1) * t2 * omt
        + (r * y.0 + width * d.0) * t * omt2
        + y.0 * omt2 * omt)
        / (1.0 + (r - 3.0) * t * omt);
    let chord = y.0 + (y.1 - y.0) * t;
    let degenerate = width == 0.0;
    if degenerate {
        0.5 * (y.0 + y.1)
    } else if r.is_nan() || r >= R_MAX {
        chord
    } else {
        cubic
    }
}

/// [`control_parameter`] without branches, for the batch kernel (the same result); `left`
/// for [`Side::Left`].
#[inline(always)]
#[expect(
    clippy::needless_bitwise_bool,
    reason = "`&` and `|` keep the shape tests branch-free (vector compares)"
)]
pub(crate) fn control_parameter_lanes(
    left: bool,
    width: f64,
    dy: f64,
    d: (f64, f64),
    second_derivative: f64,
    prefer_shape: bool,
) -> f64 {
    let slope = dy / width;
    let numerator = 0.5 * width * second_derivative + (d.1 - d.0);
    let denominator = if left { slope - d.0 } else { d.1 - slope };
    let ratio = numerator / denominator;
    let edge = if numerator > 0.0 { R_MAX } else { R_MIN };
    let fit = if numerator == 0.0 {
        0.0
    } else if denominator == 0.0 {
        edge
    } else {
        ratio
    };
    // minimum_control_parameter, every case computed and one picked.
    let monotone = (d.0 * slope >= 0.0) & (d.1 * slope >= 0.0);
    let convex = (d.0 <= slope) & (slope <= d.1);
    let concave = (d.0 >= slope) & (slope >= d.1);
    let tiny = |v: f64| v.abs() < f64::MIN_POSITIVE;
    let shape_default = if prefer_shape { R_MAX } else { f64::MIN };
    let r1_value = (d.1 + d.0) / slope;
    let r1 = if !monotone {
        f64::MIN
    } else if !tiny(slope) {
        r1_value
    } else {
        shape_default
    };
    let (left_gap, right_gap) = (slope - d.0, d.1 - slope);
    let spread = d.1 - d.0;
    // max(|spread/right|, |spread/left|) with one division.
    let r2_value = spread.abs() / right_gap.abs().min(left_gap.abs());
    let r2 = if convex | concave {
        if tiny(left_gap) | tiny(right_gap) {
            shape_default
        } else {
            r2_value
        }
    } else if monotone & prefer_shape {
        R_MAX
    } else {
        f64::MIN
    };
    let minimum = if !monotone & !convex & !concave {
        R_MIN
    } else {
        R_MIN.max(r1).max(r2)
    };
    fit.max(minimum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolant_hits_its_ends_and_slopes() {
        let y = (1.0, 3.0);
        let d = (0.5, 4.0);
        for r in [0.5, 3.0, 10.0] {
            assert!((interpolate(0.0, 2.0, y, d, r) - 1.0).abs() < 1e-15);
            assert!((interpolate(2.0, 2.0, y, d, r) - 3.0).abs() < 1e-15);
            let e = 1e-6;
            let left = (interpolate(e, 2.0, y, d, r) - 1.0) / e;
            let right = (3.0 - interpolate(2.0 - e, 2.0, y, d, r)) / e;
            assert!((left - 0.5).abs() < 1e-4 && (right - 4.0).abs() < 1e-4);
        }
        // r = 3 is the cubic Hermite interpolant: exact on a cubic, here x³ on [0, 1] at 0.5.
        assert!((interpolate(0.5, 1.0, (0.0, 1.0), (0.0, 3.0), 3.0) - 0.125).abs() < 1e-15);
        // Beyond R_MAX the interpolant is the chord.
        assert_eq!(interpolate(0.5, 1.0, (1.0, 2.0), (0.0, 0.0), R_MAX), 1.5);
    }

    #[test]
    fn branch_free_forms_are_the_scalar_ones() {
        let values = [
            -3.0,
            -1.0,
            -1e-310,
            0.0,
            1e-310,
            0.25,
            1.0,
            2.5,
            7.0,
            f64::INFINITY,
        ];
        for &width in &[0.0, 0.5, 2.0] {
            for &dy in &values {
                for &d0 in &values {
                    for &d1 in &values {
                        for &sd in &[0.0, -2.0, 3.0] {
                            for prefer in [false, true] {
                                for (side, left) in [(Side::Left, true), (Side::Right, false)] {
                                    let a =
                                        control_parameter(side, width, dy, (d0, d1), sd, prefer);
                                    let b = control_parameter_lanes(
                                        left,
                                        width,
                                        dy,
                                        (d0, d1),
                                        sd,
                                        prefer,
                                    );
                                    assert!(
                                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
                                    );
                                    for offset in [0.0, 0.3, 1.0] {
                                        let a = interpolate(offset, width, (dy, d0), (d0, d1), a);
                                        let b =
                                            interpolate_lanes(offset, width, (dy, d0), (d0, d1), b);
                                        assert!(
                                            a.to_bits() == b.to_bits()
                                                || (a.is_nan() && b.is_nan())
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn control_parameter_matches_the_second_derivative() {
        // Data of y = x³ on [1, 2]: y'' = 6 at the left, 12 at the right.
        let (dy, d) = (7.0, (3.0, 12.0));
        for (side, y2, at) in [(Side::Left, 6.0, 0.0), (Side::Right, 12.0, 1.0)] {
            let r = control_parameter(side, 1.0, dy, d, y2, false);
            let e = 1e-4;
            let f = |u: f64| interpolate(u, 1.0, (1.0, 8.0), d, r);
            let numeric = (f(at + e) - 2.0 * f(at) + f(at - e)) / (e * e);
            assert!((numeric - y2).abs() < 1e-3, "{side:?}: {numeric}");
        }
    }
}
