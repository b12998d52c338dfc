//! GPT-2 hyper-parameters, read from a Hugging Face `config.json` or inferred from tensor shapes.

use serde::{Deserialize, Serialize};

use crate::error::LoadError;

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
        if hf.n_head == 0 || !hf.n_embd.is_multiple_of(hf.n_head) {
            return Err(LoadError::BadConfig(format!(
                "n_embd {} is not a multiple of n_head {}",
                hf.n_embd, hf.n_head
            )));
        }
        Ok(Self {
            n_layers: hf.n_layer,
            n_heads: hf.n_head,
            d_model: hf.n_embd,
            d_mlp: hf.n_inner.unwrap_or(4 * hf.n_embd),
            n_ctx: hf.n_positions,
            d_vocab: hf.vocab_size,
            layer_norm_eps: hf.layer_norm_epsilon.unwrap_or(1e-5),
        })
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

    /// Number of parameters of the (untied) GPT-2 with this shape.
    pub fn n_params(&self) -> usize {
        let (d, m) = (self.d_model, self.d_mlp);
        let per_layer = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * m + m) + (m * d + d);
        self.d_vocab * d + self.n_ctx * d + self.n_layers * per_layer + 2 * d
    }
}
