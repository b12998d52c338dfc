//! Loading a model: its files (downloaded, cached or local), checked before and after they
//! arrive, on the device picked meanwhile.

use std::rc::Rc;

use burn::tensor::Device;
use gradpatch_dataset::{Gpt2Tokenizer, MAX_TOKENIZER_BYTES};
use gradpatch_model::{Gpt2, Gpt2Config, Header, LoadOptions, LoadPlan, Processing};
use gradpatch_protocol::{FromWorker, ModelInfo, ModelSource};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use super::fetch::{self, MAX_CONFIG_BYTES, MAX_WEIGHTS_BYTES, Want};
use super::manifest;
use super::{Loaded, STATE, cancel_flag, device, local, now_s, post, wasm_heap_bytes};

/// The early check of a checkpoint while it arrives: once its header is complete, the header
/// is validated and the memory the load needs is compared with what the worker can address.
fn plan_check<'a>(
    config_json: Option<&'a [u8]>,
    on_cpu: bool,
) -> impl Fn(&[u8], Option<u64>) -> Result<bool, String> + 'a {
    move |prefix, total| {
        let Some(header) = Header::read(prefix, total).map_err(|e| e.to_string())? else {
            return Ok(false);
        };
        let opts = LoadOptions {
            config_json,
            n_heads: None,
        };
        LoadPlan::new(&header, &opts, on_cpu, super::BUDGET).map_err(|e| e.to_string())?;
        Ok(true)
    }
}

fn parse_tokenizer(bytes: Vec<u8>) -> Result<Gpt2Tokenizer, String> {
    Gpt2Tokenizer::from_bytes(&bytes).map_err(|e| e.to_string())
}

