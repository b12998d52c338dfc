//! `gradpatch logits`: clean and corrupted logit differences.

use std::path::Path;

use gradpatch_runs::logit_diffs;
use serde::Serialize;

use crate::ModelArgs;
use crate::files::{load, prompts};

#[derive(Serialize)]
struct PromptOut {
    clean_token_ids: Vec<u32>,
    corrupted_token_ids: Vec<u32>,
    labels: [u32; 2],
    clean_logit_diff: f32,
    corrupted_logit_diff: f32,
}

pub fn run(args: &ModelArgs, prompt_file: Option<&Path>, json: bool) -> Result<(), String> {
    let loaded = load(args)?;
    let pairs = prompts(prompt_file, &loaded)?;
    let clean = logit_diffs(&loaded.model, &pairs, false).map_err(|e| e.to_string())?;
    let corrupted = logit_diffs(&loaded.model, &pairs, true).map_err(|e| e.to_string())?;
    let out: Vec<PromptOut> = pairs
        .iter()
        .zip(clean.iter().zip(&corrupted))
        .map(|(p, (&c, &r))| PromptOut {
            clean_token_ids: p.clean_ids.clone(),
            corrupted_token_ids: p.corrupted_ids.clone(),
            labels: p.labels(),
            clean_logit_diff: c,
            corrupted_logit_diff: r,
        })
        .collect();
    if json {
        let text = serde_json::to_string(&serde_json::json!({ "prompts": out }))
            .map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        println!("{:>3}  {:>10}  {:>10}  prompt", "#", "clean", "corrupted");
        for (i, (p, o)) in pairs.iter().zip(&out).enumerate() {
            println!(
                "{i:>3}  {:>10.4}  {:>10.4}  {}",
                o.clean_logit_diff, o.corrupted_logit_diff, p.pair.clean
            );
        }
    }
    Ok(())
}
