//! SVG learning curves (plotters).

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// One line: x values, mean y and an optional ±1 std band.
pub struct Series {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub std: Option<Vec<f64>>,
    /// Where the baseline catches up with this line's last point.
    pub catch_up: Option<CatchUp>,
    /// The forecast past the last point: a dashed extension with its band.
    pub forecast: Option<Vec<ForecastPoint>>,
}

/// A forecast error at some labels, with its band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastPoint {
    pub labels: f64,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

/// A dashed line at `error` from this line's `labels` to the `baseline_labels`
/// the baseline needed for the same error, ending in a diamond: the labels
/// saved, drawn. When the baseline never got there (`reached` false) the line
/// runs to where the baseline stopped, with no diamond.
pub struct CatchUp {
    pub labels: f64,
    pub baseline_labels: f64,
    pub error: f64,
    pub reached: bool,
}

pub fn learning_curves(path: &Path, title: &str, series: &[Series]) -> Result<()> {
    let svg = learning_curves_svg(title, series)?;
    std::fs::write(path, svg).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

/// The learning curves as an SVG document.
pub fn learning_curves_svg(title: &str, series: &[Series]) -> Result<String> {
    let err = |e: String| anyhow!("cannot draw the learning curve: {e}");
    // A catch-up may end beyond every line (the baseline's last point).
    let xs = series.iter().flat_map(|s| {
        s.x.iter()
            .copied()
            .chain(s.catch_up.as_ref().map(|c| c.baseline_labels))
            .chain(s.forecast.iter().flatten().map(|f| f.labels))
    });
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let ys = series.iter().flat_map(|s| {
        s.y.iter()
            .enumerate()
            .flat_map(move |(i, y)| {
                let d = s.std.as_ref().map_or(0.0, |d| d[i]);
                [y - d, y + d]
            })
            .chain(s.forecast.iter().flatten().flat_map(|f| [f.low, f.high]))
    });
    let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !x0.is_finite() || !y0.is_finite() {
        return Err(anyhow!("nothing to plot: no reports or curves yet"));
    }
    // A single point or a flat line still gets a readable axis.
    let pad = if y1 - y0 > 1e-12 * y1.abs().max(1.0) {
        (y1 - y0) * 0.05
    } else {
        y1.abs().max(1.0) * 0.05
    };
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            x_range(x0, x1),
            (y0 - pad)..(y1 + pad + legend_room(y0, y1, series.len())),
        )
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| tick(*y))
        .x_desc("labeled rows")
        .y_desc("MAE")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        if let Some(std) = &s.std {
            let upper = s.x.iter().zip(&s.y).zip(std).map(|((x, y), d)| (*x, y + d));
            let lower =
                s.x.iter()
                    .zip(&s.y)
                    .zip(std)
                    .rev()
                    .map(|((x, y), d)| (*x, y - d));
            let band: Vec<(f64, f64)> = upper.chain(lower).collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))
                .map_err(|e| err(e.to_string()))?;
        }
        chart
            .draw_series(LineSeries::new(
                s.x.iter().copied().zip(s.y.iter().copied()),
                color.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        // Points too: a curve of one report is a point, not a line.
        chart
            .draw_series(
                s.x.iter()
                    .zip(&s.y)
                    .map(|(x, y)| Circle::new((*x, *y), 3, color.filled())),
            )
            .map_err(|e| err(e.to_string()))?;
        if let (Some(forecast), Some((&x, &y))) = (&s.forecast, s.x.last().zip(s.y.last())) {
            draw_forecast(&mut chart, (x, y), forecast, color).map_err(err)?;
        }
        if let Some(c) = &s.catch_up {
            chart
                .draw_series(DashedLineSeries::new(
                    [(c.labels, c.error), (c.baseline_labels, c.error)],
                    4,
                    4,
                    color.stroke_width(1),
                ))
                .map_err(|e| err(e.to_string()))?;
            let diamond = |x: f64, y: f64| {
                EmptyElement::at((x, y))
                    + Polygon::new(vec![(0, -6), (6, 0), (0, 6), (-6, 0)], color.filled())
            };
            if c.reached {
                chart
                    .draw_series(std::iter::once(diamond(c.baseline_labels, c.error)))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
    }
    chart
        .configure_series_labels()
        // Error curves fall: the upper right is where they are not.
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    drop(chart);
    drop(root);
    Ok(svg)
}

/// A forecast from the last measured point `from`: its band, shaded, and
/// the expected errors, dashed.
fn draw_forecast<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    from: (f64, f64),
    forecast: &[ForecastPoint],
    color: RGBAColor,
) -> Result<(), String> {
    let upper = std::iter::once(from).chain(forecast.iter().map(|f| (f.labels, f.high)));
    let lower = forecast
        .iter()
        .rev()
        .map(|f| (f.labels, f.low))
        .chain(std::iter::once(from));
    chart
        .draw_series(std::iter::once(Polygon::new(
            upper.chain(lower).collect::<Vec<_>>(),
            color.mix(0.12),
        )))
        .map_err(|e| e.to_string())?;
    let line = std::iter::once(from).chain(forecast.iter().map(|f| (f.labels, f.expected)));
    chart
        .draw_series(DashedLineSeries::new(line, 6, 4, color.stroke_width(2)))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Headroom above the highest point for the legend (upper right), so the
/// legend covers no curve: a line of the legend is about 4 % of the plot's
/// height, and the box has a margin.
fn legend_room(y0: f64, y1: f64, lines: usize) -> f64 {
    let span = if y1 > y0 { y1 - y0 } else { y1.abs().max(1.0) };
    span * (0.08 + 0.06 * lines as f64)
}

/// The x axis: the data's range, or one unit either side of a single value.
fn x_range(x0: f64, x1: f64) -> std::ops::Range<f64> {
    if x1 > x0 {
        x0..x1
    } else {
        (x0 - 1.0)..(x0 + 1.0)
    }
}

/// A y-axis tick: plain from 0.001 up to a million, scientific beyond
/// (the ticks of an MAE near 1e140 were 141 digits wide).
fn tick(y: f64) -> String {
    let trim = |t: &str| t.trim_end_matches('0').trim_end_matches('.').to_string();
    if y != 0.0 && !(1e-3..1e6).contains(&y.abs()) {
        let text = format!("{y:.3e}");
        let (mantissa, exponent) = text.split_once('e').expect("{:e} writes an exponent");
        format!("{}e{exponent}", trim(mantissa))
    } else if y == y.trunc() {
        format!("{y:.0}")
    } else {
        trim(&format!("{y:.4}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_ticks_stay_short_at_every_scale() {
        let ticks: Vec<String> = [0.0, 40.0, 0.25, 12.5, 4e139, 4.5e-7, 2_500_000.0]
            .into_iter()
            .map(tick)
            .collect();
        assert_eq!(
            ticks,
            ["0", "40", "0.25", "12.5", "4e139", "4.5e-7", "2.5e6"]
        );
    }

    fn series(catch_up: Option<CatchUp>) -> Vec<Series> {
        vec![Series {
            name: "a".into(),
            x: vec![20.0, 30.0, 40.0],
            y: vec![10.0, 8.0, 7.0],
            std: None,
            catch_up,
            forecast: None,
        }]
    }

    fn count(svg: &str, element: &str) -> usize {
        svg.matches(&format!("<{element}")).count()
    }

    #[test]
    fn a_catch_up_is_a_dashed_line_with_a_diamond_where_the_baseline_got_there() {
        let plain = learning_curves_svg("t", &series(None)).unwrap();
        let at = |reached| CatchUp {
            labels: 40.0,
            baseline_labels: 55.0,
            error: 7.0,
            reached,
        };
        let reached = learning_curves_svg("t", &series(Some(at(true)))).unwrap();
        let never = learning_curves_svg("t", &series(Some(at(false)))).unwrap();
        assert_eq!(count(&reached, "polygon"), count(&plain, "polygon") + 1);
        assert_eq!(count(&never, "polygon"), count(&plain, "polygon"));
        // The dashes: thin segments in the line's colour from 40 to 55 labels.
        let dashes = |svg: &str| {
            let colour = Palette99::pick(0).to_rgba();
            let stroke = format!(
                "stroke=\"#{:02X}{:02X}{:02X}\" stroke-width=\"1\"",
                colour.0, colour.1, colour.2
            );
            svg.matches(&stroke).count()
        };
        assert_eq!(dashes(&plain), 0);
        assert!(dashes(&never) >= 2, "{}", dashes(&never));
        // Whole numbers of labels on the axis.
        assert!(plain.contains(">\n30\n<") && !plain.contains(">\n30.0\n<"));
    }

    #[test]
    fn a_forecast_is_a_shaded_band_and_a_dashed_line_past_the_last_point() {
        let plain = learning_curves_svg("t", &series(None)).unwrap();
        let mut with = series(None);
        with[0].forecast = Some(vec![
            ForecastPoint {
                labels: 50.0,
                expected: 6.5,
                low: 6.0,
                high: 7.2,
            },
            ForecastPoint {
                labels: 90.0,
                expected: 5.8,
                low: 5.0,
                high: 6.9,
            },
        ]);
        let svg = learning_curves_svg("t", &with).unwrap();
        assert_eq!(count(&svg, "polygon"), count(&plain, "polygon") + 1);
        // The axis reaches the last forecast.
        assert!(svg.contains(">\n90\n<"), "the x axis stops short of 90");
        assert!(
            count(&svg, "polyline") + count(&svg, "line")
                > count(&plain, "polyline") + count(&plain, "line")
        );
    }
}