fn parse_config(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    Gpt2Config::from_hf_json(&bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The device, picked at the first load (WebGPU can only be set up once per worker).
async fn pick_device(cpu_only: bool) -> (Device, String) {
    if let Some(d) = STATE.with(|s| s.borrow().device.clone()) {
        return d;
    }
    post(&FromWorker::Status {
        text: "Starting the GPU…".into(),
    });
    let (device, backend, notice) = device::pick(cpu_only).await;
    if let Some(text) = notice {
        post(&FromWorker::Notice { text });
    }
    STATE.with(|s| s.borrow_mut().device = Some((device.clone(), backend.clone())));
    (device, backend)
}

/// A model's files, read and checked.
struct ModelFiles {
    label: String,
    /// Where the weights were fetched (and cached) from; none for local files.
    weights_url: Option<String>,
    weights: Vec<u8>,
    tokenizer: Gpt2Tokenizer,
    config: Option<Vec<u8>>,
}

/// The files under `base`: `config.json` (optional) and the tokenizer first, so that a broken
/// one is refused before the large download, then the weights, checked from their header on.
/// A folder with a `manifest.json` is loaded by content (manifest.rs).
async fn download(
    base: &str,
    label: String,
    on_cpu: bool,
    cancel: &std::rc::Rc<std::cell::Cell<bool>>,
) -> Result<ModelFiles, String> {
    // A preset is pinned already (and its hub has no manifest to ask for).
    let manifest = if gradpatch_config::Preset::at_base(base).is_some() {
        None
    } else {
        manifest::fetch(base, cancel).await?
    };
    let m = manifest.as_ref();
    let config_want = manifest::apply(
        m,
        Want {
            optional: true,
            ..Want::in_folder(base, "config.json", MAX_CONFIG_BYTES, &parse_config)?
        },
    );
    let config = fetch::get(&config_want, cancel).await?;
    let tokenizer_want = manifest::apply(
        m,
        Want::in_folder(
            base,
            "tokenizer.json",
            MAX_TOKENIZER_BYTES as u64,
            &parse_tokenizer,
        )?,
    );
    let tokenizer = fetch::get(&tokenizer_want, cancel)
        .await?
        .ok_or("tokenizer.json is missing")?;
    let check = plan_check(config.as_deref(), on_cpu);
    let weights_want = manifest::apply(
        m,
        Want {
            early: Some(&check),
            ..Want::in_folder(base, "model.safetensors", MAX_WEIGHTS_BYTES, &Ok)?
        },
    );
    let weights = fetch::get(&weights_want, cancel)
        .await?
        .ok_or("model.safetensors is missing")?;
    if m.is_some() {
        // Older versions of these files (a model redeployed since) are not needed any more.
        for url in [&config_want.url, &tokenizer_want.url, &weights_want.url] {
            super::cache::evict_other_versions(url).await;
        }
    }
    let weights_url = Some(weights_want.url.clone());
    drop(weights_want);
    drop(check);
    Ok(ModelFiles {
        label,
        weights_url,
        weights,
        tokenizer,
        config,
    })
}

/// The files the user picked or dropped: a `.safetensors`, `tokenizer.json` and an optional
/// `config.json`.
async fn read_local(files: &[File], on_cpu: bool) -> Result<ModelFiles, String> {
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|f| pred(&f.name()));
    let w = find(&|n| n.ends_with(".safetensors"))
        .ok_or("no .safetensors file among the chosen files (expected the weights, tokenizer.json and optional config.json)")?;
    let t = find(&|n| n == "tokenizer.json").ok_or("no tokenizer.json among the chosen files")?;
    let config = match find(&|n| n == "config.json") {
        Some(c) => Some(parse_config(local::read_file(c, MAX_CONFIG_BYTES).await?)?),
        None => None,
    };
    let tokenizer = parse_tokenizer(local::read_file(t, MAX_TOKENIZER_BYTES as u64).await?)
        .map_err(|e| format!("{}: {e}", t.name()))?;
    let check = plan_check(config.as_deref(), on_cpu);
    let weights = local::read_checked(w, MAX_WEIGHTS_BYTES, &check).await?;
    drop(check);
    Ok(ModelFiles {
        label: format!("local file {}", w.name()),
        weights_url: None,
        weights,
        tokenizer,
        config,
    })
}

/// Builds the model from its files on `device`, part by part (the heap holds the file and one
/// part of the model in f32 at a time), and keeps it.
fn build(
    files: ModelFiles,
    processing: bool,
    (device, backend): (Device, String),
    t0: f64,
) -> Result<ModelInfo, String> {
    post(&FromWorker::Status {
        text: "Reading the weights…".into(),
    });
    // Free the previous model before building the next one (memory is tight in a browser).
    STATE.with(|s| s.borrow_mut().loaded = None);
    let processing = if processing {
        Processing::default()
    } else {
        Processing::none()
    };
    let ModelFiles {
        label,
        weights_url: _,
        weights,
        tokenizer,
        config,
    } = files;
    let options = LoadOptions {
        config_json: config.as_deref(),
        n_heads: None,
    };
    let model = Gpt2::load(&weights, &options, processing, &device)
        .map_err(|e| format!("model.safetensors: {e}"))?;
    drop(weights);
    // No warm-up forward pass: the first run compiles the kernels it needs anyway, the device
    // passed its self-test and the weights were checked finite above.
    let c = &model.config;
    let info = ModelInfo {
        label: label.clone(),
        n_layers: c.n_layers,
        n_heads: c.n_heads,
        d_mlp: c.d_mlp,
        d_vocab: c.d_vocab,
        n_ctx: c.n_ctx,
        backend: backend.clone(),
        load_seconds: now_s() - t0,
        wasm_heap_bytes: wasm_heap_bytes(),
    };
    let load_seconds = info.load_seconds;
    STATE.with(|s| {
        s.borrow_mut().loaded = Some(Rc::new(Loaded {
            model,
            tokenizer,
            label,
            backend,
            load_seconds,
        }))
    });
    Ok(info)
}

pub async fn load(
    source: ModelSource,
    files: Vec<File>,
    processing: bool,
    cpu_only: bool,
) -> Result<(), String> {
    let t0 = now_s();
    let cancel = cancel_flag();
    // The device starts while the files download (both take a while on a first visit); the
    // memory check of the download assumes the GPU when the browser has WebGPU, and is made
    // again below once the device is known.
    let picking = wasm_bindgen_futures::future_to_promise(async move {
        pick_device(cpu_only).await;
        Ok(JsValue::UNDEFINED)
    });
    let on_cpu = cpu_only || !device::webgpu_api();
    let model_files = match source {
        ModelSource::Base { base, label } => download(&base, label, on_cpu, &cancel).await?,
        ModelSource::Files { .. } => read_local(&files, on_cpu).await?,
    };
    let _ = JsFuture::from(picking).await;
    let device = STATE
        .with(|s| s.borrow().device.clone())
        .ok_or("no compute device could be set up")?;
    // Planned for the GPU but landed on the CPU (its tensors then live in the heap too): the
    // same check again, for the CPU.
    if device::is_cpu(&device.0) && !on_cpu {
        let weights = &model_files.weights;
        plan_check(model_files.config.as_deref(), true)(weights, Some(weights.len() as u64))
            .map_err(|e| format!("model.safetensors: {e}"))?;
    }
    let weights_url = model_files.weights_url.clone();
    match build(model_files, processing, device, t0) {
        Ok(info) => {
            post(&FromWorker::Loaded { info });
            Ok(())
        }
        Err(e) => {
            if let Some(url) = weights_url {
                super::cache::evict(&url).await;
            }
            Err(e)
        }
    }
}
