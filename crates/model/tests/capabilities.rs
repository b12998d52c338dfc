//! The engine's run capabilities on reference model-a (ndarray): batching prompts of different
//! lengths, shared-prefix keys/values, starting mid-model, patching components (checked against
//! the reference's activation-patching goldens), and gradients at hooks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use burn::tensor::Tensor;
use common::*;
use gradpatch_model::{
    Activation, Gpt2, HookPoint, Hooks, Patch, Positions, Processing, Readout, Run, RunOutput,
    Source,
};
use gradpatch_testdata::{array, assert_close, at, goldens, prompt_ids};

/// Two float32 runs of the same numbers in another batch shape: summation order may differ.
const TOL_SAME: f64 = 1e-5;

struct Prompt {
    clean: Vec<u32>,
    corrupted: Vec<u32>,
    labels: Vec<u32>,
}

fn prompt(i: usize) -> Prompt {
    Prompt {
        clean: prompt_ids(i, "clean_token_ids"),
        corrupted: prompt_ids(i, "corrupted_token_ids"),
        labels: prompt_ids(i, "labels"),
    }
}

fn ld_readout(p: &Prompt, rows: usize, last: usize) -> Readout {
    Readout::LogitDiff {
        positions: vec![last; rows],
        correct: vec![p.labels[0]; rows],
        incorrect: vec![p.labels[1]; rows],
    }
}

fn run(model: &Gpt2, source: Source, hooks: &Hooks, readout: Readout) -> RunOutput {
    model
        .run(Run {
            source,
            prefix: None,
            hooks,
            readout,
        })
        .unwrap()
}

fn tokens(model: &Gpt2, ids: &[u32]) -> Source {
    Source::Tokens(model.tokens(&[ids.to_vec()]).unwrap())
}

fn ld(out: &RunOutput) -> Vec<f32> {
    to_vec(out.logit_diff.clone().unwrap())
}

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
fn component_patches_match_reference_activation_patching() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let (h, m) = (model.config.n_heads, model.config.d_mlp);
    for i in [0usize, 8] {
        let p = prompt(i);
        let last = p.clean.len() - 1;
        let cache_hooks = Hooks::new().cache([HookPoint::AttnResult(1), HookPoint::MlpPost(0)]);
        let clean = ld(&run(
            &model,
            tokens(&model, &p.clean),
            &Hooks::new(),
            ld_readout(&p, 1, last),
        ))[0];
        let corrupted_run = run(
            &model,
            tokens(&model, &p.corrupted),
            &cache_hooks,
            ld_readout(&p, 1, last),
        );
        let corrupted = ld(&corrupted_run)[0];
        let denom = f64::from(clean - corrupted);
        // A logit error e becomes an AP error of about 2e / |clean - corrupted|.
        let tol = 2.0 * 5e-5 / denom.abs();

        let result = Activation::R4(corrupted_run.cache.r4(HookPoint::AttnResult(1)).unwrap());
        let one_by_one: Vec<f32> = (0..h)
            .map(|head| {
                let patch = Patch::component(
                    HookPoint::AttnResult(1),
                    result.clone(),
                    head,
                    &Positions::All,
                )
                .unwrap();
                let patched = ld(&run(
                    &model,
                    tokens(&model, &p.clean),
                    &Hooks::new().patch(patch),
                    ld_readout(&p, 1, last),
                ))[0];
                ((f64::from(patched) - f64::from(clean)) / denom) as f32
            })
            .collect();
        let (shape, golden) = array(at(goldens(), "results/tl_processed/ap_heads"));
        let (l, hh) = (shape[1], shape[2]);
        let expected = &golden[(i * l + 1) * hh..(i * l + 2) * hh];
        assert_close(
            &format!("ap heads layer 1 prompt {i}"),
            &one_by_one,
            expected,
            tol,
        );

        // Batched: row r patches head r.
        let rows = vec![p.clean.clone(); h];
        let patch = Patch::per_row(
            HookPoint::AttnResult(1),
            result,
            &(0..h).collect::<Vec<_>>(),
            &Positions::All,
        )
        .unwrap();
        let batched = ld(&run(
            &model,
            Source::Tokens(model.tokens(&rows).unwrap()),
            &Hooks::new().patch(patch),
            ld_readout(&p, h, last),
        ));
        let batched: Vec<f32> = batched
            .iter()
            .map(|&x| ((f64::from(x) - f64::from(clean)) / denom) as f32)
            .collect();
        assert_close("batched head patching", &batched, expected, tol);

        let post = Activation::R3(corrupted_run.cache.r3(HookPoint::MlpPost(0)).unwrap());
        let neurons = [0usize, 17, m - 1];
        let scores: Vec<f32> = neurons
            .iter()
            .map(|&n| {
                let patch =
                    Patch::component(HookPoint::MlpPost(0), post.clone(), n, &Positions::All)
                        .unwrap();
                let patched = ld(&run(
                    &model,
                    tokens(&model, &p.clean),
                    &Hooks::new().patch(patch),
                    ld_readout(&p, 1, last),
                ))[0];
                ((f64::from(patched) - f64::from(clean)) / denom) as f32
            })
            .collect();
        let (shape, golden) = array(at(goldens(), "results/tl_processed/ap_neurons"));
        let expected: Vec<f64> = neurons
            .iter()
            .map(|&n| golden[(i * shape[1]) * shape[2] + n])
            .collect();
        assert_close("ap neurons layer 0", &scores, &expected, tol);
    }
}

