//! Layerwise Integrated Gradients with captum `LayerIntegratedGradients` semantics
//! (`multiply_by_inputs`, attribution to the layer output).
//!
//! captum interpolates in the **target layer's output space**. For layer l, heads: out_i =
//! `hook_result` when `hook_z` is the input activation, out_b = `hook_result` when `hook_z` is
//! the baseline; for every step k, out_b + α_k (out_i − out_b) is injected at `hook_result` and
//! the rest of the model runs on the run's tokens; attribution = (out_i − out_b) ⊙ Σ_k w_k
//! ∂metric/∂out(α_k). Score per head: mean over d_model, then over positions. Neurons: input
//! `hook_mlp_in`, target `mlp.hook_post`, score = mean over positions (a zero `hook_mlp_in`
//! baseline means a `hook_post` baseline of gelu of the folded MLP bias, not zero).
//!
//! All steps of a layer run as one batch (or batches of `steps_per_batch`) that starts at the
//! injected hook: nothing before layer l is recomputed.

use burn::tensor::{Tensor, TensorData};
use gradpatch_model::{
    Activation, Gpt2, HookPoint, Hooks, Patch, Readout, Run, RunError, Source, block_on,
    to_host_async,
};
use gradpatch_runs::PromptRuns;
use serde::{Deserialize, Serialize};

use crate::{Baseline, Progress, Quadrature, Scores, parts};

#[derive(Clone, Copy, Debug)]
pub struct IgOptions {
    pub steps: usize,
    pub quadrature: Quadrature,
    pub baseline: Baseline,
    /// Interpolation steps per forward/backward (all of them by default).
    pub steps_per_batch: usize,
    /// Start each run at the injected hook (fast). `false` runs the whole model from the tokens
    /// and patches the hook, as the reference does: the benchmark's naive IG.
    pub start_at_layer: bool,
    /// Threads sharing the layers (natively, or the threaded browser worker's pool). More than one pays
    /// on the CPU backends: see [`crate::cpu_threads`].
    pub threads: usize,
}

impl Default for IgOptions {
    fn default() -> Self {
        Self {
            steps: 50,
            quadrature: Quadrature::GaussLegendre,
            baseline: Baseline::Zero,
            steps_per_batch: 50,
            start_at_layer: true,
            threads: 1,
        }
    }
}

/// IG scores of one prompt and captum's convergence delta per layer:
/// Σ attributions − (metric(input) − metric(baseline)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IgScores {
    pub scores: Scores,
    /// `[layers][heads][positions]`, row-major: each head's score split over positions, in the
    /// score's normalisation (mean over `d_model`, divided by the position count), so a head's
    /// terms sum to its score.
    pub heads_pos: Vec<f32>,
    pub delta_heads: Vec<f32>,
    pub delta_neurons: Vec<f32>,
}

/// What one layer-level IG call integrates: where to inject, and the two endpoints.
struct Target<const D: usize> {
    out_i: Tensor<D>,
    out_b: Tensor<D>,
}

fn ld_readout(runs: &PromptRuns, rows: usize) -> Readout {
    runs.readout(rows, 0)
}

/// Runs the injected output of layer `l` (`[rows, S, ...]`) through the rest of the model and
/// returns the metric per row.
fn metric_with<const D: usize>(
    model: &Gpt2,
    runs: &PromptRuns,
    l: usize,
    injected: Tensor<D>,
    start_at_layer: bool,
) -> Result<Tensor<1>, RunError>
where
    Tensor<D>: Inject,
{
    let rows = injected.dims()[0];
    let (source, hooks) = if start_at_layer {
        (injected.into_source(runs, l), Hooks::new())
    } else {
        let tokens = vec![runs.clean.tokens.clone(); rows];
        let patch = Patch::whole(Tensor::<D>::hook(l), injected.wrap());
        (
            Source::Tokens(model.tokens(&tokens)?),
            Hooks::new().patch(patch),
        )
    };
    let out = model.run(Run {
        source,
        prefix: None,
        hooks: &hooks,
        readout: ld_readout(runs, rows),
    })?;
    out.logit_diff
        .ok_or_else(|| RunError::invalid("IG", "no logit difference"))
}

trait Inject {
    fn into_source(self, runs: &PromptRuns, l: usize) -> Source;
    fn hook(l: usize) -> HookPoint;
    fn wrap(self) -> Activation;
}

impl Inject for Tensor<4> {
    fn into_source(self, runs: &PromptRuns, l: usize) -> Source {
        let [rows, s, _, _] = self.dims();
        let resid = runs.clean.resid_pre[l].clone();
        let d = resid.dims()[2];
        Source::AttnResult {
            layer: l,
            resid_pre: resid.expand([rows, s, d]),
            result: self,
        }
    }
    fn hook(l: usize) -> HookPoint {
        HookPoint::AttnResult(l)
    }
    fn wrap(self) -> Activation {
        Activation::R4(self)
    }
}

