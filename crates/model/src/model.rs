//! GPT-2 on burn, with TransformerLens hook points. One file mirrors the Hugging Face module
//! names: embeddings, blocks of (ln_1, attn, ln_2, mlp), ln_f, unembedding.

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::config::Gpt2Config;
use crate::error::{LoadError, RunError};
use crate::hooks::{Activation, ActivationCache, HookPoint, Hooks, PatchMask};
use crate::processing::Processing;
use crate::weights::{HostWeights, LoadOptions, load_host_weights};

type Affine = (Tensor<1>, Tensor<1>);

struct Block {
    ln_1: Option<Affine>,
    /// `c_attn` `[d_model, 3 d_model]` (Q | K | V, head-major inside each).
    c_attn_w: Tensor<2>,
    c_attn_b: Tensor<1>,
    /// `c_proj` viewed per head: `[n_heads, d_head, d_model]`.
    w_o: Tensor<3>,
    b_o: Tensor<1>,
    ln_2: Option<Affine>,
    c_fc_w: Tensor<2>,
    c_fc_b: Tensor<1>,
    mlp_proj_w: Tensor<2>,
    mlp_proj_b: Tensor<1>,
}

/// A GPT-2 on a burn device. Backends are chosen at run time by the [`Device`]
/// (`Device::ndarray()`, `Device::wgpu(..)`, ...); gradients flow when an input is
/// `.autodiff().require_grad()` (weights are constants).
pub struct Gpt2 {
    pub config: Gpt2Config,
    pub processing: Processing,
    device: Device,
    wte: Tensor<2>,
    wpe: Tensor<2>,
    blocks: Vec<Block>,
    ln_f: Option<Affine>,
    /// `[d_vocab, d_model]`: one row per token.
    unembed: Tensor<2>,
    b_u: Tensor<1>,
}

/// Token ids of a batch, right-padded; `lens[r]` real tokens in row `r`.
#[derive(Clone, Debug)]
pub struct TokenBatch {
    pub ids: Tensor<2, Int>,
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
    /// At `blocks.{layer}.hook_resid_pre`, skipping the layers before.
    ResidPre { layer: usize, resid: Tensor<3> },
    /// At `blocks.{layer}.attn.hook_result` (attention of that layer not computed);
    /// `resid_pre` is that layer's residual input.
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
    k: Vec<Tensor<4>>,
    v: Vec<Tensor<4>>,
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
pub fn gelu_new<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let c = (2.0f64 / std::f64::consts::PI).sqrt();
    let inner = (x.clone() + x.clone().powf_scalar(3.0) * 0.044715) * c;
    x * (inner.tanh() + 1.0) * 0.5
}

fn layer_norm(x: Tensor<3>, eps: f64, affine: Option<&Affine>) -> Tensor<3> {
    let x = x.clone() - x.mean_dim(2);
    let scale = (x.clone().powf_scalar(2.0).mean_dim(2) + eps).sqrt();
    let x = x / scale;
    match affine {
        Some((w, b)) => x * w.clone().unsqueeze::<3>() + b.clone().unsqueeze::<3>(),
        None => x,
    }
}

fn linear(x: Tensor<3>, w: &Tensor<2>, b: &Tensor<1>) -> Tensor<3> {
    let [batch, pos, d_in] = x.dims();
    let out = w.dims()[1];
    let y = x.reshape([batch * pos, d_in]).matmul(w.clone()) + b.clone().unsqueeze::<2>();
    y.reshape([batch, pos, out])
}

/// Applies cache / patch / gradient-leaf hooks to one value.
struct HookCtx<'a> {
    hooks: &'a Hooks,
    cache: ActivationCache,
}

trait Hookable: Sized + Clone {
    fn wrap(self) -> Activation;
    fn from_act(a: &Activation) -> Result<Self, RunError>;
    fn dims_vec(&self) -> Vec<usize>;
    fn expand_to(self, dims: &[usize]) -> Self;
    fn masked(self, mask: &PatchMask, value: Self) -> Result<Self, RunError>;
    fn grad_leaf(self) -> Self;
}

