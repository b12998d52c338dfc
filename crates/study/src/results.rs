//! The `results.json` schema and the statistics of a comparison: plain data, free of the
//! engine, so the page's UI reads results without linking it.

use gradpatch_config::{Baseline, Direction, Processing, Quadrature};
use gradpatch_stats::{Comparison, compare};
use serde::{Deserialize, Serialize};

/// Everything that defines a comparison (recorded in `results.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyConfig {
    pub model: String,
    pub processing: Processing,
    pub run_ig: bool,
    pub run_ap: bool,
    pub ig_steps: usize,
    pub ig_method: Quadrature,
    pub ig_baseline: Baseline,
    pub ap_direction: Direction,
    pub percentile: f64,
    /// Where the prompts came from, e.g. `{"ioi": {"n": 4, "seed": 0, "corrupt": "aba"}}`.
    pub prompts_source: serde_json::Value,
    pub backend: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptRecord {
    pub clean: String,
    pub corrupted: String,
    pub correct: String,
    pub incorrect: String,
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
