//! Shared helpers for the model tests: devices, model-a loading, golden lookups.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use burn::tensor::{Device, DeviceKind};
use gradpatch_model::{Gpt2, LoadOptions, Processing};
use gradpatch_testdata::{model_a_dir, read};

#[allow(deprecated)]
pub fn ndarray() -> Device {
    Device::ndarray()
}

/// burn-wgpu natively: Vulkan through lavapipe on machines without a GPU.
pub fn wgpu() -> Device {
    Device::wgpu(DeviceKind::DefaultDevice)
}

pub fn load(file: &str, processing: Processing, device: &Device) -> Gpt2 {
    let dir = model_a_dir();
    let config = read(dir.join("config.json"));
    let opts = LoadOptions {
        config_json: Some(&config),
        n_heads: None,
    };
    Gpt2::load(&read(dir.join(file)), &opts, processing, device).expect("model-a loads")
}

pub fn variant(processing: Processing) -> &'static str {
    if processing == Processing::all() {
        "tl_processed"
    } else {
        "tl_unprocessed"
    }
}

pub fn to_vec<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}
