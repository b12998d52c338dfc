//! Edge attribution: every edge u → v of [`EdgeGraph`] scored in the noising direction, divided
//! by D = LD_clean − LD_corrupted (definitions: `../shared/reference/CIRCUITS.md`, part B).
//!
//! * **EAP**: Σ_pos Σ_d Δ_u · g_v, with Δ_u = a_u(corrupted) − a_u(clean) and g_v = ∂LD/∂in_v in
//!   the clean run. All edges at once as one product of a `[upstream, pos·d]` matrix of Δ and a
//!   `[downstream, pos·d]` matrix of gradients: never an `[edges, pos, d]` tensor.
//! * **EAP-IG** (inputs variant, `m` steps): g_v averaged over `m` runs whose embeddings move
//!   from the corrupted run's to the clean run's (k/m, k = 1…m), in one batch.
//! * **exact edge patching**: a clean run in which only in_v becomes in_v + Δ_u; batched, rows =
//!   edges into the same hook.
//!
//! Each head's q/k/v input is its own copy of the residual stream: its gradient comes from the
//! gradient at `hook_q/k/v` through `ln1` and that head's weights (`Gpt2::qkv_input_grads`), and
//! patching it is patching that head's `hook_q/k/v` with the q/k/v of the changed input.

use burn::tensor::Tensor;
use gradpatch_model::{
    Gpt2, HookPoint, Hooks, Patch, Positions, Run, RunError, Source, block_on, to_host_async,
};
use gradpatch_runs::{PromptRuns, RunCache};
use gradpatch_terms::{Downstream, Edge, EdgeGraph, QkvInput, Upstream};

/// Rows of one batched exact-patching run (memory stays that of a few dozen forwards).
const EXACT_ROWS: usize = 32;

/// Upstream node `u`'s output in run `r`, `[1, pos, d_model]`.
pub(crate) fn output(r: &RunCache, u: Upstream) -> Tensor<3> {
    match u {
        Upstream::Input => r.resid_pre[0].clone(),
        Upstream::Head { layer, head } => {
            let [b, s, _, d] = r.result[layer].dims();
            r.result[layer]
                .clone()
                .narrow(2, head, 1)
                .reshape([b, s, d])
        }
        Upstream::Mlp(layer) => r.resid_post[layer].clone() - r.resid_mid[layer].clone(),
    }
}

/// Δ_u = corrupted − clean of every upstream node, `[upstream, pos · d_model]`.
fn deltas(graph: &EdgeGraph, runs: &PromptRuns) -> Tensor<2> {
    let rows: Vec<Tensor<2>> = graph
        .upstream
        .iter()
        .map(|&u| {
            let d = output(&runs.corrupted, u) - output(&runs.clean, u);
            let [_, s, dm] = d.dims();
            d.reshape([1, s * dm])
        })
        .collect();
    Tensor::cat(rows, 0)
}

/// The probes whose gradients give every downstream node's input gradient.
fn gradient_hooks(layers: usize) -> Hooks {
    (0..layers)
        .flat_map(|l| {
            [
                HookPoint::AttnQ(l),
                HookPoint::AttnK(l),
                HookPoint::AttnV(l),
                HookPoint::MlpIn(l),
            ]
        })
        .chain([HookPoint::ResidPost(layers - 1)])
        .fold(Hooks::new(), |h, p| h.probe(p))
        .cache((0..layers).map(HookPoint::ResidPre))
}

