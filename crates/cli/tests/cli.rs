//! The `gradpatch` binary end to end: logits on model-a equal the goldens, bad input exits
//! non-zero with a message on stderr, make-random-gpt2 writes a loadable GPT-2-small shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{gradpatch, tmp};
use gradpatch_testdata::{array, assert_close, at, goldens, model_a_dir, prompt_ids};
use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// model-a's 16 reference pairs as a prompt file.
fn reference_prompts(dir: &Path) -> String {
    let prompts = at(gradpatch_testdata::prompts(), "prompts")
        .as_array()
        .unwrap();
    let pairs: Vec<Value> = prompts
        .iter()
        .map(|p| serde_json::json!({"clean": p["clean"], "corrupted": p["corrupted"], "correct": p["io_name"], "incorrect": p["s_name"]}))
        .collect();
    write(dir, "prompts.json", &Value::Array(pairs).to_string())
}

fn check_against_goldens(out: &Output, variant: &str) {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let prompts = json["prompts"].as_array().unwrap();
    assert_eq!(prompts.len(), 16);
    let get = |field: &str| -> Vec<f32> {
        prompts
            .iter()
            .map(|p| p[field].as_f64().unwrap() as f32)
            .collect()
    };
    for (i, p) in prompts.iter().enumerate() {
        let ids = |f: &str| -> Vec<u32> {
            p[f].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        };
        assert_eq!(ids("clean_token_ids"), prompt_ids(i, "clean_token_ids"));
        assert_eq!(
            ids("corrupted_token_ids"),
            prompt_ids(i, "corrupted_token_ids")
        );
        assert_eq!(ids("labels"), prompt_ids(i, "labels"));
    }
    for field in ["clean_logit_diff", "corrupted_logit_diff"] {
        let (_, expected) = array(at(goldens(), &format!("results/{variant}/{field}")));
        // Same tolerance as the model parity tests (see crates/model/tests/parity.rs).
        assert_close(field, &get(field), &expected, 5e-5);
    }
}

#[test]
fn logits_on_model_a_equal_the_goldens() {
    let dir = tmp("goldens");
    let prompts = reference_prompts(&dir);
    let model = model_a_dir().display().to_string();
    check_against_goldens(
        &gradpatch(&["logits", "--model", &model, "--prompts", &prompts, "--json"]),
        "tl_processed",
    );
    check_against_goldens(
        &gradpatch(&[
            "logits",
            "--model",
            &model,
            "--prompts",
            &prompts,
            "--no-processing",
            "--json",
        ]),
        "tl_unprocessed",
    );
    check_against_goldens(
        &gradpatch(&[
            "logits",
            "--model",
            &model,
            "--weights",
            "model-hub-layout.safetensors",
            "--prompts",
            &prompts,
            "--json",
        ]),
        "tl_processed",
    );
    check_against_goldens(
        &gradpatch(&[
            "logits",
            "--model",
            &model,
            "--prompts",
            &prompts,
            "--backend",
            "wgpu",
            "--json",
        ]),
        "tl_processed",
    );
    // The embedded default is model-a with the same prompts.
    check_against_goldens(&gradpatch(&["logits", "--json"]), "tl_processed");
}

fn assert_fails(out: &Output, expected: &str) {
    assert!(!out.status.success(), "should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(expected),
        "stderr {stderr:?} lacks {expected:?}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout on error");
}

#[test]
fn bad_input_exits_non_zero_with_a_message() {
    let dir = tmp("bad");
    let model = model_a_dir().display().to_string();
    let bad = |name: &str, text: &str| write(&dir, name, text);
    let clean = "When Kate and Dan went to the restaurant, Dan gave a computer to";
    let corrupted = "When Kate and Dan went to the restaurant, Kate gave a computer to";
    let pair = |c: &str, r: &str, a: &str, b: &str| {
        serde_json::json!([{"clean": c, "corrupted": r, "correct": a, "incorrect": b}]).to_string()
    };
    let cases = [
        (
            bad(
                "missing.json",
                r#"[{"clean": "a", "corrupted": "b", "correct": " Kate"}]"#,
            ),
            "missing field \"incorrect\"",
        ),
        (
            bad("two.json", &pair(clean, corrupted, " Kate Dan", " Dan")),
            "exactly one",
        ),
        (
            bad("empty.json", &pair("", corrupted, " Kate", " Dan")),
            "the clean prompt is empty",
        ),
        (
            bad(
                "long.json",
                &pair(&clean.repeat(6), &corrupted.repeat(6), " Kate", " Dan"),
            ),
            "longer than the model's context of 64",
        ),
        (bad("notjson.json", "{"), "not valid JSON"),
    ];
    for (file, expected) in &cases {
        assert_fails(
            &gradpatch(&["logits", "--model", &model, "--prompts", file, "--json"]),
            expected,
        );
    }
    assert_fails(
        &gradpatch(&["logits", "--model", "/nonexistent/dir", "--json"]),
        "is not a directory",
    );
    let junk = tmp("junk");
    write(&junk, "model.safetensors", "<html>404</html>");
    write(&junk, "tokenizer.json", "{}");
    assert_fails(
        &gradpatch(&["logits", "--model", &junk.display().to_string(), "--json"]),
        "safetensors",
    );
}

#[test]
fn make_random_gpt2_writes_a_loadable_gpt2_small() {
    let dir = tmp("random");
    let out = gradpatch(&[
        "make-random-gpt2",
        "--out",
        &dir.display().to_string(),
        "--dtype",
        "f16",
        "--seed",
        "7",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        (
            config["n_layer"].as_u64(),
            config["n_head"].as_u64(),
            config["n_embd"].as_u64()
        ),
        (Some(12), Some(12), Some(768))
    );
    assert_eq!(
        (
            config["n_inner"].as_u64(),
            config["vocab_size"].as_u64(),
            config["n_positions"].as_u64()
        ),
        (Some(3072), Some(50257), Some(1024))
    );
    let size = std::fs::metadata(dir.join("model.safetensors"))
        .unwrap()
        .len();
    // 124,439,808 parameters in f16 plus 12 hub mask buffers of 1024x1024 f16.
    assert!(size > 248_000_000 && size < 300_000_000, "size {size}");
    let prompts = reference_prompts(&dir);
    let out = gradpatch(&[
        "logits",
        "--model",
        &dir.display().to_string(),
        "--prompts",
        &prompts,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &json["prompts"][0];
    assert_eq!(
        first["clean_token_ids"][0].as_u64(),
        Some(50256),
        "GPT-2 BOS"
    );
    assert!(
        first["clean_logit_diff"].as_f64().unwrap().is_finite(),
        "the clean logit difference of prompt 0 is finite: {}",
        first["clean_logit_diff"]
    );
    std::fs::remove_dir_all(&dir).ok();
}
