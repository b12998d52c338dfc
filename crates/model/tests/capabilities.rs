//! The engine's run capabilities on reference model-a (ndarray): batching prompts of different
//! lengths, shared-prefix keys/values, starting mid-model, and errors for bad run inputs.
//! Patching and gradients at hooks are in patching.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use burn::tensor::Tensor;
use common::*;
use gradpatch_model::{Activation, HookPoint, Hooks, Patch, Processing, Readout, Run, Source};
use gradpatch_testdata::{array, assert_close, at, goldens};

#[test]
fn batched_prompts_of_different_lengths_equal_single_runs() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let prompts: Vec<Prompt> = (0..16).map(prompt).collect();
    let lens: Vec<usize> = prompts.iter().map(|p| p.clean.len()).collect();
    assert!(
        lens.iter().min() != lens.iter().max(),
        "the reference prompts differ in length"
    );
    let batch = model
        .tokens(&prompts.iter().map(|p| p.clean.clone()).collect::<Vec<_>>())
        .unwrap();
    let readout = Readout::LogitDiff {
        positions: batch.last_positions(),
        correct: prompts.iter().map(|p| p.labels[0]).collect(),
        incorrect: prompts.iter().map(|p| p.labels[1]).collect(),
    };
    let batched = ld(&run(&model, Source::Tokens(batch), &Hooks::new(), readout));
    let single: Vec<f32> = prompts
        .iter()
        .map(|p| {
            ld(&run(
                &model,
                tokens(&model, &p.clean),
                &Hooks::new(),
                ld_readout(p, 1, p.clean.len() - 1),
            ))[0]
        })
        .collect();
    let single64: Vec<f64> = single.iter().map(|&x| f64::from(x)).collect();
    assert_close("batched vs single", &batched, &single64, TOL_SAME);
    // And both are the reference's unpadded numbers, not its padded-batch ones.
    let (_, golden) = array(at(goldens(), "results/tl_processed/clean_logit_diff"));
    assert_close("batched vs golden", &batched, &golden, 5e-5);
    let (_, padded) = array(at(
        goldens(),
        "batched_seed_style/tl_processed/clean_logit_diff_batched",
    ));
    let read_at_padding = batched
        .iter()
        .zip(&padded)
        .filter(|(a, b)| (f64::from(**a) - **b).abs() > 1e-3)
        .count();
    assert_eq!(
        read_at_padding, 14,
        "the seed's batched pipeline reads 14 of 16 prompts at padding"
    );
}

#[test]
fn shared_prefix_keys_values_equal_the_full_run() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let p = prompt(3);
    let shared = p
        .clean
        .iter()
        .zip(&p.corrupted)
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        shared > 2 && shared < p.clean.len(),
        "prompt 3 shares {shared} of {} tokens; expected more than 2, not all",
        p.clean.len()
    );
    let prefix = model.prefix_kv(&p.clean[..shared]).unwrap();
    let rows = vec![p.clean[shared..].to_vec(), p.corrupted[shared..].to_vec()];
    let batch = model.tokens_after_prefix(&rows, &prefix).unwrap();
    let last = p.clean.len() - shared - 1;
    let hooks = Hooks::new().cache([HookPoint::MlpPost(1)]);
    let with_prefix = model
        .run(Run {
            source: Source::Tokens(batch),
            prefix: Some(&prefix),
            hooks: &hooks,
            readout: ld_readout(&p, 2, last),
        })
        .unwrap();
    let full_clean = run(
        &model,
        tokens(&model, &p.clean),
        &hooks,
        ld_readout(&p, 1, p.clean.len() - 1),
    );
    let full_corrupted = run(
        &model,
        tokens(&model, &p.corrupted),
        &Hooks::new(),
        ld_readout(&p, 1, p.clean.len() - 1),
    );
    let expected = [ld(&full_clean)[0], ld(&full_corrupted)[0]].map(f64::from);
    assert_close(
        "prefix-reused logit diffs",
        &ld(&with_prefix),
        &expected,
        TOL_SAME,
    );
    // Hooked values cover the positions after the prefix only.
    let post = with_prefix
        .cache
        .r3(HookPoint::MlpPost(1))
        .unwrap()
        .narrow(0, 0, 1);
    let full_post = full_clean.cache.r3(HookPoint::MlpPost(1)).unwrap();
    let n = p.clean.len();
    let full_post = full_post.slice([0..1, shared..n]);
    assert_close(
        "suffix hook_post",
        &to_vec(post),
        &to_vec(full_post)
            .iter()
            .map(|&x| f64::from(x))
            .collect::<Vec<_>>(),
        TOL_SAME,
    );
}

