//! AP and IG scores of every head and neuron of model-a equal the reference goldens
//! (TransformerLens + captum), processed and unprocessed, both AP directions, zero and corrupted
//! IG baselines; the fast AP sweep equals the naive one-forward-per-component loop.
//!
//! Tolerances. AP: a logit error e (5e-5, see the model parity tests) becomes up to 2e/|clean −
//! corrupted| in a score (smallest |denominator| here 0.194). IG: scores are means of
//! attributions; float32 summation-order differences between torch and burn give relative errors
//! around 1e-5 of the largest attribution, so heads are compared at 2e-6 absolute (max |score|
//! 0.003) and neurons at 2e-5 (max |score| 0.057). Convergence deltas are float32 noise (the
//! reference sees |delta| ≤ 4.6e-6): we require |delta| ≤ 1e-4.
#![allow(clippy::unwrap_used, clippy::expect_used, deprecated)]

mod common;

use common::pairs;
use gradpatch_methods::{
    ApOptions, Baseline, Component, Direction, IgOptions, NoProgress, activation_patching,
    activation_patching_naive, integrated_gradients,
};
use gradpatch_model::{Gpt2, Processing};
use gradpatch_runs::PromptRuns;
use gradpatch_testdata::{array, assert_close, at, goldens};

fn model(processing: Processing) -> Gpt2 {
    gradpatch_testmodel::model_a(processing)
}

fn variant(p: Processing) -> &'static str {
    if p == Processing::all() {
        "tl_processed"
    } else {
        "tl_unprocessed"
    }
}

/// Golden `[P, L, C]` as per-prompt rows.
fn golden_rows(path: &str) -> Vec<Vec<f64>> {
    let (shape, data) = array(at(goldens(), path));
    data.chunks(shape[1..].iter().product())
        .map(<[f64]>::to_vec)
        .collect()
}

fn check_ap(processing: Processing, direction: Direction) {
    let model = model(processing);
    let key = match direction {
        Direction::Noising => "ap",
        Direction::Denoising => "ap_reverse",
    };
    let heads = golden_rows(&format!("results/{}/{key}_heads", variant(processing)));
    let neurons = golden_rows(&format!("results/{}/{key}_neurons", variant(processing)));
    for (i, pair) in pairs().iter().enumerate() {
        let runs = PromptRuns::new(&model, pair).unwrap();
        let tol = 2.0 * 5e-5 / f64::from(runs.denominator().abs());
        let opts = ApOptions {
            direction,
            ..ApOptions::default()
        };
        let (scores, complete) =
            activation_patching(&model, &runs, &opts, &mut NoProgress).unwrap();
        assert!(complete, "the AP run finished (complete) on prompt {i}");
        assert_close(
            &format!("{key} heads prompt {i}"),
            &scores.heads,
            &heads[i],
            tol,
        );
        assert_close(
            &format!("{key} neurons prompt {i}"),
            &scores.neurons,
            &neurons[i],
            tol,
        );
    }
}

#[test]
fn ap_noising_processed() {
    check_ap(Processing::all(), Direction::Noising);
}

#[test]
fn ap_noising_unprocessed() {
    check_ap(Processing::none(), Direction::Noising);
}

#[test]
fn ap_denoising_processed() {
    check_ap(Processing::all(), Direction::Denoising);
}

#[test]
fn ap_denoising_unprocessed() {
    check_ap(Processing::none(), Direction::Denoising);
}

fn check_ig(processing: Processing, baseline: Baseline) {
    let model = model(processing);
    let name = match baseline {
        Baseline::Zero => "zero",
        Baseline::Corrupted => "aligned_clean_input",
    };
    let base = format!("results/{}/ig/{name}", variant(processing));
    let heads = golden_rows(&format!("{base}/heads"));
    let neurons = golden_rows(&format!("{base}/neurons"));
    for (i, pair) in pairs().iter().enumerate() {
        let runs = PromptRuns::new(&model, pair).unwrap();
        let opts = IgOptions {
            baseline,
            ..IgOptions::default()
        };
        let (ig, complete) = integrated_gradients(&model, &runs, &opts, &mut NoProgress).unwrap();
        assert!(complete, "the IG run finished (complete) on prompt {i}");
        // The per-position terms sum to the head scores (float32 summation order aside).
        let len = runs.len();
        assert_eq!(ig.heads_pos.len(), ig.scores.heads.len() * len);
        for (c, terms) in ig.heads_pos.chunks(len).enumerate() {
            let sum: f32 = terms.iter().sum();
            let scale = terms.iter().fold(0f32, |m, t| m.max(t.abs())) * len as f32;
            assert!(
                (sum - ig.scores.heads[c]).abs() <= 1e-5 * scale.max(1e-9),
                "prompt {i} head {c}: the per-position terms sum to {sum}, the score is {}",
                ig.scores.heads[c]
            );
        }
        assert_close(
            &format!("ig {name} heads prompt {i}"),
            &ig.scores.heads,
            &heads[i],
            2e-6,
        );
        assert_close(
            &format!("ig {name} neurons prompt {i}"),
            &ig.scores.neurons,
            &neurons[i],
            2e-5,
        );
        for d in ig.delta_heads.iter().chain(&ig.delta_neurons) {
            assert!(d.abs() <= 1e-4, "convergence delta {d} of prompt {i}");
        }
    }
}

