//! The options of each method, of the IOI prompts, of the weights and of where the page computes.

use serde::{Deserialize, Serialize};

keyed_enum! {
    /// The IG baseline.
    pub enum Baseline ("IG baseline") {
        /// Zero input activation (the reference study's main comparison).
        Zero = "zero",
        /// The corrupted run's activation (the reference's `aligned_clean_input`).
        Corrupted = "corrupted",
    }
}

keyed_enum! {
    /// The AP direction.
    pub enum Direction ("AP direction") {
        /// Clean run, corrupted activation patched in (the reference's forward AP).
        Noising = "noising",
        /// Corrupted run, clean activation patched in (the reference's reverse AP).
        Denoising = "denoising",
    }
}

keyed_enum! {
    /// How the corrupted prompt of a generated IOI pair is made.
    pub enum Corruption ("corruption") {
        /// S2 replaced by the indirect object (the reference's default).
        Aba = "aba",
        /// S2 replaced by a third name.
        Abc = "abc",
    }
}

keyed_enum! {
    /// Where the page computes.
    pub enum Backend ("backend") {
        /// WebGPU when the browser has it, else the CPU.
        Auto = "auto",
        /// The CPU even when WebGPU is there.
        Cpu = "cpu",
    }
}

/// Which TransformerLens weight-processing steps to apply (`gradpatch_model::processing`
/// applies them). `Default` is what `from_pretrained` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processing {
    pub fold_ln: bool,
    pub center_writing_weights: bool,
    pub center_unembed: bool,
    pub fold_value_biases: bool,
}

impl Default for Processing {
    fn default() -> Self {
        Self::all()
    }
}

impl Processing {
    pub fn all() -> Self {
        Self {
            fold_ln: true,
            center_writing_weights: true,
            center_unembed: true,
            fold_value_biases: true,
        }
    }

    /// `from_pretrained_no_processing`: the model exactly as stored.
    pub fn none() -> Self {
        Self {
            fold_ln: false,
            center_writing_weights: false,
            center_unembed: false,
            fold_value_biases: false,
        }
    }
}
