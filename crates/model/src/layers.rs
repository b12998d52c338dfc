//! The modules of GPT-2, in the order a block runs them: [`LayerNorm`], [`Linear`],
//! [`Attention`], [`Mlp`] and the [`Block`] that joins them. Each holds its own weights (named
//! as TransformerLens names them) and has a short forward that applies the hooks of its part
//! of the model through the run's [`HookCtx`].

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Tensor, TensorData};

use crate::error::RunError;
use crate::hook_ctx::HookCtx;
use crate::hooks::HookPoint;
use crate::model::PrefixKv;

/// GPT-2's `gelu_new` (tanh approximation), as TransformerLens computes it.
///
/// Written as 0.5 x (1 + tanh(u)) = x / (1 + exp(−2u)), u = √(2/π) (x + 0.044715 x³): seven
/// element-wise ops with one f32 `exp` instead of nine with a `tanh`, which the CPU backends
/// compute in f64 (and autodiff recomputes in the backward pass): the MLP activation was ~10% of
/// an IG sweep on the CPU. −2u is clamped at 80, where exp would overflow and the gradient become
/// 0·∞; there the value is 0 to f32 precision either way.
///
/// # Shapes
/// any → the same
pub fn gelu_new<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let c = (2.0f64 / std::f64::consts::PI).sqrt();
    // −2u = x (−2c − 2c·0.044715 x²), with multiplications: powf is slow on the CPU backends.
    let minus_2u = x.clone() * (x.clone() * x.clone() * (-2.0 * c * 0.044715) - 2.0 * c);
    x / (minus_2u.clamp_max(80.0).exp() + 1.0)
}

/// Layer normalisation over the last axis; without weights once they were folded into the
/// next layer (TransformerLens' `LNPre`).
pub(crate) struct LayerNorm {
    /// Weight and bias, `[d_model]` each.
    pub(crate) affine: Option<(Tensor<1>, Tensor<1>)>,
    pub(crate) eps: f64,
}

impl LayerNorm {
    /// # Shapes
    /// `[batch, pos, d_model]` → `[batch, pos, d_model]`
    pub(crate) fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone() - x.mean_dim(2);
        let scale = ((x.clone() * x.clone()).mean_dim(2) + self.eps).sqrt();
        let x = x / scale;
        match &self.affine {
            Some((w, b)) => x * w.clone().unsqueeze::<3>() + b.clone().unsqueeze::<3>(),
            None => x,
        }
    }
}

/// `x @ W + b` with `W` stored `[d_in, d_out]` (GPT-2's Conv1D orientation).
pub(crate) struct Linear {
    pub(crate) w: Tensor<2>,
    pub(crate) b: Tensor<1>,
}

impl Linear {
    /// # Shapes
    /// `[batch, pos, d_in]` → `[batch, pos, d_out]`
    pub(crate) fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, pos, d_in] = x.dims();
        let out = self.w.dims()[1];
        let y =
            x.reshape([batch * pos, d_in]).matmul(self.w.clone()) + self.b.clone().unsqueeze::<2>();
        y.reshape([batch, pos, out])
    }
}

/// What attention hands on: every head's `hook_result`, or only their sum (all the rest of the
/// model sees) when no hook looks at the heads one by one.
pub(crate) enum HeadsOut {
    /// `[batch, pos, n_heads, d_model]`
    PerHead(Tensor<4>),
    /// `[batch, pos, d_model]`
    Summed(Tensor<3>),
}

/// Causal multi-head self-attention of one block.
pub(crate) struct Attention {
    pub(crate) layer: usize,
    /// Q | K | V fused as GPT-2's `c_attn` stores them: `[d_model, 3 d_model]`, head-major
    /// inside each part.
    pub(crate) qkv: Linear,
    /// `W_O` per head: `[n_heads, d_head, d_model]`.
    pub(crate) w_o: Tensor<3>,
    /// `[d_model]`
    pub(crate) b_o: Tensor<1>,
}

