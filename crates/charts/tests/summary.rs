//! The computations behind the page's tables and hit-testing, natively: the top-components
//! ranking, the summary's mean ± SD, the selected component's points and the nearest point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gradpatch_charts::PlotArea;
use gradpatch_charts::data::{self, Grid, Kind, Method, MethodPair};
use gradpatch_study::{MethodScores, statistics};

fn grid(cols: usize, values: &[f32]) -> Grid {
    Grid {
        rows: values.len() / cols,
        cols,
        values: values.to_vec(),
    }
}

fn at(ranked: &[data::Ranked]) -> Vec<(usize, usize)> {
    ranked.iter().map(|r| (r.row, r.col)).collect()
}

/// The grids of `of` in `Method::ALL`'s order, `None` for the other methods.
fn grids<'a>(of: &[(Method, &'a Grid)]) -> [Option<&'a Grid>; Method::COUNT] {
    std::array::from_fn(|i| {
        of.iter()
            .find(|(m, _)| data::method_index(*m) == i)
            .map(|(_, g)| *g)
    })
}

#[test]
fn top_components_rank_by_abs_score_with_ties_in_row_major_order() {
    // 2 layers × 3: |IG| = 1, 2, 2, NaN, 0.5, 1 (the NaN and the infinity are left out).
    let ig = grid(3, &[1.0, -2.0, 2.0, f32::NAN, 0.5, -1.0]);
    let ap = grid(3, &[0.1, 0.2, f32::INFINITY, 0.4, 0.5, 0.6]);
    let top = data::top_components(
        grids(&[(Method::Ig, &ig), (Method::Ap, &ap)]),
        Method::Ig,
        4,
    );
    assert_eq!(
        at(&top),
        [(0, 1), (0, 2), (0, 0), (1, 2)],
        "largest |IG| first; the ties 2/−2 and 1/−1 keep their row-major order"
    );
    let first = top[0];
    assert_eq!(
        (
            first.row,
            first.col,
            first.score(Method::Ig),
            first.score(Method::Ap)
        ),
        (0, 1, -2.0, 0.2),
        "a row carries every method's score at the component, signs kept"
    );
    assert!(
        first.score(Method::Atp).is_nan(),
        "NaN for a method without a grid"
    );
    assert!(
        top[1].score(Method::Ap).is_infinite(),
        "the other method's value is shown as it is, even when not finite"
    );
    let by_ap = data::top_components(
        grids(&[(Method::Ig, &ig), (Method::Ap, &ap)]),
        Method::Ap,
        10,
    );
    assert_eq!(
        at(&by_ap),
        [(1, 2), (1, 1), (1, 0), (0, 1), (0, 0)],
        "ranked by |AP|: the infinite AP score is left out"
    );
    assert!(
        by_ap[2].score(Method::Ig).is_nan(),
        "IG's NaN at layer 1, component 0 is shown as NaN in an AP ranking"
    );
}

#[test]
fn top_components_with_fewer_values_than_asked_or_none() {
    let ig = grid(2, &[f32::NAN, 3.0, f32::NAN, -4.0]);
    let top = data::top_components(grids(&[(Method::Ig, &ig)]), Method::Ig, 15);
    assert_eq!(
        at(&top),
        [(1, 1), (0, 1)],
        "only the 2 finite values are ranked when 15 are asked for"
    );
    assert!(
        top.iter().all(|r| r.score(Method::Ap).is_nan()),
        "AP's scores are NaN when AP has no grid"
    );
    assert!(
        data::top_components(grids(&[(Method::Ig, &ig)]), Method::Ap, 15).is_empty(),
        "no ranking by a method without a grid"
    );
    assert!(
        data::top_components(grids(&[]), Method::Ig, 15).is_empty(),
        "no ranking without grids"
    );
    let empty = grid(3, &[]);
    assert!(
        data::top_components(
            grids(&[(Method::Ig, &empty), (Method::Ap, &empty)]),
            Method::Ig,
            15
        )
        .is_empty(),
        "no ranking of an empty grid"
    );
    assert!(
        data::top_components(grids(&[(Method::Ig, &ig)]), Method::Ig, 0).is_empty(),
        "n = 0 ranks nothing"
    );
}

