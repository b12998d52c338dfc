//! `gradpatch run` on model-a equals the goldens: every IG and AP score (both baselines, both
//! directions, processed and unprocessed) and the statistics; CSV tables; argument errors.
//!
//! Score tolerances are those of the methods' parity tests (crates/methods/tests/parity.rs).
//! Statistics computed from our scores rather than the reference's differ by what the scores
//! differ: correlations and scaled differences by < 1e-4; a highlighted component sitting on the
//! threshold may flip, so Jaccard means are compared at 0.02 (the statistics crate checks the
//! exact formulas on the reference's own scores).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{gradpatch, tmp};
use gradpatch_testdata::{array, at, atp_goldens, goldens, zip_eq};
use serde_json::Value;

fn flat(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    fn go(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| go(x, out)),
            Value::Number(n) => out.push(n.as_f64().unwrap()),
            Value::Null => out.push(f64::NAN),
            other => panic!("unexpected {other}"),
        }
    }
    go(v, &mut out);
    out
}

fn assert_rows_close(what: &str, got: &[f64], expected: &[f64], tol_per_prompt: &[f64]) {
    let per = got.len() / tol_per_prompt.len();
    for (i, (g, e)) in zip_eq(what, got, expected).enumerate() {
        let tol = tol_per_prompt[i / per];
        assert!(
            (g - e).abs() <= tol,
            "{what}[{i}]: {g} vs {e} (tol {tol:.1e})"
        );
    }
}

