//! The compute worker: loads the model, runs the comparison, answers the page. Everything
//! heavy happens here so the page never freezes.

mod device;
mod fetch;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use gradpatch_dataset::{Corruption, Gpt2Tokenizer, PromptPair, generate_ioi, tokenize_pairs};
use gradpatch_methods::{Baseline, Direction, Pause, Quadrature};
use gradpatch_model::{
    Gpt2, Hooks, LoadOptions, Processing, Readout, Run, Source, check_header_prefix,
    load_host_weights, to_host_async,
};
use gradpatch_study::{Stage, StudyConfig, StudyObserver, StudyProgress, run_study_async};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

use fetch::{MAX_TEXT_BYTES, MAX_WEIGHTS_BYTES};
use gradpatch_protocol::{FromWorker, ModelInfo, ModelSource, Pair, Prompts, RunRequest, ToWorker};

struct Loaded {
    model: Gpt2,
    tokenizer: Gpt2Tokenizer,
    label: String,
    backend: String,
    load_seconds: f64,
}

#[derive(Default)]
struct State {
    loaded: Option<Rc<Loaded>>,
    /// The device picked at the first load (WebGPU can only be set up once per worker).
    device: Option<(Device, String)>,
    busy: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    static CANCEL: Rc<Cell<bool>> = Rc::new(Cell::new(false));
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub fn post(msg: &FromWorker) {
    match serde_wasm_bindgen::to_value(msg) {
        Ok(v) => {
            let _ = scope().post_message(&v);
        }
        Err(e) => web_sys::console::error_1(&format!("worker message not sent: {e}").into()),
    }
}

pub fn now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}

fn cancel_flag() -> Rc<Cell<bool>> {
    CANCEL.with(Rc::clone)
}

/// Starts the worker: a panic becomes a message (the page restarts the worker on the CPU),
/// messages are handled one at a time except `Cancel`, which lands at once.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&message.clone().into());
        post(&FromWorker::GpuLost { message });
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        let msg = Reflect::get(&data, &"msg".into()).unwrap_or(JsValue::UNDEFINED);
        let files: Vec<File> = Reflect::get(&data, &"files".into())
            .ok()
            .filter(Array::is_array)
            .map(|a| {
                Array::from(&a)
                    .iter()
                    .filter_map(|f| f.dyn_into().ok())
                    .collect()
            })
            .unwrap_or_default();
        match serde_wasm_bindgen::from_value::<ToWorker>(msg) {
            Ok(ToWorker::Cancel) => cancel_flag().set(true),
            Ok(msg) => spawn_local(handle(msg, files)),
            Err(e) => post(&FromWorker::Error {
                during: "message".into(),
                message: format!("the worker could not read a message: {e}"),
            }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready);
}

async fn handle(msg: ToWorker, files: Vec<File>) {
    let during = match &msg {
        ToWorker::Load { .. } => "load",
        ToWorker::Run { .. } => "run",
        ToWorker::Validate { .. } => "validate",
        _ => "cache",
    };
    let heavy = matches!(msg, ToWorker::Load { .. } | ToWorker::Run { .. });
    if heavy {
        if STATE.with(|s| s.borrow().busy) {
            post(&FromWorker::Error {
                during: during.into(),
                message: "the worker is busy: cancel the current task first".into(),
            });
            return;
        }
        STATE.with(|s| s.borrow_mut().busy = true);
        cancel_flag().set(false);
    }
    let result = match msg {
        ToWorker::Load {
            source,
            processing,
            cpu_only,
        } => load(source, files, processing, cpu_only).await,
        ToWorker::Run { request } => run(request).await,
        ToWorker::Validate { pairs } => validate(pairs),
        ToWorker::CacheInfo => fetch::cached_files()
            .await
            .map(|files| post(&FromWorker::Cache { files })),
        ToWorker::ClearCache => match fetch::clear_cache().await {
            Ok(()) => fetch::cached_files()
                .await
                .map(|files| post(&FromWorker::Cache { files })),
            Err(e) => Err(e),
        },
        ToWorker::Cancel => Ok(()),
    };
    if heavy {
        STATE.with(|s| s.borrow_mut().busy = false);
    }
    if let Err(message) = result {
        post(&FromWorker::Error {
            during: during.into(),
            message,
        });
    }
}