impl Attention {
    /// Attention up to `hook_result` (per head only when a hook wants it). With `prefix`, keys
    /// and values of a shared token prefix come first; with `query`, only that query position
    /// is computed.
    ///
    /// # Shapes
    /// `[batch, pos, d_model]` → [`HeadsOut`] over `pos` positions (1 with `query`)
    pub(crate) fn forward(
        &self,
        ctx: &mut HookCtx<'_>,
        x: Tensor<3>,
        prefix: Option<&PrefixKv>,
        query: Option<usize>,
    ) -> Result<HeadsOut, RunError> {
        let l = self.layer;
        let [h, dh, d] = self.w_o.dims();
        let [b, s, _] = x.dims();
        let device = x.device();
        let qkv = self.qkv.forward(x);
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
        let (q, first_query, s) = match query {
            Some(pos) => (q.narrow(1, pos, 1), pos, 1),
            None => (q, 0, s),
        };
        let scores = q.swap_dims(1, 2).matmul(k.permute([0, 2, 3, 1])) / (dh as f64).sqrt();
        // Causal mask: query i (absolute position p + first_query + i) sees keys up to there.
        let mask: Vec<bool> = (0..s * keys)
            .map(|i| i % keys > p + first_query + i / keys)
            .collect();
        let mask = Tensor::<4, Bool>::from_data(TensorData::new(mask, [1, 1, s, keys]), &device)
            .expand([b, h, s, keys]);
        let scores = ctx.at(
            HookPoint::AttnScores(l),
            scores.mask_fill(mask, f32::NEG_INFINITY),
        )?;
        let pattern = ctx.at(HookPoint::AttnPattern(l), softmax(scores, 3))?;
        let z = pattern.matmul(v.swap_dims(1, 2)).swap_dims(1, 2);
        let z = ctx.at(HookPoint::AttnZ(l), z)?;
        if ctx.hooks.touches(HookPoint::AttnResult(l)) {
            let result = self.result_from_z(z);
            return Ok(HeadsOut::PerHead(ctx.at(HookPoint::AttnResult(l), result)?));
        }
        // Nobody looks at the heads one by one: one matmul over (head, d_head) gives their sum
        // (the same sum in another float order), without the [batch, pos, head, d_model] tensor.
        let [b, s, h, dh] = z.dims();
        let w_o = self.w_o.clone().reshape([h * dh, d]);
        Ok(HeadsOut::Summed(
            z.reshape([b * s, h * dh]).matmul(w_o).reshape([b, s, d]),
        ))
    }

    /// Each head's output in the residual stream (`hook_result`) from its `hook_z`.
    ///
    /// # Shapes
    /// `[batch, pos, n_heads, d_head]` → `[batch, pos, n_heads, d_model]`
    pub(crate) fn result_from_z(&self, z: Tensor<4>) -> Tensor<4> {
        let [b, s, h, dh] = z.dims();
        let d = self.w_o.dims()[2];
        let zh = z.permute([2, 0, 1, 3]).reshape([h, b * s, dh]);
        let r = zh.matmul(self.w_o.clone()).reshape([h, b, s, d]);
        r.permute([1, 2, 0, 3])
    }

    /// The residual stream after attention: `resid_pre` plus the heads' sum and `b_O`
    /// (`hook_attn_out`).
    ///
    /// # Shapes
    /// `[batch, pos, d_model]` and [`HeadsOut`] → `[batch, pos, d_model]`
    pub(crate) fn write(
        &self,
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
        let out = summed + self.b_o.clone().unsqueeze::<3>();
        let out = ctx.at(HookPoint::AttnOut(self.layer), out)?;
        Ok(resid_pre + out)
    }
}

/// The MLP of one block: `W_in`, `gelu_new`, `W_out`.
pub(crate) struct Mlp {
    pub(crate) layer: usize,
    /// `c_fc`: `[d_model, d_mlp]`.
    pub(crate) w_in: Linear,
    /// `c_proj`: `[d_mlp, d_model]`.
    pub(crate) w_out: Linear,
}

impl Mlp {
    /// The neurons' activations (`mlp.hook_pre`, then `mlp.hook_post`).
    ///
    /// # Shapes
    /// `[batch, pos, d_model]` (normalised) → `[batch, pos, d_mlp]`
    pub(crate) fn forward(
        &self,
        ctx: &mut HookCtx<'_>,
        x: Tensor<3>,
    ) -> Result<Tensor<3>, RunError> {
        let pre = ctx.at(HookPoint::MlpPre(self.layer), self.w_in.forward(x))?;
        ctx.at(HookPoint::MlpPost(self.layer), gelu_new(pre))
    }

