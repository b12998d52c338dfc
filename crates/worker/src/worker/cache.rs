//! The model cache (the Cache API: a reload is instant) and the Web Locks that keep two tabs
//! from downloading and storing the same file at once.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Request, Response};

use gradpatch_protocol::{CachedFile, FromWorker};

use super::fetch::js_err;
use super::post;

pub const CACHE_NAME: &str = "gradpatch-models-v1";
/// The Cache API, absent on a plain-http origin other than this machine (`self.caches` is
/// undefined there, so web-sys's getter cannot be used).
fn cache_storage() -> Option<web_sys::CacheStorage> {
    Reflect::get(&js_sys::global(), &"caches".into())
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null())
        .map(JsCast::unchecked_into)
}

/// The model cache, or why there is none: no Cache API on a plain-http origin other than this
/// machine, or storage disabled by the browser's settings.
async fn try_open_cache() -> Result<Cache, String> {
    let caches = cache_storage()
        .ok_or("this page is not served over https, so the browser gives it no cache")?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .map_err(|e| format!("the browser refuses storage ({})", js_err(e)))?
        .dyn_into()
        .map_err(js_err)
}

async fn open_cache() -> Option<Cache> {
    try_open_cache().await.ok()
}

thread_local! {
    static NO_CACHE_TOLD: Cell<bool> = const { Cell::new(false) };
}

/// The cache for a download; without one, the model is kept in memory (said once).
pub async fn cache_or_notice() -> Option<Cache> {
    match try_open_cache().await {
        Ok(c) => Some(c),
        Err(why) => {
            if !NO_CACHE_TOLD.with(|t| t.replace(true)) {
                post(&FromWorker::Notice {
                    text: format!(
                        "No model cache: {why}. The model is kept in memory only and downloads again next time."
                    ),
                });
            }
            None
        }
    }
}

/// A held Web Lock, released when dropped.
pub struct LockGuard {
    release: js_sys::Function,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::NULL);
    }
}

/// Takes the Web Lock named after `url` (shared by every tab and worker of the origin), so that
/// two tabs never download and store the same file at once: the second waits, then finds it in
/// the cache. `None` without Web Locks (older browsers, insecure origins): the Cache API's puts
/// are atomic anyway, so the worst case is a second download. Cancel ends the wait (`Err`).
pub async fn lock(url: &str, cancel: &Rc<Cell<bool>>) -> Result<Option<LockGuard>, String> {
    let Some((locks, request)) = web_locks() else {
        return Ok(None);
    };
    let abort = web_sys::AbortController::new().map_err(js_err)?;
    super::fetch::set_abort(Some(abort.clone()));
    let taken = take_lock(url, &locks, &request, &abort.signal()).await;
    super::fetch::set_abort(None);
    if cancel.get() {
        // Taken just as Cancel came: let it go.
        drop(taken);
        return Err(format!("waiting for {url} cancelled"));
    }
    Ok(taken)
}

/// `navigator.locks` and its `request`, where the browser has them.
fn web_locks() -> Option<(JsValue, js_sys::Function)> {
    let nav = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let locks = Reflect::get(&nav, &"locks".into())
        .ok()
        .filter(|l| !l.is_undefined() && !l.is_null())?;
    let request: js_sys::Function = Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into()
        .ok()?;
    Some((locks, request))
}

/// Waits for the lock (`None` when the wait was aborted or the request failed).
async fn take_lock(
    url: &str,
    locks: &JsValue,
    request: &js_sys::Function,
    signal: &web_sys::AbortSignal,
) -> Option<LockGuard> {
    // The lock is held until the promise its callback returns settles: `release` settles it.
    let mut release = None;
    let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut acquired_fn = None;
    let acquired = js_sys::Promise::new(&mut |resolve, _| acquired_fn = Some(resolve));
    let (release, acquired_fn) = (release?, acquired_fn?);
    let callback = wasm_bindgen::closure::Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = acquired_fn.call0(&JsValue::NULL);
        held.into()
    });
    let name = JsValue::from_str(&format!("gradpatch-file:{url}"));
    let options = js_sys::Object::new();
    Reflect::set(&options, &"signal".into(), signal).ok()?;
    // The request's own promise rejects when the wait is aborted (and settles only after the
    // release otherwise): raced with the acquisition, an abort ends the wait.
    let requested: js_sys::Promise = request
        .call3(locks, &name, &options, &callback)
        .ok()?
        .dyn_into()
        .ok()?;
    let raced = js_sys::Promise::race(&Array::of2(&acquired, &requested));
    JsFuture::from(raced).await.ok()?;
    Some(LockGuard { release })
}

pub fn cache_failed(url: &str, e: JsValue) {
    let quota = Reflect::get(&e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "QuotaExceededError");
    post(&FromWorker::Notice {
        text: if quota {
            format!(
                "The browser's storage quota is full: {url} is kept in memory only and will download again next time."
            )
        } else {
            format!(
                "Could not cache {url} ({}): it is kept in memory only.",
                js_err(e)
            )
        },
    });
}

/// Removes `url`'s cached copy, if any (a file that arrived whole but does not load: Retry must
/// download it again, not load the same bytes from the cache).
pub async fn evict(url: &str) {
    if let Some(cache) = open_cache().await {
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
    }
}

/// Removes the cached copies of other versions of `url`'s file: the same address with another
/// query (`?sha256=` of an older manifest) or none (before the folder had a manifest).
pub async fn evict_other_versions(url: &str) {
    let Some(cache) = open_cache().await else {
        return;
    };
    let plain = url.split('?').next().unwrap_or(url);
    let Ok(keys) = JsFuture::from(cache.keys()).await else {
        return;
    };
    for key in Array::from(&keys).iter() {
        let Ok(req) = key.dyn_into::<Request>() else {
            continue;
        };
        let other = req.url();
        let same_file = other == plain || other.starts_with(&format!("{plain}?"));
        if same_file && other != url {
            let _ = JsFuture::from(cache.delete_with_str(&other)).await;
        }
    }
}

pub async fn cached_files() -> Result<Vec<CachedFile>, String> {
    let Some(cache) = open_cache().await else {
        return Ok(Vec::new());
    };
    let keys: Array = JsFuture::from(cache.keys())
        .await
        .map_err(js_err)?
        .unchecked_into();
    let mut out = Vec::new();
    for req in keys.iter() {
        let req: Request = req.unchecked_into();
        let resp = JsFuture::from(cache.match_with_request(&req))
            .await
            .ok()
            .and_then(|r| r.dyn_into::<Response>().ok());
        let bytes = match resp {
            Some(resp) => match resp
                .headers()
                .get("content-length")
                .ok()
                .flatten()
                .and_then(|v| v.parse::<u64>().ok())
            {
                Some(n) => n,
                // No length stored: read the body to measure it.
                None => match resp.array_buffer() {
                    Ok(p) => JsFuture::from(p)
                        .await
                        .map(|b| u64::from(Uint8Array::new(&b).length()))
                        .unwrap_or(0),
                    Err(_) => 0,
                },
            },
            None => 0,
        };
        out.push(CachedFile {
            url: req.url(),
            bytes,
        });
    }
    Ok(out)
}

pub async fn clear_cache() -> Result<(), String> {
    // Without a Cache API (plain http) there is nothing to clear.
    let Some(caches) = cache_storage() else {
        return Ok(());
    };
    JsFuture::from(caches.delete(CACHE_NAME))
        .await
        .map(|_| ())
        .map_err(js_err)
}
