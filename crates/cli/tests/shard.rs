//! A run split into shards (`run --shard K/N`, each a separate process)
//! and joined by `merge` equals one run of the whole prompt list: every score bit for bit, the
//! statistics to 1e-12; missing, duplicated and mismatched parts are refused with a message
//! naming them; `status` sums the shards' progress files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{gradpatch, tmp};
use serde_json::Value;

fn ok(args: &[&str]) -> String {
    let out = gradpatch(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(args: &[&str], expected: &str) {
    let out = gradpatch(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} must fail");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Equal values, numbers exactly except under `stats` (1e-12 relative); `seconds` differ.
fn same(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<&String> = x.keys().filter(|k| *k != "seconds").collect();
            let other: Vec<&String> = y.keys().filter(|k| *k != "seconds").collect();
            assert_eq!(keys, other, "{at}: the same fields");
            for k in keys {
                same(&x[k], &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{at}[{i}]"));
            }
        }
        // Every edge's mean over prompts: a weighted mean of the parts' means.
        (Value::Number(x), Value::Number(y))
            if at.starts_with(".edges.scores") && at.contains(".mean[") =>
        {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{at}: {x} vs {y}");
        }
        (Value::Number(x), Value::Number(y)) if at.starts_with(".stats") => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                "{at}: {x} vs {y}"
            );
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

const RUN: [&str; 9] = [
    "run",
    "--ioi",
    "7",
    "--seed",
    "2",
    "--ig-steps",
    "4",
    "--positions",
    "--faithfulness",
];

/// Shard `k` of `n` of the run `base` (RUN without its seed) with `extra` arguments.
fn shard(dir: &Path, extra: &[&str], k: usize, n: usize) -> PathBuf {
    let out = dir.join(format!("part-{k}.json"));
    let spec = format!("{k}/{n}");
    let mut args: Vec<&str> = RUN
        .iter()
        .copied()
        .filter(|a| *a != "--seed" && *a != "2")
        .collect();
    if !extra.contains(&"--seed") {
        args.extend_from_slice(&["--seed", "2"]);
    }
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--shard", &spec, "--out", s(&out)]);
    ok(&args);
    out
}

#[test]
fn four_shards_merged_equal_one_run() {
    let dir = tmp("four-shards");
    let single = dir.join("single.json");
    // Every method, the edge methods too.
    let methods = ["--methods", "atp,ig,ap,eap,eapig"];
    let mut args = RUN.to_vec();
    args.extend_from_slice(&methods);
    args.extend_from_slice(&["--out", s(&single)]);
    ok(&args);
    let parts_dir = dir.join("parts");
    std::fs::create_dir_all(&parts_dir).unwrap();
    // In reverse order: merge sorts the prompts back.
    let parts: Vec<PathBuf> = (0..4)
        .rev()
        .map(|k| shard(&parts_dir, &methods, k, 4))
        .collect();
    let part = read(&parts[3]);
    assert_eq!(part["shard"]["prompt_indices"], serde_json::json!([0, 4]));
    assert_eq!(part["prompts"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        part["shard"]["model"]["weights_sha256"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    let merged = dir.join("merged.json");
    let csv = dir.join("csv");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend_from_slice(&["--out", s(&merged), "--csv", s(&csv)]);
    ok(&args);
    let (one, joined) = (read(&single), read(&merged));
    assert!(
        joined.get("shard").is_none(),
        "the merged file is a whole run's"
    );
    same(&one, &joined, "");
    assert!(
        joined["atp"]["heads_pos"][6].is_array()
            && joined["stats_pairs"]["atp_ap"].is_object()
            && joined["edges"]["exact"]["prompts"][6].is_object()
            && joined["edges"]["faithfulness"]["methods"]["eapig"][6].is_array(),
        "every method, per position, every pair's statistics, the edges of every prompt"
    );
    let scores = std::fs::read_to_string(csv.join("scores.csv")).unwrap();
    assert!(
        scores.lines().any(|l| l.starts_with("6,")),
        "CSV of all prompts"
    );
    // Item 6: the shards' progress files, summed.
    let status = ok(&["status", s(&parts_dir)]);
    assert!(
        status.contains("total: 100.0% of 7 prompts (4 of 4 runs finished)"),
        "{status}"
    );
    assert!(
        status.contains("part-3") && status.contains("3/4"),
        "{status}"
    );
}

#[test]
fn merge_refuses_missing_duplicated_and_mismatched_parts() {
    let dir = tmp("bad-parts");
    let p0 = shard(&dir, &[], 0, 2);
    let p1 = shard(&dir, &[], 1, 2);
    let out = dir.join("merged.json");
    let o = s(&out);
    refused(&["merge", s(&p0), "--out", o], "missing part for shard 1/2");
    refused(
        &["merge", s(&p0), s(&p1), s(&p0), "--out", o],
        "prompt 0 is in both",
    );
    // Another seed: other prompts, another configuration.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let q1 = shard(&other, &["--seed", "3"], 1, 2);
    refused(
        &["merge", s(&p0), s(&q1), "--out", o],
        "are parts of different runs: config.prompts_source",
    );
    // The same model path with other weights: the digests differ.
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/models");
    let copy = |from: &str| {
        for f in ["model.safetensors", "tokenizer.json", "config.json"] {
            std::fs::copy(repo.join(from).join(f), model.join(f)).unwrap();
        }
    };
    let m = dir.join("m");
    std::fs::create_dir_all(&m).unwrap();
    copy("model-a");
    let a0 = shard(&m, &["--model", s(&model)], 0, 2);
    copy("ioi-demo");
    let a1 = shard(&m, &["--model", s(&model)], 1, 2);
    refused(
        &["merge", s(&a0), s(&a1), "--out", o],
        "were computed with different model files",
    );
    let single = dir.join("single.json");
    let mut args = RUN.to_vec();
    args.extend_from_slice(&["--methods", "atp", "--out", s(&single)]);
    ok(&args);
    refused(
        &["merge", s(&single), "--out", o],
        "not a part of a sharded run",
    );
    refused(&["merge", "--out", o], "required");
    // Parts edited to claim what they are not: bounds and shapes are checked before anything
    // is allocated or gathered.
    let edit = |name: &str, f: &dyn Fn(&mut Value)| -> PathBuf {
        let mut v = read(&p1);
        f(&mut v);
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        path
    };
    let huge = edit("huge.json", &|v| {
        v["shard"]["n_prompts"] = 1_000_000_000_000u64.into()
    });
    refused(
        &["merge", s(&p0), s(&huge), "--out", o],
        "huge.json: a run of 1000000000000 prompts, expected at most 10000000",
    );
    let index = edit("index.json", &|v| v["shard"]["index"] = 5.into());
    refused(
        &["merge", s(&p0), s(&index), "--out", o],
        "index.json: shard 5/2 is not a shard",
    );
    let shapes = edit("shapes.json", &|v| {
        v["clean_logit_diff"] = serde_json::json!([1.0, 2.0, 3.0, 4.0, 5.0])
    });
    refused(&["merge", s(&p0), s(&shapes), "--out", o], "shapes.json: ");
    assert!(!out.exists(), "nothing written when a merge is refused");
    refused(&["run", "--shard", "4/4", "--out", o], "K must be 0 to 3");
    refused(
        &["run", "--shard", "0/2", "--csv", s(&dir), "--out", o],
        "cannot be used with",
    );
}

/// A progress file that cannot be read (damaged, or too large to be one) is skipped with a
/// warning naming it, and the readable ones are still reported; with none readable, `status`
/// says so.
#[test]
fn status_skips_unreadable_progress_files_with_a_warning() {
    let dir = tmp("status-skip");
    let good = r#"{"shard": "0/2", "prompts": 3, "fraction": 0.5, "elapsed_s": 10.0,
        "eta_s": 10.0, "finished": false, "updated_unix_s": 9999999999.0}"#;
    std::fs::write(dir.join("part-0.progress.json"), good).unwrap();
    std::fs::write(
        dir.join("part-1.progress.json"),
        "{\"shard\": \"1/2\", trunc",
    )
    .unwrap();
    std::fs::write(dir.join("part-2.progress.json"), vec![b' '; 100_000]).unwrap();
    let out = gradpatch(&["status", s(&dir)]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("part-0") && !stdout.contains("part-1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: skipped")
            && stderr.contains("part-1.progress.json: not a progress file"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("part-2.progress.json: 100000 bytes; a progress file is at most 65536 bytes"),
        "{stderr}"
    );
    std::fs::remove_file(dir.join("part-0.progress.json")).unwrap();
    refused(&["status", s(&dir)], "none of the 2 progress files");
}
