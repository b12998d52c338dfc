//! Model files into the worker: streamed downloads with progress, early checks, stall timers
//! and cancel, read from the cache (cache.rs) when they are there.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, DedicatedWorkerGlobalScope, Response};

use gradpatch_protocol::FromWorker;
use sha2::{Digest, Sha256};

use super::body::read_body;
use super::cache::{cache_failed, cache_or_notice, lock};
use super::revalidate::{self, Cached};
use super::{copy_bytes, post};

/// Refuse larger files before anything arrives (one wasm32 buffer); whether the model then fits
/// is decided from its header, by the memory its load needs (`LoadPlan`).
pub const MAX_WEIGHTS_BYTES: u64 = super::BUDGET.file_bytes;
/// GPT-2's `config.json` is under 1 KB.
pub const MAX_CONFIG_BYTES: u64 = 1_000_000;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub fn js_err(e: JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// No byte for this long ends a download (the server hangs): the user gets an error and Retry.
pub const STALL_MS: i32 = 30_000;

/// Checks the first bytes of a file while they arrive (with the announced length): `Ok(true)`
/// once satisfied, `Err` stops the transfer at once.
pub type EarlyCheck<'a> = dyn Fn(&[u8], Option<u64>) -> Result<bool, String> + 'a;

/// The exact size and SHA-256 (lower-case hex) a file must have: a preset's pin or a model
/// folder's manifest.json.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub bytes: u64,
    pub sha256: String,
}

impl From<gradpatch_config::PinnedFile> for Pin {
    fn from(p: gradpatch_config::PinnedFile) -> Pin {
        Pin {
            bytes: p.bytes,
            sha256: p.sha256.to_string(),
        }
    }
}

/// A file the loader needs, and how to check it.
pub struct Want<'a, T> {
    pub url: String,
    /// What the user calls it (`model.safetensors`).
    pub name: &'a str,
    pub max_bytes: u64,
    /// A 404 means "absent" (`Ok(None)`) rather than an error.
    pub optional: bool,
    /// Checks the first bytes while they arrive (with the announced length): `Ok(true)` once
    /// satisfied, `Err` stops the download at once.
    pub early: Option<&'a EarlyCheck<'a>>,
    /// Parses the complete file. A cached copy that fails it is evicted and downloaded again.
    pub parse: &'a dyn Fn(Vec<u8>) -> Result<T, String>,
    /// The exact size and SHA-256 of a preset's file: anything else is refused.
    pub pin: Option<Pin>,
}

impl<'a, T> Want<'a, T> {
    /// `name` in the model folder `base`: its URL, and its pin when `base` is a preset.
    /// Required, no early check; set `optional` / `early` on the result as needed.
    pub fn in_folder(
        base: &str,
        name: &'a str,
        max_bytes: u64,
        parse: &'a dyn Fn(Vec<u8>) -> Result<T, String>,
    ) -> Result<Self, String> {
        Ok(Self {
            url: file_url(base, name)?,
            pin: gradpatch_config::pinned(base, name).map(Pin::from),
            name,
            max_bytes,
            optional: false,
            early: None,
            parse,
        })
    }
}

/// Refuses a file whose size is not the pinned one.
fn check_pin_size(name: &str, pin: Option<&Pin>, len: u64) -> Result<(), String> {
    match pin {
        Some(pin) if len != pin.bytes => Err(format!(
            "{name} is {len} bytes, the pinned file has {}: refused",
            pin.bytes
        )),
        _ => Ok(()),
    }
}

/// Refuses bytes that are not the pinned file (size, then SHA-256 from `hasher`, which has
/// seen them all).
pub(super) fn check_pin(
    name: &str,
    pin: Option<&Pin>,
    len: u64,
    hasher: Option<Sha256>,
) -> Result<(), String> {
    let (Some(pin), Some(hasher)) = (pin, hasher) else {
        return Ok(());
    };
    check_pin_size(name, Some(pin), len)?;
    let got: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != pin.sha256 {
        return Err(format!(
            "{name} does not match the pinned SHA-256 (expected {}, got {got}): refused",
            pin.sha256
        ));
    }
    Ok(())
}

thread_local! {
    /// The download in flight, so that Cancel aborts its request at once (even one waiting
    /// for headers or stalled mid-body, where no chunk would come to notice a flag).
    static ABORT: std::cell::RefCell<Option<web_sys::AbortController>> = const { std::cell::RefCell::new(None) };
}

/// Makes `abort` what Cancel aborts (a wait for another tab's lock, a request), until taken.
pub(super) fn set_abort(abort: Option<web_sys::AbortController>) {
    ABORT.with(|a| *a.borrow_mut() = abort);
}

