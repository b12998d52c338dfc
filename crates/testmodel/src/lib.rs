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

/// A model of a GPT-2 preset's shape with seeded uniform random weights (scale 0.02, LayerNorm
/// weights near 1), built on the CPU: for the tests whose identities hold for any weights at
/// full size (the real files cannot be downloaded here).
pub fn random_gpt2(preset: gradpatch_model::Gpt2Preset, seed: u64, processing: Processing) -> Gpt2 {
    use gradpatch_model::weights::LayerWeights;
    use gradpatch_model::{Gpt2Config, HostWeights};
    let c = Gpt2Config::preset(preset);
    let mut state = seed;
    // SplitMix64 to a uniform in [-1, 1).
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    };
    let mut vec = |n: usize, mean: f32, scale: f32| -> Vec<f32> {
        (0..n).map(|_| mean + scale * next()).collect()
    };
    let (d, m, v) = (c.d_model, c.d_mlp, c.d_vocab);
    let layers = (0..c.n_layers)
        .map(|_| LayerWeights {
            ln1: Some((vec(d, 1.0, 0.1), vec(d, 0.0, 0.05))),
            w_q: vec(d * d, 0.0, 0.02),
            w_k: vec(d * d, 0.0, 0.02),
            w_v: vec(d * d, 0.0, 0.02),
            b_q: vec(d, 0.0, 0.02),
            b_k: vec(d, 0.0, 0.02),
            b_v: vec(d, 0.0, 0.02),
            w_o: vec(d * d, 0.0, 0.02),
            b_o: vec(d, 0.0, 0.02),
            ln2: Some((vec(d, 1.0, 0.1), vec(d, 0.0, 0.05))),
            w_in: vec(d * m, 0.0, 0.02),
            b_in: vec(m, 0.0, 0.02),
            w_out: vec(m * d, 0.0, 0.02),
            b_out: vec(d, 0.0, 0.02),
        })
        .collect();
    let w_e = vec(v * d, 0.0, 0.02);
    let weights = HostWeights {
        w_pos: vec(c.n_ctx * d, 0.0, 0.01),
        layers,
        ln_f: Some((vec(d, 1.0, 0.1), vec(d, 0.0, 0.05))),
        unembed: w_e.clone(),
        w_e,
        b_u: vec![0.0; v],
        config: c,
    };
    Gpt2::from_host(&weights, processing, &ndarray())
}
