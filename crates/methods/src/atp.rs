//! Attribution patching (AtP): the first-order Taylor approximation of activation patching,
//! from one forward and one backward pass per direction.
//!
//! Noising: the clean run's gradient of the logit difference at every head's `hook_result`
//! and every neuron's `mlp.hook_post`, times (corrupted − clean) activation, summed over
//! positions and `d_model`, divided by D = LD_clean − LD_corrupted. Denoising: the corrupted
//! run's gradient times (clean − corrupted). The gradients are total derivatives (through every
//! later layer): the run adds a zero "probe" at each hook and differentiates with respect to it,
//! which leaves the forward pass unchanged. Positions before the first token where the prompts
//! differ have equal activations in both runs, so their terms are exactly 0.

use burn::tensor::Tensor;
use gradpatch_model::{Gpt2, HookPoint, Hooks, Run, RunError, Source, block_on, to_host_async};
use gradpatch_runs::{PromptRuns, Which};

use crate::{Direction, Scores};

/// AtP scores of one prompt: the summed scores and, per head, the terms of each position.
#[derive(Clone, Debug, PartialEq)]
pub struct AtpScores {
    pub scores: Scores,
    /// `[layers][heads][positions]`, row-major: the head scores before the sum over positions.
    pub heads_pos: Vec<f32>,
}

/// AtP for every head and neuron of one prompt in `direction`.
pub fn attribution_patching(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
) -> Result<AtpScores, RunError> {
    block_on(attribution_patching_async(model, runs, direction))
}

/// [`attribution_patching`] for platforms that cannot block (WebGPU in the browser).
pub async fn attribution_patching_async(
    model: &Gpt2,
    runs: &PromptRuns,
    direction: Direction,
) -> Result<AtpScores, RunError> {
    let c = &model.config;
    let (nl, h, m) = (c.n_layers, c.n_heads, c.d_mlp);
    // The run whose gradient is taken, and the run whose activations are patched in.
    let (at, other) = match direction {
        Direction::Noising => (Which::Clean, Which::Corrupted),
        Direction::Denoising => (Which::Corrupted, Which::Clean),
    };
    let (base, patched) = (runs.run(at), runs.run(other));
    let probes: Vec<HookPoint> = (0..nl)
        .flat_map(|l| [HookPoint::AttnResult(l), HookPoint::MlpPost(l)])
        .collect();
    let hooks = probes.iter().fold(Hooks::new(), |hk, &p| hk.probe(p));
    let out = model.run(Run {
        source: Source::Tokens(model.tokens(std::slice::from_ref(&base.tokens))?),
        prefix: None,
        hooks: &hooks,
        readout: runs.readout(1, 0),
    })?;
    let ld = out
        .logit_diff
        .ok_or_else(|| RunError::invalid("AtP", "the run computed no logit difference"))?;
    let grads = ld.sum().backward();
    let denominator = runs.denominator();
    let s = runs.len();
    let mut scores = Scores::nan(nl, h, m);
    let mut heads_pos = vec![f32::NAN; nl * h * s];
    for l in 0..nl {
        // [1, S, H, d]: Σ_d (a_patched − a_base) · ∂LD/∂a, per position and head.
        let g = out.cache.probe_grad4(HookPoint::AttnResult(l), &grads)?;
        let terms = ((patched.result[l].clone() - base.result[l].clone()) * g)
            .sum_dim(3)
            .reshape([s, h]);
        let terms = to_host_async(terms / denominator).await?;
        for p in 0..s {
            for head in 0..h {
                heads_pos[(l * h + head) * s + p] = terms[p * h + head];
            }
        }
        for head in 0..h {
            scores.heads[l * h + head] = (0..s).map(|p| terms[p * h + head]).sum();
        }
        let g = out.cache.probe_grad3(HookPoint::MlpPost(l), &grads)?;
        let terms: Tensor<3> = (patched.post[l].clone() - base.post[l].clone()) * g;
        let neurons = to_host_async(terms.sum_dim(1).reshape([m]) / denominator).await?;
        scores.neurons[l * m..(l + 1) * m].copy_from_slice(&neurons);
    }
    Ok(AtpScores { scores, heads_pos })
}
