//! GPT-2 checkpoints in safetensors, read from bytes (the browser has no filesystem) into host
//! memory as f32, in both Hugging Face key layouts and in F32, F16 or BF16.

use safetensors::{Dtype, SafeTensorError, SafeTensors, tensor::TensorView};

use crate::config::Gpt2Config;
use crate::error::LoadError;
use crate::infer::{infer_config, layout_of};
use crate::keys::{self, BlockTensor};

/// Weights of one block, in GPT-2's Conv1D orientation: every matrix is `[in, out]`, so a layer
/// computes `x @ W + b`. Q, K, V and O keep the head as the slow part of the `d_model` axis
/// (`head * d_head + k`), exactly as `c_attn` / `c_proj` store them.
#[derive(Clone, Debug)]
pub struct LayerWeights {
    /// `ln_1` weight and bias; `None` once folded into Q/K/V (TransformerLens "LNPre").
    pub ln1: Option<(Vec<f32>, Vec<f32>)>,
    pub w_q: Vec<f32>,
    pub w_k: Vec<f32>,
    pub w_v: Vec<f32>,
    pub b_q: Vec<f32>,
    pub b_k: Vec<f32>,
    pub b_v: Vec<f32>,
    pub w_o: Vec<f32>,
    pub b_o: Vec<f32>,
    pub ln2: Option<(Vec<f32>, Vec<f32>)>,
    pub w_in: Vec<f32>,
    pub b_in: Vec<f32>,
    pub w_out: Vec<f32>,
    pub b_out: Vec<f32>,
}

impl LayerWeights {
    /// Q, K and V fused back into GPT-2's `c_attn`: weight `[d_model, 3 d_model]` (each row
    /// Q | K | V) and bias `[3 d_model]`.
    pub fn c_attn(&self) -> (Vec<f32>, Vec<f32>) {
        (self.c_attn_weight(), self.c_attn_bias())
    }

    /// `c_attn`'s weight `[d_model, 3 d_model]`: each row Q | K | V.
    pub fn c_attn_weight(&self) -> Vec<f32> {
        let d = self.b_q.len();
        (0..d)
            .flat_map(|i| {
                let row = i * d..(i + 1) * d;
                self.w_q[row.clone()]
                    .iter()
                    .chain(&self.w_k[row.clone()])
                    .chain(&self.w_v[row])
                    .copied()
            })
            .collect()
    }

    /// `c_attn`'s bias `[3 d_model]`: Q | K | V.
    pub fn c_attn_bias(&self) -> Vec<f32> {
        self.b_q
            .iter()
            .chain(&self.b_k)
            .chain(&self.b_v)
            .copied()
            .collect()
    }
}

/// A whole GPT-2 in host memory (row-major f32).
#[derive(Clone, Debug)]
pub struct HostWeights {
    pub config: Gpt2Config,
    /// `wte`, `[d_vocab, d_model]`.
    pub w_e: Vec<f32>,
    /// `wpe`, `[n_ctx, d_model]`.
    pub w_pos: Vec<f32>,
    pub layers: Vec<LayerWeights>,
    pub ln_f: Option<(Vec<f32>, Vec<f32>)>,
    /// Unembedding stored by vocabulary row, `[d_vocab, d_model]` (= `lm_head.weight`, or `wte`
    /// when tied): logit(v) = x · unembed[v] + b_u[v].
    pub unembed: Vec<f32>,
    /// `[d_vocab]`; zero for GPT-2 until `fold_ln` moves `ln_f.b` into it.
    pub b_u: Vec<f32>,
}

/// The two key layouts GPT-2 checkpoints come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLayout {
    /// `save_pretrained`: `transformer.h.0.attn.c_attn.weight`, ...
    HuggingFace,
    /// The hub's `openai-community/gpt2` file: `h.0.attn.c_attn.weight`, `wte.weight`, plus
    /// `h.N.attn.bias` mask buffers (ignored).
    Hub,
}