#[test]
fn ig_zero_baseline_processed() {
    check_ig(Processing::all(), Baseline::Zero);
}

/// Zero-baseline head IG is where processing matters (the reference sees up to 0.00375).
#[test]
fn ig_zero_baseline_unprocessed() {
    check_ig(Processing::none(), Baseline::Zero);
}

#[test]
fn ig_corrupted_baseline_processed() {
    check_ig(Processing::all(), Baseline::Corrupted);
}

#[test]
fn ig_corrupted_baseline_unprocessed() {
    check_ig(Processing::none(), Baseline::Corrupted);
}

#[test]
fn fast_ap_equals_naive_loop() {
    let model = model(Processing::all());
    let pair = &pairs()[3];
    let runs = PromptRuns::new(&model, pair).unwrap();
    for direction in [Direction::Noising, Direction::Denoising] {
        let opts = ApOptions {
            direction,
            batch_bytes: 1 << 16,
            threads: 1,
        }; // small batches: several per layer
        let (fast, _) = activation_patching(&model, &runs, &opts, &mut NoProgress).unwrap();
        let (h, m) = (model.config.n_heads, model.config.d_mlp);
        let comps: Vec<Component> = (0..2)
            .flat_map(|layer| {
                (0..h)
                    .map(move |head| Component::Head { layer, head })
                    .chain(
                        (0..m)
                            .step_by(37)
                            .map(move |neuron| Component::Neuron { layer, neuron }),
                    )
            })
            .collect();
        let naive = activation_patching_naive(&model, &runs, direction, &comps, 1, &mut NoProgress)
            .unwrap();
        let expected: Vec<f64> = comps
            .iter()
            .map(|c| {
                f64::from(match *c {
                    Component::Head { layer, head } => fast.heads[layer * h + head],
                    Component::Neuron { layer, neuron } => fast.neurons[layer * m + neuron],
                })
            })
            .collect();
        assert_close(
            "naive vs fast",
            &naive,
            &expected,
            1e-4 * expected.iter().fold(1.0f64, |a, b| a.max(b.abs())),
        );
    }
}

#[test]
fn cancelling_keeps_what_was_finished() {
    let model = model(Processing::all());
    let runs = PromptRuns::new(&model, &pairs()[0]).unwrap();
    let mut seen = Vec::new();
    let mut stop_after_first_layer = |done: u64, total: u64| {
        seen.push((done, total));
        done < 4 // heads of layer 0 only
    };
    let (scores, complete) = activation_patching(
        &model,
        &runs,
        &ApOptions::default(),
        &mut stop_after_first_layer,
    )
    .unwrap();
    assert!(!complete, "the cancelled AP run is not complete");
    assert!(
        scores.heads[..4].iter().all(|x| x.is_finite()),
        "the heads of layer 0 have finite scores, got {:?}",
        &scores.heads[..4]
    );
    assert!(
        scores.heads[4..].iter().all(|x| x.is_nan()),
        "the heads after layer 0 stay NaN, got {:?}",
        &scores.heads[4..]
    );
    assert!(
        scores.neurons.iter().all(|x| x.is_nan()),
        "no neuron was scored (all NaN)"
    );
    assert_eq!(seen, vec![(4, 2 * (4 + 256))]);
}

/// AP's batched forwards shared among threads: the sequential scores exactly, and a cancel
/// keeps exactly the parts that ran (the one reported and the one under way), no further one.
#[test]
fn ap_on_threads_equals_sequential_and_cancels() {
    let model = model(Processing::all());
    let runs = PromptRuns::new(&model, &pairs()[2]).unwrap();
    // Small batches: 4 parts per layer (heads, then 3 neuron batches).
    let one = ApOptions {
        batch_bytes: 4 * 100 * (runs.len() - runs.shared_prefix) * model.config.d_mlp,
        ..ApOptions::default()
    };
    let two = ApOptions { threads: 2, ..one };
    let (a, _) = activation_patching(&model, &runs, &one, &mut NoProgress).unwrap();
    let (b, complete) = activation_patching(&model, &runs, &two, &mut NoProgress).unwrap();
    assert!(complete, "the threaded AP run finished (complete)");
    assert_eq!(a, b);

    let mut seen = Vec::new();
    let mut stop_at_first = |done: u64, total: u64| {
        seen.push((done, total));
        false
    };
    let (c, complete) = activation_patching(&model, &runs, &two, &mut stop_at_first).unwrap();
    assert!(!complete, "the cancelled threaded AP run is not complete");
    assert_eq!(seen.len(), 1);
    let all = |s: &gradpatch_methods::Scores| -> Vec<f32> {
        s.heads.iter().chain(&s.neurons).copied().collect()
    };
    let (got, sequential) = (all(&c), all(&a));
    let finished: Vec<usize> = (0..got.len()).filter(|&i| !got[i].is_nan()).collect();
    // Heads of layer 0 (4) and the first neuron batch (100), in some order of finishing.
    let h = model.config.n_heads;
    let nl = model.config.n_layers;
    let expected: Vec<usize> = (0..h).chain(nl * h..nl * h + 100).collect();
    assert_eq!(finished, expected);
    for i in finished {
        assert_eq!(got[i], sequential[i], "score {i}");
    }
}

