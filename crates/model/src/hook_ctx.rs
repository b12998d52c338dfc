//! Applying the hooks of a run (cache, patch, gradient leaf) to each value as the forward pass
//! produces it.

use burn::tensor::{Bool, Tensor};

use crate::error::RunError;
use crate::hooks::{Activation, ActivationCache, HookPoint, Hooks, PatchMask};

/// The hooks of one run and what they cached so far; every module's forward takes it.
pub(crate) struct HookCtx<'a> {
    pub(crate) hooks: &'a Hooks,
    pub(crate) cache: ActivationCache,
}

pub(crate) trait Hookable: Sized + Clone {
    fn wrap(self) -> Activation;
    fn from_act(a: &Activation) -> Result<Self, RunError>;
    fn dims_vec(&self) -> Vec<usize>;
    fn expand_to(self, dims: &[usize]) -> Self;
    fn masked(self, mask: &PatchMask, value: Self) -> Result<Self, RunError>;
    fn grad_leaf(self) -> Self;
    /// A zero of the same shape that is a gradient leaf.
    fn zero_leaf(&self) -> Self;
    fn plus(self, other: Self) -> Self;
}

macro_rules! hookable {
    ($d:literal, $variant:ident) => {
        impl Hookable for Tensor<$d> {
            fn wrap(self) -> Activation {
                Activation::$variant(self)
            }
            fn from_act(a: &Activation) -> Result<Self, RunError> {
                match a {
                    Activation::$variant(t) => Ok(t.clone()),
                    _ => Err(RunError::invalid(
                        "patch value",
                        concat!("expected rank ", $d),
                    )),
                }
            }
            fn dims_vec(&self) -> Vec<usize> {
                self.dims().to_vec()
            }
            fn expand_to(self, dims: &[usize]) -> Self {
                let mut shape = [0usize; $d];
                shape.copy_from_slice(dims);
                self.expand(shape)
            }
            fn masked(self, mask: &PatchMask, value: Self) -> Result<Self, RunError> {
                let PatchMask::$variant(m) = mask else {
                    return Err(RunError::invalid(
                        "patch mask",
                        concat!("expected rank ", $d),
                    ));
                };
                let dims = self.dims();
                let m: Tensor<$d, Bool> = m.clone();
                let md = m.dims();
                if md[0] != 1 && md[0] != dims[0] {
                    return Err(RunError::invalid(
                        "patch mask",
                        format!("{} rows for a batch of {}", md[0], dims[0]),
                    ));
                }
                Ok(self.mask_where(m.expand(dims), value))
            }
            fn grad_leaf(self) -> Self {
                self.detach().autodiff().require_grad()
            }
            fn zero_leaf(&self) -> Self {
                self.zeros_like().detach().autodiff().require_grad()
            }
            fn plus(self, other: Self) -> Self {
                self + other
            }
        }
    };
}
hookable!(3, R3);
hookable!(4, R4);

impl<'a> HookCtx<'a> {
    pub(crate) fn new(hooks: &'a Hooks) -> Self {
        Self {
            hooks,
            cache: ActivationCache::default(),
        }
    }

    /// `t` as the hook `point` leaves it: patched, made a gradient leaf and cached as asked.
    pub(crate) fn at<T: Hookable>(&mut self, point: HookPoint, mut t: T) -> Result<T, RunError> {
        if !self.hooks.touches(point) {
            return Ok(t);
        }
        for patch in self.hooks.patches.iter().filter(|p| p.hook == point) {
            let dims = t.dims_vec();
            let mut value = T::from_act(&patch.value)?;
            let vd = value.dims_vec();
            let batch_ok = vd[0] == dims[0] || vd[0] == 1;
            if !batch_ok || vd[1..] != dims[1..] {
                return Err(RunError::invalid(
                    format!("patch of {point}"),
                    format!("value has shape {vd:?}, the hook has {dims:?}"),
                ));
            }
            if vd[0] != dims[0] {
                value = value.expand_to(&dims);
            }
            t = match &patch.mask {
                None => value,
                Some(mask) => t.masked(mask, value)?,
            };
        }
        if self.hooks.grads.contains(&point) {
            t = t.grad_leaf();
        }
        if self.hooks.probes.contains(&point) {
            let zero = t.zero_leaf();
            self.cache.probes.insert(point, zero.clone().wrap());
            t = t.plus(zero);
        }
        if self.hooks.cache.contains(&point) || self.hooks.grads.contains(&point) {
            self.cache.values.insert(point, t.clone().wrap());
        }
        Ok(t)
    }
}
