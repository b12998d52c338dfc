//! The scoreboard: how well each method's head ranking finds a circuit. Each head's score is its
//! mean over the prompts with every head scored (a cancelled run's gaps left out), ranked by
//! |score|; against the circuit, its variants and each class: ROC AUC, and precision and recall
//! of the top k for k = 3, 10 and the circuit's size. With scores per position, a second AUC
//! scores each circuit head at its class's position, and every other head at the named position
//! where its |mean score| is largest (so no head outside the circuit is held back).

use gradpatch_stats::{precision_recall_at, ranking, roc_auc};
use gradpatch_study::Results;
use gradpatch_terms::Method;

use crate::file::{Circuit, CircuitError, HeadId, Position};
use crate::positions::IoiPositions;

/// The k of precision@k and recall@k besides the circuit's size.
pub const AT_K: [usize; 2] = [3, 10];

/// Precision and recall of a method's top k.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AtK {
    pub k: usize,
    pub precision: f64,
    pub recall: f64,
}

/// How a ranking finds one set of heads (the circuit, a variant or a class).
#[derive(Clone, Debug, PartialEq)]
pub struct SetScore {
    /// `circuit`, `variant strict`, `class name mover`, …
    pub name: String,
    pub size: usize,
    /// `None` when every head, or none, is in the set.
    pub auc: Option<f64>,
    pub at_k: Vec<AtK>,
}

/// One method's row of the scoreboard.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodBoard {
    pub method: Method,
    /// How many prompts had every head scored.
    pub prompts: usize,
    /// The circuit first, then its variants, then each class.
    pub sets: Vec<SetScore>,
    /// The AUC of the per-position score, or why there is none.
    pub per_position: Result<f64, String>,
}

/// Every method's row against one circuit.
#[derive(Clone, Debug, PartialEq)]
pub struct Scoreboard {
    pub circuit_size: usize,
    /// The k of each [`SetScore::at_k`].
    pub ks: Vec<usize>,
    pub methods: Vec<MethodBoard>,
}

/// Layers × heads of the results' head scores.
fn dims(results: &Results) -> Option<(usize, usize)> {
    let grid = results.scores.values().find_map(|s| s.heads.first())?;
    Some((grid.len(), grid.first()?.len()))
}

/// The mean over prompts (those whose grid is all finite) of each head's score, flattened
/// `layer × heads + head`; and the number of those prompts.
fn mean_scores(grids: &[Vec<Vec<f32>>]) -> (Vec<f64>, usize) {
    let complete: Vec<&Vec<Vec<f32>>> = grids
        .iter()
        .filter(|g| g.iter().flatten().all(|v| v.is_finite()))
        .collect();
    let width = complete.first().map_or(0, |g| g.iter().map(Vec::len).sum());
    let mut sum = vec![0.0; width];
    for g in &complete {
        for (s, v) in sum.iter_mut().zip(g.iter().flatten()) {
            *s += f64::from(*v);
        }
    }
    let n = complete.len();
    (sum.into_iter().map(|s| s / n.max(1) as f64).collect(), n)
}

fn set_score(name: String, scores: &[f64], members: &[bool], ks: &[usize]) -> SetScore {
    let as_f32: Vec<f32> = scores.iter().map(|&s| s as f32).collect();
    let order = ranking(&as_f32, true);
    SetScore {
        name,
        size: members.iter().filter(|&&b| b).count(),
        auc: roc_auc(scores, members),
        at_k: ks
            .iter()
            .filter_map(|&k| {
                let (precision, recall) = precision_recall_at(&order, members, k)?;
                Some(AtK {
                    k,
                    precision,
                    recall,
                })
            })
            .collect(),
    }
}

/// Membership of `heads` as a mask over `layers × width` heads.
fn mask(heads: impl IntoIterator<Item = HeadId>, width: usize, n: usize) -> Vec<bool> {
    let mut m = vec![false; n];
    for (l, h) in heads {
        if let Some(x) = m.get_mut(l * width + h) {
            *x = true;
        }
    }
    m
}

