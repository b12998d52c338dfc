//! The header of a checkpoint is checked completely before its data, and every dimension is
//! bounded before anything is sized from it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_model::{
    Gpt2Config, Gpt2Preset, Header, LoadError, LoadOptions, LoadPlan, MemoryBudget,
    load_host_weights,
};
use gradpatch_testdata::{model_a_dir, read};

/// A browser worker's budget: wasm32's 4 GiB heap, files in one buffer of at most 2 GiB - 1.
const BROWSER: MemoryBudget = MemoryBudget {
    heap_bytes: 4 << 30,
    file_bytes: i32::MAX as u64,
};

fn model_a() -> Vec<u8> {
    read(model_a_dir().join("model.safetensors"))
}

fn with_config<'a>(json: &'a [u8]) -> LoadOptions<'a> {
    LoadOptions {
        config_json: Some(json),
        n_heads: None,
    }
}

/// A file that is only a header (the data is never needed to check it): JSON text, then the
/// 8-byte prefix. Tensors are laid out contiguously in the order given.
fn header_bytes(tensors: &[(String, &str, Vec<u64>)]) -> (Vec<u8>, u64) {
    let mut offset = 0u64;
    let mut entries = Vec::new();
    for (name, dtype, shape) in tensors {
        let width = match *dtype {
            "F64" => 8,
            "F32" => 4,
            _ => 2,
        };
        let size: u64 = shape.iter().product::<u64>() * width;
        entries.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{offset},{}]}}"#,
            offset + size
        ));
        offset += size;
    }
    let json = format!("{{{}}}", entries.join(","));
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json.as_bytes());
    let file_len = bytes.len() as u64 + offset;
    (bytes, file_len)
}

/// The tensors of a GPT-2 of the given shape, in the `save_pretrained` layout.
fn gpt2_tensors(c: &Gpt2Config, dtype: &'static str) -> Vec<(String, &'static str, Vec<u64>)> {
    let [d, m, v, ctx] = [c.d_model, c.d_mlp, c.d_vocab, c.n_ctx].map(|x| x as u64);
    let mut t = vec![
        ("transformer.wte.weight".to_string(), dtype, vec![v, d]),
        ("transformer.wpe.weight".to_string(), dtype, vec![ctx, d]),
    ];
    for l in 0..c.n_layers {
        let p = format!("transformer.h.{l}.");
        for (name, shape) in [
            ("ln_1.weight", vec![d]),
            ("ln_1.bias", vec![d]),
            ("attn.c_attn.weight", vec![d, 3 * d]),
            ("attn.c_attn.bias", vec![3 * d]),
            ("attn.c_proj.weight", vec![d, d]),
            ("attn.c_proj.bias", vec![d]),
            ("ln_2.weight", vec![d]),
            ("ln_2.bias", vec![d]),
            ("mlp.c_fc.weight", vec![d, m]),
            ("mlp.c_fc.bias", vec![m]),
            ("mlp.c_proj.weight", vec![m, d]),
            ("mlp.c_proj.bias", vec![d]),
        ] {
            t.push((format!("{p}{name}"), dtype, shape));
        }
    }
    t.push(("transformer.ln_f.weight".into(), dtype, vec![d]));
    t.push(("transformer.ln_f.bias".into(), dtype, vec![d]));
    t
}

/// Options with the head count given instead of a `config.json`.
fn heads(n: usize) -> LoadOptions<'static> {
    LoadOptions {
        config_json: None,
        n_heads: Some(n),
    }
}

/// The error of planning the load of a complete header (4 GiB heap).
fn refused(bytes: &[u8], len: u64, opts: &LoadOptions<'_>, on_cpu: bool) -> LoadError {
    LoadPlan::new(&read_all(bytes, len).unwrap(), opts, on_cpu, BROWSER).unwrap_err()
}

fn read_all(bytes: &[u8], file_len: u64) -> Result<Header, LoadError> {
    Header::read(bytes, Some(file_len)).map(|h| h.expect("the header is complete"))
}

