//! `train-demo` and `eval-ioi` end to end: the committed demo model passes the IOI thresholds;
//! a short training run writes files the other commands load; failures exit non-zero.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{gradpatch, tmp};
use serde_json::Value;

fn demo_dir() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../web/models/ioi-demo")
        .display()
        .to_string()
}

#[test]
fn eval_ioi_on_the_demo_model_passes() {
    let out = gradpatch(&["eval-ioi", "--model", &demo_dir(), "--n", "100", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["passes"], true);
    assert_eq!(json["n"], 100);
    assert!(json["mean_clean"].as_f64().unwrap() >= 2.0, "{json}");
    assert!(json["mean_corrupted"].as_f64().unwrap() < 0.0, "{json}");

    let table = gradpatch(&["eval-ioi", "--model", &demo_dir(), "--split", "standard"]);
    assert!(
        table.status.success(),
        "eval-ioi --split standard succeeds: {}",
        String::from_utf8_lossy(&table.stderr)
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("mean clean logit difference"), "{text}");
}

/// `eval-ioi --split handwritten --by-template` on the model in `dir`.
fn hand_written_by_template(dir: &str, n: usize, json: bool) -> std::process::Output {
    let n = n.to_string();
    let mut args = vec![
        "eval-ioi",
        "--model",
        dir,
        "--split",
        "handwritten",
        "--by-template",
        "--n",
        &n,
    ];
    if json {
        args.push("--json");
    }
    gradpatch(&args)
}

/// The committed demo model meets the goal on the hand-written split (README, "Demo model"):
/// the README's 800 prompts, every template a row, the pooled figures the rows' prompts
/// together, exit status 0.
#[test]
fn eval_ioi_by_template_on_hand_written_prompts() {
    let out = hand_written_by_template(&demo_dir(), 800, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["templates"].as_array().unwrap();
    assert_eq!(rows.len(), 16, "one row per hand-written template");
    for row in rows {
        assert_eq!(row["n"], 50, "{row}");
        assert!(row["template"].as_str().unwrap().contains("{S2}"), "{row}");
    }
    assert_eq!(json["all"]["n"], 800);
    let clean: f64 = rows
        .iter()
        .map(|r| r["mean_clean"].as_f64().unwrap())
        .sum::<f64>()
        / 16.0;
    assert!(
        (clean - json["all"]["mean_clean"].as_f64().unwrap()).abs() < 1e-4,
        "equal-sized rows: the pooled mean is the mean of the rows' means"
    );
    assert_eq!(json["passes"], true, "{}", json["all"]);

    let table = hand_written_by_template(&demo_dir(), 16, false);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("| template | prompts |"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("| `")).count(),
        16,
        "{text}"
    );
    assert!(text.contains("| **all** | 16 |"), "{text}");
}

#[test]
fn a_short_training_run_writes_a_model_the_engine_loads() {
    let dir = tmp("train-demo");
    let out_dir = dir.join("demo").display().to_string();
    let out = gradpatch(&[
        "train-demo",
        "--out",
        &out_dir,
        "--steps",
        "2",
        "--seed",
        "4",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Two steps do not make an IOI model: the files are written, then the check fails.
    assert!(
        !out.status.success(),
        "train-demo fails its IOI check after 2 steps"
    );
    assert!(stderr.contains("step     2/2  loss"), "{stderr}");
    assert!(stderr.contains("does not do IOI"), "{stderr}");
    for name in ["model.safetensors", "tokenizer.json", "config.json"] {
        assert!(dir.join("demo").join(name).is_file(), "{name}");
    }
    // The per-template table of a model that fails: still printed, and the exit status says so.
    let by_template = hand_written_by_template(&out_dir, 16, false);
    assert!(!by_template.status.success());
    let text = String::from_utf8_lossy(&by_template.stdout);
    assert!(text.contains("| **all** | 16 |"), "{text}");
    let stderr = String::from_utf8_lossy(&by_template.stderr);
    assert!(
        stderr.contains("does not do IOI on these prompts"),
        "{stderr}"
    );
    let logits = gradpatch(&["logits", "--model", &out_dir, "--json"]);
    assert!(
        logits.status.success(),
        "{}",
        String::from_utf8_lossy(&logits.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn eval_ioi_explains_a_vocabulary_without_the_names() {
    // model-a's vocabulary lacks the held-out names.
    let out = gradpatch(&["eval-ioi", "--n", "10"]);
    assert!(
        !out.status.success(),
        "eval-ioi refuses model-a, whose vocabulary lacks the held-out names"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("single tokens, at least 3 are needed"),
        "{stderr}"
    );
}

/// The committed manifest of the bundled model names its files as they are (the page loads the
/// model by these hashes); `manifest` writes one that `--check` accepts, and a changed file is
/// named.
#[test]
fn the_demo_models_manifest_matches_its_files() {
    let out = gradpatch(&["manifest", &demo_dir(), "--check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp("manifest");
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(format!("{}/{f}", demo_dir()), dir.join(f)).unwrap();
    }
    let d = dir.display().to_string();
    assert!(gradpatch(&["manifest", &d]).status.success());
    assert!(gradpatch(&["manifest", &d, "--check"]).status.success());
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let committed: Value =
        serde_json::from_slice(&std::fs::read(format!("{}/manifest.json", demo_dir())).unwrap())
            .unwrap();
    assert_eq!(written, committed);
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    let out = gradpatch(&["manifest", &d, "--check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("does not match config.json"), "{stderr}");
}
