//! Clean/corrupted prompt pairs: parsing the JSON prompt file and validating it against a
//! tokenizer and a context length.

use serde::{Deserialize, Serialize};

use gradpatch_terms::PromptPair;

use crate::{DatasetError, Gpt2Tokenizer};

/// A validated pair: BOS-prefixed token ids of equal length and the two answer ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenizedPair {
    pub pair: PromptPair,
    pub clean_ids: Vec<u32>,
    /// Each clean token as text (`<id>` where the tokenizer cannot decode it alone), for
    /// results that are read without the tokenizer.
    pub clean_tokens: Vec<String>,
    pub corrupted_ids: Vec<u32>,
    pub correct_id: u32,
    pub incorrect_id: u32,
}

impl TokenizedPair {
    /// `[correct, incorrect]`, the reference's `labels`.
    pub fn labels(&self) -> [u32; 2] {
        [self.correct_id, self.incorrect_id]
    }

    /// Length of the common token prefix of the clean and corrupted prompts.
    pub fn shared_prefix_len(&self) -> usize {
        self.clean_ids
            .iter()
            .zip(&self.corrupted_ids)
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// The fields of a prompt pair in a prompt file.
pub const FIELDS: [&str; 4] = ["clean", "corrupted", "correct", "incorrect"];

/// Parses a prompt file: a JSON list of `{"clean", "corrupted", "correct", "incorrect"}`.
pub fn parse_prompt_pairs(bytes: &[u8]) -> Result<Vec<PromptPair>, DatasetError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| DatasetError::NotJson(e.to_string()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(DatasetError::NotAList(kind(&value).to_string()));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let prompt_err = |reason: DatasetError| DatasetError::Prompt {
                index,
                reason: Box::new(reason),
            };
            let serde_json::Value::Object(obj) = item else {
                return Err(prompt_err(DatasetError::NotAnObject(kind(item))));
            };
            if let Some(extra) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(prompt_err(DatasetError::UnknownField(extra.clone())));
            }
            let field = |name: &'static str| -> Result<String, DatasetError> {
                match obj.get(name) {
                    None => Err(prompt_err(DatasetError::MissingField(name))),
                    Some(serde_json::Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(prompt_err(DatasetError::NotAString {
                        field: name,
                        found: kind(other),
                    })),
                }
            };
            Ok(PromptPair {
                clean: field("clean")?,
                corrupted: field("corrupted")?,
                correct: field("correct")?,
                incorrect: field("incorrect")?,
            })
        })
        .collect()
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

impl TokenizedPair {
    /// Tokenizes and validates `pair`: non-empty prompts, one-token answers, equal clean and
    /// corrupted lengths, at most `n_ctx` tokens with BOS.
    pub fn new(pair: &PromptPair, tok: &Gpt2Tokenizer, n_ctx: usize) -> Result<Self, DatasetError> {
        for (which, text) in [("clean", &pair.clean), ("corrupted", &pair.corrupted)] {
            if text.trim().is_empty() {
                return Err(DatasetError::EmptyPrompt { which });
            }
        }
        let clean_ids = tok.to_tokens(&pair.clean)?;
        let corrupted_ids = tok.to_tokens(&pair.corrupted)?;
        for (which, ids) in [("clean", &clean_ids), ("corrupted", &corrupted_ids)] {
            if ids.len() > n_ctx {
                return Err(DatasetError::TooLong {
                    which,
                    tokens: ids.len(),
                    n_ctx,
                });
            }
        }
        if clean_ids.len() != corrupted_ids.len() {
            return Err(DatasetError::LengthMismatch {
                clean: clean_ids.len(),
                corrupted: corrupted_ids.len(),
            });
        }
        let answer = |which: &'static str, text: &str| {
            tok.single_token(text).map_err(|e| DatasetError::Answer {
                which,
                reason: Box::new(e),
            })
        };
        let clean_tokens = clean_ids
            .iter()
            .map(|&id| tok.decode(&[id]).unwrap_or_else(|_| format!("<{id}>")))
            .collect();
        Ok(TokenizedPair {
            correct_id: answer("correct", &pair.correct)?,
            incorrect_id: answer("incorrect", &pair.incorrect)?,
            pair: pair.clone(),
            clean_ids,
            clean_tokens,
            corrupted_ids,
        })
    }
}

/// Tokenizes every pair, naming the first invalid one.
pub fn tokenize_pairs(
    pairs: &[PromptPair],
    tok: &Gpt2Tokenizer,
    n_ctx: usize,
) -> Result<Vec<TokenizedPair>, DatasetError> {
    if pairs.is_empty() {
        return Err(DatasetError::NotAList("an empty list".to_string()));
    }
    pairs
        .iter()
        .enumerate()
        .map(|(index, p)| {
            TokenizedPair::new(p, tok, n_ctx).map_err(|reason| DatasetError::Prompt {
                index,
                reason: Box::new(reason),
            })
        })
        .collect()
}
