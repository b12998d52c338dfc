//! Model files into the worker: streamed downloads with progress and early checks, the Cache
//! API (a reload is instant), and local `File`s.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, DedicatedWorkerGlobalScope, File, Request, Response};

use gradpatch_protocol::{CachedFile, FromWorker};

use super::{now_s, post};

pub const CACHE_NAME: &str = "gradpatch-models-v1";
/// Refuse larger files (GPT-2 small's weights are 548 MB; medium would not fit the heap).
pub const MAX_WEIGHTS_BYTES: u64 = 1_200_000_000;
pub const MAX_TEXT_BYTES: u64 = 64_000_000;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub fn js_err(e: JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

async fn open_cache() -> Option<Cache> {
    let caches = scope().caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// Checks a stream's first bytes (weights only): `Err` stops the download at once.
pub type Check = dyn Fn(&[u8], Option<u64>) -> Result<(), String>;

/// One file: from the cache when it is there, else downloaded (then cached when the quota
/// allows). `Ok(None)` when the server says 404 and the file is optional.
pub async fn get(
    url: &str,
    name: &str,
    max_bytes: u64,
    optional: bool,
    check: Option<&Check>,
    cancel: &Rc<Cell<bool>>,
) -> Result<Option<Vec<u8>>, String> {
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await
        && let Ok(resp) = hit.dyn_into::<Response>()
    {
        let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?)
            .await
            .map_err(js_err)?;
        let bytes = Uint8Array::new(&buf).to_vec();
        if let Some(check) = check
            && let Err(e) = check(&bytes, Some(bytes.len() as u64))
        {
            let _ = JsFuture::from(cache.delete_with_str(url)).await;
            return Err(format!("{name} (from the cache, now removed): {e}"));
        }
        post(&FromWorker::Download {
            file: name.into(),
            loaded: bytes.len() as u64,
            total: Some(bytes.len() as u64),
            speed: 0.0,
            from_cache: true,
        });
        return Ok(Some(bytes));
    }
    // Aborting the request also stops the copy that streams into the cache.
    let abort = web_sys::AbortController::new().map_err(js_err)?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&abort.signal()));
    let resp: Response = JsFuture::from(scope().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| format!("could not download {url}: {} (offline, or the server refuses cross-origin requests?)", js_err(e)))?
        .dyn_into()
        .map_err(js_err)?;
    if resp.status() == 404 && optional {
        return Ok(None);
    }
    if !resp.ok() {
        return Err(format!(
            "downloading {url} failed: HTTP {} {}",
            resp.status(),
            resp.status_text()
        ));
    }
    let total = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(t) = total
        && t > max_bytes
    {
        abort.abort();
        return Err(format!(
            "{name} is {t} bytes, more than the {max_bytes}-byte limit"
        ));
    }
    // The cache gets its own copy of the stream (a 500 MB body built in memory is more than
    // some browsers' cache will take in one piece).
    let stored = match (&cache, resp.clone()) {
        (Some(cache), Ok(copy)) => Some(JsFuture::from(cache.put_with_str(url, &copy))),
        _ => None,
    };
    let read = read_body(&resp, name, max_bytes, total, check, cancel).await;
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            abort.abort();
            if let Some(put) = stored {
                let _ = put.await;
            }
            if let Some(cache) = &cache {
                let _ = JsFuture::from(cache.delete_with_str(url)).await;
            }
            return Err(e);
        }
    };
    if let Some(put) = stored
        && let Err(e) = put.await
    {
        cache_failed(url, e);
    }
    Ok(Some(bytes))
}

/// Reads a response body with progress, checks and the size cap.
async fn read_body(
    resp: &Response,
    name: &str,
    max_bytes: u64,
    total: Option<u64>,
    check: Option<&Check>,
    cancel: &Rc<Cell<bool>>,
) -> Result<Vec<u8>, String> {
    let body = resp
        .body()
        .ok_or_else(|| format!("{name}: the response has no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes: Vec<u8> = Vec::with_capacity(total.unwrap_or(0).min(max_bytes) as usize);
    let (t0, mut last) = (now_s(), 0.0);
    let mut checked = check.is_none();
    loop {
        if cancel.get() {
            let _ = reader.cancel();
            return Err(format!("download of {name} cancelled"));
        }
        let chunk = JsFuture::from(reader.read()).await.map_err(js_err)?;
        if Reflect::get(&chunk, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true)
        {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(js_err)?
            .unchecked_into();
        let old = bytes.len();
        bytes.resize(old + value.length() as usize, 0);
        value.copy_to(&mut bytes[old..]);
        if bytes.len() as u64 > max_bytes {
            let _ = reader.cancel();
            return Err(format!("{name} is larger than the {max_bytes}-byte limit"));
        }
        if !checked && let Some(check) = check {
            match check(&bytes, total) {
                Ok(()) => checked = bytes.len() > 1 << 20,
                Err(e) => {
                    let _ = reader.cancel();
                    return Err(format!("{name} refused after {} bytes: {e}", bytes.len()));
                }
            }
        }
        let now = now_s();
        if now - last > 0.2 {
            last = now;
            post(&FromWorker::Download {
                file: name.into(),
                loaded: bytes.len() as u64,
                total,
                speed: bytes.len() as f64 / (now - t0).max(1e-3),
                from_cache: false,
            });
        }
    }
    if let Some(check) = check {
        check(&bytes, Some(bytes.len() as u64)).map_err(|e| format!("{name}: {e}"))?;
    }
    post(&FromWorker::Download {
        file: name.into(),
        loaded: bytes.len() as u64,
        total: Some(bytes.len() as u64),
        speed: bytes.len() as f64 / (now_s() - t0).max(1e-3),
        from_cache: false,
    });
    Ok(bytes)
}

fn cache_failed(url: &str, e: JsValue) {
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
    let caches = scope().caches().map_err(js_err)?;
    JsFuture::from(caches.delete(CACHE_NAME))
        .await
        .map(|_| ())
        .map_err(js_err)
}

/// Reads a local file (picked or dropped in the page).
pub async fn read_file(file: &File, max_bytes: u64) -> Result<Vec<u8>, String> {
    let size = file.size() as u64;
    if size > max_bytes {
        return Err(format!(
            "{} is {size} bytes, more than the {max_bytes}-byte limit",
            file.name()
        ));
    }
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("could not read {}: {}", file.name(), js_err(e)))?;
    Ok(Uint8Array::new(&buf).to_vec())
}
