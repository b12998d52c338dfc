//! TransformerLens hook points: names, layouts, caching, patching and gradient leaves.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use burn::tensor::{Bool, Tensor, TensorData};

use crate::error::RunError;
use crate::readback::to_host;

/// A place in the forward pass whose value can be cached, replaced or differentiated.
/// Layouts (TransformerLens): `[batch, pos, d]` for residual-like hooks, `[batch, pos, head,
/// d_head]` for q/k/v/z, `[batch, pos, head, d_model]` for result, `[batch, head, query, key]`
/// for attn_scores and pattern, `[batch, pos, d_mlp]` for mlp pre/post.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookPoint {
    Embed,
    PosEmbed,
    ResidPre(usize),
    Ln1Normalized(usize),
    AttnQ(usize),
    AttnK(usize),
    AttnV(usize),
    AttnScores(usize),
    AttnPattern(usize),
    AttnZ(usize),
    AttnResult(usize),
    AttnOut(usize),
    ResidMid(usize),
    MlpIn(usize),
    Ln2Normalized(usize),
    MlpPre(usize),
    MlpPost(usize),
    MlpOut(usize),
    ResidPost(usize),
    LnFinalNormalized,
}

/// Name inside `blocks.{l}.` and constructor of every per-block hook, in execution order.
type BlockHook = (&'static str, fn(usize) -> HookPoint);

const BLOCK_HOOKS: [BlockHook; 17] = [
    ("hook_resid_pre", HookPoint::ResidPre),
    ("ln1.hook_normalized", HookPoint::Ln1Normalized),
    ("attn.hook_q", HookPoint::AttnQ),
    ("attn.hook_k", HookPoint::AttnK),
    ("attn.hook_v", HookPoint::AttnV),
    ("attn.hook_attn_scores", HookPoint::AttnScores),
    ("attn.hook_pattern", HookPoint::AttnPattern),
    ("attn.hook_z", HookPoint::AttnZ),
    ("attn.hook_result", HookPoint::AttnResult),
    ("hook_attn_out", HookPoint::AttnOut),
    ("hook_resid_mid", HookPoint::ResidMid),
    ("hook_mlp_in", HookPoint::MlpIn),
    ("ln2.hook_normalized", HookPoint::Ln2Normalized),
    ("mlp.hook_pre", HookPoint::MlpPre),
    ("mlp.hook_post", HookPoint::MlpPost),
    ("hook_mlp_out", HookPoint::MlpOut),
    ("hook_resid_post", HookPoint::ResidPost),
];

impl HookPoint {
    /// The block this hook belongs to, if any.
    pub fn layer(self) -> Option<usize> {
        use HookPoint::*;
        match self {
            Embed | PosEmbed | LnFinalNormalized => None,
            ResidPre(l) | Ln1Normalized(l) | AttnQ(l) | AttnK(l) | AttnV(l) | AttnScores(l)
            | AttnPattern(l) | AttnZ(l) | AttnResult(l) | AttnOut(l) | ResidMid(l) | MlpIn(l)
            | Ln2Normalized(l) | MlpPre(l) | MlpPost(l) | MlpOut(l) | ResidPost(l) => Some(l),
        }
    }

    /// Rank of the hooked tensor (3 or 4).
    pub fn rank(self) -> usize {
        use HookPoint::*;
        match self {
            AttnQ(_) | AttnK(_) | AttnV(_) | AttnScores(_) | AttnPattern(_) | AttnZ(_)
            | AttnResult(_) => 4,
            _ => 3,
        }
    }

    /// Axis of the component a patch selects (head for attention hooks, neuron or d_model
    /// feature otherwise).
    pub fn component_axis(self) -> usize {
        match self {
            HookPoint::AttnScores(_) | HookPoint::AttnPattern(_) => 1,
            _ => 2,
        }
    }

    /// Axis of the (query) position.
    pub fn position_axis(self) -> usize {
        match self {
            HookPoint::AttnScores(_) | HookPoint::AttnPattern(_) => 2,
            _ => 1,
        }
    }

    /// Every hook of a model with `n_layers` blocks, in execution order.
    pub fn all(n_layers: usize) -> Vec<HookPoint> {
        let mut v = vec![HookPoint::Embed, HookPoint::PosEmbed];
        for l in 0..n_layers {
            v.extend(BLOCK_HOOKS.iter().map(|(_, f)| f(l)));
        }
        v.push(HookPoint::LnFinalNormalized);
        v
    }
}

impl fmt::Display for HookPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookPoint::Embed => f.write_str("hook_embed"),
            HookPoint::PosEmbed => f.write_str("hook_pos_embed"),
            HookPoint::LnFinalNormalized => f.write_str("ln_final.hook_normalized"),
            other => {
                let l = other.layer().unwrap_or(0);
                let name = BLOCK_HOOKS
                    .iter()
                    .find(|(_, make)| make(l) == *other)
                    .map_or("?", |(n, _)| n);
                write!(f, "blocks.{l}.{name}")
            }
        }
    }
}

