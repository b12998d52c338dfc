//! The names and shapes of GPT-2's tensors in a checkpoint: the one table that loading
//! ([`crate::weights`]) and saving ([`crate::save`]) share.

use std::borrow::Cow;

use crate::weights::LayerWeights;

/// A tensor of one block, stored as `h.{layer}.{name}` (after the layout's prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockTensor {
    Ln1Weight,
    Ln1Bias,
    /// Q | K | V fused (`c_attn`).
    QkvWeight,
    QkvBias,
    /// `W_O` (`attn.c_proj`).
    OWeight,
    OBias,
    Ln2Weight,
    Ln2Bias,
    /// `W_in` (`mlp.c_fc`).
    InWeight,
    InBias,
    /// `W_out` (`mlp.c_proj`).
    OutWeight,
    OutBias,
}

impl BlockTensor {
    /// Every tensor of a block, in the order the hub's file lists them.
    pub(crate) const ALL: [BlockTensor; 12] = [
        BlockTensor::Ln1Weight,
        BlockTensor::Ln1Bias,
        BlockTensor::QkvWeight,
        BlockTensor::QkvBias,
        BlockTensor::OWeight,
        BlockTensor::OBias,
        BlockTensor::Ln2Weight,
        BlockTensor::Ln2Bias,
        BlockTensor::InWeight,
        BlockTensor::InBias,
        BlockTensor::OutWeight,
        BlockTensor::OutBias,
    ];

    /// The name after `h.{layer}.`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BlockTensor::Ln1Weight => "ln_1.weight",
            BlockTensor::Ln1Bias => "ln_1.bias",
            BlockTensor::QkvWeight => "attn.c_attn.weight",
            BlockTensor::QkvBias => "attn.c_attn.bias",
            BlockTensor::OWeight => "attn.c_proj.weight",
            BlockTensor::OBias => "attn.c_proj.bias",
            BlockTensor::Ln2Weight => "ln_2.weight",
            BlockTensor::Ln2Bias => "ln_2.bias",
            BlockTensor::InWeight => "mlp.c_fc.weight",
            BlockTensor::InBias => "mlp.c_fc.bias",
            BlockTensor::OutWeight => "mlp.c_proj.weight",
            BlockTensor::OutBias => "mlp.c_proj.bias",
        }
    }

    /// Its shape in a model of width `d` with `m` MLP neurons (Conv1D: `[in, out]`).
    pub(crate) fn shape(self, d: usize, m: usize) -> Vec<usize> {
        match self {
            BlockTensor::Ln1Weight
            | BlockTensor::Ln1Bias
            | BlockTensor::OBias
            | BlockTensor::Ln2Weight
            | BlockTensor::Ln2Bias
            | BlockTensor::OutBias => vec![d],
            BlockTensor::QkvWeight => vec![d, 3 * d],
            BlockTensor::QkvBias => vec![3 * d],
            BlockTensor::OWeight => vec![d, d],
            BlockTensor::InWeight => vec![d, m],
            BlockTensor::InBias => vec![m],
            BlockTensor::OutWeight => vec![m, d],
        }
    }

    /// Its values in `w`; `None` for a layer norm folded away by weight processing.
    pub(crate) fn of(self, w: &LayerWeights) -> Option<Cow<'_, [f32]>> {
        fn ln(p: &Option<(Vec<f32>, Vec<f32>)>, weight: bool) -> Option<Cow<'_, [f32]>> {
            p.as_ref()
                .map(|(g, b)| Cow::Borrowed(if weight { &g[..] } else { &b[..] }))
        }
        fn v(x: &[f32]) -> Option<Cow<'_, [f32]>> {
            Some(Cow::Borrowed(x))
        }
        match self {
            BlockTensor::Ln1Weight => ln(&w.ln1, true),
            BlockTensor::Ln1Bias => ln(&w.ln1, false),
            BlockTensor::QkvWeight => Some(Cow::Owned(w.c_attn_weight())),
            BlockTensor::QkvBias => Some(Cow::Owned(w.c_attn_bias())),
            BlockTensor::OWeight => v(&w.w_o),
            BlockTensor::OBias => v(&w.b_o),
            BlockTensor::Ln2Weight => ln(&w.ln2, true),
            BlockTensor::Ln2Bias => ln(&w.ln2, false),
            BlockTensor::InWeight => v(&w.w_in),
            BlockTensor::InBias => v(&w.b_in),
            BlockTensor::OutWeight => v(&w.w_out),
            BlockTensor::OutBias => v(&w.b_out),
        }
    }
}

/// The token embedding, `[d_vocab, d_model]`.
pub(crate) const WTE: &str = "wte.weight";
/// The position embedding, `[n_ctx, d_model]`.
pub(crate) const WPE: &str = "wpe.weight";
pub(crate) const LN_F_WEIGHT: &str = "ln_f.weight";
pub(crate) const LN_F_BIAS: &str = "ln_f.bias";
/// The unembedding when not tied to `wte`; never under the `transformer.` prefix.
pub(crate) const LM_HEAD: &str = "lm_head.weight";
