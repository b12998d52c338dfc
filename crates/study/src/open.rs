//! Opening a `results.json` that was written elsewhere (the CLI's, the page's export, a merged
//! sharded run): read with a message naming the field that is wrong, checked for consistent
//! shapes, and its statistics recomputed at another highlight quantile.

use gradpatch_terms::Method;

use crate::{Results, pair_statistics, statistics};

/// The largest results.json the page opens (GPT-2 small: ~1.1 MB per prompt and method).
pub const MAX_RESULTS_BYTES: u64 = 512 << 20;

/// `[P][L][C]` scores: every prompt's grid has the first one's shape.
fn check_grids(what: &str, grids: &[Vec<Vec<f32>>]) -> Result<(usize, usize), String> {
    let first = grids
        .first()
        .map_or((0, 0), |g| (g.len(), g.first().map_or(0, Vec::len)));
    for (p, grid) in grids.iter().enumerate() {
        for (l, row) in grid.iter().enumerate() {
            if (grid.len(), row.len()) != first {
                return Err(format!(
                    "`{what}[{p}][{l}]`: prompt {p} has {} layers of {} values, prompt 0 has {} of {}",
                    grid.len(),
                    row.len(),
                    first.0,
                    first.1
                ));
            }
        }
    }
    Ok(first)
}

impl Results {
    /// Reads a results.json, naming the field that does not fit the schema, and checks it
    /// ([`Results::validate`]).
    pub fn from_json(bytes: &[u8]) -> Result<Results, String> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let results: Results = serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            if at == "." {
                format!("not a results.json: {}", e.inner())
            } else {
                format!("`{at}`: {}", e.inner())
            }
        })?;
        results.validate()?;
        Ok(results)
    }

    /// Checks that the arrays agree: one logit difference per prompt, each method's scores
    /// for at most every prompt with one shape, IG's convergence deltas beside its scores,
    /// per-position scores with one value per token of their prompt, the quantile in (0, 1).
    pub fn validate(&self) -> Result<(), String> {
        let p = self.prompts.len();
        for (what, n) in [
            ("clean_logit_diff", self.clean_logit_diff.len()),
            ("corrupted_logit_diff", self.corrupted_logit_diff.len()),
        ] {
            if n != p {
                return Err(format!("`{what}` has {n} values for {p} prompts"));
            }
        }
        for (i, r) in self.prompts.iter().enumerate() {
            let (texts, ids) = (r.clean_tokens.len(), r.clean_token_ids.len());
            if texts != 0 && texts != ids {
                return Err(format!(
                    "`prompts[{i}].clean_tokens` has {texts} tokens, `clean_token_ids` {ids}"
                ));
            }
        }
        let q = self.config.percentile;
        if !(q > 0.0 && q < 1.0) {
            return Err(format!(
                "`config.percentile` is {q}, expected a quantile in (0, 1)"
            ));
        }
        let mut layers = None;
        for method in Method::ALL.iter().copied() {
            let Some((heads, neurons)) = self.scores(method) else {
                continue;
            };
            let m = method.key();
            if heads.len() > p || neurons.len() != heads.len() {
                return Err(format!(
                    "`{m}` has head scores for {} prompts and neuron scores for {}, the file has {p} prompts",
                    heads.len(),
                    neurons.len()
                ));
            }
            if self.complete && self.config.methods.has(method) && heads.len() != p {
                return Err(format!(
                    "`{m}.heads` covers {} of {p} prompts in a complete run",
                    heads.len()
                ));
            }
            let (hl, _) = check_grids(&format!("{m}.heads"), heads)?;
            let (nl, _) = check_grids(&format!("{m}.neurons"), neurons)?;
            if !heads.is_empty() {
                if hl != nl || layers.is_some_and(|l| l != hl) {
                    return Err(format!(
                        "`{m}` has {hl} layers of heads and {nl} of neurons{}",
                        layers.map_or(String::new(), |l| format!(", another method has {l}"))
                    ));
                }
                layers = Some(hl);
            }
            if let Some(pos) = self.heads_pos(method) {
                if pos.len() != heads.len() {
                    return Err(format!(
                        "`{m}.heads_pos` has {} prompts, `{m}.heads` {}",
                        pos.len(),
                        heads.len()
                    ));
                }
                for (i, grid) in pos.iter().enumerate() {
                    let tokens = self.prompts[i].clean_token_ids.len();
                    let heads_of = |l: usize| heads[i].get(l).map_or(0, Vec::len);
                    let bad = grid.len() != heads[i].len()
                        || grid.iter().enumerate().any(|(l, hs)| {
                            hs.len() != heads_of(l) || hs.iter().any(|t| t.len() != tokens)
                        });
                    if bad {
                        return Err(format!(
                            "`{m}.heads_pos[{i}]` is not [layers][heads][{tokens} tokens] like prompt {i}'s scores and tokens"
                        ));
                    }
                }
            }
        }
        if let Some(ig) = &self.ig {
            let n = ig.heads.len();
            for (what, d) in [
                ("ig.convergence_delta_heads", &ig.convergence_delta_heads),
                (
                    "ig.convergence_delta_neurons",
                    &ig.convergence_delta_neurons,
                ),
            ] {
                if d.len() != n {
                    return Err(format!("`{what}` has {} prompts, `ig.heads` {n}", d.len()));
                }
            }
        }
        Ok(())
    }

    /// The same results with the highlight quantile `percentile`: the statistics computed
    /// again from the scores, as a run at that quantile computes them.
    pub fn at_percentile(&self, percentile: f64) -> Results {
        let mut r = self.clone();
        r.config.percentile = percentile;
        r.stats = statistics(&r, percentile);
        r.stats_pairs = pair_statistics(&r, percentile);
        r
    }
}