fn run_and_check(extra: &[&str], variant: &str, ig_key: &str, ap_key: &str) -> Value {
    let dir = tmp(&format!("{variant}{ig_key}{ap_key}"));
    let out_path = dir.join("results.json");
    let csv = dir.join("csv");
    let mut args = vec![
        "run",
        "--out",
        out_path.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = gradpatch(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    let g = at(goldens(), &format!("results/{variant}"));
    assert_eq!(r["complete"], Value::Bool(true));
    let (clean, corrupted) = (
        flat(&r["clean_logit_diff"]),
        flat(&r["corrupted_logit_diff"]),
    );
    let ap_tol: Vec<f64> = clean
        .iter()
        .zip(&corrupted)
        .map(|(a, b)| 2.0 * 5e-5 / (a - b).abs())
        .collect();
    let n = clean.len();
    assert_eq!(n, 16);
    for kind in ["heads", "neurons"] {
        let (_, ig_g) = array(&g["ig"][ig_key][kind]);
        let tol = if kind == "heads" { 2e-6 } else { 2e-5 };
        assert_rows_close(
            &format!("ig {kind}"),
            &flat(&r["ig"][kind]),
            &ig_g,
            &vec![tol; n],
        );
        let (_, ap_g) = array(&g[&format!("{ap_key}_{kind}")]);
        assert_rows_close(&format!("ap {kind}"), &flat(&r["ap"][kind]), &ap_g, &ap_tol);
        for d in flat(&r["ig"][&format!("convergence_delta_{kind}")]) {
            assert!(d.abs() <= 1e-4, "delta {d}");
        }
    }
    let lines = std::fs::read_to_string(csv.join("scores.csv"))
        .unwrap()
        .lines()
        .count();
    // AtP, IG and AP (the default methods), each 16 prompts × (2 × 4 heads + 2 × 256 neurons).
    assert_eq!(lines, 1 + 3 * 16 * (2 * 4 + 2 * 256));
    r
}

#[test]
fn run_on_model_a_equals_the_goldens() {
    let r = run_and_check(&[], "tl_processed", "zero", "ap");
    let summary = at(goldens(), "results/tl_processed/summary_zero_ig_vs_ap");
    for kind in ["heads", "neurons"] {
        let (s, g) = (&r["stats"][kind], &summary[kind]);
        let num = |v: &Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k}"));
        for (mine, theirs, tol) in [
            ("pearson_mean", "pearson_mean", 1e-4),
            ("pearson_std", "pearson_std_population", 1e-4),
            ("jaccard_mean", "jaccard_mean", 0.02),
        ] {
            assert!(
                (num(s, mine) - num(g, theirs)).abs() <= tol,
                "{kind} {mine}: {} vs {}",
                num(s, mine),
                num(g, theirs)
            );
        }
        for (mine, theirs) in [
            ("threshold_ig", "highlight_threshold_ig"),
            ("threshold_ap", "highlight_threshold_ap"),
        ] {
            let (a, b) = (num(s, mine), num(g, theirs));
            assert!((a - b).abs() <= 1e-3 * b.abs(), "{kind} {mine}: {a} vs {b}");
        }
        for key in ["mean_difference", "sd_difference", "upper_loa", "lower_loa"] {
            let (a, b) = (num(s, key), num(&g["mean_diff_plot"], key));
            assert!((a - b).abs() <= 1e-4, "{kind} {key}: {a} vs {b}");
        }
    }
}

/// `--positions` writes AtP (heads, neurons, per position) and AP per
/// head and position equal to `atp_goldens.json`, the statistics of the three pairs (IG–AP
/// equal to `stats`), and per-position CSV rows.
#[test]
fn run_with_positions_equals_the_atp_goldens() {
    let dir = tmp("positions");
    let (out_path, csv) = (dir.join("results.json"), dir.join("csv"));
    let out = gradpatch(&[
        "run",
        "--positions",
        "--ig-steps",
        "4",
        "--out",
        out_path.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    let g = atp_goldens();
    assert_eq!(r["config"]["run_atp"], Value::Bool(true));
    assert_eq!(r["config"]["positions"], Value::Bool(true));
    let (clean, corrupted) = (
        flat(&r["clean_logit_diff"]),
        flat(&r["corrupted_logit_diff"]),
    );
    let tol: Vec<f64> = zip_eq("logit differences", &clean, &corrupted)
        .map(|(a, b)| 2.0 * 5e-5 / (a - b).abs())
        .collect();
    for (mine, theirs) in [
        ("atp/heads", "atp_noising_heads"),
        ("atp/neurons", "atp_noising_neurons"),
        ("atp/heads_pos", "atp_noising_heads_pos"),
        ("ap/heads_pos", "ap_noising_heads_pos"),
    ] {
        let (a, b) = mine.split_once('/').unwrap();
        // Ragged over prompts: compare prompt by prompt.
        for (i, t) in tol.iter().enumerate() {
            assert_rows_close(
                &format!("{mine} prompt {i}"),
                &flat(&r[a][b][i]),
                &array(&g[theirs][i]).1,
                &[*t],
            );
        }
    }
    let ig_pos = &r["ig"]["heads_pos"];
    assert_eq!(ig_pos.as_array().map(Vec::len), Some(16), "IG per position");
    assert_eq!(r["stats_pairs"]["ig_ap"], r["stats"], "ig_ap is stats");
    for pair in ["atp_ap", "ig_atp"] {
        assert!(
            r["stats_pairs"][pair]["heads"]["pearson_mean"].is_f64(),
            "{pair}"
        );
    }
    // AtP approximates AP closely on this model: their head scores correlate.
    let atp_ap = r["stats_pairs"]["atp_ap"]["heads"]["pearson_mean"]
        .as_f64()
        .unwrap();
    assert!(atp_ap > 0.5, "AtP–AP head correlation {atp_ap}");
    check_position_csv(&r, &csv);
}

/// scores.csv has a row per method, head and token for the scores per position, and stats.csv
/// the rows of every pair.
fn check_position_csv(r: &Value, csv: &std::path::Path) {
    let scores = std::fs::read_to_string(csv.join("scores.csv")).unwrap();
    let tokens: usize = r["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["clean_token_ids"].as_array().unwrap().len())
        .sum();
    let position_rows = scores.lines().filter(|l| !l.ends_with(',')).count() - 1;
    assert_eq!(
        position_rows,
        3 * 2 * 4 * tokens,
        "three methods × 8 heads × every token"
    );
    let stats = std::fs::read_to_string(csv.join("stats.csv")).unwrap();
    for pair in ["ig-ap", "atp-ap", "ig-atp"] {
        assert!(
            stats.contains("head,pearson_mean,,") && stats.lines().any(|l| l.ends_with(pair)),
            "stats.csv has {pair} rows"
        );
    }
}

#[test]
fn run_corrupted_baseline_denoising_unprocessed() {
    run_and_check(
        &[
            "--ig-baseline",
            "corrupted",
            "--ap-direction",
            "denoising",
            "--no-processing",
        ],
        "tl_unprocessed",
        "aligned_clean_input",
        "ap_reverse",
    );
}

#[test]
fn run_with_generated_ioi_prompts_and_one_method() {
    let dir = tmp("ioi");
    let out_path = dir.join("r.json");
    let out = gradpatch(&[
        "run",
        "--ioi",
        "3",
        "--seed",
        "5",
        "--corrupt",
        "abc",
        "--methods",
        "ap",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(r["prompts"].as_array().unwrap().len(), 3);
    assert!(
        r["ig"].is_null() && r["stats"].is_null() && r.get("atp").is_none(),
        "an AP-only run writes no IG or AtP scores and no statistics"
    );
    assert!(r.get("stats_pairs").is_none(), "nor pairs' statistics");
    assert_eq!(r["config"]["prompts_source"]["ioi"]["corrupt"], "abc");
}

/// Bounded arguments, an unwritable output refused before the run.
#[test]
fn run_argument_errors() {
    let dir = tmp("errors");
    let out_path = dir.join("r.json");
    let o = out_path.to_str().unwrap();
    for (args, expected) in [
        (
            vec!["run", "--methods", "ig,foo", "--out", o],
            "unknown method \"foo\"",
        ),
        (
            vec!["run", "--percentile", "1.5", "--out", o],
            "must be in (0, 1)",
        ),
        (
            vec!["run", "--percentile", "1", "--out", o],
            "must be in (0, 1)",
        ),
        (
            vec!["run", "--ig-steps", "1001", "--out", o],
            "--ig-steps 1001 is out of range: expected 1 to 1000",
        ),
        (
            vec!["run", "--ioi", "0", "--out", o],
            "--ioi 0 is out of range: expected 1 to 10000",
        ),
        (
            vec!["run", "--ioi", "10001", "--out", o],
            "--ioi 10001 is out of range",
        ),
        (
            vec!["run", "--out", "/nonexistent-dir/r.json"],
            "cannot write /nonexistent-dir/r.json",
        ),
        (
            vec!["run", "--out", dir.to_str().unwrap()],
            "is a directory",
        ),
        (
            vec!["bench-methods", "--prompts", "0"],
            "--prompts 0 is out of range",
        ),
        (
            vec!["bench-methods", "--ig-steps", "100000"],
            "--ig-steps 100000 is out of range: expected 1 to 1000",
        ),
        (
            vec!["run", "--ig-method", "simpson", "--out", o],
            "unknown IG method",
        ),
        (
            vec!["run", "--ig-steps", "0", "--out", o],
            "--ig-steps 0 is out of range",
        ),
        (
            vec!["run", "--ioi", "2", "--corrupt", "xyz", "--out", o],
            "unknown corruption",
        ),
    ] {
        let out = gradpatch(&args);
        assert!(!out.status.success(), "the CLI refuses {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(!out_path.exists(), "nothing written on error");
    // Input files are refused by their size before they are read (sparse files here).
    let big = dir.join("big-prompts.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let model = dir.join("model-with-big-tokenizer");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("model.safetensors"), b"").unwrap();
    std::fs::File::create(model.join("tokenizer.json"))
        .unwrap()
        .set_len(33 << 20)
        .unwrap();
    for (args, expected) in [
        (
            vec!["run", "--prompts", big.to_str().unwrap(), "--out", o],
            "big-prompts.json: 68157440 bytes; a prompt file is at most 67108864 bytes",
        ),
        (
            vec![
                "run",
                "--model",
                model.to_str().unwrap(),
                "--ioi",
                "1",
                "--out",
                o,
            ],
            "tokenizer.json: 34603008 bytes; a tokenizer.json is at most 33554432 bytes",
        ),
    ] {
        let out = gradpatch(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(expected),
            "{args:?}: {stderr}"
        );
    }
    assert!(!out_path.exists(), "nothing written on error");
}

/// `--faithfulness` adds `faithfulness.{method}.{heads,neurons}` (and the random band) to
/// results.json, faithfulness.csv rows, and a summary line per method and kind.
#[test]
fn run_with_faithfulness_writes_the_curves() {
    let dir = tmp("faithfulness");
    let (out_path, csv) = (dir.join("results.json"), dir.join("csv"));
    let out = gradpatch(&[
        "run",
        "--ioi",
        "2",
        "--ig-steps",
        "2",
        "--faithfulness",
        "--out",
        out_path.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("--faithfulness=abs"),
        "the options line: {stderr}"
    );
    assert!(stderr.contains("AP   heads: faithfulness area"), "{stderr}");
    let r: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(r["config"]["faithfulness"], "abs");
    let f = &r["faithfulness"];
    assert_eq!(f["ranking"], "abs");
    assert_eq!(
        f["k"]["heads"].as_array().unwrap().len(),
        9,
        "k = 0 … 8 heads"
    );
    for m in ["atp", "ig", "ap"] {
        for kind in ["heads", "neurons"] {
            let rows = f[m][kind].as_array().unwrap();
            assert_eq!(rows.len(), 2, "{m}.{kind}: a row per prompt");
        }
    }
    assert_eq!(f["random"]["rankings"], 20);
    let text = std::fs::read_to_string(csv.join("faithfulness.csv")).unwrap();
    assert!(text.starts_with("kind,curve,prompt,k,value\n"));
    assert!(
        text.lines().any(|l| l.starts_with("heads,ap,1,8,1")),
        "AP keeps all 8 heads: 1"
    );
    assert!(text.lines().any(|l| l.starts_with("neurons,random_p95,0,")));
}

/// SIGTERM (a pod deleted, a Slurm job cancelled) stops the run at its next step: what was
/// finished is written, whole, with `complete: false`, and the exit status says which signal.
#[cfg(unix)]
#[test]
fn sigterm_writes_what_was_finished_and_exits_143() {
    let dir = tmp("sigterm");
    let out = dir.join("results.json");
    let model =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web/models/ioi-demo");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gradpatch"))
        .args(["run", "--model"])
        .arg(&model)
        .args([
            "--ioi",
            "256",
            "--ig-steps",
            "200",
            "--methods",
            "atp,ig",
            "--out",
        ])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Started: its progress file says some of it is done.
    let progress = dir.join("results.progress.json");
    let t0 = std::time::Instant::now();
    loop {
        let started = std::fs::read(&progress)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["fraction"].as_f64())
            .is_some_and(|f| f > 0.0);
        if started {
            break;
        }
        assert!(t0.elapsed().as_secs() < 120, "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM: wrote"), "{stderr}");
    let results: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(results["complete"], false);
    // The prompts reached (some, not all), each with its AtP scores.
    let n = results["prompts"].as_array().map_or(0, Vec::len);
    assert!(n > 0 && n < 256, "{n} prompts");
    assert_eq!(results["atp"]["heads"].as_array().map(Vec::len), Some(n));
    // No temporary file is left beside the output.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".tmp") || n.contains("write-check"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