#[test]
fn patching_chosen_positions_only_changes_those_positions() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let p = prompt(0);
    let n = p.clean.len();
    let zeros = Activation::R4(Tensor::zeros(
        [1, n, model.config.n_heads, model.config.d_head()],
        model.device(),
    ));
    let patch =
        Patch::component(HookPoint::AttnZ(0), zeros, 1, &Positions::Only(vec![2, 5])).unwrap();
    let out = run(
        &model,
        tokens(&model, &p.clean),
        &Hooks::new().patch(patch).cache([HookPoint::AttnZ(0)]),
        Readout::Nothing,
    );
    let clean = run(
        &model,
        tokens(&model, &p.clean),
        &Hooks::new().cache([HookPoint::AttnZ(0)]),
        Readout::Nothing,
    );
    let (a, b) = (
        out.cache
            .get(HookPoint::AttnZ(0))
            .unwrap()
            .to_vec()
            .unwrap(),
        clean
            .cache
            .get(HookPoint::AttnZ(0))
            .unwrap()
            .to_vec()
            .unwrap(),
    );
    let (h, dh) = (model.config.n_heads, model.config.d_head());
    for (idx, (x, y)) in a.iter().zip(&b).enumerate() {
        let (pos, head) = (idx / (h * dh), (idx / dh) % h);
        if head == 1 && (pos == 2 || pos == 5) {
            assert_eq!(*x, 0.0);
        } else {
            assert_eq!(x, y, "pos {pos} head {head} changed");
        }
    }
}

/// ∂ logit diff / ∂ hook_result, taken at a hook inside the run and with the activation injected
/// from outside, agree, and match a finite difference along the gradient.
#[test]
fn gradients_at_hooks_match_finite_differences() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let p = prompt(0);
    let last = p.clean.len() - 1;
    let point = HookPoint::AttnResult(1);
    let hooks = Hooks::new().grad(point).cache([HookPoint::ResidPre(1)]);
    let out = run(
        &model,
        tokens(&model, &p.clean),
        &hooks,
        ld_readout(&p, 1, last),
    );
    let metric = out.logit_diff.clone().unwrap();
    let grads = metric.sum().backward();
    let leaf = out.cache.r4(point).unwrap();
    let g_inside = leaf.grad(&grads).expect("gradient at the hook");

    let injected = leaf.clone().detach().require_grad();
    let resid_pre = out.cache.r3(HookPoint::ResidPre(1)).unwrap().detach();
    let out2 = run(
        &model,
        Source::AttnResult {
            layer: 1,
            resid_pre: resid_pre.clone(),
            result: injected.clone(),
        },
        &Hooks::new(),
        ld_readout(&p, 1, last),
    );
    let grads2 = out2.logit_diff.unwrap().sum().backward();
    let g_injected = injected
        .grad(&grads2)
        .expect("gradient of the injected value");
    let gi: Vec<f64> = to_vec(g_injected).iter().map(|&x| f64::from(x)).collect();
    assert_close(
        "inside vs injected gradient",
        &to_vec(g_inside.clone()),
        &gi,
        1e-6,
    );

    // Directional derivative along the unit gradient equals |g|.
    let norm = g_inside
        .clone()
        .powf_scalar(2.0)
        .sum()
        .sqrt()
        .into_scalar::<f32>();
    assert!(
        norm > 1e-3,
        "the gradient norm {norm} is not vanishingly small"
    );
    let eps = 1e-2f32;
    let step = g_inside / norm * eps;
    let base = leaf.detach().without_autodiff();
    let f = |r: Tensor<4>| {
        ld(&run(
            &model,
            Source::AttnResult {
                layer: 1,
                resid_pre: resid_pre.clone().without_autodiff(),
                result: r,
            },
            &Hooks::new(),
            ld_readout(&p, 1, last),
        ))[0]
    };
    let fd = (f(base.clone() + step.clone()) - f(base - step)) / (2.0 * eps);
    assert!(
        (fd - norm).abs() / norm < 1e-2,
        "finite difference {fd} vs |grad| {norm}"
    );
}

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