impl FromStr for HookPoint {
    type Err = RunError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            RunError::invalid(
                format!("unknown hook `{s}`"),
                "expected a TransformerLens name such as blocks.0.attn.hook_z",
            )
        };
        match s {
            "hook_embed" => return Ok(HookPoint::Embed),
            "hook_pos_embed" => return Ok(HookPoint::PosEmbed),
            "ln_final.hook_normalized" => return Ok(HookPoint::LnFinalNormalized),
            _ => {}
        }
        let rest = s.strip_prefix("blocks.").ok_or_else(bad)?;
        let (layer, name) = rest.split_once('.').ok_or_else(bad)?;
        let layer: usize = layer.parse().map_err(|_| bad())?;
        BLOCK_HOOKS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, make)| make(layer))
            .ok_or_else(bad)
    }
}

/// A hooked value: rank 3 or rank 4 (see [`HookPoint`] for layouts).
#[derive(Clone, Debug)]
pub enum Activation {
    R3(Tensor<3>),
    R4(Tensor<4>),
}

impl Activation {
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Activation::R3(t) => t.dims().to_vec(),
            Activation::R4(t) => t.dims().to_vec(),
        }
    }

    pub fn r3(&self) -> Result<Tensor<3>, RunError> {
        match self {
            Activation::R3(t) => Ok(t.clone()),
            Activation::R4(_) => Err(RunError::invalid(
                "activation rank",
                "expected rank 3, got 4",
            )),
        }
    }

    pub fn r4(&self) -> Result<Tensor<4>, RunError> {
        match self {
            Activation::R4(t) => Ok(t.clone()),
            Activation::R3(_) => Err(RunError::invalid(
                "activation rank",
                "expected rank 4, got 3",
            )),
        }
    }

    /// Reads the values back to the host, row-major.
    pub fn to_vec(&self) -> Result<Vec<f32>, RunError> {
        match self {
            Activation::R3(t) => to_host(t.clone()),
            Activation::R4(t) => to_host(t.clone()),
        }
    }
}

/// Which positions a component patch covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Positions {
    All,
    Only(Vec<usize>),
}

/// Replaces a hook's value, wholly or where a mask is true.
#[derive(Clone, Debug)]
pub struct Patch {
    pub hook: HookPoint,
    /// The replacement. Its batch may be 1 (broadcast to the run's batch).
    pub value: Activation,
    /// Where to replace (broadcast to the hooked shape); `None` replaces everything.
    pub mask: Option<PatchMask>,
}

/// A boolean mask of the hook's rank.
#[derive(Clone, Debug)]
pub enum PatchMask {
    R3(Tensor<3, Bool>),
    R4(Tensor<4, Bool>),
}

impl Patch {
    /// Replaces the whole hooked tensor.
    pub fn whole(hook: HookPoint, value: Activation) -> Self {
        Patch {
            hook,
            value,
            mask: None,
        }
    }

    /// Replaces one component (a head of an attention hook, a neuron of `mlp.hook_pre/post`, a
    /// feature of a residual hook) at the given positions.
    pub fn component(
        hook: HookPoint,
        value: Activation,
        component: usize,
        positions: &Positions,
    ) -> Result<Self, RunError> {
        Self::per_row(hook, value, &[component], positions)
    }

