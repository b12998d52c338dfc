//! Why a circuit file is refused, naming the entry.

use crate::file::{FORMAT_VERSION, HeadId, INPUT, MAX_CIRCUIT_BYTES, MAX_NAME_CHARS, OUTPUT};

/// What is wrong with a circuit file, naming the entry.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CircuitError {
    #[error(
        "the circuit file is {bytes} bytes; circuit files are at most {MAX_CIRCUIT_BYTES} bytes"
    )]
    TooLarge { bytes: usize },
    #[error("the circuit file is not valid: {0}")]
    Json(String),
    #[error(
        "the circuit file has format_version {found}; this page reads version {FORMAT_VERSION}"
    )]
    Version { found: u64 },
    #[error(
        "the circuit file has no classes (expected \"classes\": [{{\"name\", \"acts_at\", \"heads\"}}, …])"
    )]
    NoClasses,
    #[error("the circuit file has {found} {what}; at most {max} are allowed")]
    TooMany {
        what: &'static str,
        found: usize,
        max: usize,
    },
    #[error("{entry}: the name is empty or longer than {MAX_NAME_CHARS} characters")]
    BadName { entry: String },
    #[error("class “{0}” appears twice")]
    DuplicateClass(String),
    #[error("class “{0}” has no heads")]
    EmptyClass(String),
    #[error(
        "class “{class}”: unknown position “{given}” (expected END, S1, S2, S1+1, IO or a token index)"
    )]
    UnknownPosition { class: String, given: String },
    #[error("{entry}: head {given} is not a [layer, head] pair of non-negative integers")]
    BadHead { entry: String, given: String },
    #[error("head L{}H{} is in both “{first}” and “{second}”", .head.0, .head.1)]
    DuplicateHead {
        head: HeadId,
        first: String,
        second: String,
    },
    #[error("class “{class}”: head L{}H{} is outside the model ({layers} layers × {heads} heads)", .head.0, .head.1)]
    OutsideModel {
        class: String,
        head: HeadId,
        layers: usize,
        heads: usize,
    },
    #[error("variant “{variant}” drops L{}H{}, which is not in the circuit", .head.0, .head.1)]
    VariantHead { variant: String, head: HeadId },
    #[error("true edge {index}: “{name}” is neither a class nor {INPUT}/{OUTPUT}")]
    EdgeEnd { index: usize, name: String },
    #[error("true edge {index}: inputs “{given}” (expected some of q, k, v; empty into {OUTPUT})")]
    EdgeInputs { index: usize, given: String },
}
