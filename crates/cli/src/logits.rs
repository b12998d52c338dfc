//! `gradpatch logits`: clean and corrupted logit differences.

use std::path::Path;

use gradpatch_dataset::TokenizedPair;
use gradpatch_model::{Gpt2, Hooks, Readout, Run, Source, to_host};
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

/// Logit differences of many prompts in one batch, each read at its own last token.
pub fn logit_diffs(
    model: &Gpt2,
    rows: &[Vec<u32>],
    pairs: &[TokenizedPair],
) -> Result<Vec<f32>, String> {
    let batch = model.tokens(rows).map_err(|e| e.to_string())?;
    let readout = Readout::LogitDiff {
        positions: batch.last_positions(),
        correct: pairs.iter().map(|p| p.correct_id).collect(),
        incorrect: pairs.iter().map(|p| p.incorrect_id).collect(),
    };
    let out = model
        .run(Run {
            source: Source::Tokens(batch),
            prefix: None,
            hooks: &Hooks::new(),
            readout,
        })
        .map_err(|e| e.to_string())?;
    let ld = out.logit_diff.ok_or("no logit difference computed")?;
    to_host(ld).map_err(|e| e.to_string())
}

pub fn run(args: &ModelArgs, prompt_file: Option<&Path>, json: bool) -> Result<(), String> {
    let loaded = load(args)?;
    let pairs = prompts(prompt_file, &loaded)?;
    let clean_rows: Vec<Vec<u32>> = pairs.iter().map(|p| p.clean_ids.clone()).collect();
    let corrupted_rows: Vec<Vec<u32>> = pairs.iter().map(|p| p.corrupted_ids.clone()).collect();
    let clean = logit_diffs(&loaded.model, &clean_rows, &pairs)?;
    let corrupted = logit_diffs(&loaded.model, &corrupted_rows, &pairs)?;
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
