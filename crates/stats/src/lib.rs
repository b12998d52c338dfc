//! Comparison statistics of two score tensors `[prompts][layers × components]` (IG and AP), with
//! the reference study's definitions (seed `testing.py` / `plotting.py`, notebook 0):
//!
//! * Pearson correlation per prompt over the flattened scores, pairs with a non-finite value
//!   left out (`numpy.ma.corrcoef` after `masked_invalid`), then mean and population std;
//! * highlighted components: |score| ≥ the `percentile` quantile (linear interpolation) of all
//!   prompts' |scores| pooled, per method;
//! * Jaccard overlap of the two highlighted sets per prompt (empty union = 1) and its mean;
//! * mean-difference (Bland–Altman) data: each method divided by its max |score| (MaxAbsScaler),
//!   x = mean of the two, y = AP − IG; mean, population sd, mean ± 1.96 sd, regression of y on x.
//!
//! Non-finite scores (a cancelled run's gaps) are left out of every statistic.

use serde::{Deserialize, Serialize};

pub mod retrieval;
pub use retrieval::{precision_recall_at, roc_auc};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    #[serde(deserialize_with = "f64s_or_nan")]
    pub pearson_per_prompt: Vec<f64>,
    #[serde(deserialize_with = "f64_or_nan")]
    pub pearson_mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub pearson_std: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub threshold_ig: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub threshold_ap: f64,
    /// `[prompts][layers × components]`; not serialised (|score| ≥ threshold gives them back).
    #[serde(skip)]
    pub highlighted_ig: Vec<Vec<bool>>,
    #[serde(skip)]
    pub highlighted_ap: Vec<Vec<bool>>,
    #[serde(deserialize_with = "f64s_or_nan")]
    pub jaccard_per_prompt: Vec<f64>,
    #[serde(deserialize_with = "f64_or_nan")]
    pub jaccard_mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean_difference: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub sd_difference: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub upper_loa: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub lower_loa: f64,
    /// Regression of y = AP − IG on x = their mean (scaled scores).
    #[serde(deserialize_with = "f64_or_nan")]
    pub regression_slope: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub regression_intercept: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ig_max_abs: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ap_max_abs: f64,
    /// Mean and population std of each method's raw scores.
    #[serde(deserialize_with = "f64_or_nan")]
    pub ig_mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ig_std: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ap_mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ap_std: f64,
}

/// A statistic that could not be computed is written as `null` (serde_json's NaN) and read back
/// as NaN.
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn f64s_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(|x| x.unwrap_or(f64::NAN))
        .collect())
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

fn std_pop(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64).sqrt()
}

fn finite(xs: impl IntoIterator<Item = f64>) -> Vec<f64> {
    xs.into_iter().filter(|x| x.is_finite()).collect()
}

/// Pearson correlation over the pairs where both values are finite (f64).
pub fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x), f64::from(y)))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pairs.len() < 2 {
        return f64::NAN;
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}

/// `torch.quantile(x, q)` (linear interpolation) of the finite values, in float32 like the
/// reference.
pub fn quantile(values: &[f32], q: f64) -> f64 {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f32::total_cmp);
    // torch.quantile: rank and weight in the input dtype, then torch.lerp.
    let rank = (q.clamp(0.0, 1.0) as f32) * (v.len() - 1) as f32;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let w = rank - lo as f32;
    let (a, b) = (v[lo], v[hi.min(v.len() - 1)]);
    let x = if w < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    };
    f64::from(x)
}

/// The components `scores` ranks first: by |score| (or by score, `signed`), largest first, ties
/// to the lower index, non-finite scores last (in index order).
pub fn ranking(scores: &[f32], signed: bool) -> Vec<usize> {
    let key = |i: usize| {
        let s = scores[i];
        if !s.is_finite() {
            f32::NEG_INFINITY
        } else if signed {
            s
        } else {
            s.abs()
        }
    };
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Stable: equal keys keep their index order.
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    order
}

