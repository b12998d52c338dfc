//! `merge` of the parts' edge scores, part by part: each prompt's lists and curves in prompt
//! order, every edge's mean over prompts as the prompt-weighted mean of the parts' means (equal
//! to one run's up to f32 rounding).

use std::collections::BTreeMap;

use gradpatch_study::edges::{EdgeCurves, EdgeList, EdgeResults, EdgeScores, ExactEdges};
use gradpatch_study::faithfulness::Band;
use gradpatch_terms::Method;

use crate::merge_rows::Rows;

/// One edge method's running sums and rows.
struct ScoreRows {
    sum: Vec<f64>,
    prompts: usize,
    top: Rows<EdgeList>,
}

/// Each prompt's exact scores, and each method's found-of-top counts.
type ExactRows = (Rows<EdgeList>, BTreeMap<Method, Rows<usize>>);
/// Each method's curve rows, and the random band's mean, 5% and 95% rows.
type CurveRows = (BTreeMap<Method, Rows<Vec<f32>>>, [Rows<Vec<f32>>; 3]);

/// The edge results' rows; the graph, the exact patching's ranking and the curves' grids are
/// the first part's (every part's: their configurations are equal).
pub struct EdgeRows {
    shape: EdgeResults,
    scores: BTreeMap<Method, ScoreRows>,
    exact: Option<ExactRows>,
    curves: Option<CurveRows>,
}

impl EdgeRows {
    pub fn new(first: &EdgeResults) -> EdgeRows {
        // Built field by field: none of the first part's rows is copied.
        let shape = EdgeResults {
            layers: first.layers,
            heads: first.heads,
            n_edges: first.n_edges,
            scores: BTreeMap::new(),
            exact: first.exact.as_ref().map(|x| ExactEdges {
                ranked_by: x.ranked_by,
                n: x.n,
                prompts: Vec::new(),
                found_n: x.found_n,
                found: BTreeMap::new(),
            }),
            faithfulness: first.faithfulness.as_ref().map(|f| EdgeCurves {
                ranking: f.ranking,
                k: f.k.clone(),
                methods: BTreeMap::new(),
                random_rankings: f.random_rankings,
                random_k: f.random_k.clone(),
                random: Band::default(),
            }),
        };
        EdgeRows {
            scores: first
                .scores
                .keys()
                .map(|&m| {
                    let rows = ScoreRows {
                        sum: vec![0.0; first.n_edges],
                        prompts: 0,
                        top: Rows::default(),
                    };
                    (m, rows)
                })
                .collect(),
            exact: first.exact.as_ref().map(|x| {
                let found = x.found.keys().map(|&m| (m, Rows::default())).collect();
                (Rows::default(), found)
            }),
            curves: first.faithfulness.as_ref().map(|f| {
                let methods = f.methods.keys().map(|&m| (m, Rows::default())).collect();
                (methods, Default::default())
            }),
            shape,
        }
    }

    pub fn add(&mut self, indices: &[usize], part: Option<EdgeResults>) {
        let Some(mut part) = part else {
            self.lack(indices);
            return;
        };
        for (m, rows) in self.scores.iter_mut() {
            let s = part.scores.remove(m);
            if let Some(s) = &s
                && s.prompts > 0
                && s.mean.len() == rows.sum.len()
            {
                for (acc, &x) in rows.sum.iter_mut().zip(&s.mean) {
                    *acc += f64::from(x) * s.prompts as f64;
                }
                rows.prompts += s.prompts;
            }
            rows.top.put(indices, s.map(|s| s.top));
        }
        if let Some((prompts, found)) = self.exact.as_mut() {
            let mut x = part.exact.take();
            prompts.put(indices, x.as_mut().map(|x| std::mem::take(&mut x.prompts)));
            for (m, rows) in found.iter_mut() {
                rows.put(indices, x.as_mut().and_then(|x| x.found.remove(m)));
            }
        }
        if let Some((methods, random)) = self.curves.as_mut() {
            let mut c = part.faithfulness.take();
            for (m, rows) in methods.iter_mut() {
                rows.put(indices, c.as_mut().and_then(|c| c.methods.remove(m)));
            }
            let band = c.map(|c| c.random);
            let [mean, p05, p95] = random;
            let (a, b, d) = match band {
                Some(b) => (Some(b.mean), Some(b.p05), Some(b.p95)),
                None => (None, None, None),
            };
            mean.put(indices, a);
            p05.put(indices, b);
            p95.put(indices, d);
        }
    }

    /// A part without edge results: every row it should have given is missing.
    fn lack(&mut self, indices: &[usize]) {
        for rows in self.scores.values_mut() {
            rows.top.put(indices, None);
        }
        if let Some((prompts, found)) = self.exact.as_mut() {
            prompts.put(indices, None);
            for rows in found.values_mut() {
                rows.put(indices, None);
            }
        }
        if let Some((methods, random)) = self.curves.as_mut() {
            for rows in methods.values_mut().chain(random.iter_mut()) {
                rows.put(indices, None);
            }
        }
    }

    pub fn finish(self, n: usize) -> Option<EdgeResults> {
        let mut merged = self.shape;
        for (m, rows) in self.scores {
            let mean = rows
                .sum
                .iter()
                .map(|&s| (s / rows.prompts.max(1) as f64) as f32)
                .collect();
            let scores = EdgeScores {
                mean,
                prompts: rows.prompts,
                top: rows.top.finish(n)?,
            };
            merged.scores.insert(m, scores);
        }
        if let (Some(x), Some((prompts, found))) = (merged.exact.as_mut(), self.exact) {
            x.prompts = prompts.finish(n)?;
            for (m, rows) in found {
                x.found.insert(m, rows.finish(n)?);
            }
        }
        if let (Some(c), Some((methods, [mean, p05, p95]))) =
            (merged.faithfulness.as_mut(), self.curves)
        {
            for (m, rows) in methods {
                c.methods.insert(m, rows.finish(n)?);
            }
            c.random = Band {
                mean: mean.finish(n)?,
                p05: p05.finish(n)?,
                p95: p95.finish(n)?,
            };
        }
        Some(merged)
    }
}
