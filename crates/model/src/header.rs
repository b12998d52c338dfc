//! A checkpoint's safetensors header, checked completely before its data is read: dtypes,
//! shapes and offsets, the file's total length, the GPT-2 shape the tensors imply and the
//! memory loading them will take. The browser runs this as soon as the header has downloaded,
//! so a wrong or oversized file is refused before hundreds of megabytes arrive.

use std::collections::BTreeMap;

use safetensors::Dtype;
use serde::Deserialize;

use crate::config::Gpt2Config;
use crate::error::LoadError;
use crate::infer::{infer_config, layout_of};
use crate::weights::LoadOptions;

/// The format's own limit on the header (the `safetensors` crate refuses larger ones).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The memory a load may use, as the caller knows it (a browser's worker: its wasm heap and
/// the largest buffer it can hold a file in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Bytes the loading process can address.
    pub heap_bytes: u64,
    /// The largest checkpoint file it can hold (the file is kept in one buffer).
    pub file_bytes: u64,
}

/// One tensor as the header describes it; `start..end` is relative to the end of the header.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderTensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub start: u64,
    pub end: u64,
}

/// A complete, consistent safetensors header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Length of the JSON header (the file starts with it as 8 little-endian bytes).
    pub header_len: u64,
    /// Sorted by `start`; contiguous from 0 to `data_len`.
    pub tensors: Vec<HeaderTensor>,
    pub data_len: u64,
}

#[derive(Deserialize)]
struct RawTensor {
    dtype: Dtype,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

impl Header {
    /// The length of the whole file the header describes.
    pub fn file_len(&self) -> u64 {
        8 + self.header_len + self.data_len
    }

    pub fn names(&self) -> Vec<&str> {
        self.tensors.iter().map(|t| t.name.as_str()).collect()
    }

    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.shape.clone())
    }

    /// Parses the header at the start of a checkpoint: `Ok(None)` while `prefix` does not hold
    /// all of it yet. `file_len` is the file's length when known (a download's Content-Length):
    /// the header must then describe exactly that many bytes.
    pub fn read(prefix: &[u8], file_len: Option<u64>) -> Result<Option<Header>, LoadError> {
        let Some(len_bytes) = prefix.get(..8) else {
            if file_len.is_some_and(|n| n < 8) {
                return Err(LoadError::NotSafetensors(format!(
                    "{} bytes, expected at least an 8-byte header length",
                    file_len.unwrap_or(0)
                )));
            }
            return Ok(None);
        };
        let mut le = [0u8; 8];
        le.copy_from_slice(len_bytes);
        let header_len = u64::from_le_bytes(le);
        if header_len > MAX_HEADER_BYTES {
            return Err(LoadError::NotSafetensors(format!(
                "the first 8 bytes announce a {header_len}-byte header, the format allows at most {MAX_HEADER_BYTES}"
            )));
        }
        if let Some(total) = file_len
            && header_len + 8 > total
        {
            return Err(LoadError::HeaderBeyondFile {
                header_len,
                file_len: total,
            });
        }
        // header_len <= 100 MB fits usize on every target.
        let Some(json) = prefix.get(8..8 + header_len as usize) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(json)
            .map_err(|e| LoadError::NotSafetensors(format!("header is not UTF-8 text ({e})")))?;
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| LoadError::HeaderNotJson(e.to_string()))?;
        let mut tensors = Vec::with_capacity(map.len());
        for (name, value) in map {
            if name == "__metadata__" {
                continue;
            }
            tensors.push(tensor(name, value)?);
        }
        tensors.sort_by_key(|t| t.start);
        let mut end = 0u64;
        let mut previous: Option<&str> = None;
        for t in &tensors {
            if t.start != end {
                let what = if t.start < end {
                    "overlaps"
                } else {
                    "leaves a gap after"
                };
                return Err(LoadError::BadOffsets(match previous {
                    Some(p) => format!(
                        "tensor `{}` {what} `{p}` (starts at byte {}, `{p}` ends at {end})",
                        t.name, t.start
                    ),
                    None => format!(
                        "the first tensor `{}` starts at byte {}, not 0",
                        t.name, t.start
                    ),
                }));
            }
            end = t.end;
            previous = Some(&t.name);
        }
        let header = Header {
            header_len,
            tensors,
            data_len: end,
        };
        if let Some(total) = file_len
            && header.file_len() != total
        {
            return Err(LoadError::BadOffsets(format!(
                "the header describes a file of {} bytes but it has {total}: truncated or padded",
                header.file_len()
            )));
        }
        Ok(Some(header))
    }
}