/// |A ∩ B| / |A ∪ B|, 1 for an empty union.
pub fn jaccard(a: &[bool], b: &[bool]) -> f64 {
    let inter = a.iter().zip(b).filter(|(x, y)| **x && **y).count();
    let union = a.iter().zip(b).filter(|(x, y)| **x || **y).count();
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// All statistics of IG vs AP scores (`[prompts][layers × components]`, same shapes).
pub fn compare(ig: &[Vec<f32>], ap: &[Vec<f32>], percentile: f64) -> Comparison {
    let pearson_per_prompt: Vec<f64> = ig.iter().zip(ap).map(|(a, b)| pearson(a, b)).collect();
    let valid = finite(pearson_per_prompt.iter().copied());
    let abs = |s: &[Vec<f32>]| -> Vec<f32> { s.iter().flatten().map(|x| x.abs()).collect() };
    let threshold_ig = quantile(&abs(ig), percentile);
    let threshold_ap = quantile(&abs(ap), percentile);
    let highlight = |s: &[Vec<f32>], t: f64| -> Vec<Vec<bool>> {
        s.iter()
            .map(|p| p.iter().map(|x| f64::from(x.abs()) >= t).collect())
            .collect()
    };
    let highlighted_ig = highlight(ig, threshold_ig);
    let highlighted_ap = highlight(ap, threshold_ap);
    let jaccard_per_prompt: Vec<f64> = highlighted_ig
        .iter()
        .zip(&highlighted_ap)
        .map(|(a, b)| jaccard(a, b))
        .collect();

    // Mean-difference data on the pairs where both scores are finite.
    let flat_ig: Vec<f32> = ig.iter().flatten().copied().collect();
    let flat_ap: Vec<f32> = ap.iter().flatten().copied().collect();
    let max_abs = |v: &[f32]| {
        v.iter()
            .filter(|x| x.is_finite())
            .fold(0.0f32, |m, x| m.max(x.abs()))
    };
    let (mi, ma) = (max_abs(&flat_ig), max_abs(&flat_ap));
    let scale = |x: f32, m: f32| if m > 0.0 { x / m } else { x };
    let (xs, ys): (Vec<f64>, Vec<f64>) = flat_ig
        .iter()
        .zip(&flat_ap)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&i, &a)| {
            let (si, sa) = (scale(i, mi), scale(a, ma));
            (f64::from((si + sa) / 2.0), f64::from(sa - si))
        })
        .unzip();
    let (md, sd) = (mean(&ys), std_pop(&ys));
    let (mx, vx) = (mean(&xs), std_pop(&xs).powi(2));
    let cov = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (x - mx) * (y - md))
        .sum::<f64>()
        / xs.len() as f64;
    let slope = cov / vx;
    let ig_f = finite(flat_ig.iter().map(|&x| f64::from(x)));
    let ap_f = finite(flat_ap.iter().map(|&x| f64::from(x)));
    Comparison {
        pearson_mean: mean(&valid),
        pearson_std: std_pop(&valid),
        pearson_per_prompt,
        threshold_ig,
        threshold_ap,
        jaccard_mean: mean(&jaccard_per_prompt),
        jaccard_per_prompt,
        highlighted_ig,
        highlighted_ap,
        mean_difference: md,
        sd_difference: sd,
        upper_loa: md + 1.96 * sd,
        lower_loa: md - 1.96 * sd,
        regression_slope: slope,
        regression_intercept: md - slope * mx,
        ig_max_abs: f64::from(mi),
        ap_max_abs: f64::from(ma),
        ig_mean: mean(&ig_f),
        ig_std: std_pop(&ig_f),
        ap_mean: mean(&ap_f),
        ap_std: std_pop(&ap_f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rankings_put_the_largest_first_ties_by_index_and_gaps_last() {
        let s = [0.5, -2.0, f32::NAN, 2.0, -0.5];
        assert_eq!(ranking(&s, false), [1, 3, 0, 4, 2]);
        assert_eq!(ranking(&s, true), [3, 0, 4, 1, 2]);
    }
}
