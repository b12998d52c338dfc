//! TransformerLens weight processing (`HookedTransformer.from_pretrained` defaults), applied to
//! host weights before they move to the device.
//!
//! What each step does to the hooked values (measured by the reference, see
//! `reference/model-a/README.md`, "Weight processing"):
//!
//! * `fold_ln`: LayerNorm weights and biases are folded into the next linear map (`W_Q/K/V`,
//!   `W_in`, the unembedding) and those maps are centered over `d_model`; the LayerNorms become
//!   "LNPre" (center and scale, no affine part). `ln*.hook_normalized` changes accordingly.
//! * `center_writing_weights`: every write to the residual stream (`W_E`, `W_pos`, `W_O`, `b_O`,
//!   `W_out`, `b_out`) is centered over `d_model`, so `hook_result`, `hook_mlp_in`, ... have zero
//!   mean over `d_model`. Every reader is a LayerNorm, so the logits do not change.
//! * `center_unembed`: the unembedding is centered over the vocabulary: logits lose their mean
//!   over the vocabulary, logit differences are unchanged.
//! * `fold_value_biases`: `b_V` (after LN folding) is moved into `b_O` (`b_O += b_V @ W_O`,
//!   `b_V = 0`): `hook_v` and `hook_z` lose `b_V`, `hook_result` loses `b_V @ W_O[h]`.
//!
//! None of these change the logits' differences, but a zero activation means something else in
//! the processed model: zero-baseline IG on heads differs between the two.

use crate::weights::{HostWeights, LayerWeights};

pub use gradpatch_terms::Processing;

/// Applies the selected steps in TransformerLens' order. Every step touches the tensors of one
/// part only (the embeddings, one block, the unembedding), so the streaming load applies the
/// same functions part by part ([`embeddings`], [`block`], [`unembedding`]) with the same
/// result.
pub fn apply(p: Processing, w: &mut HostWeights) {
    let d = w.config.d_model;
    embeddings(p, &mut w.w_e, &mut w.w_pos, d);
    for layer in &mut w.layers {
        block(p, layer, d);
    }
    unembedding(p, &mut w.unembed, &mut w.b_u, &mut w.ln_f, d);
}

/// `wte` and `wpe` (`[rows, d]`): centered by `center_writing_weights`.
pub fn embeddings(p: Processing, w_e: &mut [f32], w_pos: &mut [f32], d: usize) {
    if p.center_writing_weights {
        center_rows(w_e, d);
        center_rows(w_pos, d);
    }
}

/// One block: its LayerNorms folded into Q/K/V and `W_in`, its writes centered, `b_V` moved
/// into `b_O`, in that order.
pub fn block(p: Processing, layer: &mut LayerWeights, d: usize) {
    if p.fold_ln {
        if let Some((g, b)) = layer.ln1.take() {
            for (mat, bias) in [
                (&mut layer.w_q, &mut layer.b_q),
                (&mut layer.w_k, &mut layer.b_k),
                (&mut layer.w_v, &mut layer.b_v),
            ] {
                fold_norm_into(mat, bias, &g, &b);
            }
        }
        if let Some((g, b)) = layer.ln2.take() {
            fold_norm_into(&mut layer.w_in, &mut layer.b_in, &g, &b);
        }
    }
    if p.center_writing_weights {
        center_rows(&mut layer.w_o, d);
        center_rows(&mut layer.b_o, d);
        center_rows(&mut layer.w_out, d);
        center_rows(&mut layer.b_out, d);
    }
    if p.fold_value_biases {
        // b_O += b_V @ W_O (W_O is [d_model_in = head*d_head, d_model]).
        for (j, bo) in layer.b_o.iter_mut().enumerate() {
            let s: f64 = (0..d)
                .map(|i| f64::from(layer.b_v[i]) * f64::from(layer.w_o[i * d + j]))
                .sum();
            *bo = (f64::from(*bo) + s) as f32;
        }
        layer.b_v.iter_mut().for_each(|x| *x = 0.0);
    }
}

/// The unembedding (stored by vocabulary row, `[d_vocab, d]`) and its bias: `ln_f` folded in
/// (taken), then centered over the vocabulary.
pub fn unembedding(
    p: Processing,
    unembed: &mut [f32],
    b_u: &mut [f32],
    ln_f: &mut Option<(Vec<f32>, Vec<f32>)>,
    d: usize,
) {
    if p.fold_ln
        && let Some((g, b)) = ln_f.take()
    {
        fold_norm_into_rows(unembed, b_u, &g, &b);
    }
    if p.center_unembed {
        // Mean over the vocabulary of each d_model component, and of the bias.
        let v = b_u.len();
        let mut mean = vec![0f64; d];
        for row in unembed.chunks_exact(d) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += f64::from(*x);
            }
        }
        for row in unembed.chunks_exact_mut(d) {
            for (x, m) in row.iter_mut().zip(&mean) {
                *x = (f64::from(*x) - m / v as f64) as f32;
            }
        }
        center_rows(b_u, v);
    }
}

/// [`fold_norm_into`] for a map stored transposed, one row per output (`[out, d_in]`, as the
/// unembedding is): the same arithmetic in the same order, without a transposed copy (147 MB
/// for GPT-2's vocabulary).
fn fold_norm_into_rows(rows: &mut [f32], bias: &mut [f32], g: &[f32], b: &[f32]) {
    let d_in = g.len();
    for (row, bj) in rows.chunks_exact_mut(d_in).zip(bias.iter_mut()) {
        let s: f64 = row
            .iter()
            .zip(b)
            .map(|(w, bi)| f64::from(*w) * f64::from(*bi))
            .sum();
        *bj = (f64::from(*bj) + s) as f32;
        row.iter_mut().zip(g).for_each(|(x, gi)| *x *= gi);
        let mean: f64 = row.iter().map(|x| f64::from(*x)).sum();
        row.iter_mut()
            .for_each(|x| *x = (f64::from(*x) - mean / d_in as f64) as f32);
    }
}

/// `W [d_in, out]` reads a LayerNorm output `n * g + b`: fold into `W' = g[:, None] * W`,
/// `bias' = bias + b @ W`, then center `W'` over `d_in` (LNPre output has zero mean).
fn fold_norm_into(w: &mut [f32], bias: &mut [f32], g: &[f32], b: &[f32]) {
    let d_in = g.len();
    let out = bias.len();
    for (j, bj) in bias.iter_mut().enumerate() {
        let s: f64 = (0..d_in)
            .map(|i| f64::from(w[i * out + j]) * f64::from(b[i]))
            .sum();
        *bj = (f64::from(*bj) + s) as f32;
    }
    for (row, gi) in w.chunks_exact_mut(out).zip(g) {
        row.iter_mut().for_each(|x| *x *= gi);
    }
    let mut mean = vec![0f64; out];
    for row in w.chunks_exact(out) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += f64::from(*x);
        }
    }
    for row in w.chunks_exact_mut(out) {
        for (x, m) in row.iter_mut().zip(&mean) {
            *x = (f64::from(*x) - m / d_in as f64) as f32;
        }
    }
}

/// Subtracts from each row of length `n` its mean.
fn center_rows(x: &mut [f32], n: usize) {
    for row in x.chunks_exact_mut(n) {
        let mean = row.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64;
        row.iter_mut()
            .for_each(|v| *v = (f64::from(*v) - mean) as f32);
    }
}
