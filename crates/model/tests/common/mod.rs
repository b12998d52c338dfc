//! Shared helpers for the model tests: devices, model-a loading, golden lookups.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use gradpatch_model::Processing;
pub use gradpatch_testmodel::{load_model_a as load, ndarray, wgpu};

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
