//! Attribution patching of every head and neuron of model-a equals `atp_goldens.json`
//! (TransformerLens 2.15, processed weights), both directions, summed and per position; the
//! per-position terms sum to the scores and are exactly 0 before the first differing token.
//! Exact per-position AP of every head equals the goldens' `ap_noising_heads_pos`.
//!
//! Tolerance: as AP's (see parity.rs): a logit or gradient error of 5e-5 becomes up to
//! 2 · 5e-5 / |clean − corrupted| in a score.
#![allow(clippy::unwrap_used, clippy::expect_used, deprecated)]

mod common;

use common::pairs;
use gradpatch_methods::{
    Direction, NoProgress, activation_patching_positions, attribution_patching,
};
use gradpatch_model::Processing;
use gradpatch_runs::PromptRuns;
use gradpatch_testdata::{array, assert_close, at, atp_goldens};

/// Prompt `i`'s values of a golden field, flattened.
fn golden(field: &str, i: usize) -> Vec<f64> {
    array(at(atp_goldens(), &format!("{field}/{i}"))).1
}

fn check(direction: Direction) {
    let model = gradpatch_testmodel::model_a(Processing::all());
    let key = match direction {
        Direction::Noising => "atp_noising",
        Direction::Denoising => "atp_denoising",
    };
    let (h, nl) = (model.config.n_heads, model.config.n_layers);
    for (i, pair) in pairs().iter().enumerate() {
        let runs = PromptRuns::new(&model, pair).unwrap();
        let tol = 2.0 * 5e-5 / f64::from(runs.denominator().abs());
        let atp = attribution_patching(&model, &runs, direction).unwrap();
        assert_close(
            &format!("{key} heads prompt {i}"),
            &atp.scores.heads,
            &golden(&format!("{key}_heads"), i),
            tol,
        );
        assert_close(
            &format!("{key} neurons prompt {i}"),
            &atp.scores.neurons,
            &golden(&format!("{key}_neurons"), i),
            tol,
        );
        assert_close(
            &format!("{key} heads per position prompt {i}"),
            &atp.heads_pos,
            &golden(&format!("{key}_heads_pos"), i),
            tol,
        );
        let s = runs.len();
        assert_eq!(atp.heads_pos.len(), nl * h * s, "[L][H][S_p] terms");
        for (c, terms) in atp.heads_pos.chunks(s).enumerate() {
            let sum: f32 = terms.iter().sum();
            assert!(
                (sum - atp.scores.heads[c]).abs() <= 1e-6 * (1.0 + sum.abs()),
                "prompt {i} head {c}: the terms sum to {sum}, the score is {}",
                atp.scores.heads[c]
            );
            assert!(
                terms[..runs.shared_prefix].iter().all(|&t| t == 0.0),
                "prompt {i} head {c}: positions before the first differing token ({}) are exactly 0: {terms:?}",
                runs.shared_prefix
            );
        }
    }
}

#[test]
fn atp_noising_equals_the_goldens() {
    check(Direction::Noising);
}

#[test]
fn atp_denoising_equals_the_goldens() {
    check(Direction::Denoising);
}

#[test]
fn ap_per_head_and_position_equals_the_goldens() {
    let model = gradpatch_testmodel::model_a(Processing::all());
    for (i, pair) in pairs().iter().enumerate() {
        let runs = PromptRuns::new(&model, pair).unwrap();
        let tol = 2.0 * 5e-5 / f64::from(runs.denominator().abs());
        let (scores, complete) =
            activation_patching_positions(&model, &runs, Direction::Noising, &mut NoProgress)
                .unwrap();
        assert!(complete, "prompt {i}: the run finished");
        assert_close(
            &format!("ap noising heads per position prompt {i}"),
            &scores,
            &golden("ap_noising_heads_pos", i),
            tol,
        );
        let s = runs.len();
        for (c, terms) in scores.chunks(s).enumerate() {
            assert!(
                terms[..runs.shared_prefix].iter().all(|&t| t == 0.0),
                "prompt {i} head {c}: positions before the first differing token are exactly 0"
            );
        }
    }
}
