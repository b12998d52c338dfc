//! GPT-2 on burn, with TransformerLens hook points: the model (embeddings, the blocks of
//! [`crate::layers`], the final LayerNorm and the unembedding), what a run takes and gives, and
//! the entry points that reach inside a block (`hook_z` to `hook_result`, `hook_mlp_in` to
//! `hook_post`). The forward pass is in `forward.rs` and `readout.rs`.

use burn::tensor::{Device, Tensor};

use crate::config::Gpt2Config;
use crate::error::RunError;
use crate::hooks::{ActivationCache, HookPoint, Hooks};
use crate::layers::{Block, LayerNorm, gelu_new};
use crate::processing::Processing;
use crate::vocab::RowChunks;

/// A GPT-2 on a burn device. Backends are chosen at run time by the [`Device`]
/// (`Device::ndarray()`, `Device::wgpu(..)`, ...); gradients flow when an input is
/// `.autodiff().require_grad()` (weights are constants).
pub struct Gpt2 {
    pub config: Gpt2Config,
    pub processing: Processing,
    pub(crate) device: Device,
    /// `W_E`, `[d_vocab, d_model]`.
    pub(crate) w_e: RowChunks,
    /// `W_pos`, `[n_ctx, d_model]`.
    pub(crate) w_pos: Tensor<2>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) ln_final: LayerNorm,
    /// `W_U` by vocabulary row, `[d_vocab, d_model]`: one row per token.
    pub(crate) unembed: RowChunks,
    /// `[d_vocab]`
    pub(crate) b_u: Tensor<1>,
}

/// Token ids of a batch, right-padded to `width`; `lens[r]` real tokens in row `r`.
#[derive(Clone, Debug)]
pub struct TokenBatch {
    /// `[rows, width]`, row-major, checked against the vocabulary.
    pub(crate) ids: Vec<u32>,
    pub(crate) width: usize,
    pub lens: Vec<usize>,
}

impl TokenBatch {
    /// Index of each row's last real token (where its metric is read, never at padding).
    pub fn last_positions(&self) -> Vec<usize> {
        self.lens.iter().map(|l| l - 1).collect()
    }
}

/// Where a run starts.
#[derive(Clone, Debug)]
pub enum Source {
    /// From token ids: the full model.
    Tokens(TokenBatch),
    /// At `blocks.{layer}.hook_resid_pre`, skipping the layers before (`layer == n_layers`:
    /// the final residual stream, only the readout runs).
    ResidPre { layer: usize, resid: Tensor<3> },
    /// At `blocks.{layer}.attn.hook_result` (attention of that layer not computed);
    /// `resid_pre` is that layer's residual input. `result` is `[batch, pos, n_heads, d_model]`,
    /// or `[batch, pos, 1, d_model]` holding the heads' sum (all the rest of the model sees).
    AttnResult {
        layer: usize,
        resid_pre: Tensor<3>,
        result: Tensor<4>,
    },
    /// At `blocks.{layer}.mlp.hook_post` (the MLP input side is not computed).
    MlpPost {
        layer: usize,
        resid_mid: Tensor<3>,
        post: Tensor<3>,
    },
}

/// What a run computes at the end.
#[derive(Clone, Debug)]
pub enum Readout {
    /// Nothing after the last block (only the cache).
    Nothing,
    /// Nothing, and no block after block `layer` runs (only the cache of those that ran).
    StopAfter(usize),
    /// Every logit at every position, `[batch, pos, d_vocab]`.
    AllLogits,
    /// The logits at one position per row, `[batch, d_vocab]`.
    LogitsAt { positions: Vec<usize> },
    /// logit(correct) − logit(incorrect) at one position per row, `[batch]`: only the final
    /// LayerNorm of those positions and two unembedding rows are computed.
    LogitDiff {
        positions: Vec<usize>,
        correct: Vec<u32>,
        incorrect: Vec<u32>,
    },
}

/// Keys and values of a token prefix shared by every row of later runs.
#[derive(Clone, Debug)]
pub struct PrefixKv {
    pub len: usize,
    /// Per layer, `[1, len, n_heads, d_head]`.
    pub(crate) k: Vec<Tensor<4>>,
    pub(crate) v: Vec<Tensor<4>>,
}

/// One run: where it starts, an optional shared prefix, the hooks, and the readout. Positions
/// (hooks, readout) count from the first token after the prefix.
pub struct Run<'a> {
    pub source: Source,
    pub prefix: Option<&'a PrefixKv>,
    pub hooks: &'a Hooks,
    pub readout: Readout,
}

#[derive(Debug, Default)]
pub struct RunOutput {
    pub logits: Option<Tensor<3>>,
    pub logits_at: Option<Tensor<2>>,
    pub logit_diff: Option<Tensor<1>>,
    pub cache: ActivationCache,
}

impl Gpt2 {
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the weights live on burn's CPU backend (ndarray), in host memory.
    pub fn on_cpu(&self) -> bool {
        #[allow(deprecated)] // burn 0.22 prefers `flex`; the project runs on ndarray.
        let cpu = Device::ndarray();
        self.device == cpu
    }

    /// Right-pads token rows into a batch, checking lengths and ids.
    pub fn tokens(&self, rows: &[Vec<u32>]) -> Result<TokenBatch, RunError> {
        self.tokens_after(rows, 0)
    }

