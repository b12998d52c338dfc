//! The explorer page's UI (leptos, main thread). The model is loaded and the comparison run by
//! the compute worker (`gradpatch-worker`, a Web Worker); `gradpatch-protocol` is what they say
//! to each other. This crate never links the engine, which keeps the page's wasm small.
//! Natively nothing builds (the page is wasm-only).

#[cfg(target_arch = "wasm32")]
pub mod app;