/// Layers shared among threads give exactly the sequential scores; a cancel stops the threads
/// and keeps every part that finished (a head or neuron layer is all scores or all NaN).
#[test]
fn ig_on_threads_equals_sequential_and_cancels() {
    let model = model(Processing::all());
    let runs = PromptRuns::new(&model, &pairs()[3]).unwrap();
    let one = IgOptions::default();
    let two = IgOptions { threads: 2, ..one };
    let (a, _) = integrated_gradients(&model, &runs, &one, &mut NoProgress).unwrap();
    let (b, complete) = integrated_gradients(&model, &runs, &two, &mut NoProgress).unwrap();
    assert!(complete, "the threaded IG run finished (complete)");
    assert_eq!(a, b);

    let mut seen = Vec::new();
    let mut stop_at_first = |done: u64, total: u64| {
        seen.push((done, total));
        false
    };
    let (c, complete) = integrated_gradients(&model, &runs, &two, &mut stop_at_first).unwrap();
    assert!(!complete, "the cancelled threaded IG run is not complete");
    assert_eq!(seen, vec![(1, 4)]);
    let (h, m) = (model.config.n_heads, model.config.d_mlp);
    let mut finished = 0;
    for l in 0..model.config.n_layers {
        for (layer, expected) in [
            (
                &c.scores.heads[l * h..(l + 1) * h],
                &a.scores.heads[l * h..(l + 1) * h],
            ),
            (
                &c.scores.neurons[l * m..(l + 1) * m],
                &a.scores.neurons[l * m..(l + 1) * m],
            ),
        ] {
            if layer.iter().all(|x| x.is_nan()) {
                continue;
            }
            assert_eq!(layer, expected, "a finished part of layer {l}");
            finished += 1;
        }
    }
    // The part that was reported and the one under way on the other thread; none after.
    assert_eq!(finished, 2);
}

/// Starting IG runs at the injected layer gives the same scores as running the whole model
/// from the tokens with the hook patched (the reference's way, the benchmark's naive IG).
#[test]
fn ig_starting_at_the_layer_equals_running_from_the_tokens() {
    let model = model(Processing::all());
    let runs = PromptRuns::new(&model, &pairs()[5]).unwrap();
    let fast = IgOptions::default();
    let slow = IgOptions {
        start_at_layer: false,
        ..fast
    };
    let (a, _) = integrated_gradients(&model, &runs, &fast, &mut NoProgress).unwrap();
    let (b, _) = integrated_gradients(&model, &runs, &slow, &mut NoProgress).unwrap();
    let to64 = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    assert_close("heads", &a.scores.heads, &to64(&b.scores.heads), 1e-7);
    assert_close("neurons", &a.scores.neurons, &to64(&b.scores.neurons), 1e-6);
}

/// The same scores on burn-wgpu natively (Vulkan; lavapipe on machines without a GPU), autodiff
/// included, for two prompts.
#[test]
fn ap_and_ig_on_wgpu() {
    let device = gradpatch_testmodel::wgpu();
    let model = gradpatch_testmodel::load_model_a("model.safetensors", Processing::all(), &device);
    let ap_heads = golden_rows("results/tl_processed/ap_heads");
    let ap_neurons = golden_rows("results/tl_processed/ap_neurons");
    let ig_heads = golden_rows("results/tl_processed/ig/zero/heads");
    let ig_neurons = golden_rows("results/tl_processed/ig/zero/neurons");
    for i in [0usize, 9] {
        let runs = PromptRuns::new(&model, &pairs()[i]).unwrap();
        let tol = 2.0 * 5e-5 / f64::from(runs.denominator().abs());
        let (ap, _) =
            activation_patching(&model, &runs, &ApOptions::default(), &mut NoProgress).unwrap();
        assert_close(&format!("wgpu ap heads {i}"), &ap.heads, &ap_heads[i], tol);
        assert_close(
            &format!("wgpu ap neurons {i}"),
            &ap.neurons,
            &ap_neurons[i],
            tol,
        );
        let (ig, _) =
            integrated_gradients(&model, &runs, &IgOptions::default(), &mut NoProgress).unwrap();
        assert_close(
            &format!("wgpu ig heads {i}"),
            &ig.scores.heads,
            &ig_heads[i],
            2e-6,
        );
        assert_close(
            &format!("wgpu ig neurons {i}"),
            &ig.scores.neurons,
            &ig_neurons[i],
            2e-5,
        );
    }
}
