//! Opening a `results.json` that was written elsewhere (the CLI's, the page's export, a merged
//! sharded run): read with a message naming the field that is wrong, checked for consistent
//! shapes, and its statistics recomputed at another highlight quantile.

use std::fmt;

use gradpatch_terms::Method;

use crate::budget::{self, Budget, OverBudget};
use crate::{HeadsPos, MethodScores, Results, pair_statistics, statistics};

/// Why a results.json cannot be shown.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResultsError {
    /// Not JSON, or not the schema: the field (`None`: the document itself) and what is wrong.
    Schema { at: Option<String>, message: String },
    /// The arrays do not agree with each other.
    Shapes(String),
    /// It would build more than the reader's [`Budget`] allows.
    TooLarge(OverBudget),
}

impl fmt::Display for ResultsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultsError::Schema { at: None, message } => {
                write!(f, "not a results.json: {message}")
            }
            ResultsError::Schema {
                at: Some(at),
                message,
            } => write!(f, "`{at}`: {message}"),
            ResultsError::Shapes(message) => f.write_str(message),
            ResultsError::TooLarge(over) => over.fmt(f),
        }
    }
}

impl std::error::Error for ResultsError {}

/// The largest results.json the page opens (GPT-2 small: ~1.1 MB per prompt and method).
pub const MAX_RESULTS_BYTES: u64 = 512 << 20;

/// `[P][L][C]` scores: every prompt's grid has the first one's shape.
fn check_grids(what: &str, grids: &[Vec<Vec<f32>>]) -> Result<(usize, usize), ResultsError> {
    let first = grids
        .first()
        .map_or((0, 0), |g| (g.len(), g.first().map_or(0, Vec::len)));
    for (p, grid) in grids.iter().enumerate() {
        for (l, row) in grid.iter().enumerate() {
            if (grid.len(), row.len()) != first {
                return Err(ResultsError::Shapes(format!(
                    "`{what}[{p}][{l}]`: prompt {p} has {} layers of {} values, prompt 0 has {} of {}",
                    grid.len(),
                    row.len(),
                    first.0,
                    first.1
                )));
            }
        }
    }
    Ok(first)
}

