//! Patching and gradients on reference model-a (ndarray): component patches against the
//! reference's activation-patching goldens, patches at chosen positions, and gradients at hooks
//! against finite differences.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use burn::tensor::Tensor;
use common::*;
use gradpatch_model::{
    Activation, HookPoint, Hooks, Patch, Positions, Processing, Readout, Source,
};
use gradpatch_testdata::{array, assert_close, at, goldens};

/// One reference prompt's clean and corrupted runs, and the AP score of a patched clean run.
struct Case<'m> {
    model: &'m gradpatch_model::Gpt2,
    p: Prompt,
    last: usize,
    clean: f32,
    denom: f64,
    /// A logit error e becomes an AP error of about 2e / |clean - corrupted|.
    tol: f64,
    corrupted: gradpatch_model::RunOutput,
}

impl<'m> Case<'m> {
    fn new(model: &'m gradpatch_model::Gpt2, i: usize) -> Self {
        let p = prompt(i);
        let last = p.clean.len() - 1;
        let cache_hooks = Hooks::new().cache([HookPoint::AttnResult(1), HookPoint::MlpPost(0)]);
        let clean = ld(&run(
            model,
            tokens(model, &p.clean),
            &Hooks::new(),
            ld_readout(&p, 1, last),
        ))[0];
        let corrupted = run(
            model,
            tokens(model, &p.corrupted),
            &cache_hooks,
            ld_readout(&p, 1, last),
        );
        let denom = f64::from(clean - ld(&corrupted)[0]);
        Self {
            model,
            p,
            last,
            clean,
            denom,
            tol: 2.0 * 5e-5 / denom.abs(),
            corrupted,
        }
    }

    fn score(&self, patched: f32) -> f32 {
        ((f64::from(patched) - f64::from(self.clean)) / self.denom) as f32
    }

    /// The AP score of the clean run with `patch` applied.
    fn patched_score(&self, patch: Patch) -> f32 {
        let patched = ld(&run(
            self.model,
            tokens(self.model, &self.p.clean),
            &Hooks::new().patch(patch),
            ld_readout(&self.p, 1, self.last),
        ))[0];
        self.score(patched)
    }
}

/// Layer 1's heads of prompt `i`, one patched run each and all in one batch (row r patches
/// head r), against the reference's AP scores.
fn check_heads(case: &Case, i: usize) {
    let (model, h) = (case.model, case.model.config.n_heads);
    let result = Activation::R4(case.corrupted.cache.r4(HookPoint::AttnResult(1)).unwrap());
    let one_by_one: Vec<f32> = (0..h)
        .map(|head| {
            let patch = Patch::component(
                HookPoint::AttnResult(1),
                result.clone(),
                head,
                &Positions::All,
            );
            case.patched_score(patch.unwrap())
        })
        .collect();
    let (shape, golden) = array(at(goldens(), "results/tl_processed/ap_heads"));
    let (l, hh) = (shape[1], shape[2]);
    let expected = &golden[(i * l + 1) * hh..(i * l + 2) * hh];
    let what = format!("ap heads layer 1 prompt {i}");
    assert_close(&what, &one_by_one, expected, case.tol);
    let rows = vec![case.p.clean.clone(); h];
    let heads: Vec<usize> = (0..h).collect();
    let patch = Patch::per_row(HookPoint::AttnResult(1), result, &heads, &Positions::All).unwrap();
    let batched = ld(&run(
        model,
        Source::Tokens(model.tokens(&rows).unwrap()),
        &Hooks::new().patch(patch),
        ld_readout(&case.p, h, case.last),
    ));
    let batched: Vec<f32> = batched.iter().map(|&x| case.score(x)).collect();
    assert_close("batched head patching", &batched, expected, case.tol);
}

/// Three neurons of layer 0 of prompt `i` against the reference's AP scores.
fn check_neurons(case: &Case, i: usize) {
    let m = case.model.config.d_mlp;
    let post = Activation::R3(case.corrupted.cache.r3(HookPoint::MlpPost(0)).unwrap());
    let neurons = [0usize, 17, m - 1];
    let scores: Vec<f32> = neurons
        .iter()
        .map(|&n| {
            let patch = Patch::component(HookPoint::MlpPost(0), post.clone(), n, &Positions::All);
            case.patched_score(patch.unwrap())
        })
        .collect();
    let (shape, golden) = array(at(goldens(), "results/tl_processed/ap_neurons"));
    let expected: Vec<f64> = neurons
        .iter()
        .map(|&n| golden[(i * shape[1]) * shape[2] + n])
        .collect();
    assert_close("ap neurons layer 0", &scores, &expected, case.tol);
}

#[test]
fn component_patches_match_reference_activation_patching() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    for i in [0usize, 8] {
        let case = Case::new(&model, i);
        check_heads(&case, i);
        check_neurons(&case, i);
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

/// A probe gives the total gradient at its hook, through every later hook: probing layer 0's
/// `hook_result` together with later hooks gives the gradient a single gradient leaf there
/// gives (a leaf at a later hook would cut those paths), and the forward pass is unchanged.
#[test]
fn probes_give_total_gradients_and_leave_the_run_unchanged() {
    let model = load("model.safetensors", Processing::all(), &ndarray());
    let p = prompt(3);
    let last = p.clean.len() - 1;
    let first = HookPoint::AttnResult(0);
    let later = [
        HookPoint::MlpPost(0),
        HookPoint::AttnResult(1),
        HookPoint::MlpPost(1),
    ];
    let readout = || ld_readout(&p, 1, last);

    let single = run(
        &model,
        tokens(&model, &p.clean),
        &Hooks::new().grad(first),
        readout(),
    );
    let grads = single.logit_diff.clone().unwrap().sum().backward();
    let want = to_vec(single.cache.r4(first).unwrap().grad(&grads).unwrap());

    let probes = later
        .iter()
        .fold(Hooks::new().probe(first), |h, &pt| h.probe(pt));
    let probed = run(&model, tokens(&model, &p.clean), &probes, readout());
    // Against a run caching the same hooks (a hooked hook_result is computed per head, in
    // another float order than the unhooked sum). The probed run is tracked by autodiff, whose
    // kernels may round differently: equal to float32 noise.
    let cached = Hooks::new().cache(std::iter::once(first).chain(later));
    let plain = run(&model, tokens(&model, &p.clean), &cached, readout());
    let plain: Vec<f64> = ld(&plain).iter().map(|&x| f64::from(x)).collect();
    assert_close(
        "logit difference with zero probes",
        &ld(&probed),
        &plain,
        TOL_SAME,
    );
    let grads = probed.logit_diff.clone().unwrap().sum().backward();
    let got = to_vec(probed.cache.probe_grad4(first, &grads).unwrap());
    let want: Vec<f64> = want.iter().map(|&x| f64::from(x)).collect();
    assert_close("probe vs single leaf at layer 0", &got, &want, 1e-6);
    for pt in later {
        let g = match pt.rank() {
            3 => to_vec(probed.cache.probe_grad3(pt, &grads).unwrap()),
            _ => to_vec(probed.cache.probe_grad4(pt, &grads).unwrap()),
        };
        assert!(
            g.iter().any(|x| *x != 0.0),
            "{pt}: the probe has a gradient"
        );
    }
    assert!(
        probed
            .cache
            .probe_grad4(HookPoint::AttnResult(9), &grads)
            .is_err(),
        "an unprobed hook is an error, not a panic"
    );
}
