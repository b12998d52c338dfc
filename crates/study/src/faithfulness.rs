//! Faithfulness curves in `results.json`: for each method, the faithfulness of its top-k heads
//! and top-k neurons (the rest noised with the corrupted run) as k grows, per prompt; and the
//! same for seeded random rankings (their mean and 5–95% band). Plus what the summary reads off
//! a curve: its area, the smallest k reaching a level, its value at a given size.

use std::collections::BTreeMap;

pub use gradpatch_stats::ranking;
use gradpatch_terms::{ComponentKind, Method, Ranking};
use serde::{Deserialize, Serialize};

/// The curves of one comparison (`results.json`'s `faithfulness`: `ranking`, `k`, `random`, and
/// one field per method, `{"heads": [P][K], "neurons": [P][K]}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Faithfulness {
    /// How the components were ranked.
    pub ranking: Ranking,
    /// The set sizes (components kept) of the methods' curves.
    pub k: Sizes,
    /// The random rankings' curves.
    pub random: RandomCurves,
    /// Each method's curves, `[P][K]`.
    #[serde(flatten)]
    pub methods: BTreeMap<Method, MethodCurves>,
}

/// Set sizes of heads and of neurons.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    pub heads: Vec<usize>,
    pub neurons: Vec<usize>,
}

impl Sizes {
    pub fn of(&self, kind: ComponentKind) -> &[usize] {
        match kind {
            ComponentKind::Heads => &self.heads,
            ComponentKind::Neurons => &self.neurons,
        }
    }
}

/// One method's curves, `[P][K]` (NaN where a cancelled run did not reach).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodCurves {
    #[serde(deserialize_with = "crate::nullable::read")]
    pub heads: Vec<Vec<f32>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub neurons: Vec<Vec<f32>>,
}

impl MethodCurves {
    pub fn of(&self, kind: ComponentKind) -> &[Vec<f32>] {
        match kind {
            ComponentKind::Heads => &self.heads,
            ComponentKind::Neurons => &self.neurons,
        }
    }
}

/// The curves of the seeded random rankings, summarised per prompt over the rankings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RandomCurves {
    /// How many random rankings.
    pub rankings: usize,
    /// Their set sizes (a coarser grid for heads than the methods').
    pub k: Sizes,
    pub heads: Band,
    pub neurons: Band,
}

impl RandomCurves {
    pub fn of(&self, kind: ComponentKind) -> &Band {
        match kind {
            ComponentKind::Heads => &self.heads,
            ComponentKind::Neurons => &self.neurons,
        }
    }
}

/// Mean and 5% / 95% quantiles over the random rankings, `[P][K]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Band {
    #[serde(deserialize_with = "crate::nullable::read")]
    pub mean: Vec<Vec<f32>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub p05: Vec<Vec<f32>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub p95: Vec<Vec<f32>>,
}

/// What the summary reads off a method's mean curve (over prompts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurveSummary {
    /// The area under the curve over the fraction kept, in [0, 1] for a curve in [0, 1].
    pub area: f64,
    /// The smallest k reaching 80% faithfulness.
    pub k80: Option<usize>,
    /// The number of components the highlight quantile keeps, and the curve's value there.
    pub highlighted: usize,
    pub at_highlighted: f32,
}

impl Faithfulness {
    /// The mean curve of `method`'s `kind` over prompts, with its set sizes.
    pub fn mean(&self, method: Method, kind: ComponentKind) -> Option<(&[usize], Vec<f32>)> {
        let rows = self.methods.get(&method)?.of(kind);
        (!rows.is_empty()).then(|| (self.k.of(kind), mean_curve(rows)))
    }

