//! Exact activation patching of each head at each position: the run with `hook_result[:, p, h]`
//! alone replaced by the other run's, score = (patched − base) / (clean − corrupted).
//!
//! Replacing one head at one position changes the heads' sum at that position only, by the
//! difference of the two runs' results there. So a layer needs one batched forward that starts
//! at its `hook_result` (in the summed form, one `[rows, S, 1, d]` tensor) with row
//! r = (position, head) holding the cached sum plus that difference; positions before the first
//! differing token hold equal results in both runs and score exactly 0 without a run.
//! TransformerLens' way, one full forward per layer × head × position, needs
//! L · H · S forwards of S positions; this needs L forwards of H · (S − prefix) rows over
//! S − prefix positions.

use burn::tensor::{Tensor, TensorData};
use gradpatch_model::{Gpt2, Hooks, Run, RunError, Source, block_on, to_host_async};
use gradpatch_runs::PromptRuns;

use crate::ap::{roles, score};
use crate::{Direction, Progress, parts, rows_per_batch};

/// Per-position AP of every head of one prompt: `[layers][heads][positions]`, row-major, and
/// whether it completed (a cancelled run leaves NaN). Progress counts one unit per layer.
pub fn activation_patching_positions(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
    progress: &mut dyn Progress,
) -> Result<(Vec<f32>, bool), RunError> {
    block_on(activation_patching_positions_async(
        model, runs, direction, progress,
    ))
}

/// [`activation_patching_positions`] for platforms that cannot block (WebGPU in the browser).
pub async fn activation_patching_positions_async(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
    progress: &mut dyn Progress,
) -> Result<(Vec<f32>, bool), RunError> {
    let c = &model.config;
    let (nl, h) = (c.n_layers, c.n_heads);
    let (len, p0) = (runs.len(), runs.shared_prefix);
    let layers: Vec<usize> = (0..nl).collect();
    let (done, complete) = parts::run(
        &layers,
        1,
        |&l| layer_positions(model, runs, direction, l),
        |_| 1,
        progress,
    )
    .await?;
    let mut out = vec![f32::NAN; nl * h * len];
    for (&l, scores) in layers.iter().zip(done) {
        let Some(scores) = scores else { continue };
        // scores: row r = (p - p0) * h + head.
        for head in 0..h {
            let at = (l * h + head) * len;
            out[at..at + p0].fill(0.0);
            for p in p0..len {
                out[at + p] = scores[(p - p0) * h + head];
            }
        }
    }
    Ok((out, complete))
}

/// Scores of layer `l`'s heads at the positions after the shared prefix, row
/// `(p - prefix) * heads + head`.
async fn layer_positions(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
    l: usize,
) -> Result<Vec<f32>, RunError> {
    let (run_which, src_which) = roles(direction);
    let (run, src) = (runs.run(run_which), runs.run(src_which));
    let h = model.config.n_heads;
    let p0 = runs.shared_prefix;
    let s = runs.len() - p0;
    let device = model.device();
    let resid = run.resid_pre[l].clone().narrow(1, p0, s);
    let d = resid.dims()[2];
    let result = run.result[l].clone().narrow(1, p0, s); // [1, s, h, d]
    let delta = src.result[l].clone().narrow(1, p0, s) - result.clone(); // [1, s, h, d]
    let summed = result.sum_dim(2); // [1, s, 1, d]
    let rows = s * h;
    // One batched forward per chunk of rows keeps the activations under the budget.
    let chunk = rows_per_batch(s * model.config.d_mlp.max(d), 64 << 20).min(rows);
    let mut scores = Vec::with_capacity(rows);
    for first in (0..rows).step_by(chunk) {
        let count = chunk.min(rows - first);
        // Row r (= first + i) patches head r % h at suffix position r / h.
        let onehot: Vec<f32> = (first..first + count)
            .flat_map(|r| (0..s).map(move |p| if p == r / h { 1.0 } else { 0.0 }))
            .collect();
        let onehot = Tensor::<4>::from_data(TensorData::new(onehot, [count, s, 1, 1]), device);
        let change = delta
            .clone()
            .reshape([rows, 1, 1, d])
            .narrow(0, first, count); // [count, 1, 1, d]
        let source = Source::AttnResult {
            layer: l,
            resid_pre: resid.clone().expand([count, s, d]),
            result: summed.clone().expand([count, s, 1, d]) + onehot * change,
        };
        let out = model.run(Run {
            source,
            prefix: Some(&runs.prefix_kv),
            hooks: &Hooks::new(),
            readout: runs.readout(count, p0),
        })?;
        let lds = out
            .logit_diff
            .ok_or_else(|| RunError::invalid("AP per position", "no logit difference"))?;
        scores.extend(
            to_host_async(lds)
                .await?
                .into_iter()
                .map(|ld| score(direction, runs, ld)),
        );
    }
    Ok(scores)
}
