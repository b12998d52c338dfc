//! The GPT-2 being trained: the engine's architecture (learned positional embeddings, pre-LN
//! blocks, GELU-new MLP, final LayerNorm, unembedding tied to the token embedding) as a burn
//! [`Module`] whose parameters Adam updates. Matrices keep GPT-2's Conv1D orientation
//! (`[in, out]`, heads the slow part of `d_model`), so the trained values become
//! [`HostWeights`] and a Hugging Face checkpoint without any reshuffling.

use burn::module::{Module, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use gradpatch_model::weights::LayerWeights;
use gradpatch_model::{Gpt2Config, HostWeights, gelu_new, to_host};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::TrainError;

#[derive(Module, Debug)]
pub struct Block {
    ln1_w: Param<Tensor<1>>,
    ln1_b: Param<Tensor<1>>,
    w_q: Param<Tensor<2>>,
    w_k: Param<Tensor<2>>,
    w_v: Param<Tensor<2>>,
    b_q: Param<Tensor<1>>,
    b_k: Param<Tensor<1>>,
    b_v: Param<Tensor<1>>,
    w_o: Param<Tensor<2>>,
    b_o: Param<Tensor<1>>,
    ln2_w: Param<Tensor<1>>,
    ln2_b: Param<Tensor<1>>,
    w_in: Param<Tensor<2>>,
    b_in: Param<Tensor<1>>,
    w_out: Param<Tensor<2>>,
    b_out: Param<Tensor<1>>,
}

#[derive(Module, Debug)]
pub struct Net {
    wte: Param<Tensor<2>>,
    wpe: Param<Tensor<2>>,
    blocks: Vec<Block>,
    lnf_w: Param<Tensor<1>>,
    lnf_b: Param<Tensor<1>>,
}

/// Normal samples by Box–Muller from a seeded generator (identical on every platform, no extra
/// dependency); also what `gradpatch make-random-gpt2` draws its weights from.
pub struct Normal(StdRng);

impl Normal {
    pub fn new(seed: u64) -> Self {
        Self(StdRng::seed_from_u64(seed))
    }

    /// `n` samples of N(mean, std²).
    pub fn vec(&mut self, n: usize, mean: f32, std: f32) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let u1: f64 = self.0.random::<f64>().max(f64::MIN_POSITIVE);
            let u2: f64 = self.0.random();
            let r = (-2.0 * u1.ln()).sqrt();
            let t = std::f64::consts::TAU * u2;
            out.push(mean + std * (r * t.cos()) as f32);
            out.push(mean + std * (r * t.sin()) as f32);
        }
        out.truncate(n);
        out
    }
}

fn param1(data: Vec<f32>, device: &Device) -> Param<Tensor<1>> {
    let n = data.len();
    Param::from_tensor(Tensor::from_data(TensorData::new(data, [n]), device))
}

fn param2(data: Vec<f32>, shape: [usize; 2], device: &Device) -> Param<Tensor<2>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(data, shape), device))
}

fn layer_norm(x: Tensor<3>, w: &Param<Tensor<1>>, b: &Param<Tensor<1>>, eps: f64) -> Tensor<3> {
    let x = x.clone() - x.mean_dim(2);
    let scale = ((x.clone() * x.clone()).mean_dim(2) + eps).sqrt();
    x / scale * w.val().unsqueeze::<3>() + b.val().unsqueeze::<3>()
}

/// `x @ w + b` over the last axis of `[B, S, in]`.
fn linear(x: Tensor<3>, w: &Param<Tensor<2>>, b: &Param<Tensor<1>>) -> Tensor<3> {
    let [batch, s, d_in] = x.dims();
    let w = w.val();
    let d_out = w.dims()[1];
    (x.reshape([batch * s, d_in]).matmul(w) + b.val().unsqueeze::<2>()).reshape([batch, s, d_out])
}

