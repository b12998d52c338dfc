//! Node-set faithfulness: keep a set of heads (or of MLP neurons), noise every other one with the
//! corrupted run's value, and measure how much of the clean logit difference survives:
//! `f(K) = (LD_K − LD_corrupted) / (LD_clean − LD_corrupted)`.
//!
//! Heads are noised at `blocks.l.attn.hook_z` (the head's slice, every position), neurons at
//! `blocks.l.mlp.hook_post`; kept components are computed normally and see the patched residual
//! stream. One batched forward evaluates many sets (row r keeps set r). Positions before the
//! first token where the prompts differ hold equal values in both runs, so each run covers only
//! the positions after that shared prefix and attends to its cached keys and values.

use burn::tensor::{Bool, Tensor, TensorData};
use gradpatch_model::{
    Activation, Gpt2, HookPoint, Hooks, Patch, PatchMask, Run, RunError, Source, block_on,
    to_host_async,
};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::ComponentKind;

use crate::{Progress, rows_per_batch};

/// Largest activation of one batched forward, in bytes (as the AP sweep's batches).
const BATCH_BYTES: usize = 64 << 20;

/// The set sizes of a curve over `n` components: every k for a few hundred (heads), else
/// [`log_sizes`] (neurons).
pub fn curve_sizes(n: usize) -> Vec<usize> {
    if n <= 512 {
        return (0..=n).collect();
    }
    log_sizes(n)
}