impl Inject for Tensor<3> {
    fn into_source(self, runs: &PromptRuns, l: usize) -> Source {
        let [rows, s, _] = self.dims();
        let resid = runs.clean.resid_mid[l].clone();
        let d = resid.dims()[2];
        Source::MlpPost {
            layer: l,
            resid_mid: resid.expand([rows, s, d]),
            post: self,
        }
    }
    fn hook(l: usize) -> HookPoint {
        HookPoint::MlpPost(l)
    }
    fn wrap(self) -> Activation {
        Activation::R3(self)
    }
}

/// What one layer-level integration leaves on the device: nothing is read back here, so that
/// a part reads its numbers back once (each readback waits for the GPU to finish).
struct Integral<const D: usize> {
    /// `(out_i − out_b) ⊙ Σ_k w_k g(α_k)`, `[1, S, ...]`.
    attribution: Tensor<D>,
    /// `Σ_k w_k g(α_k)`, `[1, S, ...]`.
    g_sum: Tensor<D>,
    /// The metric at the baseline (`[1]`): f(baseline) of the convergence delta.
    f_b: Tensor<1>,
}

/// Integrates one layer's output from `target.out_b` to `target.out_i`. The baseline's metric
/// (for the convergence delta) comes from an extra row of the first batch, α = 0 with weight 0,
/// instead of a forward pass of its own.
fn integrate<const D: usize>(
    model: &Gpt2,
    runs: &PromptRuns,
    l: usize,
    target: Target<D>,
    opts: &IgOptions,
) -> Result<Integral<D>, RunError>
where
    Tensor<D>: Inject,
{
    let (alphas, weights) = opts
        .quadrature
        .nodes(opts.steps)
        .map_err(|e| RunError::invalid("IG", e.to_string()))?;
    let device = model.device();
    let diff = target.out_i.clone() - target.out_b.clone();
    let dims = diff.dims();
    let mut bshape = [1usize; D];
    let mut g_sum: Option<Tensor<D>> = None;
    let mut f_b = None;
    let per = opts.steps_per_batch.max(1);
    for k0 in (0..alphas.len()).step_by(per) {
        let k1 = (k0 + per).min(alphas.len());
        // captum casts alphas and step sizes to float32.
        let mut a: Vec<f32> = alphas[k0..k1].iter().map(|&x| x as f32).collect();
        let mut w: Vec<f32> = weights[k0..k1].iter().map(|&x| x as f32).collect();
        let baseline_row = f_b.is_none();
        if baseline_row {
            a.insert(0, 0.0);
            w.insert(0, 0.0);
        }
        let rows = a.len();
        bshape[0] = rows;
        let col = |v: Vec<f32>| Tensor::<D>::from_data(TensorData::new(v, bshape), device);
        let mut full = dims;
        full[0] = rows;
        let injected = (target.out_b.clone().expand(full) + col(a) * diff.clone().expand(full))
            .autodiff()
            .require_grad();
        let metric = metric_with(model, runs, l, injected.clone(), opts.start_at_layer)?;
        if baseline_row {
            // Row 0 is out_b + 0·diff = out_b exactly.
            f_b = Some(metric.clone().narrow(0, 0, 1).inner());
        }
        let grads = metric.sum().backward();
        let g = injected
            .grad(&grads)
            .ok_or_else(|| RunError::invalid("IG", "no gradient at the injected activation"))?;
        let weighted = (g * col(w)).sum_dim(0);
        g_sum = Some(match g_sum {
            Some(acc) => acc + weighted,
            None => weighted,
        });
    }
    let (Some(g_sum), Some(f_b)) = (g_sum, f_b) else {
        return Err(RunError::invalid("IG", "no steps"));
    };
    Ok(Integral {
        attribution: diff * g_sum.clone(),
        g_sum,
        f_b,
    })
}

/// IG for every head and neuron of one prompt (run on its clean tokens, input = clean
/// activations). Progress: one unit per layer and kind (heads, neurons).
pub fn integrated_gradients(
    model: &Gpt2,
    runs: &PromptRuns,
    opts: &IgOptions,
    progress: &mut dyn Progress,
) -> Result<(IgScores, bool), RunError> {
    block_on(integrated_gradients_async(model, runs, opts, progress))
}

/// One unit of IG work: the heads or the neurons of one layer.
#[derive(Clone, Copy, Debug)]
enum Part {
    Heads(usize),
    Neurons(usize),
}

/// Scores of one part (`[n_heads]` or `[d_mlp]`), its convergence delta, and for heads the
/// per-position terms (`[positions, n_heads]`, row-major).
type PartScores = (Vec<f32>, f32, Vec<f32>);

