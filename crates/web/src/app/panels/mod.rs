//! The left column and the banners: messages, model choice and download, task and method
//! settings (or a results file's, read-only), progress.

mod banners;
mod config;
mod file_config;
mod methods;
mod model;

pub use banners::Banners;
pub use config::ConfigPanel;
pub use model::ModelPanel;

use gradpatch_terms::Keyed;
use leptos::prelude::*;

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// A `<select>` over every value of an option, showing `label(value)` for each.
fn key_select<T: Keyed>(
    get: impl Fn() -> T + Send + Sync + 'static,
    set: impl Fn(T) + 'static,
    label: fn(T) -> &'static str,
) -> impl IntoView {
    view! {
        <select prop:value=move || get().key()
            on:change=move |ev| if let Some(v) = T::from_key(&event_target_value(&ev)) { set(v) }>
            {T::all().iter().map(|&v| view! { <option value=v.key()>{label(v)}</option> }).collect_view()}
        </select>
    }
}