/// Aborts the download in flight, if any.
pub fn abort_current() {
    ABORT.with(|a| {
        if let Some(abort) = a.borrow_mut().take() {
            abort.abort();
        }
    });
}

/// Resolves to `"stall"` after `ms` (raced against a read).
fn timer(ms: i32) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_1(
            &resolve,
            ms,
            &JsValue::from_str("stall"),
        );
    })
}

/// Awaits `promise` unless no answer comes for [`STALL_MS`]: `Ok(None)` then.
pub(super) async fn or_stall(promise: &js_sys::Promise) -> Result<Option<JsValue>, JsValue> {
    let raced = js_sys::Promise::race(&Array::of2(promise, &timer(STALL_MS)));
    let v = JsFuture::from(raced).await?;
    Ok((v.as_string().as_deref() != Some("stall")).then_some(v))
}

/// Why a request got no answer.
pub(super) enum NoAnswer {
    /// Cancel was pressed: the load ends.
    Cancelled(String),
    /// The server sent nothing for [`STALL_MS`]: the load ends.
    Stalled(String),
    /// Offline, refused (CORS) or a network error.
    Unreachable(String),
}

impl NoAnswer {
    pub(super) fn into_message(self) -> String {
        match self {
            NoAnswer::Cancelled(m) | NoAnswer::Stalled(m) | NoAnswer::Unreachable(m) => m,
        }
    }
}

/// `url`'s response, its headers waited for under the stall timer (the body is the caller's).
pub(super) async fn answer(url: &str, init: &web_sys::RequestInit) -> Result<Response, NoAnswer> {
    match or_stall(&scope().fetch_with_str_and_init(url, init)).await {
        Ok(Some(resp)) => resp
            .dyn_into()
            .map_err(|e| NoAnswer::Unreachable(js_err(e))),
        Ok(None) => Err(NoAnswer::Stalled(format!(
            "the server of {url} sent no answer in {} s: try again (Retry) or later",
            STALL_MS / 1000
        ))),
        Err(e) => Err(NoAnswer::Unreachable(format!(
            "could not download {url}: {} (offline, or the server refuses cross-origin requests?)",
            js_err(e)
        ))),
    }
}

/// `url` fetched fresh from the server (revalidated, never the HTTP cache's copy unchecked),
/// abortable by Cancel and bounded by the stall timer like every download.
pub(super) async fn fetch_fresh(url: &str, cancel: &Rc<Cell<bool>>) -> Result<Response, NoAnswer> {
    let abort = web_sys::AbortController::new().map_err(|e| NoAnswer::Unreachable(js_err(e)))?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&abort.signal()));
    init.set_cache(web_sys::RequestCache::NoCache);
    set_abort(Some(abort.clone()));
    let got = answer(url, &init).await;
    set_abort(None);
    if cancel.get() {
        abort.abort();
        return Err(NoAnswer::Cancelled(format!("download of {url} cancelled")));
    }
    if let Err(NoAnswer::Stalled(_)) = got {
        abort.abort();
    }
    got
}

/// The URL of `name` in the folder `base` names (absolute, or relative to the page), built with
/// the URL parser: a query or fragment in `base` (`…/main?download=true`) stays out of the
/// file's path, and a base without a trailing `/` still names a folder.
pub fn file_url(base: &str, name: &str) -> Result<String, String> {
    // The page's folder, which web/worker_loader.js is given (the worker runs from a blob URL,
    // which is no base for others), else the worker's own address (through Reflect: one
    // web-sys feature less to build).
    let global = js_sys::global();
    let page = Reflect::get(&global, &"__gradpatchBase".into())
        .ok()
        .and_then(|b| b.as_string())
        .or_else(|| {
            Reflect::get(&global, &"location".into())
                .and_then(|l| Reflect::get(&l, &"href".into()))
                .ok()
                .and_then(|h| h.as_string())
        })
        .unwrap_or_default();
    let url =
        web_sys::Url::new_with_base(base, &page).map_err(|_| format!("`{base}` is not a URL"))?;
    let path = url.pathname();
    if !path.ends_with('/') {
        url.set_pathname(&format!("{path}/"));
    }
    url.set_search("");
    url.set_hash("");
    web_sys::Url::new_with_base(name, &url.href())
        .map(|u| u.href())
        .map_err(|_| format!("cannot build the URL of {name} from `{base}`"))
}