/// ∂(Σ rows' LD)/∂in_v of every downstream node, averaged over the run's rows,
/// `[downstream, pos · d_model]`, from a run with [`gradient_hooks`].
fn input_gradients(
    model: &Gpt2,
    source: Source,
    runs: &PromptRuns,
    rows: usize,
) -> Result<Tensor<2>, RunError> {
    let layers = model.config.n_layers;
    let hooks = gradient_hooks(layers);
    let out = model.run(Run {
        source,
        prefix: None,
        hooks: &hooks,
        readout: runs.readout(rows, 0),
    })?;
    let ld = out.logit_diff.ok_or_else(|| {
        RunError::invalid("edge gradients", "the run computed no logit difference")
    })?;
    let grads = ld.sum().backward();
    let c = &out.cache;
    let mean3 = |t: Tensor<3>| -> Tensor<2> {
        let [_, s, d] = t.dims();
        t.mean_dim(0).reshape([1, s * d])
    };
    let mut parts = Vec::with_capacity(2 * layers + 1);
    for l in 0..layers {
        let g = [
            c.probe_grad4(HookPoint::AttnQ(l), &grads)?,
            c.probe_grad4(HookPoint::AttnK(l), &grads)?,
            c.probe_grad4(HookPoint::AttnV(l), &grads)?,
        ];
        let x = c.r3(HookPoint::ResidPre(l))?.detach();
        let [q, k, v] = model.qkv_input_grads(l, x, g.map(|t| t.detach()))?;
        // [rows, s, h, d] each → mean over rows → [h, 3, s·d] → [3h, s·d]: a{l}.{h}<q, <k, <v.
        let per_head = |t: Tensor<4>| {
            let [_, s, h, d] = t.dims();
            t.mean_dim(0)
                .reshape([s, h, d])
                .swap_dims(0, 1)
                .reshape([h, 1, s * d])
        };
        let [_, s, h, d] = q.dims();
        parts.push(
            Tensor::cat(vec![per_head(q), per_head(k), per_head(v)], 1).reshape([3 * h, s * d]),
        );
        parts.push(mean3(c.probe_grad3(HookPoint::MlpIn(l), &grads)?));
    }
    parts.push(mean3(
        c.probe_grad3(HookPoint::ResidPost(layers - 1), &grads)?,
    ));
    Ok(Tensor::cat(parts, 0))
}

/// Every edge's Δ_u · g_v / D from the `[upstream, n]` and `[downstream, n]` matrices.
async fn edge_products(
    graph: &EdgeGraph,
    deltas: Tensor<2>,
    grads: Tensor<2>,
    denominator: f32,
) -> Result<Vec<f32>, RunError> {
    let n_down = graph.downstream.len();
    let all = to_host_async(deltas.matmul(grads.transpose()) / denominator).await?;
    Ok(graph
        .edges
        .iter()
        .map(|e| all[e.from * n_down + e.to])
        .collect())
}

/// EAP of every edge of one prompt, in [`EdgeGraph`]'s order.
pub async fn eap_async(model: &Gpt2, runs: &PromptRuns) -> Result<Vec<f32>, RunError> {
    let graph = EdgeGraph::new(model.config.n_layers, model.config.n_heads);
    let tokens = model.tokens(std::slice::from_ref(&runs.clean.tokens))?;
    let grads = input_gradients(model, Source::Tokens(tokens), runs, 1)?;
    edge_products(&graph, deltas(&graph, runs), grads, runs.denominator()).await
}

pub fn eap(model: &Gpt2, runs: &PromptRuns) -> Result<Vec<f32>, RunError> {
    block_on(eap_async(model, runs))
}

/// EAP-IG (inputs variant, `steps` ≥ 1) of every edge of one prompt.
pub async fn eap_ig_async(
    model: &Gpt2,
    runs: &PromptRuns,
    steps: usize,
) -> Result<Vec<f32>, RunError> {
    let graph = EdgeGraph::new(model.config.n_layers, model.config.n_heads);
    let (clean, corrupted) = (
        runs.clean.resid_pre[0].clone(),
        runs.corrupted.resid_pre[0].clone(),
    );
    let m = steps.max(1);
    let rows: Vec<Tensor<3>> = (1..=m)
        .map(|k| corrupted.clone() + (clean.clone() - corrupted.clone()) * (k as f64 / m as f64))
        .collect();
    let source = Source::ResidPre {
        layer: 0,
        resid: Tensor::cat(rows, 0),
    };
    let grads = input_gradients(model, source, runs, m)?;
    edge_products(&graph, deltas(&graph, runs), grads, runs.denominator()).await
}

