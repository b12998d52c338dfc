//! `gradpatch bench-methods`: the full AP sweep and the full IG against the naive
//! one-forward-per-component loop, in the same run, with ratios and score differences; AtP and
//! AP per head and position against TransformerLens' way (one full forward per layer × head ×
//! position), counted in forwards and timed with the naive loop's measured forward.
//! A measurement, not a test.

use std::io::Write;
use std::time::Instant;

use clap::Args;
use gradpatch_dataset::{Corruption, TokenizedPair, generate_ioi};
use gradpatch_methods::faithfulness::curve_sizes;
use gradpatch_methods::{
    ApOptions, Component, Direction, IgOptions, NoProgress, Scores, activation_patching,
    activation_patching_naive, activation_patching_positions, attribution_patching, faithfulness,
    integrated_gradients,
};
use gradpatch_model::Gpt2;
use gradpatch_runs::PromptRuns;
use gradpatch_study::faithfulness::ranking;
use gradpatch_terms::ComponentKind;

use crate::files::load;
use crate::{Backend, ModelArgs};

#[derive(Args)]
pub struct BenchMethodsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Prompt counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    prompts: Vec<usize>,
    /// Token length (with BOS) of the IOI prompts used.
    #[arg(long, default_value_t = 18)]
    tokens: usize,
    /// Neurons per layer in the naive AP sample (all heads are sampled).
    #[arg(long, default_value_t = 4)]
    naive_neurons_per_layer: usize,
    #[arg(long, default_value_t = 50)]
    ig_steps: usize,
    /// Skip the naive IG (a full-model run per layer and kind).
    #[arg(long)]
    skip_naive_ig: bool,
    /// Skip IG altogether.
    #[arg(long)]
    skip_ig: bool,
    /// Skip the AP sweep, its naive loop and AP per position (minutes on GPT-2 small).
    #[arg(long)]
    skip_ap: bool,
    /// Skip the edge scores (EAP, EAP-IG, exact patching of the top edges).
    #[arg(long)]
    skip_edges: bool,
}

fn say(line: String) {
    println!("{line}");
    let _ = std::io::stdout().flush();
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> (f64, f64) {
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max);
    let scale = b.iter().map(|x| f64::from(x.abs())).fold(0.0, f64::max);
    (diff, if scale > 0.0 { diff / scale } else { diff })
}

/// `max_p` IOI prompts of `tokens` tokens (with BOS).
fn prompts_of_length(
    loaded: &crate::files::Loaded,
    tokens: usize,
    max_p: usize,
) -> Result<Vec<TokenizedPair>, String> {
    let n_ctx = loaded.model.config.n_ctx;
    let pool = generate_ioi(400, 0, Corruption::Aba, &loaded.tokenizer, n_ctx)
        .map_err(|e| e.to_string())?;
    let pairs: Vec<TokenizedPair> = pool
        .into_iter()
        .filter(|p| p.clean_ids.len() == tokens)
        .take(max_p)
        .collect();
    if pairs.len() < max_p {
        return Err(format!(
            "only {} IOI prompts of {tokens} tokens could be generated, {max_p} needed",
            pairs.len()
        ));
    }
    Ok(pairs)
}

/// What every measurement of one prompt count shares.
struct Bench<'a> {
    model: &'a Gpt2,
    runs: Vec<PromptRuns>,
    threads: usize,
    args: &'a BenchMethodsArgs,
}