/// One file: from the cache when it is there, still the server's file (`revalidate`) and
/// parses, else downloaded (and cached when the quota allows). `Ok(None)` when the server says
/// 404 and the file is optional.
pub async fn get<T>(want: &Want<'_, T>, cancel: &Rc<Cell<bool>>) -> Result<Option<T>, String> {
    let _lock = lock(&want.url, cancel).await?;
    let cache = cache_or_notice().await;
    let mut changed = None;
    if let Some(cache) = &cache
        && let Ok(hit) = JsFuture::from(cache.match_with_str(&want.url)).await
        && let Ok(resp) = hit.dyn_into::<Response>()
    {
        match revalidate::check(want, &resp, cancel).await {
            Cached::Current => {
                let read = from_cache(&resp, want).await;
                // Reading a large cached file takes a while and cannot be interrupted: a Cancel
                // pressed meanwhile takes effect here.
                if cancel.get() {
                    return Err(format!("loading {} cancelled", want.name));
                }
                match read {
                    Ok(v) => return Ok(Some(v)),
                    Err(e) => {
                        let _ = JsFuture::from(cache.delete_with_str(&want.url)).await;
                        post(&FromWorker::Notice {
                            text: format!(
                                "The cached copy of {} was damaged ({e}): it was removed and is downloaded again.",
                                want.name
                            ),
                        });
                    }
                }
            }
            Cached::Changed { response, abort } => {
                let _ = JsFuture::from(cache.delete_with_str(&want.url)).await;
                post(&FromWorker::Notice {
                    text: format!(
                        "{} changed on its server since it was cached: the new version is downloaded.",
                        want.name
                    ),
                });
                changed = Some((response, abort));
            }
        }
    }
    let (answered, abort) = match changed {
        Some((response, abort)) => (Some(response), abort),
        None => (None, web_sys::AbortController::new().map_err(js_err)?),
    };
    set_abort(Some(abort.clone()));
    let result = download(want, answered, &abort, cache.as_ref(), cancel).await;
    set_abort(None);
    if result.is_err() {
        abort.abort();
        if let Some(cache) = &cache {
            let _ = JsFuture::from(cache.delete_with_str(&want.url)).await;
        }
        if cancel.get() {
            return Err(format!("download of {} cancelled", want.name));
        }
    }
    result
}

async fn from_cache<T>(resp: &Response, want: &Want<'_, T>) -> Result<T, String> {
    let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?)
        .await
        .map_err(js_err)?;
    let bytes = copy_bytes(&Uint8Array::new(&buf), want.name)?;
    let n = bytes.len() as u64;
    let hasher = want.pin.as_ref().map(|_| Sha256::new_with_prefix(&bytes));
    check_pin(want.name, want.pin.as_ref(), n, hasher)?;
    if let Some(early) = want.early {
        early(&bytes, Some(n))?;
    }
    let value = (want.parse)(bytes)?;
    post(&FromWorker::Download {
        file: want.name.into(),
        loaded: n,
        total: Some(n),
        speed: 0.0,
        from_cache: true,
    });
    Ok(value)
}

/// Downloads `want` (or reads the body of the server's answer already in hand).
async fn download<T>(
    want: &Want<'_, T>,
    answered: Option<Response>,
    abort: &web_sys::AbortController,
    cache: Option<&Cache>,
    cancel: &Rc<Cell<bool>>,
) -> Result<Option<T>, String> {
    let (url, name) = (&want.url, want.name);
    let resp = match answered {
        Some(resp) => resp,
        None => {
            let init = web_sys::RequestInit::new();
            init.set_signal(Some(&abort.signal()));
            answer(url, &init).await.map_err(NoAnswer::into_message)?
        }
    };
    if resp.status() == 404 && want.optional {
        return Ok(None);
    }
    if !resp.ok() {
        return Err(format!(
            "downloading {url} failed: HTTP {} {}",
            resp.status(),
            resp.status_text()
        ));
    }
    let header = |h: &str| resp.headers().get(h).ok().flatten();
    // With Content-Encoding the length is the compressed one; the body arrives decoded.
    let encoded = header("content-encoding").is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
    let declared = header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|_| !encoded);
    if let Some(t) = declared
        && t > want.max_bytes
    {
        return Err(format!(
            "{name} is {t} bytes, more than the {}-byte limit",
            want.max_bytes
        ));
    }
    if let Some(t) = declared {
        check_pin_size(name, want.pin.as_ref(), t)?;
    }
    // The cache gets its own copy of the stream (a 500 MB body built in memory is more than
    // some browsers' cache will take in one piece).
    let stored = match (cache, resp.clone()) {
        (Some(cache), Ok(copy)) => Some(JsFuture::from(cache.put_with_str(url, &copy))),
        _ => None,
    };
    let bytes = read_body(&resp, want, declared, cancel).await?;
    let value = (want.parse)(bytes).map_err(|e| format!("{name}: {e}"))?;
    if let Some(put) = stored
        && let Err(e) = put.await
    {
        cache_failed(url, e);
    }
    Ok(Some(value))
}
