//! The compute worker (built by trunk as a Web Worker; web/worker_loader.js starts it).

#[cfg(target_arch = "wasm32")]
fn main() {
    gradpatch_worker::start();
}

/// Each CPU thread of the threaded build calls this once instantiated (web/thread_loader.js).
#[cfg(all(target_arch = "wasm32", not(feature = "webgpu")))]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = gradpatchThread)]
pub fn thread_main() {
    gradpatch_worker::thread_main();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser: `bash web/serve.sh` (see README.md)");
}