impl KeyLayout {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            KeyLayout::HuggingFace => "transformer.",
            KeyLayout::Hub => "",
        }
    }
}

fn map_st_error(e: SafeTensorError, file_len: usize, bytes: &[u8]) -> LoadError {
    use SafeTensorError as E;
    match e {
        E::HeaderTooSmall => LoadError::NotSafetensors(format!(
            "{file_len} bytes, expected at least an 8-byte header length"
        )),
        E::HeaderTooLarge | E::InvalidHeaderLength => {
            let header_len = bytes
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .unwrap_or(0);
            LoadError::HeaderBeyondFile {
                header_len,
                file_len: file_len as u64,
            }
        }
        E::InvalidHeader(err) => {
            LoadError::NotSafetensors(format!("header is not UTF-8 text ({err})"))
        }
        E::InvalidHeaderDeserialization(err) | E::JsonError(err) => {
            LoadError::HeaderNotJson(err.to_string())
        }
        E::InvalidOffset(name) => LoadError::BadOffsets(format!(
            "tensor `{name}` does not start where the previous one ends, or ends before it starts"
        )),
        E::TensorInvalidInfo => LoadError::BadOffsets(
            "a tensor's byte range does not match its shape and dtype".to_string(),
        ),
        E::MetadataIncompleteBuffer => LoadError::BadOffsets(format!(
            "the tensors do not end exactly at the end of the file ({file_len} bytes): truncated or padded"
        )),
        E::ValidationOverflow => LoadError::BadOffsets("a tensor's shape overflows".to_string()),
        other => LoadError::NotSafetensors(other.to_string()),
    }
}

/// Validates a safetensors header with the `safetensors` crate (offsets contiguous, in range,
/// matching shapes and dtypes) and returns the parsed file.
pub fn parse_safetensors(bytes: &[u8]) -> Result<SafeTensors<'_>, LoadError> {
    SafeTensors::deserialize(bytes).map_err(|e| map_st_error(e, bytes.len(), bytes))
}

fn tensor_to_f32(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>, LoadError> {
    let data = view.data();
    Ok(match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        other => {
            return Err(LoadError::UnsupportedDtype {
                tensor: name.to_string(),
                dtype: format!("{other:?}"),
            });
        }
    })
}

