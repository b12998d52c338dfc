//! Edge scores in `results.json` (`edges`): each edge method's mean score of every edge over the
//! prompts and each prompt's top edges by |score|, exact patching of each prompt's top edges
//! with how many of them each estimate found, and the edge faithfulness curves.

use std::collections::BTreeMap;

use gradpatch_terms::{EdgeGraph, Method, Ranking};
use serde::{Deserialize, Serialize};

use crate::faithfulness::{Band, ranking};

/// Edges kept per prompt and method (by |score|).
pub const TOP_EDGES: usize = 1000;

/// The edge scores of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeResults {
    /// The graph is `EdgeGraph::new(layers, heads)`; `n_edges` its number of edges.
    pub layers: usize,
    pub heads: usize,
    pub n_edges: usize,
    /// Each edge method's scores.
    pub scores: BTreeMap<Method, EdgeScores>,
    /// Exact patching of each prompt's top edges, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<ExactEdges>,
    /// The edge faithfulness curves, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faithfulness: Option<EdgeCurves>,
}

/// One edge method's scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeScores {
    /// Every edge's mean score over the prompts it finished, in the graph's order.
    #[serde(deserialize_with = "crate::nullable::read")]
    pub mean: Vec<f32>,
    /// How many prompts the mean is over.
    pub prompts: usize,
    /// Per prompt, its [`TOP_EDGES`] edges with the largest |score|, largest first.
    pub top: Vec<EdgeList>,
}

/// Some edges of one prompt (indices into the graph's edges) and a score of each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeList {
    pub edges: Vec<u32>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub scores: Vec<f32>,
}

impl EdgeList {
    /// The `n` edges of `scores` (every edge) with the largest |score|, largest first (ties to
    /// the lower index).
    pub fn top_of(scores: &[f32], n: usize) -> EdgeList {
        let order = ranking(scores, false);
        let edges: Vec<u32> = order.iter().take(n).map(|&e| e as u32).collect();
        let scores = edges.iter().map(|&e| scores[e as usize]).collect();
        EdgeList { edges, scores }
    }

    pub fn indices(&self) -> Vec<usize> {
        self.edges.iter().map(|&e| e as usize).collect()
    }
}

/// Exact edge patching of each prompt's top `n` edges by |score| of `ranked_by`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExactEdges {
    pub ranked_by: Method,
    pub n: usize,
    /// Per prompt, the edges patched (in `ranked_by`'s order) and their exact scores.
    pub prompts: Vec<EdgeList>,
    /// `found_n` = n / 4 (at most [`TOP_EDGES`]): of the `found_n` largest |exact| among the
    /// patched edges, how many each method's top `found_n` holds, per prompt.
    pub found_n: usize,
    pub found: BTreeMap<Method, Vec<usize>>,
}

impl ExactEdges {
    /// How many of exact patching's top edges a method's ranking finds (`found_n` of them).
    pub fn found_n_of(n: usize) -> usize {
        (n / 4).clamp(1, TOP_EDGES)
    }

    /// The sum over prompts of `method`'s found edges, and of the possible.
    pub fn found_total(&self, method: Method) -> Option<(usize, usize)> {
        let found = self.found.get(&method)?;
        let possible = self
            .prompts
            .iter()
            .take(found.len())
            .map(|p| self.found_n.min(p.edges.len()))
            .sum();
        Some((found.iter().sum(), possible))
    }
}

/// Edge faithfulness curves: each edge method's top-k edges kept (the rest noised), per prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeCurves {
    pub ranking: Ranking,
    /// The set sizes (edges kept), a log grid up to every edge.
    pub k: Vec<usize>,
    /// Each method's curve, `[P][K]`.
    pub methods: BTreeMap<Method, Vec<Vec<f32>>>,
    /// How many seeded random rankings, their set sizes (a log grid: coarser than the
    /// methods' on small graphs), and their mean and 5–95% band `[P][K_random]`.
    pub random_rankings: usize,
    pub random_k: Vec<usize>,
    pub random: Band,
}

