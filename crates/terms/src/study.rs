//! What a comparison computes: its options (the one declaration the permalink, the worker's
//! request, the CLI's arguments and `results.json` convert to and from), its prompts, its
//! stages and how long they take.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    Baseline, Corruption, Direction, Method, MethodOutput, MethodSet, PromptPair, Quadrature,
};

/// A comparison's options, apart from the model and the prompts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyOptions {
    pub methods: MethodSet,
    pub ig_steps: usize,
    pub ig_method: Quadrature,
    pub ig_baseline: Baseline,
    /// AP's direction, which AtP follows.
    pub ap_direction: Direction,
    /// Highlight threshold as a quantile of |score|, in (0, 1).
    pub percentile: f64,
    /// Also compute each method's head scores per position (the Positions tab).
    pub positions: bool,
    /// Also compute the faithfulness curve of each method's ranking (the Faithfulness tab), in
    /// this order of the scores; `None`: not computed.
    pub faithfulness: Option<Ranking>,
    /// EAP-IG's steps (the inputs variant's m).
    pub eapig_steps: usize,
    /// How many edges per prompt exact edge patching scores (the top ones by |EAP-IG|, or by
    /// |EAP| when EAP-IG does not run); 0: none.
    pub exact_edges: usize,
}

impl Default for StudyOptions {
    /// The page's defaults: the methods on by default, the reference study's IG (50 Gauss–Legendre steps
    /// from a zero baseline), noising AP, the top 10% highlighted, scores per position.
    fn default() -> Self {
        Self {
            methods: MethodSet::default_on(),
            ig_steps: 50,
            ig_method: Quadrature::GaussLegendre,
            ig_baseline: Baseline::Zero,
            ap_direction: Direction::Noising,
            percentile: 0.9,
            positions: true,
            faithfulness: None,
            eapig_steps: 5,
            exact_edges: 200,
        }
    }
}

keyed_enum! {
    /// How a faithfulness curve ranks the components it keeps first.
    pub enum Ranking ("ranking") {
        /// By |score|, largest first.
        Abs = "abs",
        /// By score, most positive first (negative components last: they work against the
        /// task in IOI, e.g. the negative name movers).
        Signed = "signed",
    }
}

/// The seeded random rankings a faithfulness curve is compared with.
pub const RANDOM_RANKINGS: usize = 20;

/// The seeded random rankings of edges an edge faithfulness curve is compared with (fewer than
/// of nodes: each costs a curve over 32k edges on GPT-2 small).
pub const EDGE_RANDOM_RANKINGS: usize = 5;

/// An option out of its range.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionError {
    IgSteps(usize),
    EapIgSteps(usize),
    ExactEdges(usize),
    TooFewSteps(crate::TooFewSteps),
    Percentile(f64),
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::IgSteps(n) => write!(
                f,
                "{n} IG steps is out of range: expected 1 to {}",
                StudyOptions::MAX_IG_STEPS
            ),
            OptionError::EapIgSteps(n) => write!(
                f,
                "{n} EAP-IG steps is out of range: expected 1 to {}",
                StudyOptions::MAX_EAPIG_STEPS
            ),
            OptionError::ExactEdges(n) => write!(
                f,
                "{n} exactly patched edges is out of range: expected 0 to {}",
                StudyOptions::MAX_EXACT_EDGES
            ),
            OptionError::TooFewSteps(e) => e.fmt(f),
            OptionError::Percentile(q) => {
                write!(f, "the highlight quantile {q} must be in (0, 1), e.g. 0.9")
            }
        }
    }
}

impl std::error::Error for OptionError {}

/// A part of a comparison, as progress reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// The clean and corrupted runs of a prompt.
    Runs,
    /// A method's scores of a prompt.
    Scores(Method),
    /// A method's head scores at each position, where they take a pass of their own.
    Positions(Method),
    /// Exact patching of a prompt's top edges.
    ExactEdges,
    /// The faithfulness curve of an edge method's ranking of a prompt's edges (and, with the
    /// last edge method, those of the random rankings), computed in the method's pass: a
    /// ranking of every edge is not kept after it.
    EdgeFaithfulness(Method),
    /// The faithfulness curves of a prompt (every method's ranking and the random ones).
    Faithfulness,
}

