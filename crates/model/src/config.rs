//! GPT-2 hyper-parameters, read from a Hugging Face `config.json` or inferred from tensor shapes.

use serde::{Deserialize, Serialize};

use crate::error::LoadError;

/// Most transformer blocks accepted (GPT-2 XL has 48).
pub const MAX_LAYERS: usize = 256;
/// Largest vocabulary accepted (GPT-2: 50,257).
pub const MAX_VOCAB: usize = 1_000_000;
/// Longest context accepted (GPT-2: 1,024).
pub const MAX_CTX: usize = 65_536;
/// Widest residual stream or MLP accepted (GPT-2 XL: 1,600 and 6,400).
pub const MAX_WIDTH: usize = 1 << 20;
/// Most parameters accepted: their f32 copy alone (4 GB) fills a browser worker's heap.
pub const MAX_PARAMS: u64 = 1_000_000_000;

/// Published GPT-2 shapes (the tokenizer, context and vocabulary are GPT-2's in all three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gpt2Preset {
    /// `openai-community/gpt2`: 12 layers x 12 heads, d_model 768 (124 M parameters).
    Small,
    /// `distilbert/distilgpt2`: 6 layers x 12 heads, d_model 768 (82 M parameters).
    Distil,
    /// `openai-community/gpt2-medium`: 24 layers x 16 heads, d_model 1024 (355 M parameters).
    Medium,
}

impl Gpt2Preset {
    pub const ALL: [Gpt2Preset; 3] = [Gpt2Preset::Small, Gpt2Preset::Distil, Gpt2Preset::Medium];

    pub fn key(self) -> &'static str {
        match self {
            Gpt2Preset::Small => "small",
            Gpt2Preset::Distil => "distil",
            Gpt2Preset::Medium => "medium",
        }
    }
}

impl std::str::FromStr for Gpt2Preset {
    type Err = gradpatch_terms::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.key() == s).ok_or_else(|| {
            gradpatch_terms::UnknownName::new("GPT-2 preset", s, Self::ALL.map(Self::key))
        })
    }
}

/// The shape of a GPT-2 model. Names follow TransformerLens (`d_model`, `d_mlp`, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gpt2Config {
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_model: usize,
    pub d_mlp: usize,
    pub n_ctx: usize,
    pub d_vocab: usize,
    pub layer_norm_eps: f64,
}

impl Gpt2Config {
    /// The shape of a published GPT-2 checkpoint.
    pub fn preset(p: Gpt2Preset) -> Self {
        let small = Self::gpt2_small();
        match p {
            Gpt2Preset::Small => small,
            // DistilGPT-2: GPT-2 small's width with half its blocks.
            Gpt2Preset::Distil => Self {
                n_layers: 6,
                ..small
            },
            Gpt2Preset::Medium => Self {
                n_layers: 24,
                n_heads: 16,
                d_model: 1024,
                d_mlp: 4096,
                ..small
            },
        }
    }

    /// GPT-2 small (124M parameters).
    pub fn gpt2_small() -> Self {
        Self {
            n_layers: 12,
            n_heads: 12,
            d_model: 768,
            d_mlp: 3072,
            n_ctx: 1024,
            d_vocab: 50257,
            layer_norm_eps: 1e-5,
        }
    }

    pub fn d_head(&self) -> usize {
        self.d_model / self.n_heads
    }

    /// Parses a Hugging Face GPT-2 `config.json`.
    pub fn from_hf_json(bytes: &[u8]) -> Result<Self, LoadError> {
        #[derive(Deserialize)]
        struct Hf {
            n_layer: usize,
            n_head: usize,
            n_embd: usize,
            n_inner: Option<usize>,
            n_positions: usize,
            vocab_size: usize,
            layer_norm_epsilon: Option<f64>,
            activation_function: Option<String>,
        }
        let hf: Hf =
            serde_json::from_slice(bytes).map_err(|e| LoadError::BadConfig(e.to_string()))?;
        if let Some(act) = hf.activation_function.as_deref()
            && act != "gelu_new"
        {
            return Err(LoadError::BadConfig(format!(
                "activation_function is \"{act}\", expected \"gelu_new\" (GPT-2)"
            )));
        }
        let config = Self {
            n_layers: hf.n_layer,
            n_heads: hf.n_head,
            d_model: hf.n_embd,
            d_mlp: hf.n_inner.unwrap_or(4 * hf.n_embd),
            n_ctx: hf.n_positions,
            d_vocab: hf.vocab_size,
            layer_norm_eps: hf.layer_norm_epsilon.unwrap_or(1e-5),
        };
        config.check_bounds()?;
        Ok(config)
    }