impl Net {
    /// GPT-2's initialisation: weights N(0, 0.02), residual projections scaled by
    /// 1/sqrt(2 n_layers), positional embeddings N(0, 0.01), zero biases, unit LayerNorms.
    pub fn init(c: &Gpt2Config, seed: u64, device: &Device) -> Self {
        let mut n = Normal::new(seed);
        let (d, m, v) = (c.d_model, c.d_mlp, c.d_vocab);
        let proj = 0.02 / (2.0 * c.n_layers as f32).sqrt();
        let ones = |k: usize| param1(vec![1.0; k], device);
        let zeros = |k: usize| param1(vec![0.0; k], device);
        let blocks = (0..c.n_layers)
            .map(|_| Block {
                ln1_w: ones(d),
                ln1_b: zeros(d),
                w_q: param2(n.vec(d * d, 0.0, 0.02), [d, d], device),
                w_k: param2(n.vec(d * d, 0.0, 0.02), [d, d], device),
                w_v: param2(n.vec(d * d, 0.0, 0.02), [d, d], device),
                b_q: zeros(d),
                b_k: zeros(d),
                b_v: zeros(d),
                w_o: param2(n.vec(d * d, 0.0, proj), [d, d], device),
                b_o: zeros(d),
                ln2_w: ones(d),
                ln2_b: zeros(d),
                w_in: param2(n.vec(d * m, 0.0, 0.02), [d, m], device),
                b_in: zeros(m),
                w_out: param2(n.vec(m * d, 0.0, proj), [m, d], device),
                b_out: zeros(d),
            })
            .collect();
        Self {
            wte: param2(n.vec(v * d, 0.0, 0.02), [v, d], device),
            wpe: param2(n.vec(c.n_ctx * d, 0.0, 0.01), [c.n_ctx, d], device),
            blocks,
            lnf_w: ones(d),
            lnf_b: zeros(d),
        }
    }

    /// Logits `[B * S, d_vocab]` of right-padded token rows `[B, S]`.
    pub fn logits(&self, c: &Gpt2Config, tokens: Tensor<2, Int>) -> Tensor<2> {
        let [batch, s] = tokens.dims();
        let (d, h) = (c.d_model, c.n_heads);
        let dh = d / h;
        let device = tokens.device();
        let embed = self.wte.val().select(0, tokens.reshape([batch * s]));
        let pos = self.wpe.val().narrow(0, 0, s).unsqueeze::<3>();
        let mut x = embed.reshape([batch, s, d]) + pos;
        let mask: Vec<bool> = (0..s * s).map(|i| i % s > i / s).collect();
        let mask = Tensor::<4, Bool>::from_data(TensorData::new(mask, [1, 1, s, s]), &device)
            .expand([batch, h, s, s]);
        let eps = c.layer_norm_eps;
        for blk in &self.blocks {
            let a = layer_norm(x.clone(), &blk.ln1_w, &blk.ln1_b, eps);
            let heads = |w, b| {
                linear(a.clone(), w, b)
                    .reshape([batch, s, h, dh])
                    .swap_dims(1, 2)
            };
            let (q, k, v) = (
                heads(&blk.w_q, &blk.b_q),
                heads(&blk.w_k, &blk.b_k),
                heads(&blk.w_v, &blk.b_v),
            );
            let scores = q.matmul(k.transpose()) / (dh as f64).sqrt();
            let pattern =
                burn::tensor::activation::softmax(scores.mask_fill(mask.clone(), -1e9), 3);
            let z = pattern.matmul(v).swap_dims(1, 2).reshape([batch, s, d]);
            x = x + linear(z, &blk.w_o, &blk.b_o);
            let mid = layer_norm(x.clone(), &blk.ln2_w, &blk.ln2_b, eps);
            let post = gelu_new(linear(mid, &blk.w_in, &blk.b_in));
            x = x + linear(post, &blk.w_out, &blk.b_out);
        }
        let x = layer_norm(x, &self.lnf_w, &self.lnf_b, eps);
        x.reshape([batch * s, d]).matmul(self.wte.val().transpose())
    }

    /// Next-token negative log-likelihood of every position, `[B * S]`.
    pub fn nll(
        &self,
        c: &Gpt2Config,
        tokens: Tensor<2, Int>,
        targets: Tensor<1, Int>,
    ) -> Tensor<1> {
        let logp = log_softmax(self.logits(c, tokens), 1);
        let n = targets.dims()[0];
        logp.gather(1, targets.reshape([n, 1])).reshape([n]).neg()
    }