#[test]
fn header_is_read_as_soon_as_it_has_arrived() {
    let bytes = model_a();
    let total = Some(bytes.len() as u64);
    assert_eq!(Header::read(&bytes[..4], total).unwrap(), None);
    assert_eq!(Header::read(&bytes[..20], total).unwrap(), None);
    let header = read_all(&bytes[..1 << 16], bytes.len() as u64).unwrap();
    assert_eq!(header.file_len(), bytes.len() as u64);
    assert!(
        header.tensors.len() > 10,
        "model-a's header lists more than 10 tensors, got {}",
        header.tensors.len()
    );
    let config = read(model_a_dir().join("config.json"));
    let plan = LoadPlan::new(&header, &with_config(&config), true, BROWSER).unwrap();
    let full = load_host_weights(&bytes, &with_config(&config)).unwrap();
    assert_eq!(plan.config, full.config);
}

#[test]
fn header_larger_than_a_mebibyte_is_accepted() {
    // The format allows padding the header with spaces; 3 MB of it is still a valid header.
    let bytes = model_a();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let pad = 3_000_000;
    let mut padded = ((n + pad) as u64).to_le_bytes().to_vec();
    padded.extend_from_slice(&bytes[8..8 + n]);
    padded.extend(std::iter::repeat_n(b' ', pad));
    padded.extend_from_slice(&bytes[8 + n..]);
    let header = read_all(&padded[..8 + n + pad], padded.len() as u64).unwrap();
    assert_eq!(header.header_len as usize, n + pad);
    assert!(
        load_host_weights(
            &padded,
            &with_config(&read(model_a_dir().join("config.json")))
        )
        .is_ok(),
        "the weights load from a file whose header is padded by 3 MB"
    );
}

