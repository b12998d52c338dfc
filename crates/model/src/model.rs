//! GPT-2 on burn, with TransformerLens hook points. One file mirrors the Hugging Face module
//! names: embeddings, blocks of (ln_1, attn, ln_2, mlp), ln_f, unembedding.

use burn::tensor::{Device, Tensor, TensorData};

use crate::config::Gpt2Config;
use crate::error::{LoadError, RunError};
use crate::hooks::{ActivationCache, HookPoint, Hooks};
use crate::processing::Processing;
use crate::vocab::RowChunks;
use crate::weights::{HostWeights, LoadOptions, load_host_weights};

pub(crate) type Affine = (Tensor<1>, Tensor<1>);

pub(crate) struct Block {
    pub(crate) ln_1: Option<Affine>,
    /// `c_attn` `[d_model, 3 d_model]` (Q | K | V, head-major inside each).
    pub(crate) c_attn_w: Tensor<2>,
    pub(crate) c_attn_b: Tensor<1>,
    /// `c_proj` viewed per head: `[n_heads, d_head, d_model]`.
    pub(crate) w_o: Tensor<3>,
    pub(crate) b_o: Tensor<1>,
    pub(crate) ln_2: Option<Affine>,
    pub(crate) c_fc_w: Tensor<2>,
    pub(crate) c_fc_b: Tensor<1>,
    pub(crate) mlp_proj_w: Tensor<2>,
    pub(crate) mlp_proj_b: Tensor<1>,
}

/// A GPT-2 on a burn device. Backends are chosen at run time by the [`Device`]
/// (`Device::ndarray()`, `Device::wgpu(..)`, ...); gradients flow when an input is
/// `.autodiff().require_grad()` (weights are constants).
pub struct Gpt2 {
    pub config: Gpt2Config,
    pub processing: Processing,
    pub(crate) device: Device,
    pub(crate) wte: RowChunks,
    pub(crate) wpe: Tensor<2>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) ln_f: Option<Affine>,
    /// `[d_vocab, d_model]`: one row per token.
    pub(crate) unembed: RowChunks,
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