macro_rules! hookable {
    ($d:literal, $variant:ident) => {
        impl Hookable for Tensor<$d> {
            fn wrap(self) -> Activation {
                Activation::$variant(self)
            }
            fn from_act(a: &Activation) -> Result<Self, RunError> {
                match a {
                    Activation::$variant(t) => Ok(t.clone()),
                    _ => Err(RunError::invalid(
                        "patch value",
                        concat!("expected rank ", $d),
                    )),
                }
            }
            fn dims_vec(&self) -> Vec<usize> {
                self.dims().to_vec()
            }
            fn expand_to(self, dims: &[usize]) -> Self {
                let mut shape = [0usize; $d];
                shape.copy_from_slice(dims);
                self.expand(shape)
            }
            fn masked(self, mask: &PatchMask, value: Self) -> Result<Self, RunError> {
                let PatchMask::$variant(m) = mask else {
                    return Err(RunError::invalid(
                        "patch mask",
                        concat!("expected rank ", $d),
                    ));
                };
                let dims = self.dims();
                let m: Tensor<$d, Bool> = m.clone();
                let md = m.dims();
                if md[0] != 1 && md[0] != dims[0] {
                    return Err(RunError::invalid(
                        "patch mask",
                        format!("{} rows for a batch of {}", md[0], dims[0]),
                    ));
                }
                Ok(self.mask_where(m.expand(dims), value))
            }
            fn grad_leaf(self) -> Self {
                self.detach().autodiff().require_grad()
            }
        }
    };
}
hookable!(3, R3);
hookable!(4, R4);

impl HookCtx<'_> {
    fn at<T: Hookable>(&mut self, point: HookPoint, mut t: T) -> Result<T, RunError> {
        if !self.hooks.touches(point) {
            return Ok(t);
        }
        for patch in self.hooks.patches.iter().filter(|p| p.hook == point) {
            let dims = t.dims_vec();
            let mut value = T::from_act(&patch.value)?;
            let vd = value.dims_vec();
            let batch_ok = vd[0] == dims[0] || vd[0] == 1;
            if !batch_ok || vd[1..] != dims[1..] {
                return Err(RunError::invalid(
                    format!("patch of {point}"),
                    format!("value has shape {vd:?}, the hook has {dims:?}"),
                ));
            }
            if vd[0] != dims[0] {
                value = value.expand_to(&dims);
            }
            t = match &patch.mask {
                None => value,
                Some(mask) => t.masked(mask, value)?,
            };
        }
        if self.hooks.grads.contains(&point) {
            t = t.grad_leaf();
        }
        if self.hooks.cache.contains(&point) || self.hooks.grads.contains(&point) {
            self.cache.values.insert(point, t.clone().wrap());
        }
        Ok(t)
    }
}

