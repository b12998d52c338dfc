//! Shared helpers for the model tests: devices, model-a loading, golden lookups.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use gradpatch_model::{Gpt2, Hooks, Processing, Readout, Run, RunOutput, Source};
use gradpatch_testdata::prompt_ids;
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

/// Two float32 runs of the same numbers in another batch shape: summation order may differ.
pub const TOL_SAME: f64 = 1e-5;

pub struct Prompt {
    pub clean: Vec<u32>,
    pub corrupted: Vec<u32>,
    pub labels: Vec<u32>,
}

pub fn prompt(i: usize) -> Prompt {
    Prompt {
        clean: prompt_ids(i, "clean_token_ids"),
        corrupted: prompt_ids(i, "corrupted_token_ids"),
        labels: prompt_ids(i, "labels"),
    }
}

pub fn ld_readout(p: &Prompt, rows: usize, last: usize) -> Readout {
    Readout::LogitDiff {
        positions: vec![last; rows],
        correct: vec![p.labels[0]; rows],
        incorrect: vec![p.labels[1]; rows],
    }
}

pub fn run(model: &Gpt2, source: Source, hooks: &Hooks, readout: Readout) -> RunOutput {
    model
        .run(Run {
            source,
            prefix: None,
            hooks,
            readout,
        })
        .unwrap()
}

pub fn tokens(model: &Gpt2, ids: &[u32]) -> Source {
    Source::Tokens(model.tokens(&[ids.to_vec()]).unwrap())
}

pub fn ld(out: &RunOutput) -> Vec<f32> {
    to_vec(out.logit_diff.clone().unwrap())
}
