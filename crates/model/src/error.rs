//! Typed errors for everything a user or a file controls.

use thiserror::Error;

/// Why a checkpoint or config could not be loaded. Each message names what was wrong and what
/// was expected, so it can be shown to the user as is.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("not a safetensors file: {0}")]
    NotSafetensors(String),
    #[error(
        "safetensors header length {header_len} bytes goes beyond the file ({file_len} bytes): \
         the file is truncated or not safetensors"
    )]
    HeaderBeyondFile { header_len: u64, file_len: u64 },
    #[error("safetensors header is not valid JSON: {0}")]
    HeaderNotJson(String),
    #[error(
        "safetensors tensor offsets are invalid: {0} (expected contiguous, non-overlapping offsets that \
         cover the data exactly)"
    )]
    BadOffsets(String),
    #[error("tensor `{tensor}` has dtype {dtype}, expected F32, F16 or BF16")]
    UnsupportedDtype { tensor: String, dtype: String },
    #[error("missing tensor `{0}`")]
    MissingTensor(String),
    #[error("`{0}` holds NaN or infinite values (a broken checkpoint)")]
    NonFinite(String),
    #[error("tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    WrongShape {
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("config.json is invalid: {0}")]
    BadConfig(String),
    #[error("config says {field} = {config}, but the tensors imply {tensors}")]
    ConfigMismatch {
        field: &'static str,
        config: usize,
        tensors: usize,
    },
    #[error("{what}, expected {expected}")]
    OutOfBounds { what: String, expected: String },
    #[error(
        "loading this model needs about {} of memory (the file is {}), more than the {} a \
         browser worker can address",
        gb(*needed), gb(*file), gb(*available)
    )]
    TooBig {
        needed: u64,
        file: u64,
        available: u64,
    },
    #[error(
        "the file is {}, more than the {} a browser worker can hold in one buffer (f16 halves it)",
        gb(*file), gb(*limit)
    )]
    FileTooBig { file: u64, limit: u64 },
    #[error(
        "the number of attention heads cannot be inferred from the tensors: give config.json or an \
         explicit head count (GPT-2 small has 12)"
    )]
    HeadsUnknown,
}

fn gb(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

/// Why a run could not be carried out with the given inputs.
#[derive(Debug, Error, PartialEq)]
pub enum RunError {
    #[error("empty batch: at least one prompt with at least one token is expected")]
    EmptyBatch,
    #[error("prompt {row} has no tokens")]
    EmptyPrompt { row: usize },
    #[error(
        "prompt {row} has {len} tokens (plus {offset} prefix tokens), more than the context of {n_ctx}"
    )]
    TooLong {
        row: usize,
        len: usize,
        offset: usize,
        n_ctx: usize,
    },
    #[error("token id {id} in prompt {row} is outside the vocabulary of {vocab} tokens")]
    TokenOutOfVocab { row: usize, id: u32, vocab: usize },
    #[error("{what}: {detail}")]
    Invalid { what: String, detail: String },
    /// The device or its backend failed (a read-back error, a lost device): not the input's
    /// fault, so the page falls back to the CPU on this error and on no other.
    #[error("the device failed while {what}: {detail}")]
    Device { what: String, detail: String },
}

impl RunError {
    pub fn device(what: impl Into<String>, detail: impl Into<String>) -> Self {
        RunError::Device {
            what: what.into(),
            detail: detail.into(),
        }
    }

    pub fn invalid(what: impl Into<String>, detail: impl Into<String>) -> Self {
        RunError::Invalid {
            what: what.into(),
            detail: detail.into(),
        }
    }
}
