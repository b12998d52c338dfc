//! The `results.json` schema and the statistics of a comparison: plain data, free of the
//! engine, so the page's UI reads results without linking it.

use gradpatch_stats::{Comparison, compare};
use gradpatch_terms::{Baseline, Direction, MethodSet, Processing, PromptPair, Quadrature};
use serde::{Deserialize, Serialize};

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
    pub corrupted_token_ids: Vec<u32>,
    pub labels: [u32; 2],
}

/// `[P][L][C]` scores of one method.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodScores {
    pub heads: Vec<Vec<Vec<f32>>>,
    pub neurons: Vec<Vec<Vec<f32>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IgResults {
    pub heads: Vec<Vec<Vec<f32>>>,
    pub neurons: Vec<Vec<Vec<f32>>>,
    pub convergence_delta_heads: Vec<Vec<f32>>,
    pub convergence_delta_neurons: Vec<Vec<f32>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub heads: Comparison,
    pub neurons: Comparison,
}

/// The `results.json` schema (see README). Non-finite numbers are written as `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub config: StudyConfig,
    pub prompts: Vec<PromptRecord>,
    pub clean_logit_diff: Vec<f32>,
    pub corrupted_logit_diff: Vec<f32>,
    pub ig: Option<IgResults>,
    pub ap: Option<MethodScores>,
    /// Present when both methods ran.
    pub stats: Option<Stats>,
    /// False when the run was cancelled: missing scores are `null`.
    pub complete: bool,
    /// Wall-clock seconds per stage, as measured by the caller's clock.
    pub seconds: serde_json::Map<String, serde_json::Value>,
}

/// IG-vs-AP statistics of whatever both methods produced.
pub fn statistics(results: &Results, percentile: f64) -> Option<Stats> {
    let (ig, ap) = (results.ig.as_ref()?, results.ap.as_ref()?);
    let flat = |s: &[Vec<Vec<f32>>]| -> Vec<Vec<f32>> { s.iter().map(|p| p.concat()).collect() };
    let n = ig.heads.len().min(ap.heads.len());
    Some(Stats {
        heads: compare(&flat(&ig.heads[..n]), &flat(&ap.heads[..n]), percentile),
        neurons: compare(&flat(&ig.neurons[..n]), &flat(&ap.neurons[..n]), percentile),
    })
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
        ig_steps: usize,
        ig_method: Quadrature,
        ig_baseline: Baseline,
        ap_direction: Direction,
        percentile: f64,
        prompts_source: serde_json::Value,
        backend: String,
    }

    impl From<super::StudyConfig> for StudyConfig {
        fn from(c: super::StudyConfig) -> Self {
            Self {
                model: c.model,
                processing: c.processing,
                run_ig: c.methods.ig,
                run_ap: c.methods.ap,
                ig_steps: c.ig_steps,
                ig_method: c.ig_method,
                ig_baseline: c.ig_baseline,
                ap_direction: c.ap_direction,
                percentile: c.percentile,
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
                },
                ig_steps: c.ig_steps,
                ig_method: c.ig_method,
                ig_baseline: c.ig_baseline,
                ap_direction: c.ap_direction,
                percentile: c.percentile,
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
                corrupted_token_ids: r.corrupted_token_ids,
                labels: r.labels,
            }
        }
    }
}