#[test]
fn bad_headers_are_refused_before_the_body() {
    let html = b"<!DOCTYPE html><html><body>Not found</body></html>";
    let e = Header::read(html, Some(html.len() as u64)).unwrap_err();
    assert!(e.to_string().contains("not a safetensors file"), "{e}");

    let mut past_end = 100u64.to_le_bytes().to_vec();
    past_end.extend_from_slice(&[b' '; 20]);
    assert!(
        matches!(
            Header::read(&past_end, Some(50)),
            Err(LoadError::HeaderBeyondFile {
                header_len: 100,
                file_len: 50
            })
        ),
        "a header length past the end of the file is HeaderBeyondFile"
    );

    let mut junk = 10u64.to_le_bytes().to_vec();
    junk.extend_from_slice(b"not json!!");
    assert!(
        matches!(Header::read(&junk, None), Err(LoadError::HeaderNotJson(_))),
        "a header that is not JSON is HeaderNotJson"
    );

    let cases: [(&str, &str); 5] = [
        (
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            "overlaps",
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            "gap",
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            "needs 12 bytes",
        ),
        (
            r#"{"a":{"dtype":"F16","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
            "overflows",
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            "not 0",
        ),
    ];
    for (json, why) in cases {
        let mut b = (json.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(json.as_bytes());
        let e = Header::read(&b, None).unwrap_err();
        assert!(matches!(e, LoadError::BadOffsets(_)), "{json}: {e}");
        assert!(e.to_string().contains(why), "{json}: {e}");
    }

    // A consistent header, but the server announces another length (truncated or padded).
    let bytes = model_a();
    let e = read_all(&bytes, bytes.len() as u64 + 1).unwrap_err();
    assert!(e.to_string().contains("truncated or padded"), "{e}");

    // Not GPT-2, or a dtype the loader cannot read.
    let (other, len) = header_bytes(&[("encoder.weight".into(), "F32", vec![1])]);
    let e = refused(&other, len, &LoadOptions::default(), true);
    assert!(e.to_string().contains("GPT-2"), "{e}");
    let mut tensors = gpt2_tensors(&Gpt2Config::gpt2_small(), "F32");
    tensors[0].1 = "F64";
    let (b, len) = header_bytes(&tensors);
    let e = refused(&b, len, &LoadOptions::default(), true);
    assert!(matches!(e, LoadError::UnsupportedDtype { .. }), "{e}");
}

#[test]
fn gpt2_small_memory_is_estimated_from_its_header() {
    let small = Gpt2Config::gpt2_small();
    let json = serde_json::to_vec(&small.to_hf_json()).unwrap();
    let (b, len) = header_bytes(&gpt2_tensors(&small, "F32"));
    let header = read_all(&b, len).unwrap();
    let cpu = LoadPlan::new(&header, &with_config(&json), true, BROWSER).unwrap();
    let gpu = LoadPlan::new(&header, &with_config(&json), false, BROWSER).unwrap();
    assert_eq!(cpu.config, small);
    // 124.4 M parameters: a 498 MB file. The streaming load holds one part in f32 at a time
    // (the unembedding, 154 MB) and its copy on the way to the device; on the CPU the backend
    // holds an f32 copy of everything (652 MB) besides.
    assert!(
        (497_000_000..500_000_000).contains(&cpu.file_bytes),
        "{cpu:?}"
    );
    assert!(
        (1_290_000_000..1_310_000_000).contains(&cpu.peak_bytes),
        "{cpu:?}"
    );
    assert!(
        (800_000_000..815_000_000).contains(&gpu.peak_bytes),
        "{gpu:?}"
    );
}

#[test]
fn models_too_big_for_a_browser_worker_are_refused_before_download() {
    let small = Gpt2Config::gpt2_small();
    // GPT-2 XL shaped (1.56 B parameters, 6.2 GB in f32): refused, naming both numbers.
    let xl = Gpt2Config {
        n_layers: 48,
        n_heads: 25,
        d_model: 1600,
        d_mlp: 6400,
        ..small.clone()
    };
    let (b, len) = header_bytes(&gpt2_tensors(&xl, "F16"));
    let e = refused(&b, len, &heads(25), false);
    assert!(matches!(e, LoadError::OutOfBounds { .. }), "{e}");
    assert!(e.to_string().contains("parameters"), "{e}");
    // GPT-2 medium shaped in f32 (355 M parameters, 1.4 GB): fits 4 GiB, not 2 GiB.
    let medium = Gpt2Config::preset(Gpt2Preset::Medium);
    let (b, len) = header_bytes(&gpt2_tensors(&medium, "F32"));
    let header = read_all(&b, len).unwrap();
    let opts = heads(16);
    assert!(
        LoadPlan::new(&header, &opts, true, BROWSER).is_ok(),
        "GPT-2 medium in f32 fits the 4 GiB wasm heap"
    );
    // On the CPU (its tensors in the heap too) it needs 3.1 GB: not within 2 GiB.
    let small = MemoryBudget {
        heap_bytes: 2 << 30,
        ..BROWSER
    };
    let e = LoadPlan::new(&header, &opts, true, small).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, LoadError::TooBig { .. }), "{e}");
    assert!(
        msg.contains("the file is 1.42 GB") && msg.contains("2.15 GB"),
        "{msg}"
    );
    // On a GPU, part by part: the file and 2 x 210 MB (the embeddings and their upload copy).
    let gpu = LoadPlan::new(&header, &opts, false, BROWSER).unwrap();
    assert!(
        (1_830_000_000..1_850_000_000).contains(&gpu.peak_bytes),
        "{gpu:?}"
    );

    // GPT-2 large in f32 (3.1 GB): more than one wasm32 buffer holds, whatever the heap.
    let large = Gpt2Config {
        n_layers: 36,
        n_heads: 20,
        d_model: 1280,
        d_mlp: 5120,
        ..Gpt2Config::gpt2_small()
    };
    let (b, len) = header_bytes(&gpt2_tensors(&large, "F32"));
    let header = read_all(&b, len).unwrap();
    let e = LoadPlan::new(&header, &heads(20), false, BROWSER).unwrap_err();
    assert!(matches!(e, LoadError::FileTooBig { .. }), "{e}");
    assert!(
        e.to_string().contains(
            "the file is 3.10 GB, more than the 2.15 GB a browser worker can hold in one buffer"
        ),
        "{e}"
    );
}

