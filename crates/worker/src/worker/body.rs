//! A download's body into the worker: progress, the early check of the first bytes, the size cap,
//! the stall timer and the pinned hash, with one allocation of the exact size.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::Response;

use gradpatch_protocol::FromWorker;
use sha2::{Digest, Sha256};

use super::fetch::{EarlyCheck, STALL_MS, Want, check_pin, js_err, or_stall};
use super::{alloc_bytes, now_s, post};

/// The next chunk of the body (`None` at its end), or why there is none: stalled, broken off.
async fn next_chunk(
    reader: &web_sys::ReadableStreamDefaultReader,
    name: &str,
    received: u64,
    declared: Option<u64>,
) -> Result<Option<Uint8Array>, String> {
    let chunk = match or_stall(&reader.read()).await {
        Ok(Some(chunk)) => chunk,
        Ok(None) => {
            return Err(format!(
                "the download of {name} stalled: no data for {} s after {} of {} bytes. Retry, or try again later",
                STALL_MS / 1000,
                received,
                declared.map_or("?".to_string(), |t| t.to_string())
            ));
        }
        Err(e) => return Err(format!("the download of {name} broke off: {}", js_err(e))),
    };
    if Reflect::get(&chunk, &"done".into())
        .map(|d| d.is_truthy())
        .unwrap_or(true)
    {
        return Ok(None);
    }
    let value = Reflect::get(&chunk, &"value".into()).map_err(js_err)?;
    Ok(Some(value.unchecked_into()))
}

/// What has arrived: the chunks (still in JavaScript), their total, and the first bytes while
/// the early check wants more of them.
struct Arrived<'w, 'a, T> {
    want: &'w Want<'a, T>,
    declared: Option<u64>,
    chunks: Vec<Uint8Array>,
    received: u64,
    prefix: Vec<u8>,
    early: Option<&'a EarlyCheck<'a>>,
}

impl<T> Arrived<'_, '_, T> {
    /// Takes one chunk: the size cap, the announced length and the early check.
    fn add(&mut self, value: Uint8Array) -> Result<(), String> {
        let name = self.want.name;
        self.received += u64::from(value.length());
        let received = self.received;
        if received > self.want.max_bytes {
            return Err(format!(
                "{name} is larger than the {}-byte limit",
                self.want.max_bytes
            ));
        }
        if let Some(t) = self.declared
            && received > t
        {
            return Err(format!(
                "the server sent more of {name} than the {t} bytes it announced (Content-Length): refused"
            ));
        }
        if let Some(check) = self.early {
            let old = self.prefix.len();
            self.prefix.resize(old + value.length() as usize, 0);
            value.copy_to(&mut self.prefix[old..]);
            match check(&self.prefix, self.declared) {
                Ok(true) => {
                    self.early = None;
                    self.prefix = Vec::new();
                }
                Ok(false) => {}
                Err(e) => return Err(format!("{name} refused after {received} bytes: {e}")),
            }
        }
        self.chunks.push(value);
        Ok(())
    }

    /// The whole body in one buffer of the exact size, its pinned hash and the early check on
    /// all of it verified.
    fn assemble(self) -> Result<Vec<u8>, String> {
        let (name, received) = (self.want.name, self.received);
        if let Some(t) = self.declared
            && received < t
        {
            return Err(format!(
                "the download of {name} ended after {received} of {t} bytes: the connection was cut. Retry"
            ));
        }
        let len = usize::try_from(received).map_err(|_| format!("{name} is too large"))?;
        let mut bytes = alloc_bytes(len, name)?;
        // The pinned hash is computed as the chunks are copied in: one pass, no second copy.
        let mut hasher = self.want.pin.as_ref().map(|_| Sha256::new());
        for c in &self.chunks {
            let old = bytes.len();
            bytes.resize(old + c.length() as usize, 0);
            c.copy_to(&mut bytes[old..]);
            if let Some(h) = &mut hasher {
                h.update(&bytes[old..]);
            }
        }
        drop(self.chunks);
        check_pin(name, self.want.pin.as_ref(), received, hasher)?;
        if let Some(check) = self.want.early {
            check(&bytes, Some(received)).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(bytes)
    }
}

fn progress(name: &str, loaded: u64, total: Option<u64>, t0: f64) {
    post(&FromWorker::Download {
        file: name.into(),
        loaded,
        total,
        speed: loaded as f64 / (now_s() - t0).max(1e-3),
        from_cache: false,
    });
}

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
    let mut arrived = Arrived {
        want,
        declared,
        chunks: Vec::new(),
        received: 0,
        prefix: Vec::new(),
        early: want.early,
    };
    let (t0, mut last) = (now_s(), 0.0);
    loop {
        if cancel.get() {
            return fail(format!("download of {name} cancelled"));
        }
        let value = match next_chunk(&reader, name, arrived.received, declared).await {
            Ok(Some(value)) => value,
            Ok(None) => break,
            Err(e) => return fail(e),
        };
        if let Err(e) = arrived.add(value) {
            return fail(e);
        }
        let now = now_s();
        if now - last > 0.2 {
            last = now;
            progress(name, arrived.received, declared, t0);
        }
    }
    let received = arrived.received;
    let bytes = arrived.assemble()?;
    progress(name, received, Some(received), t0);
    Ok(bytes)
}
