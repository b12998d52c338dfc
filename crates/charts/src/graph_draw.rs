//! Drawing the Circuit tab's graph: on any plotters backend (the page's canvas) and as SVG text
//! (the export; the page's wasm carries no SVG backend). Both draw the same primitives, in the
//! same order: faded nodes, the halo of kept edges on a known circuit's connections, the kept
//! edges (smallest first, so the largest are on top; width ∝ |score|, red positive, blue
//! negative), the nodes that have a kept edge, the selected head, labels.

use std::fmt::Write;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::draw::{DrawResult, PlotArea};
use crate::graph::{GraphData, GraphLayout, HEAD_R};

const RED: RGBColor = RGBColor(178, 24, 43);
const BLUE: RGBColor = RGBColor(33, 102, 172);
const HALO: RGBColor = RGBColor(255, 214, 102);
const NODE: RGBColor = RGBColor(60, 60, 60);
const FADED: RGBColor = RGBColor(205, 205, 205);
const SELECTED: RGBColor = RGBColor(0, 0, 0);

/// One thing to draw, in pixels.
enum Mark {
    Line {
        from: (f64, f64),
        to: (f64, f64),
        colour: RGBColor,
        width: u32,
    },
    Dot {
        at: (f64, f64),
        r: f64,
        colour: RGBColor,
        filled: bool,
    },
    Text {
        at: (f64, f64),
        text: String,
    },
}

/// Line width of an edge of score `v` (1 to 7 px).
fn width(v: f32, max: f32) -> u32 {
    let t = if max > 0.0 {
        (v.abs() / max).min(1.0)
    } else {
        0.0
    };
    1 + (6.0 * t).round() as u32
}

/// The graph's marks, in drawing order.
fn marks(layout: &GraphLayout, data: &GraphData, selected: Option<(usize, usize)>) -> Vec<Mark> {
    let (up, down) = data.touched(layout);
    let g = &layout.graph;
    let mut head_on = vec![vec![false; g.heads]; g.layers];
    let mut mlp_on = vec![false; g.layers];
    let (mut input_on, mut logits_on) = (up[0], false);
    for (_, node) in g.upstream.iter().enumerate().filter(|(u, _)| up[*u]) {
        match *node {
            gradpatch_terms::Upstream::Input => input_on = true,
            gradpatch_terms::Upstream::Head { layer, head } => head_on[layer][head] = true,
            gradpatch_terms::Upstream::Mlp(l) => mlp_on[l] = true,
        }
    }
    for (_, node) in g.downstream.iter().enumerate().filter(|(v, _)| down[*v]) {
        match *node {
            gradpatch_terms::Downstream::Head { layer, head, .. } => head_on[layer][head] = true,
            gradpatch_terms::Downstream::Mlp(l) => mlp_on[l] = true,
            gradpatch_terms::Downstream::Logits => logits_on = true,
        }
    }
    let heads = layout.heads.iter().enumerate().flat_map(|(l, row)| {
        let on = &head_on[l];
        row.iter()
            .enumerate()
            .map(move |(h, &at)| (at, HEAD_R, on[h]))
    });
    let mlps = layout
        .mlps
        .iter()
        .zip(&mlp_on)
        .map(|(&at, &on)| (at, HEAD_R + 1.0, on));
    let ends = [
        (layout.input, HEAD_R + 2.0, input_on),
        (layout.logits, HEAD_R + 2.0, logits_on),
    ];
    let nodes: Vec<((f64, f64), f64, bool)> = heads.chain(mlps).chain(ends).collect();
    let mut out: Vec<Mark> = nodes
        .iter()
        .filter(|n| !n.2)
        .map(|&(at, r, _)| Mark::Dot {
            at,
            r,
            colour: FADED,
            filled: true,
        })
        .collect();
    if let Some(mask) = &data.on_circuit {
        for &(e, v) in data
            .kept
            .iter()
            .filter(|(e, _)| mask.get(*e).copied().unwrap_or(false))
        {
            if let Some((from, to)) = layout.segment(e) {
                out.push(Mark::Line {
                    from,
                    to,
                    colour: HALO,
                    width: width(v, data.max) + 4,
                });
            }
        }
    }
    for &(e, v) in data.kept.iter().rev() {
        if let Some((from, to)) = layout.segment(e) {
            let colour = if v >= 0.0 { RED } else { BLUE };
            out.push(Mark::Line {
                from,
                to,
                colour,
                width: width(v, data.max),
            });
        }
    }
    out.extend(nodes.iter().filter(|n| n.2).map(|&(at, r, _)| Mark::Dot {
        at,
        r,
        colour: NODE,
        filled: true,
    }));
    if let Some((l, h)) = selected
        && let Some(&at) = layout.heads.get(l).and_then(|row| row.get(h))
    {
        out.push(Mark::Dot {
            at,
            r: HEAD_R + 3.0,
            colour: SELECTED,
            filled: false,
        });
    }
    out.extend(labels(layout));
    out
}

