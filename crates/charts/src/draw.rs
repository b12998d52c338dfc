//! Drawing on any plotters backend (a canvas in the page, SVG in tests). Every chart returns
//! its plot area in pixels so the page can map the pointer back to a component.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;

use crate::data::{Grid, MethodPair};

pub type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Diverging red–blue scale centred on 0 (blue negative, white 0, red positive), as the study's
/// `RdBu_r` maps. `v` is clamped to `[-max, max]`; non-finite values are grey.
pub fn diverging(v: f64, max: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(200, 200, 200);
    }
    let t = if max > 0.0 {
        (v / max).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let mix =
        |a: u8, b: u8, t: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    let (white, red, blue) = ((247, 247, 247), (178, 24, 43), (33, 102, 172));
    let (end, t) = if t >= 0.0 { (red, t) } else { (blue, -t) };
    RGBColor(
        mix(white.0, end.0, t),
        mix(white.1, end.1, t),
        mix(white.2, end.2, t),
    )
}

/// Where a chart's data area lies on the canvas, and the data range it shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotArea {
    pub x_px: (i32, i32),
    pub y_px: (i32, i32),
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
}

impl PlotArea {
    /// Data coordinates of a pixel inside the area.
    pub fn to_data(&self, px: f64, py: f64) -> Option<(f64, f64)> {
        let (x0, x1) = (f64::from(self.x_px.0), f64::from(self.x_px.1));
        let (y0, y1) = (f64::from(self.y_px.0), f64::from(self.y_px.1));
        if px < x0 || px > x1 || py < y0 || py > y1 || x1 <= x0 || y1 <= y0 {
            return None;
        }
        let fx = (px - x0) / (x1 - x0);
        let fy = (py - y0) / (y1 - y0);
        Some((
            self.x_range.0 + fx * (self.x_range.1 - self.x_range.0),
            // Pixel rows grow downwards; the data axis grows upwards.
            self.y_range.1 - fy * (self.y_range.1 - self.y_range.0),
        ))
    }

    /// The grid cell `(row, col)` under a pixel of a heatmap drawn by [`heatmap`].
    pub fn cell(
        &self,
        px: f64,
        py: f64,
        grid_rows: usize,
        grid_cols: usize,
    ) -> Option<(usize, usize)> {
        let (x, y) = self.to_data(px, py)?;
        let (col, row) = (x.floor(), y.floor());
        (col >= 0.0 && row >= 0.0 && (col as usize) < grid_cols && (row as usize) < grid_rows)
            .then_some((row as usize, col as usize))
    }

    /// Index of the point of `points` (data coordinates) nearest to a pixel, if one lies within
    /// 6 pixels of it (distances measured in pixels, so both axes count alike).
    pub fn nearest(
        &self,
        points: impl IntoIterator<Item = (f64, f64)>,
        px: f64,
        py: f64,
    ) -> Option<usize> {
        let (dx, dy) = self.to_data(px, py)?;
        let sx = (self.x_range.1 - self.x_range.0) / f64::from((self.x_px.1 - self.x_px.0).max(1));
        let sy = (self.y_range.1 - self.y_range.0) / f64::from((self.y_px.1 - self.y_px.0).max(1));
        points
            .into_iter()
            .enumerate()
            .map(|(i, p)| (i, ((p.0 - dx) / sx).powi(2) + ((p.1 - dy) / sy).powi(2)))
            .filter(|(_, d2)| *d2 < 36.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }
}

fn area_of<X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>, DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_range: (f64, f64),
    y_range: (f64, f64),
) -> PlotArea {
    let (xp, yp) = chart.plotting_area().get_pixel_range();
    PlotArea {
        x_px: (xp.start, xp.end),
        y_px: (yp.start, yp.end),
        x_range,
        y_range,
    }
}

type GridChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<SegmentedCoord<RangedCoordusize>, SegmentedCoord<RangedCoordusize>>,
>;

/// Axes for a layers × components grid: one segment per cell, labels at cell centres.
fn grid_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    (rows, cols): (usize, usize),
) -> DrawResult<GridChart<'a, DB>, DB> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(6)
        .x_label_area_size(34)
        .y_label_area_size(40)
        .build_cartesian_2d(
            // `0..n` holds the n + 1 values 0..=n: `0..n - 1` gives one segment per cell.
            (0..cols.max(1) - 1).into_segmented(),
            (0..rows.max(1) - 1).into_segmented(),
        )?;
    let centre = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(c) => c.to_string(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc("layer")
        .x_labels(cols.min(13))
        .y_labels(rows.min(13))
        .x_label_formatter(&centre)
        .y_label_formatter(&centre)
        .draw()?;
    Ok(chart)
}

fn cell(r: usize, c: usize) -> [(SegmentValue<usize>, SegmentValue<usize>); 2] {
    [
        (SegmentValue::Exact(c), SegmentValue::Exact(r)),
        (SegmentValue::Exact(c + 1), SegmentValue::Exact(r + 1)),
    ]
}

