//! The model panel: which weights, how they are processed, where they compute; Load, Cancel
//! and Retry; local files; the download and the loaded model; the cache.

use gradpatch_config::{ModelChoice, ModelUrl, Preset};
use gradpatch_page::Event;
use gradpatch_terms::{Backend, Keyed};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement};

use super::mb;
use crate::app::Ctx;

/// The files of a file input's or a drop's list.
fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

/// The weights: GPT-2, the bundled model, or a URL typed in (checked as it is typed).
#[component]
fn WeightsChoice() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let url_text = RwSignal::new(match ctx.state.get_untracked().model {
        ModelChoice::Url(u) => u.to_string(),
        _ => String::new(),
    });
    // "Other URL…" is shown as chosen while the typed URL is not (yet) valid.
    let url_mode = RwSignal::new(false);
    let url_error = RwSignal::new(None::<String>);
    let choice = move || match ctx.state.with(|s| s.model.clone()) {
        _ if url_mode.get() => "url",
        ModelChoice::Preset(p) => p.key(),
        ModelChoice::Bundled => "bundled",
        ModelChoice::Url(_) => "url",
    };
    let set_url = move |text: String| match ModelUrl::parse(&text) {
        Ok(u) => {
            url_error.set(None);
            ctx.configure(|s| s.model = ModelChoice::Url(u));
        }
        Err(e) => url_error.set((!text.trim().is_empty()).then(|| e.to_string())),
    };
    view! {
        <label>
            "Weights "
            <select data-testid="model-select" prop:value=choice on:change=move |ev| {
                let v = event_target_value(&ev);
                url_mode.set(v == "url");
                match v.as_str() {
                    "bundled" => ctx.configure(|s| s.model = ModelChoice::Bundled),
                    "url" => set_url(url_text.get_untracked()),
                    key => {
                        let p = Preset::from_key(key).unwrap_or(Preset::Gpt2Small);
                        ctx.configure(|s| s.model = ModelChoice::Preset(p));
                    }
                }
            }>
                {Preset::ALL.map(|p| view! {
                    <option value=p.key()>{format!("{} (Hugging Face, {})", p.title(), crate::app::choose::download_text(p.weights_bytes()))}</option>
                })}
                <option value="bundled">"Bundled IOI demo model (offline, small)"</option>
                <option value="url">"Other URL…"</option>
            </select>
        </label>
        <Show when=move || choice() == "url">
            <input type="url" placeholder="https://…/ (folder with model.safetensors, tokenizer.json, config.json)"
                aria-label="Model base URL"
                prop:value=move || url_text.get()
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    url_text.set(v.clone());
                    set_url(v);
                } />
            {move || url_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </Show>
    }
}

/// Load, Cancel while loading, Retry after a failed load.
#[component]
fn LoadButtons() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let loading = move || ctx.page.with(|p| p.phase.is_loading());
    let busy = move || {
        ctx.page
            .with(|p| p.phase.is_loading() || p.phase.is_running())
    };
    let retry = move || {
        ctx.page
            .with(|p| p.banners.error.is_some() && !p.phase.is_loading() && p.model().is_none())
    };
    let load_again = move |_| match ctx.page.with_untracked(|p| p.loaded_from.clone()) {
        Some(load) if load.local => ctx.load_files(ctx.local_files.get_value()),
        _ => ctx.dispatch(Event::Load { local_files: None }),
    };
    view! {
        <div class="buttons">
            <button data-testid="load" disabled=busy
                on:click=move |_| ctx.dispatch(Event::Load { local_files: None })>"Load"</button>
            <Show when=loading>
                <button data-testid="cancel-load" on:click=move |_| ctx.dispatch(Event::Cancel)>"Cancel"</button>
            </Show>
            <Show when=retry>
                <button data-testid="retry" on:click=load_again>"Retry"</button>
            </Show>
        </div>
    }
}

/// Local model files, picked or dropped.
#[component]
fn LocalFiles() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let on_pick = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok());
        ctx.load_files(files_of(input.and_then(|i| i.files())));
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        ctx.load_files(files_of(ev.data_transfer().and_then(|d| d.files())));
    };
    view! {
        <div class="drop" on:dragover=|ev: DragEvent| ev.prevent_default() on:drop=on_drop>
            "Or drop / pick local files (.safetensors + tokenizer.json, optional config.json): "
            <input type="file" multiple=true accept=".safetensors,.json" on:change=on_pick data-testid="files"
                aria-label="Local model files (.safetensors, tokenizer.json, config.json)" />
        </div>
    }
}

/// The download's progress, the status line and the loaded model.
#[component]
fn LoadState() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let download = move || ctx.page.with(|p| p.phase.download().cloned());
    view! {
        {move || download().map(|d| {
            let pct = d.total.filter(|t| *t > 0).map(|t| 100.0 * d.loaded as f64 / t as f64);
            view! {
                <div class="download" data-testid="download">
                    <progress max="100" value=pct.unwrap_or(0.0)></progress>
                    <span>
                        {format!("{}: {}{}{}", d.file, mb(d.loaded),
                            d.total.map(|t| format!(" / {}", mb(t))).unwrap_or_default(),
                            pct.map(|p| format!(" ({p:.0}%)")).unwrap_or_default())}
                        {if d.from_cache { " from the cache".to_string() } else { format!(", {:.1} MB/s", d.speed / 1e6) }}
                    </span>
                </div>
            }
        })}
        <p class="status" data-testid="status">{move || ctx.page.with(|p| p.banners.status.clone())}</p>
        {move || ctx.page.with(|p| p.model().cloned()).map(|m| view! {
            <p class="model-info" data-testid="model-info">
                {format!("{}: {} layers × {} heads, {} neurons per layer, vocabulary {}, context {}. Computing on {}. Worker memory {}.",
                    m.label, m.n_layers, m.n_heads, m.d_mlp, m.d_vocab, m.n_ctx, m.backend, mb(m.wasm_heap_bytes))}
            </p>
        })}
    }
}

/// What the Cache API holds, and a button to clear it.
#[component]
fn CacheDetails() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let cache = Memo::new(move |_| ctx.page.with(|p| p.cache.clone()));
    let total = move || cache.with(|c| c.iter().map(|f| f.bytes).sum::<u64>());
    view! {
        <details class="cache">
            <summary>{move || format!("Cache: {} files, {}", cache.with(Vec::len), mb(total()))}</summary>
            <ul>
                <For each=move || cache.get() key=|f| f.url.clone() let:f>
                    <li>{format!("{} — {}", f.url, mb(f.bytes))}</li>
                </For>
            </ul>
            <button data-testid="clear-cache" on:click=move |_| ctx.dispatch(Event::ClearCache)>"Clear the cache"</button>
        </details>
    }
}

#[component]
pub fn ModelPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <fieldset class="panel" data-testid="model-panel">
            <legend>"Model"</legend>
            <WeightsChoice />
            <label class="check">
                <input type="checkbox" prop:checked=move || ctx.state.with(|s| s.processing)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.configure(|s| s.processing = on);
                    } />
                " TransformerLens weight processing (fold LN, centre weights)"
            </label>
            <label class="check">
                <input type="checkbox" data-testid="cpu-only" prop:checked=move || ctx.state.with(|s| s.backend == Backend::Cpu)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.configure(|s| s.backend = if on { Backend::Cpu } else { Backend::Auto });
                    } />
                " CPU only (no WebGPU)"
            </label>
            <LoadButtons />
            <LocalFiles />
            <LoadState />
            <CacheDetails />
        </fieldset>
    }
}