/// How a block is entered.
enum Entry {
    ResidPre(Tensor<3>),
    AttnResult(Tensor<3>, Tensor<4>),
    MlpPost(Tensor<3>, Tensor<3>),
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
        processing.apply(&mut host);
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
                let c_attn: Vec<f32> = (0..d)
                    .flat_map(|i| {
                        let row = i * d..(i + 1) * d;
                        let mut r = lw.w_q[row.clone()].to_vec();
                        r.extend_from_slice(&lw.w_k[row.clone()]);
                        r.extend_from_slice(&lw.w_v[row]);
                        r
                    })
                    .collect();
                let b_attn: Vec<f32> = lw
                    .b_q
                    .iter()
                    .chain(&lw.b_k)
                    .chain(&lw.b_v)
                    .copied()
                    .collect();
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
            wte: t2(&w.w_e, [c.d_vocab, d], device),
            wpe: t2(&w.w_pos, [c.n_ctx, d], device),
            blocks,
            ln_f: affine(&w.ln_f),
            unembed: t2(&w.unembed, [c.d_vocab, d], device),
            b_u: t1(&w.b_u, device),
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
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
            ids.extend(toks.iter().map(|&t| t as i64));
            // Padding is never read: attention is causal and metrics use each row's last token.
            ids.extend(std::iter::repeat_n(0i64, width - toks.len()));
        }
        Ok(TokenBatch {
            ids: Tensor::from_data(TensorData::new(ids, [rows.len(), width]), &self.device),
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

    fn block(&self, layer: usize) -> Result<&Block, RunError> {
        self.blocks.get(layer).ok_or_else(|| {
            RunError::invalid(
                format!("layer {layer}"),
                format!("the model has {} layers", self.config.n_layers),
            )
        })
    }

    fn check_last(&self, dims: &[usize], expected: usize, what: &str) -> Result<(), RunError> {
        if dims.last() != Some(&expected) {
            return Err(RunError::invalid(
                what,
                format!("shape {dims:?}, expected last axis {expected}"),
            ));
        }
        Ok(())
    }

    /// Runs the model.
    pub fn run(&self, run: Run<'_>) -> Result<RunOutput, RunError> {
        let offset = run.prefix.map_or(0, |p| p.len);
        let mut ctx = HookCtx {
            hooks: run.hooks,
            cache: ActivationCache::default(),
        };
        let c = &self.config;
        let (start, mut entry) = match run.source {
            Source::Tokens(batch) => {
                let [b, s] = batch.ids.dims();
                if offset + s > c.n_ctx {
                    return Err(RunError::TooLong {
                        row: 0,
                        len: s,
                        offset,
                        n_ctx: c.n_ctx,
                    });
                }
                let flat = batch.ids.reshape([b * s]);
                let embed = self.wte.clone().select(0, flat).reshape([b, s, c.d_model]);
                let embed = ctx.at(HookPoint::Embed, embed)?;
                let pos = self
                    .wpe
                    .clone()
                    .narrow(0, offset, s)
                    .unsqueeze::<3>()
                    .expand([b, s, c.d_model]);
                let pos = ctx.at(HookPoint::PosEmbed, pos)?;
                (0, Entry::ResidPre(embed + pos))
            }
            Source::ResidPre { layer, resid } => {
                self.block(layer)?;
                self.check_last(&resid.dims(), c.d_model, "resid_pre")?;
                (layer, Entry::ResidPre(resid))
            }
            Source::AttnResult {
                layer,
                resid_pre,
                result,
            } => {
                self.block(layer)?;
                self.check_last(&resid_pre.dims(), c.d_model, "resid_pre")?;
                let rd = result.dims();
                let rp = resid_pre.dims();
                if rd != [rp[0], rp[1], c.n_heads, c.d_model] {
                    return Err(RunError::invalid(
                        "hook_result",
                        format!(
                            "shape {rd:?}, expected [{}, {}, {}, {}]",
                            rp[0], rp[1], c.n_heads, c.d_model
                        ),
                    ));
                }
                (layer, Entry::AttnResult(resid_pre, result))
            }
            Source::MlpPost {
                layer,
                resid_mid,
                post,
            } => {
                self.block(layer)?;
                self.check_last(&resid_mid.dims(), c.d_model, "resid_mid")?;
                self.check_last(&post.dims(), c.d_mlp, "hook_post")?;
                (layer, Entry::MlpPost(resid_mid, post))
            }
        };
        for l in start..c.n_layers {
            let resid = self.block_forward(l, &mut ctx, entry, run.prefix)?;
            entry = Entry::ResidPre(resid);
        }
        let Entry::ResidPre(resid) = entry else {
            return Err(RunError::invalid("run", "ended inside a block"));
        };
        let mut out = RunOutput::default();
        let eps = c.layer_norm_eps;
        let final_norm = |ctx: &mut HookCtx<'_>, x: Tensor<3>, hooked: bool| {
            let x = layer_norm(x, eps, self.ln_f.as_ref());
            if hooked {
                ctx.at(HookPoint::LnFinalNormalized, x)
            } else {
                Ok(x)
            }
        };
        let [b, s, d] = resid.dims();
        match run.readout {
            Readout::Nothing => {
                if ctx.hooks.touches(HookPoint::LnFinalNormalized) {
                    final_norm(&mut ctx, resid, true)?;
                }
            }
            Readout::AllLogits => {
                let x = final_norm(&mut ctx, resid, true)?;
                let logits = x
                    .reshape([b * s, d])
                    .matmul(self.unembed.clone().transpose())
                    + self.b_u.clone().unsqueeze::<2>();
                out.logits = Some(logits.reshape([b, s, c.d_vocab]));
            }
            Readout::LogitsAt { ref positions } | Readout::LogitDiff { ref positions, .. } => {
                if positions.len() != b || positions.iter().any(|&p| p >= s) {
                    return Err(RunError::invalid(
                        "readout positions",
                        format!("{positions:?} for a batch of {b} rows of {s} positions"),
                    ));
                }
                let idx: Vec<i64> = positions
                    .iter()
                    .flat_map(|&p| std::iter::repeat_n(p as i64, d))
                    .collect();
                let idx =
                    Tensor::<3, Int>::from_data(TensorData::new(idx, [b, 1, d]), &self.device);
                // The final LayerNorm is per position: normalise only the read positions unless
                // its hook wants every position.
                let x = if ctx.hooks.touches(HookPoint::LnFinalNormalized) {
                    final_norm(&mut ctx, resid, true)?.gather(1, idx)
                } else {
                    final_norm(&mut ctx, resid.gather(1, idx), false)?
                };
                let x = x.reshape([b, d]);
                match run.readout {
                    Readout::LogitDiff {
                        correct, incorrect, ..
                    } => {
                        out.logit_diff = Some(self.logit_diff(x, &correct, &incorrect)?);
                    }
                    _ => {
                        out.logits_at = Some(
                            x.matmul(self.unembed.clone().transpose())
                                + self.b_u.clone().unsqueeze::<2>(),
                        );
                    }
                }
            }
        }
        out.cache = ctx.cache;
        Ok(out)
    }

    fn logit_diff(
        &self,
        x: Tensor<2>,
        correct: &[u32],
        incorrect: &[u32],
    ) -> Result<Tensor<1>, RunError> {
        let b = x.dims()[0];
        if correct.len() != b || incorrect.len() != b {
            return Err(RunError::invalid(
                "labels",
                format!(
                    "{} correct and {} incorrect ids for {b} rows",
                    correct.len(),
                    incorrect.len()
                ),
            ));
        }
        let logit = |ids: &[u32]| -> Result<Tensor<1>, RunError> {
            if let Some(&id) = ids.iter().find(|&&i| i as usize >= self.config.d_vocab) {
                return Err(RunError::invalid(
                    "label",
                    format!(
                        "token id {id} outside the vocabulary of {}",
                        self.config.d_vocab
                    ),
                ));
            }
            let idx = Tensor::<1, Int>::from_data(
                TensorData::new(ids.iter().map(|&i| i64::from(i)).collect::<Vec<_>>(), [b]),
                &self.device,
            );
            let rows = self.unembed.clone().select(0, idx.clone());
            let bias = self.b_u.clone().select(0, idx);
            Ok((x.clone() * rows).sum_dim(1).reshape([b]) + bias)
        };
        Ok(logit(correct)? - logit(incorrect)?)
    }

    fn block_forward(
        &self,
        l: usize,
        ctx: &mut HookCtx<'_>,
        entry: Entry,
        prefix: Option<&PrefixKv>,
    ) -> Result<Tensor<3>, RunError> {
        let block = &self.blocks[l];
        let c = &self.config;
        let eps = c.layer_norm_eps;
        let (resid_mid, post) = match entry {
            Entry::MlpPost(resid_mid, post) => (resid_mid, Some(post)),
            Entry::ResidPre(resid_pre) => {
                let resid_pre = ctx.at(HookPoint::ResidPre(l), resid_pre)?;
                let x = layer_norm(resid_pre.clone(), eps, block.ln_1.as_ref());
                let x = ctx.at(HookPoint::Ln1Normalized(l), x)?;
                let result = self.attention(l, ctx, x, prefix)?;
                (self.attn_out(l, ctx, resid_pre, result)?, None)
            }
            Entry::AttnResult(resid_pre, result) => {
                let result = ctx.at(HookPoint::AttnResult(l), result)?;
                (self.attn_out(l, ctx, resid_pre, result)?, None)
            }
        };
        let (resid_mid, post) = match post {
            Some(post) => (resid_mid, ctx.at(HookPoint::MlpPost(l), post)?),
            None => {
                let resid_mid = ctx.at(HookPoint::ResidMid(l), resid_mid)?;
                // hook_mlp_in is a copy read only by the MLP, as in TransformerLens.
                let mlp_in = ctx.at(HookPoint::MlpIn(l), resid_mid.clone())?;
                let x = layer_norm(mlp_in, eps, block.ln_2.as_ref());
                let x = ctx.at(HookPoint::Ln2Normalized(l), x)?;
                let pre = ctx.at(
                    HookPoint::MlpPre(l),
                    linear(x, &block.c_fc_w, &block.c_fc_b),
                )?;
                (resid_mid, ctx.at(HookPoint::MlpPost(l), gelu_new(pre))?)
            }
        };
        let mlp_out = linear(post, &block.mlp_proj_w, &block.mlp_proj_b);
        let mlp_out = ctx.at(HookPoint::MlpOut(l), mlp_out)?;
        ctx.at(HookPoint::ResidPost(l), resid_mid + mlp_out)
    }

    fn attn_out(
        &self,
        l: usize,
        ctx: &mut HookCtx<'_>,
        resid_pre: Tensor<3>,
        result: Tensor<4>,
    ) -> Result<Tensor<3>, RunError> {
        let [b, s, _, d] = result.dims();
        let out =
            result.sum_dim(2).reshape([b, s, d]) + self.blocks[l].b_o.clone().unsqueeze::<3>();
        let out = ctx.at(HookPoint::AttnOut(l), out)?;
        Ok(resid_pre + out)
    }

    /// Attention of block `l` up to `hook_result`.
    fn attention(
        &self,
        l: usize,
        ctx: &mut HookCtx<'_>,
        x: Tensor<3>,
        prefix: Option<&PrefixKv>,
    ) -> Result<Tensor<4>, RunError> {
        let block = &self.blocks[l];
        let c = &self.config;
        let (h, dh, d) = (c.n_heads, c.d_head(), c.d_model);
        let [b, s, _] = x.dims();
        let qkv = linear(x, &block.c_attn_w, &block.c_attn_b);
        let part = |i: usize| {
            qkv.clone()
                .slice([0..b, 0..s, i * d..(i + 1) * d])
                .reshape([b, s, h, dh])
        };
        let q = ctx.at(HookPoint::AttnQ(l), part(0))?;
        let k = ctx.at(HookPoint::AttnK(l), part(1))?;
        let v = ctx.at(HookPoint::AttnV(l), part(2))?;
        let (k, v, p) = match prefix {
            Some(pk) => (
                Tensor::cat(vec![pk.k[l].clone().expand([b, pk.len, h, dh]), k], 1),
                Tensor::cat(vec![pk.v[l].clone().expand([b, pk.len, h, dh]), v], 1),
                pk.len,
            ),
            None => (k, v, 0),
        };
        let keys = p + s;
        let scores = q.swap_dims(1, 2).matmul(k.permute([0, 2, 3, 1])) / (dh as f64).sqrt();
        // Causal mask: query i (absolute position p + i) sees keys 0..=p + i.
        let mask: Vec<bool> = (0..s * keys).map(|i| i % keys > p + i / keys).collect();
        let mask =
            Tensor::<4, Bool>::from_data(TensorData::new(mask, [1, 1, s, keys]), &self.device)
                .expand([b, h, s, keys]);
        let scores = ctx.at(
            HookPoint::AttnScores(l),
            scores.mask_fill(mask, f32::NEG_INFINITY),
        )?;
        let pattern = ctx.at(HookPoint::AttnPattern(l), softmax(scores, 3))?;
        let z = pattern.matmul(v.swap_dims(1, 2)).swap_dims(1, 2);
        let z = ctx.at(HookPoint::AttnZ(l), z)?;
        let result = self.attn_result_from_z(l, z)?;
        ctx.at(HookPoint::AttnResult(l), result)
    }
}
