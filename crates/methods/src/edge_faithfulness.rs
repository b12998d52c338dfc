//! Edge-set faithfulness (`../shared/reference/CIRCUITS.md`, part B): a clean run in which every
//! downstream node's input becomes `in_v − Σ_{u→v ∉ E} (a_u − a_u(corrupted))`, a_u being u's
//! output in this same run, so that a changed node changes everything after it; the residual
//! stream the layers add to is left as it is. f(E) = (LD_E − LD_corrupted) / D.
//!
//! Layer by layer, rows = edge sets: each head's q/k/v from its own corrected input, attention
//! from those (a run entered at the layer with `hook_q/k/v` patched), the MLP from its
//! corrected input (a run entered at `hook_result`), the readout from the corrected final
//! residual stream. A node's correction is one product of the row's mask of dropped edges
//! with its upstream nodes' differences: upstream nodes are in write order, so the nodes that
//! can reach a downstream node are a prefix of them.

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
    /// `dropped[v]`: `[rows, 1, n_v]`, 1 where row's set lacks the edge from upstream u to v.
    dropped: Vec<Tensor<3>>,
    /// Upstream outputs of the corrupted run, `[1, pos, d]`.
    corrupted: Vec<Tensor<3>>,
    /// Upstream outputs of this run so far, `[rows, pos, d]`.
    this: Vec<Tensor<3>>,
}

impl Pass<'_> {
    /// Σ over dropped edges into downstream node `v` of (a_u − a_u(corrupted)), `[rows, pos, d]`.
    fn correction(&self, v: usize) -> Tensor<3> {
        let mask = self.dropped[v].clone();
        let n_v = mask.dims()[2];
        let [rows, s, d] = self.this[0].dims();
        let diffs: Vec<Tensor<3>> = (0..n_v)
            .map(|u| (self.this[u].clone() - self.corrupted[u].clone()).reshape([rows, 1, s * d]))
            .collect();
        mask.matmul(Tensor::cat(diffs, 1)).reshape([rows, s, d])
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
        let mut qkv = Vec::with_capacity(3);
        for input in QkvInput::ALL {
            let per_head = (0..h)
                .map(|head| {
                    let v = self.index(Downstream::Head { layer, head, input });
                    let x = resid.clone() - self.correction(v);
                    let part = self.model.qkv_of(layer, x)?;
                    let [q, k, val] = part;
                    let t = match input {
                        QkvInput::Q => q,
                        QkvInput::K => k,
                        QkvInput::V => val,
                    };
                    Ok(t.narrow(2, head, 1))
                })
                .collect::<Result<Vec<_>, RunError>>()?;
            qkv.push(Tensor::cat(per_head, 2));
        }
        let hooks = [
            HookPoint::AttnQ(layer),
            HookPoint::AttnK(layer),
            HookPoint::AttnV(layer),
        ]
        .into_iter()
        .zip(qkv)
        .fold(Hooks::new(), |hk, (p, t)| {
            hk.patch(Patch::whole(p, Activation::R4(t)))
        })
        .cache([HookPoint::AttnResult(layer)]);
        let run = self.model.run(Run {
            source: Source::ResidPre {
                layer,
                resid: resid.clone(),
            },
            prefix: None,
            hooks: &hooks,
            readout: Readout::Nothing,
        })?;
        let result = run.cache.r4(HookPoint::AttnResult(layer))?.detach();
        let [rows, s, _, d] = result.dims();
        for head in 0..h {
            self.this
                .push(result.clone().narrow(2, head, 1).reshape([rows, s, d]));
        }
        let resid_mid = resid.clone()
            + result.clone().sum_dim(2).reshape([rows, s, d])
            + self.model.attn_out_bias(layer)?.unsqueeze::<3>();
        let mlp_in = resid_mid.clone() - self.correction(self.index(Downstream::Mlp(layer)));
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
            readout: Readout::Nothing,
        })?;
        let mlp_out = run.cache.r3(HookPoint::MlpOut(layer))?.detach();
        self.this.push(mlp_out.clone());
        Ok(resid_mid + mlp_out)
    }
}

/// f(E) for a batch of edge sets (indices into the graph's edges).
async fn batch(
    model: &Gpt2,
    graph: &EdgeGraph,
    runs: &PromptRuns,
    sets: &[Vec<usize>],
) -> Result<Vec<f32>, RunError> {
    let rows = sets.len();
    let device = runs.clean.resid_pre[0].device();
    let nd = graph.downstream.len();
    // Per downstream node: the upstream nodes that reach it (a prefix) and, per row, the
    // dropped ones.
    let mut reach = vec![0usize; nd];
    for e in &graph.edges {
        reach[e.to] = reach[e.to].max(e.from + 1);
    }
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
    let dropped = dropped
        .into_iter()
        .zip(&reach)
        .map(|(m, &n)| Tensor::<3>::from_data(TensorData::new(m, [rows, 1, n]), &device))
        .collect();
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
        corrupted,
        this: vec![input.clone()],
    };
    let mut resid = input;
    for layer in 0..model.config.n_layers {
        resid = pass.layer(layer, resid)?;
    }
    let last = resid - pass.correction(nd - 1);
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
