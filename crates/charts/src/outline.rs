//! Outlines over a heatmap already drawn: the cells of a known circuit's heads, in one colour
//! per class (colours that stay apart from the red–blue of the scores).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::draw::{DrawResult, PlotArea};

/// The classes' colours, in the circuit file's order (repeating beyond eight classes).
pub const CLASS_COLOURS: [RGBColor; 8] = [
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(86, 180, 233),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
    RGBColor(153, 153, 153),
    RGBColor(117, 112, 179),
];

pub fn class_colour(class: usize) -> RGBColor {
    CLASS_COLOURS[class % CLASS_COLOURS.len()]
}

/// `#rrggbb` of a colour (the page's legend).
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Outlines the cells `(row, col, class)` of a `rows × cols` heatmap drawn in `area` (row 0 at
/// the bottom, as [`crate::draw::heatmap`] draws them), each in its class's colour.
pub fn draw_outlines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &PlotArea,
    (rows, cols): (usize, usize),
    cells: &[(usize, usize, usize)],
) -> DrawResult<(), DB> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let (x0, x1) = (f64::from(area.x_px.0), f64::from(area.x_px.1));
    let (y0, y1) = (f64::from(area.y_px.0), f64::from(area.y_px.1));
    let (w, h) = ((x1 - x0) / cols as f64, (y1 - y0) / rows as f64);
    for &(r, c, class) in cells.iter().filter(|&&(r, c, _)| r < rows && c < cols) {
        let left = x0 + c as f64 * w;
        let top = y1 - (r + 1) as f64 * h;
        let corner = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
        let colour = class_colour(class);
        root.draw(&Rectangle::new(
            [
                corner(left + 1.0, top + 1.0),
                corner(left + w - 1.0, top + h - 1.0),
            ],
            colour.stroke_width(2),
        ))?;
    }
    Ok(())
}
