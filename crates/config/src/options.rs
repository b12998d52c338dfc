//! The options of a comparison that the engine, `results.json` and the page share: one type
//! each (the engine crates re-export them), free of any tensor library so the page's UI can
//! read results without linking the engine.

use serde::{Deserialize, Serialize};

/// The IG baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// Zero input activation (the reference study's main comparison).
    Zero,
    /// The corrupted run's activation (the reference's `aligned_clean_input`).
    Corrupted,
}

impl std::str::FromStr for Baseline {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "zero" => Ok(Baseline::Zero),
            "corrupted" => Ok(Baseline::Corrupted),
            other => Err(format!(
                "unknown IG baseline \"{other}\", expected zero or corrupted"
            )),
        }
    }
}

/// The AP direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Clean run, corrupted activation patched in (the reference's forward AP).
    Noising,
    /// Corrupted run, clean activation patched in (the reference's reverse AP).
    Denoising,
}

impl std::str::FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "noising" => Ok(Direction::Noising),
            "denoising" => Ok(Direction::Denoising),
            other => Err(format!(
                "unknown AP direction \"{other}\", expected noising or denoising"
            )),
        }
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
