//! `gradpatch bench-methods`: the full AP sweep and the full IG against the naive
//! one-forward-per-component loop, in the same run, with ratios and score differences; AtP and
//! AP per head and position against TransformerLens' way (one full forward per layer × head ×
//! position), counted in forwards and timed with the naive loop's measured forward.
//! A measurement, not a test.

use std::io::Write;
use std::time::Instant;

use clap::Args;
use gradpatch_dataset::{Corruption, TokenizedPair, generate_ioi};
use gradpatch_methods::{
    ApOptions, Component, Direction, IgOptions, NoProgress, activation_patching,
    activation_patching_naive, activation_patching_positions, attribution_patching,
    integrated_gradients,
};
use gradpatch_runs::PromptRuns;

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

pub fn run(args: &BenchMethodsArgs) -> Result<(), String> {
    for &p in &args.prompts {
        crate::run::in_range("--prompts", p, 400)?;
    }
    let loaded = load(&args.model)?;
    let model = &loaded.model;
    let c = model.config.clone();
    let max_p = args.prompts.iter().copied().max().unwrap_or(1).max(1);
    let pool = generate_ioi(400, 0, Corruption::Aba, &loaded.tokenizer, c.n_ctx)
        .map_err(|e| e.to_string())?;
    let pairs: Vec<TokenizedPair> = pool
        .into_iter()
        .filter(|p| p.clean_ids.len() == args.tokens)
        .take(max_p)
        .collect();
    if pairs.len() < max_p {
        return Err(format!(
            "only {} IOI prompts of {} tokens could be generated, {max_p} needed",
            pairs.len(),
            args.tokens
        ));
    }
    // Parts of a sweep share the CPU's threads on ndarray (both the fast and the naive method);
    // on wgpu one after the other.
    let threads = match args.model.backend {
        Backend::Ndarray => gradpatch_methods::cpu_threads(),
        Backend::Wgpu => 1,
    };
    let ap_opts = ApOptions {
        threads,
        ..ApOptions::default()
    };
    let components = c.n_layers * (c.n_heads + c.d_mlp);
    say(format!(
        "model: {} layers x {} heads, d_mlp {} ({} components per prompt); backend {:?}; {threads} threads for the parts of a sweep",
        c.n_layers, c.n_heads, c.d_mlp, components, args.model.backend
    ));
    say(format!(
        "prompt: {:?} ({} tokens, shared prefix {})",
        pairs[0].pair.clean,
        args.tokens,
        pairs[0].shared_prefix_len()
    ));
    for &p in &args.prompts {
        let set = &pairs[..p];
        let t = Instant::now();
        let runs: Vec<PromptRuns> = set
            .iter()
            .map(|pair| PromptRuns::new(model, pair))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        say(format!(
            "\n== {p} prompt(s): clean and corrupted runs cached in {:.2} s",
            t.elapsed().as_secs_f64()
        ));

        let t = Instant::now();
        let mut fast = Vec::new();
        for r in &runs {
            fast.push(
                activation_patching(model, r, &ap_opts, &mut NoProgress)
                    .map_err(|e| e.to_string())?
                    .0,
            );
        }
        let ap_s = t.elapsed().as_secs_f64();
        say(format!(
            "AP sweep, fast: {ap_s:.1} s ({:.2} ms per component)",
            1e3 * ap_s / (p * components) as f64
        ));

        // Naive loop on a sample of components of the first prompt.
        let mut sample: Vec<Component> = Vec::new();
        for layer in 0..c.n_layers {
            sample.extend((0..c.n_heads).map(|head| Component::Head { layer, head }));
            let k = args.naive_neurons_per_layer.min(c.d_mlp);
            sample.extend((0..k).map(|i| Component::Neuron {
                layer,
                neuron: (i * c.d_mlp) / k.max(1) + (layer * 7) % (c.d_mlp / k.max(1)).max(1),
            }));
        }
        let t = Instant::now();
        let naive = activation_patching_naive(
            model,
            &runs[0],
            Direction::Noising,
            &sample,
            threads,
            &mut NoProgress,
        )
        .map_err(|e| e.to_string())?;
        let per_forward = t.elapsed().as_secs_f64() / sample.len() as f64;
        let naive_s = per_forward * (p * components) as f64;
        let fast_sample: Vec<f32> = sample
            .iter()
            .map(|comp| match *comp {
                Component::Head { layer, head } => fast[0].heads[layer * c.n_heads + head],
                Component::Neuron { layer, neuron } => fast[0].neurons[layer * c.d_mlp + neuron],
            })
            .collect();
        let (diff, rel) = max_abs_diff(&naive, &fast_sample);
        say(format!(
            "AP sweep, naive (one full forward per component; {:.1} ms per forward measured on {} components, extrapolated to {}): {:.0} s",
            per_forward * 1e3,
            sample.len(),
            p * components,
            naive_s
        ));
        say(format!(
            "AP speed-up: {:.1}x; max |naive - fast| {diff:.2e} ({rel:.2e} of the largest |score|)",
            naive_s / ap_s
        ));

        let t = Instant::now();
        let mut atp = Vec::new();
        for r in &runs {
            atp.push(
                attribution_patching(model, r, Direction::Noising).map_err(|e| e.to_string())?,
            );
        }
        let atp_s = t.elapsed().as_secs_f64();
        say(format!(
            "AtP (noising, every head and neuron, one forward and one backward): {atp_s:.2} s ({:.2} s per prompt; {:.0}x faster than the fast AP sweep)",
            atp_s / p as f64,
            ap_s / atp_s
        ));
        let t = Instant::now();
        for r in &runs {
            activation_patching_positions(model, r, Direction::Noising, &mut NoProgress)
                .map_err(|e| e.to_string())?;
        }
        let pos_s = t.elapsed().as_secs_f64();
        // TransformerLens patches one (layer, head, position) per full forward.
        let tl_forwards: usize = runs.iter().map(|r| c.n_layers * c.n_heads * r.len()).sum();
        let tl_s = per_forward * tl_forwards as f64;
        say(format!(
            "AP per head and position: {pos_s:.2} s ({:.2} s per prompt; {} batched forwards of the positions after the shared prefix); TransformerLens' way: {tl_forwards} full forwards, ~{tl_s:.0} s at the naive loop's {:.1} ms per forward: {:.0}x",
            pos_s / p as f64,
            p * c.n_layers,
            per_forward * 1e3,
            tl_s / pos_s
        ));

        if args.skip_ig {
            continue;
        }
        let ig_opts = IgOptions {
            steps: args.ig_steps,
            steps_per_batch: args.ig_steps,
            threads,
            ..IgOptions::default()
        };
        let t = Instant::now();
        let mut ig_fast = Vec::new();
        for r in &runs {
            ig_fast.push(
                integrated_gradients(model, r, &ig_opts, &mut NoProgress)
                    .map_err(|e| e.to_string())?
                    .0,
            );
        }
        let ig_s = t.elapsed().as_secs_f64();
        say(format!(
            "IG, fast ({} steps, every head and neuron): {ig_s:.1} s",
            args.ig_steps
        ));
        if !args.skip_naive_ig {
            let t = Instant::now();
            let slow = IgOptions {
                start_at_layer: false,
                ..ig_opts
            };
            let ig_naive = integrated_gradients(model, &runs[0], &slow, &mut NoProgress)
                .map_err(|e| e.to_string())?
                .0;
            let naive_ig_s = t.elapsed().as_secs_f64() * p as f64;
            let (dh, rh) = max_abs_diff(&ig_naive.scores.heads, &ig_fast[0].scores.heads);
            let (dn, rn) = max_abs_diff(&ig_naive.scores.neurons, &ig_fast[0].scores.neurons);
            say(format!(
                "IG, naive (whole model from the tokens for every layer; measured on 1 prompt, x{p}): {naive_ig_s:.1} s; speed-up {:.2}x; max diff heads {dh:.2e} ({rh:.2e} rel), neurons {dn:.2e} ({rn:.2e} rel)",
                naive_ig_s / ig_s
            ));
        }
    }
    Ok(())
}
