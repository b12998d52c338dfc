//! The faithfulness pass of a study: for each prompt, the curve of every method's ranking of its
//! heads and of its neurons, and those of the seeded random rankings, in one batched call per
//! kind of component.

use std::collections::BTreeMap;

use gradpatch_methods::faithfulness::{curve_sizes, log_sizes, random_ranking, random_seed};
use gradpatch_methods::{Pause, Progress, faithfulness_async};
use gradpatch_model::{Gpt2, RunError};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::{ComponentKind, Method, RANDOM_RANKINGS, Ranking};

use crate::faithfulness::{
    Band, Faithfulness, MethodCurves, RandomCurves, Sizes, quantile, ranking,
};
use crate::{MethodScores, Results};

/// Empty curves for the methods of `scores`.
pub(super) fn empty(
    model: &Gpt2,
    ranking: Ranking,
    scores: &BTreeMap<Method, MethodScores>,
) -> Faithfulness {
    let c = &model.config;
    let (heads, neurons) = (c.n_layers * c.n_heads, c.n_layers * c.d_mlp);
    Faithfulness {
        ranking,
        k: Sizes {
            heads: curve_sizes(heads),
            neurons: curve_sizes(neurons),
        },
        random: RandomCurves {
            rankings: RANDOM_RANKINGS,
            k: Sizes {
                heads: log_sizes(heads),
                neurons: log_sizes(neurons),
            },
            heads: Band::default(),
            neurons: Band::default(),
        },
        methods: scores
            .keys()
            .map(|&m| (m, MethodCurves::default()))
            .collect(),
    }
}

/// A progress over several calls: each call's units continue where the last ended.
struct Continued<'a> {
    inner: &'a mut dyn Progress,
    before: u64,
    total: u64,
}

impl Progress for Continued<'_> {
    fn update(&mut self, done: u64, _: u64) -> bool {
        self.inner.update(self.before + done, self.total)
    }

    fn pause(&mut self) -> Pause<'_> {
        self.inner.pause()
    }
}

/// The sets of one prompt and kind: each method's top-k (its curve sizes), then each random
/// ranking's top-k (the random sizes); and the methods in that order.
fn sets(
    f: &Faithfulness,
    results: &Results,
    kind: ComponentKind,
    prompt: usize,
    n: usize,
) -> (Vec<Vec<usize>>, Vec<Method>) {
    let signed = f.ranking == Ranking::Signed;
    let mut sets = Vec::new();
    let mut methods = Vec::new();
    for &m in f.methods.keys() {
        let Some(grid) = results.scores(m).and_then(|s| s.of(kind).get(prompt)) else {
            continue;
        };
        let order = ranking(&grid.concat(), signed);
        sets.extend(f.k.of(kind).iter().map(|&k| order[..k].to_vec()));
        methods.push(m);
    }
    let tokens = &results.prompts[prompt].clean_token_ids;
    for draw in 0..RANDOM_RANKINGS {
        let order = random_ranking(n, random_seed(tokens, draw));
        sets.extend(f.random.k.of(kind).iter().map(|&k| order[..k].to_vec()));
    }
    (sets, methods)
}

/// Adds one prompt's values of one kind: the methods' rows, and the random rankings' mean and
/// band.
fn record(f: &mut Faithfulness, kind: ComponentKind, methods: &[Method], values: &[f32]) {
    let (k, rk) = (f.k.of(kind).len(), f.random.k.of(kind).len());
    for (j, m) in methods.iter().enumerate() {
        let row = values[j * k..(j + 1) * k].to_vec();
        if let Some(curves) = f.methods.get_mut(m) {
            match kind {
                ComponentKind::Heads => curves.heads.push(row),
                ComponentKind::Neurons => curves.neurons.push(row),
            }
        }
    }
    let random = &values[methods.len() * k..];
    let column = |i: usize| -> Vec<f32> { random.iter().skip(i).step_by(rk).copied().collect() };
    let band = match kind {
        ComponentKind::Heads => &mut f.random.heads,
        ComponentKind::Neurons => &mut f.random.neurons,
    };
    band.mean.push(
        (0..rk)
            .map(|i| crate::faithfulness::mean_of(&column(i)))
            .collect(),
    );
    band.p05
        .push((0..rk).map(|i| quantile(&column(i), 0.05)).collect());
    band.p95
        .push((0..rk).map(|i| quantile(&column(i), 0.95)).collect());
}

/// Prompt `prompt`'s curves of heads and neurons; false when cancelled (the rest is NaN).
pub(super) async fn prompt_curves(
    model: &Gpt2,
    runs: &PromptRuns,
    results: &Results,
    f: &mut Faithfulness,
    prompt: usize,
    progress: &mut dyn Progress,
) -> Result<bool, RunError> {
    let c = &model.config;
    let kinds = [
        (ComponentKind::Heads, c.n_layers * c.n_heads),
        (ComponentKind::Neurons, c.n_layers * c.d_mlp),
    ];
    let all: Vec<_> = kinds
        .iter()
        .map(|&(kind, n)| (kind, sets(f, results, kind, prompt, n)))
        .collect();
    let total = all.iter().map(|(_, (s, _))| s.len() as u64).sum();
    let mut before = 0;
    for (kind, (sets, methods)) in all {
        let mut p = Continued {
            inner: &mut *progress,
            before,
            total,
        };
        let (values, complete) = faithfulness_async(model, runs, kind, &sets, &mut p).await?;
        record(f, kind, &methods, &values);
        if !complete {
            return Ok(false);
        }
        before += sets.len() as u64;
    }
    Ok(true)
}
