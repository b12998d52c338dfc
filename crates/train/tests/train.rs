//! Training is deterministic for a seed and its files load in the engine; the committed demo
//! model does IOI on held-out and hand-written prompts; their templates use only words training
//! text has.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use burn::tensor::Device;
use burn::tensor::{Int, Tensor, TensorData};
use gradpatch_dataset::Gpt2Tokenizer;
use gradpatch_model::{
    Gpt2, Hooks, LoadOptions, Processing, Readout, Run, Source, load_host_weights, to_host,
};
use gradpatch_train::Split;
use gradpatch_train::splits::{HANDWRITTEN_TEMPLATES, HELDOUT_TEMPLATES, all_names};
use gradpatch_train::{Net, Sampler, TrainConfig, eval_ioi, train};

#[allow(deprecated)]
fn cpu() -> Device {
    Device::ndarray()
}

fn load(weights: &[u8], config: &[u8], tokenizer: &[u8]) -> (Gpt2, Gpt2Tokenizer) {
    let opts = LoadOptions {
        config_json: Some(config),
        n_heads: None,
    };
    let model = Gpt2::load(weights, &opts, Processing::all(), &cpu()).unwrap();
    (model, Gpt2Tokenizer::from_bytes(tokenizer).unwrap())
}

#[test]
fn tiny_training_is_deterministic_and_loads_in_the_engine() {
    let run = |seed| {
        let mut losses = Vec::new();
        let trained = train(&TrainConfig::tiny(seed), &cpu(), &mut |p| {
            losses.push(p.loss)
        })
        .unwrap();
        (trained.files().unwrap(), losses)
    };
    let (a, losses) = run(5);
    assert_eq!(losses.len(), TrainConfig::tiny(5).steps);
    assert!(
        losses.iter().all(|l| l.is_finite() && *l > 0.0),
        "{losses:?}"
    );
    let (b, _) = run(5);
    let names: Vec<&str> = a.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["model.safetensors", "tokenizer.json", "config.json"]
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between two runs with the same seed");
    }
    let (c, _) = run(6);
    assert!(a[0].1 != c[0].1, "another seed gives other weights");

    let (model, tok) = load(&a[0].1, &a[2].1, &a[1].1);
    let cfg = TrainConfig::tiny(5);
    assert_eq!(model.config.n_layers, cfg.n_layers);
    assert_eq!(model.config.n_heads, cfg.n_heads);
    assert_eq!(model.config.d_vocab, tok.vocab_size());
    assert_eq!(tok.bos_id() as usize, tok.vocab_size() - 1);
    for name in all_names() {
        tok.single_token(name).unwrap();
    }
    // The engine runs it: finite logit differences on held-out prompts.
    let e = eval_ioi(&model, &tok, Split::HeldOut, 8, 0).unwrap();
    assert_eq!(e.n, 8);
    assert!(
        e.clean.iter().chain(&e.corrupted).all(|x| x.is_finite()),
        "held-out logit differences are finite: clean {:?}, corrupted {:?}",
        e.clean,
        e.corrupted
    );
}

fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web/models/ioi-demo")
}

#[test]
fn committed_demo_model_does_ioi_on_held_out_and_hand_written_prompts() {
    let dir = demo_dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
    };
    let (model, tok) = load(
        &read("model.safetensors"),
        &read("config.json"),
        &read("tokenizer.json"),
    );
    for split in [Split::HeldOut, Split::HandWritten, Split::Standard] {
        let e = eval_ioi(&model, &tok, split, 200, 1).unwrap();
        assert_eq!(e.n, 200);
        assert!(
            e.failures().is_empty(),
            "{split:?}: {:?} (clean {:.3}, positive {:.3}, corrupted {:.3})",
            e.failures(),
            e.mean_clean,
            e.fraction_positive,
            e.mean_corrupted
        );
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn held_out_and_hand_written_templates_use_only_words_of_the_training_text() {
    let mut sampler = Sampler::new(0, TrainConfig::demo(0).ioi_per_16);
    let seen: BTreeSet<String> = (0..20_000)
        .flat_map(|_| words(&sampler.next_example().text()))
        .collect();
    let mut unseen = Vec::new();
    for template in HELDOUT_TEMPLATES.iter().chain(&HANDWRITTEN_TEMPLATES) {
        let bare = ["{A}", "{B}", "{S2}", "{PLACE}", "{OBJECT}"]
            .iter()
            .fold(template.to_string(), |t, p| t.replace(p, " "));
        unseen.extend(
            words(&bare)
                .into_iter()
                .filter(|w| !seen.contains(w))
                .map(|w| format!("{w:?} of {template:?}")),
        );
    }
    assert!(
        unseen.is_empty(),
        "words in no training sentence: {}",
        unseen.join("; ")
    );
}

/// The trainer's network (`train/src/net.rs`, a burn `Module` Adam can update) is the engine's
/// GPT-2: on the committed demo model's trained weights both give the same logits at every
/// position (they differ only in float summation order and the mask's −1e9 against −∞).
#[test]
fn the_trainers_network_computes_the_engines_logits_on_the_demo_weights() {
    let dir = demo_dir();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let (weights, config) = (read("model.safetensors"), read("config.json"));
    let opts = LoadOptions {
        config_json: Some(&config),
        n_heads: None,
    };
    let host = load_host_weights(&weights, &opts).unwrap();
    let c = host.config.clone();
    let engine = Gpt2::from_host(&host, Processing::none(), &cpu());
    let net = Net::from_host_weights(&host, &cpu()).unwrap();

    let (rows, len) = (3, 24.min(c.n_ctx));
    let ids: Vec<Vec<u32>> = (0..rows)
        .map(|r| {
            (0..len)
                .map(|i| ((i * 7919 + r * 104_729 + 13) % c.d_vocab) as u32)
                .collect()
        })
        .collect();
    let out = engine
        .run(Run {
            source: Source::Tokens(engine.tokens(&ids).unwrap()),
            prefix: None,
            hooks: &Hooks::new(),
            readout: Readout::AllLogits,
        })
        .unwrap();
    let want = to_host(out.logits.expect("AllLogits gives logits")).unwrap();
    let flat: Vec<i64> = ids.iter().flatten().map(|&i| i64::from(i)).collect();
    let tokens = Tensor::<1, Int>::from_data(TensorData::new(flat, [rows * len]), &cpu())
        .reshape([rows, len]);
    let got = to_host(net.logits(&c, tokens)).unwrap();
    assert_eq!(
        got.len(),
        want.len(),
        "[rows * len, d_vocab] logits from both"
    );
    assert_eq!(want.len(), rows * len * c.d_vocab);
    let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
    let worst = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        scale > 1.0,
        "the logits are not trivially small: max |logit| {scale}"
    );
    assert!(
        worst <= 1e-5 * scale,
        "the trainer's logits differ from the engine's by up to {worst} (max |logit| {scale})"
    );
}
