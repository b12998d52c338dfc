//! Edge-set faithfulness (`../shared/reference/CIRCUITS.md`, part B): a clean run in which every
//! downstream node's input becomes `in_v − Σ_{u→v ∉ E} (a_u − a_u(corrupted))`, a_u being u's
//! output in this same run, so that a changed node changes everything after it; the residual
//! stream the layers add to is left as it is. f(E) = (LD_E − LD_corrupted) / D.
//!
//! Layer by layer, rows = edge sets: each head's q/k/v from its own corrected input (every
//! head's at once, `Gpt2::qkv_of_heads`), attention from those (a run of that layer alone with
//! `hook_q/k/v` patched), the MLP from its corrected input (a run of that layer entered at
//! `hook_result`), the readout from the corrected final residual stream: about one forward per
//! batch of sets. The corrections are products of each row's mask of dropped edges with the
//! upstream nodes' differences; upstream nodes are in write order, so the nodes that reach a
//! downstream node are a prefix of them, and the nodes of one layer share it.

use burn::tensor::{Tensor, TensorData};
use gradpatch_model::{
    Activation, Gpt2, HookPoint, Hooks, Patch, Readout, Run, RunError, Source, block_on,
    to_host_async,
};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::{Downstream, EdgeGraph, QkvInput};

use crate::edges::output;

/// Edge sets per batched pass.
const ROWS: usize = 16;

/// What one batch of edge sets carries through the layers.
struct Pass<'a> {
    model: &'a Gpt2,
    graph: &'a EdgeGraph,
    /// Per downstream node, per row, 1 for each upstream node (of those that reach it) whose
    /// edge to it the row's set drops: `rows × reach[v]`, row-major.
    dropped: Vec<Vec<f32>>,
    reach: Vec<usize>,
    rows: usize,
    /// Upstream outputs of the corrupted run, `[1, pos, d]`.
    corrupted: Vec<Tensor<3>>,
    /// (a_u − a_u(corrupted)) of the upstream nodes computed so far, in groups (the input, each
    /// layer's heads, each MLP): the group's first node and `[rows, group, pos · d]`.
    diffs: Vec<(usize, Tensor<3>)>,
    computed: usize,
}

impl Pass<'_> {
    /// Adds this run's outputs of the next upstream nodes, `[rows, pos, d]` each.
    fn push(&mut self, outputs: Vec<Tensor<3>>) {
        let first = self.computed;
        let diffs: Vec<Tensor<3>> = outputs
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let [rows, s, d] = a.dims();
                (a - self.corrupted[first + i].clone()).reshape([rows, 1, s * d])
            })
            .collect();
        self.computed += diffs.len();
        self.diffs.push((first, Tensor::cat(diffs, 1)));
    }

    /// The corrections of downstream nodes `nodes` (all reached by the same upstream nodes),
    /// `[rows, nodes, pos · d]`: Σ over each row's dropped edges of (a_u − a_u(corrupted)).
    fn corrections(&self, nodes: &[usize]) -> Tensor<3> {
        let n_v = nodes.first().map_or(0, |&v| self.reach[v]);
        let mut mask = Vec::with_capacity(self.rows * nodes.len() * n_v);
        for r in 0..self.rows {
            for &v in nodes {
                mask.extend_from_slice(&self.dropped[v][r * n_v..(r + 1) * n_v]);
            }
        }
        let device = self.corrupted[0].device();
        let mask = Tensor::<3>::from_data(
            TensorData::new(mask, [self.rows, nodes.len(), n_v]),
            &device,
        );
        let [_, s, d] = self.corrupted[0].dims();
        let zero = Tensor::zeros([self.rows, nodes.len(), s * d], &device);
        self.diffs
            .iter()
            .filter(|(first, _)| *first < n_v)
            .fold(zero, |acc, (first, chunk)| {
                let n = chunk.dims()[1];
                acc + mask.clone().narrow(2, *first, n).matmul(chunk.clone())
            })
    }

    fn index(&self, v: Downstream) -> usize {
        self.graph
            .downstream
            .iter()
            .position(|&x| x == v)
            .unwrap_or(usize::MAX)
    }

    /// Layer `layer` on the residual stream `resid`; returns the stream after it.
    fn layer(&mut self, layer: usize, resid: Tensor<3>) -> Result<Tensor<3>, RunError> {
        let h = self.model.config.n_heads;
        let [rows, s, d] = resid.dims();
        // Every head's corrected q, k and v inputs, [rows, heads, 3, pos, d].
        let nodes: Vec<usize> = (0..h)
            .flat_map(|head| QkvInput::ALL.map(|input| (head, input)))
            .map(|(head, input)| self.index(Downstream::Head { layer, head, input }))
            .collect();
        let inputs = (resid.clone().reshape([rows, 1, s * d]) - self.corrections(&nodes))
            .reshape([rows, h, 3, s, d]);
        let points = [
            HookPoint::AttnQ(layer),
            HookPoint::AttnK(layer),
            HookPoint::AttnV(layer),
        ];
        let mut hooks = Hooks::new().cache([HookPoint::AttnResult(layer)]);
        for (part, point) in points.into_iter().enumerate() {
            let x = inputs
                .clone()
                .narrow(2, part, 1)
                .reshape([rows, h, s, d])
                .swap_dims(1, 2);
            let value = self.model.qkv_of_heads(layer, part, x)?;
            hooks = hooks.patch(Patch::whole(point, Activation::R4(value)));
        }
        let run = self.model.run(Run {
            source: Source::ResidPre {
                layer,
                resid: resid.clone(),
            },
            prefix: None,
            hooks: &hooks,
            readout: Readout::StopAfter(layer),
        })?;
        let result = run.cache.r4(HookPoint::AttnResult(layer))?.detach();
        self.push(
            (0..h)
                .map(|head| result.clone().narrow(2, head, 1).reshape([rows, s, d]))
                .collect(),
        );
        let resid_mid = resid.clone()
            + result.clone().sum_dim(2).reshape([rows, s, d])
            + self.model.attn_out_bias(layer)?.unsqueeze::<3>();
        let mlp = self.index(Downstream::Mlp(layer));
        let mlp_in = resid_mid.clone() - self.corrections(&[mlp]).reshape([rows, s, d]);
        let hooks = Hooks::new()
            .patch(Patch::whole(
                HookPoint::MlpIn(layer),
                Activation::R3(mlp_in),
            ))
            .cache([HookPoint::MlpOut(layer)]);
        let run = self.model.run(Run {
            source: Source::AttnResult {
                layer,
                resid_pre: resid,
                result,
            },
            prefix: None,
            hooks: &hooks,
            readout: Readout::StopAfter(layer),
        })?;
        let mlp_out = run.cache.r3(HookPoint::MlpOut(layer))?.detach();
        self.push(vec![mlp_out.clone()]);
        Ok(resid_mid + mlp_out)
    }
}

