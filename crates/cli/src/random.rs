//! `gradpatch make-random-gpt2`: a checkpoint of a GPT-2 preset's shape (small, distil, medium)
//! with random weights, for loading, memory and speed work without the real weights.

use std::path::Path;

use clap::ValueEnum;
use gradpatch_model::{Gpt2Config, Gpt2Preset, KeyLayout, StoreDtype, to_safetensors};
use gradpatch_train::random::random_weights;

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
