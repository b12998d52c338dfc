//! Each TransformerLens processing step is switchable and does what the reference README
//! ("Weight processing") measures: it moves values between hooks without changing the logit
//! differences. All steps on / all off are the `tl_processed` / `tl_unprocessed` goldens (see
//! parity.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gradpatch_model::{
    Gpt2, HookPoint, Hooks, LoadOptions, Processing, Readout, Run, RunOutput, Source,
    load_host_weights,
};
use gradpatch_testdata::{model_a_dir, prompt_ids, read};

/// Same numbers through different float32 arithmetic (the reference observes up to 5.5e-6).
const TOL: f32 = 2e-5;

fn only(f: impl Fn(&mut Processing)) -> Processing {
    let mut p = Processing::none();
    f(&mut p);
    p
}

fn run_prompt0(model: &Gpt2, hooks: &[HookPoint]) -> RunOutput {
    let ids = prompt_ids(0, "clean_token_ids");
    model
        .run(Run {
            source: Source::Tokens(model.tokens(std::slice::from_ref(&ids)).unwrap()),
            prefix: None,
            hooks: &Hooks::new().cache(hooks.iter().copied()),
            readout: Readout::LogitsAt {
                positions: vec![ids.len() - 1],
            },
        })
        .unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn logits(out: &RunOutput) -> Vec<f32> {
    to_vec(out.logits_at.clone().unwrap())
}

fn centered(v: &[f32], width: usize) -> Vec<f32> {
    v.chunks(width)
        .flat_map(|row| {
            let mean = row.iter().sum::<f32>() / width as f32;
            row.iter().map(move |x| x - mean)
        })
        .collect()
}

#[test]
fn each_step_alone_keeps_logits_up_to_a_constant() {
    let device = ndarray();
    let base = run_prompt0(&load("model.safetensors", Processing::none(), &device), &[]);
    let v = logits(&base).len();
    for (name, p) in [
        ("fold_ln", only(|p| p.fold_ln = true)),
        (
            "center_writing_weights",
            only(|p| p.center_writing_weights = true),
        ),
        ("fold_value_biases", only(|p| p.fold_value_biases = true)),
    ] {
        let out = run_prompt0(&load("model.safetensors", p, &device), &[]);
        assert!(
            max_diff(&logits(&out), &logits(&base)) < TOL,
            "{name} changed the logits"
        );
    }
    // center_unembed removes the mean over the vocabulary.
    let out = run_prompt0(
        &load(
            "model.safetensors",
            only(|p| p.center_unembed = true),
            &device,
        ),
        &[],
    );
    assert!(
        max_diff(&logits(&out), &centered(&logits(&base), v)) < TOL,
        "center_unembed shifts the logits only by their mean over the vocabulary"
    );
    assert!(
        max_diff(&logits(&out), &logits(&base)) > 1e-3,
        "center_unembed must do something"
    );
}

#[test]
fn center_writing_weights_centers_the_residual_stream() {
    let device = ndarray();
    let hooks = [HookPoint::MlpIn(1), HookPoint::AttnPattern(0)];
    let base = run_prompt0(
        &load("model.safetensors", Processing::none(), &device),
        &hooks,
    );
    let out = run_prompt0(
        &load(
            "model.safetensors",
            only(|p| p.center_writing_weights = true),
            &device,
        ),
        &hooks,
    );
    let d = 64;
    let get = |o: &RunOutput, h| o.cache.get(h).unwrap().to_vec().unwrap();
    assert!(
        max_diff(
            &get(&out, HookPoint::MlpIn(1)),
            &centered(&get(&base, HookPoint::MlpIn(1)), d)
        ) < TOL,
        "center_writing_weights centers hook_mlp_in of layer 1 over d_model"
    );
    assert!(
        max_diff(
            &get(&out, HookPoint::AttnPattern(0)),
            &get(&base, HookPoint::AttnPattern(0))
        ) < TOL,
        "center_writing_weights leaves the attention pattern of layer 0 unchanged"
    );
}

#[test]
fn fold_value_biases_moves_b_v_out_of_hook_z() {
    let device = ndarray();
    let hooks = [HookPoint::AttnZ(0)];
    let base = run_prompt0(
        &load("model.safetensors", Processing::none(), &device),
        &hooks,
    );
    let out = run_prompt0(
        &load(
            "model.safetensors",
            only(|p| p.fold_value_biases = true),
            &device,
        ),
        &hooks,
    );
    let config = read(model_a_dir().join("config.json"));
    let w = load_host_weights(
        &read(model_a_dir().join("model.safetensors")),
        &LoadOptions {
            config_json: Some(&config),
            n_heads: None,
        },
    )
    .unwrap();
    let b_v = &w.layers[0].b_v; // [n_heads * d_head], the layout of hook_z's last two axes
    let z0 = base
        .cache
        .get(HookPoint::AttnZ(0))
        .unwrap()
        .to_vec()
        .unwrap();
    let z1 = out
        .cache
        .get(HookPoint::AttnZ(0))
        .unwrap()
        .to_vec()
        .unwrap();
    let shifted: Vec<f32> = z0
        .chunks(b_v.len())
        .flat_map(|row| row.iter().zip(b_v).map(|(z, b)| z - b).collect::<Vec<_>>())
        .collect();
    assert!(
        max_diff(&z1, &shifted) < TOL,
        "fold_value_biases shifts hook_z of layer 0 by -b_V"
    );
    assert!(
        b_v.iter().any(|b| b.abs() > 0.1),
        "model-a has real value biases"
    );
}

#[test]
fn the_streaming_load_builds_the_same_model_as_processing_all_of_it_at_once() {
    // `Gpt2::load` reads, processes and uploads part by part; the trainer's path processes the
    // whole model in host memory. Same arithmetic in the same order: the same numbers exactly.
    let device = ndarray();
    let bytes = read(model_a_dir().join("model.safetensors"));
    let config = read(model_a_dir().join("config.json"));
    let opts = LoadOptions {
        config_json: Some(&config),
        n_heads: None,
    };
    let hooks = [HookPoint::AttnResult(0), HookPoint::MlpPost(1)];
    let steps = [
        Processing::none(),
        only(|p| p.fold_ln = true),
        only(|p| p.center_unembed = true),
        Processing::all(),
    ];
    for p in steps {
        let streamed = Gpt2::load(&bytes, &opts, p, &device).unwrap();
        let mut host = load_host_weights(&bytes, &opts).unwrap();
        gradpatch_model::processing::apply(p, &mut host);
        let at_once = Gpt2::from_host(&host, p, &device);
        let (a, b) = (
            run_prompt0(&streamed, &hooks),
            run_prompt0(&at_once, &hooks),
        );
        assert_eq!(logits(&a), logits(&b), "{p:?}");
        for h in hooks {
            let get = |o: &RunOutput| o.cache.get(h).unwrap().to_vec().unwrap();
            assert_eq!(get(&a), get(&b), "{p:?} {h:?}");
        }
    }
}
