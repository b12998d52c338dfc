//! What can go wrong while training or evaluating the demo model, each message saying what was
//! wrong and what was expected.

use std::path::PathBuf;

use gradpatch_dataset::DatasetError;
use gradpatch_dataset::tokenizer::ENDOFTEXT;
use gradpatch_model::{LoadError, RunError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TrainError {
    /// The `tokenizers` crate's trainer failed (its error as it says it).
    #[error("training the BPE tokenizer failed: {0}")]
    Tokenizer(String),
    #[error("adding {ENDOFTEXT} to the tokenizer failed: {0}")]
    SpecialToken(String),
    #[error("serialising the tokenizer failed: {0}")]
    SerialiseTokenizer(String),
    #[error("{ENDOFTEXT} has id {id}, expected the last id {last}")]
    BosNotLast { id: u32, last: usize },
    #[error(
        "the trained tokenizer ({vocab} tokens, at most {max} asked for) splits {split} into \
         several tokens, expected one token each: raise the vocabulary size or the corpus"
    )]
    NamesSplit {
        vocab: usize,
        max: usize,
        split: String,
    },
    #[error(
        "d_model {d_model} must be a multiple of n_heads {n_heads}, and steps ({steps}) at least 1"
    )]
    Shape {
        d_model: usize,
        n_heads: usize,
        steps: usize,
    },
    #[error("a training sentence has {len} positions, more than the context of {n_ctx}")]
    SentenceTooLong { len: usize, n_ctx: usize },
    #[error("the loss came back empty")]
    EmptyLoss,
    #[error("the trainer's network ties the unembedding to wte")]
    Untied,
    #[error("{0} was folded: give unprocessed weights")]
    Folded(&'static str),
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("writing config.json failed: {0}")]
    Json(#[from] serde_json::Error),
}
