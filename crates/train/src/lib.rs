//! The project's own small GPT-2 that does IOI: a byte-level BPE tokenizer and a GPT-2
//! trained with burn (autodiff, Adam) on IOI text from the project's generator, written as a
//! Hugging Face checkpoint the engine loads; and the IOI evaluation on held-out prompts.
//!
//! Deterministic for a seed: the text stream, the initialisation and the batches come from
//! seeded generators, and the CPU backend computes the same way every run.

pub mod bpe;
pub mod corpus;
mod error;
pub mod eval;
pub mod grammar;
pub mod net;
pub mod random;
pub mod splits;

use std::path::Path;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use gradpatch_dataset::Gpt2Tokenizer;
use gradpatch_model::{Gpt2Config, HostWeights, KeyLayout, StoreDtype, to_host, to_safetensors};
use splits::all_names;

pub use corpus::{Example, Sampler};
pub use error::TrainError;
pub use eval::{IoiEval, TemplateEval, eval_by_template, eval_ioi};
pub use net::Net;
pub use splits::Split;

/// Everything that decides the trained files.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub seed: u64,
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_model: usize,
    pub d_mlp: usize,
    pub n_ctx: usize,
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub warmup: usize,
    /// Weight of the mean answer-token loss next to the mean loss over all tokens.
    pub answer_weight: f32,
    /// Out of 16 training sentences, how many are IOI (the rest filler).
    pub ioi_per_16: usize,
    /// Sentences the tokenizer is trained on.
    pub tokenizer_sentences: usize,
    pub max_vocab: usize,
}

impl TrainConfig {
    /// The committed demo model (`web/models/ioi-demo`).
    pub fn demo(seed: u64) -> Self {
        Self {
            seed,
            n_layers: 3,
            n_heads: 4,
            d_model: 128,
            d_mlp: 512,
            n_ctx: 64,
            steps: 1200,
            batch: 64,
            lr: 2e-3,
            warmup: 100,
            answer_weight: 1.0,
            ioi_per_16: 11,
            tokenizer_sentences: 20_000,
            max_vocab: 2048,
        }
    }

    /// A few steps of a tiny model, for tests.
    pub fn tiny(seed: u64) -> Self {
        Self {
            n_layers: 1,
            n_heads: 2,
            d_model: 16,
            d_mlp: 32,
            n_ctx: 32,
            steps: 3,
            batch: 4,
            warmup: 1,
            tokenizer_sentences: 5_000,
            ..Self::demo(seed)
        }
    }

    fn model_config(&self, d_vocab: usize) -> Gpt2Config {
        Gpt2Config {
            n_layers: self.n_layers,
            n_heads: self.n_heads,
            d_model: self.d_model,
            d_mlp: self.d_mlp,
            n_ctx: self.n_ctx,
            d_vocab,
            layer_norm_eps: 1e-5,
        }
    }

    /// Linear warm-up, then cosine decay to a tenth.
    fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let t = (step - self.warmup) as f64 / (self.steps - self.warmup).max(1) as f64;
        self.lr * (0.1 + 0.45 * (1.0 + (std::f64::consts::PI * t).cos()))
    }
}

/// Where training stands, for a progress display.
#[derive(Clone, Debug)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    /// Mean loss over all predicted tokens of the last batch.
    pub loss: f32,
    /// Mean loss of the IOI answers of the last batch.
    pub answer_loss: f32,
    pub seconds: f64,
}

/// The trained files.
pub struct Trained {
    pub weights: HostWeights,
    pub tokenizer_json: String,
}

impl Trained {
    /// `(file name, bytes)`: model.safetensors (Hugging Face keys, f32), tokenizer.json,
    /// config.json.
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>, TrainError> {
        let st = to_safetensors(&self.weights, KeyLayout::HuggingFace, StoreDtype::F32)?;
        let config = serde_json::to_vec_pretty(&self.weights.config.to_hf_json())?;
        Ok(vec![
            ("model.safetensors", st),
            ("tokenizer.json", self.tokenizer_json.clone().into_bytes()),
            ("config.json", config),
        ])
    }

    pub fn write(&self, dir: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(dir).map_err(|source| TrainError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        for (name, bytes) in self.files()? {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|source| TrainError::Write { path, source })?;
        }
        Ok(())
    }
}

/// One batch: right-padded inputs `[B, S]`, flattened targets and per-position loss weights
/// (all-token mean plus `answer_weight` × answer mean; padding weighs nothing).
struct Batch {
    inputs: Vec<i64>,
    targets: Vec<i64>,
    weights: Vec<f32>,
    answers: Vec<f32>,
    rows: usize,
    len: usize,
}

