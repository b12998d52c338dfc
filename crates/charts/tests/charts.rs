//! Chart data from a small synthetic study, and drawing on plotters' SVG backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gradpatch_charts::data::{self, Kind, Method};
use gradpatch_charts::draw;
use gradpatch_study::{MethodScores, Results, statistics};
use plotters::prelude::*;

fn results() -> Results {
    // 2 prompts, 2 layers, 3 heads, 4 neurons.
    let ig_heads = vec![
        vec![vec![1.0, -2.0, 0.5], vec![0.0, 3.0, f32::NAN]],
        vec![vec![3.0, -4.0, 0.5], vec![1.0, 1.0, 2.0]],
    ];
    let ap_heads = vec![
        vec![vec![0.5, -1.0, 0.0], vec![0.1, 2.0, 0.3]],
        vec![vec![2.0, -2.0, 0.2], vec![0.4, 0.5, 1.0]],
    ];
    let neurons = |k: f32| vec![vec![vec![k, -k, 0.0, 1.0], vec![2.0 * k, 0.0, 0.5, -1.0]]; 2];
    let mut r = common::results_with(
        vec![2.0, 3.0],
        vec![-1.0, 0.0],
        vec![
            (
                Method::Ig,
                MethodScores {
                    heads: ig_heads,
                    neurons: neurons(1.0),
                    convergence_delta_heads: Some(vec![vec![0.0; 2]; 2]),
                    convergence_delta_neurons: Some(vec![vec![0.0; 2]; 2]),
                    heads_pos: None,
                },
            ),
            (
                Method::Ap,
                MethodScores {
                    heads: ap_heads,
                    neurons: neurons(0.5),
                    ..MethodScores::default()
                },
            ),
        ],
    );
    r.stats = statistics(&r, 0.9);
    r
}

#[test]
fn mean_grid_skips_missing_values() {
    let r = results();
    let g = data::grid(&r, Method::Ig, Kind::Heads, None).unwrap();
    assert_eq!((g.rows, g.cols), (2, 3));
    assert_eq!(g.values[0], 2.0);
    // Only prompt 1 has a value at layer 1 head 2.
    assert_eq!(g.get(1, 2), 2.0);
    assert_eq!(g.max_abs(), 3.0);
    let one = data::grid(&r, Method::Ap, Kind::Heads, Some(1)).unwrap();
    assert_eq!(one.get(0, 1), -2.0);
    assert!(
        data::grid(&r, Method::Ap, Kind::Heads, Some(2)).is_none(),
        "there is no grid for prompt 2 (the results have prompts 0 and 1)"
    );
}

