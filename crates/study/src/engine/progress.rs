//! Where a running study is: the observer's reports, and each stage's share of the whole.

use gradpatch_methods::{Pause, Progress};
use gradpatch_terms::{Stage, StudyOptions};

use crate::Results;

/// Where a running study is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudyProgress {
    pub prompt: usize,
    pub n_prompts: usize,
    pub stage: Stage,
    /// Fraction of the whole study done, 0..=1.
    pub fraction: f64,
}

/// Told where a running study is; answers whether to go on. [`StudyObserver::pause`] is awaited
/// after each report, so a browser worker can let its event loop run there (and see a cancel).
pub trait StudyObserver {
    fn report(&mut self, progress: StudyProgress) -> bool;

    fn pause(&mut self) -> Pause<'_> {
        Box::pin(std::future::ready(()))
    }

    /// Called when a method has finished every prompt while others still run, with the results
    /// so far (statistics included); the page shows them meanwhile.
    fn method_done(&mut self, _results: &Results) {}
}

impl<F: FnMut(StudyProgress) -> bool> StudyObserver for F {
    fn report(&mut self, progress: StudyProgress) -> bool {
        self(progress)
    }
}

/// A stage's progress on one prompt, seen as a share of the whole study: it covers `width` of
/// the study from `offset` on.
pub(super) struct StageProgress<'a> {
    observer: &'a mut dyn StudyObserver,
    prompt: usize,
    n_prompts: usize,
    stage: Stage,
    offset: f64,
    width: f64,
}

impl<'a> StageProgress<'a> {
    pub(super) fn new(
        observer: &'a mut dyn StudyObserver,
        (prompt, n_prompts): (usize, usize),
        (stage, offset, width): (Stage, f64, f64),
    ) -> Self {
        Self {
            observer,
            prompt,
            n_prompts,
            stage,
            offset,
            width,
        }
    }

    fn fraction(&self, done: u64, total: u64) -> f64 {
        let within = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        self.offset + self.width * within
    }
}

impl Progress for StageProgress<'_> {
    fn update(&mut self, done: u64, total: u64) -> bool {
        let fraction = self.fraction(done, total).min(1.0);
        self.observer.report(StudyProgress {
            prompt: self.prompt,
            n_prompts: self.n_prompts,
            stage: self.stage,
            fraction,
        })
    }

    fn pause(&mut self) -> Pause<'_> {
        self.observer.pause()
    }
}

/// Where each stage of each prompt lies in the whole study. The stages of a pass run one
/// prompt at a time, each prompt's stages one after the other: the first pass is the runs with
/// the first method, each further method a pass of its own. A stage's share of the study is its
/// estimated time ([`StudyOptions::gpt2_seconds`]).
pub(super) struct Plan {
    passes: Vec<Vec<(Stage, f64)>>,
}

impl Plan {
    pub(super) fn new(options: &StudyOptions) -> Plan {
        let stages = options.stages();
        let total: f64 = stages.iter().map(|&s| options.gpt2_seconds(s)).sum();
        let mut passes: Vec<Vec<(Stage, f64)>> = Vec::new();
        for stage in stages {
            let share = options.gpt2_seconds(stage) / total.max(f64::MIN_POSITIVE);
            let first_scores = passes
                .last()
                .is_some_and(|p| !p.iter().any(|(s, _)| matches!(s, Stage::Scores(_))));
            match (stage, passes.last_mut()) {
                (Stage::Scores(_), Some(pass)) if first_scores => pass.push((stage, share)),
                (Stage::Scores(_) | Stage::Faithfulness, _) | (_, None) => {
                    passes.push(vec![(stage, share)]);
                }
                (_, Some(pass)) => pass.push((stage, share)),
            }
        }
        Plan { passes }
    }

    /// Where `stage` of prompt `i` of `n` lies in the study: `(stage, offset, width)`.
    pub(super) fn piece(&self, stage: Stage, i: usize, n: usize) -> (Stage, f64, f64) {
        let mut before = 0.0;
        for pass in &self.passes {
            let total: f64 = pass.iter().map(|s| s.1).sum();
            if let Some(k) = pass.iter().position(|s| s.0 == stage) {
                let earlier: f64 = pass[..k].iter().map(|s| s.1).sum();
                let n = n.max(1) as f64;
                return (
                    stage,
                    before + (total * i as f64 + earlier) / n,
                    pass[k].1 / n,
                );
            }
            before += total;
        }
        (stage, before, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use gradpatch_terms::{Method, MethodSet};

    use super::*;

    #[test]
    fn the_pieces_of_a_study_tile_zero_to_one_in_running_order() {
        let options = StudyOptions::default();
        let plan = Plan::new(&options);
        let passes: Vec<Vec<Stage>> = plan
            .passes
            .iter()
            .map(|p| p.iter().map(|s| s.0).collect())
            .collect();
        assert_eq!(
            passes,
            [
                vec![Stage::Runs, Stage::Scores(Method::Atp)],
                vec![Stage::Scores(Method::Ig)],
                vec![Stage::Scores(Method::Ap), Stage::Positions(Method::Ap)],
            ]
        );
        let n = 3;
        let mut at = 0.0;
        for pass in &passes {
            for i in 0..n {
                for &stage in pass {
                    let (_, offset, width) = plan.piece(stage, i, n);
                    assert!(
                        (offset - at).abs() < 1e-12,
                        "{stage:?} of prompt {i} starts at {at}"
                    );
                    at = offset + width;
                }
            }
        }
        assert!(
            (at - 1.0).abs() < 1e-12,
            "the last piece ends at 1, not {at}"
        );
        // Without AtP, the runs go with IG.
        let ig_ap = StudyOptions {
            methods: MethodSet::default_on().with(Method::Atp, false),
            positions: false,
            ..options
        };
        let first = Plan::new(&ig_ap).passes[0]
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>();
        assert_eq!(first, [Stage::Runs, Stage::Scores(Method::Ig)]);
    }
}
