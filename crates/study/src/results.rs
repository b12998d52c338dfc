//! The `results.json` schema and the statistics of a comparison: plain data, free of the
//! engine, so the page's UI reads results without linking it.

use std::collections::BTreeMap;

use gradpatch_terms::{
    ComponentKind, Method, MethodSet, Processing, PromptPair, Prompts, StudyOptions,
};
use serde::{Deserialize, Serialize};

pub use crate::pairs::{Stats, StatsPairs, pair_statistics, statistics};

/// `[P][L][H][S_p]`: a head's scores at each position of prompt p (S_p tokens with BOS).
pub type HeadsPos = Vec<Vec<Vec<Vec<f32>>>>;

/// Everything that defines a comparison (recorded in `results.json`).
#[derive(Clone, Debug, PartialEq)]
pub struct StudyConfig {
    pub model: String,
    pub processing: Processing,
    pub options: StudyOptions,
    /// Where the prompts came from, e.g. `{"ioi": {"n": 4, "seed": 0, "corrupt": "aba"}}`.
    pub prompts_source: serde_json::Value,
    /// What computed the scores, for the record (`ndarray`, `wgpu`, `WebGPU (adapter)`, …);
    /// nothing branches on it.
    pub backend: String,
}

impl StudyConfig {
    /// `prompts_source` of the prompts `prompts`: generated IOI pairs by their parameters,
    /// custom pairs by their number.
    pub fn source_of(prompts: &Prompts) -> serde_json::Value {
        match prompts {
            Prompts::Ioi { n, seed, corrupt } => {
                serde_json::json!({"ioi": {"n": n, "seed": seed, "corrupt": corrupt}})
            }
            Prompts::Custom(pairs) => serde_json::json!({"custom": pairs.len()}),
        }
    }

    /// The IOI prompts `prompts_source` names, when it names generated IOI prompts.
    pub fn ioi_prompts(&self) -> Option<Prompts> {
        let ioi = self.prompts_source.get("ioi")?;
        Some(Prompts::Ioi {
            n: usize::try_from(ioi.get("n")?.as_u64()?).ok()?,
            seed: ioi.get("seed")?.as_u64()?,
            corrupt: ioi.get("corrupt")?.as_str()?.parse().ok()?,
        })
    }
}

/// A prompt pair of a comparison with the token ids the engine used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "wire::PromptRecord", into = "wire::PromptRecord")]
pub struct PromptRecord {
    pub pair: PromptPair,
    pub clean_token_ids: Vec<u32>,
    /// Each clean token as text, so that a reader without the tokenizer (the page opening a
    /// file) labels positions; empty in files written before it existed.
    pub clean_tokens: Vec<String>,
    pub corrupted_token_ids: Vec<u32>,
    pub labels: [u32; 2],
}

impl PromptRecord {
    /// The clean tokens as text, or `<id>` for each when the file has no texts.
    pub fn token_texts(&self) -> Vec<String> {
        if self.clean_tokens.len() == self.clean_token_ids.len() {
            self.clean_tokens.clone()
        } else {
            self.clean_token_ids
                .iter()
                .map(|id| format!("<{id}>"))
                .collect()
        }
    }
}

/// One method's scores over the prompts: `[P][L][C]` for heads and neurons, optionally the head
/// scores per position and IG's convergence deltas `[P][L]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodScores {
    #[serde(deserialize_with = "crate::nullable::read")]
    pub heads: Vec<Vec<Vec<f32>>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub neurons: Vec<Vec<Vec<f32>>>,
    /// IG's Σ attributions − (metric(input) − metric(baseline)) per prompt and layer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::nullable::read"
    )]
    pub convergence_delta_heads: Option<Vec<Vec<f32>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::nullable::read"
    )]
    pub convergence_delta_neurons: Option<Vec<Vec<f32>>>,
    /// With `positions`: the head scores at each position.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::nullable::read"
    )]
    pub heads_pos: Option<HeadsPos>,
}

impl MethodScores {
    /// The `[P][L][C]` scores of one kind of component.
    pub fn of(&self, component: ComponentKind) -> &[Vec<Vec<f32>>] {
        match component {
            ComponentKind::Heads => &self.heads,
            ComponentKind::Neurons => &self.neurons,
        }
    }
}

