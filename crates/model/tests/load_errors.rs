//! Every kind of bad checkpoint gives a typed error whose message names the problem.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_model::{LoadError, LoadOptions, load_host_weights};
use gradpatch_testdata::{model_a_dir, read};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

fn model_a() -> Vec<u8> {
    read(model_a_dir().join("model.safetensors"))
}

fn config() -> Vec<u8> {
    read(model_a_dir().join("config.json"))
}

fn load(bytes: &[u8]) -> Result<gradpatch_model::HostWeights, LoadError> {
    let c = config();
    load_host_weights(
        bytes,
        &LoadOptions {
            config_json: Some(&c),
            n_heads: None,
        },
    )
}

/// Re-serialises model-a with one tensor changed (`Some`) or dropped (`None`).
fn rewrite(
    edit: impl Fn(&str, &TensorView<'_>) -> Option<(Dtype, Vec<usize>, Vec<u8>)>,
) -> Vec<u8> {
    let bytes = model_a();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .filter_map(|(name, view)| edit(&name, &view).map(|(d, s, b)| (name, d, s, b)))
        .collect();
    let views = owned
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()));
    safetensors::serialize(views, None).unwrap()
}

fn keep(v: &TensorView<'_>) -> Option<(Dtype, Vec<usize>, Vec<u8>)> {
    Some((v.dtype(), v.shape().to_vec(), v.data().to_vec()))
}

fn header_file(header: &str, data_len: usize) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend_from_slice(header.as_bytes());
    b.extend(std::iter::repeat_n(0u8, data_len));
    b
}

fn err_of(bytes: &[u8]) -> LoadError {
    load(bytes).expect_err("must be refused")
}

#[test]
fn model_a_loads() {
    let w = load(&model_a()).unwrap();
    assert_eq!(
        (
            w.config.n_layers,
            w.config.n_heads,
            w.config.d_model,
            w.config.d_mlp
        ),
        (2, 4, 64, 256)
    );
}

#[test]
fn not_safetensors() {
    let e = err_of(b"hello");
    assert!(matches!(e, LoadError::NotSafetensors(_)), "{e}");
    assert!(e.to_string().contains("not a safetensors file"), "{e}");
    // An HTML error page: its first 8 bytes read as an absurd header length.
    let e = err_of(b"<!DOCTYPE html><html>404 Not Found</html>");
    assert!(matches!(e, LoadError::HeaderBeyondFile { .. }), "{e}");
}

