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
