//! The Faithfulness tab's chart: each method's faithfulness curve (one prompt's, or the mean
//! over prompts) against the number of components kept, over the random rankings' band; what
//! the pointer finds there; and its drawing.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use gradpatch_study::Results;
use gradpatch_study::faithfulness::mean_curve;
use gradpatch_terms::{ComponentKind, Method};

use crate::draw::{DrawResult, PlotArea};

/// Each method's colour in the curves (the same in the legend, the lines and the table).
pub fn method_colour(method: Method) -> RGBColor {
    match method {
        Method::Atp => RGBColor(230, 97, 1),
        Method::Ig => RGBColor(94, 60, 153),
        Method::Ap => RGBColor(33, 102, 172),
        Method::Eap => RGBColor(27, 158, 119),
        Method::EapIg => RGBColor(117, 112, 179),
    }
}

/// What the chart shows for one kind of component.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvesChart {
    pub kind: ComponentKind,
    /// How many components there are (the last k).
    pub n: usize,
    /// The x axis is log(1 + k) (neurons): the first components matter most.
    pub log_x: bool,
    /// The methods' set sizes, and each method's values at them.
    pub k: Vec<usize>,
    pub lines: Vec<(Method, Vec<f32>)>,
    /// The random rankings' set sizes, and their 5%, mean and 95% at them.
    pub random_k: Vec<usize>,
    pub band: Vec<(f32, f32, f32)>,
}

impl CurvesChart {
    /// The x coordinate of `k` components.
    pub fn x(&self, k: usize) -> f64 {
        if self.log_x {
            (1.0 + k as f64).ln()
        } else {
            k as f64
        }
    }

    /// The index into `k` of the set size nearest to the data coordinate `x`.
    pub fn nearest(&self, x: f64) -> Option<usize> {
        self.k
            .iter()
            .enumerate()
            .min_by(|a, b| {
                (self.x(*a.1) - x)
                    .abs()
                    .total_cmp(&(self.x(*b.1) - x).abs())
            })
            .map(|(i, _)| i)
    }

    /// The random band's values at `k` (interpolated between its set sizes).
    pub fn band_at(&self, k: usize) -> Option<(f32, f32, f32)> {
        let at = |f: fn(&(f32, f32, f32)) -> f32| {
            let values: Vec<f32> = self.band.iter().map(f).collect();
            gradpatch_study::faithfulness::value_at(&self.random_k, &values, k)
        };
        (!self.band.is_empty()).then(|| (at(|b| b.0), at(|b| b.1), at(|b| b.2)))
    }
}

/// The curves of `kind` for one prompt, or (`None`) the mean over prompts; `None` when the
/// results have no faithfulness curves.
pub fn curves(
    results: &Results,
    kind: ComponentKind,
    prompt: Option<usize>,
) -> Option<CurvesChart> {
    let f = results.faithfulness.as_ref()?;
    let pick = |rows: &[Vec<f32>]| -> Option<Vec<f32>> {
        match prompt {
            Some(p) => rows.get(p).cloned(),
            None => (!rows.is_empty()).then(|| mean_curve(rows)),
        }
    };
    let lines: Vec<(Method, Vec<f32>)> = f
        .methods
        .iter()
        .filter_map(|(&m, c)| Some((m, pick(c.of(kind))?)))
        .collect();
    let band = f.random.of(kind);
    let (lo, mean, hi) = (pick(&band.p05), pick(&band.mean), pick(&band.p95));
    let band = match (lo, mean, hi) {
        (Some(lo), Some(mean), Some(hi)) => lo
            .into_iter()
            .zip(mean)
            .zip(hi)
            .map(|((l, m), h)| (l, m, h))
            .collect(),
        _ => Vec::new(),
    };
    let k = f.k.of(kind).to_vec();
    let n = *k.last()?;
    Some(CurvesChart {
        kind,
        n,
        log_x: k.len() < n + 1,
        k,
        lines,
        random_k: f.random.k.of(kind).to_vec(),
        band,
    })
}

/// The curves over the random band (shaded, its mean dashed), one line per method with a
/// legend; `selected`: the set size drawn as a vertical line. Returns the plot area.
pub fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    chart: &CurvesChart,
    selected: Option<usize>,
) -> DrawResult<PlotArea, DB> {
    root.fill(&WHITE)?;
    let values = chart
        .lines
        .iter()
        .flat_map(|(_, v)| v.iter())
        .chain(chart.band.iter().flat_map(|b| [&b.0, &b.2]))
        .filter(|v| v.is_finite())
        .map(|&v| f64::from(v));
    let (lo, hi) = values.fold((0.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let yr = (lo - 0.05, hi + 0.05);
    let xr = (0.0, chart.x(chart.n).max(1.0));
    let log_x = chart.log_x;
    let mut c = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    let x_label = move |x: &f64| {
        if log_x {
            format!("{:.0}", x.exp() - 1.0)
        } else {
            format!("{x:.0}")
        }
    };
    let what = format!(
        "{} kept{}",
        chart.kind.label(),
        if log_x { " (log scale)" } else { "" }
    );
    c.configure_mesh()
        .x_desc(what)
        .y_desc("faithfulness")
        .x_label_formatter(&x_label)
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    draw_band(&mut c, chart)?;
    for (method, values) in &chart.lines {
        let colour = method_colour(*method);
        let points: Vec<(f64, f64)> = chart
            .k
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(&k, &v)| (chart.x(k), f64::from(v)))
            .collect();
        c.draw_series(std::iter::once(PathElement::new(
            points,
            colour.stroke_width(2),
        )))?
        .label(method.label())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2)));
    }
    if let Some(k) = selected {
        let x = chart.x(k);
        c.draw_series(std::iter::once(PathElement::new(
            vec![(x, yr.0), (x, yr.1)],
            BLACK.mix(0.5),
        )))?;
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(200, 200, 200))
        .draw()?;
    let (xp, yp) = c.plotting_area().get_pixel_range();
    Ok(PlotArea {
        x_px: (xp.start, xp.end),
        y_px: (yp.start, yp.end),
        x_range: xr,
        y_range: yr,
    })
}

/// The random rankings' 5–95% band (shaded) and mean (grey), with their legend entries.
fn draw_band<'a, DB: DrawingBackend>(
    c: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    chart: &CurvesChart,
) -> DrawResult<(), DB> {
    let grey = RGBColor(150, 150, 150);
    let upper: Vec<(f64, f64)> = chart
        .random_k
        .iter()
        .zip(&chart.band)
        .map(|(&k, b)| (chart.x(k), f64::from(b.2)))
        .collect();
    let lower = chart
        .random_k
        .iter()
        .zip(&chart.band)
        .rev()
        .map(|(&k, b)| (chart.x(k), f64::from(b.0)));
    let outline: Vec<(f64, f64)> = upper.iter().copied().chain(lower).collect();
    if outline.len() > 2 && outline.iter().all(|p| p.1.is_finite()) {
        c.draw_series(std::iter::once(Polygon::new(
            outline,
            grey.mix(0.25).filled(),
        )))?
        .label("random rankings (5–95%)")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 4), (x + 14, y + 4)], grey.mix(0.25).filled())
        });
    }
    let mean: Vec<(f64, f64)> = chart
        .random_k
        .iter()
        .zip(&chart.band)
        .map(|(&k, b)| (chart.x(k), f64::from(b.1)))
        .filter(|p| p.1.is_finite())
        .collect();
    c.draw_series(std::iter::once(PathElement::new(
        mean,
        grey.stroke_width(1),
    )))?
    .label("random rankings (mean)")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], grey));
    Ok(())
}
