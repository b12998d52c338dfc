//! Local model files, picked or dropped in the page.

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use super::copy_bytes;
use super::fetch::{EarlyCheck, js_err};

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
    copy_bytes(&Uint8Array::new(&buf), &file.name())
}

/// Reads a local checkpoint, checking its header (and the memory it needs) from its first bytes
/// before reading the rest.
pub async fn read_checked(
    file: &File,
    max_bytes: u64,
    early: &EarlyCheck<'_>,
) -> Result<Vec<u8>, String> {
    let size = file.size();
    let mut n = 1u64 << 16;
    loop {
        let end = (n as f64).min(size);
        let blob = file
            .slice_with_f64_and_f64(0.0, end)
            .map_err(|e| format!("could not read {}: {}", file.name(), js_err(e)))?;
        let buf = JsFuture::from(blob.array_buffer())
            .await
            .map_err(|e| format!("could not read {}: {}", file.name(), js_err(e)))?;
        let prefix = Uint8Array::new(&buf).to_vec();
        if early(&prefix, Some(size as u64)).map_err(|e| format!("{}: {e}", file.name()))? {
            break;
        }
        if end >= size {
            return Err(format!("{}: the file ends inside its header", file.name()));
        }
        // The header announces its length: ask for all of it next time.
        let header_len = prefix
            .get(..8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        n = (8 + header_len).max(2 * n);
    }
    read_file(file, max_bytes).await
}
