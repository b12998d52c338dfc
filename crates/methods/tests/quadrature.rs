//! Integration nodes equal captum's (the reference records numpy's leggauss(50) mapped to
//! [0, 1]), and IG completeness improves with more steps on a smooth case.
#![allow(clippy::unwrap_used, clippy::expect_used, deprecated)]

use gradpatch_dataset::Gpt2Tokenizer;
use gradpatch_methods::{Baseline, IgOptions, NoProgress, Quadrature, integrated_gradients};
use gradpatch_model::Processing;
use gradpatch_runs::PromptRuns;
use gradpatch_testdata::{array, at, goldens, model_a_dir, read, zip_eq};

#[test]
fn gauss_legendre_matches_the_reference_settings() {
    let (alphas, steps) = Quadrature::GaussLegendre.nodes(50).unwrap();
    let (_, ga) = array(at(goldens(), "ig_settings/gauss_legendre/alphas"));
    let (_, gs) = array(at(goldens(), "ig_settings/gauss_legendre/step_sizes"));
    for (a, b) in zip_eq("alphas", &alphas, &ga).chain(zip_eq("step sizes", &steps, &gs)) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
    assert!(
        (steps.iter().sum::<f64>() - 1.0).abs() < 1e-14,
        "the Gauss-Legendre step sizes sum to 1, got {}",
        steps.iter().sum::<f64>()
    );
}

#[test]
fn riemann_rules_are_captums() {
    let (a, w) = Quadrature::RiemannTrapezoid.nodes(5).unwrap();
    assert_eq!(a, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(w, vec![0.125, 0.25, 0.25, 0.25, 0.125]);
    assert_eq!(
        Quadrature::RiemannLeft.nodes(4).unwrap().0,
        vec![0.0, 0.25, 0.5, 0.75]
    );
    assert_eq!(
        Quadrature::RiemannRight.nodes(4).unwrap().0,
        vec![0.25, 0.5, 0.75, 1.0]
    );
    assert_eq!(
        Quadrature::RiemannMiddle.nodes(4).unwrap().0,
        vec![0.125, 0.375, 0.625, 0.875]
    );
    assert!(
        Quadrature::RiemannTrapezoid.nodes(1).is_err(),
        "the trapezoid rule refuses 1 step"
    );
    assert!(
        Quadrature::GaussLegendre.nodes(0).is_err(),
        "Gauss-Legendre refuses 0 steps"
    );
    assert!(
        "simpson".parse::<Quadrature>().is_err(),
        "\"simpson\" is not a known quadrature"
    );
}

#[test]
fn completeness_improves_with_more_steps() {
    let model = gradpatch_testmodel::model_a(Processing::all());
    let tok = Gpt2Tokenizer::from_bytes(&read(model_a_dir().join("tokenizer.json"))).unwrap();
    let text = gradpatch_dataset::PromptPair {
        clean: "When Kate and Dan went to the restaurant, Dan gave a computer to".into(),
        corrupted: "When Kate and Dan went to the restaurant, Kate gave a computer to".into(),
        correct: " Kate".into(),
        incorrect: " Dan".into(),
    };
    let pair = gradpatch_dataset::TokenizedPair::new(&text, &tok, 64).unwrap();
    let runs = PromptRuns::new(&model, &pair).unwrap();
    let total_delta = |steps: usize| {
        let opts = IgOptions {
            steps,
            quadrature: Quadrature::RiemannTrapezoid,
            baseline: Baseline::Zero,
            steps_per_batch: 64,
            start_at_layer: true,
            threads: 1,
        };
        let (ig, _) = integrated_gradients(&model, &runs, &opts, &mut NoProgress).unwrap();
        ig.delta_neurons
            .iter()
            .chain(&ig.delta_heads)
            .map(|d| f64::from(d.abs()))
            .sum::<f64>()
    };
    let (d2, d8, d32) = (total_delta(2), total_delta(8), total_delta(32));
    assert!(
        d2 > d8 && d8 > d32,
        "|delta| with 2, 8, 32 steps: {d2}, {d8}, {d32}"
    );
    assert!(
        d32 < d2 / 20.0,
        "trapezoid error falls as 1/n^2: {d2} -> {d32}"
    );
}
