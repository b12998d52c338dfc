//! A download's body into the worker: progress, the early check of the first bytes, the size cap,
//! the stall timer and the pinned hash, with one allocation of the exact size.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::Response;

use gradpatch_protocol::FromWorker;
use sha2::{Digest, Sha256};

use super::fetch::{STALL_MS, Want, check_pin, js_err, or_stall};
use super::{alloc_bytes, now_s, post};

/// Reads a response body with progress, the early check, the size cap and the stall timer.
/// Chunks stay in JavaScript until the end, then are copied once into a buffer of the exact
/// size: the wasm heap never grows by doubling, and a lying Content-Length allocates nothing.
pub(super) async fn read_body<T>(
    resp: &Response,
    want: &Want<'_, T>,
    declared: Option<u64>,
    cancel: &Rc<Cell<bool>>,
) -> Result<Vec<u8>, String> {
    let name = want.name;
    let body = resp
        .body()
        .ok_or_else(|| format!("{name}: the response has no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let fail = |e: String| {
        let _ = reader.cancel();
        Err(e)
    };
    let mut chunks: Vec<Uint8Array> = Vec::new();
    let mut received = 0u64;
    // The first bytes, copied into wasm only until the early check is satisfied.
    let mut prefix: Vec<u8> = Vec::new();
    let mut early = want.early;
    let (t0, mut last) = (now_s(), 0.0);
    loop {
        if cancel.get() {
            return fail(format!("download of {name} cancelled"));
        }
        let chunk = match or_stall(&reader.read()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                return fail(format!(
                    "the download of {name} stalled: no data for {} s after {} of {} bytes. Retry, or try again later",
                    STALL_MS / 1000,
                    received,
                    declared.map_or("?".to_string(), |t| t.to_string())
                ));
            }
            Err(e) => return fail(format!("the download of {name} broke off: {}", js_err(e))),
        };
        if Reflect::get(&chunk, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true)
        {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(js_err)?
            .unchecked_into();
        received += u64::from(value.length());
        if received > want.max_bytes {
            return fail(format!(
                "{name} is larger than the {}-byte limit",
                want.max_bytes
            ));
        }
        if let Some(t) = declared
            && received > t
        {
            return fail(format!(
                "the server sent more of {name} than the {t} bytes it announced (Content-Length): refused"
            ));
        }
        if let Some(check) = early {
            let old = prefix.len();
            prefix.resize(old + value.length() as usize, 0);
            value.copy_to(&mut prefix[old..]);
            match check(&prefix, declared) {
                Ok(true) => {
                    early = None;
                    prefix = Vec::new();
                }
                Ok(false) => {}
                Err(e) => return fail(format!("{name} refused after {received} bytes: {e}")),
            }
        }
        chunks.push(value);
        let now = now_s();
        if now - last > 0.2 {
            last = now;
            post(&FromWorker::Download {
                file: name.into(),
                loaded: received,
                total: declared,
                speed: received as f64 / (now - t0).max(1e-3),
                from_cache: false,
            });
        }
    }
    if let Some(t) = declared
        && received < t
    {
        return Err(format!(
            "the download of {name} ended after {received} of {t} bytes: the connection was cut. Retry"
        ));
    }
    let len = usize::try_from(received).map_err(|_| format!("{name} is too large"))?;
    let mut bytes = alloc_bytes(len, name)?;
    // The pinned hash is computed as the chunks are copied in: one pass, no second copy.
    let mut hasher = want.pin.map(|_| Sha256::new());
    for c in &chunks {
        let old = bytes.len();
        bytes.resize(old + c.length() as usize, 0);
        c.copy_to(&mut bytes[old..]);
        if let Some(h) = &mut hasher {
            h.update(&bytes[old..]);
        }
    }
    drop(chunks);
    check_pin(name, want.pin, received, hasher)?;
    if let Some(check) = want.early {
        check(&bytes, Some(received)).map_err(|e| format!("{name}: {e}"))?;
    }
    post(&FromWorker::Download {
        file: name.into(),
        loaded: received,
        total: Some(received),
        speed: received as f64 / (now_s() - t0).max(1e-3),
        from_cache: false,
    });
    Ok(bytes)
}