fn grid_area<DB: DrawingBackend>(chart: &GridChart<'_, DB>, rows: usize, cols: usize) -> PlotArea {
    let (xp, yp) = chart.plotting_area().get_pixel_range();
    PlotArea {
        x_px: (xp.start, xp.end),
        y_px: (yp.start, yp.end),
        x_range: (0.0, cols as f64),
        y_range: (0.0, rows as f64),
    }
}

/// Every cell of `grid` in the diverging colour of its value.
fn fill_cells<DB: DrawingBackend>(
    chart: &mut GridChart<'_, DB>,
    grid: &Grid,
    scale: f64,
) -> DrawResult<(), DB> {
    chart.draw_series((0..grid.rows).flat_map(|r| {
        (0..grid.cols).map(move |c| {
            let color = diverging(f64::from(grid.get(r, c)), scale);
            Rectangle::new(cell(r, c), color.filled())
        })
    }))?;
    Ok(())
}

/// A layer × component heatmap (layer 0 at the bottom) with a colour bar to its right.
/// `scale` is the colour scale's half-range (shared by charts that are compared);
/// `selected` = `(row, col)` is outlined.
pub fn heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    grid: &Grid,
    scale: f64,
    selected: Option<(usize, usize)>,
) -> DrawResult<PlotArea, DB> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (main, bar) = root.split_horizontally(w.saturating_sub(70));
    let mut chart = grid_chart(&main, title, x_label, (grid.rows, grid.cols))?;
    fill_cells(&mut chart, grid, scale)?;
    if let Some((r, c)) = selected.filter(|&(r, c)| r < grid.rows && c < grid.cols) {
        chart.draw_series(std::iter::once(Rectangle::new(
            cell(r, c),
            BLACK.stroke_width(2),
        )))?;
    }
    colour_bar(&bar, scale)?;
    Ok(grid_area(&chart, grid.rows, grid.cols))
}

/// A token as an axis label: at most 8 characters, a leading space shown as `·`.
fn token_label(token: &str) -> String {
    let t = token.replacen(' ', "·", 1).replace('\n', "⏎");
    let mut short: String = t.chars().take(8).collect();
    if t.chars().count() > 8 {
        short.push('…');
    }
    short
}

/// One prompt's head scores at each position (the Positions tab): rows = layer · heads + head
/// (layer 0 at the bottom, each layer named at its first head), one column per token, named on
/// the axis; a colour bar to its right. `selected` = a row (head) is outlined across the tokens.
pub fn positions_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    (grid, tokens, heads): (&Grid, &[String], usize),
    scale: f64,
    selected: Option<usize>,
) -> DrawResult<PlotArea, DB> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (main, bar) = root.split_horizontally(w.saturating_sub(70));
    let (rows, cols) = (grid.rows, grid.cols);
    let heads = heads.max(1);
    let mut chart = ChartBuilder::on(&main)
        .caption(title, ("sans-serif", 16))
        .margin(6)
        .x_label_area_size(64)
        .y_label_area_size(44)
        .build_cartesian_2d(
            (0..cols.max(1) - 1).into_segmented(),
            (0..rows.max(1) - 1).into_segmented(),
        )?;
    let token = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(c) => tokens.get(*c).map(|t| token_label(t)).unwrap_or_default(),
        _ => String::new(),
    };
    let layer = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(r) if r % heads == 0 => format!("L{}", r / heads),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("token")
        .y_desc("layer, head")
        .x_labels(cols)
        .y_labels(rows)
        .x_label_formatter(&token)
        .y_label_formatter(&layer)
        .x_label_style(
            ("sans-serif", 11)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .draw()?;
    fill_cells(&mut chart, grid, scale)?;
    if let Some(r) = selected.filter(|&r| r < rows && cols > 0) {
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (SegmentValue::Exact(0), SegmentValue::Exact(r)),
                (SegmentValue::Exact(cols), SegmentValue::Exact(r + 1)),
            ],
            BLACK.stroke_width(2),
        )))?;
    }
    colour_bar(&bar, scale)?;
    Ok(grid_area(&chart, rows, cols))
}

/// A vertical colour bar from −scale (bottom) to +scale (top).
pub fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: f64,
) -> DrawResult<(), DB> {
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = (30i32, h as i32 - 40);
    let steps = 64;
    for i in 0..steps {
        let t = 1.0 - 2.0 * (f64::from(i) + 0.5) / f64::from(steps);
        let y0 = top + (bottom - top) * i / steps;
        let y1 = top + (bottom - top) * (i + 1) / steps;
        area.draw(&Rectangle::new(
            [(6, y0), (20, y1 + 1)],
            diverging(t * scale, scale).filled(),
        ))?;
    }
    let style = ("sans-serif", 12).into_font();
    for (y, v) in [(top, scale), ((top + bottom) / 2, 0.0), (bottom, -scale)] {
        area.draw(&Text::new(format!("{v:.3}"), (23, y - 6), style.clone()))?;
    }
    Ok(())
}