fn t1(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

fn t2(v: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

/// GPT-2's `gelu_new` (tanh approximation), as TransformerLens computes it.
///
/// Written as 0.5 x (1 + tanh(u)) = x / (1 + exp(−2u)), u = √(2/π) (x + 0.044715 x³): seven
/// element-wise ops with one f32 `exp` instead of nine with a `tanh`, which the CPU backends
/// compute in f64 (and autodiff recomputes in the backward pass): the MLP activation was ~10% of
/// an IG sweep on the CPU. −2u is clamped at 80, where exp would overflow and the gradient become
/// 0·∞; there the value is 0 to f32 precision either way.
pub fn gelu_new<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let c = (2.0f64 / std::f64::consts::PI).sqrt();
    // −2u = x (−2c − 2c·0.044715 x²), with multiplications: powf is slow on the CPU backends.
    let minus_2u = x.clone() * (x.clone() * x.clone() * (-2.0 * c * 0.044715) - 2.0 * c);
    x / (minus_2u.clamp_max(80.0).exp() + 1.0)
}

pub(crate) fn layer_norm(x: Tensor<3>, eps: f64, affine: Option<&Affine>) -> Tensor<3> {
    let x = x.clone() - x.mean_dim(2);
    let scale = ((x.clone() * x.clone()).mean_dim(2) + eps).sqrt();
    let x = x / scale;
    match affine {
        Some((w, b)) => x * w.clone().unsqueeze::<3>() + b.clone().unsqueeze::<3>(),
        None => x,
    }
}

pub(crate) fn linear(x: Tensor<3>, w: &Tensor<2>, b: &Tensor<1>) -> Tensor<3> {
    let [batch, pos, d_in] = x.dims();
    let out = w.dims()[1];
    let y = x.reshape([batch * pos, d_in]).matmul(w.clone()) + b.clone().unsqueeze::<2>();
    y.reshape([batch, pos, out])
}
impl Gpt2 {
    /// Reads a checkpoint from bytes, applies the weight processing and moves it to `device`.
    pub fn load(
        bytes: &[u8],
        opts: &LoadOptions<'_>,
        processing: Processing,
        device: &Device,
    ) -> Result<Self, LoadError> {
        let mut host = load_host_weights(bytes, opts)?;
        crate::processing::apply(processing, &mut host);
        Ok(Self::from_host(&host, processing, device))
    }

    /// Moves (already processed) host weights to `device`.
    pub fn from_host(w: &HostWeights, processing: Processing, device: &Device) -> Self {
        let c = &w.config;
        let (d, m, h) = (c.d_model, c.d_mlp, c.n_heads);
        let affine = |a: &Option<(Vec<f32>, Vec<f32>)>| {
            a.as_ref().map(|(g, b)| (t1(g, device), t1(b, device)))
        };
        let blocks = w
            .layers
            .iter()
            .map(|lw| {
                let (c_attn, b_attn) = lw.c_attn();
                Block {
                    ln_1: affine(&lw.ln1),
                    c_attn_w: t2(&c_attn, [d, 3 * d], device),
                    c_attn_b: t1(&b_attn, device),
                    w_o: Tensor::from_data(TensorData::new(lw.w_o.clone(), [h, d / h, d]), device),
                    b_o: t1(&lw.b_o, device),
                    ln_2: affine(&lw.ln2),
                    c_fc_w: t2(&lw.w_in, [d, m], device),
                    c_fc_b: t1(&lw.b_in, device),
                    mlp_proj_w: t2(&lw.w_out, [m, d], device),
                    mlp_proj_b: t1(&lw.b_out, device),
                }
            })
            .collect();
        Self {
            config: c.clone(),
            processing,
            device: device.clone(),
            wte: RowChunks::new(&w.w_e, c.d_vocab, d, device),
            wpe: t2(&w.w_pos, [c.n_ctx, d], device),
            blocks,
            ln_f: affine(&w.ln_f),
            unembed: RowChunks::new(&w.unembed, c.d_vocab, d, device),
            b_u: t1(&w.b_u, device),
        }
    }

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

    /// `hook_result` of `layer` for a given `hook_z` (`[b, pos, head, d_head]`).
    pub fn attn_result_from_z(&self, layer: usize, z: Tensor<4>) -> Result<Tensor<4>, RunError> {
        let block = self.block(layer)?;
        let [b, s, h, dh] = z.dims();
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
        let d = self.config.d_model;
        let zh = z.permute([2, 0, 1, 3]).reshape([h, b * s, dh]);
        let r = zh.matmul(block.w_o.clone()).reshape([h, b, s, d]);
        Ok(r.permute([1, 2, 0, 3]))
    }

    /// `mlp.hook_post` of `layer` for a given `hook_mlp_in` (`[b, pos, d_model]`).
    pub fn mlp_post_from_in(&self, layer: usize, mlp_in: Tensor<3>) -> Result<Tensor<3>, RunError> {
        let block = self.block(layer)?;
        self.check_last(&mlp_in.dims(), self.config.d_model, "hook_mlp_in")?;
        let x = layer_norm(mlp_in, self.config.layer_norm_eps, block.ln_2.as_ref());
        Ok(gelu_new(linear(x, &block.c_fc_w, &block.c_fc_b)))
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
        Ok(block.mlp_proj_w.clone().narrow(0, start, len))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::readback::to_host;

    /// The exp form equals TransformerLens' tanh form, value and derivative, from deep in the
    /// negative tail (where exp is clamped) to large positive inputs.
    #[test]
    #[allow(deprecated)]
    fn gelu_new_equals_the_tanh_form_with_finite_gradients() {
        let device = Device::ndarray();
        let xs: Vec<f32> = (-600..=600).map(|i| i as f32 * 0.1).collect();
        let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &device)
            .autodiff()
            .require_grad();
        let y = gelu_new(x.clone());
        let grads = y.clone().sum().backward();
        let dy = to_host(x.grad(&grads).unwrap()).unwrap();
        let y = to_host(y.detach()).unwrap();
        let c = (2.0f64 / std::f64::consts::PI).sqrt();
        for ((&xf, &got), &dgot) in xs.iter().zip(&y).zip(&dy) {
            let x = f64::from(xf);
            let u = c * (x + 0.044715 * x.powi(3));
            let t = u.tanh();
            let value = 0.5 * x * (1.0 + t);
            let slope =
                0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * x * x);
            assert!(
                (f64::from(got) - value).abs() <= 1e-6 * (1.0 + value.abs()),
                "gelu_new({x}) = {got}, expected {value}"
            );
            assert!(
                dgot.is_finite() && (f64::from(dgot) - slope).abs() <= 1e-5,
                "gelu_new'({x}) = {dgot}, expected {slope}"
            );
        }
    }
}
