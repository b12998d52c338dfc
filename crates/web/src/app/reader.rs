//! Reading a results.json off the page's thread, in a worker of its own (the compute worker's
//! script, without a model): the budget check, the parse and the shape checks happen there, so
//! a file that is slow to read leaves the page responsive, and one too big to read ends that
//! worker, not the page or the model the user has loaded. The worker is stopped once it has
//! answered.

use std::cell::RefCell;
use std::rc::Rc;

use gradpatch_protocol::{FromWorker, ToWorker};
use gradpatch_study::{Results, ResultsError};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, File, MessageEvent, Worker};

use super::open::js_text;

/// What reading gave: the results or why the file is not a results.json the page can show
/// (`Ok(Err(…))`), or why it could not be read at all (`Err`).
pub type ReadResults = Result<Result<Box<Results>, ResultsError>, String>;

type Answer = Rc<dyn Fn(ReadResults)>;

/// Reads `file` in a fresh worker.
pub async fn read_results(file: File) -> ReadResults {
    let envelope = envelope(&file)?;
    let url = super::bridge::worker_blob(super::bridge::Purpose::Read).map_err(|e| js_text(&e))?;
    let worker = Worker::new(&url).map_err(|e| {
        let _ = web_sys::Url::revoke_object_url(&url);
        format!("the reading worker could not start: {}", js_text(&e))
    })?;
    let (tx, rx) = futures_channel::oneshot::channel::<ReadResults>();
    let tx = RefCell::new(Some(tx));
    let answer: Answer = Rc::new(move |r| {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(r);
        }
    });
    let on_msg = {
        let (answer, target, url) = (Rc::clone(&answer), worker.clone(), url.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            match serde_wasm_bindgen::from_value::<FromWorker>(e.data()) {
                Ok(FromWorker::Ready) => {
                    let _ = web_sys::Url::revoke_object_url(&url);
                    if let Err(e) = target.post_message(&envelope) {
                        answer(Err(format!(
                            "could not hand it to the reading worker: {}",
                            js_text(&e)
                        )));
                    }
                }
                Ok(FromWorker::Opened { results }) => {
                    answer(Ok(results.and_then(|r| r.read()).map(Box::new)));
                }
                Ok(FromWorker::Error { message, .. }) => answer(Err(message)),
                Ok(FromWorker::Crashed { message, .. }) => {
                    answer(Err(format!("the reading worker stopped: {message}")));
                }
                Ok(_) => {}
                Err(e) => answer(Err(format!(
                    "unreadable answer from the reading worker: {e}"
                ))),
            }
        })
    };
    let on_err = {
        let answer = Rc::clone(&answer);
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let message = e
                .dyn_ref::<ErrorEvent>()
                .map(|e| e.message())
                .unwrap_or_else(|| "it stopped".into());
            answer(Err(format!("the reading worker stopped: {message}")));
        })
    };
    worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    let read = rx
        .await
        .unwrap_or_else(|_| Err("the reading worker ended without an answer".into()));
    worker.terminate();
    // Revoked at Ready already, unless the worker never got there.
    let _ = web_sys::Url::revoke_object_url(&url);
    drop((on_msg, on_err));
    read
}

/// The message with the file beside it, as the compute worker reads its messages.
fn envelope(file: &File) -> Result<JsValue, String> {
    let msg = serde_wasm_bindgen::to_value(&ToWorker::OpenResults).map_err(|e| e.to_string())?;
    let envelope = Object::new();
    let _ = Reflect::set(&envelope, &"msg".into(), &msg);
    let _ = Reflect::set(&envelope, &"files".into(), &Array::of1(file));
    Ok(envelope.into())
}
