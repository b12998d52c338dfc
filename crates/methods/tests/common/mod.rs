//! The 16 IOI pairs of reference model-a, tokenized, for the methods' parity tests.
#![allow(dead_code, clippy::unwrap_used)]

use gradpatch_dataset::TokenizedPair;

/// Prompt pairs in prompts.json.
pub const N: usize = 16;

/// Every pair of prompts.json (`io_name` correct, `s_name` incorrect), tokenized.
pub fn pairs() -> Vec<TokenizedPair> {
    gradpatch_testmodel::model_a_pairs(N)
}
