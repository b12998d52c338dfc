//! Writing GPT-2 checkpoints as safetensors (the demo model, random models, test fixtures).

use safetensors::{Dtype, tensor::TensorView};

use crate::error::LoadError;
use crate::keys::{self, BlockTensor};
use crate::weights::{HostWeights, KeyLayout};

/// Storage dtype of a written checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreDtype {
    F32,
    F16,
    BF16,
}

fn encode(data: &[f32], dtype: StoreDtype) -> Vec<u8> {
    match dtype {
        StoreDtype::F32 => data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        StoreDtype::F16 => data
            .iter()
            .flat_map(|x| half::f16::from_f32(*x).to_le_bytes())
            .collect(),
        StoreDtype::BF16 => data
            .iter()
            .flat_map(|x| half::bf16::from_f32(*x).to_le_bytes())
            .collect(),
    }
}

/// Writes unprocessed host weights as a GPT-2 safetensors checkpoint in the given layout, the
/// way `save_pretrained` (tied `lm_head` omitted) or the hub file (with mask buffers) has them.
pub fn to_safetensors(
    w: &HostWeights,
    layout: KeyLayout,
    dtype: StoreDtype,
) -> Result<Vec<u8>, LoadError> {
    let c = &w.config;
    let (d, m, v) = (c.d_model, c.d_mlp, c.d_vocab);
    let p = layout.prefix();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = Vec::new();
    let st_dtype = match dtype {
        StoreDtype::F32 => Dtype::F32,
        StoreDtype::F16 => Dtype::F16,
        StoreDtype::BF16 => Dtype::BF16,
    };
    let mut put = |name: String, shape: Vec<usize>, data: &[f32]| {
        tensors.push((name, shape, encode(data, dtype), st_dtype));
    };
    let unprocessed = |what: &str| {
        LoadError::BadConfig(format!(
            "cannot save processed weights ({what} was folded): save the unprocessed model"
        ))
    };
    put(format!("{p}{}", keys::WTE), vec![v, d], &w.w_e);
    put(format!("{p}{}", keys::WPE), vec![c.n_ctx, d], &w.w_pos);
    for (l, lw) in w.layers.iter().enumerate() {
        for t in BlockTensor::ALL {
            let data = t.of(lw).ok_or_else(|| unprocessed(t.name()))?;
            put(format!("{p}h.{l}.{}", t.name()), t.shape(d, m), &data);
        }
        if layout == KeyLayout::Hub {
            let n = c.n_ctx;
            let mask: Vec<f32> = (0..n * n)
                .map(|k| if k % n <= k / n { 1.0 } else { 0.0 })
                .collect();
            put(format!("{p}h.{l}.attn.bias"), vec![1, 1, n, n], &mask);
        }
    }
    let (lnfw, lnfb) = w.ln_f.as_ref().ok_or_else(|| unprocessed("ln_f"))?;
    put(format!("{p}{}", keys::LN_F_WEIGHT), vec![d], lnfw);
    put(format!("{p}{}", keys::LN_F_BIAS), vec![d], lnfb);
    if w.unembed != w.w_e {
        put(keys::LM_HEAD.to_string(), vec![v, d], &w.unembed);
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes, dt)| {
            TensorView::new(*dt, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| LoadError::BadConfig(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_string(),
        "pt".to_string(),
    )]));
    safetensors::serialize(views, metadata).map_err(|e| LoadError::BadConfig(e.to_string()))
}
