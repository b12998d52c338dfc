//! The forward pass: embeddings, blocks, readout, with hooks applied at every TransformerLens
//! hook point.

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Int, Tensor, TensorData};

use crate::error::RunError;
use crate::hooks::{Activation, ActivationCache, HookPoint, Hooks, PatchMask};
use crate::model::{Gpt2, PrefixKv, Readout, Run, RunOutput, Source, gelu_new, layer_norm, linear};

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

/// What attention hands to `hook_attn_out`: every head's `hook_result`, or only their sum.
enum HeadsOut {
    PerHead(Tensor<4>),
    Summed(Tensor<3>),
}

/// How a block is entered.
enum Entry {
    ResidPre(Tensor<3>),
    AttnResult(Tensor<3>, Tensor<4>),
    MlpPost(Tensor<3>, Tensor<3>),
}

impl Gpt2 {
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
                let (b, s) = (batch.lens.len(), batch.width);
                if offset + s > c.n_ctx {
                    return Err(RunError::TooLong {
                        row: 0,
                        len: s,
                        offset,
                        n_ctx: c.n_ctx,
                    });
                }
                let embed = self.wte.rows(&batch.ids).reshape([b, s, c.d_model]);
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
                // layer == n_layers: the final residual stream, straight to the readout.
                if layer != c.n_layers {
                    self.block(layer)?;
                }
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
                let heads_ok = rd[2] == c.n_heads || rd[2] == 1;
                if rd[..2] != rp[..2] || !heads_ok || rd[3] != c.d_model {
                    return Err(RunError::invalid(
                        "hook_result",
                        format!(
                            "shape {rd:?}, expected [{}, {}, {} (or 1: the heads' sum), {}]",
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
        // "Compute only what the metric needs": when every row is read at the same position
        // and no hook looks inside the last block past its keys and values, that block runs
        // its queries, MLP and residual stream at that position only.
        let shared_position = match &run.readout {
            Readout::LogitsAt { positions } | Readout::LogitDiff { positions, .. } => positions
                .first()
                .copied()
                .filter(|p0| positions.iter().all(|p| p == p0)),
            _ => None,
        };
        let last = c.n_layers - 1;
        let last_block_hooked = ctx.hooks.points().any(|point| {
            let inside = point.layer() == Some(last)
                && !matches!(
                    point,
                    HookPoint::ResidPre(_)
                        | HookPoint::Ln1Normalized(_)
                        | HookPoint::AttnK(_)
                        | HookPoint::AttnV(_)
                );
            inside || point == HookPoint::LnFinalNormalized
        });
        let narrowed = shared_position.filter(|_| !last_block_hooked && start <= last);
        if let Some(pos) = narrowed {
            let len = match &entry {
                Entry::ResidPre(t) | Entry::AttnResult(t, _) | Entry::MlpPost(t, _) => t.dims()[1],
            };
            if pos >= len {
                return Err(RunError::invalid(
                    "readout positions",
                    format!("position {pos} for rows of {len} positions"),
                ));
            }
        }
        for l in start..c.n_layers {
            let query = if l == last { narrowed } else { None };
            let resid = self.block_forward(l, &mut ctx, entry, run.prefix, query)?;
            entry = Entry::ResidPre(resid);
        }
        let readout = match (narrowed, run.readout) {
            (Some(_), Readout::LogitsAt { positions }) => Readout::LogitsAt {
                positions: vec![0; positions.len()],
            },
            (
                Some(_),
                Readout::LogitDiff {
                    positions,
                    correct,
                    incorrect,
                },
            ) => Readout::LogitDiff {
                positions: vec![0; positions.len()],
                correct,
                incorrect,
            },
            (_, readout) => readout,
        };
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
        match readout {
            Readout::Nothing => {
                if ctx.hooks.touches(HookPoint::LnFinalNormalized) {
                    final_norm(&mut ctx, resid, true)?;
                }
            }
            Readout::AllLogits => {
                let x = final_norm(&mut ctx, resid, true)?;
                let logits = self.unembed.matmul_transposed(x.reshape([b * s, d]))
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
                match readout {
                    Readout::LogitDiff {
                        correct, incorrect, ..
                    } => {
                        out.logit_diff = Some(self.logit_diff(x, &correct, &incorrect)?);
                    }
                    _ => {
                        out.logits_at = Some(
                            self.unembed.matmul_transposed(x) + self.b_u.clone().unsqueeze::<2>(),
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
            let rows = self.unembed.rows(ids);
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
        query: Option<usize>,
    ) -> Result<Tensor<3>, RunError> {
        let block = &self.blocks[l];
        let c = &self.config;
        let eps = c.layer_norm_eps;
        // With `query`, everything after the keys and values is computed at that position only.
        let at3 = |t: Tensor<3>| match query {
            Some(pos) => t.narrow(1, pos, 1),
            None => t,
        };
        let (resid_mid, post) = match entry {
            Entry::MlpPost(resid_mid, post) => (at3(resid_mid), Some(at3(post))),
            Entry::ResidPre(resid_pre) => {
                let resid_pre = ctx.at(HookPoint::ResidPre(l), resid_pre)?;
                let x = layer_norm(resid_pre.clone(), eps, block.ln_1.as_ref());
                let x = ctx.at(HookPoint::Ln1Normalized(l), x)?;
                let result = self.attention(l, ctx, x, prefix, query)?;
                (self.attn_out(l, ctx, at3(resid_pre), result)?, None)
            }
            Entry::AttnResult(resid_pre, result) => {
                let result = match query {
                    Some(pos) => result.narrow(1, pos, 1),
                    None => result,
                };
                let resid_pre = at3(resid_pre);
                let result = ctx.at(HookPoint::AttnResult(l), result)?;
                (
                    self.attn_out(l, ctx, resid_pre, HeadsOut::PerHead(result))?,
                    None,
                )
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
        heads: HeadsOut,
    ) -> Result<Tensor<3>, RunError> {
        let summed = match heads {
            HeadsOut::PerHead(result) => {
                let [b, s, _, d] = result.dims();
                result.sum_dim(2).reshape([b, s, d])
            }
            HeadsOut::Summed(summed) => summed,
        };
        let out = summed + self.blocks[l].b_o.clone().unsqueeze::<3>();
        let out = ctx.at(HookPoint::AttnOut(l), out)?;
        Ok(resid_pre + out)
    }

    /// Attention of block `l` up to `hook_result` (per head only when a hook wants it).
    fn attention(
        &self,
        l: usize,
        ctx: &mut HookCtx<'_>,
        x: Tensor<3>,
        prefix: Option<&PrefixKv>,
        query: Option<usize>,
    ) -> Result<HeadsOut, RunError> {
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
        // Only one query position when the caller needs just that one (see `run`).
        let (q, first_query, s) = match query {
            Some(pos) => (q.narrow(1, pos, 1), pos, 1),
            None => (q, 0, s),
        };
        let scores = q.swap_dims(1, 2).matmul(k.permute([0, 2, 3, 1])) / (dh as f64).sqrt();
        // Causal mask: query i (absolute position p + first_query + i) sees keys up to there.
        let mask: Vec<bool> = (0..s * keys)
            .map(|i| i % keys > p + first_query + i / keys)
            .collect();
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
        if ctx.hooks.touches(HookPoint::AttnResult(l)) {
            let result = self.attn_result_from_z(l, z)?;
            return Ok(HeadsOut::PerHead(ctx.at(HookPoint::AttnResult(l), result)?));
        }
        // Nobody looks at the heads one by one: one matmul over (head, d_head) gives their sum
        // (the same sum in another float order), without the [batch, pos, head, d_model] tensor.
        let [b, s, h, dh] = z.dims();
        let w_o = self.blocks[l].w_o.clone().reshape([h * dh, c.d_model]);
        Ok(HeadsOut::Summed(
            z.reshape([b * s, h * dh])
                .matmul(w_o)
                .reshape([b, s, c.d_model]),
        ))
    }
}
