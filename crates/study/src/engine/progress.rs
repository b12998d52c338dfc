//! Where a running study is: the observer's reports, and each stage's share of the whole.

use gradpatch_methods::{Pause, Progress};
use gradpatch_terms::Stage;

use crate::{Results, StudyConfig};

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

/// The passes of a study: the stages of a pass run one prompt at a time, each prompt's stages
/// one after the other.
pub(super) const PASSES: [&[Stage]; 3] = [
    &[Stage::Runs, Stage::Atp],
    &[Stage::Ig],
    &[Stage::Ap, Stage::ApPositions],
];

/// Each stage's share of the whole study: seconds per prompt on GPT-2 small natively
/// (BENCHMARKS.md: AtP 0.5 s, IG 43 s at 50 steps, the AP sweep 190 s, AP per head and position
/// 7 s), normalised over the stages the configuration runs.
pub(super) fn shares(config: &StudyConfig) -> Vec<(Stage, f64)> {
    let m = config.methods;
    let costs = [
        (Stage::Runs, 0.3, true),
        (Stage::Atp, 0.5, m.atp),
        (Stage::Ig, 43.0 * config.ig_steps as f64 / 50.0, m.ig),
        (Stage::Ap, 190.0, m.ap),
        (Stage::ApPositions, 7.0, m.ap && config.positions),
    ];
    let total: f64 = costs.iter().filter(|c| c.2).map(|c| c.1).sum();
    costs
        .iter()
        .filter(|c| c.2)
        .map(|&(stage, cost, _)| (stage, cost / total))
        .collect()
}

/// Where `stage` of prompt `i` of `n` lies in the study: `(stage, offset, width)`.
pub(super) fn piece(
    shares: &[(Stage, f64)],
    stage: Stage,
    i: usize,
    n: usize,
) -> (Stage, f64, f64) {
    let share = |s: Stage| shares.iter().find(|x| x.0 == s).map_or(0.0, |x| x.1);
    let mut before = 0.0;
    for pass in PASSES {
        let total: f64 = pass.iter().map(|&s| share(s)).sum();
        if let Some(k) = pass.iter().position(|&s| s == stage) {
            let earlier: f64 = pass[..k].iter().map(|&s| share(s)).sum();
            let n = n.max(1) as f64;
            return (
                stage,
                before + (total * i as f64 + earlier) / n,
                share(stage) / n,
            );
        }
        before += total;
    }
    (stage, before, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pieces_of_a_study_tile_zero_to_one_in_running_order() {
        let shares = [
            (Stage::Runs, 0.1),
            (Stage::Atp, 0.1),
            (Stage::Ig, 0.2),
            (Stage::Ap, 0.5),
            (Stage::ApPositions, 0.1),
        ];
        let n = 3;
        let mut at = 0.0;
        for pass in PASSES {
            for i in 0..n {
                for &stage in pass {
                    let (_, offset, width) = piece(&shares, stage, i, n);
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
    }
}
