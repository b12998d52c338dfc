//! Long-format CSV tables that pandas reads directly.

use std::fmt::Write;

use gradpatch_terms::MethodPair;

use crate::{Results, Stats};

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// A text cell, quoted. A cell a spreadsheet would read as a formula (starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return: a prompt from a shared link can be anything) gets a
/// leading `'`, which spreadsheets show as text and pandas keeps as a character.
fn quote(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    format!(
        "\"{}{}\"",
        if formula { "'" } else { "" },
        s.replace('"', "\"\"")
    )
}

/// `scores.csv`: prompt,layer,component,kind,method,score,position (empty score = not
/// computed). Summed scores have an empty position; with `positions`, each head's scores per
/// position follow as rows with the position (0 = BOS).
pub fn write_scores(r: &Results, out: &mut impl Write) {
    let _ = out.write_str("prompt,layer,component,kind,method,score,position\n");
    for method in r.methods() {
        let Some(scores) = r.scores(method) else {
            continue;
        };
        let m = method.key();
        for (kind, scores) in [("head", &scores.heads), ("neuron", &scores.neurons)] {
            for (p, layers) in scores.iter().enumerate() {
                for (l, comps) in layers.iter().enumerate() {
                    for (c, s) in comps.iter().enumerate() {
                        let _ = writeln!(out, "{p},{l},{c},{kind},{m},{},", num(f64::from(*s)));
                    }
                }
            }
        }
        for (p, layers) in r.heads_pos(method).into_iter().flatten().enumerate() {
            for (l, heads) in layers.iter().enumerate() {
                for (h, terms) in heads.iter().enumerate() {
                    for (pos, s) in terms.iter().enumerate() {
                        let _ = writeln!(out, "{p},{l},{h},head,{m},{},{pos}", num(f64::from(*s)));
                    }
                }
            }
        }
    }
}

/// [`write_scores`] into a string.
pub fn scores_csv(r: &Results) -> String {
    let mut out = String::new();
    write_scores(r, &mut out);
    out
}

/// `faithfulness.csv`: kind,curve,prompt,k,value — each method's curve (`curve` = its key) and
/// the random rankings' mean, 5% and 95% (`random_mean`, `random_p05`, `random_p95`), per
/// prompt; kind `edges` for the edge methods' curves (first); empty when the comparison
/// computed none.
pub fn write_faithfulness(r: &Results, out: &mut impl Write) {
    let _ = out.write_str("kind,curve,prompt,k,value\n");
    let mut rows = |kind: &str, curve: &str, ks: &[usize], values: &[Vec<f32>]| {
        for (p, row) in values.iter().enumerate() {
            for (k, v) in ks.iter().zip(row) {
                let _ = writeln!(out, "{kind},{curve},{p},{k},{}", num(f64::from(*v)));
            }
        }
    };
    if let Some(f) = r.edges.as_ref().and_then(|e| e.faithfulness.as_ref()) {
        for (m, curves) in &f.methods {
            rows("edges", m.key(), &f.k, curves);
        }
        rows("edges", "random_mean", &f.random_k, &f.random.mean);
        rows("edges", "random_p05", &f.random_k, &f.random.p05);
        rows("edges", "random_p95", &f.random_k, &f.random.p95);
    }
    let Some(f) = &r.faithfulness else {
        return;
    };
    for kind in gradpatch_terms::ComponentKind::ALL {
        let label = kind.label();
        for (m, curves) in &f.methods {
            rows(label, m.key(), f.k.of(kind), curves.of(kind));
        }
        let band = f.random.of(kind);
        let rk = f.random.k.of(kind);
        rows(label, "random_mean", rk, &band.mean);
        rows(label, "random_p05", rk, &band.p05);
        rows(label, "random_p95", rk, &band.p95);
    }
}

/// [`write_faithfulness`] into a string.
pub fn faithfulness_csv(r: &Results) -> String {
    let mut out = String::new();
    write_faithfulness(r, &mut out);
    out
}

/// `edges.csv`: edge,name,method,prompt,score — every edge's mean score over the prompts per
/// edge method (empty prompt); then per prompt its top edges by each method and the exactly
/// patched edges (method `exact`) with their scores; empty when no edge method ran.
pub fn write_edges(r: &Results, out: &mut impl Write) {
    let _ = out.write_str(
        "edge,name,method,prompt,score
",
    );
    let Some(e) = &r.edges else {
        return;
    };
    let graph = e.graph();
    let name = |i: usize| graph.edges.get(i).map(|&edge| graph.name(edge));
    for (m, s) in &e.scores {
        for (i, v) in s.mean.iter().enumerate() {
            let n = name(i).unwrap_or_default();
            let _ = writeln!(out, "{i},{n},{},,{}", m.key(), num(f64::from(*v)));
        }
    }
    let mut lists: Vec<(&str, &[crate::edges::EdgeList])> = e
        .scores
        .iter()
        .map(|(m, s)| (m.key(), &s.top[..]))
        .collect();
    if let Some(x) = &e.exact {
        lists.push(("exact", &x.prompts));
    }
    for (method, prompts) in lists {
        for (p, list) in prompts.iter().enumerate() {
            for (&i, v) in list.edges.iter().zip(&list.scores) {
                let n = name(i as usize).unwrap_or_default();
                let _ = writeln!(out, "{i},{n},{method},{p},{}", num(f64::from(*v)));
            }
        }
    }
}

