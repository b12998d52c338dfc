//! Activation patching. Noising (the reference's forward AP): the clean run with one component's
//! activation replaced at every position by the corrupted run's; score = (patched − clean) /
//! (clean − corrupted). Denoising (reverse): the corrupted run with the clean activation;
//! score = (patched − corrupted) / (clean − corrupted).
//!
//! The fast sweep computes exactly that with far less work than one full forward per component:
//! * positions before the first differing token are identical in both runs, so a patch changes
//!   nothing there: runs cover only the remaining positions, attending to the shared prefix's
//!   cached keys/values;
//! * a run starts at the patched hook (`hook_result` of layer l) from the cached activations,
//!   skipping everything before it; a neuron patch is a rank-one change of layer l's output, so
//!   its run starts at layer l + 1;
//! * one batched forward patches a different component in each row;
//! * only the last position's final LayerNorm and two unembedding rows are computed.

use burn::tensor::Tensor;
use gradpatch_model::{
    Activation, Gpt2, HookPoint, Hooks, Patch, Positions, Run, RunError, Source, block_on, to_host,
    to_host_async,
};
use gradpatch_runs::{PromptRuns, Which};
use serde::{Deserialize, Serialize};

use crate::{Progress, Scores, rows_per_batch};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Clean run, corrupted activation patched in (the reference's forward AP).
    Noising,
    /// Corrupted run, clean activation patched in (the reference's reverse AP).
    Denoising,
}

impl std::str::FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "noising" => Ok(Direction::Noising),
            "denoising" => Ok(Direction::Denoising),
            other => Err(format!(
                "unknown AP direction \"{other}\", expected noising or denoising"
            )),
        }
    }
}

impl Direction {
    /// (the run, the source of the patched values)
    fn roles(self) -> (Which, Which) {
        match self {
            Direction::Noising => (Which::Clean, Which::Corrupted),
            Direction::Denoising => (Which::Corrupted, Which::Clean),
        }
    }