impl Bench<'_> {
    fn prompts(&self) -> usize {
        self.runs.len()
    }

    fn components(&self) -> usize {
        let c = &self.model.config;
        c.n_layers * (c.n_heads + c.d_mlp)
    }

    /// The fast AP sweep on every prompt; its scores and seconds.
    fn ap_sweep(&self) -> Result<(Vec<Scores>, f64), String> {
        let opts = ApOptions {
            threads: self.threads,
            ..ApOptions::default()
        };
        let t = Instant::now();
        let mut fast = Vec::new();
        for r in &self.runs {
            fast.push(
                activation_patching(self.model, r, &opts, &mut NoProgress)
                    .map_err(|e| e.to_string())?
                    .0,
            );
        }
        let ap_s = t.elapsed().as_secs_f64();
        say(format!(
            "AP sweep, fast: {ap_s:.1} s ({:.2} ms per component)",
            1e3 * ap_s / (self.prompts() * self.components()) as f64
        ));
        Ok((fast, ap_s))
    }

    /// A sample of components of the first prompt: every head, a few neurons per layer.
    fn sample(&self) -> Vec<Component> {
        let c = &self.model.config;
        let mut sample: Vec<Component> = Vec::new();
        for layer in 0..c.n_layers {
            sample.extend((0..c.n_heads).map(|head| Component::Head { layer, head }));
            let k = self.args.naive_neurons_per_layer.min(c.d_mlp);
            sample.extend((0..k).map(|i| Component::Neuron {
                layer,
                neuron: (i * c.d_mlp) / k.max(1) + (layer * 7) % (c.d_mlp / k.max(1)).max(1),
            }));
        }
        sample
    }

    /// The naive loop (one full forward per component) on the sample, extrapolated, against the
    /// fast sweep; returns the seconds of one forward.
    fn ap_naive(&self, fast: &Scores, ap_s: f64) -> Result<f64, String> {
        let c = &self.model.config;
        let sample = self.sample();
        let t = Instant::now();
        let naive = activation_patching_naive(
            self.model,
            &self.runs[0],
            Direction::Noising,
            &sample,
            self.threads,
            &mut NoProgress,
        )
        .map_err(|e| e.to_string())?;
        let per_forward = t.elapsed().as_secs_f64() / sample.len() as f64;
        let total = self.prompts() * self.components();
        let naive_s = per_forward * total as f64;
        let fast_sample: Vec<f32> = sample
            .iter()
            .map(|comp| match *comp {
                Component::Head { layer, head } => fast.heads[layer * c.n_heads + head],
                Component::Neuron { layer, neuron } => fast.neurons[layer * c.d_mlp + neuron],
            })
            .collect();
        let (diff, rel) = max_abs_diff(&naive, &fast_sample);
        say(format!(
            "AP sweep, naive (one full forward per component; {:.1} ms per forward measured on {} components, extrapolated to {total}): {naive_s:.0} s",
            per_forward * 1e3,
            sample.len(),
        ));
        say(format!(
            "AP speed-up: {:.1}x; max |naive - fast| {diff:.2e} ({rel:.2e} of the largest |score|)",
            naive_s / ap_s
        ));
        Ok(per_forward)
    }

    /// AtP on every prompt (against the fast AP sweep when it ran); the scores.
    fn atp(&self, ap_s: Option<f64>) -> Result<Vec<Scores>, String> {
        let t = Instant::now();
        let mut all = Vec::new();
        for r in &self.runs {
            let s = attribution_patching(self.model, r, Direction::Noising)
                .map_err(|e| e.to_string())?;
            all.push(s.scores);
        }
        let atp_s = t.elapsed().as_secs_f64();
        say(format!(
            "AtP (noising, every head and neuron, one forward and one backward): {atp_s:.2} s ({:.2} s per prompt{})",
            atp_s / self.prompts() as f64,
            ap_s.map_or(String::new(), |ap_s| format!(
                "; {:.0}x faster than the fast AP sweep",
                ap_s / atp_s
            ))
        ));
        Ok(all)
    }

    /// The faithfulness curves of AtP's rankings (every k for heads, the log grid for neurons),
    /// against one full forward per point from the tokens.
    fn faithfulness(&self, atp: &[Scores]) -> Result<(), String> {
        let c = &self.model.config;
        for (kind, width) in [
            (ComponentKind::Heads, c.n_heads),
            (ComponentKind::Neurons, c.d_mlp),
        ] {
            let n = c.n_layers * width;
            let ks = curve_sizes(n);
            let t = Instant::now();
            for (r, s) in self.runs.iter().zip(atp) {
                let scores = match kind {
                    ComponentKind::Heads => &s.heads,
                    ComponentKind::Neurons => &s.neurons,
                };
                let order = ranking(scores, false);
                let sets: Vec<Vec<usize>> = ks.iter().map(|&k| order[..k].to_vec()).collect();
                faithfulness(self.model, r, kind, &sets, &mut NoProgress)
                    .map_err(|e| e.to_string())?;
            }
            let secs = t.elapsed().as_secs_f64() / self.prompts() as f64;
            say(format!(
                "faithfulness curve of the {} ({} points, batched, after the shared prefix): {secs:.2} s per prompt",
                kind.label(),
                ks.len()
            ));
        }
        Ok(())
    }

    /// AP per head and position, against TransformerLens' one full forward per layer × head ×
    /// position at the naive loop's measured forward.
    fn positions(&self, per_forward: f64) -> Result<(), String> {
        let c = &self.model.config;
        let t = Instant::now();
        for r in &self.runs {
            activation_patching_positions(self.model, r, Direction::Noising, &mut NoProgress)
                .map_err(|e| e.to_string())?;
        }
        let pos_s = t.elapsed().as_secs_f64();
        let tl_forwards: usize = self
            .runs
            .iter()
            .map(|r| c.n_layers * c.n_heads * r.len())
            .sum();
        let tl_s = per_forward * tl_forwards as f64;
        say(format!(
            "AP per head and position: {pos_s:.2} s ({:.2} s per prompt; {} batched forwards of the positions after the shared prefix); TransformerLens' way: {tl_forwards} full forwards, ~{tl_s:.0} s at the naive loop's {:.1} ms per forward: {:.0}x",
            pos_s / self.prompts() as f64,
            self.prompts() * c.n_layers,
            per_forward * 1e3,
            tl_s / pos_s
        ));
        Ok(())
    }

    /// IG on every prompt, and unless skipped the naive IG (the whole model from the tokens for
    /// every layer) on the first, against it.
    fn ig(&self) -> Result<(), String> {
        let steps = self.args.ig_steps;
        let opts = IgOptions {
            steps,
            steps_per_batch: steps,
            threads: self.threads,
            ..IgOptions::default()
        };
        let t = Instant::now();
        let mut fast = Vec::new();
        for r in &self.runs {
            fast.push(
                integrated_gradients(self.model, r, &opts, &mut NoProgress)
                    .map_err(|e| e.to_string())?
                    .0,
            );
        }
        let ig_s = t.elapsed().as_secs_f64();
        say(format!(
            "IG, fast ({steps} steps, every head and neuron): {ig_s:.1} s"
        ));
        if self.args.skip_naive_ig {
            return Ok(());
        }
        let t = Instant::now();
        let slow = IgOptions {
            start_at_layer: false,
            ..opts
        };
        let naive = integrated_gradients(self.model, &self.runs[0], &slow, &mut NoProgress)
            .map_err(|e| e.to_string())?
            .0;
        let p = self.prompts();
        let naive_s = t.elapsed().as_secs_f64() * p as f64;
        let (dh, rh) = max_abs_diff(&naive.scores.heads, &fast[0].scores.heads);
        let (dn, rn) = max_abs_diff(&naive.scores.neurons, &fast[0].scores.neurons);
        say(format!(
            "IG, naive (whole model from the tokens for every layer; measured on 1 prompt, x{p}): {naive_s:.1} s; speed-up {:.2}x; max diff heads {dh:.2e} ({rh:.2e} rel), neurons {dn:.2e} ({rn:.2e} rel)",
            naive_s / ig_s
        ));
        Ok(())
    }
}

