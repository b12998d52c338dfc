//! A GPT-2-style byte-level BPE tokenizer trained on the training text with the `tokenizers`
//! crate: GPT-2's pre-tokenizer (no prefix space), decoder and post-processor, all 256 bytes
//! in the alphabet, merges until every word of the corpus (seen at least twice) is one token,
//! and `<|endoftext|>` as the last id, a special token, as in GPT-2.

use gradpatch_dataset::Gpt2Tokenizer;

use crate::TrainError;
use gradpatch_dataset::tokenizer::ENDOFTEXT;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

/// Trains the tokenizer on `corpus` and returns its `tokenizer.json` (compact JSON). Every
/// string of `must_be_single` (e.g. `" Mary"`) must come out as one token.
pub fn train_tokenizer(
    corpus: &[String],
    max_vocab: usize,
    must_be_single: &[&str],
) -> Result<String, TrainError> {
    let mut tokenizer = Tokenizer::new(BPE::default());
    tokenizer
        .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
        .with_post_processor(Some(ByteLevel::new(true, false, true)))
        .with_decoder(Some(ByteLevel::new(true, true, true)));
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(max_vocab)
        .min_frequency(2)
        .show_progress(false)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    tokenizer
        .train(&mut trainer, corpus.iter())
        .map_err(|e| TrainError::Tokenizer(e.to_string()))?;
    tokenizer
        .add_special_tokens([AddedToken::from(ENDOFTEXT, true)])
        .map_err(|e| TrainError::SpecialToken(e.to_string()))?;
    let json = tokenizer
        .to_string(false)
        .map_err(|e| TrainError::SerialiseTokenizer(e.to_string()))?;
    // Check it the way the engine will load it.
    let tok = Gpt2Tokenizer::from_bytes(json.as_bytes())?;
    if tok.bos_id() as usize + 1 != tok.vocab_size() {
        return Err(TrainError::BosNotLast {
            id: tok.bos_id(),
            last: tok.vocab_size() - 1,
        });
    }
    let split: Vec<String> = must_be_single
        .iter()
        .filter(|s| tok.single_token(s).is_err())
        .map(|s| format!("{s:?}"))
        .collect();
    if !split.is_empty() {
        return Err(TrainError::NamesSplit {
            vocab: tok.vocab_size(),
            max: max_vocab,
            split: split.join(", "),
        });
    }
    Ok(json)
}