    fn tokens_after(&self, rows: &[Vec<u32>], offset: usize) -> Result<TokenBatch, RunError> {
        if rows.is_empty() {
            return Err(RunError::EmptyBatch);
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows.len() * width);
        for (row, toks) in rows.iter().enumerate() {
            if toks.is_empty() {
                return Err(RunError::EmptyPrompt { row });
            }
            if offset + toks.len() > self.config.n_ctx {
                return Err(RunError::TooLong {
                    row,
                    len: toks.len(),
                    offset,
                    n_ctx: self.config.n_ctx,
                });
            }
            if let Some(&id) = toks.iter().find(|&&id| id as usize >= self.config.d_vocab) {
                return Err(RunError::TokenOutOfVocab {
                    row,
                    id,
                    vocab: self.config.d_vocab,
                });
            }
            ids.extend_from_slice(toks);
            // Padding is never read: attention is causal and metrics use each row's last token.
            ids.extend(std::iter::repeat_n(0u32, width - toks.len()));
        }
        Ok(TokenBatch {
            ids,
            width,
            lens: rows.iter().map(Vec::len).collect(),
        })
    }

    /// Keys and values of `tokens` (one row), reusable as the shared prefix of later runs.
    pub fn prefix_kv(&self, tokens: &[u32]) -> Result<PrefixKv, RunError> {
        let n = self.config.n_layers;
        let hooks =
            Hooks::new().cache((0..n).flat_map(|l| [HookPoint::AttnK(l), HookPoint::AttnV(l)]));
        let out = self.run(Run {
            source: Source::Tokens(self.tokens(&[tokens.to_vec()])?),
            prefix: None,
            hooks: &hooks,
            readout: Readout::Nothing,
        })?;
        let mut k = Vec::with_capacity(n);
        let mut v = Vec::with_capacity(n);
        for l in 0..n {
            k.push(out.cache.r4(HookPoint::AttnK(l))?);
            v.push(out.cache.r4(HookPoint::AttnV(l))?);
        }
        Ok(PrefixKv {
            len: tokens.len(),
            k,
            v,
        })
    }

    /// Runs the prefix-less tokens `rows` after `prefix` (positions continue after it).
    pub fn tokens_after_prefix(
        &self,
        rows: &[Vec<u32>],
        prefix: &PrefixKv,
    ) -> Result<TokenBatch, RunError> {
        self.tokens_after(rows, prefix.len)
    }

    /// `hook_result` of `layer` for a given `hook_z`.
    ///
    /// # Shapes
    /// `[batch, pos, n_heads, d_head]` → `[batch, pos, n_heads, d_model]`
    pub fn attn_result_from_z(&self, layer: usize, z: Tensor<4>) -> Result<Tensor<4>, RunError> {
        let block = self.block(layer)?;
        let [_, _, h, dh] = z.dims();
        if h != self.config.n_heads || dh != self.config.d_head() {
            return Err(RunError::invalid(
                "hook_z",
                format!(
                    "shape {:?}, expected [_, _, {}, {}]",
                    z.dims(),
                    self.config.n_heads,
                    self.config.d_head()
                ),
            ));
        }
        Ok(block.attn.result_from_z(z))
    }

    /// `mlp.hook_post` of `layer` for a given `hook_mlp_in` (no hooks run).
    ///
    /// # Shapes
    /// `[batch, pos, d_model]` → `[batch, pos, d_mlp]`
    pub fn mlp_post_from_in(&self, layer: usize, mlp_in: Tensor<3>) -> Result<Tensor<3>, RunError> {
        let block = self.block(layer)?;
        self.check_last(&mlp_in.dims(), self.config.d_model, "hook_mlp_in")?;
        Ok(gelu_new(block.mlp.w_in.forward(block.ln2.forward(mlp_in))))
    }

    /// Rows `start..start + len` of `W_out` (`mlp.c_proj`), `[len, d_model]`: what neurons
    /// `start..` of `layer` write to the residual stream per unit of `hook_post`.
    pub fn mlp_out_rows(
        &self,
        layer: usize,
        start: usize,
        len: usize,
    ) -> Result<Tensor<2>, RunError> {
        let block = self.block(layer)?;
        if start + len > self.config.d_mlp {
            return Err(RunError::invalid(
                "neurons",
                format!(
                    "{start}..{} outside d_mlp {}",
                    start + len,
                    self.config.d_mlp
                ),
            ));
        }
        Ok(block.mlp.w_out.w.clone().narrow(0, start, len))
    }

    pub(crate) fn block(&self, layer: usize) -> Result<&Block, RunError> {
        self.blocks.get(layer).ok_or_else(|| {
            RunError::invalid(
                format!("layer {layer}"),
                format!("the model has {} layers", self.config.n_layers),
            )
        })
    }

    pub(crate) fn check_last(
        &self,
        dims: &[usize],
        expected: usize,
        what: &str,
    ) -> Result<(), RunError> {
        if dims.last() != Some(&expected) {
            return Err(RunError::invalid(
                what,
                format!("shape {dims:?}, expected last axis {expected}"),
            ));
        }
        Ok(())
    }
}
