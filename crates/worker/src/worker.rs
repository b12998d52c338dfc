//! The compute worker: loads the model, runs the comparison, answers the page. Everything
//! heavy happens here so the page never freezes.

mod body;
mod cache;
mod device;
mod fetch;
mod load;
mod local;
mod manifest;
mod revalidate;
mod run;
#[cfg(not(feature = "webgpu"))]
mod threads;

#[cfg(not(feature = "webgpu"))]
pub use threads::thread_main;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use gradpatch_dataset::Gpt2Tokenizer;
use gradpatch_model::Gpt2;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

use gradpatch_protocol::{FromWorker, Operation, ToWorker};

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

/// What a browser gives one worker: wasm32's 4 GiB heap, and files held in one buffer of at
/// most 2 GiB - 1 bytes (gpt2-medium in f32 is 1.52 GB).
pub const BUDGET: gradpatch_model::MemoryBudget = gradpatch_model::MemoryBudget {
    heap_bytes: 4 << 30,
    file_bytes: i32::MAX as u64,
};

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    static CANCEL: Rc<Cell<bool>> = Rc::new(Cell::new(false));
}

/// A panic from a failed GPU buffer allocation reads like this (wgpu's and cubecl's wording).
fn is_out_of_memory(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("out of memory") || m.contains("outofmemory") || m.contains("allocation failed")
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
        // web/worker_loader.js reports traps that did not come from a panic as allocation failures.
        let _ = Reflect::set(
            &js_sys::global(),
            &"__gradpatchPanicked".into(),
            &true.into(),
        );
        let mut message = info.to_string();
        web_sys::console::error_1(&message.clone().into());
        let out_of_memory = is_out_of_memory(&message);
        if out_of_memory {
            message = format!("out of memory ({}): {message}", memory_figures());
        }
        post(&FromWorker::Crashed {
            message,
            out_of_memory,
        });
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
            Ok(ToWorker::Cancel) => {
                cancel_flag().set(true);
                fetch::abort_current();
            }
            Ok(msg) => spawn_local(handle(msg, files)),
            Err(e) => post(&FromWorker::Error {
                during: Operation::Message,
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
        ToWorker::Load { .. } => Operation::Load,
        ToWorker::Run { .. } => Operation::Run,
        ToWorker::Validate { .. } => Operation::Validate,
        ToWorker::OpenResults => Operation::Open,
        _ => Operation::Cache,
    };
    let heavy = matches!(msg, ToWorker::Load { .. } | ToWorker::Run { .. });
    if heavy {
        if STATE.with(|s| s.borrow().busy) {
            post(&FromWorker::Error {
                during,
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
        } => load::load(source, files, processing, cpu_only).await,
        ToWorker::Run { request } => run::run(request).await,
        ToWorker::Validate { pairs } => run::validate(pairs),
        ToWorker::CacheInfo => cache::cached_files()
            .await
            .map(|files| post(&FromWorker::Cache { files })),
        ToWorker::ClearCache => match cache::clear_cache().await {
            Ok(()) => cache::cached_files()
                .await
                .map(|files| post(&FromWorker::Cache { files })),
            Err(e) => Err(e),
        },
        ToWorker::OpenResults => open_results(files).await,
        ToWorker::Cancel => Ok(()),
    };
    if heavy {
        STATE.with(|s| s.borrow_mut().busy = false);
    }
    if let Err(message) = result {
        post(&FromWorker::Error { during, message });
    }
}

/// Reads the results file beside the message within the page's budget and posts them back.
async fn open_results(files: Vec<File>) -> Result<(), String> {
    let file = files
        .into_iter()
        .next()
        .ok_or("no results file came with the message")?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("could not read the file: {e:?}"))?;
    let bytes = copy_bytes(&js_sys::Uint8Array::new(&buffer), "the results file")?;
    let results = gradpatch_study::Results::open(&bytes, &gradpatch_study::Budget::PAGE);
    drop(bytes);
    let results = match results {
        Ok(r) => Ok(gradpatch_protocol::ResultsJson::new(&r)?),
        Err(e) => Err(e),
    };
    post(&FromWorker::Opened { results });
    Ok(())
}

fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// The GPU buffers web/worker_loader.js counts (created minus destroyed, and the peak), in bytes.
pub fn gpu_buffer_bytes() -> (u64, u64) {
    let Ok(counts) = Reflect::get(&js_sys::global(), &"__gradpatchGpu".into()) else {
        return (0, 0);
    };
    let get = |k: &str| {
        Reflect::get(&counts, &k.into())
            .ok()
            .and_then(|v| v.as_f64())
            .map_or(0, |v| v.max(0.0) as u64)
    };
    (get("live"), get("peak"))
}

/// The sizes an out-of-memory message names: the worker's memory and the GPU buffers it holds.
fn memory_figures() -> String {
    let (live, _) = gpu_buffer_bytes();
    format!(
        "the worker's memory is {} MB of the {} MB a browser gives a worker; {} MB of GPU buffers are allocated",
        mib(wasm_heap_bytes()),
        mib(BUDGET.heap_bytes),
        mib(live)
    )
}

/// Allocates room for `len` bytes of `what`, with an out-of-memory error naming the sizes
/// instead of aborting the worker when its memory cannot grow that far.
pub fn alloc_bytes(len: usize, what: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| {
        format!(
            "out of memory: {what} needs {} MB, more than the worker's memory could grow by ({})",
            mib(len as u64),
            memory_figures()
        )
    })?;
    Ok(bytes)
}

/// Copies a JavaScript byte array into the wasm heap (see `alloc_bytes`).
pub fn copy_bytes(array: &js_sys::Uint8Array, what: &str) -> Result<Vec<u8>, String> {
    let len = array.length() as usize;
    let mut bytes = alloc_bytes(len, what)?;
    bytes.resize(len, 0);
    array.copy_to(&mut bytes);
    Ok(bytes)
}

/// The wasm memory's size. Its buffer is an `ArrayBuffer`, or a `SharedArrayBuffer` in the
/// threaded build: read `byteLength` from whichever it is.
fn wasm_heap_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| js_sys::Reflect::get(&m.buffer(), &"byteLength".into()).ok())
        .and_then(|len| len.as_f64())
        .map_or(0, |len| len as u64)
}
