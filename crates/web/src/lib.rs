//! The explorer page. `app` is the UI (leptos, main thread); `worker` loads the model and runs
//! the comparison in a Web Worker; [`protocol`] is what they say to each other. Natively only
//! the protocol builds (the page is wasm-only).

pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod worker;
