//! GPT-2 for gradpatch: weights from safetensors bytes, TransformerLens weight processing, and a
//! forward pass on any burn device with TransformerLens hook points (cache, patch, start
//! mid-model, shared-prefix keys/values, gradient leaves, last-token metric readout).
//!
//! This crate knows nothing of attribution methods.

mod build;
pub mod config;
pub mod error;
mod forward;
pub mod header;
mod hook_ctx;
mod hook_point;
pub mod hooks;
mod infer;
mod keys;
mod layers;
pub mod manifest;
pub mod model;
pub mod processing;
pub mod readback;
mod readout;
pub mod save;
mod split_qkv;
pub mod vocab;
pub mod weights;

pub use config::{Gpt2Config, Gpt2Preset};
pub use error::{LoadError, RunError};
pub use header::{Header, LoadPlan, MAX_HEADER_BYTES, MemoryBudget};
pub use hooks::{Activation, ActivationCache, HookPoint, Hooks, Patch, PatchMask, Positions};
pub use layers::gelu_new;
pub use manifest::{MAX_MANIFEST_BYTES, Manifest, ManifestFile};
pub use model::{Gpt2, PrefixKv, Readout, Run, RunOutput, Source, TokenBatch};
pub use processing::Processing;
pub use readback::{block_on, to_host, to_host_async};
pub use save::{StoreDtype, to_safetensors};
pub use weights::{HostWeights, KeyLayout, LoadOptions, load_host_weights};
