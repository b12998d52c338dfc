//! Sharded runs (`gradpatch run --shard K/N`): which prompts a shard computes, and the part file
//! it writes (the shard's results with the shard and the model's identity recorded), which
//! `gradpatch merge` joins into the results.json of the whole run.

use std::fmt;
use std::str::FromStr;

use gradpatch_study::Results;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most shards a run may be split into.
pub const MAX_SHARDS: usize = 10_000;

/// Shard K (from 0) of N: the prompts whose index is K modulo N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected K/N, e.g. 0/4 (shard K of N, K from 0 to N-1)";
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard {s}: {expected}"))?;
        let parse = |v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("--shard {s}: {expected}"))
        };
        let (index, count) = (parse(k)?, parse(n)?);
        if !(1..=MAX_SHARDS).contains(&count) {
            return Err(format!(
                "--shard {s}: N must be 1 to {MAX_SHARDS}, got {count}"
            ));
        }
        if index >= count {
            return Err(format!(
                "--shard {s}: K must be 0 to {} (shards are numbered from 0)",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The indices of this shard's prompts among the whole run's `n`.
    pub fn indices(self, n: usize) -> Vec<usize> {
        (self.index..n).step_by(self.count).collect()
    }
}

/// SHA-256 of the model's files: every part of a run must have computed with the same model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDigest {
    pub weights_sha256: String,
    pub tokenizer_sha256: String,
}

/// SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ModelDigest {
    pub fn of(weights: &[u8], tokenizer: &[u8]) -> Self {
        Self {
            weights_sha256: sha256_hex(weights),
            tokenizer_sha256: sha256_hex(tokenizer),
        }
    }
}

/// What a part records beside its results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartInfo {
    pub index: usize,
    pub count: usize,
    /// Prompts of the whole run.
    pub n_prompts: usize,
    /// The whole run's index of each of this part's prompts, in order.
    pub prompt_indices: Vec<usize>,
    pub model: ModelDigest,
}

/// A part file: the results of a shard's prompts (the whole run's configuration) and `shard`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Part {
    pub shard: PartInfo,
    #[serde(flatten)]
    pub results: Results,
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_split_the_prompts() {
        let s: Shard = "1/4".parse().unwrap_or(Shard { index: 9, count: 9 });
        assert_eq!(s, Shard { index: 1, count: 4 });
        assert_eq!(s.indices(10), [1, 5, 9]);
        assert_eq!(s.to_string(), "1/4");
        let all: Vec<usize> = (0..4)
            .flat_map(|k| Shard { index: k, count: 4 }.indices(10))
            .collect();
        assert_eq!(all.len(), 10, "every prompt in exactly one shard");
        for (bad, message) in [
            ("4/4", "K must be 0 to 3"),
            ("1", "expected K/N"),
            ("a/4", "expected K/N"),
            ("0/0", "N must be 1 to 10000"),
            ("-1/4", "expected K/N"),
        ] {
            let err = bad.parse::<Shard>().err().unwrap_or_default();
            assert!(err.contains(message), "{bad}: {err}");
        }
    }
}
