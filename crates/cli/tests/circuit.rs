//! `gradpatch score-circuit`: the scoreboard of a run against a circuit file, its AUC equal to
//! one computed here from results.json by brute force, per-position scores, and bad circuits
//! refused naming the entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{gradpatch, tmp};
use serde_json::Value;

const CIRCUIT: &str = r#"{
  "format_version": 1,
  "model": "model-a (a test circuit, not a finding)",
  "classes": [
    {"name": "late", "acts_at": "END", "heads": [[1, 0], [1, 2]]},
    {"name": "early", "acts_at": "S2", "heads": [[0, 1]]}
  ],
  "strict_variant": {"drop": [[0, 1]]}
}"#;

/// The AUC of |mean over prompts| head scores against `members` by counting pairs.
fn brute_auc(heads: &Value, members: &[(usize, usize)]) -> f64 {
    let prompts = heads.as_array().unwrap();
    let (layers, width) = (
        prompts[0].as_array().unwrap().len(),
        prompts[0][0].as_array().unwrap().len(),
    );
    let score = |l: usize, h: usize| {
        let sum: f64 = prompts.iter().map(|p| p[l][h].as_f64().unwrap()).sum();
        (sum / prompts.len() as f64).abs()
    };
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for l in 0..layers {
        for h in 0..width {
            if members.contains(&(l, h)) {
                pos.push(score(l, h))
            } else {
                neg.push(score(l, h))
            }
        }
    }
    let wins: f64 = pos
        .iter()
        .flat_map(|p| {
            neg.iter().map(move |n| {
                if p > n {
                    1.0
                } else if p == n {
                    0.5
                } else {
                    0.0
                }
            })
        })
        .sum();
    wins / (pos.len() * neg.len()) as f64
}

#[test]
fn score_circuit_prints_the_scoreboard_of_a_run() {
    let dir = tmp("circuit");
    let (results, circuit) = (dir.join("results.json"), dir.join("circuit.json"));
    std::fs::write(&circuit, CIRCUIT).unwrap();
    let out = gradpatch(&[
        "run",
        "--ioi",
        "3",
        "--ig-steps",
        "2",
        "--positions",
        "--out",
        results.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (r, c) = (results.to_str().unwrap(), circuit.to_str().unwrap());
    let out = gradpatch(&["score-circuit", r, "--circuit", c]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.starts_with("circuit: 3 heads in 2 classes (model-a"),
        "{table}"
    );
    for line in [
        "AP (by |mean score| over 3 prompts)",
        "variant strict",
        "class late",
        "class early",
        "P/R@3",
    ] {
        assert!(table.contains(line), "{line}: {table}");
    }
    assert!(
        table.contains("per position (each head at its class's position): ROC AUC"),
        "{table}"
    );

    let out = gradpatch(&["score-circuit", r, "--circuit", c, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let board: Value = serde_json::from_slice(&out.stdout).unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    assert_eq!(board["k"], serde_json::json!([3]));
    for m in ["atp", "ig", "ap"] {
        let sets = &board["methods"][m]["sets"];
        assert_eq!(sets[0]["name"], "circuit");
        let auc = sets[0]["auc"].as_f64().unwrap();
        let expected = brute_auc(&saved[m]["heads"], &[(1, 0), (1, 2), (0, 1)]);
        assert!((auc - expected).abs() < 1e-9, "{m}: {auc} vs {expected}");
        let strict = brute_auc(&saved[m]["heads"], &[(1, 0), (1, 2)]);
        assert!(
            (sets[1]["auc"].as_f64().unwrap() - strict).abs() < 1e-9,
            "{m} strict"
        );
        let pp = board["methods"][m]["per_position"]["auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&pp), "{m}: per position {pp}");
    }
}

#[test]
fn score_circuit_refuses_bad_circuits_and_files() {
    let dir = tmp("circuit-bad");
    let results = dir.join("results.json");
    let out = gradpatch(&[
        "run",
        "--ioi",
        "2",
        "--methods",
        "atp",
        "--out",
        results.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = results.to_str().unwrap();
    let cases = [
        (
            r#"{"classes": [{"name": "x", "acts_at": "END", "heads": [[5, 0]]}]}"#,
            "class “x”: head L5H0 is outside the model (2 layers × 4 heads)",
        ),
        (
            r#"{"classes": [{"name": "x", "acts_at": "S7", "heads": [[0, 0]]}]}"#,
            "class “x”: unknown position “S7”",
        ),
        (
            r#"{"classes": [{"name": "x", "acts_at": "END", "heads": [[0, 0], [0, 0]]}]}"#,
            "head L0H0 is in both “x” and “x”",
        ),
    ];
    for (i, (json, expected)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("c{i}.json"));
        std::fs::write(&path, json).unwrap();
        let out = gradpatch(&["score-circuit", r, "--circuit", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(expected),
            "{json}: {err}"
        );
    }
    // The bundled circuit is GPT-2 small's: refused on model-a, naming a head.
    let out = gradpatch(&["score-circuit", r, "--circuit", "ioi-gpt2-small"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("class “name mover”: head L9H9 is outside the model (2 layers × 4 heads)"),
        "{err}"
    );
    let out = gradpatch(&[
        "score-circuit",
        dir.join("missing.json").to_str().unwrap(),
        "--circuit",
        "ioi-gpt2-small",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read"),
        "a missing results file"
    );
}
