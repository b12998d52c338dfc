//! The page's side of the worker: start it, send messages, turn its answers into signals.
//! When WebGPU dies in the worker (a panic or a lost device), the worker is restarted on the
//! CPU with a visible notice and the model is loaded again.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, File, MessageEvent, Worker};

use gradpatch_protocol::{FromWorker, Operation, ToWorker};

/// Trunk writes the worker's loader next to the page (Trunk.toml: no file hashes).
const WORKER_URL: &str = "./worker_loader.js";

/// What a worker is started for: web/worker_loader.js picks its build from it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Purpose {
    /// Computing: on the CPU when `cpu` (the threaded CPU build where the page is cross-origin
    /// isolated), else on WebGPU where the browser has an adapter.
    Compute { cpu: bool },
    /// Reading a results file: the usual build, no threads.
    Read,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Compute { cpu: true } => "cpu",
            Purpose::Compute { cpu: false } => "gpu",
            Purpose::Read => "read",
        }
    }
}

/// A blob URL whose script loads the worker's loader from the page's folder. A worker started
/// from a blob inherits the page's Content-Security-Policy (the meta tag's too), where one
/// started from its own file gets only that file's response headers: on hosts that cannot send
/// headers (GitHub Pages) it would run under no policy at all.
pub(super) fn worker_blob(purpose: Purpose) -> Result<String, JsValue> {
    let href = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .location()
        .href()?;
    let loader = web_sys::Url::new_with_base(WORKER_URL, &href)?.href();
    let base = web_sys::Url::new_with_base("./", &href)?.href();
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let text = format!(
        "self.__gradpatchBase = {};\nself.__gradpatchPurpose = {};\nimportScripts({});\n",
        quote(&base),
        quote(purpose.as_str()),
        quote(&loader)
    );
    let parts = js_sys::Array::of1(&JsValue::from_str(&text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    web_sys::Url::create_object_url_with_blob(&blob)
}

type Handler = Closure<dyn FnMut(JsValue)>;

pub struct Bridge {
    worker: RefCell<Option<Worker>>,
    on_message: Rc<dyn Fn(FromWorker)>,
    /// Kept alive as long as the worker.
    closures: RefCell<Vec<Handler>>,
    /// Messages sent before the worker said `Ready`: a worker still loading its wasm has no
    /// message handler yet, so they wait here and go out, in order, when it is ready.
    pending: Rc<RefCell<Option<Vec<JsValue>>>>,
}

fn js_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

impl Bridge {
    pub fn new(on_message: Rc<dyn Fn(FromWorker)>) -> Rc<Self> {
        let b = Rc::new(Self {
            worker: RefCell::new(None),
            on_message,
            closures: RefCell::new(Vec::new()),
            pending: Rc::new(RefCell::new(Some(Vec::new()))),
        });
        b.spawn(false);
        b
    }

    /// (Re)starts the worker, for the CPU when `cpu`.
    pub fn spawn(self: &Rc<Self>, cpu: bool) {
        if let Some(old) = self.worker.borrow_mut().take() {
            old.terminate();
        }
        self.closures.borrow_mut().clear();
        *self.pending.borrow_mut() = Some(Vec::new());
        let blob = worker_blob(Purpose::Compute { cpu });
        let blob_url = blob.as_ref().ok().cloned();
        let worker = match blob.and_then(|url| Worker::new(&url)) {
            Ok(w) => w,
            Err(e) => {
                (self.on_message)(FromWorker::Error {
                    during: Operation::Start,
                    message: format!("the compute worker could not start: {}", js_text(&e)),
                });
                return;
            }
        };
        let handler = Rc::clone(&self.on_message);
        let pending = Rc::clone(&self.pending);
        let target = worker.clone();
        let on_msg = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Ok(e) = e.dyn_into::<MessageEvent>() else {
                return;
            };
            match serde_wasm_bindgen::from_value::<FromWorker>(e.data()) {
                Ok(FromWorker::Ready) => {
                    // The worker has run its script: the blob is not needed any more.
                    if let Some(url) = &blob_url {
                        let _ = web_sys::Url::revoke_object_url(url);
                    }
                    let queued = pending.borrow_mut().take().unwrap_or_default();
                    for envelope in queued {
                        let _ = target.post_message(&envelope);
                    }
                    handler(FromWorker::Ready);
                }
                Ok(msg) => handler(msg),
                Err(err) => handler(FromWorker::Error {
                    during: Operation::Message,
                    message: format!("unreadable message from the worker: {err}"),
                }),
            }
        });
        let handler = Rc::clone(&self.on_message);
        let on_err = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let message = e
                .dyn_ref::<ErrorEvent>()
                .map(|e| e.message())
                .unwrap_or_else(|| "the worker stopped".into());
            handler(FromWorker::Crashed {
                message,
                out_of_memory: false,
            });
        });
        worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));
        self.closures.borrow_mut().extend([on_msg, on_err]);
        *self.worker.borrow_mut() = Some(worker);
    }

    pub fn send(&self, msg: &ToWorker) {
        self.send_with_files(msg, &[]);
    }

    pub fn send_with_files(&self, msg: &ToWorker, files: &[File]) {
        let Some(worker) = self.worker.borrow().clone() else {
            return;
        };
        let envelope = Object::new();
        let value = match serde_wasm_bindgen::to_value(msg) {
            Ok(v) => v,
            Err(e) => {
                (self.on_message)(FromWorker::Error {
                    during: Operation::Message,
                    message: format!("could not send to the worker: {e}"),
                });
                return;
            }
        };
        let list = Array::new();
        for f in files {
            list.push(f);
        }
        let _ = Reflect::set(&envelope, &"msg".into(), &value);
        let _ = Reflect::set(&envelope, &"files".into(), &list);
        if let Some(queue) = self.pending.borrow_mut().as_mut() {
            queue.push(envelope.into());
            return;
        }
        if let Err(e) = worker.post_message(&envelope) {
            (self.on_message)(FromWorker::Error {
                during: Operation::Message,
                message: format!("could not send to the worker: {}", js_text(&e)),
            });
        }
    }
}