#[test]
fn mean_sd_is_the_population_sd_of_the_finite_values() {
    let (m, sd) = data::mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
    assert!(
        (m - 5.0).abs() < 1e-12 && (sd - 2.0).abs() < 1e-12,
        "mean 5 and population SD 2, got {m} ± {sd}"
    );
    let (m, sd) = data::mean_sd(&[1.0, f32::NAN, 3.0, f32::INFINITY, f32::NEG_INFINITY]).unwrap();
    assert!(
        (m - 2.0).abs() < 1e-12 && (sd - 1.0).abs() < 1e-12,
        "NaN and infinities are skipped: 2 ± 1, got {m} ± {sd}"
    );
    assert_eq!(
        data::mean_sd(&[-1.5]),
        Some((-1.5, 0.0)),
        "one value: itself, SD 0"
    );
    assert_eq!(data::mean_sd(&[]), None, "no values: none");
    assert_eq!(
        data::mean_sd(&[f32::NAN, f32::INFINITY]),
        None,
        "no finite values: none"
    );
}

#[test]
fn convergence_mean_sd_is_over_the_absolute_deltas() {
    let ig = MethodScores {
        convergence_delta_heads: Some(vec![vec![-1.0, 3.0], vec![f32::NAN, -2.0]]),
        convergence_delta_neurons: Some(vec![vec![f32::NAN]]),
        ..MethodScores::default()
    };
    let (m, sd) = data::convergence_mean_sd(&ig, Kind::Heads).unwrap();
    let want_sd = (2.0f64 / 3.0).sqrt();
    assert!(
        (m - 2.0).abs() < 1e-12 && (sd - want_sd).abs() < 1e-12,
        "|−1|, |3|, |−2| (NaN skipped): 2 ± {want_sd}, got {m} ± {sd}"
    );
    assert_eq!(
        data::convergence_mean_sd(&ig, Kind::Neurons),
        None,
        "no finite neuron delta"
    );
}

#[test]
fn the_selected_components_points_follow_their_pairs() {
    let pairs = [
        (1.0, 2.0, 0, 4),
        (-1.0, 0.5, 0, 5),
        (3.0, 4.0, 1, 4),
        (0.0, 0.0, 1, 6),
    ];
    let xy = data::xy(&pairs);
    assert_eq!(xy, [(1.0, 2.0), (-1.0, 0.5), (3.0, 4.0), (0.0, 0.0)]);
    assert_eq!(
        data::of_component(&pairs, &xy, 4),
        [(1.0, 2.0), (3.0, 4.0)],
        "component 4's points in both prompts"
    );
    let md = [(0.1, 0.2), (0.3, 0.4), (0.5, 0.6), (0.7, 0.8)];
    assert_eq!(
        data::of_component(&pairs, &md, 6),
        [(0.7, 0.8)],
        "the mean-difference point of component 6's pair"
    );
    assert!(data::of_component(&pairs, &xy, 9).is_empty());
    assert!(data::of_component(&[], &[], 0).is_empty());
}