impl EdgeCurves {
    /// `method`'s mean curve over prompts, its area over the fraction of edges kept and the
    /// smallest k reaching 80%.
    pub fn summary(&self, method: Method) -> Option<(Vec<f32>, f64, Option<usize>)> {
        let rows = self.methods.get(&method)?;
        let mean = crate::faithfulness::mean_curve(rows);
        let n = *self.k.last()?;
        let area = crate::faithfulness::area(&self.k, &mean, n);
        let k80 = crate::faithfulness::first_reaching(&self.k, &mean, 0.8);
        Some((mean, area, k80))
    }
}

impl EdgeResults {
    /// No edge scores yet, for `graph`.
    pub fn empty(graph: &EdgeGraph) -> EdgeResults {
        EdgeResults {
            layers: graph.layers,
            heads: graph.heads,
            n_edges: graph.edges.len(),
            scores: BTreeMap::new(),
            exact: None,
            faithfulness: None,
        }
    }

    /// The graph the scores are of.
    pub fn graph(&self) -> EdgeGraph {
        EdgeGraph::new(self.layers, self.heads)
    }

    /// Adds one prompt's scores of every edge by `method`: the mean over the prompts so far and
    /// the prompt's top edges. NaN scores (a cancelled run) leave the mean as it was.
    pub fn push(&mut self, method: Method, scores: &[f32]) {
        let entry = self.scores.entry(method).or_insert_with(|| EdgeScores {
            mean: vec![0.0; scores.len()],
            ..EdgeScores::default()
        });
        entry.top.push(EdgeList::top_of(scores, TOP_EDGES));
        if scores.iter().any(|s| !s.is_finite()) || scores.len() != entry.mean.len() {
            return;
        }
        let p = entry.prompts as f64;
        for (m, &s) in entry.mean.iter_mut().zip(scores) {
            *m = ((f64::from(*m) * p + f64::from(s)) / (p + 1.0)) as f32;
        }
        entry.prompts += 1;
    }

    /// The scores of `method`'s edges, in the graph's order, averaged over prompts.
    pub fn mean(&self, method: Method) -> Option<&[f32]> {
        Some(&self.scores.get(&method)?.mean)
    }
}

/// Most layers and heads per layer a file's edge graph may have (GPT-2 XL: 48 × 25).
const MAX_GRAPH_SIDE: usize = 128;

