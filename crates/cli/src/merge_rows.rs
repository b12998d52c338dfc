//! The whole run's rows, filled part by part: each part's rows are moved into their prompts'
//! places and the part is dropped, so `merge` holds one part and the merged run at a time.

use std::collections::BTreeMap;

use gradpatch_study::faithfulness::{Band, MethodCurves, RandomCurves};
use gradpatch_study::{Faithfulness, MethodScores, PromptRecord, Results};
use gradpatch_terms::Method;

/// One field's rows of the whole run. A part with prompts that lacks the field (or has too few
/// rows) leaves it incomplete, and the merged field is absent.
pub struct Rows<T> {
    slots: Vec<Option<T>>,
    present: bool,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            slots: Vec::new(),
            present: true,
        }
    }
}

impl<T> Rows<T> {
    /// Puts a part's `rows` at its prompts' places `indices` (the slots grow with what
    /// arrives: a part's claims allocate nothing).
    pub fn put(&mut self, indices: &[usize], rows: Option<Vec<T>>) {
        let Some(rows) = rows else {
            self.present &= indices.is_empty();
            return;
        };
        if rows.len() < indices.len() {
            self.present = false;
        }
        for (&i, row) in indices.iter().zip(rows) {
            if self.slots.len() <= i {
                self.slots.resize_with(i + 1, || None);
            }
            self.slots[i] = Some(row);
        }
    }

    /// Every prompt's row, in order, when every part gave its rows.
    pub fn finish(self, n: usize) -> Option<Vec<T>> {
        if !self.present || self.slots.len() != n {
            return None;
        }
        self.slots.into_iter().collect()
    }
}

/// A method's rows.
#[derive(Default)]
struct ScoreRows {
    heads: Rows<Vec<Vec<f32>>>,
    neurons: Rows<Vec<Vec<f32>>>,
    delta_heads: Rows<Vec<f32>>,
    delta_neurons: Rows<Vec<f32>>,
    heads_pos: Rows<Vec<Vec<Vec<f32>>>>,
}

#[derive(Default)]
struct BandRows {
    mean: Rows<Vec<f32>>,
    p05: Rows<Vec<f32>>,
    p95: Rows<Vec<f32>>,
}

impl BandRows {
    fn put(&mut self, indices: &[usize], band: Option<Band>) {
        let (mean, p05, p95) = match band {
            Some(b) => (Some(b.mean), Some(b.p05), Some(b.p95)),
            None => (None, None, None),
        };
        self.mean.put(indices, mean);
        self.p05.put(indices, p05);
        self.p95.put(indices, p95);
    }

    fn finish(self, n: usize) -> Option<Band> {
        Some(Band {
            mean: self.mean.finish(n)?,
            p05: self.p05.finish(n)?,
            p95: self.p95.finish(n)?,
        })
    }
}

/// A method's curve rows of heads and of neurons.
type CurvePair = (Rows<Vec<f32>>, Rows<Vec<f32>>);

/// The node curves' rows; the grids and rankings are the first part's.
struct FaithRows {
    shape: Faithfulness,
    methods: BTreeMap<Method, CurvePair>,
    random_heads: BandRows,
    random_neurons: BandRows,
}

/// `f`'s grids and rankings, its rows left out (they come from every part).
fn without_rows(f: &Faithfulness) -> Faithfulness {
    Faithfulness {
        ranking: f.ranking,
        k: f.k.clone(),
        random: RandomCurves {
            rankings: f.random.rankings,
            k: f.random.k.clone(),
            heads: Band::default(),
            neurons: Band::default(),
        },
        methods: f
            .methods
            .keys()
            .map(|&m| (m, MethodCurves::default()))
            .collect(),
    }
}

/// The run's rows of every kind, and what is summed over the parts.
pub struct Merger {
    pub prompts: Rows<PromptRecord>,
    clean: Rows<f32>,
    corrupted: Rows<f32>,
    scores: BTreeMap<Method, ScoreRows>,
    faith: Option<FaithRows>,
    edges: Option<crate::merge_edges::EdgeRows>,
    seconds: serde_json::Map<String, serde_json::Value>,
}