fn weights_check(prefix: &[u8], total: Option<u64>) -> Result<(), String> {
    check_header_prefix(prefix, total)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn load(
    source: ModelSource,
    files: Vec<File>,
    processing: bool,
    cpu_only: bool,
) -> Result<(), String> {
    let t0 = now_s();
    let cancel = cancel_flag();
    let (label, weights, tokenizer, config) = match source {
        ModelSource::Base { base, label } => {
            let base = if base.ends_with('/') {
                base
            } else {
                format!("{base}/")
            };
            let config = fetch::get(
                &format!("{base}config.json"),
                "config.json",
                MAX_TEXT_BYTES,
                true,
                None,
                &cancel,
            )
            .await?;
            let tokenizer = fetch::get(
                &format!("{base}tokenizer.json"),
                "tokenizer.json",
                MAX_TEXT_BYTES,
                false,
                None,
                &cancel,
            )
            .await?
            .ok_or("tokenizer.json is missing")?;
            // A broken tokenizer is refused before the large download.
            Gpt2Tokenizer::from_bytes(&tokenizer).map_err(|e| format!("tokenizer.json: {e}"))?;
            let check: &fetch::Check = &weights_check;
            let weights = fetch::get(
                &format!("{base}model.safetensors"),
                "model.safetensors",
                MAX_WEIGHTS_BYTES,
                false,
                Some(check),
                &cancel,
            )
            .await?
            .ok_or("model.safetensors is missing")?;
            (label, weights, tokenizer, config)
        }
        ModelSource::Files { .. } => {
            let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|f| pred(&f.name()));
            let w = find(&|n| n.ends_with(".safetensors"))
                .ok_or("no .safetensors file among the chosen files (expected the weights, tokenizer.json and optional config.json)")?;
            let t = find(&|n| n == "tokenizer.json")
                .ok_or("no tokenizer.json among the chosen files")?;
            let weights = fetch::read_file(w, MAX_WEIGHTS_BYTES).await?;
            weights_check(&weights, Some(weights.len() as u64))
                .map_err(|e| format!("{}: {e}", w.name()))?;
            let tokenizer = fetch::read_file(t, MAX_TEXT_BYTES).await?;
            let config = match find(&|n| n == "config.json") {
                Some(c) => Some(fetch::read_file(c, MAX_TEXT_BYTES).await?),
                None => None,
            };
            (
                format!("local file {}", w.name()),
                weights,
                tokenizer,
                config,
            )
        }
    };
    post(&FromWorker::Status {
        text: "Reading the tokenizer and weights…".into(),
    });
    let tokenizer =
        Gpt2Tokenizer::from_bytes(&tokenizer).map_err(|e| format!("tokenizer.json: {e}"))?;
    let existing = STATE.with(|s| s.borrow().device.clone());
    let (device, backend) = match existing {
        Some(d) => d,
        None => {
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
    };
    // Free the previous model before building the next one (memory is tight in a browser).
    STATE.with(|s| s.borrow_mut().loaded = None);
    let processing = if processing {
        Processing::default()
    } else {
        Processing::none()
    };
    // Step by step rather than `Gpt2::load`, so each copy is freed before the next is made:
    // the wasm heap never shrinks, its peak is what stays.
    let mut host = load_host_weights(
        &weights,
        &LoadOptions {
            config_json: config.as_deref(),
            n_heads: None,
        },
    )
    .map_err(|e| format!("model.safetensors: {e}"))?;
    drop(weights);
    gradpatch_model::processing::apply(processing, &mut host);
    let model = Gpt2::from_host(&host, processing, &device);
    drop(host);
    post(&FromWorker::Status {
        text: "Checking the model with one forward pass…".into(),
    });
    warm_up(&model, tokenizer.bos_id()).await?;
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
    post(&FromWorker::Loaded { info });
    Ok(())
}

/// One forward pass of BOS: compiles the kernels before the first run and catches a model (or
/// a device) that computes nothing usable.
async fn warm_up(model: &Gpt2, bos: u32) -> Result<(), String> {
    let out = model
        .run(Run {
            source: Source::Tokens(model.tokens(&[vec![bos]]).map_err(|e| e.to_string())?),
            prefix: None,
            hooks: &Hooks::new(),
            readout: Readout::LogitDiff {
                positions: vec![0],
                correct: vec![0],
                incorrect: vec![1],
            },
        })
        .map_err(|e| e.to_string())?;
    let ld = out
        .logit_diff
        .ok_or("the test forward pass gave no result")?;
    let v = to_host_async(ld).await.map_err(|e| e.to_string())?;
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err("the model computes non-finite logits (broken weights, or a failing GPU)".into())
    }
}

fn wasm_heap_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .dyn_into::<js_sys::ArrayBuffer>()
                .map_or(0, |b| u64::from(b.byte_length()))
        })
        .unwrap_or(0)
}