/// [`integrated_gradients`] for platforms that cannot block (WebGPU in the browser).
pub async fn integrated_gradients_async(
    model: &Gpt2,
    runs: &PromptRuns,
    opts: &IgOptions,
    progress: &mut dyn Progress,
) -> Result<(IgScores, bool), RunError> {
    let c = &model.config;
    let (h, m, nl) = (c.n_heads, c.d_mlp, c.n_layers);
    // Most expensive first (an early layer's run goes through more blocks): the order of the
    // sequential loop and the queue of the threads.
    let parts: Vec<Part> = (0..nl)
        .flat_map(|l| [Part::Heads(l), Part::Neurons(l)])
        .collect();
    let (done, complete) = parts::run(
        &parts,
        opts.threads,
        |&part| ig_part(model, runs, opts, part),
        |_| 1,
        progress,
    )
    .await?;
    let len = runs.len();
    let mut out = IgScores {
        scores: Scores::nan(nl, h, m),
        heads_pos: vec![f32::NAN; nl * h * len],
        delta_heads: vec![f32::NAN; nl],
        delta_neurons: vec![f32::NAN; nl],
    };
    for (part, scores) in parts.iter().zip(done) {
        let Some((values, delta, terms)) = scores else {
            continue;
        };
        match *part {
            Part::Heads(l) => {
                out.scores.heads[l * h..(l + 1) * h].copy_from_slice(&values);
                out.delta_heads[l] = delta;
                // terms: [positions, heads] -> [heads][positions].
                for head in 0..h {
                    for p in 0..len {
                        out.heads_pos[(l * h + head) * len + p] = terms[p * h + head];
                    }
                }
            }
            Part::Neurons(l) => {
                out.scores.neurons[l * m..(l + 1) * m].copy_from_slice(&values);
                out.delta_neurons[l] = delta;
            }
        }
    }
    Ok((out, complete))
}

/// IG of one part, read back from the device at once.
async fn ig_part(
    model: &Gpt2,
    runs: &PromptRuns,
    opts: &IgOptions,
    part: Part,
) -> Result<PartScores, RunError> {
    match part {
        Part::Heads(l) => {
            let z_in = runs.clean.z[l].clone();
            let z_b = match opts.baseline {
                Baseline::Zero => z_in.zeros_like(),
                Baseline::Corrupted => runs.corrupted.z[l].clone(),
            };
            let (out_i, out_b) = (
                model.attn_result_from_z(l, z_in)?,
                model.attn_result_from_z(l, z_b)?,
            );
            let (attr, total, f_b) = if opts.start_at_layer {
                // The heads' results only reach the rest of the model through their sum, so the
                // gradient w.r.t. each head's result is the gradient w.r.t. the sum: integrate
                // the summed path ([rows, S, 1, d], H times smaller) and spread its gradient
                // over the heads. Exact; the convergence delta is unchanged
                // (Σ_h diff_h ⊙ g = diff_sum ⊙ g).
                let diff = out_i.clone() - out_b.clone();
                let summed = Target {
                    out_i: out_i.sum_dim(2),
                    out_b: out_b.sum_dim(2),
                };
                let i = integrate(model, runs, l, summed, opts)?;
                (diff * i.g_sum, i.attribution.sum(), i.f_b)
            } else {
                let i = integrate(model, runs, l, Target { out_i, out_b }, opts)?;
                (i.attribution.clone(), i.attribution.sum(), i.f_b)
            };
            // [1, S, H, D] -> mean over D: [S, H] per-position means; the score is their mean
            // over S, and a position's term is its mean divided by S.
            let per_pos = attr.mean_dim(3);
            let [_, s, h, _] = per_pos.dims();
            let values = per_pos.clone().mean_dim(1).reshape([h]);
            let terms = (per_pos / s as f64).reshape([s * h]);
            read_back(runs, values, Some(terms), total, f_b).await
        }
        Part::Neurons(l) => {
            let in_ = runs.clean.mlp_in[l].clone();
            let base = match opts.baseline {
                Baseline::Zero => in_.zeros_like(),
                Baseline::Corrupted => runs.corrupted.mlp_in[l].clone(),
            };
            let target = Target {
                out_i: model.mlp_post_from_in(l, in_)?,
                out_b: model.mlp_post_from_in(l, base)?,
            };
            let i = integrate(model, runs, l, target, opts)?;
            let m = i.attribution.dims()[2];
            let values = i.attribution.clone().mean_dim(1).reshape([m]);
            read_back(runs, values, None, i.attribution.sum(), i.f_b).await
        }
    }
}

/// A part's numbers in one readback (each waits for the GPU): its scores, the per-position
/// terms if any, Σ attribution and f(baseline), the last two giving the convergence delta.
async fn read_back(
    runs: &PromptRuns,
    values: Tensor<1>,
    terms: Option<Tensor<1>>,
    total: Tensor<1>,
    f_b: Tensor<1>,
) -> Result<PartScores, RunError> {
    let n = values.dims()[0];
    let on_device = [Some(values), terms, Some(total.reshape([1])), Some(f_b)];
    let host = to_host_async(Tensor::cat(on_device.into_iter().flatten().collect(), 0)).await?;
    let (values, rest) = host.split_at(n);
    let (terms, ends) = rest.split_at(rest.len() - 2);
    // Captum's convergence delta: Σ attributions − (f(input) − f(baseline)), where f(input) is
    // the run's own metric (out_i is its cached activation).
    let delta = ends[0] - (runs.clean.logit_diff - ends[1]);
    Ok((values.to_vec(), delta, terms.to_vec()))
}