impl Merger {
    /// An empty merge of the run whose first part is `first` (its methods, curve grids and edge
    /// graph are every part's: checked before each part is added).
    pub fn new(first: &Results) -> Merger {
        let nodes = first
            .config
            .options
            .methods
            .of(gradpatch_terms::MethodOutput::Nodes);
        Merger {
            prompts: Rows::default(),
            clean: Rows::default(),
            corrupted: Rows::default(),
            scores: nodes.iter().map(|m| (m, ScoreRows::default())).collect(),
            faith: first.faithfulness.as_ref().map(|f| FaithRows {
                methods: f.methods.keys().map(|&m| (m, Default::default())).collect(),
                shape: without_rows(f),
                random_heads: BandRows::default(),
                random_neurons: BandRows::default(),
            }),
            edges: first.edges.as_ref().map(crate::merge_edges::EdgeRows::new),
            seconds: serde_json::Map::new(),
        }
    }

    /// Moves a part's rows into place (`indices`: its prompts' places in the whole run).
    pub fn add(&mut self, indices: &[usize], mut r: Results) {
        self.prompts
            .put(indices, Some(std::mem::take(&mut r.prompts)));
        self.clean
            .put(indices, Some(std::mem::take(&mut r.clean_logit_diff)));
        self.corrupted
            .put(indices, Some(std::mem::take(&mut r.corrupted_logit_diff)));
        for (m, rows) in self.scores.iter_mut() {
            let s = r.scores.remove(m);
            let (heads, neurons, dh, dn, pos) = match s {
                Some(s) => (
                    Some(s.heads),
                    Some(s.neurons),
                    s.convergence_delta_heads,
                    s.convergence_delta_neurons,
                    s.heads_pos,
                ),
                None => (None, None, None, None, None),
            };
            rows.heads.put(indices, heads);
            rows.neurons.put(indices, neurons);
            rows.delta_heads.put(indices, dh);
            rows.delta_neurons.put(indices, dn);
            rows.heads_pos.put(indices, pos);
        }
        if let Some(f) = self.faith.as_mut() {
            let mut part = r.faithfulness.take();
            for (m, (heads, neurons)) in f.methods.iter_mut() {
                let curves = part.as_mut().and_then(|p| p.methods.remove(m));
                let (h, n) = match curves {
                    Some(c) => (Some(c.heads), Some(c.neurons)),
                    None => (None, None),
                };
                heads.put(indices, h);
                neurons.put(indices, n);
            }
            let (rh, rn) = match part {
                Some(p) => (Some(p.random.heads), Some(p.random.neurons)),
                None => (None, None),
            };
            f.random_heads.put(indices, rh);
            f.random_neurons.put(indices, rn);
        }
        if let Some(e) = self.edges.as_mut() {
            e.add(indices, r.edges.take());
        }
        for (k, v) in &r.seconds {
            let sum = self
                .seconds
                .get(k)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0)
                + v.as_f64().unwrap_or(0.0);
            self.seconds.insert(k.clone(), sum.into());
        }
    }

    /// The whole run's results (`None` when the parts' rows do not line up with their prompts).
    pub fn finish(self, config: gradpatch_study::StudyConfig, n: usize) -> Option<Results> {
        let mut results = Results {
            prompts: self.prompts.finish(n)?,
            clean_logit_diff: self.clean.finish(n)?,
            corrupted_logit_diff: self.corrupted.finish(n)?,
            seconds: self.seconds,
            ..Results::empty(config)
        };
        if n == 0 {
            return Some(results);
        }
        for (m, rows) in self.scores {
            let scores = MethodScores {
                heads: rows.heads.finish(n)?,
                neurons: rows.neurons.finish(n)?,
                convergence_delta_heads: rows.delta_heads.finish(n),
                convergence_delta_neurons: rows.delta_neurons.finish(n),
                heads_pos: rows.heads_pos.finish(n),
            };
            results.scores.insert(m, scores);
        }
        if let Some(f) = self.faith {
            let mut merged = f.shape;
            for (m, (heads, neurons)) in f.methods {
                let curves = merged.methods.get_mut(&m)?;
                curves.heads = heads.finish(n)?;
                curves.neurons = neurons.finish(n)?;
            }
            merged.random.heads = f.random_heads.finish(n)?;
            merged.random.neurons = f.random_neurons.finish(n)?;
            results.faithfulness = Some(merged);
        }
        if let Some(e) = self.edges {
            results.edges = Some(e.finish(n)?);
        }
        Some(results)
    }
}
