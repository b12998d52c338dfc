//! An edge method's work on one prompt: its scores into the results, then exact patching of the
//! prompt's top edges (with the method that ranks them) and the method's faithfulness curve,
//! while every edge's score is at hand (only the top ones are kept).

use gradpatch_methods::Progress;
use gradpatch_methods::edge_faithfulness::edge_faithfulness_async;
use gradpatch_methods::edges::{exact_patching_async, found_among};
use gradpatch_methods::faithfulness::{log_sizes, random_ranking, random_seed};
use gradpatch_model::{Gpt2, RunError};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::{
    EDGE_RANDOM_RANKINGS, EdgeGraph, Method, MethodOutput, Ranking, StudyOptions,
};

use crate::Results;
use crate::edges::{EdgeCurves, EdgeList, EdgeResults, ExactEdges};
use crate::faithfulness::{Band, mean_of, quantile, ranking};

/// Sets per call of the edge faithfulness (one batched pass), between progress reports.
const SETS_PER_CALL: usize = 16;

/// Records `method`'s scores of every edge of prompt `i`.
pub(super) fn push(results: &mut Results, model: &Gpt2, method: Method, scores: &[f32]) {
    let graph = EdgeGraph::new(model.config.n_layers, model.config.n_heads);
    results
        .edges
        .get_or_insert_with(|| EdgeResults::empty(&graph))
        .push(method, scores);
}

/// Exact patching of prompt `i`'s top edges by `scores` (of the method that ranks them), and
/// how many of exact's top edges each edge method with scores of the prompt finds.
pub(super) async fn exact(
    model: &Gpt2,
    runs: &PromptRuns,
    results: &mut Results,
    options: &StudyOptions,
    (method, scores): (Method, &[f32]),
    i: usize,
) -> Result<(), RunError> {
    let Some(edges) = results.edges.as_mut() else {
        return Ok(());
    };
    let n = options.exact_edges;
    let top = EdgeList::top_of(scores, n);
    let exact_scores = exact_patching_async(model, runs, &top.indices()).await?;
    let patched = EdgeList {
        edges: top.edges,
        scores: exact_scores,
    };
    let found_n = ExactEdges::found_n_of(n);
    let x = edges.exact.get_or_insert_with(|| ExactEdges {
        ranked_by: method,
        n,
        prompts: Vec::new(),
        found_n,
        found: Default::default(),
    });
    let patched_idx = patched.indices();
    for (&m, s) in &edges.scores {
        let Some(list) = s.top.get(i) else { continue };
        let found = found_among(&list.indices(), &patched_idx, &patched.scores, found_n);
        x.found.entry(m).or_default().push(found);
    }
    x.prompts.push(patched);
    Ok(())
}

/// `method`'s edge faithfulness curve of prompt `i` (and the random rankings' with the last edge
/// method); false when cancelled (the prompt's curve is then NaN where not reached).
pub(super) async fn curve(
    model: &Gpt2,
    runs: &PromptRuns,
    results: &mut Results,
    (method, scores): (Method, &[f32]),
    i: usize,
    progress: &mut dyn Progress,
) -> Result<bool, RunError> {
    let options = &results.config.options;
    let Some(rank) = options.faithfulness else {
        return Ok(true);
    };
    let last = options.methods.of(MethodOutput::Edges).iter().last() == Some(method);
    let n = scores.len();
    // A log grid (and every 10%) for the methods and the random rankings alike: a point costs a
    // forward, and even the bundled model has hundreds of edges.
    let ks = log_sizes(n);
    let random_ks = ks.clone();
    let order = ranking(scores, rank == Ranking::Signed);
    let mut sets: Vec<Vec<usize>> = ks.iter().map(|&k| order[..k].to_vec()).collect();
    if last {
        let tokens = &results.prompts[i].clean_token_ids;
        for draw in 0..EDGE_RANDOM_RANKINGS {
            let order = random_ranking(n, random_seed(tokens, draw));
            sets.extend(random_ks.iter().map(|&k| order[..k].to_vec()));
        }
    }
    let mut values = Vec::with_capacity(sets.len());
    let total = sets.len() as u64;
    let mut complete = true;
    for chunk in sets.chunks(SETS_PER_CALL) {
        values.extend(edge_faithfulness_async(model, runs, chunk).await?);
        let go_on = progress.update(values.len() as u64, total);
        progress.pause().await;
        if !go_on {
            complete = false;
            break;
        }
    }
    values.resize(sets.len(), f32::NAN);
    let Some(edges) = results.edges.as_mut() else {
        return Ok(complete);
    };
    let curves = edges.faithfulness.get_or_insert_with(|| EdgeCurves {
        ranking: rank,
        k: ks.clone(),
        methods: Default::default(),
        random_rankings: EDGE_RANDOM_RANKINGS,
        random_k: random_ks.clone(),
        random: Band::default(),
    });
    let k = ks.len();
    curves
        .methods
        .entry(method)
        .or_default()
        .push(values[..k].to_vec());
    if last {
        let rk = random_ks.len();
        let random = &values[k..];
        let column =
            |j: usize| -> Vec<f32> { random.iter().skip(j).step_by(rk).copied().collect() };
        let band = &mut curves.random;
        band.mean
            .push((0..rk).map(|j| mean_of(&column(j))).collect());
        band.p05
            .push((0..rk).map(|j| quantile(&column(j), 0.05)).collect());
        band.p95
            .push((0..rk).map(|j| quantile(&column(j), 0.95)).collect());
    }
    Ok(complete)
}
