//! `bench-methods`' edge measurements: EAP, EAP-IG (m = 5) and exact patching of the top-N edges
//! by |EAP-IG| per prompt, with the memory the scores need.

use std::time::Instant;

use gradpatch_methods::edge_faithfulness::edge_faithfulness;
use gradpatch_methods::edges::{decomposition_error, eap, eap_ig, exact_patching, found_of_top};
use gradpatch_methods::faithfulness::log_sizes;
use gradpatch_model::Gpt2;
use gradpatch_runs::PromptRuns;
use gradpatch_study::faithfulness::ranking;
use gradpatch_terms::EdgeGraph;

/// EAP-IG's steps and the exact edges per prompt measured (the page's defaults).
const STEPS: usize = 5;
const TOP_EXACT: usize = 200;

/// Prints the per-prompt times of each edge score over `runs`.
pub fn bench(model: &Gpt2, runs: &[PromptRuns], say: fn(String)) -> Result<(), String> {
    let c = &model.config;
    let graph = EdgeGraph::new(c.n_layers, c.n_heads);
    let n = runs.len().max(1) as f64;
    let s = runs.first().map_or(0, PromptRuns::len);
    // The two matrices the scores are one product of, f32.
    let matrices = (graph.upstream.len() + graph.downstream.len()) * s * c.d_model * 4;
    let full = graph.edges.len() * s * c.d_model * 4;
    say(format!(
        "edges: {} ({} upstream x {} downstream nodes); the scores use two [nodes, positions x d_model] matrices, {:.1} MB per prompt (an [edges, positions, d_model] tensor would be {:.0} MB)",
        graph.edges.len(),
        graph.upstream.len(),
        graph.downstream.len(),
        matrices as f64 / 1e6,
        full as f64 / 1e6
    ));
    let time = |f: &mut dyn FnMut(&PromptRuns) -> Result<Vec<f32>, String>| -> Result<(Vec<Vec<f32>>, f64), String> {
        let t = Instant::now();
        let out = runs.iter().map(&mut *f).collect::<Result<Vec<_>, _>>()?;
        Ok((out, t.elapsed().as_secs_f64() / n))
    };
    let mut worst = 0.0f32;
    for r in runs {
        worst = worst.max(decomposition_error(model, r).map_err(|e| e.to_string())?);
    }
    say(format!(
        "residual decomposition (every node's input = its upstream outputs + biases): max abs error {worst:.2e}"
    ));
    let (eaps, eap_s) = time(&mut |r| eap(model, r).map_err(|e| e.to_string()))?;
    say(format!(
        "EAP, every edge (one forward and one backward): {eap_s:.2} s per prompt"
    ));
    let (ig, ig_s) = time(&mut |r| eap_ig(model, r, STEPS).map_err(|e| e.to_string()))?;
    say(format!(
        "EAP-IG, m = {STEPS}, every edge (one batched forward and backward of {STEPS} rows): {ig_s:.2} s per prompt"
    ));
    let mut by_ig = ig.clone().into_iter();
    let ks = log_sizes(graph.edges.len());
    let (_, faith_s) = time(&mut |r| {
        let order = ranking(&by_ig.next().unwrap_or_default(), false);
        let sets: Vec<Vec<usize>> = ks.iter().map(|&k| order[..k].to_vec()).collect();
        edge_faithfulness(model, r, &sets).map_err(|e| e.to_string())
    })?;
    say(format!(
        "edge-set faithfulness curve of EAP-IG's ranking ({} points, layer by layer, 16 sets per pass): {faith_s:.2} s per prompt",
        ks.len()
    ));
    let tops: Vec<Vec<usize>> = ig
        .iter()
        .map(|s| ranking(s, false).into_iter().take(TOP_EXACT).collect())
        .collect();
    let mut top = tops.iter();
    let (exact, exact_s) = time(&mut |r| {
        let edges = top.next().map_or(&[][..], Vec::as_slice);
        exact_patching(model, r, edges).map_err(|e| e.to_string())
    })?;
    say(format!(
        "exact patching of the top {TOP_EXACT} edges by |EAP-IG| (batched by the node they enter): {exact_s:.2} s per prompt"
    ));
    let n = TOP_EXACT / 4;
    let found = |est: &[Vec<f32>]| -> usize {
        est.iter()
            .zip(&tops)
            .zip(&exact)
            .map(|((e, t), x)| found_of_top(e, t, x, n))
            .sum()
    };
    say(format!(
        "of the {n} largest |exact| among them, the estimate's top {n} hold: EAP {}, EAP-IG {} (over {} prompt(s))",
        found(&eaps),
        found(&ig),
        runs.len()
    ));
    Ok(())
}