/// Per downstream node, how many upstream nodes reach it (a prefix of them) and, per row of
/// `sets`, 1 for each whose edge the set drops.
fn dropped_edges(
    graph: &EdgeGraph,
    sets: &[Vec<usize>],
) -> Result<(Vec<usize>, Vec<Vec<f32>>), RunError> {
    let mut reach = vec![0usize; graph.downstream.len()];
    for e in &graph.edges {
        reach[e.to] = reach[e.to].max(e.from + 1);
    }
    let rows = sets.len();
    let mut dropped: Vec<Vec<f32>> = reach.iter().map(|&n| vec![1.0; rows * n]).collect();
    for (r, set) in sets.iter().enumerate() {
        for &i in set {
            let e = graph.edges.get(i).ok_or_else(|| {
                RunError::invalid(
                    format!("edge {i}"),
                    format!("the model has {} edges", graph.edges.len()),
                )
            })?;
            dropped[e.to][r * reach[e.to] + e.from] = 0.0;
        }
    }
    Ok((reach, dropped))
}

/// f(E) for a batch of edge sets (indices into the graph's edges).
async fn batch(
    model: &Gpt2,
    graph: &EdgeGraph,
    runs: &PromptRuns,
    sets: &[Vec<usize>],
) -> Result<Vec<f32>, RunError> {
    let rows = sets.len();
    let (reach, dropped) = dropped_edges(graph, sets)?;
    let corrupted = graph
        .upstream
        .iter()
        .map(|&u| output(&runs.corrupted, u))
        .collect();
    let [_, s, d] = runs.clean.resid_pre[0].dims();
    let input = runs.clean.resid_pre[0].clone().expand([rows, s, d]);
    let mut pass = Pass {
        model,
        graph,
        dropped,
        reach,
        rows,
        corrupted,
        diffs: Vec::new(),
        computed: 0,
    };
    pass.push(vec![input.clone()]);
    let mut resid = input;
    for layer in 0..model.config.n_layers {
        resid = pass.layer(layer, resid)?;
    }
    let logits = graph.downstream.len() - 1;
    let last = resid - pass.corrections(&[logits]).reshape([rows, s, d]);
    let run = model.run(Run {
        source: Source::ResidPre {
            layer: model.config.n_layers,
            resid: last,
        },
        prefix: None,
        hooks: &Hooks::new(),
        readout: runs.readout(rows, 0),
    })?;
    let ld = run.logit_diff.ok_or_else(|| {
        RunError::invalid("edge faithfulness", "the run computed no logit difference")
    })?;
    let ld = to_host_async(ld).await?;
    Ok(ld
        .into_iter()
        .map(|l| (l - runs.corrupted.logit_diff) / runs.denominator())
        .collect())
}

/// The faithfulness of each edge set (indices into [`EdgeGraph`]'s edges) on one prompt.
pub async fn edge_faithfulness_async(
    model: &Gpt2,
    runs: &PromptRuns,
    sets: &[Vec<usize>],
) -> Result<Vec<f32>, RunError> {
    let graph = EdgeGraph::new(model.config.n_layers, model.config.n_heads);
    let mut out = Vec::with_capacity(sets.len());
    for chunk in sets.chunks(ROWS) {
        out.extend(batch(model, &graph, runs, chunk).await?);
    }
    Ok(out)
}

pub fn edge_faithfulness(
    model: &Gpt2,
    runs: &PromptRuns,
    sets: &[Vec<usize>],
) -> Result<Vec<f32>, RunError> {
    block_on(edge_faithfulness_async(model, runs, sets))
}