impl Stage {
    /// How the page and the CLI name the stage in their progress lines.
    pub fn label(self) -> String {
        match self {
            Stage::Runs => "runs".into(),
            Stage::Scores(m) => m.label().into(),
            Stage::Positions(m) => format!("{} per position", m.label()),
            Stage::ExactEdges => "exact edge patching".into(),
            Stage::EdgeFaithfulness(m) => format!("{} faithfulness", m.label()),
            Stage::Faithfulness => "faithfulness".into(),
        }
    }
}

impl StudyOptions {
    /// Most IG steps a comparison takes (the page and the CLI).
    pub const MAX_IG_STEPS: usize = 1000;
    /// Most EAP-IG steps (its rows run as one batch).
    pub const MAX_EAPIG_STEPS: usize = 100;
    /// Most edges exact patching scores per prompt.
    pub const MAX_EXACT_EDGES: usize = 5000;

    /// Checks the ranges: IG steps for the chosen rule, EAP-IG's steps, the exact edges, the
    /// quantile.
    pub fn validate(&self) -> Result<(), OptionError> {
        if !(1..=Self::MAX_IG_STEPS).contains(&self.ig_steps) {
            return Err(OptionError::IgSteps(self.ig_steps));
        }
        if !(1..=Self::MAX_EAPIG_STEPS).contains(&self.eapig_steps) {
            return Err(OptionError::EapIgSteps(self.eapig_steps));
        }
        if self.exact_edges > Self::MAX_EXACT_EDGES {
            return Err(OptionError::ExactEdges(self.exact_edges));
        }
        if self.methods.has(Method::Ig) {
            self.ig_method
                .nodes(self.ig_steps)
                .map_err(OptionError::TooFewSteps)?;
        }
        if !(self.percentile > 0.0 && self.percentile < 1.0) {
            return Err(OptionError::Percentile(self.percentile));
        }
        Ok(())
    }

    /// The stages each prompt goes through, in running order.
    pub fn stages(&self) -> Vec<Stage> {
        let mut stages = vec![Stage::Runs];
        for m in self.methods.iter() {
            stages.push(Stage::Scores(m));
            if self.positions && !m.positions_with_scores() {
                stages.push(Stage::Positions(m));
            }
            if Some(m) == self.exact_ranked_by() {
                stages.push(Stage::ExactEdges);
            }
            if m.output() == MethodOutput::Edges && self.faithfulness.is_some() {
                stages.push(Stage::EdgeFaithfulness(m));
            }
        }
        if self.faithfulness.is_some() && !self.methods.of(MethodOutput::Nodes).is_empty() {
            stages.push(Stage::Faithfulness);
        }
        stages
    }

    /// The edge method whose ranking picks the edges exact patching scores (EAP-IG, else EAP),
    /// when some edge method runs and `exact_edges` > 0.
    pub fn exact_ranked_by(&self) -> Option<Method> {
        if self.exact_edges == 0 {
            return None;
        }
        [Method::EapIg, Method::Eap]
            .into_iter()
            .find(|&m| self.methods.has(m))
    }

    /// Seconds one prompt's `stage` takes on GPT-2 small, natively on 2 cores, for an 18-token
    /// prompt (BENCHMARKS.md, "Attribution sweeps"): the clean and corrupted runs 0.3 s, each
    /// method's as [`Method::gpt2_seconds`] says. The browser's CPU path is slower, a GPU
    /// usually much faster.
    pub fn gpt2_seconds(&self, stage: Stage) -> f64 {
        match stage {
            Stage::Runs => 0.3,
            Stage::Scores(method) => method.gpt2_seconds(self),
            Stage::Positions(method) => method.gpt2_positions_seconds(),
            // 200 edges in 11.0 s (BENCHMARKS.md, "Edges").
            Stage::ExactEdges => 11.0 * self.exact_edges as f64 / 200.0,
            // One curve of heads (3.8 s) and one of neurons (1.9 s) per method's ranking
            // (BENCHMARKS.md, "Faithfulness curves"); each random ranking 2.4 s (its head curve
            // on the neurons' coarser grid).
            Stage::Faithfulness => {
                let rankings = self.methods.of(MethodOutput::Nodes).iter().count() as f64;
                5.7 * rankings + 2.4 * RANDOM_RANKINGS as f64
            }
            // An edge curve 5.9 s ("Edges"); the random ones with the last edge method.
            Stage::EdgeFaithfulness(m) => {
                let last = self.methods.of(MethodOutput::Edges).iter().last() == Some(m);
                5.9 * (1.0
                    + if last {
                        EDGE_RANDOM_RANKINGS as f64
                    } else {
                        0.0
                    })
            }
        }
    }