/// Range covering `values` with 5% padding (a unit range when empty or flat).
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() || hi <= lo {
        let c = if lo.is_finite() { lo } else { 0.0 };
        return (c - 1.0, c + 1.0);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

type XyChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axes with labels and light grid lines over the given ranges, and the points drawn.
fn points_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    (xr, yr): ((f64, f64), (f64, f64)),
    points: &[(f64, f64)],
) -> DrawResult<XyChart<'a, DB>, DB> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    let colour = RGBColor(33, 102, 172).mix(0.55);
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, colour.filled())))?;
    Ok(chart)
}

/// A straight line through `ends` on a points chart.
fn segment<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    ends: [(f64, f64); 2],
    style: ShapeStyle,
) -> DrawResult<(), DB> {
    chart.draw_series(std::iter::once(PathElement::new(ends.to_vec(), style)))?;
    Ok(())
}

/// Rings around the `selected` points, last so they stay on top; the chart's pixel mapping.
fn finish_points<DB: DrawingBackend>(
    mut chart: XyChart<'_, DB>,
    selected: &[(f64, f64)],
    (xr, yr): ((f64, f64), (f64, f64)),
) -> DrawResult<PlotArea, DB> {
    chart.draw_series(
        selected
            .iter()
            .map(|&p| Circle::new(p, 6, BLACK.stroke_width(2))),
    )?;
    Ok(area_of(&chart, xr, yr))
}

/// The pair's first method (x) against its second (y) with the least-squares line; `selected`
/// points are drawn large.
pub fn scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (title, pair): (&str, MethodPair),
    points: &[(f64, f64)],
    line: (f64, f64),
    selected: &[(f64, f64)],
) -> DrawResult<PlotArea, DB> {
    let xr = padded(points.iter().map(|p| p.0));
    let yr = padded(points.iter().map(|p| p.1));
    let (a, b) = pair.methods();
    let descs = (
        format!("{} score", a.label()),
        format!("{} score", b.label()),
    );
    let mut chart = points_chart(root, title, (&descs.0, &descs.1), (xr, yr), points)?;
    let (slope, intercept) = line;
    if slope.is_finite() && intercept.is_finite() {
        let ends = [xr.0, xr.1].map(|x| (x, slope * x + intercept));
        segment(&mut chart, ends, RGBColor(178, 24, 43).stroke_width(2))?;
    }
    finish_points(chart, selected, (xr, yr))
}

/// Mean-difference (Bland–Altman) plot of a pair with the mean and mean ± 1.96 SD lines.
pub fn mean_difference<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (title, pair): (&str, MethodPair),
    points: &[(f64, f64)],
    mean: f64,
    (lower, upper): (f64, f64),
    selected: &[(f64, f64)],
) -> DrawResult<PlotArea, DB> {
    let xr = padded(points.iter().map(|p| p.0));
    let yr = padded(points.iter().map(|p| p.1).chain([lower, upper]));
    let (a, b) = pair.methods();
    let descs = (
        format!("mean of scaled {} and {}", a.label(), b.label()),
        format!("{} − {} (scaled)", b.label(), a.label()),
    );
    let mut chart = points_chart(root, title, (&descs.0, &descs.1), (xr, yr), points)?;
    for (y, style, label) in [
        (mean, BLACK.stroke_width(2), format!("mean {mean:.3}")),
        (
            upper,
            RGBColor(178, 24, 43).stroke_width(1),
            format!("+1.96 SD {upper:.3}"),
        ),
        (
            lower,
            RGBColor(178, 24, 43).stroke_width(1),
            format!("−1.96 SD {lower:.3}"),
        ),
    ] {
        if y.is_finite() {
            segment(&mut chart, [(xr.0, y), (xr.1, y)], style)?;
            chart.draw_series(std::iter::once(Text::new(
                label,
                (xr.0 + 0.02 * (xr.1 - xr.0), y),
                ("sans-serif", 12).into_font(),
            )))?;
        }
    }
    finish_points(chart, selected, (xr, yr))
}

/// Highlighted components of one method: 1 = highlighted by this method; cells that both
/// methods highlight (`both`) are drawn darker.
pub fn highlight_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    mine: &Grid,
    other: &Grid,
    colour: RGBColor,
    selected: Option<(usize, usize)>,
) -> DrawResult<PlotArea, DB> {
    root.fill(&WHITE)?;
    let mut chart = grid_chart(root, title, x_label, (mine.rows, mine.cols))?;
    let light = colour.mix(0.45);
    chart.draw_series((0..mine.rows).flat_map(|r| {
        (0..mine.cols).filter_map(move |c| {
            let on = mine.get(r, c) > 0.5;
            let both = on && other.get(r, c) > 0.5;
            let rect = cell(r, c);
            on.then(|| {
                if both {
                    Rectangle::new(rect, colour.filled())
                } else {
                    Rectangle::new(rect, light.filled())
                }
            })
        })
    }))?;
    if let Some((r, c)) = selected.filter(|&(r, c)| r < mine.rows && c < mine.cols) {
        chart.draw_series(std::iter::once(Rectangle::new(
            cell(r, c),
            BLACK.stroke_width(2),
        )))?;
    }
    Ok(grid_area(&chart, mine.rows, mine.cols))
}
