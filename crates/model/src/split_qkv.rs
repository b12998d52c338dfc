//! Each head's query, key and value input as its own copy of the residual stream (what
//! TransformerLens calls `use_split_qkv_input`), for edge-level attribution: the query, key and
//! value of every head computed from any residual input, and the gradient with respect to each
//! head's q/k/v input copy given the gradients at `hook_q` / `hook_k` / `hook_v` (the
//! vector–Jacobian product through `ln1` and that head's part of `W_Q` / `W_K` / `W_V`). The
//! forward pass itself is unchanged: every copy holds the same residual stream.

use burn::tensor::Tensor;

use crate::{Gpt2, RunError};

impl Gpt2 {
    /// `W_Q`, `W_K` or `W_V` (`part` 0, 1, 2) of layer `layer`, per head: `[heads, d_model, d_head]`.
    fn w_part(&self, layer: usize, part: usize) -> Result<Tensor<3>, RunError> {
        let qkv = &self.block(layer)?.attn.qkv.w;
        let [d, _] = qkv.dims();
        let (h, dh) = (self.config.n_heads, d / self.config.n_heads);
        Ok(qkv
            .clone()
            .slice([0..d, part * d..(part + 1) * d])
            .reshape([d, h, dh])
            .swap_dims(0, 1))
    }

    /// `b_O` of layer `layer`, `[d_model]`: the constant each attention layer adds to the
    /// residual stream besides its heads' outputs.
    pub fn attn_out_bias(&self, layer: usize) -> Result<Tensor<1>, RunError> {
        Ok(self.block(layer)?.attn.b_o.clone())
    }

    /// Every head's query, key and value (`hook_q`, `hook_k`, `hook_v`) of layer `layer` when
    /// the residual stream entering it is `x`.
    ///
    /// # Shapes
    /// `[batch, pos, d_model]` → three `[batch, pos, heads, d_head]`
    pub fn qkv_of(&self, layer: usize, x: Tensor<3>) -> Result<[Tensor<4>; 3], RunError> {
        let block = self.block(layer)?;
        let [b, s, d] = x.dims();
        let (h, dh) = (self.config.n_heads, d / self.config.n_heads);
        let qkv = block.attn.qkv.forward(block.ln1.forward(x));
        let part = |i: usize| {
            qkv.clone()
                .slice([0..b, 0..s, i * d..(i + 1) * d])
                .reshape([b, s, h, dh])
        };
        Ok([part(0), part(1), part(2)])
    }

    /// Part `part` (0 query, 1 key, 2 value) of every head of layer `layer` when each head reads
    /// its own residual input: `x[:, :, h]` goes through `ln1` and head h's weights only.
    ///
    /// # Shapes
    /// `[batch, pos, heads, d_model]` → `[batch, pos, heads, d_head]`
    pub fn qkv_of_heads(
        &self,
        layer: usize,
        part: usize,
        x: Tensor<4>,
    ) -> Result<Tensor<4>, RunError> {
        let block = self.block(layer)?;
        let [b, s, h, d] = x.dims();
        let dh = d / h.max(1);
        let normed = block.ln1.forward(x.reshape([b, s * h, d]));
        let y = normed
            .reshape([b * s, h, d])
            .swap_dims(0, 1)
            .matmul(self.w_part(layer, part)?)
            .swap_dims(0, 1)
            .reshape([b, s, h, dh]);
        let bias = block
            .attn
            .qkv
            .b
            .clone()
            .narrow(0, part * d, d)
            .reshape([1, 1, h, dh]);
        Ok(y + bias)
    }

    /// ∂metric / ∂(each head's query, key and value input copy) of layer `layer`, from the
    /// gradients at `hook_q`, `hook_k`, `hook_v` of a run whose residual stream entering the
    /// layer was `x`.
    ///
    /// # Shapes
    /// `x`: `[batch, pos, d_model]`, `grads`: three `[batch, pos, heads, d_head]` → three
    /// `[batch, pos, heads, d_model]`
    pub fn qkv_input_grads(
        &self,
        layer: usize,
        x: Tensor<3>,
        grads: [Tensor<4>; 3],
    ) -> Result<[Tensor<4>; 3], RunError> {
        let ln = &self.block(layer)?.ln1;
        let [b, s, d] = x.dims();
        let h = self.config.n_heads;
        // LayerNorm's forward quantities, [b, s, 1, d] and [b, s, 1, 1].
        let centred = x.clone() - x.mean_dim(2);
        let sigma = ((centred.clone() * centred.clone()).mean_dim(2) + ln.eps).sqrt();
        let normed = (centred / sigma.clone()).unsqueeze_dim::<4>(2);
        let sigma = sigma.unsqueeze_dim::<4>(2);
        let mut out = Vec::with_capacity(3);
        for (part, g) in grads.into_iter().enumerate() {
            let dh = g.dims()[3];
            // [h, b·s, d_head] × [h, d_head, d] → [h, b·s, d] → [b, s, h, d]
            let g = g.reshape([b * s, h, dh]).swap_dims(0, 1);
            let w = self.w_part(layer, part)?.swap_dims(1, 2);
            let mut g_normed = g.matmul(w).swap_dims(0, 1).reshape([b, s, h, d]);
            if let Some((weight, _)) = &ln.affine {
                g_normed = g_normed * weight.clone().unsqueeze::<4>();
            }
            // x̂ = (x − μ)/σ: ∂/∂x = (g − mean(g) − x̂ · mean(g ⊙ x̂)) / σ over d_model.
            let mean_g = g_normed.clone().mean_dim(3);
            let mean_gx = (g_normed.clone() * normed.clone()).mean_dim(3);
            out.push((g_normed - mean_g - normed.clone() * mean_gx) / sigma.clone());
        }
        let [q, k, v]: [Tensor<4>; 3] = out
            .try_into()
            .map_err(|_| RunError::invalid("q/k/v input gradients", "expected three"))?;
        Ok([q, k, v])
    }
}