pub fn eap_ig(model: &Gpt2, runs: &PromptRuns, steps: usize) -> Result<Vec<f32>, RunError> {
    block_on(eap_ig_async(model, runs, steps))
}

/// The hook that in_v is read through, and (for a head input) the head.
fn target(v: Downstream, layers: usize) -> (HookPoint, Option<usize>) {
    match v {
        Downstream::Head { layer, head, input } => (
            match input {
                QkvInput::Q => HookPoint::AttnQ(layer),
                QkvInput::K => HookPoint::AttnK(layer),
                QkvInput::V => HookPoint::AttnV(layer),
            },
            Some(head),
        ),
        Downstream::Mlp(layer) => (HookPoint::MlpIn(layer), None),
        Downstream::Logits => (HookPoint::ResidPost(layers - 1), None),
    }
}

/// The patch that noises `edges` (all into the same node `v`), one per row.
fn edge_patch(
    model: &Gpt2,
    graph: &EdgeGraph,
    runs: &PromptRuns,
    v: Downstream,
    edges: &[Edge],
) -> Result<Patch, RunError> {
    let layers = model.config.n_layers;
    let delta = |e: &Edge| {
        let u = graph.upstream[e.from];
        output(&runs.corrupted, u) - output(&runs.clean, u)
    };
    let (hook, head) = target(v, layers);
    // in_v of the clean run: the residual stream the node reads.
    let input = match v {
        Downstream::Head { layer, .. } => runs.clean.resid_pre[layer].clone(),
        Downstream::Mlp(layer) => runs.clean.mlp_in[layer].clone(),
        Downstream::Logits => runs.clean.resid_post[layers - 1].clone(),
    };
    let changed = Tensor::cat(edges.iter().map(|e| input.clone() + delta(e)).collect(), 0);
    match (v, head) {
        (Downstream::Head { layer, input, .. }, Some(h)) => {
            let [q, k, val] = model.qkv_of(layer, changed)?;
            let value = match input {
                QkvInput::Q => q,
                QkvInput::K => k,
                QkvInput::V => val,
            };
            Patch::per_row(
                hook,
                gradpatch_model::Activation::R4(value),
                &vec![h; edges.len()],
                &Positions::All,
            )
        }
        _ => Ok(Patch::whole(hook, gradpatch_model::Activation::R3(changed))),
    }
}

/// Exact patching of `edges` (indices into the graph's edges) of one prompt:
/// (LD with only that edge noised − LD_clean) / D, in the order given.
pub async fn exact_patching_async(
    model: &Gpt2,
    runs: &PromptRuns,
    edges: &[usize],
) -> Result<Vec<f32>, RunError> {
    let graph = EdgeGraph::new(model.config.n_layers, model.config.n_heads);
    let mut out = vec![f32::NAN; edges.len()];
    // Edges into the same node share one batched run (in chunks).
    let mut by_node: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, &e) in edges.iter().enumerate() {
        let edge = *graph.edges.get(e).ok_or_else(|| {
            RunError::invalid(
                format!("edge {e}"),
                format!("the model has {} edges", graph.edges.len()),
            )
        })?;
        match by_node.iter_mut().find(|(to, _)| *to == edge.to) {
            Some((_, list)) => list.push(i),
            None => by_node.push((edge.to, vec![i])),
        }
    }
    // The batches' logit differences stay on the device and are read back once at the end:
    // a readback per batch would wait for the GPU each time.
    let mut order = Vec::with_capacity(edges.len());
    let mut lds = Vec::new();
    for (to, list) in by_node {
        for chunk in list.chunks(EXACT_ROWS) {
            let chosen: Vec<Edge> = chunk.iter().map(|&i| graph.edges[edges[i]]).collect();
            let patch = edge_patch(model, &graph, runs, graph.downstream[to], &chosen)?;
            let hooks = Hooks::new().patch(patch);
            let rows = vec![runs.clean.tokens.clone(); chunk.len()];
            let run = model.run(Run {
                source: Source::Tokens(model.tokens(&rows)?),
                prefix: None,
                hooks: &hooks,
                readout: runs.readout(chunk.len(), 0),
            })?;
            let ld = run.logit_diff.ok_or_else(|| {
                RunError::invalid(
                    "exact edge patching",
                    "the run computed no logit difference",
                )
            })?;
            order.extend_from_slice(chunk);
            lds.push(ld);
        }
    }
    if lds.is_empty() {
        return Ok(out);
    }
    let lds = to_host_async(Tensor::cat(lds, 0)).await?;
    for (&i, l) in order.iter().zip(lds) {
        out[i] = (l - runs.clean.logit_diff) / runs.denominator();
    }
    Ok(out)
}

