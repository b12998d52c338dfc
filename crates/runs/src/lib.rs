//! The clean and corrupted runs of a prompt pair, cached once for every method: logit
//! differences, and per layer the activations IG and AP start from or patch in.

use burn::tensor::Tensor;
use gradpatch_dataset::TokenizedPair;
use gradpatch_model::{
    Gpt2, HookPoint, Hooks, PrefixKv, Readout, Run, RunError, Source, block_on, to_host,
    to_host_async,
};

/// The logit difference of every pair's clean (or corrupted) prompt, each read at its own last
/// token: batches of up to 64 prompts of any lengths, no cache (what `gradpatch logits`,
/// `bench` and `eval-ioi` report).
pub fn logit_diffs(
    model: &Gpt2,
    pairs: &[TokenizedPair],
    corrupted: bool,
) -> Result<Vec<f32>, RunError> {
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(64) {
        let rows: Vec<Vec<u32>> = chunk
            .iter()
            .map(|p| match corrupted {
                true => p.corrupted_ids.clone(),
                false => p.clean_ids.clone(),
            })
            .collect();
        let batch = model.tokens(&rows)?;
        let readout = Readout::LogitDiff {
            positions: batch.last_positions(),
            correct: chunk.iter().map(|p| p.correct_id).collect(),
            incorrect: chunk.iter().map(|p| p.incorrect_id).collect(),
        };
        let run = model.run(Run {
            source: Source::Tokens(batch),
            prefix: None,
            hooks: &Hooks::new(),
            readout,
        })?;
        let ld = run
            .logit_diff
            .ok_or_else(|| RunError::invalid("logit difference", "the run computed none"))?;
        out.extend(to_host(ld)?);
    }
    Ok(out)
}

/// Activations of one run (batch of one), per layer, every position.
#[derive(Clone, Debug)]
pub struct RunCache {
    pub tokens: Vec<u32>,
    pub logit_diff: f32,
    /// `blocks.l.hook_resid_pre`, `[1, S, d_model]`.
    pub resid_pre: Vec<Tensor<3>>,
    /// `blocks.l.attn.hook_z`, `[1, S, heads, d_head]`.
    pub z: Vec<Tensor<4>>,
    /// `blocks.l.attn.hook_result`, `[1, S, heads, d_model]`.
    pub result: Vec<Tensor<4>>,
    /// `blocks.l.hook_resid_mid`, `[1, S, d_model]`.
    pub resid_mid: Vec<Tensor<3>>,
    /// `blocks.l.hook_mlp_in`, `[1, S, d_model]`.
    pub mlp_in: Vec<Tensor<3>>,
    /// `blocks.l.mlp.hook_post`, `[1, S, d_mlp]`.
    pub post: Vec<Tensor<3>>,
    /// `blocks.l.hook_resid_post`, `[1, S, d_model]`.
    pub resid_post: Vec<Tensor<3>>,
}

/// Which of the two runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Clean,
    Corrupted,
}

/// Both runs of a prompt pair.
pub struct PromptRuns {
    pub pair: TokenizedPair,
    pub clean: RunCache,
    pub corrupted: RunCache,
    /// Positions `0..shared_prefix` hold the same tokens in both prompts, so every activation
    /// there is identical in both runs (attention is causal).
    pub shared_prefix: usize,
    /// Keys/values of the shared prefix, for runs over the remaining positions.
    pub prefix_kv: PrefixKv,
}

impl PromptRuns {
    /// Runs and caches both prompts (natively, or on a CPU backend in wasm).
    pub fn new(model: &Gpt2, pair: &TokenizedPair) -> Result<Self, RunError> {
        block_on(Self::new_async(model, pair))
    }

    /// [`PromptRuns::new`] for platforms that cannot block (WebGPU in the browser).
    pub async fn new_async(model: &Gpt2, pair: &TokenizedPair) -> Result<Self, RunError> {
        // At least BOS is shared, and at least the last position is run (identical prompts
        // share everything: their AP denominators are zero and their scores come out null).
        let shared_prefix = pair
            .shared_prefix_len()
            .min(pair.clean_ids.len().saturating_sub(1))
            .max(1);
        Ok(Self {
            clean: cache_run(model, &pair.clean_ids, pair).await?,
            corrupted: cache_run(model, &pair.corrupted_ids, pair).await?,
            prefix_kv: model.prefix_kv(&pair.clean_ids[..shared_prefix])?,
            shared_prefix,
            pair: pair.clone(),
        })
    }

    pub fn run(&self, which: Which) -> &RunCache {
        match which {
            Which::Clean => &self.clean,
            Which::Corrupted => &self.corrupted,
        }
    }

    pub fn len(&self) -> usize {
        self.clean.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clean.tokens.is_empty()
    }

    /// `clean − corrupted`, the AP normaliser.
    pub fn denominator(&self) -> f32 {
        self.clean.logit_diff - self.corrupted.logit_diff
    }

    /// The logit-difference readout for `rows` rows over positions `from..` of this prompt.
    pub fn readout(&self, rows: usize, from: usize) -> Readout {
        Readout::LogitDiff {
            positions: vec![self.len() - 1 - from; rows],
            correct: vec![self.pair.correct_id; rows],
            incorrect: vec![self.pair.incorrect_id; rows],
        }
    }
}

async fn cache_run(
    model: &Gpt2,
    tokens: &[u32],
    pair: &TokenizedPair,
) -> Result<RunCache, RunError> {
    let n = model.config.n_layers;
    let hooks = Hooks::new().cache((0..n).flat_map(|l| {
        [
            HookPoint::ResidPre(l),
            HookPoint::AttnZ(l),
            HookPoint::AttnResult(l),
            HookPoint::ResidMid(l),
            HookPoint::MlpIn(l),
            HookPoint::MlpPost(l),
            HookPoint::ResidPost(l),
        ]
    }));
    let out = model.run(Run {
        source: Source::Tokens(model.tokens(&[tokens.to_vec()])?),
        prefix: None,
        hooks: &hooks,
        readout: Readout::LogitDiff {
            positions: vec![tokens.len() - 1],
            correct: vec![pair.correct_id],
            incorrect: vec![pair.incorrect_id],
        },
    })?;
    let ld = out
        .logit_diff
        .ok_or_else(|| RunError::invalid("run", "no logit difference"))?;
    let c = &out.cache;
    let per_layer3 =
        |f: fn(usize) -> HookPoint| (0..n).map(|l| c.r3(f(l))).collect::<Result<Vec<_>, _>>();
    let per_layer4 =
        |f: fn(usize) -> HookPoint| (0..n).map(|l| c.r4(f(l))).collect::<Result<Vec<_>, _>>();
    Ok(RunCache {
        tokens: tokens.to_vec(),
        logit_diff: to_host_async(ld).await?[0],
        resid_pre: per_layer3(HookPoint::ResidPre)?,
        z: per_layer4(HookPoint::AttnZ)?,
        result: per_layer4(HookPoint::AttnResult)?,
        resid_mid: per_layer3(HookPoint::ResidMid)?,
        mlp_in: per_layer3(HookPoint::MlpIn)?,
        post: per_layer3(HookPoint::MlpPost)?,
        resid_post: per_layer3(HookPoint::ResidPost)?,
    })
}
