//! What a run does at hook points: caching, patching, gradient leaves and probes.

use std::collections::{BTreeMap, BTreeSet};

use burn::tensor::{Bool, Gradients, Tensor, TensorData};

use crate::error::RunError;
pub use crate::hook_point::HookPoint;
use crate::readback::to_host;

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
    /// `.grad()` is ∂metric/∂hook. A leaf cuts the graph: the gradient at an earlier leaf does
    /// not flow through a later one.
    pub grads: BTreeSet<HookPoint>,
    /// Hooks where a zero is added that is a gradient leaf: the forward pass is unchanged and
    /// [`ActivationCache::probe_grad3`] gives the total ∂metric/∂hook (through every later
    /// hook, probed or not).
    pub probes: BTreeSet<HookPoint>,
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

    pub fn probe(mut self, point: HookPoint) -> Self {
        self.probes.insert(point);
        self
    }

    /// Every hook this run caches, patches or differentiates (with repeats).
    pub(crate) fn points(&self) -> impl Iterator<Item = HookPoint> + '_ {
        self.cache
            .iter()
            .chain(&self.grads)
            .chain(&self.probes)
            .copied()
            .chain(self.patches.iter().map(|p| p.hook))
    }

    pub(crate) fn touches(&self, point: HookPoint) -> bool {
        self.cache.contains(&point)
            || self.grads.contains(&point)
            || self.probes.contains(&point)
            || self.patches.iter().any(|p| p.hook == point)
    }
}

/// Values recorded during a run, by hook.
#[derive(Clone, Debug, Default)]
pub struct ActivationCache {
    pub values: BTreeMap<HookPoint, Activation>,
    /// The zero leaf added at each probed hook (see [`Hooks::probes`]).
    pub probes: BTreeMap<HookPoint, Activation>,
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

    fn probe(&self, point: HookPoint) -> Result<&Activation, RunError> {
        self.probes
            .get(&point)
            .ok_or_else(|| RunError::invalid(format!("hook {point}"), "was not probed in this run"))
    }

    /// ∂metric/∂(hook `point`) after `metric.backward()`, for a probed rank-3 hook.
    pub fn probe_grad3(&self, point: HookPoint, grads: &Gradients) -> Result<Tensor<3>, RunError> {
        self.probe(point)?
            .r3()?
            .grad(grads)
            .ok_or_else(|| RunError::invalid(format!("hook {point}"), "has no gradient"))
    }

    /// ∂metric/∂(hook `point`) after `metric.backward()`, for a probed rank-4 hook.
    pub fn probe_grad4(&self, point: HookPoint, grads: &Gradients) -> Result<Tensor<4>, RunError> {
        self.probe(point)?
            .r4()?
            .grad(grads)
            .ok_or_else(|| RunError::invalid(format!("hook {point}"), "has no gradient"))
    }
}