/// The `results.json` schema (see README). Non-finite numbers are written as `null`; the
/// layout, with the methods' fields among the others, is in `wire.rs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    pub config: StudyConfig,
    pub prompts: Vec<PromptRecord>,
    pub clean_logit_diff: Vec<f32>,
    pub corrupted_logit_diff: Vec<f32>,
    /// The scores of each method that ran (all prompts, or those it finished when cancelled).
    pub scores: BTreeMap<Method, MethodScores>,
    /// IG vs AP, present when both ran (as in files written before AtP existed).
    pub stats: Option<Stats>,
    /// The statistics of every pair of methods that ran (IG–AP's equal `stats`).
    pub stats_pairs: Option<StatsPairs>,
    /// The faithfulness curves, when the comparison computed them.
    pub faithfulness: Option<crate::Faithfulness>,
    /// The edge methods' scores, when an edge method ran.
    pub edges: Option<crate::EdgeResults>,
    /// False when the run was cancelled: missing scores are `null`.
    pub complete: bool,
    /// Wall-clock seconds per stage, as measured by the caller's clock.
    pub seconds: serde_json::Map<String, serde_json::Value>,
}

impl Results {
    /// No prompt yet: what a study starts from.
    pub fn empty(config: StudyConfig) -> Results {
        Results {
            config,
            prompts: Vec::new(),
            clean_logit_diff: Vec::new(),
            corrupted_logit_diff: Vec::new(),
            scores: BTreeMap::new(),
            stats: None,
            stats_pairs: None,
            faithfulness: None,
            edges: None,
            complete: true,
            seconds: serde_json::Map::new(),
        }
    }

    /// The scores of `method`, when it ran.
    pub fn scores(&self, method: Method) -> Option<&MethodScores> {
        self.scores.get(&method)
    }

    /// The per-position head scores of `method`, when it ran with `positions`.
    pub fn heads_pos(&self, method: Method) -> Option<&HeadsPos> {
        self.scores(method)?.heads_pos.as_ref()
    }

    /// `(layers, heads per layer, neurons per layer)` of the scores, when any method has some.
    pub fn shape(&self) -> Option<(usize, usize, usize)> {
        self.scores.values().find_map(|s| {
            let (h, n) = (s.heads.first()?, s.neurons.first()?);
            Some((
                h.len(),
                h.first().map_or(0, Vec::len),
                n.first().map_or(0, Vec::len),
            ))
        })
    }

    /// The node methods with scores, in running order.
    pub fn methods(&self) -> Vec<Method> {
        self.scores.keys().copied().collect()
    }

    /// The set of methods with scores, of nodes or of edges.
    pub fn method_set(&self) -> MethodSet {
        let edges = self.edges.iter().flat_map(|e| e.scores.keys());
        self.scores.keys().chain(edges).copied().collect()
    }
}

/// A prompt's record as `results.json` writes it: its four texts beside its ids, as files
/// written before the shared types existed do.
mod wire {
    use super::*;

    #[derive(Clone, Serialize, Deserialize)]
    pub struct PromptRecord {
        clean: String,
        corrupted: String,
        correct: String,
        incorrect: String,
        clean_token_ids: Vec<u32>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        clean_tokens: Vec<String>,
        corrupted_token_ids: Vec<u32>,
        labels: [u32; 2],
    }

    impl From<super::PromptRecord> for PromptRecord {
        fn from(r: super::PromptRecord) -> Self {
            let PromptPair {
                clean,
                corrupted,
                correct,
                incorrect,
            } = r.pair;
            Self {
                clean,
                corrupted,
                correct,
                incorrect,
                clean_token_ids: r.clean_token_ids,
                clean_tokens: r.clean_tokens,
                corrupted_token_ids: r.corrupted_token_ids,
                labels: r.labels,
            }
        }
    }

    impl From<PromptRecord> for super::PromptRecord {
        fn from(r: PromptRecord) -> Self {
            Self {
                pair: PromptPair {
                    clean: r.clean,
                    corrupted: r.corrupted,
                    correct: r.correct,
                    incorrect: r.incorrect,
                },
                clean_token_ids: r.clean_token_ids,
                clean_tokens: r.clean_tokens,
                corrupted_token_ids: r.corrupted_token_ids,
                labels: r.labels,
            }
        }
    }
}
