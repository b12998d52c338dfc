//! The compute worker (built by trunk as a Web Worker with a loader shim).

#[cfg(target_arch = "wasm32")]
fn main() {
    gradpatch_web::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser: `trunk serve` (see README.md)");
}
