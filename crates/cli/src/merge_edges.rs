//! `merge` of the parts' edge scores: each prompt's lists and curves in prompt order, every
//! edge's mean over prompts as the prompt-weighted mean of the parts' means (equal to one run's
//! up to f32 rounding).

use std::path::PathBuf;

use gradpatch_study::Results;
use gradpatch_study::edges::{EdgeCurves, EdgeResults, EdgeScores, ExactEdges};
use gradpatch_study::faithfulness::Band;

use crate::merge::gather;
use crate::shard::Part;

fn e(r: &Results) -> Option<&EdgeResults> {
    r.edges.as_ref()
}

fn exact(r: &Results) -> Option<&ExactEdges> {
    e(r)?.exact.as_ref()
}

fn curves(r: &Results) -> Option<&EdgeCurves> {
    e(r)?.faithfulness.as_ref()
}

/// The weighted mean of the parts' mean scores of `method`.
fn mean(parts: &[(PathBuf, Part)], method: gradpatch_terms::Method, n: usize) -> (Vec<f32>, usize) {
    let mut sum = vec![0.0f64; n];
    let mut prompts = 0;
    for s in parts
        .iter()
        .filter_map(|(_, p)| e(&p.results)?.scores.get(&method))
    {
        if s.prompts == 0 || s.mean.len() != n {
            continue;
        }
        for (acc, &m) in sum.iter_mut().zip(&s.mean) {
            *acc += f64::from(m) * s.prompts as f64;
        }
        prompts += s.prompts;
    }
    let mean = sum
        .iter()
        .map(|&s| (s / prompts.max(1) as f64) as f32)
        .collect();
    (mean, prompts)
}

/// The edge scores of the whole run, when the parts have them; `None` when they do not line up
/// with their prompts.
pub fn merged_edges(parts: &[(PathBuf, Part)], order: &[(usize, usize)]) -> Option<EdgeResults> {
    let first = e(&parts[0].1.results)?;
    let mut merged = first.clone();
    for (&m, scores) in merged.scores.iter_mut() {
        let (mean, prompts) = mean(parts, m, first.n_edges);
        *scores = EdgeScores {
            mean,
            prompts,
            top: gather(parts, order, |r| e(r)?.scores.get(&m).map(|s| &s.top))?,
        };
    }
    if let Some(x) = first.exact.as_ref() {
        let mut found = x.found.clone();
        for (m, rows) in found.iter_mut() {
            *rows = gather(parts, order, |r| exact(r)?.found.get(m))?;
        }
        merged.exact = Some(ExactEdges {
            prompts: gather(parts, order, |r| exact(r).map(|x| &x.prompts))?,
            found,
            ..x.clone()
        });
    }
    if let Some(f) = first.faithfulness.as_ref() {
        let mut methods = f.methods.clone();
        for (m, rows) in methods.iter_mut() {
            *rows = gather(parts, order, |r| curves(r)?.methods.get(m))?;
        }
        let random = Band {
            mean: gather(parts, order, |r| curves(r).map(|c| &c.random.mean))?,
            p05: gather(parts, order, |r| curves(r).map(|c| &c.random.p05))?,
            p95: gather(parts, order, |r| curves(r).map(|c| &c.random.p95))?,
        };
        merged.faithfulness = Some(EdgeCurves {
            methods,
            random,
            ..f.clone()
        });
    }
    Some(merged)
}