fn loaded() -> Result<Rc<Loaded>, String> {
    STATE
        .with(|s| s.borrow().loaded.clone())
        .ok_or_else(|| "no model is loaded yet".to_string())
}

fn to_pairs(pairs: &[Pair]) -> Vec<PromptPair> {
    pairs
        .iter()
        .map(|p| PromptPair {
            clean: p.clean.clone(),
            corrupted: p.corrupted.clone(),
            correct: p.correct.clone(),
            incorrect: p.incorrect.clone(),
        })
        .collect()
}

fn validate(pairs: Vec<Pair>) -> Result<(), String> {
    let l = loaded()?;
    let errors = to_pairs(&pairs)
        .iter()
        .map(|p| p.tokenize(&l.tokenizer, l.model.config.n_ctx).err())
        .collect();
    post(&FromWorker::Validated { errors });
    Ok(())
}

fn parse_enum<T: serde::de::DeserializeOwned>(v: &str, what: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(v.to_string()))
        .map_err(|_| format!("unknown {what} `{v}`"))
}

/// Reports progress to the page (at most ~8 times a second) and lets the worker's event loop
/// run between steps so a cancel can arrive.
struct Observer {
    cancel: Rc<Cell<bool>>,
    t0: f64,
    last: f64,
}

impl StudyObserver for Observer {
    fn report(&mut self, p: StudyProgress) -> bool {
        let now = now_s();
        if now - self.last > 0.125 || p.fraction >= 1.0 {
            self.last = now;
            post(&FromWorker::Progress {
                fraction: p.fraction,
                stage: match p.stage {
                    Stage::Runs => "runs",
                    Stage::Ig => "IG",
                    Stage::Ap => "AP",
                }
                .into(),
                prompt: p.prompt,
                n_prompts: p.n_prompts,
                elapsed: now - self.t0,
            });
        }
        !self.cancel.get()
    }

    fn pause(&mut self) -> Pause<'_> {
        Box::pin(async {
            let promise = js_sys::Promise::new(&mut |resolve, _| {
                let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            });
            let _ = JsFuture::from(promise).await;
        })
    }
}

async fn run(req: RunRequest) -> Result<(), String> {
    let l = loaded()?;
    let n_ctx = l.model.config.n_ctx;
    let (pairs, source) = match &req.prompts {
        Prompts::Ioi { n, seed, abc } => {
            let corruption = if *abc {
                Corruption::Abc
            } else {
                Corruption::Aba
            };
            let pairs = generate_ioi(*n, *seed, corruption, &l.tokenizer, n_ctx)
                .map_err(|e| e.to_string())?;
            let corrupt = if *abc { "abc" } else { "aba" };
            (
                pairs,
                serde_json::json!({"ioi": {"n": n, "seed": seed, "corrupt": corrupt}}),
            )
        }
        Prompts::Custom(p) => (
            tokenize_pairs(&to_pairs(p), &l.tokenizer, n_ctx).map_err(|e| e.to_string())?,
            serde_json::json!({"custom": p.len()}),
        ),
    };
    let config = StudyConfig {
        model: l.label.clone(),
        processing: l.model.processing,
        run_ig: req.run_ig,
        run_ap: req.run_ap,
        ig_steps: req.ig_steps,
        ig_method: parse_enum::<Quadrature>(&req.ig_method, "quadrature")?,
        ig_baseline: parse_enum::<Baseline>(&req.ig_baseline, "IG baseline")?,
        ap_direction: parse_enum::<Direction>(&req.ap_direction, "AP direction")?,
        percentile: req.percentile,
        prompts_source: source,
        backend: l.backend.clone(),
    };
    let t0 = now_s();
    let mut observer = Observer {
        cancel: cancel_flag(),
        t0,
        last: 0.0,
    };
    let mut results = run_study_async(&l.model, &pairs, &config, &mut observer)
        .await
        .map_err(|e| e.to_string())?;
    results.seconds.insert("load".into(), l.load_seconds.into());
    results
        .seconds
        .insert("comparison".into(), (now_s() - t0).into());
    let tokens = results
        .prompts
        .iter()
        .map(|p| {
            p.clean_token_ids
                .iter()
                .map(|&id| {
                    l.tokenizer
                        .decode(&[id])
                        .unwrap_or_else(|_| format!("<{id}>"))
                })
                .collect()
        })
        .collect();
    post(&FromWorker::Results {
        results: Box::new(results),
        tokens,
    });
    Ok(())
}
