//! Running a comparison (feature `engine`): the runs of each prompt, both methods and their
//! progress.

use gradpatch_dataset::TokenizedPair;
use gradpatch_methods::{
    ApOptions, IgOptions, Pause, Progress, activation_patching_async, integrated_gradients_async,
};
use gradpatch_model::{Gpt2, RunError, block_on};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::Stage;

use crate::{IgResults, MethodScores, PromptRecord, Results, StudyConfig, statistics};

impl StudyConfig {
    fn ig_options(&self, threads: usize) -> IgOptions {
        IgOptions {
            steps: self.ig_steps,
            quadrature: self.ig_method,
            baseline: self.ig_baseline,
            steps_per_batch: self.ig_steps,
            start_at_layer: true,
            threads,
        }
    }

    fn ap_options(&self, threads: usize) -> ApOptions {
        ApOptions {
            threads,
            direction: self.ap_direction,
            ..ApOptions::default()
        }
    }
}

/// Where a running study is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudyProgress {
    pub prompt: usize,
    pub n_prompts: usize,
    pub stage: Stage,
    /// Fraction of the whole study done, 0..=1.
    pub fraction: f64,
}

fn rows(flat: &[f32], width: usize) -> Vec<Vec<f32>> {
    flat.chunks(width).map(<[f32]>::to_vec).collect()
}

/// Told where a running study is; answers whether to go on. [`StudyObserver::pause`] is awaited
/// after each report, so a browser worker can let its event loop run there (and see a cancel).
pub trait StudyObserver {
    fn report(&mut self, progress: StudyProgress) -> bool;

    fn pause(&mut self) -> Pause<'_> {
        Box::pin(std::future::ready(()))
    }
}

impl<F: FnMut(StudyProgress) -> bool> StudyObserver for F {
    fn report(&mut self, progress: StudyProgress) -> bool {
        self(progress)
    }
}

/// A method's progress, seen as a share of the whole study.
struct StageProgress<'a> {
    observer: &'a mut dyn StudyObserver,
    prompt: usize,
    n_prompts: usize,
    stage: Stage,
    offset: f64,
    weight: f64,
}

impl<'a> StageProgress<'a> {
    fn new(
        observer: &'a mut dyn StudyObserver,
        (prompt, n_prompts): (usize, usize),
        stage: Stage,
        offset: f64,
        weight: f64,
    ) -> Self {
        Self {
            observer,
            prompt,
            n_prompts,
            stage,
            offset,
            weight,
        }
    }

    fn fraction(&self, done: u64, total: u64) -> f64 {
        let within = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        (self.prompt as f64 + self.offset + self.weight * within) / self.n_prompts as f64
    }
}

impl Progress for StageProgress<'_> {
    fn update(&mut self, done: u64, total: u64) -> bool {
        let fraction = self.fraction(done, total);
        self.observer.report(StudyProgress {
            prompt: self.prompt,
            n_prompts: self.n_prompts,
            stage: self.stage,
            fraction,
        })
    }

    fn pause(&mut self) -> Pause<'_> {
        self.observer.pause()
    }
}

/// Runs the comparison. `progress` is told where the study is and may cancel it (then the
/// results hold what was finished and `complete` is false).
pub fn run_study(
    model: &Gpt2,
    pairs: &[TokenizedPair],
    config: &StudyConfig,
    progress: &mut dyn FnMut(StudyProgress) -> bool,
) -> Result<Results, RunError> {
    let mut observer = progress;
    block_on(run_study_async(model, pairs, config, &mut observer))
}

/// [`run_study`] for platforms that cannot block (WebGPU in the browser).
pub async fn run_study_async(
    model: &Gpt2,
    pairs: &[TokenizedPair],
    config: &StudyConfig,
    observer: &mut dyn StudyObserver,
) -> Result<Results, RunError> {
    let c = &model.config;
    let (h, m) = (c.n_heads, c.d_mlp);
    let n = pairs.len();
    // Relative cost of the stages (measured on GPT-2 small: the AP sweep dominates).
    let (w_ig, w_ap) = match (config.methods.ig, config.methods.ap) {
        (true, true) => (0.2, 0.8),
        (true, false) => (1.0, 0.0),
        _ => (0.0, 1.0),
    };
    // On the CPU backend, parts of a sweep run side by side (its element-wise work is
    // single-threaded); a GPU gains nothing from it, and the browser has one thread.
    let threads = if model.on_cpu() {
        gradpatch_methods::cpu_threads()
    } else {
        1
    };
    let mut results = Results {
        config: config.clone(),
        prompts: Vec::with_capacity(n),
        clean_logit_diff: Vec::with_capacity(n),
        corrupted_logit_diff: Vec::with_capacity(n),
        ig: config.methods.ig.then(IgResults::default),
        ap: config.methods.ap.then(MethodScores::default),
        stats: None,
        complete: true,
        seconds: serde_json::Map::new(),
    };
    'prompts: for (i, pair) in pairs.iter().enumerate() {
        let runs = PromptRuns::new_async(model, pair).await?;
        results.prompts.push(PromptRecord {
            pair: pair.pair.clone(),
            clean_token_ids: pair.clean_ids.clone(),
            corrupted_token_ids: pair.corrupted_ids.clone(),
            labels: pair.labels(),
        });
        results.clean_logit_diff.push(runs.clean.logit_diff);
        results.corrupted_logit_diff.push(runs.corrupted.logit_diff);
        let at = (i, n);
        let mut runs_done = StageProgress::new(observer, at, Stage::Runs, 0.0, 0.0);
        let go_on = runs_done.update(0, 0);
        runs_done.pause().await;
        if !go_on {
            // Cancelled before this prompt's methods: keep only the prompts that have scores.
            results.prompts.pop();
            results.clean_logit_diff.pop();
            results.corrupted_logit_diff.pop();
            results.complete = false;
            break;
        }
        if let Some(ig) = results.ig.as_mut() {
            let (scores, complete) = integrated_gradients_async(
                model,
                &runs,
                &config.ig_options(threads),
                &mut StageProgress::new(observer, at, Stage::Ig, 0.0, w_ig),
            )
            .await?;
            ig.heads.push(rows(&scores.scores.heads, h));
            ig.neurons.push(rows(&scores.scores.neurons, m));
            ig.convergence_delta_heads.push(scores.delta_heads);
            ig.convergence_delta_neurons.push(scores.delta_neurons);
            if !complete {
                results.complete = false;
                break 'prompts;
            }
        }
        if let Some(ap) = results.ap.as_mut() {
            let (scores, complete) = activation_patching_async(
                model,
                &runs,
                &config.ap_options(threads),
                &mut StageProgress::new(observer, at, Stage::Ap, w_ig, w_ap),
            )
            .await?;
            ap.heads.push(rows(&scores.heads, h));
            ap.neurons.push(rows(&scores.neurons, m));
            if !complete {
                results.complete = false;
                break 'prompts;
            }
        }
    }
    results.stats = statistics(&results, config.percentile);
    Ok(results)
}
