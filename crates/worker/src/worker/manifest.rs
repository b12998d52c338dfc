//! A model folder's `manifest.json` (the bundled model has one): fetched fresh at every load,
//! so that a redeployed model is seen at once; its files are then requested and cached under
//! their hashes and checked against them. Offline, the manifest seen last (kept in the cache)
//! still opens the cached files.

use std::cell::Cell;
use std::rc::Rc;

use gradpatch_model::{MAX_MANIFEST_BYTES, Manifest};
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use super::body::read_body;
use super::cache::cache_or_notice;
use super::fetch::{NoAnswer, Pin, Want, fetch_fresh, file_url, js_err};

/// The manifest at `base`, if the folder has one. A folder without one (404, or an answer that
/// is not a manifest) loads by plain URLs as before; offline or with a failing server, the
/// manifest seen last (if cached) is used. A server that does not answer at all, and Cancel,
/// end the load here.
pub async fn fetch(base: &str, cancel: &Rc<Cell<bool>>) -> Result<Option<Manifest>, String> {
    let url = file_url(base, "manifest.json")?;
    let cache = cache_or_notice().await;
    let fresh = match fetch_fresh(&url, cancel).await {
        Ok(resp) if resp.status() == 404 => return Ok(None),
        Ok(resp) if resp.ok() => Some(resp),
        Ok(_) => None,
        Err(e @ (NoAnswer::Cancelled(_) | NoAnswer::Stalled(_))) => return Err(e.into_message()),
        Err(NoAnswer::Unreachable(_)) => None,
    };
    if let Some(resp) = fresh {
        let want = Want {
            url: url.clone(),
            name: "manifest.json",
            max_bytes: MAX_MANIFEST_BYTES as u64,
            optional: true,
            early: None,
            parse: &Ok,
            pin: None,
        };
        // Many hosts answer any path with a page (an SPA's index.html, an error page): what is
        // not a manifest counts as none, and the folder loads by plain URLs.
        let bytes = match read_body(&resp, &want, None, cancel).await {
            Ok(bytes) => bytes,
            Err(e) if cancel.get() => return Err(e),
            Err(_) => return Ok(None),
        };
        let Ok(manifest) = Manifest::parse(&bytes) else {
            return Ok(None);
        };
        if let Some(cache) = &cache {
            let copy = Uint8Array::from(bytes.as_slice());
            if let Ok(resp) = Response::new_with_opt_buffer_source(Some(&copy)) {
                let _ = JsFuture::from(cache.put_with_str(&url, &resp)).await;
            }
        }
        return Ok(Some(manifest));
    }
    let Some(cache) = cache else { return Ok(None) };
    let Ok(hit) = JsFuture::from(cache.match_with_str(&url)).await else {
        return Ok(None);
    };
    let Ok(resp) = hit.dyn_into::<Response>() else {
        return Ok(None);
    };
    let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?)
        .await
        .map_err(js_err)?;
    Manifest::parse(&Uint8Array::new(&buf).to_vec()).map(Some)
}

/// `want` as the manifest names its file: requested under its hash and checked against it. A
/// preset's own pin stays.
pub fn apply<'a, T>(manifest: Option<&Manifest>, mut want: Want<'a, T>) -> Want<'a, T> {
    let Some(m) = manifest else { return want };
    if want.pin.is_some() {
        return want;
    }
    if let (Some(f), Some(url)) = (m.file(want.name), m.versioned(&want.url, want.name)) {
        want.pin = Some(Pin {
            bytes: f.bytes,
            sha256: f.sha256.clone(),
        });
        want.url = url;
        // A file the manifest names is required.
        want.optional = false;
    }
    want
}