    /// `method`'s summary for `kind` (`n` components; the highlighted set is the top
    /// `1 − percentile` of them).
    pub fn summary(
        &self,
        method: Method,
        kind: ComponentKind,
        percentile: f64,
    ) -> Option<CurveSummary> {
        let (k, mean) = self.mean(method, kind)?;
        let n = *k.last()?;
        let highlighted = ((1.0 - percentile) * n as f64).ceil() as usize;
        Some(CurveSummary {
            area: area(k, &mean, n),
            k80: first_reaching(k, &mean, 0.8),
            highlighted,
            at_highlighted: value_at(k, &mean, highlighted),
        })
    }
}

/// The quantile `q` of the finite `values` (linear interpolation, as the highlight threshold's);
/// NaN when there is none.
pub fn quantile(values: &[f32], q: f64) -> f32 {
    gradpatch_stats::quantile(values, q) as f32
}

/// The mean of the finite values (NaN when none).
pub fn mean_of(values: &[f32]) -> f32 {
    let (sum, n) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0usize), |(s, n), &v| (s + f64::from(v), n + 1));
    if n == 0 {
        f32::NAN
    } else {
        (sum / n as f64) as f32
    }
}

/// The mean over prompts of each point of `[P][K]` curves (finite values only).
pub fn mean_curve(rows: &[Vec<f32>]) -> Vec<f32> {
    let k = rows.first().map_or(0, Vec::len);
    (0..k)
        .map(|j| {
            let column: Vec<f32> = rows.iter().filter_map(|r| r.get(j)).copied().collect();
            mean_of(&column)
        })
        .collect()
}

/// The area under a curve over the fraction of components kept (k / n from 0 to 1), by the
/// trapezoid rule: 1 for a curve at 1 everywhere. NaN when a point is missing.
pub fn area(k: &[usize], curve: &[f32], n: usize) -> f64 {
    let n = n.max(1) as f64;
    k.windows(2)
        .zip(curve.windows(2))
        .map(|(k, f)| (k[1] - k[0]) as f64 / n * (f64::from(f[0]) + f64::from(f[1])) / 2.0)
        .sum()
}

/// The smallest k whose faithfulness reaches `level`, if any.
pub fn first_reaching(k: &[usize], curve: &[f32], level: f32) -> Option<usize> {
    k.iter()
        .zip(curve)
        .find(|(_, f)| **f >= level)
        .map(|(k, _)| *k)
}

/// The curve's value at `size` components, interpolated linearly between its points.
pub fn value_at(k: &[usize], curve: &[f32], size: usize) -> f32 {
    let Some(j) = k.iter().position(|&x| x >= size) else {
        return f32::NAN;
    };
    if k[j] == size || j == 0 {
        return curve[j];
    }
    let t = (size - k[j - 1]) as f32 / (k[j] - k[j - 1]) as f32;
    curve[j - 1] + t * (curve[j] - curve[j - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_areas_and_crossings_by_hand() {
        let v = [1.0, 3.0, 2.0, f32::NAN, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert!((quantile(&v, 0.05) - 1.15).abs() < 1e-6);
        assert!(quantile(&[f32::NAN], 0.5).is_nan());
        // A curve 0, 0.5, 1 at k = 0, 1, 2 of 2: area 0.5; at 1 everywhere: 1.
        assert!((area(&[0, 1, 2], &[0.0, 0.5, 1.0], 2) - 0.5).abs() < 1e-12);
        assert!((area(&[0, 2], &[1.0, 1.0], 2) - 1.0).abs() < 1e-12);
        assert_eq!(
            first_reaching(&[0, 1, 2, 4], &[0.0, 0.5, 0.9, 1.0], 0.8),
            Some(2)
        );
        assert_eq!(first_reaching(&[0, 1], &[0.0, 0.5], 0.8), None);
        assert!((value_at(&[0, 2, 4], &[0.0, 0.4, 1.0], 3) - 0.7).abs() < 1e-6);
        assert_eq!(value_at(&[0, 2, 4], &[0.0, 0.4, 1.0], 2), 0.4);
        assert_eq!(
            mean_curve(&[vec![0.0, 1.0], vec![f32::NAN, 0.5]]),
            [0.0, 0.75]
        );
    }
}
