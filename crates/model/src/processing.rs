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

use crate::weights::HostWeights;

pub use gradpatch_terms::Processing;

/// Applies the selected steps in TransformerLens' order.
pub fn apply(p: Processing, w: &mut HostWeights) {
    let d = w.config.d_model;
    if p.fold_ln {
        for layer in &mut w.layers {
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
        if let Some((g, b)) = w.ln_f.take() {
            // The unembedding is stored by vocabulary row: fold on its transpose.
            let v = w.config.d_vocab;
            let mut u_t = transpose(&w.unembed, v, d);
            fold_norm_into(&mut u_t, &mut w.b_u, &g, &b);
            w.unembed = transpose(&u_t, d, v);
        }
    }
    if p.center_writing_weights {
        center_rows(&mut w.w_e, d);
        center_rows(&mut w.w_pos, d);
        for layer in &mut w.layers {
            center_rows(&mut layer.w_o, d);
            center_rows(&mut layer.b_o, d);
            center_rows(&mut layer.w_out, d);
            center_rows(&mut layer.b_out, d);
        }
    }
    if p.center_unembed {
        // Mean over the vocabulary of each d_model component, and of the bias.
        let v = w.config.d_vocab;
        let mut mean = vec![0f64; d];
        for row in w.unembed.chunks_exact(d) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += f64::from(*x);
            }
        }
        for row in w.unembed.chunks_exact_mut(d) {
            for (x, m) in row.iter_mut().zip(&mean) {
                *x = (f64::from(*x) - m / v as f64) as f32;
            }
        }
        center_rows(&mut w.b_u, v);
    }
    if p.fold_value_biases {
        for layer in &mut w.layers {
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

pub(crate) fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = x[r * cols + c];
        }
    }
    t
}