    /// Every dimension within what the project supports, before anything is sized from them
    /// (on wasm32 `usize` is 32 bits: products are computed checked, in u64). Field names are
    /// `config.json`'s.
    pub fn check_bounds(&self) -> Result<(), LoadError> {
        let ranges: [(&str, usize, usize); 6] = [
            ("n_layer", self.n_layers, MAX_LAYERS),
            ("n_head", self.n_heads, MAX_WIDTH),
            ("n_embd", self.d_model, MAX_WIDTH),
            ("n_inner", self.d_mlp, MAX_WIDTH),
            ("n_positions", self.n_ctx, MAX_CTX),
            ("vocab_size", self.d_vocab, MAX_VOCAB),
        ];
        for (field, value, max) in ranges {
            if value == 0 || value > max {
                return Err(LoadError::OutOfBounds {
                    what: format!("{field} is {value}"),
                    expected: format!("between 1 and {max}"),
                });
            }
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(LoadError::BadConfig(format!(
                "n_embd {} is not a multiple of n_head {}",
                self.d_model, self.n_heads
            )));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err(LoadError::OutOfBounds {
                what: format!("layer_norm_epsilon is {}", self.layer_norm_eps),
                expected: "a positive number".into(),
            });
        }
        match self.n_params() {
            Some(n) if n <= MAX_PARAMS => Ok(()),
            n => Err(LoadError::OutOfBounds {
                what: match n {
                    Some(n) => format!("the model has {n} parameters"),
                    None => "the model's parameter count overflows".into(),
                },
                expected: format!("at most {MAX_PARAMS}"),
            }),
        }
    }

    /// The Hugging Face `config.json` for this shape, as written by `save_pretrained`.
    pub fn to_hf_json(&self) -> serde_json::Value {
        serde_json::json!({
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "activation_function": "gelu_new",
            "n_layer": self.n_layers,
            "n_head": self.n_heads,
            "n_embd": self.d_model,
            "n_inner": self.d_mlp,
            "n_positions": self.n_ctx,
            "n_ctx": self.n_ctx,
            "vocab_size": self.d_vocab,
            "layer_norm_epsilon": self.layer_norm_eps,
            "bos_token_id": self.d_vocab - 1,
            "eos_token_id": self.d_vocab - 1,
            "attn_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "resid_pdrop": 0.0,
            "tie_word_embeddings": true,
        })
    }

    /// Number of parameters of the GPT-2 with this shape (unembedding tied), `None` if it
    /// overflows.
    pub fn n_params(&self) -> Option<u64> {
        let [d, v, ctx, l] =
            [self.d_model, self.d_vocab, self.n_ctx, self.n_layers].map(|x| x as u64);
        (v + ctx)
            .checked_mul(d)?
            .checked_add(l.checked_mul(self.block_params()?)?)?
            .checked_add(2 * d)
    }

    /// Parameters of one block, `None` if it overflows.
    fn block_params(&self) -> Option<u64> {
        let [d, m] = [self.d_model, self.d_mlp].map(|x| x as u64);
        let mul = |a: u64, b: u64| a.checked_mul(b);
        // ln_1, ln_2: 4d; c_attn: 3d^2 + 3d; c_proj: d^2 + d; c_fc: dm + m; mlp c_proj: md + d.
        mul(4, mul(d, d)?)?
            .checked_add(mul(2, mul(d, m)?)?)?
            .checked_add(9 * d + m)
    }

    /// f32 values of the largest part the streaming load (`Gpt2::load`) holds at once: the
    /// embeddings (`wte` and `wpe`), one block with its fused `c_attn` copy, or the unembedding
    /// with its bias. `None` if it overflows.
    pub fn largest_part(&self) -> Option<u64> {
        let [d, v, ctx] = [self.d_model, self.d_vocab, self.n_ctx].map(|x| x as u64);
        let embeddings = (v + ctx).checked_mul(d)?;
        let block = self
            .block_params()?
            .checked_add(3 * d.checked_mul(d)? + 3 * d)?;
        Some(embeddings.max(block).max(self.unembedding_params()?))
    }

    /// Values of the untied unembedding and its bias (`[d_vocab, d_model]` and `[d_vocab]`), `None`
    /// if it overflows.
    pub fn unembedding_params(&self) -> Option<u64> {
        let [d, v] = [self.d_model, self.d_vocab].map(|x| x as u64);
        v.checked_mul(d)?.checked_add(v)
    }
}