pub fn run(args: &BenchMethodsArgs) -> Result<(), String> {
    for &p in &args.prompts {
        crate::run::in_range("--prompts", p, 400)?;
    }
    let max_steps = gradpatch_terms::StudyOptions::MAX_IG_STEPS;
    crate::run::in_range("--ig-steps", args.ig_steps, max_steps)?;
    crate::run::in_range("--tokens", args.tokens, 1024)?;
    crate::run::in_range(
        "--naive-neurons-per-layer",
        args.naive_neurons_per_layer,
        4096,
    )?;
    let loaded = load(&args.model)?;
    let model = &loaded.model;
    let c = model.config.clone();
    let max_p = args.prompts.iter().copied().max().unwrap_or(1).max(1);
    let pairs = prompts_of_length(&loaded, args.tokens, max_p)?;
    // Parts of a sweep share the CPU's threads on ndarray (both the fast and the naive method);
    // on wgpu one after the other.
    let threads = match args.model.backend {
        Backend::Ndarray => gradpatch_methods::cpu_threads(),
        Backend::Wgpu => 1,
    };
    say(format!(
        "model: {} layers x {} heads, d_mlp {} ({} components per prompt); backend {:?}; {threads} threads for the parts of a sweep",
        c.n_layers,
        c.n_heads,
        c.d_mlp,
        c.n_layers * (c.n_heads + c.d_mlp),
        args.model.backend
    ));
    say(format!(
        "prompt: {:?} ({} tokens, shared prefix {})",
        pairs[0].pair.clean,
        args.tokens,
        pairs[0].shared_prefix_len()
    ));
    for &p in &args.prompts {
        let t = Instant::now();
        let runs: Vec<PromptRuns> = pairs[..p]
            .iter()
            .map(|pair| PromptRuns::new(model, pair))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        say(format!(
            "\n== {p} prompt(s): clean and corrupted runs cached in {:.2} s",
            t.elapsed().as_secs_f64()
        ));
        let bench = Bench {
            model,
            runs,
            threads,
            args,
        };
        let atp = if args.skip_ap {
            bench.atp(None)?
        } else {
            let (fast, ap_s) = bench.ap_sweep()?;
            let per_forward = bench.ap_naive(&fast[0], ap_s)?;
            let atp = bench.atp(Some(ap_s))?;
            bench.positions(per_forward)?;
            atp
        };
        bench.faithfulness(&atp)?;
        if !args.skip_edges {
            crate::bench_edges::bench(model, &bench.runs, say)?;
        }
        if !args.skip_ig {
            bench.ig()?;
        }
    }
    Ok(())
}
