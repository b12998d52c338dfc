//! `gradpatch score-circuit`: how well each method of a results.json finds a known circuit
//! (the page's scoreboard, as a table or JSON).

use std::path::{Path, PathBuf};

use clap::Args;
use gradpatch_circuit::file::MAX_CIRCUIT_BYTES;
use gradpatch_circuit::{Circuit, IOI_GPT2_SMALL, Scoreboard, ioi_gpt2_small, scoreboard};
use gradpatch_study::{MAX_RESULTS_BYTES, Results};

use crate::files::read_capped;

#[derive(Args, Debug)]
pub struct ScoreCircuitArgs {
    /// A results.json (`gradpatch run`, `merge`, or the page's export).
    results: PathBuf,
    /// A circuit file (README: "Circuit files"), or `ioi-gpt2-small` for the bundled IOI
    /// circuit of GPT-2 small.
    #[arg(long)]
    circuit: String,
    /// Print JSON on stdout (otherwise a table).
    #[arg(long)]
    json: bool,
}

fn load_circuit(name: &str) -> Result<Circuit, String> {
    if name == IOI_GPT2_SMALL && !Path::new(name).exists() {
        return ioi_gpt2_small().map_err(|e| format!("the bundled circuit: {e}"));
    }
    let bytes = read_capped(Path::new(name), MAX_CIRCUIT_BYTES as u64, "circuit file")?;
    Circuit::parse(&bytes).map_err(|e| format!("{name}: {e}"))
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.3}"))
}

/// The scoreboard as JSON: per method, its sets with AUC and precision/recall at each k.
fn json(board: &Scoreboard) -> serde_json::Value {
    let methods: serde_json::Map<String, serde_json::Value> = board
        .methods
        .iter()
        .map(|m| {
            let sets: Vec<serde_json::Value> = m
                .sets
                .iter()
                .map(|s| {
                    let at_k: Vec<serde_json::Value> = s
                        .at_k
                        .iter()
                        .map(|a| serde_json::json!({"k": a.k, "precision": a.precision, "recall": a.recall}))
                        .collect();
                    serde_json::json!({"name": s.name, "size": s.size, "auc": s.auc, "at_k": at_k})
                })
                .collect();
            let per_position = match &m.per_position {
                Ok(auc) => serde_json::json!({"auc": auc}),
                Err(why) => serde_json::json!({"unavailable": why}),
            };
            let value = serde_json::json!({"prompts": m.prompts, "sets": sets, "per_position": per_position});
            (m.method.key().to_string(), value)
        })
        .collect();
    serde_json::json!({"circuit_size": board.circuit_size, "k": board.ks, "methods": methods})
}

/// The scoreboard as a table: a block per method, a row per set.
fn table(board: &Scoreboard, circuit: &Circuit) -> String {
    let mut out = format!(
        "circuit: {} heads in {} classes{}\n",
        board.circuit_size,
        circuit.classes.len(),
        if circuit.model.is_empty() {
            String::new()
        } else {
            format!(" ({})", circuit.model)
        }
    );
    for m in &board.methods {
        out += &format!(
            "\n{} (by |mean score| over {} prompts)\n",
            m.method.label(),
            m.prompts
        );
        let heads: Vec<String> = board
            .ks
            .iter()
            .map(|k| format!("{:>13}", format!("P/R@{k}")))
            .collect();
        out += &format!(
            "  {:<28} {:>5} {:>7} {}\n",
            "set",
            "heads",
            "ROC AUC",
            heads.join("")
        );
        for s in &m.sets {
            let at: Vec<String> = s
                .at_k
                .iter()
                .map(|a| format!("{:>13}", format!("{:.2}/{:.2}", a.precision, a.recall)))
                .collect();
            out += &format!(
                "  {:<28} {:>5} {:>7} {}\n",
                s.name,
                s.size,
                fmt(s.auc),
                at.join("")
            );
        }
        out += &match &m.per_position {
            Ok(auc) => {
                format!("  per position (each head at its class's position): ROC AUC {auc:.3}\n")
            }
            Err(why) => format!("  per position: not available ({why})\n"),
        };
    }
    if !circuit.published.is_empty() {
        let published: Vec<String> = circuit
            .published
            .iter()
            .map(|(m, a)| format!("{m} {a:.3}"))
            .collect();
        out += &format!(
            "\npublished node ROC AUCs against this circuit: {}\n",
            published.join(", ")
        );
    }
    out
}

pub fn run(args: &ScoreCircuitArgs) -> Result<(), String> {
    let circuit = load_circuit(&args.circuit)?;
    let bytes = read_capped(&args.results, MAX_RESULTS_BYTES, "results file")?;
    let results =
        Results::from_json(&bytes).map_err(|e| format!("{}: {e}", args.results.display()))?;
    let board = scoreboard(&results, &circuit).map_err(|e| format!("{}: {e}", args.circuit))?;
    if args.json {
        println!("{}", json(&board));
    } else {
        print!("{}", table(&board, &circuit));
    }
    Ok(())
}