    /// The network holding `w` (unprocessed, unembedding tied to `wte`): the inverse of
    /// [`Net::to_host_weights`], so a trained checkpoint can be run through [`Net::logits`].
    pub fn from_host_weights(w: &HostWeights, device: &Device) -> Result<Self, TrainError> {
        let c = &w.config;
        let (d, m, v) = (c.d_model, c.d_mlp, c.d_vocab);
        if w.unembed != w.w_e {
            return Err(TrainError::Untied);
        }
        let ln = |p: &Option<(Vec<f32>, Vec<f32>)>, what: &'static str| {
            p.as_ref()
                .map(|(g, b)| (param1(g.clone(), device), param1(b.clone(), device)))
                .ok_or(TrainError::Folded(what))
        };
        let blocks = w
            .layers
            .iter()
            .map(|l| {
                let (ln1_w, ln1_b) = ln(&l.ln1, "ln_1")?;
                let (ln2_w, ln2_b) = ln(&l.ln2, "ln_2")?;
                Ok(Block {
                    ln1_w,
                    ln1_b,
                    w_q: param2(l.w_q.clone(), [d, d], device),
                    w_k: param2(l.w_k.clone(), [d, d], device),
                    w_v: param2(l.w_v.clone(), [d, d], device),
                    b_q: param1(l.b_q.clone(), device),
                    b_k: param1(l.b_k.clone(), device),
                    b_v: param1(l.b_v.clone(), device),
                    w_o: param2(l.w_o.clone(), [d, d], device),
                    b_o: param1(l.b_o.clone(), device),
                    ln2_w,
                    ln2_b,
                    w_in: param2(l.w_in.clone(), [d, m], device),
                    b_in: param1(l.b_in.clone(), device),
                    w_out: param2(l.w_out.clone(), [m, d], device),
                    b_out: param1(l.b_out.clone(), device),
                })
            })
            .collect::<Result<Vec<_>, TrainError>>()?;
        let (lnf_w, lnf_b) = ln(&w.ln_f, "ln_f")?;
        Ok(Self {
            wte: param2(w.w_e.clone(), [v, d], device),
            wpe: param2(w.w_pos.clone(), [c.n_ctx, d], device),
            blocks,
            lnf_w,
            lnf_b,
        })
    }

    /// The trained values as host weights (unprocessed, unembedding tied to `wte`).
    pub fn to_host_weights(&self, c: &Gpt2Config) -> Result<HostWeights, TrainError> {
        fn host<const D: usize>(p: &Param<Tensor<D>>) -> Result<Vec<f32>, TrainError> {
            Ok(to_host(p.val().inner())?)
        }
        let layers = self
            .blocks
            .iter()
            .map(|b| {
                Ok(LayerWeights {
                    ln1: Some((host(&b.ln1_w)?, host(&b.ln1_b)?)),
                    w_q: host(&b.w_q)?,
                    w_k: host(&b.w_k)?,
                    w_v: host(&b.w_v)?,
                    b_q: host(&b.b_q)?,
                    b_k: host(&b.b_k)?,
                    b_v: host(&b.b_v)?,
                    w_o: host(&b.w_o)?,
                    b_o: host(&b.b_o)?,
                    ln2: Some((host(&b.ln2_w)?, host(&b.ln2_b)?)),
                    w_in: host(&b.w_in)?,
                    b_in: host(&b.b_in)?,
                    w_out: host(&b.w_out)?,
                    b_out: host(&b.b_out)?,
                })
            })
            .collect::<Result<Vec<_>, TrainError>>()?;
        let w_e = host(&self.wte)?;
        Ok(HostWeights {
            config: c.clone(),
            w_pos: host(&self.wpe)?,
            layers,
            ln_f: Some((host(&self.lnf_w)?, host(&self.lnf_b)?)),
            unembed: w_e.clone(),
            w_e,
            b_u: vec![0.0; c.d_vocab],
        })
    }
}
