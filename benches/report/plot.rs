//! The picture in BENCHMARKS.md: load time against module size, one line per
//! load path, both axes logarithmic.

use std::path::Path;

use plotters::prelude::*;

/// One series: a label, a colour, and `(module bytes, seconds)` points.
pub struct Series {
    pub label: &'static str,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

pub fn load_time_vs_size(path: &Path, series: &[Series]) -> Result<(), Box<dyn std::error::Error>> {
    let all = || series.iter().flat_map(|s| s.points.iter().copied()).filter(|(x, y)| *x > 0.0 && *y > 0.0);
    let (x_min, x_max) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| (lo.min(x), hi.max(x)));
    let (y_min, y_max) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| (lo.min(y), hi.max(y)));
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("First load of a precompiled module (median), by module size", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_min / 1.5..x_max * 1.5).log_scale(),
            (y_min * 1e3 / 2.0..y_max * 1e3 * 2.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("module size (.wasm bytes)")
        .y_desc("load time (ms)")
        .x_label_formatter(&|x| crate::stats::bytes(*x as u64))
        .y_label_formatter(&|y| format!("{y}"))
        .draw()?;
    for s in series {
        let mut points: Vec<(f64, f64)> = s.points.iter().map(|&(x, y)| (x, y * 1e3)).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = s.color;
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(s.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