#[test]
fn pairs_fit_and_highlights_follow_the_statistics() {
    let r = results();
    let pooled = data::pairs(&r, common::ig_ap(), Kind::Heads, None);
    assert_eq!(pooled.len(), 11, "the NaN pair is left out");
    let (rho, slope, intercept) =
        data::fit(&data::pairs(&r, common::ig_ap(), Kind::Heads, Some(1)));
    assert!(
        (rho - r.stats.as_ref().unwrap().heads.pearson_per_prompt[1]).abs() < 1e-9,
        "the fit's rho {rho} is prompt 1's heads pearson"
    );
    assert!(
        slope > 0.0 && intercept.is_finite(),
        "the fit has a positive slope {slope} and a finite intercept {intercept}"
    );
    let (ig, ap) = data::highlighted(&r, common::ig_ap(), Kind::Heads, Some(1)).unwrap();
    // The 0.9 quantile of |IG| pooled is 3.0 (lerp): prompt 1's 3.0 and −4.0 are highlighted.
    assert_eq!(ig.values, [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(ap.values.iter().sum::<f32>(), 2.0);
    let md = data::mean_difference(&r, common::ig_ap(), Kind::Heads);
    assert_eq!(md.len(), 11);
    let s = &r.stats.as_ref().unwrap().heads;
    let mean = md.iter().map(|p| p.1).sum::<f64>() / md.len() as f64;
    assert!(
        (mean - s.mean_difference).abs() < 1e-6,
        "the mean of the differences {mean} is the statistics' mean_difference {}",
        s.mean_difference
    );
}

#[test]
fn diverging_scale_is_centred_on_zero() {
    assert_eq!(draw::diverging(0.0, 1.0), RGBColor(247, 247, 247));
    assert_eq!(draw::diverging(1.0, 1.0), RGBColor(178, 24, 43));
    assert_eq!(draw::diverging(-5.0, 1.0), RGBColor(33, 102, 172));
    assert_eq!(draw::diverging(f64::NAN, 1.0), RGBColor(200, 200, 200));
}

#[test]
fn heatmap_draws_and_maps_pixels_back_to_cells() {
    let r = results();
    let g = data::grid(&r, Method::Ig, Kind::Heads, None).unwrap();
    let mut svg = String::new();
    let area = {
        let root = SVGBackend::with_string(&mut svg, (420, 300)).into_drawing_area();
        let area = draw::heatmap(&root, "IG heads", "head", &g, 3.0, Some((1, 2))).unwrap();
        root.present().unwrap();
        area
    };
    assert!(
        svg.contains("IG heads") && svg.contains("layer"),
        "the heatmap SVG has its title and a layer axis"
    );
    // Red for the largest positive mean (layer 1, head 1: 2.0) appears as a fill.
    assert!(
        svg.matches("<rect").count() >= 6,
        "the heatmap SVG draws at least 6 cells, got {}",
        svg.matches("<rect").count()
    );
    let (x0, x1) = (f64::from(area.x_px.0), f64::from(area.x_px.1));
    let (y0, y1) = (f64::from(area.y_px.0), f64::from(area.y_px.1));
    // The top-left cell is the last layer, head 0; the bottom-right one is layer 0, last head.
    assert_eq!(area.cell(x0 + 1.0, y0 + 1.0, 2, 3), Some((1, 0)));
    assert_eq!(area.cell(x1 - 1.0, y1 - 1.0, 2, 3), Some((0, 2)));
    assert_eq!(area.cell(x0 - 5.0, y0, 2, 3), None);
}

#[test]
fn scatter_overlap_and_mean_difference_draw() {
    let r = results();
    let pts: Vec<(f64, f64)> = data::pairs(&r, common::ig_ap(), Kind::Neurons, None)
        .iter()
        .map(|p| (f64::from(p.0), f64::from(p.1)))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 300)).into_drawing_area();
        let parts = root.split_evenly((1, 3));
        draw::scatter(
            &parts[0],
            ("neurons", common::ig_ap()),
            &pts,
            (0.5, 0.0),
            &pts[..1],
        )
        .unwrap();
        let (ig, ap) = data::highlighted(&r, common::ig_ap(), Kind::Neurons, None).unwrap();
        draw::highlight_map(&parts[1], "IG top", "neuron", &ig, &ap, RED, None).unwrap();
        let md = data::mean_difference(&r, common::ig_ap(), Kind::Neurons);
        draw::mean_difference(
            &parts[2],
            ("md", common::ig_ap()),
            &md,
            0.0,
            (-1.0, 1.0),
            &[],
        )
        .unwrap();
        root.present().unwrap();
    }
    assert!(
        svg.contains("IG score") && svg.contains("+1.96 SD"),
        "the SVG has the scatter's axis label and the +1.96 SD line"
    );
}

#[test]
fn heatmap_cells_are_drawn_where_the_pointer_mapping_finds_them() {
    // Distinct values per cell; each cell's centre pixel (from the returned plot area) must have
    // that cell's colour.
    let grid = gradpatch_charts::Grid {
        rows: 3,
        cols: 4,
        values: (0..12).map(|i| i as f32 - 5.5).collect(),
    };
    let mut svg = String::new();
    let area = {
        let root = SVGBackend::with_string(&mut svg, (420, 300)).into_drawing_area();
        let a = draw::heatmap(&root, "t", "head", &grid, 6.0, None).unwrap();
        root.present().unwrap();
        a
    };
    // Filled rectangles of the SVG: (x, y, width, height, fill).
    let attr = |tag: &str, name: &str| -> String {
        let key = format!(" {name}=\"");
        let start = tag.find(&key).map(|i| i + key.len()).unwrap_or(0);
        tag[start..].split('"').next().unwrap_or("").to_string()
    };
    let rects: Vec<(f64, f64, f64, f64, String)> = svg
        .split("<rect")
        .skip(1)
        .map(|t| {
            let n = |k| attr(t, k).parse::<f64>().unwrap_or(f64::NAN);
            (
                n("x"),
                n("y"),
                n("width"),
                n("height"),
                attr(t, "fill").to_uppercase(),
            )
        })
        .collect();
    let (x0, x1) = (f64::from(area.x_px.0), f64::from(area.x_px.1));
    let (y0, y1) = (f64::from(area.y_px.0), f64::from(area.y_px.1));
    for r in 0..3 {
        for c in 0..4 {
            let px = x0 + (c as f64 + 0.5) / 4.0 * (x1 - x0);
            let py = y1 - (r as f64 + 0.5) / 3.0 * (y1 - y0);
            assert_eq!(area.cell(px, py, 3, 4), Some((r, c)));
            let want = draw::diverging(f64::from(grid.get(r, c)), 6.0);
            let fill = format!("#{:02X}{:02X}{:02X}", want.0, want.1, want.2);
            let hit = rects.iter().any(|(x, y, w, h, f)| {
                *f == fill && px >= *x && px <= x + w && py >= *y && py <= y + h
            });
            assert!(
                hit,
                "cell ({r}, {c}): no {fill} rectangle under its centre ({px}, {py})"
            );
        }
    }
}

