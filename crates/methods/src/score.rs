//! The one entry point: any method's scores of one prompt, as one score grid.
//!
//! A `match` over [`Method`] rather than a trait object per method: a method is a plain value
//! that links, files and messages carry, every method needs the same inputs (the model, the
//! prompt's cached runs, the study's options), and an exhaustive `match` makes the compiler
//! point at this function when a method is added.

use gradpatch_model::{Gpt2, RunError, block_on};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::{Method, StudyOptions};

use crate::edges::{eap_async, eap_ig_async};
use crate::{
    ApOptions, IgOptions, Progress, activation_patching_async, activation_patching_positions_async,
    attribution_patching_async, integrated_gradients_async,
};

/// One prompt's scores from one method, row-major: heads `[layers · heads]`, neurons
/// `[layers · d_mlp]`, the head scores at each position `[layers · heads · positions]` (when
/// asked for and computed in the same pass), and IG's convergence deltas per layer. Parts a
/// cancelled run did not reach are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptScores {
    pub heads: Vec<f32>,
    pub neurons: Vec<f32>,
    pub heads_pos: Option<Vec<f32>>,
    pub convergence: Option<Convergence>,
}

/// One prompt's scores from one method: of its components, or of its edges (in
/// [`gradpatch_terms::EdgeGraph`]'s order).
#[derive(Clone, Debug, PartialEq)]
pub enum PromptOutput {
    Nodes(PromptScores),
    Edges(Vec<f32>),
}

/// IG's completeness check per layer: Σ attributions − (metric(input) − metric(baseline)).
#[derive(Clone, Debug, PartialEq)]
pub struct Convergence {
    pub heads: Vec<f32>,
    pub neurons: Vec<f32>,
}

/// How a study runs its methods on one machine.
#[derive(Clone, Copy, Debug)]
pub struct ScoreOptions<'a> {
    pub study: &'a StudyOptions,
    /// Threads sharing a method's parts (natively on the CPU; the browser has one).
    pub threads: usize,
}

impl ScoreOptions<'_> {
    fn ig(&self) -> IgOptions {
        IgOptions {
            steps: self.study.ig_steps,
            quadrature: self.study.ig_method,
            baseline: self.study.ig_baseline,
            steps_per_batch: self.study.ig_steps,
            start_at_layer: true,
            threads: self.threads,
        }
    }

    fn ap(&self) -> ApOptions {
        ApOptions {
            threads: self.threads,
            direction: self.study.ap_direction,
            ..ApOptions::default()
        }
    }
}

/// `method`'s scores of the prompt whose runs are `runs`, and whether they are complete (a
/// cancel through `progress` keeps what finished). The head scores per position are included
/// when the options ask for them and the method computes them with its scores
/// ([`Method::positions_with_scores`]); else see [`positions`].
pub async fn score_async(
    method: Method,
    model: &Gpt2,
    runs: &PromptRuns,
    options: ScoreOptions<'_>,
    progress: &mut dyn Progress,
) -> Result<(PromptOutput, bool), RunError> {
    let keep_pos = options.study.positions;
    let (scores, complete) = match method {
        Method::Atp => {
            let s = attribution_patching_async(model, runs, options.study.ap_direction).await?;
            let done = progress.update(1, 1);
            progress.pause().await;
            let scores = PromptScores {
                heads: s.scores.heads,
                neurons: s.scores.neurons,
                heads_pos: keep_pos.then_some(s.heads_pos),
                convergence: None,
            };
            (scores, done)
        }
        Method::Ig => {
            let (s, complete) =
                integrated_gradients_async(model, runs, &options.ig(), progress).await?;
            let scores = PromptScores {
                heads: s.scores.heads,
                neurons: s.scores.neurons,
                heads_pos: keep_pos.then_some(s.heads_pos),
                convergence: Some(Convergence {
                    heads: s.delta_heads,
                    neurons: s.delta_neurons,
                }),
            };
            (scores, complete)
        }
        Method::Ap => {
            let (s, complete) =
                activation_patching_async(model, runs, &options.ap(), progress).await?;
            let scores = PromptScores {
                heads: s.heads,
                neurons: s.neurons,
                heads_pos: None,
                convergence: None,
            };
            (scores, complete)
        }
        // One forward and backward (EAP-IG's rows batched): done in one piece.
        Method::Eap | Method::EapIg => {
            let edges = if method == Method::Eap {
                eap_async(model, runs).await?
            } else {
                eap_ig_async(model, runs, options.study.eapig_steps).await?
            };
            let done = progress.update(1, 1);
            progress.pause().await;
            return Ok((PromptOutput::Edges(edges), done));
        }
    };
    Ok((PromptOutput::Nodes(scores), complete))
}

/// [`score_async`], blocking (natively).
pub fn score(
    method: Method,
    model: &Gpt2,
    runs: &PromptRuns,
    options: ScoreOptions<'_>,
    progress: &mut dyn Progress,
) -> Result<(PromptOutput, bool), RunError> {
    block_on(score_async(method, model, runs, options, progress))
}

/// `method`'s head scores at each position `[layers · heads · positions]`, for a method whose
/// scores do not come with them (AP); and whether they are complete.
pub async fn positions_async(
    method: Method,
    model: &Gpt2,
    runs: &PromptRuns,
    options: ScoreOptions<'_>,
    progress: &mut dyn Progress,
) -> Result<(Vec<f32>, bool), RunError> {
    match method {
        Method::Ap => {
            activation_patching_positions_async(model, runs, options.study.ap_direction, progress)
                .await
        }
        // Edges have no head scores.
        Method::Eap | Method::EapIg => Ok((Vec::new(), true)),
        // Their terms come out of the pass that scores them.
        Method::Atp | Method::Ig => {
            let with_positions = StudyOptions {
                positions: true,
                ..options.study.clone()
            };
            let options = ScoreOptions {
                study: &with_positions,
                ..options
            };
            let (scores, complete) = score_async(method, model, runs, options, progress).await?;
            let grid = match scores {
                PromptOutput::Nodes(s) => s.heads_pos.unwrap_or_default(),
                PromptOutput::Edges(_) => Vec::new(),
            };
            Ok((grid, complete))
        }
    }
}