fn make_batch(
    sampler: &mut Sampler,
    tok: &Gpt2Tokenizer,
    cfg: &TrainConfig,
) -> Result<Batch, TrainError> {
    let rows: Vec<(Vec<u32>, bool)> = (0..cfg.batch)
        .map(|_| sampler.next_example().tokens(tok))
        .collect::<Result<_, _>>()?;
    let len = rows
        .iter()
        .map(|(ids, _)| ids.len().saturating_sub(1))
        .max()
        .unwrap_or(1)
        .max(1);
    if len > cfg.n_ctx {
        return Err(TrainError::SentenceTooLong {
            len,
            n_ctx: cfg.n_ctx,
        });
    }
    let pad = i64::from(tok.bos_id());
    let n = cfg.batch * len;
    let (mut inputs, mut targets) = (vec![pad; n], vec![pad; n]);
    let (mut lm, mut ans) = (vec![0.0f32; n], vec![0.0f32; n]);
    for (r, (ids, is_ioi)) in rows.iter().enumerate() {
        for (i, w) in ids.windows(2).enumerate() {
            inputs[r * len + i] = i64::from(w[0]);
            targets[r * len + i] = i64::from(w[1]);
            lm[r * len + i] = 1.0;
        }
        // The answer is the last token: predicted at the position before it.
        if *is_ioi && ids.len() >= 2 {
            ans[r * len + ids.len() - 2] = 1.0;
        }
    }
    let n_lm = lm.iter().sum::<f32>().max(1.0);
    let n_ans = ans.iter().sum::<f32>().max(1.0);
    let weights = lm
        .iter()
        .zip(&ans)
        .map(|(l, a)| l / n_lm + cfg.answer_weight * a / n_ans)
        .collect();
    Ok(Batch {
        inputs,
        targets,
        weights,
        answers: ans.iter().map(|a| a / n_ans).collect(),
        rows: cfg.batch,
        len,
    })
}

fn scalar(t: Tensor<1>) -> Result<f32, TrainError> {
    to_host(t)?.first().copied().ok_or(TrainError::EmptyLoss)
}

/// Trains the tokenizer, then the model, on `device` (made differentiable here), calling
/// `progress` after every step.
pub fn train(
    cfg: &TrainConfig,
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained, TrainError> {
    let start = Instant::now();
    if cfg.n_heads == 0 || !cfg.d_model.is_multiple_of(cfg.n_heads) || cfg.steps == 0 {
        return Err(TrainError::Shape {
            d_model: cfg.d_model,
            n_heads: cfg.n_heads,
            steps: cfg.steps,
        });
    }
    // The tokenizer's text comes from its own stream so that the model's batches do not
    // depend on the corpus size.
    let mut text = Sampler::new(cfg.seed ^ 0x7E47, cfg.ioi_per_16);
    let corpus: Vec<String> = (0..cfg.tokenizer_sentences)
        .map(|_| text.next_example().text())
        .collect();
    let tokenizer_json = bpe::train_tokenizer(&corpus, cfg.max_vocab, &all_names())?;
    let tok = Gpt2Tokenizer::from_bytes(tokenizer_json.as_bytes())?;
    let config = cfg.model_config(tok.vocab_size());

    let device = device.clone().autodiff();
    let mut net = Net::init(&config, cfg.seed, &device);
    let mut optim = AdamConfig::new()
        .with_epsilon(1e-8)
        .with_beta_2(0.98)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut sampler = Sampler::new(cfg.seed, cfg.ioi_per_16);
    for step in 0..cfg.steps {
        let b = make_batch(&mut sampler, &tok, cfg)?;
        let n = b.rows * b.len;
        let int = |v: Vec<i64>| TensorData::new(v, [n]);
        let inputs = Tensor::<1, Int>::from_data(int(b.inputs), &device).reshape([b.rows, b.len]);
        let targets = Tensor::<1, Int>::from_data(int(b.targets), &device);
        let weights = Tensor::<1>::from_data(TensorData::new(b.weights, [n]), &device);
        let answers = Tensor::<1>::from_data(TensorData::new(b.answers, [n]), &device);
        let nll = net.nll(&config, inputs, targets);
        let loss = (nll.clone() * weights).sum();
        let answer = (nll.detach() * answers).sum();
        let (total, answer) = (scalar(loss.clone())?, scalar(answer)?);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(cfg.lr_at(step), net, grads);
        progress(&Progress {
            step: step + 1,
            steps: cfg.steps,
            loss: total - cfg.answer_weight * answer,
            answer_loss: answer,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    Ok(Trained {
        weights: net.to_host_weights(&config)?,
        tokenizer_json,
    })
}
