//! Test support: the reference model-a (`../shared/reference/model-a`) loaded on a device, the
//! one way every crate's tests load it.
#![allow(clippy::expect_used)]

use burn::tensor::{Device, DeviceKind};
use gradpatch_model::{Gpt2, LoadOptions, Processing};
use gradpatch_testdata::{model_a_dir, read};

/// The CPU backend the parity tests run on.
#[allow(deprecated)] // burn 0.22 prefers `flex`; the goldens were checked on ndarray.
pub fn ndarray() -> Device {
    Device::ndarray()
}

/// burn-wgpu natively: Vulkan through lavapipe on machines without a GPU.
pub fn wgpu() -> Device {
    Device::wgpu(DeviceKind::DefaultDevice)
}

/// model-a's weights file `file` (`model.safetensors`, `model-hub-layout.safetensors`,
/// `model-fp16.safetensors`) with its `config.json`, on `device`.
pub fn load_model_a(file: &str, processing: Processing, device: &Device) -> Gpt2 {
    let dir = model_a_dir();
    let config = read(dir.join("config.json"));
    let opts = LoadOptions {
        config_json: Some(&config),
        n_heads: None,
    };
    Gpt2::load(&read(dir.join(file)), &opts, processing, device)
        .unwrap_or_else(|e| panic!("model-a's {file} does not load: {e}"))
}

/// model-a (`model.safetensors`) on the CPU backend.
pub fn model_a(processing: Processing) -> Gpt2 {
    load_model_a("model.safetensors", processing, &ndarray())
}

/// A model of a GPT-2 preset's shape with `make-random-gpt2`'s seeded random weights, built on
/// the CPU: for the tests whose identities hold for any weights at full size (the real files
/// cannot be downloaded here).
pub fn random_gpt2(preset: gradpatch_model::Gpt2Preset, seed: u64, processing: Processing) -> Gpt2 {
    let config = gradpatch_model::Gpt2Config::preset(preset);
    let weights = gradpatch_train::random::random_weights(&config, seed);
    Gpt2::from_host(&weights, processing, &ndarray())
}

/// The first `n` IOI pairs of model-a's `prompts.json` (`io_name` correct, `s_name` incorrect),
/// tokenized with its tokenizer.
pub fn model_a_pairs(n: usize) -> Vec<gradpatch_dataset::TokenizedPair> {
    use gradpatch_dataset::{Gpt2Tokenizer, PromptPair, TokenizedPair};
    let tok = Gpt2Tokenizer::from_bytes(&read(model_a_dir().join("tokenizer.json")))
        .expect("model-a's tokenizer.json parses");
    (0..n)
        .map(|i| {
            let p = gradpatch_testdata::at(gradpatch_testdata::prompts(), &format!("prompts/{i}"));
            let s = |k: &str| {
                p[k].as_str()
                    .expect("prompts.json's fields are text")
                    .to_string()
            };
            let pair = PromptPair {
                clean: s("clean"),
                corrupted: s("corrupted"),
                correct: s("io_name"),
                incorrect: s("s_name"),
            };
            TokenizedPair::new(&pair, &tok, 64).expect("model-a's prompt pairs tokenize")
        })
        .collect()
}