impl EdgeResults {
    /// Checks that the arrays agree with the graph and with `prompts` prompts: what a results
    /// file read from anywhere must pass before the page draws it. The error names the field.
    pub fn check(&self, prompts: usize) -> Result<(), String> {
        if self.layers > MAX_GRAPH_SIDE || self.heads > MAX_GRAPH_SIDE {
            return Err(format!(
                "`edges` is of a model of {} layers × {} heads, expected at most {MAX_GRAPH_SIDE} each",
                self.layers, self.heads
            ));
        }
        let n = self.graph().edges.len();
        if self.n_edges != n {
            return Err(format!(
                "`edges.n_edges` is {}, the graph of {} layers × {} heads has {n}",
                self.n_edges, self.layers, self.heads
            ));
        }
        let rows = |what: &str, count: usize| {
            if count > prompts {
                Err(format!(
                    "`{what}` has {count} prompts, the file has {prompts}"
                ))
            } else {
                Ok(())
            }
        };
        let lists = |what: &str, lists: &[EdgeList]| -> Result<(), String> {
            rows(what, lists.len())?;
            for (i, l) in lists.iter().enumerate() {
                if l.edges.len() != l.scores.len() {
                    return Err(format!(
                        "`{what}[{i}]` has {} edges and {} scores",
                        l.edges.len(),
                        l.scores.len()
                    ));
                }
                if let Some(e) = l.edges.iter().find(|&&e| e as usize >= n) {
                    return Err(format!("`{what}[{i}]` names edge {e}, the graph has {n}"));
                }
            }
            Ok(())
        };
        for (m, s) in &self.scores {
            if s.mean.len() != n {
                return Err(format!(
                    "`edges.scores.{m}.mean` has {} values for {n} edges",
                    s.mean.len()
                ));
            }
            lists(&format!("edges.scores.{m}.top"), &s.top)?;
        }
        if let Some(x) = &self.exact {
            lists("edges.exact.prompts", &x.prompts)?;
            for (m, found) in &x.found {
                rows(&format!("edges.exact.found.{m}"), found.len())?;
                if let Some(f) = found.iter().find(|&&f| f > x.found_n) {
                    return Err(format!(
                        "`edges.exact.found.{m}` has {f}, more than found_n = {}",
                        x.found_n
                    ));
                }
            }
        }
        if let Some(f) = &self.faithfulness {
            let curve = |what: String, r: &[Vec<f32>], k: &[usize]| -> Result<(), String> {
                rows(&what, r.len())?;
                if k.iter().any(|&k| k > n) || !k.is_sorted() {
                    return Err(format!(
                        "`{what}`: its set sizes must rise from 0 to at most {n}"
                    ));
                }
                match r.iter().position(|r| r.len() != k.len()) {
                    Some(i) => Err(format!(
                        "`{what}[{i}]` has {} values for {} set sizes",
                        r[i].len(),
                        k.len()
                    )),
                    None => Ok(()),
                }
            };
            for (m, r) in &f.methods {
                curve(format!("edges.faithfulness.methods.{m}"), r, &f.k)?;
            }
            for (name, r) in [
                ("mean", &f.random.mean),
                ("p05", &f.random.p05),
                ("p95", &f.random.p95),
            ] {
                curve(format!("edges.faithfulness.random.{name}"), r, &f.random_k)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_edges_are_the_largest_by_magnitude_ties_to_the_lower_index() {
        let top = EdgeList::top_of(&[0.1, -0.5, 0.5, 0.0, 0.2], 3);
        assert_eq!(top.edges, [1, 2, 4]);
        assert_eq!(top.scores, [-0.5, 0.5, 0.2]);
    }

    #[test]
    fn the_mean_is_over_the_finished_prompts() {
        let graph = EdgeGraph::new(1, 1);
        let n = graph.edges.len();
        let mut r = EdgeResults::empty(&graph);
        r.push(Method::Eap, &vec![1.0; n]);
        r.push(Method::Eap, &vec![2.0; n]);
        r.push(Method::Eap, &vec![f32::NAN; n]);
        let s = &r.scores[&Method::Eap];
        assert_eq!((s.prompts, s.top.len()), (2, 3));
        assert!(s.mean.iter().all(|&m| (m - 1.5).abs() < 1e-7));
    }

    #[test]
    fn a_file_whose_edges_do_not_fit_is_refused_with_the_field_named() {
        let graph = EdgeGraph::new(2, 2);
        let n = graph.edges.len();
        let mut r = EdgeResults::empty(&graph);
        r.push(Method::Eap, &vec![1.0; n]);
        assert_eq!(r.check(1), Ok(()));
        assert_eq!(
            r.check(0).err().as_deref(),
            Some("`edges.scores.eap.top` has 1 prompts, the file has 0")
        );
        let mut bad = r.clone();
        if let Some(s) = bad.scores.get_mut(&Method::Eap) {
            s.top[0].edges[0] = n as u32;
        }
        assert_eq!(
            bad.check(1).err(),
            Some(format!(
                "`edges.scores.eap.top[0]` names edge {n}, the graph has {n}"
            ))
        );
        let mut bad = r.clone();
        bad.n_edges = 7;
        assert!(
            bad.check(1)
                .err()
                .unwrap_or_default()
                .contains("`edges.n_edges` is 7")
        );
        let mut bad = r.clone();
        bad.layers = 100_000;
        assert!(
            bad.check(1)
                .err()
                .unwrap_or_default()
                .contains("at most 128")
        );
        let mut bad = r;
        if let Some(s) = bad.scores.get_mut(&Method::Eap) {
            s.mean.pop();
        }
        assert!(
            bad.check(1)
                .err()
                .unwrap_or_default()
                .contains("values for")
        );
    }
}