#[test]
fn nearest_point_is_found_within_six_pixels() {
    // 100 × 100 pixels showing data 0..10 × 0..10 (y grows upwards).
    let area = PlotArea {
        x_px: (0, 100),
        y_px: (0, 100),
        x_range: (0.0, 10.0),
        y_range: (0.0, 10.0),
    };
    // Pixel (50, 50) is data (5, 5); 0.1 in data is 1 pixel.
    let pts = [(5.7, 5.0), (5.0, 5.4), (1.0, 1.0)];
    assert_eq!(
        area.nearest(pts, 50.0, 50.0),
        Some(1),
        "the point 4 pixels away, not the one 7 away"
    );
    assert_eq!(
        area.nearest([(5.7, 5.0)], 50.0, 50.0),
        None,
        "7 pixels is too far"
    );
    assert_eq!(
        area.nearest(pts, 10.0, 90.0),
        Some(2),
        "pixel (10, 90) is data (1, 1)"
    );
    assert_eq!(
        area.nearest(pts, 150.0, 50.0),
        None,
        "outside the plot area"
    );
    assert_eq!(area.nearest([], 50.0, 50.0), None, "no points");
}

#[test]
fn comparison_is_the_kinds_statistics() {
    let scores = |k: f32| MethodScores {
        heads: vec![vec![vec![k, -2.0 * k, 0.5]]],
        neurons: vec![vec![vec![1.0, k, 3.0, -k]]],
        ..MethodScores::default()
    };
    let mut r = common::results_with(
        vec![1.0],
        vec![0.0],
        vec![(Method::Ig, scores(1.0)), (Method::Ap, scores(2.0))],
    );
    assert!(
        data::comparison(&r, common::ig_ap(), Kind::Heads).is_none(),
        "no statistics, no comparison"
    );
    r.stats = statistics(&r, 0.9);
    let s = r.stats.clone().unwrap();
    assert_eq!(
        data::comparison(&r, common::ig_ap(), Kind::Heads),
        Some(&s.heads)
    );
    assert_eq!(
        data::comparison(&r, common::ig_ap(), Kind::Neurons),
        Some(&s.neurons)
    );
}

/// The pair selector's data come from `stats_pairs` (a file from before AtP has only
/// IG–AP's, as `stats`); the Positions tab's grid is one prompt's heads × tokens.
#[test]
fn pairs_of_methods_and_position_grids() {
    let scores = |k: f32| MethodScores {
        heads: vec![vec![vec![k, -2.0 * k, 0.5]]],
        neurons: vec![vec![vec![1.0, k, 3.0, -k]]],
        heads_pos: Some(vec![vec![vec![
            vec![0.0, k, 0.0],
            vec![0.0, -2.0 * k, 0.0],
            vec![0.5, 0.0, 0.0],
        ]]]),
        ..MethodScores::default()
    };
    let mut r = common::results_with(
        vec![1.0],
        vec![0.0],
        vec![(Method::Ap, scores(2.0)), (Method::Atp, scores(-1.0))],
    );
    let atp_ap = MethodPair::of(Method::Atp, Method::Ap).unwrap();
    assert!(data::comparison(&r, atp_ap, Kind::Heads).is_none());
    r.stats_pairs = gradpatch_study::pair_statistics(&r, 0.9);
    let s = r.stats_pairs.clone().unwrap();
    assert_eq!(s.iter().count(), 1, "IG did not run: only AtP–AP");
    assert_eq!(
        data::comparison(&r, atp_ap, Kind::Heads),
        s.get(atp_ap).map(|s| &s.heads)
    );
    let points = data::pairs(&r, atp_ap, Kind::Heads, None);
    assert_eq!(
        points,
        [(-1.0, 2.0, 0, 0), (2.0, -4.0, 0, 1), (0.5, 0.5, 0, 2)],
        "(AtP, AP) of each head"
    );
    assert!(data::pairs(&r, common::ig_ap(), Kind::Heads, None).is_empty());
    let g = data::positions_grid(&r, Method::Atp, 0).unwrap();
    assert_eq!((g.rows, g.cols), (3, 3), "3 heads × 3 tokens");
    assert_eq!(g.get(1, 1), 2.0, "head 1 at token 1");
    assert!(
        data::positions_grid(&r, Method::Atp, 1).is_none(),
        "no prompt 1"
    );
    assert!(
        data::positions_grid(&r, Method::Ig, 0).is_none(),
        "IG did not run"
    );
}
