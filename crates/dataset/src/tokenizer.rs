//! GPT-2 byte-level BPE through the `tokenizers` crate (fancy-regex build: the same code in the
//! browser and natively).

use tokenizers::Tokenizer;

use crate::DatasetError;

/// GPT-2's BOS / EOS / padding token.
pub const ENDOFTEXT: &str = "<|endoftext|>";

/// Largest `tokenizer.json` accepted (GPT-2's is 1.4 MB; the largest common tokenizers are
/// ~20 MB). Parsing builds several copies, so a bigger file is refused before parsing.
pub const MAX_TOKENIZER_BYTES: usize = 32_000_000;

pub struct Gpt2Tokenizer {
    inner: Tokenizer,
    bos: u32,
}

impl Gpt2Tokenizer {
    /// Loads a Hugging Face `tokenizer.json` from bytes.
    /// Refuses, before parsing, a file over [`MAX_TOKENIZER_BYTES`] and one that is not a JSON
    /// object (an HTML error or login page served in its place).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DatasetError> {
        if bytes.len() > MAX_TOKENIZER_BYTES {
            return Err(DatasetError::TokenizerTooLarge {
                bytes: bytes.len(),
                max: MAX_TOKENIZER_BYTES,
            });
        }
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            Some(b'<') => {
                return Err(DatasetError::Tokenizer(
                    "the file is an HTML page (an error or login page?), expected the JSON of a Hugging Face tokenizer".into(),
                ));
            }
            _ => {
                return Err(DatasetError::Tokenizer(
                    "the file does not start with `{`, expected the JSON object of a Hugging Face tokenizer".into(),
                ));
            }
        }
        let inner =
            Tokenizer::from_bytes(bytes).map_err(|e| DatasetError::Tokenizer(e.to_string()))?;
        let bos = inner.token_to_id(ENDOFTEXT).ok_or(DatasetError::NoBos)?;
        Ok(Self { inner, bos })
    }

    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Token ids of `text`, nothing added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, DatasetError> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| DatasetError::Encode {
                text: text.to_string(),
                reason: e.to_string(),
            })
    }

    /// TransformerLens `to_tokens`: BOS (`<|endoftext|>`) then the tokens of `text`.
    pub fn to_tokens(&self, text: &str) -> Result<Vec<u32>, DatasetError> {
        let mut ids = vec![self.bos];
        ids.extend(self.encode(text)?);
        Ok(ids)
    }

    /// The id of an answer that must be exactly one token, such as `" Mary"`.
    pub fn single_token(&self, text: &str) -> Result<u32, DatasetError> {
        match self.encode(text)?[..] {
            [id] => Ok(id),
            ref ids => Err(DatasetError::NotOneToken {
                text: text.to_string(),
                n_tokens: ids.len(),
            }),
        }
    }

    /// The token strings of `ids` as the vocabulary spells them (`Ġ` for a leading space).
    pub fn token_strings(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&id| {
                self.inner
                    .id_to_token(id)
                    .unwrap_or_else(|| format!("<{id}>"))
            })
            .collect()
    }

    /// Decodes ids to text.
    pub fn decode(&self, ids: &[u32]) -> Result<String, DatasetError> {
        self.inner
            .decode(ids, false)
            .map_err(|e| DatasetError::Tokenizer(e.to_string()))
    }
}