/// The layer numbers at the left, "input" and "logits", and "MLP" beside each MLP.
fn labels(layout: &GraphLayout) -> Vec<Mark> {
    let mut out = vec![
        Mark::Text {
            at: (layout.input.0 + 14.0, layout.input.1 - 4.0),
            text: "input".into(),
        },
        Mark::Text {
            at: (layout.logits.0 + 14.0, layout.logits.1 - 4.0),
            text: "logits".into(),
        },
    ];
    for (l, row) in layout.heads.iter().enumerate() {
        if let Some(&(_, y)) = row.first() {
            out.push(Mark::Text {
                at: (8.0, y - 4.0),
                text: format!("L{l}"),
            });
        }
        let (x, y) = layout.mlps[l];
        out.push(Mark::Text {
            at: (x + 12.0, y - 4.0),
            text: format!("MLP {l}"),
        });
    }
    out
}

/// Draws the graph on `root` (of the layout's size); the plot area maps pixels to themselves.
pub fn draw_graph<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    layout: &GraphLayout,
    data: &GraphData,
    selected: Option<(usize, usize)>,
) -> DrawResult<PlotArea, DB> {
    root.fill(&WHITE)?;
    let px = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    for mark in marks(layout, data, selected) {
        match mark {
            Mark::Line {
                from,
                to,
                colour,
                width,
            } => {
                root.draw(&PathElement::new(
                    vec![px(from), px(to)],
                    colour.stroke_width(width),
                ))?;
            }
            Mark::Dot {
                at,
                r,
                colour,
                filled,
            } => {
                let style = if filled {
                    colour.filled()
                } else {
                    colour.stroke_width(2)
                };
                root.draw(&Circle::new(px(at), r.round() as i32, style))?;
            }
            Mark::Text { at, text } => {
                root.draw(&Text::new(
                    text,
                    px(at),
                    ("sans-serif", 11).into_font().color(&NODE),
                ))?;
            }
        }
    }
    let (w, h) = (layout.width as i32, layout.height as i32);
    Ok(PlotArea {
        x_px: (0, w),
        y_px: (0, h),
        x_range: (0.0, f64::from(w)),
        y_range: (0.0, f64::from(h)),
    })
}

fn hex(c: RGBColor) -> String {
    crate::outline::hex(c)
}

/// The graph as an SVG document.
pub fn graph_svg(
    layout: &GraphLayout,
    data: &GraphData,
    selected: Option<(usize, usize)>,
) -> String {
    let (w, h) = (layout.width, layout.height);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
    );
    for mark in marks(layout, data, selected) {
        let _ = match mark {
            Mark::Line {
                from,
                to,
                colour,
                width,
            } => writeln!(
                s,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width}\" stroke-linecap=\"round\"/>",
                from.0,
                from.1,
                to.0,
                to.1,
                hex(colour)
            ),
            Mark::Dot {
                at,
                r,
                colour,
                filled,
            } => {
                let paint = if filled {
                    format!("fill=\"{}\"", hex(colour))
                } else {
                    format!(
                        "fill=\"none\" stroke=\"{}\" stroke-width=\"2\"",
                        hex(colour)
                    )
                };
                writeln!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" {paint}/>",
                    at.0, at.1
                )
            }
            Mark::Text { at, text } => writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"11\" fill=\"{}\">{}</text>",
                at.0,
                at.1 + 11.0,
                hex(NODE),
                text.replace('&', "&amp;").replace('<', "&lt;")
            ),
        };
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use gradpatch_terms::Method;

    use super::*;

    #[test]
    fn the_svg_has_a_line_per_kept_edge_coloured_by_sign_and_a_halo_on_the_circuit() {
        let layout = GraphLayout::new(2, 2);
        let n = layout.graph.edges.len();
        let mut mask = vec![false; n];
        mask[3] = true;
        let data = GraphData::new(
            Method::EapIg,
            &[(3, -2.0), (20, 1.0), (5, 0.5)],
            3,
            Some(mask),
        );
        let svg = graph_svg(&layout, &data, Some((1, 0)));
        let lines: Vec<&str> = svg.lines().filter(|l| l.starts_with("<line")).collect();
        assert_eq!(lines.len(), 4, "three edges and one halo");
        assert!(lines[0].contains("#ffd666") && lines[0].contains("stroke-width=\"11\""));
        assert!(lines[3].contains("#b2182b") || lines[3].contains("#2166ac"));
        assert!(
            lines
                .last()
                .is_some_and(|l| l.contains("#2166ac") && l.contains("stroke-width=\"7\"")),
            "the largest, negative, drawn last"
        );
        assert!(
            svg.contains("stroke=\"#000000\""),
            "the selected head is ringed"
        );
        assert!(svg.contains(">MLP 1</text>") && svg.contains(">logits</text>"));
        // The canvas drawing takes the same path (here on plotters' SVG backend).
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (layout.width, layout.height))
                .into_drawing_area();
            let area = draw_graph(&root, &layout, &data, None).ok();
            assert_eq!(area.map(|a| a.x_px), Some((0, 960)));
        }
        assert!(out.contains("<svg"));
    }
}
