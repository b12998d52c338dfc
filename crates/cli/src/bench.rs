//! `gradpatch bench`: load time, forward passes of 1 and 10 IOI prompts, and peak memory.
//! A measurement, not a test: run it on the GPT-2-small-shaped random model, e.g.
//! `gradpatch make-random-gpt2 --out /tmp/gpt2r && gradpatch bench --model /tmp/gpt2r`.

use std::time::Instant;

use gradpatch_dataset::TokenizedPair;

use crate::ModelArgs;
use crate::files::{load, prompts};
use gradpatch_runs::logit_diffs;

/// Peak resident memory of this process (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

pub fn run(args: &ModelArgs, repeats: usize) -> Result<(), String> {
    let repeats = repeats.max(1);
    let t0 = Instant::now();
    let loaded = load(args)?;
    // One tiny forward forces the weights onto the device (lazy backends).
    let pairs = prompts(None, &loaded)?;
    let first: Vec<TokenizedPair> = pairs.iter().take(1).cloned().collect();
    logit_diffs(&loaded.model, &first, false).map_err(|e| e.to_string())?;
    let load_s = t0.elapsed().as_secs_f64();
    let c = &loaded.model.config;
    println!(
        "model: {} layers, {} heads, d_model {}, d_mlp {}, vocab {} ({} M parameters); backend {:?}",
        c.n_layers,
        c.n_heads,
        c.d_model,
        c.d_mlp,
        c.d_vocab,
        c.n_params().unwrap_or(0) / 1_000_000,
        args.backend
    );
    println!("load (read, process, to device, first forward): {load_s:.2} s");
    for n in [1usize, 10] {
        let batch: Vec<TokenizedPair> = pairs.iter().cycle().take(n).cloned().collect();
        logit_diffs(&loaded.model, &batch, false).map_err(|e| e.to_string())?; // warm-up
        let times: Vec<f64> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                logit_diffs(&loaded.model, &batch, false).map(|_| t.elapsed().as_secs_f64())
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let tokens: usize = batch.iter().map(|p| p.clean_ids.len()).sum();
        let med = median(times);
        println!(
            "forward, {n:>2} IOI prompts ({tokens} tokens): median {:.1} ms over {repeats} runs ({:.1} ms per prompt)",
            med * 1e3,
            med * 1e3 / n as f64
        );
    }
    match peak_rss_mib() {
        Some(mib) => println!("peak resident memory: {mib:.0} MiB"),
        None => println!("peak resident memory: not available on this platform"),
    }
    Ok(())
}
