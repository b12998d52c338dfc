//! What a checkpoint's tensor names and shapes say before any weight is read: its key layout
//! and its GPT-2 shape (checked against `config.json` when there is one). Shared by the
//! safetensors reader and the header-only load plan.

use crate::config::{Gpt2Config, MAX_LAYERS};
use crate::error::LoadError;
use crate::weights::{KeyLayout, LoadOptions};

/// The key layout tensor names are in (a parsed file's or a header's).
pub(crate) fn layout_of(names: &[&str]) -> Result<KeyLayout, LoadError> {
    if names.contains(&"transformer.wte.weight") {
        Ok(KeyLayout::HuggingFace)
    } else if names.contains(&"wte.weight") {
        Ok(KeyLayout::Hub)
    } else {
        Err(LoadError::MissingTensor(
            "wte.weight (or transformer.wte.weight): is this a GPT-2 checkpoint?".to_string(),
        ))
    }
}

/// The number of blocks the tensor names under `block_prefix` (`h.`) imply, checked against
/// [`MAX_LAYERS`] before it sizes anything (`h.99999999.*` would ask for 10^8).
fn count_layers(names: &[&str], block_prefix: &str) -> Result<usize, LoadError> {
    let mut n_layers = 0;
    for name in names {
        let Some(index) = name
            .strip_prefix(block_prefix)
            .and_then(|rest| rest.split('.').next()?.parse::<u64>().ok())
        else {
            continue;
        };
        if index >= MAX_LAYERS as u64 {
            return Err(LoadError::OutOfBounds {
                what: format!("tensor `{name}` names layer {index}"),
                expected: format!("at most {MAX_LAYERS} layers (0 to {})", MAX_LAYERS - 1),
            });
        }
        n_layers = n_layers.max(index as usize + 1);
    }
    Ok(n_layers)
}

/// The configuration `config.json` gives, checked against the shape the tensors imply.
fn checked_config(
    json: &[u8],
    from_tensors: &Gpt2Config,
    n_heads: Option<usize>,
) -> Result<Gpt2Config, LoadError> {
    let c = Gpt2Config::from_hf_json(json)?;
    let checks: [(&'static str, usize, usize); 5] = [
        ("n_layer", c.n_layers, from_tensors.n_layers),
        ("n_embd", c.d_model, from_tensors.d_model),
        ("n_inner", c.d_mlp, from_tensors.d_mlp),
        ("n_positions", c.n_ctx, from_tensors.n_ctx),
        ("vocab_size", c.d_vocab, from_tensors.d_vocab),
    ];
    for (field, config, tensors) in checks {
        if config != tensors {
            return Err(LoadError::ConfigMismatch {
                field,
                config,
                tensors,
            });
        }
    }
    if let Some(h) = n_heads
        && h != c.n_heads
    {
        return Err(LoadError::BadConfig(format!(
            "n_head is {} but {h} heads were asked for",
            c.n_heads
        )));
    }
    Ok(c)
}

/// The GPT-2 shape of a checkpoint from its tensor names and shapes (and `config.json` when
/// given, which must agree), bounded before anything is allocated from it.
pub(crate) fn infer_config(
    prefix: &str,
    names: &[&str],
    shape_of: &dyn Fn(&str) -> Option<Vec<usize>>,
    opts: &LoadOptions<'_>,
) -> Result<Gpt2Config, LoadError> {
    let shape = |key: &str| {
        let name = format!("{prefix}{key}");
        shape_of(&name).ok_or(LoadError::MissingTensor(name))
    };
    let wte = shape("wte.weight")?;
    let wpe = shape("wpe.weight")?;
    let [d_vocab, d_model] = wte[..] else {
        return Err(LoadError::WrongShape {
            tensor: format!("{}wte.weight", prefix),
            expected: vec![0, 0],
            found: wte,
        });
    };
    let n_ctx = wpe.first().copied().unwrap_or(0);
    let n_layers = count_layers(names, &format!("{prefix}h."))?;
    let d_mlp = if n_layers > 0 {
        shape("h.0.mlp.c_fc.weight")?.get(1).copied().unwrap_or(0)
    } else {
        4 * d_model
    };
    let from_tensors = Gpt2Config {
        n_layers,
        n_heads: opts.n_heads.unwrap_or(0),
        d_model,
        d_mlp,
        n_ctx,
        d_vocab,
        layer_norm_eps: 1e-5,
    };
    let config = match opts.config_json {
        Some(json) => checked_config(json, &from_tensors, opts.n_heads)?,
        None => {
            let h = opts.n_heads.ok_or(LoadError::HeadsUnknown)?;
            if h == 0 || !d_model.is_multiple_of(h) {
                return Err(LoadError::BadConfig(format!(
                    "d_model {d_model} is not a multiple of {h} heads"
                )));
            }
            from_tensors
        }
    };
    config.check_bounds()?;
    if config.n_layers == 0 {
        return Err(LoadError::MissingTensor(format!(
            "{}h.0.ln_1.weight (no transformer blocks found)",
            prefix
        )));
    }
    Ok(config)
}