/// 0, 1, 2, 4, … (powers of two below `n`), every 10% step, and `n`: the neurons' grid, and
/// the random baseline's for heads and neurons alike.
pub fn log_sizes(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = std::iter::once(0)
        .chain((0..).map(|e| 1usize << e).take_while(|&k| k < n))
        .chain((1..10).map(|t| n * t / 10))
        .chain(std::iter::once(n))
        .collect();
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// The seed of random ranking `draw` of a prompt: from its clean tokens (FNV-1a), so that a
/// prompt gets the same random rankings whichever run or shard computes it.
pub fn random_seed(clean_token_ids: &[u32], draw: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in clean_token_ids {
        for b in id.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^ (draw as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A seeded random order of `n` components (Fisher–Yates driven by SplitMix64: the same on
/// every platform).
pub fn random_ranking(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The faithfulness of each set of `kept` components (flat indices: `layer · heads + head`, or
/// `layer · d_mlp + neuron`) on one prompt, and whether it ran to the end uncancelled (a cancel
/// through `progress`, one unit per set, leaves the sets not reached NaN).
pub async fn faithfulness_async(
    model: &Gpt2,
    runs: &PromptRuns,
    kind: ComponentKind,
    kept: &[Vec<usize>],
    progress: &mut dyn Progress,
) -> Result<(Vec<f32>, bool), RunError> {
    let c = &model.config;
    let width = match kind {
        ComponentKind::Heads => c.n_heads,
        ComponentKind::Neurons => c.d_mlp,
    };
    let total = c.n_layers * width;
    if let Some(bad) = kept.iter().flatten().find(|&&i| i >= total) {
        return Err(RunError::invalid(
            "faithfulness",
            format!("component {bad} is not in the model ({total} of this kind)"),
        ));
    }
    let s = runs.len() - runs.shared_prefix;
    let per_row = s * (c.d_mlp + c.n_heads * c.d_model + 4 * c.d_model);
    let rows = rows_per_batch(per_row, BATCH_BYTES).max(1);
    let mut out = vec![f32::NAN; kept.len()];
    // Known without a run: keeping everything patches nothing (1); keeping no head makes the
    // last position's computation the corrupted run's (0). Exact, as the definitions are.
    let mut to_run = Vec::new();
    for (i, set) in kept.iter().enumerate() {
        match (set.len(), kind) {
            (n, _) if n == total && distinct(set) == total => out[i] = 1.0,
            (0, ComponentKind::Heads) => out[i] = 0.0,
            _ => to_run.push(i),
        }
    }
    let (mut done, n) = (0u64, to_run.len() as u64);
    let d = f64::from(runs.denominator());
    let corrupted = f64::from(runs.corrupted.logit_diff);
    for indices in to_run.chunks(rows) {
        let batch: Vec<&[usize]> = indices.iter().map(|&i| kept[i].as_slice()).collect();
        let lds = batch_lds(model, runs, kind, width, &batch).await?;
        for (&i, ld) in indices.iter().zip(lds) {
            out[i] = ((f64::from(ld) - corrupted) / d) as f32;
        }
        done += indices.len() as u64;
        let go_on = progress.update(done, n);
        progress.pause().await;
        if !go_on {
            // Cancelled: what finished is kept, and the caller stops here.
            return Ok((out, false));
        }
    }
    Ok((out, true))
}

/// How many different components `set` names.
fn distinct(set: &[usize]) -> usize {
    let mut sorted = set.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.len()
}

/// [`faithfulness_async`], blocking (natively).
pub fn faithfulness(
    model: &Gpt2,
    runs: &PromptRuns,
    kind: ComponentKind,
    kept: &[Vec<usize>],
    progress: &mut dyn Progress,
) -> Result<(Vec<f32>, bool), RunError> {
    block_on(faithfulness_async(model, runs, kind, kept, progress))
}

/// The logit differences of one batch of sets (row r keeps `batch[r]`), after the shared prefix.
async fn batch_lds(
    model: &Gpt2,
    runs: &PromptRuns,
    kind: ComponentKind,
    width: usize,
    batch: &[&[usize]],
) -> Result<Vec<f32>, RunError> {
    let c = &model.config;
    let (p0, rows) = (runs.shared_prefix, batch.len());
    let s = runs.len() - p0;
    let device = model.device();
    let mut hooks = Hooks::new();
    for l in 0..c.n_layers {
        // Noised: every component of layer l that row r does not keep.
        let mut noised = vec![true; rows * width];
        for (r, set) in batch.iter().enumerate() {
            for &i in set.iter().filter(|&&i| i / width == l) {
                noised[r * width + i % width] = false;
            }
        }
        let patch = match kind {
            ComponentKind::Heads => {
                let mask = TensorData::new(noised, [rows, 1, width, 1]);
                Patch {
                    hook: HookPoint::AttnZ(l),
                    value: Activation::R4(runs.corrupted.z[l].clone().narrow(1, p0, s)),
                    mask: Some(PatchMask::R4(Tensor::<4, Bool>::from_data(mask, device))),
                }
            }
            ComponentKind::Neurons => {
                let mask = TensorData::new(noised, [rows, 1, width]);
                Patch {
                    hook: HookPoint::MlpPost(l),
                    value: Activation::R3(runs.corrupted.post[l].clone().narrow(1, p0, s)),
                    mask: Some(PatchMask::R3(Tensor::<3, Bool>::from_data(mask, device))),
                }
            }
        };
        hooks = hooks.patch(patch);
    }
    let resid = runs.clean.resid_pre[0].clone().narrow(1, p0, s);
    let d = resid.dims()[2];
    let out = model.run(Run {
        source: Source::ResidPre {
            layer: 0,
            resid: resid.expand([rows, s, d]),
        },
        prefix: Some(&runs.prefix_kv),
        hooks: &hooks,
        readout: runs.readout(rows, p0),
    })?;
    let lds = out
        .logit_diff
        .ok_or_else(|| RunError::invalid("faithfulness", "no logit difference"))?;
    to_host_async(lds).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_take_every_k_for_heads_and_a_grid_for_neurons() {
        assert_eq!(curve_sizes(3), [0, 1, 2, 3]);
        assert_eq!(curve_sizes(144).len(), 145);
        let ks = curve_sizes(36_864);
        assert_eq!(&ks[..5], &[0, 1, 2, 4, 8]);
        assert!(
            ks.contains(&3686) && ks.contains(&18_432) && ks.ends_with(&[32_768, 33_177, 36_864])
        );
        assert!(ks.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(log_sizes(144)[..6], [0, 1, 2, 4, 8, 14]);
    }

    #[test]
    fn random_rankings_are_seeded_permutations() {
        let a = random_ranking(100, 7);
        assert_eq!(a, random_ranking(100, 7));
        assert_ne!(a, random_ranking(100, 8));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    }
}
