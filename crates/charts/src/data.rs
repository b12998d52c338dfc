//! What each chart shows, taken from a study's [`Results`]: grids of one prompt or the mean over
//! prompts, the point pairs of two methods, highlighted sets, the top-components ranking, the
//! position grids and the summary's means. No drawing here.

use gradpatch_stats::Comparison;
use gradpatch_study::{MethodScores, Results};
/// Heads or neurons (the charts' name for them).
pub use gradpatch_terms::ComponentKind as Kind;
pub use gradpatch_terms::{Method, MethodPair};

/// A `[rows × cols]` grid, row-major (rows = layers).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

impl Grid {
    pub fn get(&self, row: usize, col: usize) -> f32 {
        self.values
            .get(row * self.cols + col)
            .copied()
            .unwrap_or(f32::NAN)
    }

    /// Largest finite |value| (0 when there is none): the colour scale's half-range.
    pub fn max_abs(&self) -> f32 {
        self.values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0, |m, v| m.max(v.abs()))
    }
}

/// `[P][L][C]` scores of one method and kind, when that method ran.
pub fn scores(results: &Results, method: Method, kind: Kind) -> Option<&[Vec<Vec<f32>>]> {
    Some(results.scores(method)?.of(kind))
}

/// One prompt's grid, or (prompt `None`) the mean over prompts of each cell's finite values.
pub fn grid(results: &Results, method: Method, kind: Kind, prompt: Option<usize>) -> Option<Grid> {
    let s = scores(results, method, kind)?;
    let first = s.first()?;
    let (rows, cols) = (first.len(), first.first().map_or(0, Vec::len));
    let values = match prompt {
        Some(p) => s.get(p)?.concat(),
        None => (0..rows * cols)
            .map(|i| {
                let (sum, n) = s
                    .iter()
                    .map(|p| p[i / cols][i % cols])
                    .filter(|v| v.is_finite())
                    .fold((0.0f64, 0usize), |(s, n), v| (s + f64::from(v), n + 1));
                if n == 0 {
                    f32::NAN
                } else {
                    (sum / n as f64) as f32
                }
            })
            .collect(),
    };
    Some(Grid { rows, cols, values })
}

/// The statistics of one pair of methods and one kind, present when both methods ran (files from
/// before AtP have only IG–AP's, as `stats`).
pub fn comparison(results: &Results, pair: MethodPair, kind: Kind) -> Option<&Comparison> {
    let stats = match &results.stats_pairs {
        Some(pairs) => pairs.get(pair)?,
        None if pair == MethodPair::first_of_all() => results.stats.as_ref()?,
        None => return None,
    };
    Some(match kind {
        Kind::Heads => &stats.heads,
        Kind::Neurons => &stats.neurons,
    })
}

/// A point of a pair's charts: `(first method's score, second's, prompt, flat index)`, the flat
/// index being `layer · columns + component` (see [`pairs`]).
pub type Point = (f32, f32, usize, usize);

/// The two methods' scores of every component, for one prompt or all prompts pooled; each point
/// is `(first, second, prompt, flat index)`. Pairs with a non-finite score are left out.
pub fn pairs(results: &Results, pair: MethodPair, kind: Kind, prompt: Option<usize>) -> Vec<Point> {
    let (a, b) = pair.methods();
    let (Some(ig), Some(ap)) = (scores(results, a, kind), scores(results, b, kind)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (p, (gi, ga)) in ig.iter().zip(ap).enumerate() {
        if prompt.is_some_and(|q| q != p) {
            continue;
        }
        for (i, (a, b)) in gi.iter().flatten().zip(ga.iter().flatten()).enumerate() {
            if a.is_finite() && b.is_finite() {
                out.push((*a, *b, p, i));
            }
        }
    }
    out
}

/// Pearson r and the least-squares line `second = slope · first + intercept` of a point set.
pub fn fit(points: &[Point]) -> (f64, f64, f64) {
    let xs: Vec<f32> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f32> = points.iter().map(|p| p.1).collect();
    let r = gradpatch_stats::pearson(&xs, &ys);
    let n = xs.len() as f64;
    let mx = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let my = ys.iter().map(|&y| f64::from(y)).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (&x, &y) in xs.iter().zip(&ys) {
        sxy += (f64::from(x) - mx) * (f64::from(y) - my);
        sxx += (f64::from(x) - mx).powi(2);
    }
    let slope = sxy / sxx;
    (r, slope, my - slope * mx)
}

/// Which components each method of `pair` highlights (|score| ≥ its threshold), for one prompt
/// or, with `None`, in any prompt: `(first, second)` masks over `[layers × components]`.
pub fn highlighted(
    results: &Results,
    pair: MethodPair,
    kind: Kind,
    prompt: Option<usize>,
) -> Option<(Grid, Grid)> {
    let c = comparison(results, pair, kind)?;
    let (a, b) = pair.methods();
    let mask = |method: Method, t: f64| -> Option<Grid> {
        let s = scores(results, method, kind)?;
        let first = s.first()?;
        let (rows, cols) = (first.len(), first.first().map_or(0, Vec::len));
        let values = (0..rows * cols)
            .map(|i| {
                let hit = s.iter().enumerate().any(|(p, grid)| {
                    prompt.is_none_or(|q| q == p) && f64::from(grid[i / cols][i % cols].abs()) >= t
                });
                if hit { 1.0 } else { 0.0 }
            })
            .collect();
        Some(Grid { rows, cols, values })
    };
    Some((mask(a, c.threshold_ig)?, mask(b, c.threshold_ap)?))
}

/// Mean-difference points `(mean of the two scaled scores, second − first)` as the statistics
/// define them (each method divided by its max |score| over all prompts).
pub fn mean_difference(results: &Results, pair: MethodPair, kind: Kind) -> Vec<(f64, f64)> {
    let Some(c) = comparison(results, pair, kind) else {
        return Vec::new();
    };
    let scale = |x: f32, m: f64| {
        if m > 0.0 {
            f64::from(x) / m
        } else {
            f64::from(x)
        }
    };
    pairs(results, pair, kind, None)
        .into_iter()
        .map(|(i, a, _, _)| {
            let (si, sa) = (scale(i, c.ig_max_abs), scale(a, c.ap_max_abs));
            ((si + sa) / 2.0, sa - si)
        })
        .collect()
}

/// `(first, second)` of each point, as the scatter plots them.
pub fn xy(pairs: &[Point]) -> Vec<(f64, f64)> {
    pairs
        .iter()
        .map(|p| (f64::from(p.0), f64::from(p.1)))
        .collect()
}

/// The selected component's points: of `points` (one per pair of `pairs`, in the same order:
/// [`xy`] of them, or [`mean_difference`]), those whose pair is the component at `flat`.
pub fn of_component(pairs: &[Point], points: &[(f64, f64)], flat: usize) -> Vec<(f64, f64)> {
    pairs
        .iter()
        .zip(points)
        .filter(|(p, _)| p.3 == flat)
        .map(|(_, q)| *q)
        .collect()
}

/// One row of a top-components table: a component `(row, col)` of the grids (layer, head or
/// neuron) and every method's score there, in [`Method::ALL`]'s order (NaN where a method has no
/// grid or no value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub row: usize,
    pub col: usize,
    pub scores: [f32; Method::COUNT],
}