#[test]
fn starting_mid_model_equals_the_full_run() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let p = prompt(0);
    let last = p.clean.len() - 1;
    let hooks = Hooks::new().cache([
        HookPoint::ResidPre(1),
        HookPoint::AttnResult(1),
        HookPoint::ResidMid(1),
        HookPoint::MlpPost(0),
    ]);
    let full = run(
        &model,
        tokens(&model, &p.clean),
        &hooks,
        ld_readout(&p, 1, last),
    );
    let expected = ld(&full).iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let c = &full.cache;
    let sources = [
        Source::ResidPre {
            layer: 1,
            resid: c.r3(HookPoint::ResidPre(1)).unwrap(),
        },
        Source::AttnResult {
            layer: 1,
            resid_pre: c.r3(HookPoint::ResidPre(1)).unwrap(),
            result: c.r4(HookPoint::AttnResult(1)).unwrap(),
        },
        // The heads' sum only (what IG injects): the rest of the model sees the same.
        Source::AttnResult {
            layer: 1,
            resid_pre: c.r3(HookPoint::ResidPre(1)).unwrap(),
            result: c.r4(HookPoint::AttnResult(1)).unwrap().sum_dim(2),
        },
        Source::MlpPost {
            layer: 1,
            resid_mid: c.r3(HookPoint::ResidMid(1)).unwrap(),
            post: model
                .mlp_post_from_in(1, c.r3(HookPoint::ResidMid(1)).unwrap())
                .unwrap(),
        },
    ];
    for source in sources {
        let what = format!("{source:?}").chars().take(12).collect::<String>();
        assert_close(
            &what,
            &ld(&run(&model, source, &Hooks::new(), ld_readout(&p, 1, last))),
            &expected,
            TOL_SAME,
        );
    }
}

/// Forward activation patching of one head / one neuron equals the reference's `ap_heads` /
/// `ap_neurons` (TransformerLens hooks); a batch patching a different head per row equals
/// one run per head.
#[test]
fn bad_run_inputs_are_errors_not_panics() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    assert!(model.tokens(&[]).is_err(), "an empty batch is an error");
    assert!(
        model.tokens(&[vec![]]).is_err(),
        "an empty prompt is an error"
    );
    assert!(
        model.tokens(&[vec![5; 65]]).is_err(),
        "longer than n_ctx 64"
    );
    assert!(
        model.tokens(&[vec![461]]).is_err(),
        "outside the vocabulary"
    );
    let toks = Source::Tokens(model.tokens(&[vec![460, 5, 6]]).unwrap());
    let bad_pos = model.run(Run {
        source: toks,
        prefix: None,
        hooks: &Hooks::new(),
        readout: Readout::LogitsAt { positions: vec![3] },
    });
    assert!(
        bad_pos.is_err(),
        "a readout position past the prompt's end is an error"
    );
    let wrong_shape = Activation::R4(Tensor::zeros([1, 2, 4, 16], model.device()));
    let patch = Patch::whole(HookPoint::AttnZ(0), wrong_shape);
    let toks = Source::Tokens(model.tokens(&[vec![460, 5, 6]]).unwrap());
    let err = model
        .run(Run {
            source: toks,
            prefix: None,
            hooks: &Hooks::new().patch(patch),
            readout: Readout::Nothing,
        })
        .err()
        .unwrap();
    assert!(err.to_string().contains("blocks.0.attn.hook_z"), "{err}");
    assert!(
        "blocks.9.attn.hook_nope".parse::<HookPoint>().is_err(),
        "an unknown hook name does not parse"
    );
    for point in HookPoint::all(2) {
        assert_eq!(point.to_string().parse::<HookPoint>().unwrap(), point);
    }
}

/// A run that stops after a block caches what the full run caches up to there, nothing after
/// it, and no readout; a stop outside the run's layers is an error.
#[test]
fn a_run_stops_after_the_layer_asked() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let run = |readout: Readout| {
        let toks = Source::Tokens(model.tokens(&[vec![460, 5, 6]]).unwrap());
        let hooks = Hooks::new().cache([HookPoint::ResidPost(0), HookPoint::ResidPost(1)]);
        model.run(Run {
            source: toks,
            prefix: None,
            hooks: &hooks,
            readout,
        })
    };
    let full = run(Readout::AllLogits).unwrap();
    let stopped = run(Readout::StopAfter(0)).unwrap();
    assert!(stopped.logits.is_none() && stopped.logit_diff.is_none());
    let a = full
        .cache
        .get(HookPoint::ResidPost(0))
        .unwrap()
        .to_vec()
        .unwrap();
    let b = stopped
        .cache
        .get(HookPoint::ResidPost(0))
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(a, b);
    assert!(
        stopped.cache.get(HookPoint::ResidPost(1)).is_err(),
        "layer 1 did not run"
    );
    let err = run(Readout::StopAfter(2)).err().unwrap();
    assert!(err.to_string().contains("stop after layer 2"), "{err}");
}