fn tensor(name: String, value: serde_json::Value) -> Result<HeaderTensor, LoadError> {
    let raw: RawTensor = serde_json::from_value(value)
        .map_err(|e| LoadError::HeaderNotJson(format!("tensor `{name}`: {e}")))?;
    let overflow = || {
        LoadError::BadOffsets(format!(
            "tensor `{name}`: its shape {:?} overflows",
            raw.shape
        ))
    };
    let elements = raw
        .shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .ok_or_else(overflow)?;
    let bits = elements
        .checked_mul(raw.dtype.bitsize() as u64)
        .ok_or_else(overflow)?;
    let [start, end] = raw.data_offsets;
    if !bits.is_multiple_of(8) || end < start || end - start != bits / 8 {
        return Err(LoadError::BadOffsets(format!(
            "tensor `{name}` spans bytes {start}..{end}, but {:?} of {} needs {} bytes",
            raw.shape,
            raw.dtype,
            bits.div_ceil(8)
        )));
    }
    let shape = raw
        .shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| overflow())?;
    Ok(HeaderTensor {
        name,
        dtype: raw.dtype,
        shape,
        start,
        end,
    })
}

/// What loading a checkpoint will take, known from its header alone.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadPlan {
    pub config: Gpt2Config,
    pub file_bytes: u64,
    /// Peak memory of the load in the worker's heap: the file, the part of the model being
    /// built (in f32) and its copy on the way to the device; on the CPU, the backend's tensors.
    pub peak_bytes: u64,
}

impl LoadPlan {
    /// Checks the GPT-2 shape the header implies (bounded, and as `config.json` says) and the
    /// memory the load needs against the caller's `budget`.
    pub fn new(
        header: &Header,
        opts: &LoadOptions<'_>,
        on_cpu: bool,
        budget: MemoryBudget,
    ) -> Result<LoadPlan, LoadError> {
        for t in &header.tensors {
            let mask = t.name.ends_with("attn.bias") || t.name.ends_with("attn.masked_bias");
            if !mask && !matches!(t.dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16) {
                return Err(LoadError::UnsupportedDtype {
                    tensor: t.name.clone(),
                    dtype: t.dtype.to_string(),
                });
            }
        }
        let names = header.names();
        let config = infer_config(header.prefix()?, &names, &|n| header.shape(n), opts)?;
        let c = &config;
        // Checked: bounds make these small, but wasm32 is where they would wrap.
        let overflow = || LoadError::BadConfig("the model's size overflows".into());
        let f32_bytes = c
            .n_params()
            .and_then(|p| p.checked_add(c.unembedding_params()?))
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(overflow)?;
        let part_bytes = c
            .largest_part()
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(overflow)?;
        let file_bytes = header.file_len();
        if file_bytes > budget.file_bytes {
            return Err(LoadError::FileTooBig {
                file: file_bytes,
                limit: budget.file_bytes,
            });
        }
        // The streaming load holds the file and one part in f32 at a time, plus the copy each
        // tensor of the part makes on its way to the device (at most the part again). On the
        // CPU the backend's tensors are in the heap too: all of them by the end.
        let peak_bytes = if on_cpu {
            file_bytes + f32_bytes + part_bytes
        } else {
            file_bytes + 2 * part_bytes
        };
        if peak_bytes > budget.heap_bytes {
            return Err(LoadError::TooBig {
                needed: peak_bytes,
                file: file_bytes,
                available: budget.heap_bytes,
            });
        }
        Ok(LoadPlan {
            config,
            file_bytes,
            peak_bytes,
        })
    }
}

impl Header {
    /// The key prefix of the layout the tensors use (`transformer.` or none).
    fn prefix(&self) -> Result<&'static str, LoadError> {
        Ok(layout_of(&self.names())?.prefix())
    }
}
