//! The compute worker of the page: loads the model (downloads, the Cache API, local files),
//! picks WebGPU or the CPU, and runs the comparison, answering the page in the messages of
//! `gradpatch-protocol`. Built by trunk as a Web Worker (bin `worker`); natively it is empty.
//! It is a crate of its own so that the page's UI (`gradpatch-web`) never links the engine.

#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use worker::start;
#[cfg(all(target_arch = "wasm32", not(feature = "webgpu")))]
pub use worker::thread_main;
