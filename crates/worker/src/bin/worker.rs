//! The compute worker (built by trunk as a Web Worker; web/worker_loader.js starts it).

#[cfg(target_arch = "wasm32")]
fn main() {
    gradpatch_worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser: `bash web/serve.sh` (see README.md)");
}
