//! Running a comparison (feature `engine`): the runs of each prompt, then the methods one after
//! the other over all prompts (in running order, the cheapest first, so their scores can be
//! shown while the next runs), and their progress.

use gradpatch_dataset::TokenizedPair;
use gradpatch_methods::{
    Progress, PromptOutput, PromptScores, ScoreOptions, positions_async, score_async,
};
use gradpatch_model::{Gpt2, Gpt2Config, RunError, block_on};
use gradpatch_runs::PromptRuns;
use gradpatch_terms::{Method, Stage};

use crate::{MethodScores, PromptRecord, Results, StudyConfig, pair_statistics, statistics};

mod edges;
mod faith;
mod progress;

use progress::{Plan, StageProgress};
pub use progress::{StudyObserver, StudyProgress};

fn rows(flat: &[f32], width: usize) -> Vec<Vec<f32>> {
    flat.chunks(width.max(1)).map(<[f32]>::to_vec).collect()
}

/// `[L·H·S]` row-major (layer, head, position) → `[L][H][S]`.
fn by_head(flat: &[f32], layers: usize, heads: usize) -> Vec<Vec<Vec<f32>>> {
    let len = flat.len() / (layers * heads).max(1);
    flat.chunks(heads * len.max(1))
        .map(|layer| rows(layer, len.max(1)))
        .collect()
}

/// Appends one prompt's scores to `method`'s, created at its first prompt (with room for the
/// scores per position when the study computes them).
fn push_scores<'a>(
    results: &'a mut Results,
    method: Method,
    c: &Gpt2Config,
    scores: PromptScores,
) -> &'a mut MethodScores {
    let positions = results.config.options.positions;
    let entry = results
        .scores
        .entry(method)
        .or_insert_with(|| MethodScores {
            heads_pos: positions.then(Vec::new),
            ..MethodScores::default()
        });
    entry.heads.push(rows(&scores.heads, c.n_heads));
    entry.neurons.push(rows(&scores.neurons, c.d_mlp));
    if let Some(delta) = scores.convergence {
        let heads = entry.convergence_delta_heads.get_or_insert_with(Vec::new);
        heads.push(delta.heads);
        let neurons = entry.convergence_delta_neurons.get_or_insert_with(Vec::new);
        neurons.push(delta.neurons);
    }
    if let (Some(all), Some(grid)) = (entry.heads_pos.as_mut(), scores.heads_pos) {
        all.push(by_head(&grid, c.n_layers, c.n_heads));
    }
    entry
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
/// Each prompt's clean and corrupted runs, with the first method on them; then each further
/// method over all prompts: a method's scores are complete before the next starts, and
/// `observer.method_done` sees them. The runs are kept for the later methods within a memory
/// budget and computed again beyond it (see [`KEEP_RUNS_BYTES`]). A cancel keeps the prompts
/// whose runs finished and every score computed; a method cut short has fewer prompts (and NaN
/// for the parts of a prompt it did not reach), one not started is absent.
pub async fn run_study_async(
    model: &Gpt2,
    pairs: &[TokenizedPair],
    config: &StudyConfig,
    observer: &mut dyn StudyObserver,
) -> Result<Results, RunError> {
    // On the CPU backend, parts of a sweep run side by side (its element-wise work is
    // single-threaded); a GPU gains nothing from it. In the browser, as many as the worker has.
    let threads = if model.on_cpu() {
        gradpatch_methods::cpu_threads()
    } else {
        1
    };
    let mut results = Results::empty(config.clone());
    let study = Study {
        model,
        pairs,
        config,
        threads,
        plan: Plan::new(&config.options),
    };
    let finished = study.run(&mut results, observer).await?;
    results.complete = finished;
    let percentile = config.options.percentile;
    results.stats = statistics(&results, percentile);
    results.stats_pairs = pair_statistics(&results, percentile);
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

/// A prompt's runs, kept or computed again.
enum Runs<'k> {
    Kept(&'k PromptRuns),
    Computed(Box<PromptRuns>),
}

impl std::ops::Deref for Runs<'_> {
    type Target = PromptRuns;
    fn deref(&self) -> &PromptRuns {
        match self {
            Runs::Kept(runs) => runs,
            Runs::Computed(runs) => runs,
        }
    }
}

struct Study<'a> {
    model: &'a Gpt2,
    pairs: &'a [TokenizedPair],
    config: &'a StudyConfig,
    threads: usize,
    plan: Plan,
}

