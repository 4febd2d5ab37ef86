//! A chart of the VIX coloured by regime, as SVG (plotters' SVG backend, no fonts needed).
//!
//! The top panel draws the VIX close with each run of one regime (with hysteresis) as one
//! polyline in the regime's colour, so the file grows with the number of points (~10 bytes
//! each) and of runs, not with a shape per day; the legend gives each regime's share of the
//! days. Two strips below show the regime per day, raw (upper) and with hysteresis (lower), one
//! rectangle per run. Warm-up days (no regime) are grey.

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;

use crate::error::{FeatureError, Result};
use crate::regime::{Regime, RegimeSeries, Smoothing};

/// The colour of a regime in charts.
#[must_use]
pub const fn regime_colour(regime: Regime) -> RGBColor {
    match regime {
        Regime::LowVol => RGBColor(44, 160, 44),
        Regime::HighVol => RGBColor(214, 39, 40),
        Regime::IvExpansion => RGBColor(255, 127, 14),
        Regime::IvContraction => RGBColor(31, 119, 180),
        Regime::Neutral => RGBColor(127, 127, 127),
    }
}

const WARM_UP: RGBColor = RGBColor(200, 200, 200);

/// Renders `series` as an SVG document of `width × height` pixels with `title` on top.
///
/// # Errors
/// [`FeatureError::BadInput`] if the series is empty; [`FeatureError::Plot`] if plotters
/// reports an error.
pub fn regime_svg(series: &RegimeSeries, title: &str, width: u32, height: u32) -> Result<String> {
    let (Some(&first), Some(&last)) = (series.dates.first(), series.dates.last()) else {
        return Err(FeatureError::BadInput {
            series: "regime series".to_owned(),
            reason: "empty: nothing to plot".to_owned(),
        });
    };
    let xs: Vec<f64> = series.dates.iter().map(|&d| year_fraction(d)).collect();
    let (x0, x1) = (year_fraction(first), year_fraction(last) + 1.0 / 365.0);
    let y_max = series.vix.iter().copied().fold(0.0, f64::max) * 1.05;
    let shares = series.shares(Smoothing::Hysteresis, first, last);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (top, bottom) = root.split_vertically(height * 4 / 5);

        let mut chart = ChartBuilder::on(&top)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.0..y_max)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_labels(18)
            .x_label_formatter(&|x| format!("{}", x.floor()))
            .y_desc("VIX close (points)")
            .draw()
            .map_err(plot_err)?;

        let runs = runs_of(&series.smoothed);
        let path = |&(s, e, _): &(usize, usize, Option<Regime>), colour: RGBColor| {
            // Include the next run's first point so that the line has no breaks.
            let end = e.min(xs.len() - 1);
            PathElement::new(
                (s..=end)
                    .map(|i| (xs[i], series.vix[i]))
                    .collect::<Vec<_>>(),
                colour.stroke_width(1),
            )
        };
        chart
            .draw_series(
                runs.iter()
                    .filter(|r| r.2.is_none())
                    .map(|r| path(r, WARM_UP)),
            )
            .map_err(plot_err)?;
        for regime in Regime::ALL {
            let colour = regime_colour(regime);
            chart
                .draw_series(
                    runs.iter()
                        .filter(|r| r.2 == Some(regime))
                        .map(|r| path(r, colour)),
                )
                .map_err(plot_err)?
                .label(format!(
                    "{} ({:.1} % of days)",
                    regime.as_str(),
                    100.0 * shares.of(regime)
                ))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 14, y + 4)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_err)?;

        let mut strip = ChartBuilder::on(&bottom)
            .caption(
                format!(
                    "regime per day: raw (upper, {} switches) and with hysteresis (lower, {} switches)",
                    series.switches(Smoothing::Raw),
                    series.switches(Smoothing::Hysteresis)
                ),
                ("sans-serif", 14),
            )
            .margin(10)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.0..2.0)
            .map_err(plot_err)?;
        for (row, regimes) in [(1.0, &series.raw), (0.0, &series.smoothed)] {
            strip
                .draw_series(runs_of(regimes).into_iter().map(|(s, e, r)| {
                    let right = xs.get(e).copied().unwrap_or(x1);
                    let colour = r.map_or(WARM_UP, regime_colour);
                    Rectangle::new([(xs[s], row + 0.1), (right, row + 0.9)], colour.filled())
                }))
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// Runs of equal values: `(start, end exclusive, value)`.
fn runs_of(regimes: &[Option<Regime>]) -> Vec<(usize, usize, Option<Regime>)> {
    let mut out: Vec<(usize, usize, Option<Regime>)> = Vec::new();
    for (i, &r) in regimes.iter().enumerate() {
        match out.last_mut() {
            Some(last) if last.2 == r => last.1 = i + 1,
            _ => out.push((i, i + 1, r)),
        }
    }
    out
}

/// The date as a fractional year (2008.75 ≈ 1 October 2008): the x axis.
fn year_fraction(d: NaiveDate) -> f64 {
    let days = if d.leap_year() { 366.0 } else { 365.0 };
    f64::from(d.year()) + f64::from(d.ordinal0()) / days
}

fn plot_err(e: impl std::fmt::Display) -> FeatureError {
    FeatureError::Plot {
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_where_the_regime_changes() {
        use Regime::{HighVol as H, LowVol as L};
        let r = [None, Some(L), Some(L), Some(H), Some(L)];
        assert_eq!(
            runs_of(&r),
            [
                (0, 1, None),
                (1, 3, Some(L)),
                (3, 4, Some(H)),
                (4, 5, Some(L))
            ]
        );
        assert!(runs_of(&[]).is_empty());
    }

    #[test]
    fn year_fraction_is_monotone_across_new_year() {
        let a = year_fraction(NaiveDate::from_ymd_opt(2008, 12, 31).unwrap());
        let b = year_fraction(NaiveDate::from_ymd_opt(2009, 1, 2).unwrap());
        assert!(a < 2009.0 && b > 2009.0 && a > 2008.99);
    }
}
