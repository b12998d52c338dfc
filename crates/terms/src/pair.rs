//! A prompt pair as people write it: the one text form of a pair, from a link or a prompt file
//! to the engine (which tokenizes it: `gradpatch_dataset::TokenizedPair`).

use serde::{Deserialize, Serialize};

/// One IOI-style pair as written (validated later against a tokenizer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptPair {
    pub clean: String,
    pub corrupted: String,
    /// The answer the clean prompt should prefer, one token, e.g. `" Mary"`.
    pub correct: String,
    /// The competing answer, one token, e.g. `" John"`.
    pub incorrect: String,
}
