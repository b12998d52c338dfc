//! `gradpatch make-random-gpt2`: a checkpoint of a GPT-2 preset's shape (small, distil, medium)
//! with random weights, for loading, memory and speed work without the real weights.

use std::path::Path;

use clap::ValueEnum;
use gradpatch_model::weights::LayerWeights;
use gradpatch_model::{Gpt2Config, Gpt2Preset, HostWeights, KeyLayout, StoreDtype, to_safetensors};
use gradpatch_train::net::Normal;

const GPT2_TOKENIZER: &[u8] = include_bytes!("../assets/gpt2-tokenizer.json");

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Layout {
    /// The hub's openai-community/gpt2 keys (`h.0.…`, with attn.bias mask buffers).
    Hub,
    /// save_pretrained keys (`transformer.h.0.…`).
    Hf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Dtype {
    F32,
    F16,
}

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

pub fn run(
    out: &Path,
    preset: Gpt2Preset,
    layout: Layout,
    dtype: Dtype,
    seed: u64,
) -> Result<(), String> {
    let config = Gpt2Config::preset(preset);
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    eprintln!(
        "generating {} random parameters of GPT-2 {} (seed {seed})…",
        config.n_params().unwrap_or(0),
        preset.key()
    );
    let weights = random_weights(&config, seed);
    let layout = match layout {
        Layout::Hub => KeyLayout::Hub,
        Layout::Hf => KeyLayout::HuggingFace,
    };
    let dtype = match dtype {
        Dtype::F32 => StoreDtype::F32,
        Dtype::F16 => StoreDtype::F16,
    };
    let bytes = to_safetensors(&weights, layout, dtype).map_err(|e| e.to_string())?;
    let write = |name: &str, data: &[u8]| crate::files::write_atomic(&out.join(name), data);
    write("model.safetensors", &bytes)?;
    let config_json = serde_json::to_vec_pretty(&config.to_hf_json()).map_err(|e| e.to_string())?;
    write("config.json", &config_json)?;
    write("tokenizer.json", GPT2_TOKENIZER)?;
    eprintln!(
        "wrote {} ({} MB), config.json, tokenizer.json",
        out.join("model.safetensors").display(),
        bytes.len() / 1_000_000
    );
    Ok(())
}
