//! Random weights of a GPT-2 shape: what `gradpatch make-random-gpt2` writes and the tests
//! that need a full-size model build (the real files cannot be downloaded here).

use gradpatch_model::weights::LayerWeights;
use gradpatch_model::{Gpt2Config, HostWeights};

use crate::net::Normal;

/// Random weights of the given shape: GPT-2's initialisation scale (0.02, residual projections
/// scaled by 1/sqrt(2 n_layers)), with non-trivial biases and LayerNorm parameters so that every
/// weight-processing step has something to fold.
pub fn random_weights(c: &Gpt2Config, seed: u64) -> HostWeights {
    let mut n = Normal::new(seed);
    let (d, m, v) = (c.d_model, c.d_mlp, c.d_vocab);
    let proj = 0.02 / (2.0 * c.n_layers as f32).sqrt();
    let layers = (0..c.n_layers)
        .map(|_| LayerWeights {
            ln1: Some((n.vec(d, 1.0, 0.1), n.vec(d, 0.0, 0.05))),
            w_q: n.vec(d * d, 0.0, 0.02),
            w_k: n.vec(d * d, 0.0, 0.02),
            w_v: n.vec(d * d, 0.0, 0.02),
            b_q: n.vec(d, 0.0, 0.02),
            b_k: n.vec(d, 0.0, 0.02),
            b_v: n.vec(d, 0.0, 0.02),
            w_o: n.vec(d * d, 0.0, proj),
            b_o: n.vec(d, 0.0, 0.02),
            ln2: Some((n.vec(d, 1.0, 0.1), n.vec(d, 0.0, 0.05))),
            w_in: n.vec(d * m, 0.0, 0.02),
            b_in: n.vec(m, 0.0, 0.02),
            w_out: n.vec(m * d, 0.0, proj),
            b_out: n.vec(d, 0.0, 0.02),
        })
        .collect();
    let w_e = n.vec(v * d, 0.0, 0.02);
    HostWeights {
        config: c.clone(),
        w_pos: n.vec(c.n_ctx * d, 0.0, 0.01),
        layers,
        ln_f: Some((n.vec(d, 1.0, 0.1), n.vec(d, 0.0, 0.05))),
        unembed: w_e.clone(),
        w_e,
        b_u: vec![0.0; v],
    }
}
