//! Running a comparison (feature `engine`): the runs of each prompt, the methods one after the
//! other over all prompts (the cheapest first, so their scores can be shown while the next
//! runs), and their progress.

use gradpatch_dataset::TokenizedPair;
use gradpatch_methods::{
    ApOptions, IgOptions, Progress, Scores, activation_patching_async,
    activation_patching_positions_async, attribution_patching_async, integrated_gradients_async,
};
use gradpatch_model::{Gpt2, Gpt2Config, RunError, block_on};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::{Method, Stage};

use crate::{
    HeadsPos, IgResults, MethodScores, PromptRecord, Results, StudyConfig, pair_statistics,
    statistics,
};

mod progress;

use progress::{StageProgress, piece, shares};
pub use progress::{StudyObserver, StudyProgress};

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

fn rows(flat: &[f32], width: usize) -> Vec<Vec<f32>> {
    flat.chunks(width).map(<[f32]>::to_vec).collect()
}

/// `[L·H·S]` row-major (layer, head, position) → `[L][H][S]`.
fn by_head(flat: &[f32], layers: usize, heads: usize) -> Vec<Vec<Vec<f32>>> {
    let len = flat.len() / (layers * heads).max(1);
    flat.chunks(heads * len.max(1))
        .map(|layer| rows(layer, len.max(1)))
        .collect()
}

/// Appends one prompt's head and neuron scores to a method's results, created at its first
/// prompt (with room for the scores per position when the study computes them).
fn push_scores<'a>(
    slot: &'a mut Option<MethodScores>,
    positions: bool,
    c: &Gpt2Config,
    scores: &Scores,
) -> &'a mut MethodScores {
    let method = slot.get_or_insert_with(|| MethodScores {
        heads_pos: positions.then(HeadsPos::new),
        ..MethodScores::default()
    });
    method.heads.push(rows(&scores.heads, c.n_heads));
    method.neurons.push(rows(&scores.neurons, c.d_mlp));
    method
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
///
/// First the clean and corrupted runs of every prompt (with AtP, which needs nothing else), then
/// IG over all prompts, then AP: each method's scores are complete before the next starts, and
/// `observer.method_done` sees them. The runs are kept for IG and AP within a memory budget and
/// computed again beyond it (see `Study::runs_and_atp`). A cancel keeps
/// the prompts whose runs finished and every score computed; a method cut short has fewer
/// prompts (and NaN for the parts of a prompt it did not reach), one not started is absent.
pub async fn run_study_async(
    model: &Gpt2,
    pairs: &[TokenizedPair],
    config: &StudyConfig,
    observer: &mut dyn StudyObserver,
) -> Result<Results, RunError> {
    // On the CPU backend, parts of a sweep run side by side (its element-wise work is
    // single-threaded); a GPU gains nothing from it, and the browser has one thread.
    let threads = if model.on_cpu() {
        gradpatch_methods::cpu_threads()
    } else {
        1
    };
    let mut results = Results {
        config: config.clone(),
        prompts: Vec::with_capacity(pairs.len()),
        clean_logit_diff: Vec::with_capacity(pairs.len()),
        corrupted_logit_diff: Vec::with_capacity(pairs.len()),
        ig: None,
        ap: None,
        atp: None,
        stats: None,
        stats_pairs: None,
        complete: true,
        seconds: serde_json::Map::new(),
    };
    let study = Study {
        model,
        pairs,
        config,
        threads,
        shares: shares(config),
    };
    let finished = study.run(&mut results, observer).await?;
    results.complete = finished;
    results.stats = statistics(&results, config.percentile);
    results.stats_pairs = pair_statistics(&results, config.percentile);
    Ok(results)
}

/// Device memory the runs kept between methods may take (GPT-2 small: about 8 prompts of 18
/// tokens; the bundled model: hundreds).
const KEEP_RUNS_BYTES: usize = 256 << 20;

/// Bytes of one prompt's two cached runs of `len` tokens (per layer: the residual stream four
/// times, `z`, the heads' results, the MLP input and output, and the shared prefix's keys and
/// values), in f32.
fn runs_bytes(model: &Gpt2, len: usize) -> usize {
    let c = &model.config;
    let per_run = 6 * c.d_model + c.n_heads * c.d_model + c.d_mlp;
    4 * c.n_layers * len * (2 * per_run + 2 * c.d_model)
}

struct Study<'a> {
    model: &'a Gpt2,
    pairs: &'a [TokenizedPair],
    config: &'a StudyConfig,
    threads: usize,
    shares: Vec<(Stage, f64)>,
}

