//! The 16 IOI pairs of reference model-a, tokenized, for the methods' parity tests.
#![allow(dead_code, clippy::unwrap_used)]

use gradpatch_dataset::{Gpt2Tokenizer, PromptPair, TokenizedPair};
use gradpatch_testdata::{at, model_a_dir, prompts, read};

/// Prompt pairs in prompts.json.
pub const N: usize = 16;

/// Every pair of prompts.json (`io_name` correct, `s_name` incorrect), tokenized.
pub fn pairs() -> Vec<TokenizedPair> {
    let tok = Gpt2Tokenizer::from_bytes(&read(model_a_dir().join("tokenizer.json"))).unwrap();
    (0..N)
        .map(|i| {
            let p = at(prompts(), &format!("prompts/{i}"));
            let s = |k: &str| p[k].as_str().unwrap().to_string();
            let pair = PromptPair {
                clean: s("clean"),
                corrupted: s("corrupted"),
                correct: s("io_name"),
                incorrect: s("s_name"),
            };
            TokenizedPair::new(&pair, &tok, 64).unwrap()
        })
        .collect()
}