    /// Rough seconds `n_prompts` prompts take on GPT-2 small (see [`Self::gpt2_seconds`]): the
    /// estimate the page shows before a download and before a run. Zero when no method runs.
    pub fn gpt2_cpu_seconds(&self, n_prompts: usize) -> f64 {
        self.scaled_cpu_seconds(n_prompts, |_| 1.0)
    }

    /// [`Self::gpt2_cpu_seconds`] on another model: each stage's GPT-2-small time times
    /// `scale(stage)`.
    pub fn scaled_cpu_seconds(&self, n_prompts: usize, scale: impl Fn(Stage) -> f64) -> f64 {
        if self.methods.is_empty() {
            return 0.0;
        }
        let per_prompt: f64 = self
            .stages()
            .iter()
            .map(|&s| self.gpt2_seconds(s) * scale(s))
            .sum();
        n_prompts as f64 * per_prompt
    }
}

/// The prompt pairs a comparison runs on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompts {
    /// Generated IOI pairs (`gradpatch_dataset::generate_ioi`).
    Ioi {
        n: usize,
        seed: u64,
        corrupt: Corruption,
    },
    /// Pairs written by the user (checked against the tokenizer before the run).
    Custom(Vec<PromptPair>),
}

impl Prompts {
    /// How many pairs.
    pub fn len(&self) -> usize {
        match self {
            Prompts::Ioi { n, .. } => *n,
            Prompts::Custom(pairs) => pairs.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Prompts {
    /// The page's default: 8 IOI pairs, seed 0, S2 replaced by the indirect object.
    fn default() -> Self {
        Prompts::Ioi {
            n: 8,
            seed: 0,
            corrupt: Corruption::Aba,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_sums_the_stages_each_prompt_goes_through() {
        let all = StudyOptions::default();
        assert_eq!(
            all.stages(),
            [
                Stage::Runs,
                Stage::Scores(Method::Atp),
                Stage::Scores(Method::Ig),
                Stage::Scores(Method::Ap),
                Stage::Positions(Method::Ap)
            ]
        );
        let per_prompt = 0.3 + 0.5 + 43.2 + 195.0 + 7.0;
        assert!((all.gpt2_cpu_seconds(8) - 8.0 * per_prompt).abs() < 1e-9);
        let ig_only = StudyOptions {
            methods: MethodSet::NONE.with(Method::Ig, true),
            ig_steps: 100,
            ..all.clone()
        };
        assert!((ig_only.gpt2_cpu_seconds(1) - (0.3 + 86.4)).abs() < 1e-9);
        let none = StudyOptions {
            methods: MethodSet::NONE,
            ..all
        };
        assert_eq!(none.gpt2_cpu_seconds(8), 0.0);
    }

    #[test]
    fn out_of_range_options_say_what_was_expected() {
        let bad = |o: StudyOptions| o.validate().err().map(|e| e.to_string());
        let ok = StudyOptions::default();
        assert_eq!(bad(ok.clone()), None);
        assert_eq!(
            bad(StudyOptions {
                ig_steps: 0,
                ..ok.clone()
            })
            .as_deref(),
            Some("0 IG steps is out of range: expected 1 to 1000")
        );
        assert_eq!(
            bad(StudyOptions {
                ig_steps: 1,
                ig_method: Quadrature::RiemannTrapezoid,
                ..ok.clone()
            })
            .as_deref(),
            Some("riemann_trapezoid needs at least 2 steps, got 1")
        );
        assert_eq!(
            bad(StudyOptions {
                percentile: 1.0,
                ..ok
            })
            .as_deref(),
            Some("the highlight quantile 1 must be in (0, 1), e.g. 0.9")
        );
    }
}