impl Study<'_> {
    fn piece(&self, stage: Stage, (i, n): (usize, usize)) -> (Stage, f64, f64) {
        piece(&self.shares, stage, i, n)
    }

    /// Every stage of the plan; false when cancelled.
    async fn run(
        &self,
        results: &mut Results,
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let mut kept = Vec::with_capacity(self.pairs.len());
        if !self.runs_and_atp(results, observer, &mut kept).await? {
            return Ok(false);
        }
        let methods = self.config.methods;
        let n = results.prompts.len();
        // The last method's results are the study's: only the others are shown on the way.
        let last = methods.iter().last();
        if methods.atp && last != Some(Method::Atp) {
            self.show(results, observer);
        }
        for method in [Method::Ig, Method::Ap] {
            if !methods.has(method) {
                continue;
            }
            for i in 0..n {
                let computed;
                let runs = match kept.get(i).and_then(Option::as_ref) {
                    Some(runs) => runs,
                    None => {
                        computed = PromptRuns::new_async(self.model, &self.pairs[i]).await?;
                        &computed
                    }
                };
                let go_on = match method {
                    Method::Ig => self.ig(results, runs, i, observer).await?,
                    _ => self.ap(results, runs, i, observer).await?,
                };
                if !go_on {
                    return Ok(false);
                }
            }
            if last != Some(method) {
                self.show(results, observer);
            }
        }
        Ok(true)
    }

    /// Tells the observer what is finished (with the statistics so far).
    fn show(&self, results: &mut Results, observer: &mut dyn StudyObserver) {
        results.stats = statistics(results, self.config.percentile);
        results.stats_pairs = pair_statistics(results, self.config.percentile);
        observer.method_done(results);
    }

    /// The runs of every prompt, recorded with their logit differences, and AtP on them. The
    /// runs are `kept` for the other methods while they fit [`KEEP_RUNS_BYTES`] (the rest are
    /// computed again for each method: two forwards, against IG's and AP's hundreds).
    async fn runs_and_atp(
        &self,
        results: &mut Results,
        observer: &mut dyn StudyObserver,
        kept: &mut Vec<Option<PromptRuns>>,
    ) -> Result<bool, RunError> {
        let c = &self.model.config;
        let n = self.pairs.len();
        let mut room = KEEP_RUNS_BYTES;
        for (i, pair) in self.pairs.iter().enumerate() {
            let runs = PromptRuns::new_async(self.model, pair).await?;
            let mut done = StageProgress::new(observer, (i, n), self.piece(Stage::Runs, (i, n)));
            let go_on = done.update(1, 1);
            done.pause().await;
            if !go_on {
                return Ok(false);
            }
            results.prompts.push(PromptRecord {
                pair: pair.pair.clone(),
                clean_token_ids: pair.clean_ids.clone(),
                clean_tokens: pair.clean_tokens.clone(),
                corrupted_token_ids: pair.corrupted_ids.clone(),
                labels: pair.labels(),
            });
            results.clean_logit_diff.push(runs.clean.logit_diff);
            results.corrupted_logit_diff.push(runs.corrupted.logit_diff);
            let scores = if self.config.methods.atp {
                Some(attribution_patching_async(self.model, &runs, self.config.ap_direction).await?)
            } else {
                None
            };
            let bytes = runs_bytes(self.model, runs.len());
            let keep = bytes <= room;
            if keep {
                room -= bytes;
            }
            kept.push(keep.then_some(runs));
            let Some(scores) = scores else { continue };
            let atp = push_scores(&mut results.atp, self.config.positions, c, &scores.scores);
            if let Some(pos) = atp.heads_pos.as_mut() {
                pos.push(by_head(&scores.heads_pos, c.n_layers, c.n_heads));
            }
            let mut done = StageProgress::new(observer, (i, n), self.piece(Stage::Atp, (i, n)));
            let go_on = done.update(1, 1);
            done.pause().await;
            if !go_on {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// IG of prompt `i`; false when cancelled.
    async fn ig(
        &self,
        results: &mut Results,
        runs: &PromptRuns,
        i: usize,
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let c = &self.model.config;
        let at = (i, results.prompts.len());
        let (scores, complete) = integrated_gradients_async(
            self.model,
            runs,
            &self.config.ig_options(self.threads),
            &mut StageProgress::new(observer, at, self.piece(Stage::Ig, at)),
        )
        .await?;
        let ig = results.ig.get_or_insert_with(|| IgResults {
            heads_pos: self.config.positions.then(HeadsPos::new),
            ..IgResults::default()
        });
        ig.heads.push(rows(&scores.scores.heads, c.n_heads));
        ig.neurons.push(rows(&scores.scores.neurons, c.d_mlp));
        ig.convergence_delta_heads.push(scores.delta_heads);
        ig.convergence_delta_neurons.push(scores.delta_neurons);
        if let Some(pos) = ig.heads_pos.as_mut() {
            pos.push(by_head(&scores.heads_pos, c.n_layers, c.n_heads));
        }
        Ok(complete)
    }

    /// AP of prompt `i` (and per position with `positions`); false when cancelled.
    async fn ap(
        &self,
        results: &mut Results,
        runs: &PromptRuns,
        i: usize,
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let c = &self.model.config;
        let at = (i, results.prompts.len());
        let (scores, complete) = activation_patching_async(
            self.model,
            runs,
            &self.config.ap_options(self.threads),
            &mut StageProgress::new(observer, at, self.piece(Stage::Ap, at)),
        )
        .await?;
        let ap = push_scores(&mut results.ap, self.config.positions, c, &scores);
        if !complete {
            return Ok(false);
        }
        if let Some(pos) = ap.heads_pos.as_mut() {
            let (flat, complete) = activation_patching_positions_async(
                self.model,
                runs,
                self.config.ap_direction,
                &mut StageProgress::new(observer, at, self.piece(Stage::ApPositions, at)),
            )
            .await?;
            pos.push(by_head(&flat, c.n_layers, c.n_heads));
            if !complete {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
