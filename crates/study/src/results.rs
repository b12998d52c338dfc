//! The `results.json` schema and the statistics of a comparison: plain data, free of the
//! engine, so the page's UI reads results without linking it.

use gradpatch_terms::{Baseline, Direction, Method, MethodSet, Processing, PromptPair, Quadrature};
use serde::{Deserialize, Serialize};

pub use crate::pairs::{Stats, StatsPairs, pair_statistics, statistics};

/// `[P][L][H][S_p]`: a head's scores at each position of prompt p (S_p tokens with BOS).
pub type HeadsPos = Vec<Vec<Vec<Vec<f32>>>>;

/// Everything that defines a comparison (recorded in `results.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "wire::StudyConfig", into = "wire::StudyConfig")]
pub struct StudyConfig {
    pub model: String,
    pub processing: Processing,
    pub methods: MethodSet,
    pub ig_steps: usize,
    pub ig_method: Quadrature,
    pub ig_baseline: Baseline,
    pub ap_direction: Direction,
    pub percentile: f64,
    /// Whether the head scores of each method are also written per position (`heads_pos`).
    pub positions: bool,
    /// Where the prompts came from, e.g. `{"ioi": {"n": 4, "seed": 0, "corrupt": "aba"}}`.
    pub prompts_source: serde_json::Value,
    /// What computed the scores, for the record (`ndarray`, `wgpu`, `WebGPU (adapter)`, …);
    /// nothing branches on it.
    pub backend: String,
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

/// `[P][L][C]` scores of one method (AP, AtP).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodScores {
    #[serde(deserialize_with = "crate::nullable::read")]
    pub heads: Vec<Vec<Vec<f32>>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub neurons: Vec<Vec<Vec<f32>>>,
    /// With `positions`: the head scores at each position.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::nullable::read"
    )]
    pub heads_pos: Option<HeadsPos>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IgResults {
    #[serde(deserialize_with = "crate::nullable::read")]
    pub heads: Vec<Vec<Vec<f32>>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub neurons: Vec<Vec<Vec<f32>>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub convergence_delta_heads: Vec<Vec<f32>>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub convergence_delta_neurons: Vec<Vec<f32>>,
    /// With `positions`: the head scores at each position (they sum to `heads`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::nullable::read"
    )]
    pub heads_pos: Option<HeadsPos>,
}

/// The `results.json` schema (see README). Non-finite numbers are written as `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub config: StudyConfig,
    pub prompts: Vec<PromptRecord>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub clean_logit_diff: Vec<f32>,
    #[serde(deserialize_with = "crate::nullable::read")]
    pub corrupted_logit_diff: Vec<f32>,
    pub ig: Option<IgResults>,
    pub ap: Option<MethodScores>,
    /// Attribution patching (in the AP direction); absent when it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atp: Option<MethodScores>,
    /// IG vs AP, present when both ran (as in files written before AtP existed).
    pub stats: Option<Stats>,
    /// The statistics of every pair of methods that ran (`ig_ap` equals `stats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats_pairs: Option<StatsPairs>,
    /// False when the run was cancelled: missing scores are `null`.
    pub complete: bool,
    /// Wall-clock seconds per stage, as measured by the caller's clock.
    pub seconds: serde_json::Map<String, serde_json::Value>,
}

impl Results {
    /// The `[P][L][C]` head and neuron scores of `method`, when it ran.
    #[allow(clippy::type_complexity)]
    pub fn scores(&self, method: Method) -> Option<(&[Vec<Vec<f32>>], &[Vec<Vec<f32>>])> {
        match method {
            Method::Ig => self.ig.as_ref().map(|s| (&s.heads[..], &s.neurons[..])),
            Method::Ap => self.ap.as_ref().map(|s| (&s.heads[..], &s.neurons[..])),
            Method::Atp => self.atp.as_ref().map(|s| (&s.heads[..], &s.neurons[..])),
        }
    }

    /// The per-position head scores of `method`, when it ran with `positions`.
    pub fn heads_pos(&self, method: Method) -> Option<&HeadsPos> {
        match method {
            Method::Ig => self.ig.as_ref()?.heads_pos.as_ref(),
            Method::Ap => self.ap.as_ref()?.heads_pos.as_ref(),
            Method::Atp => self.atp.as_ref()?.heads_pos.as_ref(),
        }
    }

    /// `(layers, heads per layer, neurons per layer)` of the scores, when any method has some.
    pub fn shape(&self) -> Option<(usize, usize, usize)> {
        Method::ALL.iter().find_map(|&m| {
            let (heads, neurons) = self.scores(m)?;
            let (h, n) = (heads.first()?, neurons.first()?);
            Some((
                h.len(),
                h.first().map_or(0, Vec::len),
                n.first().map_or(0, Vec::len),
            ))
        })
    }

    /// The methods with scores, in running order.
    pub fn methods(&self) -> Vec<Method> {
        Method::ALL
            .iter()
            .copied()
            .filter(|&m| self.scores(m).is_some())
            .collect()
    }
}

/// The `results.json` layout of the types above, which flattens them (`run_ig`, `run_ap`; a
/// prompt's four texts beside its ids) as files written before the shared types existed do.
mod wire {
    use super::*;

    #[derive(Clone, Serialize, Deserialize)]
    pub struct StudyConfig {
        model: String,
        processing: Processing,
        run_ig: bool,
        run_ap: bool,
        // Written only when set, so files without AtP or positions stay as they were.
        #[serde(default, skip_serializing_if = "is_false")]
        run_atp: bool,
        ig_steps: usize,
        ig_method: Quadrature,
        ig_baseline: Baseline,
        ap_direction: Direction,
        percentile: f64,
        #[serde(default, skip_serializing_if = "is_false")]
        positions: bool,
        prompts_source: serde_json::Value,
        backend: String,
    }

    fn is_false(b: &bool) -> bool {
        !b
    }

    impl From<super::StudyConfig> for StudyConfig {
        fn from(c: super::StudyConfig) -> Self {
            Self {
                model: c.model,
                processing: c.processing,
                run_ig: c.methods.ig,
                run_ap: c.methods.ap,
                run_atp: c.methods.atp,
                ig_steps: c.ig_steps,
                ig_method: c.ig_method,
                ig_baseline: c.ig_baseline,
                ap_direction: c.ap_direction,
                percentile: c.percentile,
                positions: c.positions,
                prompts_source: c.prompts_source,
                backend: c.backend,
            }
        }
    }

    impl From<StudyConfig> for super::StudyConfig {
        fn from(c: StudyConfig) -> Self {
            Self {
                model: c.model,
                processing: c.processing,
                methods: MethodSet {
                    ig: c.run_ig,
                    ap: c.run_ap,
                    atp: c.run_atp,
                },
                ig_steps: c.ig_steps,
                ig_method: c.ig_method,
                ig_baseline: c.ig_baseline,
                ap_direction: c.ap_direction,
                percentile: c.percentile,
                positions: c.positions,
                prompts_source: c.prompts_source,
                backend: c.backend,
            }
        }
    }

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