impl Study<'_> {
    fn progress<'o>(
        &self,
        observer: &'o mut dyn StudyObserver,
        stage: Stage,
        at: (usize, usize),
    ) -> StageProgress<'o> {
        StageProgress::new(observer, at, self.plan.piece(stage, at.0, at.1))
    }

    /// Every pass; false when cancelled.
    async fn run(
        &self,
        results: &mut Results,
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let methods: Vec<Method> = self.config.options.methods.iter().collect();
        let mut kept = Vec::with_capacity(self.pairs.len());
        if !self
            .runs_pass(results, methods.first().copied(), observer, &mut kept)
            .await?
        {
            return Ok(false);
        }
        for &method in methods.iter().skip(1) {
            // The method before is done on every prompt: shown while this one runs.
            self.show(results, observer);
            for i in 0..results.prompts.len() {
                let runs = self.runs_of(&kept, i).await?;
                if !self.score(results, method, &runs, i, observer).await? {
                    return Ok(false);
                }
            }
        }
        self.faithfulness_pass(results, &kept, observer).await
    }

    /// The faithfulness curves of every prompt, when the options ask for them (the methods'
    /// results are shown meanwhile); false when cancelled.
    async fn faithfulness_pass(
        &self,
        results: &mut Results,
        kept: &[Option<PromptRuns>],
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let Some(ranking) = self.config.options.faithfulness else {
            return Ok(true);
        };
        if results.scores.is_empty() {
            return Ok(true);
        }
        self.show(results, observer);
        let mut curves = faith::empty(self.model, ranking, &results.scores);
        let n = self.pairs.len();
        let mut finished = true;
        for i in 0..results.prompts.len() {
            let runs = self.runs_of(kept, i).await?;
            let mut progress = self.progress(observer, Stage::Faithfulness, (i, n));
            let go_on =
                faith::prompt_curves(self.model, &runs, results, &mut curves, i, &mut progress)
                    .await?;
            if !go_on {
                finished = false;
                break;
            }
        }
        results.faithfulness = Some(curves);
        Ok(finished)
    }

    /// Prompt `i`'s runs: kept from the first pass, or computed again.
    async fn runs_of<'k>(
        &self,
        kept: &'k [Option<PromptRuns>],
        i: usize,
    ) -> Result<Runs<'k>, RunError> {
        Ok(match kept.get(i).and_then(Option::as_ref) {
            Some(runs) => Runs::Kept(runs),
            None => Runs::Computed(Box::new(
                PromptRuns::new_async(self.model, &self.pairs[i]).await?,
            )),
        })
    }

    /// Tells the observer what is finished (with the statistics so far).
    fn show(&self, results: &mut Results, observer: &mut dyn StudyObserver) {
        let percentile = self.config.options.percentile;
        results.stats = statistics(results, percentile);
        results.stats_pairs = pair_statistics(results, percentile);
        observer.method_done(results);
    }

    /// The runs of every prompt, recorded with their logit differences, and `first` on them.
    /// The runs are `kept` for the other methods while they fit [`KEEP_RUNS_BYTES`] (the rest
    /// are computed again for each method: two forwards, against a sweep's hundreds).
    async fn runs_pass(
        &self,
        results: &mut Results,
        first: Option<Method>,
        observer: &mut dyn StudyObserver,
        kept: &mut Vec<Option<PromptRuns>>,
    ) -> Result<bool, RunError> {
        let n = self.pairs.len();
        let mut room = KEEP_RUNS_BYTES;
        for (i, pair) in self.pairs.iter().enumerate() {
            let runs = PromptRuns::new_async(self.model, pair).await?;
            let mut done = self.progress(observer, Stage::Runs, (i, n));
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
            let go_on = match first {
                Some(method) => self.score(results, method, &runs, i, observer).await?,
                None => true,
            };
            let bytes = runs_bytes(self.model, runs.len());
            let keep = bytes <= room;
            if keep {
                room -= bytes;
            }
            kept.push(keep.then_some(runs));
            if !go_on {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// An edge method's scores of prompt `i`, with exact patching of its top edges when this
    /// method ranks them and its faithfulness curve; false when cancelled.
    async fn edges(
        &self,
        results: &mut Results,
        (method, scores): (Method, &[f32]),
        runs: &PromptRuns,
        i: usize,
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let at = (i, self.pairs.len());
        edges::push(results, self.model, method, scores);
        let options = &self.config.options;
        if options.exact_ranked_by() == Some(method) {
            edges::exact(self.model, runs, results, options, (method, scores), i).await?;
            let mut done = self.progress(observer, Stage::ExactEdges, at);
            let go_on = done.update(1, 1);
            done.pause().await;
            if !go_on {
                return Ok(false);
            }
        }
        if options.faithfulness.is_none() {
            return Ok(true);
        }
        let mut progress = self.progress(observer, Stage::EdgeFaithfulness(method), at);
        edges::curve(
            self.model,
            runs,
            results,
            (method, scores),
            i,
            &mut progress,
        )
        .await
    }

    /// `method`'s scores of prompt `i` (and its scores per position, when they take a pass of
    /// their own); false when cancelled.
    async fn score(
        &self,
        results: &mut Results,
        method: Method,
        runs: &PromptRuns,
        i: usize,
        observer: &mut dyn StudyObserver,
    ) -> Result<bool, RunError> {
        let c = &self.model.config;
        let at = (i, self.pairs.len());
        let options = ScoreOptions {
            study: &self.config.options,
            threads: self.threads,
        };
        let mut progress = self.progress(observer, Stage::Scores(method), at);
        let (scores, complete) =
            score_async(method, self.model, runs, options, &mut progress).await?;
        let scores = match scores {
            PromptOutput::Nodes(scores) => scores,
            PromptOutput::Edges(scores) => {
                return self
                    .edges(results, (method, &scores), runs, i, observer)
                    .await
                    .map(|go_on| go_on && complete);
            }
        };
        let entry = push_scores(results, method, c, scores);
        let Some(all) = entry
            .heads_pos
            .as_mut()
            .filter(|p| p.len() < entry.heads.len())
        else {
            return Ok(complete);
        };
        let (grid, complete) = if complete {
            let mut progress = self.progress(observer, Stage::Positions(method), at);
            positions_async(method, self.model, runs, options, &mut progress).await?
        } else {
            // Cut short before its own pass: not computed, so that every prompt scored has a grid.
            (vec![f32::NAN; c.n_layers * c.n_heads * runs.len()], false)
        };
        all.push(by_head(&grid, c.n_layers, c.n_heads));
        Ok(complete)
    }
}