#[test]
fn a_layer_index_in_a_tensor_name_is_bounded() {
    let mut tensors = gpt2_tensors(
        &Gpt2Config {
            n_layers: 1,
            ..Gpt2Config::gpt2_small()
        },
        "F32",
    );
    tensors.push((
        "transformer.h.99999999.ln_1.weight".into(),
        "F32",
        vec![768],
    ));
    let (b, len) = header_bytes(&tensors);
    let e = refused(&b, len, &heads(12), true);
    assert!(matches!(e, LoadError::OutOfBounds { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("names layer 99999999, expected at most 256 layers"),
        "{e}"
    );
}

#[test]
fn config_dimensions_are_bounded() {
    let small = Gpt2Config::gpt2_small().to_hf_json();
    let cases: [(&str, serde_json::Value, &str); 8] = [
        ("n_embd", 0.into(), "n_embd is 0, expected between 1 and"),
        ("n_layer", 0.into(), "n_layer is 0"),
        (
            "n_layer",
            300.into(),
            "n_layer is 300, expected between 1 and 256",
        ),
        ("n_head", 0.into(), "n_head is 0"),
        ("n_head", 7.into(), "not a multiple of n_head 7"),
        (
            "vocab_size",
            2_000_000.into(),
            "vocab_size is 2000000, expected between 1 and 1000000",
        ),
        (
            "n_positions",
            100_000.into(),
            "n_positions is 100000, expected between 1 and 65536",
        ),
        (
            "n_embd",
            65_532.into(),
            "parameters, expected at most 1000000000",
        ),
    ];
    for (field, value, message) in cases {
        let mut json = small.clone();
        json[field] = value;
        if field == "n_embd" {
            json["n_inner"] = serde_json::Value::Null;
        }
        let e = Gpt2Config::from_hf_json(&serde_json::to_vec(&json).unwrap()).unwrap_err();
        assert!(e.to_string().contains(message), "{field}: {e}");
    }
    // A negative or fractional size is refused by the parser, naming the field.
    let mut json = small.clone();
    json["n_layer"] = (-1).into();
    let e = Gpt2Config::from_hf_json(&serde_json::to_vec(&json).unwrap()).unwrap_err();
    assert!(matches!(e, LoadError::BadConfig(_)), "{e}");
}

#[test]
fn config_disagreeing_with_tensors_names_both() {
    let small = Gpt2Config::gpt2_small();
    let mut json = small.to_hf_json();
    json["n_positions"] = 512.into();
    let (b, len) = header_bytes(&gpt2_tensors(&small, "F32"));
    let json = serde_json::to_vec(&json).unwrap();
    let e = refused(&b, len, &with_config(&json), true);
    assert_eq!(
        e.to_string(),
        "config says n_positions = 512, but the tensors imply 1024"
    );
}

#[test]
fn presets_have_the_published_shapes_and_load_in_a_browser_worker() {
    // (preset, layers, heads, d_model, d_mlp, parameters as published, f32 file in MB)
    let cases = [
        (Gpt2Preset::Small, 12, 12, 768, 3072, 124_439_808u64, 497),
        (Gpt2Preset::Distil, 6, 12, 768, 3072, 81_912_576, 327),
        (Gpt2Preset::Medium, 24, 16, 1024, 4096, 354_823_168, 1419),
    ];
    for (preset, layers, heads_, d, m, params, mb) in cases {
        let c = Gpt2Config::preset(preset);
        let shape = (
            c.n_layers, c.n_heads, c.d_model, c.d_mlp, c.n_ctx, c.d_vocab,
        );
        assert_eq!(shape, (layers, heads_, d, m, 1024, 50257), "{preset:?}");
        assert_eq!(c.d_head(), 64, "{preset:?}");
        assert_eq!(c.n_params(), Some(params), "{preset:?}");
        assert_eq!(preset.key().parse::<Gpt2Preset>(), Ok(preset));
        // Every preset in f32 loads on a GPU within the worker's heap (part by part), and the
        // header's config agrees with the preset's.
        let json = serde_json::to_vec(&c.to_hf_json()).unwrap();
        let (b, len) = header_bytes(&gpt2_tensors(&c, "F32"));
        let header = read_all(&b, len).unwrap();
        let plan = LoadPlan::new(&header, &with_config(&json), false, BROWSER).unwrap();
        assert_eq!(plan.config, c);
        assert_eq!(plan.file_bytes / 1_000_000, mb, "{preset:?}");
    }
    let e = "large".parse::<Gpt2Preset>().unwrap_err().to_string();
    assert_eq!(
        e,
        "unknown GPT-2 preset \"large\", expected small, distil or medium"
    );
}