#[test]
fn header_length_beyond_file() {
    let mut b = 1000u64.to_le_bytes().to_vec();
    b.extend_from_slice(b"{}");
    let e = err_of(&b);
    assert!(
        matches!(
            e,
            LoadError::HeaderBeyondFile {
                header_len: 1000,
                file_len: 10
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("1000") && e.to_string().contains("10 bytes"),
        "{e}"
    );
}

#[test]
fn header_not_json() {
    let e = err_of(&header_file("{not json", 0));
    assert!(matches!(e, LoadError::HeaderNotJson(_)), "{e}");
}

#[test]
fn offsets_out_of_range_overlapping_or_gapped() {
    let cases = [
        // Data ends before the declared range.
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        // Overlap: b starts inside a.
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        // Gap between a and b.
        r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
        // Range does not match shape x dtype.
        r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
    ];
    for (header, data) in cases.iter().zip([4usize, 12, 12, 8]) {
        let e = err_of(&header_file(header, data));
        assert!(matches!(e, LoadError::BadOffsets(_)), "{header}: {e}");
    }
}

#[test]
fn truncated_file() {
    let mut b = model_a();
    b.truncate(b.len() - 100);
    let e = err_of(&b);
    assert!(matches!(e, LoadError::BadOffsets(_)), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn unsupported_dtype() {
    let b = rewrite(|name, v| {
        if name == "transformer.h.0.ln_1.bias" {
            Some((Dtype::I32, v.shape().to_vec(), v.data().to_vec()))
        } else {
            keep(v)
        }
    });
    let e = err_of(&b);
    assert!(
        matches!(&e, LoadError::UnsupportedDtype { tensor, .. } if tensor == "transformer.h.0.ln_1.bias"),
        "{e}"
    );
    assert!(e.to_string().contains("expected F32, F16 or BF16"), "{e}");
}

#[test]
fn missing_tensor_is_named() {
    let b = rewrite(|name, v| {
        if name == "transformer.h.1.mlp.c_fc.bias" {
            None
        } else {
            keep(v)
        }
    });
    let e = err_of(&b);
    assert!(
        matches!(&e, LoadError::MissingTensor(n) if n == "transformer.h.1.mlp.c_fc.bias"),
        "{e}"
    );
    let e = err_of(&header_file(
        r#"{"foo":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        4,
    ));
    assert!(e.to_string().contains("wte.weight"), "{e}");
}

#[test]
fn wrong_shape_names_tensor_expected_and_found() {
    let b = rewrite(|name, v| {
        if name == "transformer.h.0.attn.c_proj.weight" {
            Some((v.dtype(), vec![32, 128], v.data().to_vec()))
        } else {
            keep(v)
        }
    });
    let e = err_of(&b);
    assert!(
        matches!(&e, LoadError::WrongShape { tensor, expected, found }
            if tensor == "transformer.h.0.attn.c_proj.weight" && expected == &[64, 64] && found == &[32, 128]),
        "{e}"
    );
}

#[test]
fn config_inconsistent_with_tensors() {
    let c = String::from_utf8(config())
        .unwrap()
        .replace("\"n_layer\": 2", "\"n_layer\": 3");
    let e = load_host_weights(
        &model_a(),
        &LoadOptions {
            config_json: Some(c.as_bytes()),
            n_heads: None,
        },
    )
    .err()
    .unwrap();
    assert!(
        matches!(
            e,
            LoadError::ConfigMismatch {
                field: "n_layer",
                config: 3,
                tensors: 2
            }
        ),
        "{e}"
    );
    let e = load_host_weights(
        &model_a(),
        &LoadOptions {
            config_json: Some(b"{]"),
            n_heads: None,
        },
    )
    .err()
    .unwrap();
    assert!(matches!(e, LoadError::BadConfig(_)), "{e}");
}

#[test]
fn heads_come_from_config_or_caller() {
    let e = load_host_weights(&model_a(), &LoadOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, LoadError::HeadsUnknown), "{e}");
    let w = load_host_weights(
        &model_a(),
        &LoadOptions {
            config_json: None,
            n_heads: Some(4),
        },
    )
    .unwrap();
    assert_eq!(w.config.n_heads, 4);
    let e = load_host_weights(
        &model_a(),
        &LoadOptions {
            config_json: None,
            n_heads: Some(5),
        },
    )
    .err()
    .unwrap();
    assert!(matches!(e, LoadError::BadConfig(_)), "{e}");
}

#[test]
fn hub_layout_mask_buffers_are_ignored_and_lm_head_is_tied() {
    let hub = read(model_a_dir().join("model-hub-layout.safetensors"));
    let a = load(&hub).unwrap();
    let b = load(&model_a()).unwrap();
    assert_eq!(a.unembed, b.unembed);
    assert_eq!(a.unembed, a.w_e, "lm_head absent: tied to wte");
}

#[test]
fn a_nan_in_a_tensor_is_named_before_anything_runs() {
    let b = rewrite(|name, v| {
        if name == "transformer.h.1.attn.c_proj.weight" {
            let mut data = v.data().to_vec();
            data[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
            Some((v.dtype(), v.shape().to_vec(), data))
        } else {
            keep(v)
        }
    });
    let e = err_of(&b);
    assert!(
        matches!(&e, LoadError::NonFinite(n) if n == "transformer.h.1.attn.c_proj.weight"),
        "{e}"
    );
    assert!(e.to_string().contains("NaN or infinite"), "{e}");
    // The model's own (streaming) load says the same.
    let c = config();
    let opts = LoadOptions {
        config_json: Some(&c),
        n_heads: None,
    };
    #[allow(deprecated)]
    let device = burn::tensor::Device::ndarray();
    let e = gradpatch_model::Gpt2::load(&b, &opts, Default::default(), &device)
        .err()
        .unwrap();
    assert!(matches!(&e, LoadError::NonFinite(_)), "{e}");
}