/// A parsed checkpoint, read a part at a time (each tensor converted to f32 when asked for, and
/// checked finite: a NaN is cheaper to name here than to find as non-finite logits).
pub(crate) struct Reader<'a> {
    st: SafeTensors<'a>,
    prefix: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Result<Self, LoadError> {
        let st = parse_safetensors(bytes)?;
        let prefix = detect_layout(&st)?.prefix();
        Ok(Self { st, prefix })
    }

    /// The GPT-2 shape of the checkpoint (see [`infer_config`]).
    pub(crate) fn config(&self, opts: &LoadOptions<'_>) -> Result<Gpt2Config, LoadError> {
        let shape_of = |name: &str| self.st.tensor(name).ok().map(|t| t.shape().to_vec());
        infer_config(self.prefix, &self.st.names(), &shape_of, opts)
    }

    fn get(&self, key: &str, expected: &[usize]) -> Result<Vec<f32>, LoadError> {
        self.get_named(&format!("{}{key}", self.prefix), expected)
    }

    fn get_named(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, LoadError> {
        let view = self
            .st
            .tensor(name)
            .map_err(|_| LoadError::MissingTensor(name.to_string()))?;
        if view.shape() != expected {
            return Err(LoadError::WrongShape {
                tensor: name.to_string(),
                expected: expected.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        let values = tensor_to_f32(name, &view)?;
        if values.iter().any(|x| !x.is_finite()) {
            return Err(LoadError::NonFinite(name.to_string()));
        }
        Ok(values)
    }

    /// `wte` `[d_vocab, d_model]` and `wpe` `[n_ctx, d_model]`.
    pub(crate) fn embeddings(&self, c: &Gpt2Config) -> Result<(Vec<f32>, Vec<f32>), LoadError> {
        Ok((
            self.get(keys::WTE, &[c.d_vocab, c.d_model])?,
            self.get(keys::WPE, &[c.n_ctx, c.d_model])?,
        ))
    }

    /// Block `l`, with `c_attn` split into Q, K and V.
    pub(crate) fn layer(&self, l: usize, c: &Gpt2Config) -> Result<LayerWeights, LoadError> {
        let (d, m) = (c.d_model, c.d_mlp);
        let get = |t: BlockTensor| self.get(&format!("h.{l}.{}", t.name()), &t.shape(d, m));
        let c_attn = get(BlockTensor::QkvWeight)?;
        let b_attn = get(BlockTensor::QkvBias)?;
        let split = |part: usize| -> Vec<f32> {
            c_attn
                .chunks_exact(3 * d)
                .flat_map(|row| row[part * d..(part + 1) * d].iter().copied())
                .collect()
        };
        Ok(LayerWeights {
            ln1: Some((get(BlockTensor::Ln1Weight)?, get(BlockTensor::Ln1Bias)?)),
            w_q: split(0),
            w_k: split(1),
            w_v: split(2),
            b_q: b_attn[..d].to_vec(),
            b_k: b_attn[d..2 * d].to_vec(),
            b_v: b_attn[2 * d..].to_vec(),
            w_o: get(BlockTensor::OWeight)?,
            b_o: get(BlockTensor::OBias)?,
            ln2: Some((get(BlockTensor::Ln2Weight)?, get(BlockTensor::Ln2Bias)?)),
            w_in: get(BlockTensor::InWeight)?,
            b_in: get(BlockTensor::InBias)?,
            w_out: get(BlockTensor::OutWeight)?,
            b_out: get(BlockTensor::OutBias)?,
        })
    }

    /// `ln_f`'s weight and bias.
    pub(crate) fn ln_f(&self, c: &Gpt2Config) -> Result<(Vec<f32>, Vec<f32>), LoadError> {
        Ok((
            self.get(keys::LN_F_WEIGHT, &[c.d_model])?,
            self.get(keys::LN_F_BIAS, &[c.d_model])?,
        ))
    }

    /// The unembedding by vocabulary row: `lm_head.weight` (never under the `transformer.`
    /// prefix), or `wte` read again when tied (rather than a copy kept from the embeddings).
    pub(crate) fn unembed(&self, c: &Gpt2Config) -> Result<Vec<f32>, LoadError> {
        if self.st.names().contains(&keys::LM_HEAD) {
            self.get_named(keys::LM_HEAD, &[c.d_vocab, c.d_model])
        } else {
            self.get(keys::WTE, &[c.d_vocab, c.d_model])
        }
    }
}

/// Options for reading a checkpoint.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions<'a> {
    /// Contents of `config.json`, if any.
    pub config_json: Option<&'a [u8]>,
    /// Head count when no config is given (GPT-2 small: 12).
    pub n_heads: Option<usize>,
}

/// Detects the key layout of a parsed checkpoint.
pub fn detect_layout(st: &SafeTensors<'_>) -> Result<KeyLayout, LoadError> {
    layout_of(&st.names())
}

/// Reads a GPT-2 checkpoint from safetensors bytes into f32 host weights (unprocessed), all of
/// it at once (the trainer and the tests; the model itself loads part by part: `Gpt2::load`).
pub fn load_host_weights(bytes: &[u8], opts: &LoadOptions<'_>) -> Result<HostWeights, LoadError> {
    let r = Reader::new(bytes)?;
    let config = r.config(opts)?;
    let (w_e, w_pos) = r.embeddings(&config)?;
    let layers = (0..config.n_layers)
        .map(|l| r.layer(l, &config))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HostWeights {
        ln_f: Some(r.ln_f(&config)?),
        unembed: r.unembed(&config)?,
        b_u: vec![0.0; config.d_vocab],
        config,
        w_e,
        w_pos,
        layers,
    })
}