/// The Positions tab's heatmap names the tokens on its axis and the layers at
/// their first head, and maps pixels back to (layer · heads + head, token).
#[test]
fn positions_heatmap_names_tokens_and_maps_cells() {
    // 2 layers × 2 heads = 4 rows, 3 tokens.
    let grid = data::Grid {
        rows: 4,
        cols: 3,
        values: (0..12).map(|v| v as f32 - 6.0).collect(),
    };
    let tokens = ["<|endoftext|>".to_string(), "When".into(), " Mary".into()];
    let mut svg = String::new();
    let area = {
        let root = SVGBackend::with_string(&mut svg, (420, 360)).into_drawing_area();
        let area =
            draw::positions_heatmap(&root, "AtP, prompt 0", (&grid, &tokens, 2), 6.0, Some(3))
                .unwrap();
        root.present().unwrap();
        area
    };
    for text in ["AtP, prompt 0", "When", "·Mary", "&lt;|endoft…", "L0", "L1"] {
        assert!(svg.contains(text), "the SVG shows {text:?}");
    }
    let (x0, x1) = (f64::from(area.x_px.0), f64::from(area.x_px.1));
    let (y0, y1) = (f64::from(area.y_px.0), f64::from(area.y_px.1));
    assert_eq!(
        area.cell(x0 + 1.0, y0 + 1.0, 4, 3),
        Some((3, 0)),
        "top left: L1H1, BOS"
    );
    assert_eq!(
        area.cell(x1 - 1.0, y1 - 1.0, 4, 3),
        Some((0, 2)),
        "bottom right: L0H0, last"
    );
}

/// The circuit's outlines sit on the cells they name: each outline's centre is in its cell
/// (found through the plot area the heatmap returned), in its class's colour.
#[test]
fn outlines_frame_the_cells_they_name() {
    use gradpatch_charts::outline::{class_colour, draw_outlines, hex};
    let grid = gradpatch_charts::Grid {
        rows: 3,
        cols: 4,
        values: vec![0.0; 12],
    };
    let cells = [(0, 1, 0), (2, 3, 1), (5, 0, 2)];
    let mut svg = String::new();
    let area = {
        let root = SVGBackend::with_string(&mut svg, (420, 300)).into_drawing_area();
        let a = draw::heatmap(&root, "t", "head", &grid, 1.0, None).unwrap();
        draw_outlines(&root, &a, (3, 4), &cells).unwrap();
        root.present().unwrap();
        a
    };
    for &(row, col, class) in &cells[..2] {
        let colour = hex(class_colour(class)).to_uppercase();
        let tag = svg
            .split("<rect")
            .find(|t| t.to_uppercase().contains(&format!("STROKE=\"{colour}\"")))
            .unwrap_or_else(|| panic!("no outline in {colour}"));
        let n = |k: &str| -> f64 {
            let key = format!(" {k}=\"");
            let start = tag.find(&key).map(|i| i + key.len()).unwrap_or(0);
            tag[start..]
                .split('"')
                .next()
                .unwrap_or("")
                .parse()
                .unwrap_or(f64::NAN)
        };
        let (cx, cy) = (n("x") + n("width") / 2.0, n("y") + n("height") / 2.0);
        assert_eq!(area.cell(cx, cy, 3, 4), Some((row, col)), "class {class}");
    }
    // A cell outside the grid draws nothing.
    assert!(
        !svg.to_uppercase()
            .contains(&hex(class_colour(2)).to_uppercase())
    );
}
