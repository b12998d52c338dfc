//! TransformerLens hook points: the places of the forward pass, their names and layouts.

use std::fmt;
use std::str::FromStr;

use crate::error::RunError;

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
