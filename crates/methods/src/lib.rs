//! Attribution methods: attribution patching (AtP), layerwise Integrated Gradients (IG) and
//! activation patching (AP) for every attention head (`hook_result`) and MLP neuron
//! (`mlp.hook_post`), and edge scores (EAP, EAP-IG, exact edge patching), with the reference study's definitions, computed with far fewer forwards
//! than its one-run-per-component loop. [`score`] computes any method's scores.
//!
//! Knows nothing of the UI: progress and cancellation go through [`Progress`].

pub mod ap;
mod ap_pos;
mod atp;
pub mod edge_faithfulness;
pub mod edges;
pub mod faithfulness;
pub mod ig;
mod parts;
pub mod progress;
mod score;

pub use ap::{
    ApOptions, activation_patching, activation_patching_async, activation_patching_naive,
};
pub use ap_pos::{activation_patching_positions, activation_patching_positions_async};
pub use atp::{AtpScores, attribution_patching, attribution_patching_async};
pub use faithfulness::{faithfulness, faithfulness_async};
pub use ig::{IgOptions, IgScores, integrated_gradients, integrated_gradients_async};
pub use parts::cpu_threads;
#[cfg(target_arch = "wasm32")]
pub use parts::pool::{Task, set_thread_pool};
pub use progress::{NoProgress, Pause, Progress};
pub use score::{
    Convergence, PromptOutput, PromptScores, ScoreOptions, positions_async, score, score_async,
};
// The option types live in gradpatch-terms (shared with results.json and the page).
pub use gradpatch_terms::{Baseline, Component, Direction, Quadrature};

/// Scores of one prompt, row-major: heads `[layers, heads]`, neurons `[layers, d_mlp]`.
/// Components a cancelled run did not reach are NaN.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    pub heads: Vec<f32>,
    pub neurons: Vec<f32>,
}

impl Scores {
    pub fn nan(n_layers: usize, n_heads: usize, d_mlp: usize) -> Self {
        Self {
            heads: vec![f32::NAN; n_layers * n_heads],
            neurons: vec![f32::NAN; n_layers * d_mlp],
        }
    }
}

/// Rows per batched forward so that the largest activation of the batch stays under
/// `budget_bytes` (GPU bindings are limited; see the model crate's vocab chunking).
pub(crate) fn rows_per_batch(per_row_elems: usize, budget_bytes: usize) -> usize {
    (budget_bytes / (4 * per_row_elems.max(1))).max(1)
}
