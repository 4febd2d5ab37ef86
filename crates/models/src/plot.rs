//! Charts of a model's quality as SVG (plotters' SVG backend, no fonts needed): the
//! calibration (reliability) curve and the feature importance by gain.

use plotters::prelude::*;

use crate::error::{ModelError, Result};
use crate::gbm::FeatureImportance;
use crate::metrics::CalibrationBin;

const MODEL_COLOUR: RGBColor = RGBColor(31, 119, 180);
const REFERENCE_COLOUR: RGBColor = RGBColor(150, 150, 150);

fn plot_error(error: impl std::fmt::Display) -> ModelError {
    ModelError::Plot {
        reason: error.to_string(),
    }
}

/// The calibration curve of `table` (from [`crate::calibration_table`]) as an SVG document of
/// `width × height` pixels: observed rate against mean predicted probability, one marker per
/// non-empty bin with its area proportional to the bin's count, over the diagonal a perfectly
/// calibrated model would follow.
///
/// # Errors
/// [`ModelError::NotEnoughData`] for an empty table, [`ModelError::Plot`] when plotters fails.
pub fn calibration_svg(
    table: &[CalibrationBin],
    title: &str,
    width: u32,
    height: u32,
) -> Result<String> {
    let largest =
        table
            .iter()
            .map(|bin| bin.count)
            .max()
            .ok_or_else(|| ModelError::NotEnoughData {
                what: "an empty calibration table: nothing to plot".into(),
            })?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("mean predicted probability")
            .y_desc("observed rate")
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                REFERENCE_COLOUR.stroke_width(1),
            ))
            .map_err(plot_error)?
            .label("perfectly calibrated")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], REFERENCE_COLOUR));
        let points: Vec<(f64, f64)> = table
            .iter()
            .map(|bin| (bin.mean_predicted, bin.observed_rate))
            .collect();
        chart
            .draw_series(LineSeries::new(points, MODEL_COLOUR.stroke_width(2)))
            .map_err(plot_error)?
            .label("model")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], MODEL_COLOUR.stroke_width(2)));
        // Marker area ∝ count: radius 3 to 9 pixels.
        chart
            .draw_series(table.iter().map(|bin| {
                let radius = 3.0 + 6.0 * (bin.count as f64 / largest as f64).sqrt();
                Circle::new(
                    (bin.mean_predicted, bin.observed_rate),
                    radius.round() as i32,
                    MODEL_COLOUR.filled(),
                )
            }))
            .map_err(plot_error)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(REFERENCE_COLOUR)
            .background_style(WHITE)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The `top` features of `table` (from [`crate::GbmModel::importance`], largest first) as
/// horizontal bars of their share of the total gain, in an SVG document of `width × height`
/// pixels; each bar is labelled with the feature and its split count.
///
/// # Errors
/// [`ModelError::NotEnoughData`] when no feature has any gain, [`ModelError::Plot`] when
/// plotters fails.
pub fn importance_svg(
    table: &[FeatureImportance],
    top: usize,
    title: &str,
    width: u32,
    height: u32,
) -> Result<String> {
    let total: f64 = table.iter().map(|row| row.gain).sum();
    if total.is_nan() || total <= 0.0 {
        return Err(ModelError::NotEnoughData {
            what: "no feature has any gain: nothing to plot".into(),
        });
    }
    let shown: Vec<&FeatureImportance> = table.iter().take(top.max(1)).collect();
    let largest = shown.iter().map(|row| row.gain / total).fold(0.0, f64::max);
    let rows = shown.len() as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .build_cartesian_2d(0.0..largest * 1.6, 0.0..rows)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_y_axis()
            .disable_y_mesh()
            .x_desc("share of total gain")
            .x_label_formatter(&|x| format!("{:.0} %", x * 100.0))
            .draw()
            .map_err(plot_error)?;
        // The largest gain on top.
        let top_of = |rank: usize| rows - rank as f64;
        chart
            .draw_series(shown.iter().enumerate().map(|(rank, row)| {
                Rectangle::new(
                    [
                        (0.0, top_of(rank) - 0.8),
                        (row.gain / total, top_of(rank) - 0.2),
                    ],
                    MODEL_COLOUR.filled(),
                )
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(shown.iter().enumerate().map(|(rank, row)| {
                Text::new(
                    format!("{} ({} splits)", row.feature, row.splits),
                    (row.gain / total + largest * 0.02, top_of(rank) - 0.5),
                    ("sans-serif", 12),
                )
            }))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(lower: f64, count: usize, mean_predicted: f64, observed_rate: f64) -> CalibrationBin {
        CalibrationBin {
            lower,
            upper: lower + 0.1,
            count,
            mean_predicted,
            observed_rate,
        }
    }

    #[test]
    fn calibration_svg_has_one_marker_per_bin_and_the_title() {
        let table = [
            bin(0.1, 40, 0.15, 0.1),
            bin(0.4, 100, 0.45, 0.5),
            bin(0.8, 10, 0.85, 0.7),
        ];
        let svg = calibration_svg(&table, "Calibration, fold 3", 480, 400).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Calibration, fold 3"));
        assert_eq!(svg.matches("<circle").count(), 3);
        // The largest bin gets the largest marker (radius 9), the smallest ≈ 3 + 6·√(10/100).
        assert!(
            svg.contains(r#"r="9""#) && svg.contains(r#"r="5""#),
            "{svg}"
        );
        assert!(svg.contains("perfectly calibrated"));
        assert!(matches!(
            calibration_svg(&[], "t", 100, 100),
            Err(ModelError::NotEnoughData { .. })
        ));
    }

    #[test]
    fn importance_svg_draws_the_top_features_with_their_splits() {
        let row = |feature: &str, gain: f64, splits: u64| FeatureImportance {
            feature: feature.into(),
            gain,
            splits,
        };
        let table = [
            row("iv_rank", 60.0, 30),
            row("rv_20", 30.0, 12),
            row("vix_slope", 10.0, 4),
        ];
        let svg = importance_svg(&table, 2, "Importance", 480, 300).unwrap();
        assert!(svg.contains("iv_rank (30 splits)") && svg.contains("rv_20 (12 splits)"));
        assert!(!svg.contains("vix_slope"), "only the top 2 are drawn");
        let zero = [row("a", 0.0, 0)];
        assert!(importance_svg(&zero, 5, "t", 100, 100).is_err());
    }
}
