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
//! * only the last position's final LayerNorm and two unembedding rows are computed;
//! * natively on the CPU, the batched forwards run on all cores (`ApOptions::threads`).

use burn::tensor::Tensor;
use gradpatch_model::{
    Activation, Gpt2, HookPoint, Hooks, Patch, Positions, Run, RunError, Source, block_on,
    to_host_async,
};
use gradpatch_runs::{PromptRuns, Which};

use crate::{Component, Direction, Progress, Scores, parts, rows_per_batch};

/// (the run, the source of the patched values)
pub(crate) fn roles(direction: Direction) -> (Which, Which) {
    match direction {
        Direction::Noising => (Which::Clean, Which::Corrupted),
        Direction::Denoising => (Which::Corrupted, Which::Clean),
    }
}

pub(crate) fn score(direction: Direction, runs: &PromptRuns, patched: f32) -> f32 {
    let base = runs.run(roles(direction).0).logit_diff;
    ((f64::from(patched) - f64::from(base)) / f64::from(runs.denominator())) as f32
}

#[derive(Clone, Copy, Debug)]
pub struct ApOptions {
    pub direction: Direction,
    /// Largest activation of one batched forward, in bytes (bounds memory and GPU bindings).
    pub batch_bytes: usize,
    /// Threads sharing the batched forwards (natively, or the threaded browser worker's pool). More than
    /// one pays on the CPU backends: see [`crate::cpu_threads`].
    pub threads: usize,
}

impl Default for ApOptions {
    fn default() -> Self {
        Self {
            direction: Direction::Noising,
            batch_bytes: 64 << 20,
            threads: 1,
        }
    }
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

/// One batched forward of the sweep: a layer's heads (row r patches head r), or `count`
/// neurons of a layer from `first` on.
#[derive(Clone, Copy, Debug)]
enum Part {
    Heads(usize),
    Neurons {
        layer: usize,
        first: usize,
        count: usize,
    },
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
    let s = runs.len() - runs.shared_prefix;
    let rows = rows_per_batch(s * m, opts.batch_bytes).min(m);
    let parts: Vec<Part> = (0..nl)
        .flat_map(|layer| {
            let neurons = (0..m).step_by(rows).map(move |first| Part::Neurons {
                layer,
                first,
                count: (first + rows).min(m) - first,
            });
            std::iter::once(Part::Heads(layer)).chain(neurons)
        })
        .collect();
    let weight = |part: &Part| match *part {
        Part::Heads(_) => h as u64,
        Part::Neurons { count, .. } => count as u64,
    };
    let (done, complete) = parts::run(
        &parts,
        opts.threads,
        |&part| ap_part(model, runs, opts, part),
        weight,
        progress,
    )
    .await?;
    let mut scores = Scores::nan(nl, h, m);
    for (part, values) in parts.iter().zip(done) {
        let Some(values) = values else { continue };
        let slot = match *part {
            Part::Heads(l) => &mut scores.heads[l * h..(l + 1) * h],
            Part::Neurons {
                layer,
                first,
                count,
            } => &mut scores.neurons[layer * m + first..layer * m + first + count],
        };
        slot.copy_from_slice(&values);
    }
    Ok((scores, complete))
}

/// The scores of one part's components.
async fn ap_part(
    model: &Gpt2,
    runs: &PromptRuns,
    opts: &ApOptions,
    part: Part,
) -> Result<Vec<f32>, RunError> {
    let (run_which, src_which) = roles(opts.direction);
    let (run, src) = (runs.run(run_which), runs.run(src_which));
    let p0 = runs.shared_prefix;
    let s = runs.len() - p0;
    let suffix3 = |t: &Tensor<3>| t.clone().narrow(1, p0, s);
    let suffix4 = |t: &Tensor<4>| t.clone().narrow(1, p0, s);
    let (source, hooks, rows) = match part {
        Part::Heads(l) => {
            let h = model.config.n_heads;
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
            (source, Hooks::new().patch(patch), h)
        }
        Part::Neurons {
            layer: l,
            first,
            count,
        } => {
            // Replacing hook_post[:, :, n] changes hook_mlp_out by Δpost[:, n] ⊗ W_out[n]: the
            // run starts at the next layer's residual stream, the cached one plus that rank-one
            // change (row r patches neuron first + r).
            let resid_post = suffix3(&run.resid_post[l]);
            let d = resid_post.dims()[2];
            let delta = suffix3(&src.post[l]).narrow(2, first, count)
                - suffix3(&run.post[l]).narrow(2, first, count); // [1, s, count]
            let coeff = delta.permute([2, 1, 0]); // [count, s, 1]
            let w_rows = model.mlp_out_rows(l, first, count)?.unsqueeze_dim::<3>(1); // [count, 1, d]
            let resid = resid_post.expand([count, s, d]) + coeff * w_rows;
            let source = Source::ResidPre {
                layer: l + 1,
                resid,
            };
            (source, Hooks::new(), count)
        }
    };
    let out = model.run(Run {
        source,
        prefix: Some(&runs.prefix_kv),
        hooks: &hooks,
        readout: runs.readout(rows, p0),
    })?;
    let lds = out
        .logit_diff
        .ok_or_else(|| RunError::invalid("AP", "no logit difference"))?;
    Ok(to_host_async(lds)
        .await?
        .into_iter()
        .map(|ld| score(opts.direction, runs, ld))
        .collect())
}

/// The reference's loop, for comparison: one full forward of the run's tokens per component,
/// with the component replaced at every position (on `threads` threads natively, like the fast
/// sweep, so that the two compare fairly). A component a cancel left out is NaN.
pub fn activation_patching_naive(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
    components: &[Component],
    threads: usize,
    progress: &mut dyn Progress,
) -> Result<Vec<f32>, RunError> {
    let one = |&comp: &Component| naive_one(model, runs, direction, comp);
    let (done, _) = block_on(parts::run(components, threads, one, |_| 1, progress))?;
    Ok(done.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
}

async fn naive_one(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
    comp: Component,
) -> Result<f32, RunError> {
    let (run_which, src_which) = roles(direction);
    let (run, src) = (runs.run(run_which), runs.run(src_which));
    let patch = match comp {
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
    let ld = to_host_async(
        res.logit_diff
            .ok_or_else(|| RunError::invalid("AP", "no logit difference"))?,
    )
    .await?;
    Ok(score(direction, runs, ld[0]))
}