/// [`write_edges`] into a string.
pub fn edges_csv(r: &Results) -> String {
    let mut out = String::new();
    write_edges(r, &mut out);
    out
}

/// `prompts.csv`: one row per prompt pair with its logit differences.
pub fn write_prompts(r: &Results, out: &mut impl Write) {
    let _ = out.write_str(
        "prompt,clean,corrupted,correct,incorrect,clean_logit_diff,corrupted_logit_diff\n",
    );
    for (i, p) in r.prompts.iter().enumerate() {
        let _ = writeln!(
            out,
            "{i},{},{},{},{},{},{}",
            quote(&p.pair.clean),
            quote(&p.pair.corrupted),
            quote(&p.pair.correct),
            quote(&p.pair.incorrect),
            num(f64::from(r.clean_logit_diff[i])),
            num(f64::from(r.corrupted_logit_diff[i]))
        );
    }
}

/// [`write_prompts`] into a string.
pub fn prompts_csv(r: &Results) -> String {
    let mut out = String::new();
    write_prompts(r, &mut out);
    out
}

/// `stats.csv`: kind,statistic,prompt,value,pair for the scalar statistics of each pair of
/// methods (`ig-ap`, …), and per-prompt ones with a prompt column.
pub fn write_stats(r: &Results, out: &mut impl Write) {
    let _ = out.write_str("kind,statistic,prompt,value,pair\n");
    let pairs: Vec<(MethodPair, &Stats)> = match &r.stats_pairs {
        Some(pairs) => pairs.iter().collect(),
        // A file from before AtP: its IG–AP statistics.
        None => r
            .stats
            .iter()
            .map(|s| (MethodPair::first_of_all(), s))
            .collect(),
    };
    for (pair, stats) in pairs {
        let pair = pair.key();
        for (kind, c) in [("head", &stats.heads), ("neuron", &stats.neurons)] {
            for (name, v) in [
                ("pearson_mean", c.pearson_mean),
                ("pearson_std", c.pearson_std),
                ("threshold_ig", c.threshold_ig),
                ("threshold_ap", c.threshold_ap),
                ("jaccard_mean", c.jaccard_mean),
                ("mean_difference", c.mean_difference),
                ("sd_difference", c.sd_difference),
                ("upper_loa", c.upper_loa),
                ("lower_loa", c.lower_loa),
            ] {
                let _ = writeln!(out, "{kind},{name},,{},{pair}", num(v));
            }
            for (p, v) in c.pearson_per_prompt.iter().enumerate() {
                let _ = writeln!(out, "{kind},pearson,{p},{},{pair}", num(*v));
            }
            for (p, v) in c.jaccard_per_prompt.iter().enumerate() {
                let _ = writeln!(out, "{kind},jaccard,{p},{},{pair}", num(*v));
            }
        }
    }
}

/// [`write_stats`] into a string.
pub fn stats_csv(r: &Results) -> String {
    let mut out = String::new();
    write_stats(r, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use gradpatch_terms::Method;

    use super::{quote, scores_csv};
    use crate::{MethodScores, Results};

    /// AtP rows, and the per-position head rows with their position.
    #[test]
    fn scores_csv_has_atp_rows_and_positions() {
        let results = Results {
            config: serde_json::from_value(serde_json::json!({
                "model": "m", "processing": {"fold_ln": true, "center_writing_weights": true,
                "center_unembed": true, "fold_value_biases": true}, "run_ig": false,
                "run_ap": false, "run_atp": true, "ig_steps": 1, "ig_method": "gausslegendre",
                "ig_baseline": "zero", "ap_direction": "noising", "percentile": 0.9,
                "positions": true, "prompts_source": null, "backend": "ndarray"
            }))
            .unwrap_or_else(|e| panic!("config: {e}")),
            prompts: vec![],
            clean_logit_diff: vec![1.0],
            corrupted_logit_diff: vec![0.0],
            scores: [(
                Method::Atp,
                MethodScores {
                    heads: vec![vec![vec![0.5, f32::NAN]]],
                    neurons: vec![vec![vec![0.25]]],
                    heads_pos: Some(vec![vec![vec![vec![0.0, 0.5], vec![0.0, 1.0]]]]),
                    ..MethodScores::default()
                },
            )]
            .into(),
            stats: None,
            stats_pairs: None,
            faithfulness: None,
            edges: None,
            complete: true,
            seconds: Default::default(),
        };
        assert_eq!(
            scores_csv(&results),
            "prompt,layer,component,kind,method,score,position\n\
             0,0,0,head,atp,0.5,\n\
             0,0,1,head,atp,,\n\
             0,0,0,neuron,atp,0.25,\n\
             0,0,0,head,atp,0,0\n\
             0,0,0,head,atp,0.5,1\n\
             0,0,1,head,atp,0,0\n\
             0,0,1,head,atp,1,1\n"
        );
    }

    /// A prompt from a shared link cannot become a spreadsheet formula.
    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(
            quote("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        for s in ["+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(quote(s), format!("\"'{s}\""));
        }
        assert_eq!(quote("When Mary and John"), "\"When Mary and John\"");
        assert_eq!(quote(" Mary"), "\" Mary\"");
    }
}