impl Ranked {
    pub fn score(&self, method: Method) -> f32 {
        self.scores[method_index(method)]
    }
}

/// `method`'s place in [`Method::ALL`] (and in arrays indexed like it).
pub fn method_index(method: Method) -> usize {
    // A fieldless enum's discriminants count from 0 in `ALL`'s order.
    method as usize
}

/// The ranking of a top-components table: the at most `n` components with the largest |score| of
/// method `by`, largest first, ties in row-major order; non-finite scores are left out. Empty
/// when `by` has no grid. `grids` are the methods' grids (of the same shape) in
/// [`Method::ALL`]'s order.
pub fn top_components(grids: [Option<&Grid>; Method::COUNT], by: Method, n: usize) -> Vec<Ranked> {
    let Some(g) = grids[method_index(by)] else {
        return Vec::new();
    };
    let mut idx: Vec<usize> = (0..g.values.len())
        .filter(|&i| g.values[i].is_finite())
        .collect();
    // Stable: equal |scores| keep their row-major order.
    idx.sort_by(|&a, &b| g.values[b].abs().total_cmp(&g.values[a].abs()));
    idx.truncate(n);
    let at = |grid: Option<&Grid>, i: usize| {
        grid.and_then(|g| g.values.get(i))
            .copied()
            .unwrap_or(f32::NAN)
    };
    let cols = g.cols.max(1);
    idx.into_iter()
        .map(|i| Ranked {
            row: i / cols,
            col: i % cols,
            scores: grids.map(|grid| at(grid, i)),
        })
        .collect()
}

/// One prompt's head scores of `method` at each position: rows = layer · heads + head, columns
/// = the prompt's tokens. `None` when the method has no per-position scores for it.
pub fn positions_grid(results: &Results, method: Method, prompt: usize) -> Option<Grid> {
    let layers = results.heads_pos(method)?.get(prompt)?;
    let cols = layers.first()?.first()?.len();
    let values: Vec<f32> = layers.iter().flatten().flatten().copied().collect();
    Some(Grid {
        rows: values.len() / cols.max(1),
        cols,
        values,
    })
}

/// Mean and population standard deviation (divided by n) of the finite values of `xs`,
/// accumulated in f64; `None` when there is no finite value.
pub fn mean_sd(xs: &[f32]) -> Option<(f64, f64)> {
    let v: Vec<f64> = xs
        .iter()
        .filter(|x| x.is_finite())
        .map(|&x| f64::from(x))
        .collect();
    if v.is_empty() {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    Some((m, sd))
}

/// [`mean_sd`] of a method's convergence |delta| of one kind (one per prompt and layer), over
/// all prompts and layers; `None` for a method without them.
pub fn convergence_mean_sd(scores: &MethodScores, kind: Kind) -> Option<(f64, f64)> {
    let delta = match kind {
        Kind::Heads => scores.convergence_delta_heads.as_ref()?,
        Kind::Neurons => scores.convergence_delta_neurons.as_ref()?,
    };
    let abs: Vec<f32> = delta.iter().flatten().map(|x| x.abs()).collect();
    mean_sd(&abs)
}