    /// Batched patching: row `r` of the run has component `components[r]` replaced (one entry
    /// means every row patches that component).
    pub fn per_row(
        hook: HookPoint,
        value: Activation,
        components: &[usize],
        positions: &Positions,
    ) -> Result<Self, RunError> {
        let dims = value.dims();
        if dims.len() != hook.rank() {
            return Err(RunError::invalid(
                format!("patch of {hook}"),
                format!("value has rank {}, expected {}", dims.len(), hook.rank()),
            ));
        }
        let (c_axis, p_axis) = (hook.component_axis(), hook.position_axis());
        let (n_comp, n_pos) = (dims[c_axis], dims[p_axis]);
        if let Some(&c) = components.iter().find(|&&c| c >= n_comp) {
            return Err(RunError::invalid(
                format!("patch of {hook}"),
                format!("component {c} out of range (the hook has {n_comp})"),
            ));
        }
        let pos_ok: Vec<bool> = match positions {
            Positions::All => vec![true; n_pos],
            Positions::Only(ps) => {
                if let Some(&p) = ps.iter().find(|&&p| p >= n_pos) {
                    return Err(RunError::invalid(
                        format!("patch of {hook}"),
                        format!("position {p} out of range (the run has {n_pos})"),
                    ));
                }
                (0..n_pos).map(|p| ps.contains(&p)).collect()
            }
        };
        // Mask shape: [rows, ..] with size 1 on every axis but rows, positions and components.
        let rows = components.len();
        // With every position patched the mask needs no position axis (it broadcasts).
        let (n_pos, pos_ok) = if *positions == Positions::All {
            (1, vec![true])
        } else {
            (n_pos, pos_ok)
        };
        let mut shape = vec![1usize; dims.len()];
        shape[0] = rows;
        shape[c_axis] = n_comp;
        shape[p_axis] = n_pos;
        let mut mask = Vec::with_capacity(rows * n_comp * n_pos);
        for &comp in components {
            for i in 0..n_pos * n_comp {
                // Positions and components are the only non-unit axes after the batch; their
                // order in memory follows the axis order.
                let (p, c) = if p_axis < c_axis {
                    (i / n_comp, i % n_comp)
                } else {
                    (i % n_pos, i / n_pos)
                };
                mask.push(pos_ok[p] && c == comp);
            }
        }
        let device = match &value {
            Activation::R3(t) => t.device(),
            Activation::R4(t) => t.device(),
        };
        let data = TensorData::new(mask, shape);
        let mask = match dims.len() {
            3 => PatchMask::R3(Tensor::from_data(data, &device)),
            _ => PatchMask::R4(Tensor::from_data(data, &device)),
        };
        Ok(Patch {
            hook,
            value,
            mask: Some(mask),
        })
    }
}

/// What to do at hook points during one run.
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    pub cache: BTreeSet<HookPoint>,
    pub patches: Vec<Patch>,
    /// Hooks whose value becomes a gradient leaf: after `metric.backward()`, the cached value's
    /// `.grad()` is ∂metric/∂hook.
    pub grads: BTreeSet<HookPoint>,
}

impl Hooks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cache(mut self, points: impl IntoIterator<Item = HookPoint>) -> Self {
        self.cache.extend(points);
        self
    }

    pub fn patch(mut self, patch: Patch) -> Self {
        self.patches.push(patch);
        self
    }

    pub fn grad(mut self, point: HookPoint) -> Self {
        self.grads.insert(point);
        self
    }

    /// Every hook this run caches, patches or differentiates (with repeats).
    pub(crate) fn points(&self) -> impl Iterator<Item = HookPoint> + '_ {
        self.cache
            .iter()
            .chain(&self.grads)
            .copied()
            .chain(self.patches.iter().map(|p| p.hook))
    }

    pub(crate) fn touches(&self, point: HookPoint) -> bool {
        self.cache.contains(&point)
            || self.grads.contains(&point)
            || self.patches.iter().any(|p| p.hook == point)
    }
}

/// Values recorded during a run, by hook.
#[derive(Clone, Debug, Default)]
pub struct ActivationCache {
    pub values: BTreeMap<HookPoint, Activation>,
}

impl ActivationCache {
    pub fn get(&self, point: HookPoint) -> Result<&Activation, RunError> {
        self.values
            .get(&point)
            .ok_or_else(|| RunError::invalid(format!("hook {point}"), "was not cached in this run"))
    }

    pub fn r3(&self, point: HookPoint) -> Result<Tensor<3>, RunError> {
        self.get(point)?.r3()
    }

    pub fn r4(&self, point: HookPoint) -> Result<Tensor<4>, RunError> {
        self.get(point)?.r4()
    }
}