    fn score(self, runs: &PromptRuns, patched: f32) -> f32 {
        let base = runs.run(self.roles().0).logit_diff;
        ((f64::from(patched) - f64::from(base)) / f64::from(runs.denominator())) as f32
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ApOptions {
    pub direction: Direction,
    /// Largest activation of one batched forward, in bytes (bounds memory and GPU bindings).
    pub batch_bytes: usize,
}

impl Default for ApOptions {
    fn default() -> Self {
        Self {
            direction: Direction::Noising,
            batch_bytes: 64 << 20,
        }
    }
}

/// One patched component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Head { layer: usize, head: usize },
    Neuron { layer: usize, neuron: usize },
}

/// The full sweep over every head and neuron of one prompt. Returns the scores and whether the
/// sweep completed (a cancelled sweep keeps what it finished; the rest is NaN). Progress counts
/// one unit per component.
pub fn activation_patching(
    model: &Gpt2,
    runs: &PromptRuns,
    opts: &ApOptions,
    progress: &mut dyn Progress,
) -> Result<(Scores, bool), RunError> {
    block_on(activation_patching_async(model, runs, opts, progress))
}

/// [`activation_patching`] for platforms that cannot block (WebGPU in the browser).
pub async fn activation_patching_async(
    model: &Gpt2,
    runs: &PromptRuns,
    opts: &ApOptions,
    progress: &mut dyn Progress,
) -> Result<(Scores, bool), RunError> {
    let c = &model.config;
    let (h, m, nl) = (c.n_heads, c.d_mlp, c.n_layers);
    let mut scores = Scores::nan(nl, h, m);
    let total = (nl * (h + m)) as u64;
    let mut done = 0u64;
    let (run_which, src_which) = opts.direction.roles();
    let (run, src) = (runs.run(run_which), runs.run(src_which));
    let p0 = runs.shared_prefix;
    let s = runs.len() - p0;
    let suffix3 = |t: &Tensor<3>| t.clone().narrow(1, p0, s);
    let suffix4 = |t: &Tensor<4>| t.clone().narrow(1, p0, s);
    let patched_lds = |source: Source, patch: Patch, rows: usize| -> Result<Tensor<1>, RunError> {
        let out = model.run(Run {
            source,
            prefix: Some(&runs.prefix_kv),
            hooks: &Hooks::new().patch(patch),
            readout: runs.readout(rows, p0),
        })?;
        out.logit_diff
            .ok_or_else(|| RunError::invalid("AP", "no logit difference"))
    };
    for l in 0..nl {
        // Heads: one forward, row r patches head r.
        let resid = suffix3(&run.resid_pre[l]);
        let result = suffix4(&run.result[l]);
        let [_, _, _, d] = result.dims();
        let patch = Patch::per_row(
            HookPoint::AttnResult(l),
            Activation::R4(suffix4(&src.result[l])),
            &(0..h).collect::<Vec<_>>(),
            &Positions::All,
        )?;
        let source = Source::AttnResult {
            layer: l,
            resid_pre: resid.expand([h, s, d]),
            result: result.expand([h, s, h, d]),
        };
        let lds = to_host_async(patched_lds(source, patch, h)?).await?;
        for (head, ld) in lds.into_iter().enumerate() {
            scores.heads[l * h + head] = opts.direction.score(runs, ld);
        }
        done += h as u64;
        if !progress.update(done, total) {
            return Ok((scores, false));
        }
        progress.pause().await;
        // Neurons: batches of rows, row r patches neuron n0 + r. Replacing hook_post[:, :, n]
        // changes hook_mlp_out by Δpost[:, n] ⊗ W_out[n]: the run starts at the next layer's
        // residual stream, the cached one plus that rank-one change.
        let resid_post = suffix3(&run.resid_post[l]);
        let delta = suffix3(&src.post[l]) - suffix3(&run.post[l]); // [1, s, M]
        let rows = rows_per_batch(s * m, opts.batch_bytes).min(m);
        for n0 in (0..m).step_by(rows) {
            let n1 = (n0 + rows).min(m);
            let r = n1 - n0;
            let coeff = delta.clone().narrow(2, n0, r).permute([2, 1, 0]); // [r, s, 1]
            let w_rows = model.mlp_out_rows(l, n0, r)?.unsqueeze_dim::<3>(1); // [r, 1, d]
            let resid = resid_post.clone().expand([r, s, d]) + coeff * w_rows;
            let out = model.run(Run {
                source: Source::ResidPre {
                    layer: l + 1,
                    resid,
                },
                prefix: Some(&runs.prefix_kv),
                hooks: &Hooks::new(),
                readout: runs.readout(r, p0),
            })?;
            let lds = to_host_async(
                out.logit_diff
                    .ok_or_else(|| RunError::invalid("AP", "no logit difference"))?,
            )
            .await?;
            for (i, ld) in lds.into_iter().enumerate() {
                scores.neurons[l * m + n0 + i] = opts.direction.score(runs, ld);
            }
            done += r as u64;
            if !progress.update(done, total) {
                return Ok((scores, false));
            }
            progress.pause().await;
        }
    }
    Ok((scores, true))
}

/// The reference's loop, for comparison: one full forward of the run's tokens per component,
/// with the component replaced at every position.
pub fn activation_patching_naive(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
    components: &[Component],
    progress: &mut dyn Progress,
) -> Result<Vec<f32>, RunError> {
    let (run_which, src_which) = direction.roles();
    let (run, src) = (runs.run(run_which), runs.run(src_which));
    let mut out = Vec::with_capacity(components.len());
    for (i, comp) in components.iter().enumerate() {
        let patch = match *comp {
            Component::Head { layer, head } => Patch::component(
                HookPoint::AttnResult(layer),
                Activation::R4(src.result[layer].clone()),
                head,
                &Positions::All,
            )?,
            Component::Neuron { layer, neuron } => Patch::component(
                HookPoint::MlpPost(layer),
                Activation::R3(src.post[layer].clone()),
                neuron,
                &Positions::All,
            )?,
        };
        let res = model.run(Run {
            source: Source::Tokens(model.tokens(std::slice::from_ref(&run.tokens))?),
            prefix: None,
            hooks: &Hooks::new().patch(patch),
            readout: runs.readout(1, 0),
        })?;
        let ld = to_host(
            res.logit_diff
                .ok_or_else(|| RunError::invalid("AP", "no logit difference"))?,
        )?;
        out.push(direction.score(runs, ld[0]));
        if !progress.update(i as u64 + 1, components.len() as u64) {
            break;
        }
    }
    Ok(out)
}