    /// What the neurons write to the residual stream (`hook_mlp_out`).
    ///
    /// # Shapes
    /// `[batch, pos, d_mlp]` → `[batch, pos, d_model]`
    pub(crate) fn write(
        &self,
        ctx: &mut HookCtx<'_>,
        post: Tensor<3>,
    ) -> Result<Tensor<3>, RunError> {
        ctx.at(HookPoint::MlpOut(self.layer), self.w_out.forward(post))
    }
}

/// Where a block is entered: at its start, or past its attention (a patched `hook_result`) or
/// its MLP input (a patched `mlp.hook_post`), with the residual stream there.
pub(crate) enum Entry {
    ResidPre(Tensor<3>),
    AttnResult(Tensor<3>, Tensor<4>),
    MlpPost(Tensor<3>, Tensor<3>),
}

impl Entry {
    /// Positions of the residual stream.
    pub(crate) fn len(&self) -> usize {
        match self {
            Entry::ResidPre(t) | Entry::AttnResult(t, _) | Entry::MlpPost(t, _) => t.dims()[1],
        }
    }
}

/// `t` at the query position only (its position axis is 1), or whole without one.
fn at_query<const D: usize>(t: Tensor<D>, query: Option<usize>) -> Tensor<D> {
    match query {
        Some(pos) => t.narrow(1, pos, 1),
        None => t,
    }
}

/// One transformer block: `ln_1`, attention, `ln_2`, MLP, with residual connections.
pub(crate) struct Block {
    pub(crate) layer: usize,
    pub(crate) ln1: LayerNorm,
    pub(crate) attn: Attention,
    pub(crate) ln2: LayerNorm,
    pub(crate) mlp: Mlp,
}

impl Block {
    /// The residual stream after the block (`hook_resid_post`). With `query`, everything after
    /// the keys and values is computed at that position only.
    ///
    /// # Shapes
    /// [`Entry`] over `pos` positions → `[batch, pos, d_model]` (`pos` 1 with `query`)
    pub(crate) fn forward(
        &self,
        ctx: &mut HookCtx<'_>,
        entry: Entry,
        prefix: Option<&PrefixKv>,
        query: Option<usize>,
    ) -> Result<Tensor<3>, RunError> {
        let l = self.layer;
        let at = |t: Tensor<3>| at_query(t, query);
        let (resid_mid, post) = match entry {
            Entry::MlpPost(resid_mid, post) => {
                (at(resid_mid), ctx.at(HookPoint::MlpPost(l), at(post))?)
            }
            Entry::ResidPre(resid_pre) => {
                let resid_pre = ctx.at(HookPoint::ResidPre(l), resid_pre)?;
                let x = ctx.at(
                    HookPoint::Ln1Normalized(l),
                    self.ln1.forward(resid_pre.clone()),
                )?;
                let heads = self.attn.forward(ctx, x, prefix, query)?;
                let resid_mid = self.attn.write(ctx, at(resid_pre), heads)?;
                self.mlp_activations(ctx, resid_mid)?
            }
            Entry::AttnResult(resid_pre, result) => {
                let result = at_query(result, query);
                let resid_pre = at(resid_pre);
                let result = ctx.at(HookPoint::AttnResult(l), result)?;
                let resid_mid = self.attn.write(ctx, resid_pre, HeadsOut::PerHead(result))?;
                self.mlp_activations(ctx, resid_mid)?
            }
        };
        let mlp_out = self.mlp.write(ctx, post)?;
        ctx.at(HookPoint::ResidPost(l), resid_mid + mlp_out)
    }

    /// The residual stream between attention and MLP (`hook_resid_mid`) and the MLP's
    /// activations computed from it.
    fn mlp_activations(
        &self,
        ctx: &mut HookCtx<'_>,
        resid_mid: Tensor<3>,
    ) -> Result<(Tensor<3>, Tensor<3>), RunError> {
        let l = self.layer;
        let resid_mid = ctx.at(HookPoint::ResidMid(l), resid_mid)?;
        // hook_mlp_in is a copy read only by the MLP, as in TransformerLens.
        let mlp_in = ctx.at(HookPoint::MlpIn(l), resid_mid.clone())?;
        let x = ctx.at(HookPoint::Ln2Normalized(l), self.ln2.forward(mlp_in))?;
        Ok((resid_mid, self.mlp.forward(ctx, x)?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::readback::to_host;
    use burn::tensor::Device;

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