impl Results {
    /// Reads a results.json, naming the field that does not fit the schema, and checks it
    /// ([`Results::validate`]).
    pub fn from_json(bytes: &[u8]) -> Result<Results, ResultsError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let results: Results = serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            ResultsError::Schema {
                at: (at != ".").then_some(at),
                message: e.inner().to_string(),
            }
        })?;
        results.validate()?;
        Ok(results)
    }

    /// [`Results::from_json`] for a file that may hold anything: refused before it is parsed
    /// when it would build more than `budget` allows.
    pub fn open(bytes: &[u8], budget: &Budget) -> Result<Results, ResultsError> {
        budget::check(bytes, budget).map_err(ResultsError::TooLarge)?;
        Results::from_json(bytes)
    }

    /// Checks one method's arrays; returns its layer count when it scored any prompt.
    fn check_method(
        &self,
        method: Method,
        s: &MethodScores,
    ) -> Result<Option<usize>, ResultsError> {
        let p = self.prompts.len();
        let (heads, neurons) = (&s.heads, &s.neurons);
        if heads.len() > p || neurons.len() != heads.len() {
            return Err(ResultsError::Shapes(format!(
                "`{method}` has head scores for {} prompts and neuron scores for {}, the file has {p} prompts",
                heads.len(),
                neurons.len()
            )));
        }
        if self.complete && self.config.options.methods.has(method) && heads.len() != p {
            return Err(ResultsError::Shapes(format!(
                "`{method}.heads` covers {} of {p} prompts in a complete run",
                heads.len()
            )));
        }
        let (hl, _) = check_grids(&format!("{method}.heads"), heads)?;
        let (nl, _) = check_grids(&format!("{method}.neurons"), neurons)?;
        for (what, d) in [
            ("convergence_delta_heads", &s.convergence_delta_heads),
            ("convergence_delta_neurons", &s.convergence_delta_neurons),
        ] {
            if let Some(d) = d.as_ref().filter(|d| d.len() != heads.len()) {
                return Err(ResultsError::Shapes(format!(
                    "`{method}.{what}` has {} prompts, `{method}.heads` {}",
                    d.len(),
                    heads.len()
                )));
            }
        }
        if let Some(pos) = &s.heads_pos {
            self.check_positions(method, heads, pos)?;
        }
        if heads.is_empty() {
            return Ok(None);
        }
        if hl != nl {
            return Err(ResultsError::Shapes(format!(
                "`{method}` has {hl} layers of heads and {nl} of neurons"
            )));
        }
        Ok(Some(hl))
    }

    /// Per-position scores: one grid per prompt scored, one value per token of its prompt.
    fn check_positions(
        &self,
        method: Method,
        heads: &[Vec<Vec<f32>>],
        pos: &HeadsPos,
    ) -> Result<(), ResultsError> {
        if pos.len() != heads.len() {
            return Err(ResultsError::Shapes(format!(
                "`{method}.heads_pos` has {} prompts, `{method}.heads` {}",
                pos.len(),
                heads.len()
            )));
        }
        for (i, grid) in pos.iter().enumerate() {
            let tokens = self.prompts[i].clean_token_ids.len();
            let heads_of = |l: usize| heads[i].get(l).map_or(0, Vec::len);
            let bad = grid.len() != heads[i].len()
                || grid
                    .iter()
                    .enumerate()
                    .any(|(l, hs)| hs.len() != heads_of(l) || hs.iter().any(|t| t.len() != tokens));
            if bad {
                return Err(ResultsError::Shapes(format!(
                    "`{method}.heads_pos[{i}]` is not [layers][heads][{tokens} tokens] like prompt {i}'s scores and tokens"
                )));
            }
        }
        Ok(())
    }

    /// Checks that the arrays agree: one logit difference per prompt, each method's scores
    /// for at most every prompt with one shape, IG's convergence deltas beside its scores,
    /// per-position scores with one value per token of their prompt, the quantile in (0, 1).
    pub fn validate(&self) -> Result<(), ResultsError> {
        let p = self.prompts.len();
        for (what, n) in [
            ("clean_logit_diff", self.clean_logit_diff.len()),
            ("corrupted_logit_diff", self.corrupted_logit_diff.len()),
        ] {
            if n != p {
                return Err(ResultsError::Shapes(format!(
                    "`{what}` has {n} values for {p} prompts"
                )));
            }
        }
        for (i, r) in self.prompts.iter().enumerate() {
            let (texts, ids) = (r.clean_tokens.len(), r.clean_token_ids.len());
            if texts != 0 && texts != ids {
                return Err(ResultsError::Shapes(format!(
                    "`prompts[{i}].clean_tokens` has {texts} tokens, `clean_token_ids` {ids}"
                )));
            }
        }
        let q = self.config.options.percentile;
        if !(q > 0.0 && q < 1.0) {
            return Err(ResultsError::Shapes(format!(
                "`config.percentile` is {q}, expected a quantile in (0, 1)"
            )));
        }
        let mut layers = None;
        for (&method, scores) in &self.scores {
            let l = self.check_method(method, scores)?;
            if let (Some(l), Some(other)) = (l, layers)
                && l != other
            {
                return Err(ResultsError::Shapes(format!(
                    "`{method}` has {l} layers, another method has {other}"
                )));
            }
            layers = layers.or(l);
        }
        if let Some(f) = &self.faithfulness {
            self.check_faithfulness(f)?;
        }
        if let Some(e) = &self.edges {
            e.check(p).map_err(ResultsError::Shapes)?;
        }
        Ok(())
    }

    /// Faithfulness curves: one row per prompt at most, each as long as its set sizes.
    fn check_faithfulness(&self, f: &crate::Faithfulness) -> Result<(), ResultsError> {
        use gradpatch_terms::ComponentKind;
        let p = self.prompts.len();
        let check = |what: String, rows: &[Vec<f32>], k: usize| {
            if rows.len() > p {
                return Err(ResultsError::Shapes(format!(
                    "`{what}` has {} prompts, the file has {p}",
                    rows.len()
                )));
            }
            match rows.iter().position(|r| r.len() != k) {
                Some(i) => Err(ResultsError::Shapes(format!(
                    "`{what}[{i}]` has {} values for {k} set sizes",
                    rows[i].len()
                ))),
                None => Ok(()),
            }
        };
        for kind in ComponentKind::ALL {
            let k = kind.label();
            for (m, curves) in &f.methods {
                check(
                    format!("faithfulness.{m}.{k}"),
                    curves.of(kind),
                    f.k.of(kind).len(),
                )?;
            }
            let band = f.random.of(kind);
            let rk = f.random.k.of(kind).len();
            for (name, rows) in [("mean", &band.mean), ("p05", &band.p05), ("p95", &band.p95)] {
                check(format!("faithfulness.random.{k}.{name}"), rows, rk)?;
            }
        }
        Ok(())
    }

    /// The same results with the highlight quantile `percentile`: the statistics computed
    /// again from the scores, as a run at that quantile computes them.
    pub fn at_percentile(&self, percentile: f64) -> Results {
        let mut r = self.clone();
        r.config.options.percentile = percentile;
        r.stats = statistics(&r, percentile);
        r.stats_pairs = pair_statistics(&r, percentile);
        r
    }
}
