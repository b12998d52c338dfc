//! Long-format CSV tables that pandas reads directly.

use std::fmt::Write;

use crate::Results;

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

/// `scores.csv`: prompt,layer,component,kind,method,score (empty score = not computed).
pub fn scores_csv(r: &Results) -> String {
    let mut out = String::from("prompt,layer,component,kind,method,score\n");
    let mut put = |method: &str, kind: &str, scores: &[Vec<Vec<f32>>]| {
        for (p, layers) in scores.iter().enumerate() {
            for (l, comps) in layers.iter().enumerate() {
                for (c, s) in comps.iter().enumerate() {
                    let _ = writeln!(out, "{p},{l},{c},{kind},{method},{}", num(f64::from(*s)));
                }
            }
        }
    };
    if let Some(ig) = &r.ig {
        put("ig", "head", &ig.heads);
        put("ig", "neuron", &ig.neurons);
    }
    if let Some(ap) = &r.ap {
        put("ap", "head", &ap.heads);
        put("ap", "neuron", &ap.neurons);
    }
    out
}

/// `prompts.csv`: one row per prompt pair with its logit differences.
pub fn prompts_csv(r: &Results) -> String {
    let mut out = String::from(
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
    out
}

/// `stats.csv`: kind,statistic,value for the scalar statistics, and per-prompt ones with a
/// prompt column.
pub fn stats_csv(r: &Results) -> String {
    let mut out = String::from("kind,statistic,prompt,value\n");
    if let Some(stats) = &r.stats {
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
                let _ = writeln!(out, "{kind},{name},,{}", num(v));
            }
            for (p, v) in c.pearson_per_prompt.iter().enumerate() {
                let _ = writeln!(out, "{kind},pearson,{p},{}", num(*v));
            }
            for (p, v) in c.jaccard_per_prompt.iter().enumerate() {
                let _ = writeln!(out, "{kind},jaccard,{p},{}", num(*v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    /// Issue 11, item 16.
    #[test]
    fn item_16_formula_cells_are_neutralised() {
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
