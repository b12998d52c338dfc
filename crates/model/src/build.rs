//! Building a [`Gpt2`] on its device: from a checkpoint's bytes part by part (the streaming
//! load), or from host weights already in memory (the trainer, the tests).
//!
//! The streaming load reads the embeddings, then each block, then the unembedding; each part is
//! converted to f32 (from F16/BF16 when stored so), checked finite, processed and uploaded
//! before the next is read, so the host holds the file plus one part (`wte`, 147 MiB for GPT-2)
//! instead of a second, f32 copy of the whole model. In a browser worker that is the difference
//! between gpt2-medium loading or not: the wasm heap never shrinks, its peak is what stays.

use burn::tensor::{Device, Tensor, TensorData};

use crate::config::Gpt2Config;
use crate::error::LoadError;
use crate::layers::{Attention, Block, LayerNorm, Linear, Mlp};
use crate::model::Gpt2;
use crate::processing::{self, Processing};
use crate::vocab::RowChunks;
use crate::weights::{HostWeights, LayerWeights, LoadOptions, Reader};

fn t1(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

fn t2(v: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

fn norm(a: &Option<(Vec<f32>, Vec<f32>)>, eps: f64, device: &Device) -> LayerNorm {
    LayerNorm {
        affine: a.as_ref().map(|(g, b)| (t1(g, device), t1(b, device))),
        eps,
    }
}

/// Block `layer` on `device` from its (processed) host weights.
fn block(layer: usize, lw: &LayerWeights, c: &Gpt2Config, device: &Device) -> Block {
    let (d, m, h) = (c.d_model, c.d_mlp, c.n_heads);
    let eps = c.layer_norm_eps;
    let linear = |w: &[f32], b: &[f32], shape: [usize; 2]| Linear {
        w: t2(w, shape, device),
        b: t1(b, device),
    };
    let (c_attn, b_attn) = lw.c_attn();
    Block {
        layer,
        ln1: norm(&lw.ln1, eps, device),
        attn: Attention {
            layer,
            qkv: linear(&c_attn, &b_attn, [d, 3 * d]),
            w_o: Tensor::from_data(TensorData::new(lw.w_o.clone(), [h, d / h, d]), device),
            b_o: t1(&lw.b_o, device),
        },
        ln2: norm(&lw.ln2, eps, device),
        mlp: Mlp {
            layer,
            w_in: linear(&lw.w_in, &lw.b_in, [d, m]),
            w_out: linear(&lw.w_out, &lw.b_out, [m, d]),
        },
    }
}

impl Gpt2 {
    /// Reads a checkpoint from bytes and builds it on `device` part by part, applying the
    /// weight processing to each part on the way (see the module's documentation).
    pub fn load(
        bytes: &[u8],
        opts: &LoadOptions<'_>,
        processing: Processing,
        device: &Device,
    ) -> Result<Self, LoadError> {
        let r = Reader::new(bytes)?;
        let c = r.config(opts)?;
        let (d, v) = (c.d_model, c.d_vocab);
        let (w_e, w_pos) = {
            let (mut w_e, mut w_pos) = r.embeddings(&c)?;
            processing::embeddings(processing, &mut w_e, &mut w_pos, d);
            (
                RowChunks::new(&w_e, v, d, device),
                t2(&w_pos, [c.n_ctx, d], device),
            )
        };
        let blocks = (0..c.n_layers)
            .map(|l| {
                let mut lw = r.layer(l, &c)?;
                processing::block(processing, &mut lw, d);
                Ok(block(l, &lw, &c, device))
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        let mut ln_f = Some(r.ln_f(&c)?);
        let mut unembed = r.unembed(&c)?;
        let mut b_u = vec![0.0; v];
        processing::unembedding(processing, &mut unembed, &mut b_u, &mut ln_f, d);
        Ok(Self {
            ln_final: norm(&ln_f, c.layer_norm_eps, device),
            unembed: RowChunks::new(&unembed, v, d, device),
            b_u: t1(&b_u, device),
            config: c,
            processing,
            device: device.clone(),
            w_e,
            w_pos,
            blocks,
        })
    }

    /// Moves (already processed) host weights to `device`.
    pub fn from_host(w: &HostWeights, processing: Processing, device: &Device) -> Self {
        let c = &w.config;
        let d = c.d_model;
        Self {
            config: c.clone(),
            processing,
            device: device.clone(),
            w_e: RowChunks::new(&w.w_e, c.d_vocab, d, device),
            w_pos: t2(&w.w_pos, [c.n_ctx, d], device),
            blocks: (w.layers.iter().enumerate())
                .map(|(l, lw)| block(l, lw, c, device))
                .collect(),
            ln_final: norm(&w.ln_f, c.layer_norm_eps, device),
            unembed: RowChunks::new(&w.unembed, c.d_vocab, d, device),
            b_u: t1(&w.b_u, device),
        }
    }
}
