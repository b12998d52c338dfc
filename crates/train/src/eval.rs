//! IOI behaviour of a model as the engine computes it: clean and `aba`-corrupted logit
//! differences (logit(IO) − logit(S) at the last token) through the model's `LogitDiff`
//! readout, the numbers `gradpatch run` and the page show.

use gradpatch_dataset::{Corruption, Gpt2Tokenizer, IoiPools, generate_ioi_from};
use gradpatch_model::Gpt2;
use gradpatch_runs::logit_diffs;

use crate::{Split, TrainError};
use serde::Serialize;

/// Thresholds a model must meet to count as doing IOI.
pub const MIN_MEAN_CLEAN: f32 = 2.0;
pub const MIN_FRACTION_POSITIVE: f32 = 0.9;
/// The corrupted mean must be at most this fraction of the clean mean (≤ 0: flipped).
pub const MAX_CORRUPTED_RATIO: f32 = 0.2;

#[derive(Clone, Debug, Serialize)]
pub struct IoiEval {
    pub n: usize,
    pub mean_clean: f32,
    pub fraction_positive: f32,
    pub mean_corrupted: f32,
    pub fraction_corrupted_negative: f32,
    pub clean: Vec<f32>,
    pub corrupted: Vec<f32>,
}

impl IoiEval {
    /// What is wrong with the figures, empty when every threshold is met.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.mean_clean < MIN_MEAN_CLEAN || self.mean_clean.is_nan() {
            out.push(format!(
                "mean clean logit difference {:.3}, expected at least {MIN_MEAN_CLEAN}",
                self.mean_clean
            ));
        }
        if self.fraction_positive < MIN_FRACTION_POSITIVE {
            out.push(format!(
                "{:.1}% of prompts prefer the indirect object, expected at least {:.0}%",
                100.0 * self.fraction_positive,
                100.0 * MIN_FRACTION_POSITIVE
            ));
        }
        if self.mean_corrupted > MAX_CORRUPTED_RATIO * self.mean_clean.max(0.0) {
            out.push(format!(
                "mean corrupted logit difference {:.3}, expected at most {MAX_CORRUPTED_RATIO} × \
                 the clean mean (the aba corruption should remove or flip the preference)",
                self.mean_corrupted
            ));
        }
        out
    }
}

impl IoiEval {
    /// Figures of the clean and corrupted logit differences of the same prompts.
    fn from_diffs(clean: Vec<f32>, corrupted: Vec<f32>) -> Self {
        let frac = |x: &[f32], f: fn(f32) -> bool| {
            x.iter().filter(|&&v| f(v)).count() as f32 / x.len().max(1) as f32
        };
        Self {
            n: clean.len(),
            mean_clean: mean(&clean),
            fraction_positive: frac(&clean, |v| v > 0.0),
            mean_corrupted: mean(&corrupted),
            fraction_corrupted_negative: frac(&corrupted, |v| v < 0.0),
            clean,
            corrupted,
        }
    }

    /// The figures of all prompts of `parts` together.
    pub fn pooled<'a>(parts: impl IntoIterator<Item = &'a IoiEval>) -> Self {
        let (mut clean, mut corrupted) = (Vec::new(), Vec::new());
        for p in parts {
            clean.extend(&p.clean);
            corrupted.extend(&p.corrupted);
        }
        Self::from_diffs(clean, corrupted)
    }
}

/// One template's figures.
#[derive(Clone, Debug, Serialize)]
pub struct TemplateEval {
    pub template: String,
    #[serde(flatten)]
    pub eval: IoiEval,
}

fn mean(x: &[f32]) -> f32 {
    x.iter().sum::<f32>() / x.len().max(1) as f32
}

/// `n` IOI prompts of `pools` for `seed`, corrupted with `aba`, scored by the engine.
fn eval_pools(
    model: &Gpt2,
    tok: &Gpt2Tokenizer,
    pools: &IoiPools,
    n: usize,
    seed: u64,
) -> Result<IoiEval, TrainError> {
    let pairs = generate_ioi_from(pools, n, seed, Corruption::Aba, tok, model.config.n_ctx)?;
    let clean = logit_diffs(model, &pairs, false)?;
    let corrupted = logit_diffs(model, &pairs, true)?;
    Ok(IoiEval::from_diffs(clean, corrupted))
}

/// `n` IOI prompts of `split` for `seed`, corrupted with `aba`, scored by the engine.
pub fn eval_ioi(
    model: &Gpt2,
    tok: &Gpt2Tokenizer,
    split: Split,
    n: usize,
    seed: u64,
) -> Result<IoiEval, TrainError> {
    eval_pools(model, tok, &split.pools(), n, seed)
}

/// About `n` prompts spread over the templates of `split` (`ceil(n / templates)` each, at least
/// one; names, places and objects drawn as [`eval_ioi`] draws them, with `seed`), in the split's
/// template order.
pub fn eval_by_template(
    model: &Gpt2,
    tok: &Gpt2Tokenizer,
    split: Split,
    n: usize,
    seed: u64,
) -> Result<Vec<TemplateEval>, TrainError> {
    let pools = split.pools();
    let per_template = n.div_ceil(pools.templates.len().max(1)).max(1);
    pools
        .templates
        .iter()
        .map(|template| {
            // Not `..pools.clone()`: that would copy every template once per template (93,614
            // of them for the training split).
            let one = IoiPools {
                templates: vec![template.clone()],
                names: pools.names.clone(),
                places: pools.places.clone(),
                objects: pools.objects.clone(),
            };
            Ok(TemplateEval {
                template: template.clone(),
                eval: eval_pools(model, tok, &one, per_template, seed)?,
            })
        })
        .collect()
}