/// The scoreboard of every method in `results` against `circuit` (refused when the circuit
/// does not fit the results' heads).
pub fn scoreboard(results: &Results, circuit: &Circuit) -> Result<Scoreboard, CircuitError> {
    let (layers, width) = dims(results).unwrap_or((0, 0));
    circuit.check_fits(layers, width)?;
    let n = layers * width;
    let size = circuit.size();
    let mut ks: Vec<usize> = AT_K
        .iter()
        .copied()
        .chain([size])
        .filter(|&k| k <= n)
        .collect();
    ks.sort_unstable();
    ks.dedup();
    let mut sets: Vec<(String, Vec<bool>)> =
        vec![("circuit".into(), mask(circuit.heads(), width, n))];
    for v in &circuit.variants {
        let kept = circuit.heads().filter(|h| !v.drop.contains(h));
        sets.push((format!("variant {}", v.name), mask(kept, width, n)));
    }
    for c in &circuit.classes {
        sets.push((
            format!("class {}", c.name),
            mask(c.heads.iter().copied(), width, n),
        ));
    }
    let methods = results
        .scores
        .iter()
        .map(|(&method, s)| {
            let (mean, prompts) = mean_scores(&s.heads);
            let abs: Vec<f64> = mean.iter().map(|v| v.abs()).collect();
            MethodBoard {
                method,
                prompts,
                sets: sets
                    .iter()
                    .map(|(name, m)| set_score(name.clone(), &abs, m, &ks))
                    .collect(),
                per_position: per_position(results, method, circuit, (layers, width)),
            }
        })
        .collect();
    Ok(Scoreboard {
        circuit_size: size,
        ks,
        methods,
    })
}

/// The AUC of the per-position score (see the module's documentation), or why there is none.
fn per_position(
    results: &Results,
    method: Method,
    circuit: &Circuit,
    (layers, width): (usize, usize),
) -> Result<f64, String> {
    let pos = results.heads_pos(method).ok_or_else(|| {
        format!(
            "{} has no scores per position in these results",
            method.label()
        )
    })?;
    let used: Vec<Position> = {
        let mut p: Vec<Position> = circuit.classes.iter().map(|c| c.acts_at).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    // sums[q][layer × width + head]: the score at position used[q], summed over prompts.
    let mut sums = vec![vec![0.0f64; layers * width]; used.len()];
    let mut prompts = 0usize;
    for (p, grid) in pos.iter().enumerate() {
        let complete =
            grid.len() == layers && grid.iter().flatten().flatten().all(|v| v.is_finite());
        if !complete {
            continue;
        }
        let record = results
            .prompts
            .get(p)
            .ok_or_else(|| format!("prompt {p} has scores but no tokens"))?;
        let located = IoiPositions::locate(record).map_err(|m| m.explain(Position::End, p))?;
        for (q, &position) in used.iter().enumerate() {
            let t = located
                .index(position)
                .map_err(|m| m.explain(position, p))?;
            for (l, heads) in grid.iter().enumerate() {
                for (h, by_pos) in heads.iter().enumerate() {
                    let v = by_pos
                        .get(t)
                        .ok_or_else(|| format!("prompt {p}: no score at token {t}"))?;
                    sums[q][l * width + h] += f64::from(*v);
                }
            }
        }
        prompts += 1;
    }
    if prompts == 0 {
        return Err(format!(
            "{} has no prompt with every head scored per position",
            method.label()
        ));
    }
    let mean = |q: usize, i: usize| (sums[q][i] / prompts as f64).abs();
    let scores: Vec<f64> = (0..layers * width)
        .map(|i| match circuit.class_of((i / width, i % width)) {
            Some((_, c)) => used
                .iter()
                .position(|&p| p == c.acts_at)
                .map_or(0.0, |q| mean(q, i)),
            None => (0..used.len()).map(|q| mean(q, i)).fold(0.0, f64::max),
        })
        .collect();
    roc_auc(&scores, &mask(circuit.heads(), width, layers * width))
        .ok_or_else(|| "every head, or none, is in the circuit".to_string())
}
