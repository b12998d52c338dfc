//! Prompts to tokens: the GPT-2 tokenizer (loaded from bytes, BOS prepended as TransformerLens
//! does) and validated clean/corrupted prompt pairs.

pub mod ioi;
pub mod prompts;
pub mod tokenizer;

pub use gradpatch_terms::{Corruption, PromptPair};
pub use ioi::{IoiPools, generate as generate_ioi, generate_from as generate_ioi_from};
pub use prompts::{TokenizedPair, parse_prompt_pairs, tokenize_pairs};
pub use tokenizer::{Gpt2Tokenizer, MAX_TOKENIZER_BYTES};

use thiserror::Error;

/// Everything that can be wrong with a tokenizer or a prompt file; each message says what was
/// wrong and what was expected.
#[derive(Debug, Error, PartialEq)]
pub enum DatasetError {
    #[error("tokenizer.json could not be loaded: {0}")]
    Tokenizer(String),
    #[error(
        "tokenizer.json is {bytes} bytes, more than the {max} accepted: is it really a tokenizer?"
    )]
    TokenizerTooLarge { bytes: usize, max: usize },
    #[error("the tokenizer has no `<|endoftext|>` token, expected GPT-2's BOS/EOS token")]
    NoBos,
    #[error("tokenizing {text:?} failed: {reason}")]
    Encode { text: String, reason: String },
    #[error(
        "{text:?} is {n_tokens} tokens, expected exactly one (e.g. \" Mary\" with its leading space)"
    )]
    NotOneToken { text: String, n_tokens: usize },
    #[error("the prompt file is not valid JSON: {0}")]
    NotJson(String),
    #[error(
        "the prompt file must be a JSON list of objects {{\"clean\", \"corrupted\", \"correct\", \"incorrect\"}}, found {0}"
    )]
    NotAList(String),
    #[error("prompt {index}: {reason}")]
    Prompt {
        index: usize,
        reason: Box<DatasetError>,
    },
    #[error("expected an object, found {0}")]
    NotAnObject(&'static str),
    #[error("unknown field \"{0}\", expected only {fields:?}", fields = prompts::FIELDS)]
    UnknownField(String),
    #[error("missing field \"{0}\"")]
    MissingField(&'static str),
    #[error("field \"{field}\" must be a string, found {found}")]
    NotAString {
        field: &'static str,
        found: &'static str,
    },
    #[error("prompt 0: the IOI pools need at least one template, place and object")]
    EmptyPools,
    #[error(
        "the tokenizer has only {found} of the IOI names as single tokens, at least 3 are needed"
    )]
    TooFewNames { found: usize },
    #[error("the {which} prompt is empty")]
    EmptyPrompt { which: &'static str },
    #[error(
        "the {which} prompt is {tokens} tokens with BOS, longer than the model's context of {n_ctx}"
    )]
    TooLong {
        which: &'static str,
        tokens: usize,
        n_ctx: usize,
    },
    #[error(
        "clean and corrupted prompts must have the same number of tokens, found {clean} and {corrupted}"
    )]
    LengthMismatch { clean: usize, corrupted: usize },
    #[error("answer \"{which}\": {reason}")]
    Answer {
        which: &'static str,
        reason: Box<DatasetError>,
    },
}