pub fn exact_patching(
    model: &Gpt2,
    runs: &PromptRuns,
    edges: &[usize],
) -> Result<Vec<f32>, RunError> {
    block_on(exact_patching_async(model, runs, edges))
}

/// The largest |in_v − (Σ_{u→v} a_u + Σ b_O of the attention layers before v)| over every
/// downstream node, position and feature of both runs: the residual decomposition the edge
/// scores rest on (0 up to float rounding).
pub async fn decomposition_error_async(model: &Gpt2, runs: &PromptRuns) -> Result<f32, RunError> {
    let layers = model.config.n_layers;
    let graph = EdgeGraph::new(layers, model.config.n_heads);
    let mut worst = 0.0f32;
    for run in [&runs.clean, &runs.corrupted] {
        for (to, &v) in graph.downstream.iter().enumerate() {
            let (input, biases) = match v {
                Downstream::Head { layer, .. } => (run.resid_pre[layer].clone(), layer),
                Downstream::Mlp(layer) => (run.mlp_in[layer].clone(), layer + 1),
                Downstream::Logits => (run.resid_post[layers - 1].clone(), layers),
            };
            let mut sum = input.zeros_like();
            for e in graph.edges.iter().filter(|e| e.to == to) {
                sum = sum + output(run, graph.upstream[e.from]);
            }
            for l in 0..biases {
                sum = sum + model.attn_out_bias(l)?.unsqueeze::<3>();
            }
            let err = to_host_async((input - sum).abs().max()).await?;
            worst = err.into_iter().fold(worst, f32::max);
        }
    }
    Ok(worst)
}

pub fn decomposition_error(model: &Gpt2, runs: &PromptRuns) -> Result<f32, RunError> {
    block_on(decomposition_error_async(model, runs))
}

/// How many of the `n` edges with the largest |exact| score (among `exact`, computed for
/// `edges`) are among the `n` edges the estimate `estimate` (every edge, graph order) ranks
/// first by |score|: the field's check of an estimate against exact patching.
pub fn found_of_top(estimate: &[f32], edges: &[usize], exact: &[f32], n: usize) -> usize {
    let top: Vec<usize> = by_abs(estimate).into_iter().take(n).collect();
    found_among(&top, edges, exact, n)
}

/// [`found_of_top`] from the estimate's own ranking, largest |score| first (at least its first
/// `n` edges): what a results file keeps of each prompt.
pub fn found_among(ranked: &[usize], edges: &[usize], exact: &[f32], n: usize) -> usize {
    let top = &ranked[..n.min(ranked.len())];
    by_abs(exact)
        .into_iter()
        .take(n)
        .filter(|&i| edges.get(i).is_some_and(|e| top.contains(e)))
        .count()
}

/// Indices of `scores` by |score|, largest first (ties in index order).
fn by_abs(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].abs().total_cmp(&scores[a].abs()));
    order
}
