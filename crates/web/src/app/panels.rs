//! The left column: messages, model choice and download, task and method settings, progress.

use gradpatch_config::{MAX_PROMPTS, MAX_STEPS, ModelChoice, ModelUrl, Task, pairs_text};
use gradpatch_terms::{Backend, Baseline, Corruption, Direction, Keyed, Quadrature};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement};

use super::Ctx;

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        return "?".into();
    }
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[component]
pub fn Banners() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="banners">
            <For each=move || ctx.warnings.get() key=|w| w.clone() let:w>
                <div class="banner warning" data-testid="warning">{w}</div>
            </For>
            <For each=move || ctx.notices.get() key=|n| n.clone() let:n>
                <div class="banner notice" data-testid="notice">{n}</div>
            </For>
            {move || ctx.error.get().map(|e| {
                let offer_bundled = ctx.state.with(|s| s.model != ModelChoice::Bundled);
                view! {
                    <div class="banner error" data-testid="error">
                        <span>{e}</span>
                        <Show when=move || offer_bundled>
                            <button on:click=move |_| {
                                ctx.state.update(|s| s.model = ModelChoice::Bundled);
                                ctx.load(false);
                            }>"Use the bundled offline model"</button>
                        </Show>
                    </div>
                }
            })}
            {move || ctx.confirm_url.get().map(|u| view! {
                <div class="banner confirm" data-testid="confirm-url">
                    <span>"This link asks to download a model from "</span>
                    <strong class="host" data-testid="confirm-host">{u.host().to_string()}</strong>
                    <span>" ("</span><code>{u.to_string()}</code><span>"). Download it?"</span>
                    <button on:click=move |_| {
                        ctx.confirm_url.set(None);
                        ctx.run_after_load.set(true);
                        ctx.load(false);
                    }>"Download"</button>
                    <button on:click=move |_| {
                        ctx.confirm_url.set(None);
                        ctx.state.update(|s| s.model = ModelChoice::Bundled);
                        ctx.load(false);
                    }>"Use the bundled model instead"</button>
                </div>
            })}
            <Show when=move || ctx.confirm_run.get()>
                <div class="banner confirm" data-testid="confirm-run">
                    <span>{move || ctx.state.with(|s| format!(
                        "This link asks for {} prompt pairs{}: on GPT-2 small about {} of computing on a 2-core CPU (a GPU is usually much faster). Run it?",
                        s.n_prompts(),
                        if s.methods.ig { format!(" with {} IG steps", s.ig_steps) } else { String::new() },
                        duration(s.gpt2_cpu_seconds()),
                    ))}</span>
                    <button data-testid="confirm-run-go" on:click=move |_| ctx.run()>"Run"</button>
                    <button on:click=move |_| ctx.confirm_run.set(false)>"Not now"</button>
                </div>
            </Show>
        </div>
    }
}

#[component]
pub fn ModelPanel() -> impl IntoView {
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
        ModelChoice::Gpt2 => "gpt2",
        ModelChoice::Bundled => "bundled",
        ModelChoice::Url(_) => "url",
    };
    let set_url = move |text: String| match ModelUrl::parse(&text) {
        Ok(u) => {
            url_error.set(None);
            ctx.state.update(|s| s.model = ModelChoice::Url(u));
        }
        Err(e) => url_error.set((!text.trim().is_empty()).then_some(e)),
    };
    let set_files = move |files: Vec<File>| {
        if files.is_empty() {
            return;
        }
        ctx.local_files.set_value(files);
        ctx.load(true);
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let files = input
            .files()
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        set_files(files);
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        let files = ev
            .data_transfer()
            .and_then(|d| d.files())
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        set_files(files);
    };
    let cached_total = move || ctx.cache.with(|c| c.iter().map(|f| f.bytes).sum::<u64>());
    view! {
        <fieldset class="panel" data-testid="model-panel">
            <legend>"Model"</legend>
            <label>
                "Weights "
                <select data-testid="model-select" prop:value=choice on:change=move |ev| {
                    let v = event_target_value(&ev);
                    url_mode.set(v == "url");
                    match v.as_str() {
                        "bundled" => ctx.state.update(|s| s.model = ModelChoice::Bundled),
                        "url" => set_url(url_text.get_untracked()),
                        _ => ctx.state.update(|s| s.model = ModelChoice::Gpt2),
                    }
                }>
                    <option value="gpt2">"GPT-2 small (Hugging Face, 548 MB)"</option>
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
            <label class="check">
                <input type="checkbox" prop:checked=move || ctx.state.with(|s| s.processing)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.state.update(|s| s.processing = on);
                    } />
                " TransformerLens weight processing (fold LN, centre weights)"
            </label>
            <label class="check">
                <input type="checkbox" data-testid="cpu-only" prop:checked=move || ctx.state.with(|s| s.backend == Backend::Cpu)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.state.update(|s| s.backend = if on { Backend::Cpu } else { Backend::Auto });
                    } />
                " CPU only (no WebGPU)"
            </label>
            <div class="buttons">
                <button data-testid="load" disabled=move || ctx.loading.get() || ctx.running.get()
                    on:click=move |_| ctx.load(false)>"Load"</button>
                <Show when=move || ctx.loading.get()>
                    <button data-testid="cancel-load" on:click=move |_| ctx.cancel()>"Cancel"</button>
                </Show>
                <Show when=move || ctx.error.get().is_some() && !ctx.loading.get() && ctx.model.get().is_none()>
                    <button data-testid="retry" on:click=move |_| ctx.load(ctx.last_local.get_value())>"Retry"</button>
                </Show>
            </div>
            <div class="drop" on:dragover=|ev: DragEvent| ev.prevent_default() on:drop=on_drop>
                "Or drop / pick local files (.safetensors + tokenizer.json, optional config.json): "
                <input type="file" multiple=true accept=".safetensors,.json" on:change=on_pick data-testid="files"
                    aria-label="Local model files (.safetensors, tokenizer.json, config.json)" />
            </div>
            {move || ctx.download.get().map(|d| {
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
            <p class="status" data-testid="status">{move || ctx.status.get()}</p>
            {move || ctx.model.get().map(|m| view! {
                <p class="model-info" data-testid="model-info">
                    {format!("{}: {} layers × {} heads, {} neurons per layer, vocabulary {}, context {}. Computing on {}. Worker memory {}.",
                        m.label, m.n_layers, m.n_heads, m.d_mlp, m.d_vocab, m.n_ctx, m.backend, mb(m.wasm_heap_bytes))}
                </p>
            })}
            <details class="cache">
                <summary>{move || format!("Cache: {} files, {}", ctx.cache.with(Vec::len), mb(cached_total()))}</summary>
                <ul>
                    <For each=move || ctx.cache.get() key=|f| f.url.clone() let:f>
                        <li>{format!("{} — {}", f.url, mb(f.bytes))}</li>
                    </For>
                </ul>
                <button data-testid="clear-cache" on:click=move |_| ctx.clear_cache()>"Clear the cache"</button>
            </details>
        </fieldset>
    }
}

#[component]
pub fn ConfigPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let custom_text = RwSignal::new(match ctx.state.get_untracked().task {
        Task::Custom(p) => pairs_text(&p),
        Task::Ioi { .. } => String::new(),
    });
    let syntax_error = RwSignal::new(None::<String>);
    let is_custom = move || ctx.state.with(|s| matches!(s.task, Task::Custom(_)));
    let ioi = move || match ctx.state.with(|s| s.task.clone()) {
        Task::Ioi { n, seed, corrupt } => (n, seed, corrupt),
        Task::Custom(_) => (8, 0, Corruption::Aba),
    };
    let set_ioi = move |n: usize, seed: u64, corrupt: Corruption| {
        ctx.state
            .update(|s| s.task = Task::Ioi { n, seed, corrupt });
    };
    let apply_custom = move |text: String| match gradpatch_config::parse_pairs(&text) {
        Ok(parsed) => {
            syntax_error.set(parsed.dropped);
            let pairs = parsed.pairs;
            ctx.validate(pairs.clone());
            ctx.state.update(|s| s.task = Task::Custom(pairs));
        }
        Err(e) => syntax_error.set(Some(e)),
    };
    let num = |ev: &leptos::ev::Event| event_target_value(ev).trim().parse::<u64>().ok();
    let eta = move || {
        ctx.progress.get().map(|p| {
            let rest = if p.fraction > 0.0 {
                p.elapsed / p.fraction - p.elapsed
            } else {
                f64::NAN
            };
            format!(
                "{:.1}% — prompt {}/{} ({}) — elapsed {}, about {} left",
                100.0 * p.fraction,
                (p.prompt + 1).min(p.n_prompts),
                p.n_prompts,
                p.stage.label(),
                duration(p.elapsed),
                duration(rest)
            )
        })
    };
    let set_percentile = move |ev: leptos::ev::Event| {
        if let Ok(p) = event_target_value(&ev).parse::<f64>()
            && (0.0..1.0).contains(&p)
            && p > 0.0
        {
            ctx.state.update(|s| s.percentile = p);
        }
    };
    let copied = RwSignal::new(false);
    let copy_link = move |_| {
        let href = window().location().href().unwrap_or_default();
        let _ = window().navigator().clipboard().write_text(&href);
        copied.set(true);
    };
    view! {
        <fieldset class="panel" data-testid="config-panel">
            <legend>"Task and methods"</legend>
            <label>"Prompts "
                <select prop:value=move || if is_custom() { "custom" } else { "ioi" } on:change=move |ev| {
                    if event_target_value(&ev) == "custom" {
                        apply_custom(custom_text.get_untracked());
                    } else {
                        let (n, seed, c) = ioi();
                        set_ioi(n, seed, c);
                    }
                }>
                    <option value="ioi">"IOI (generated)"</option>
                    <option value="custom">"My own prompt pairs"</option>
                </select>
            </label>
            <Show when=move || !is_custom()>
                <div class="row">
                    <label>"N " <input type="number" min="1" max=MAX_PROMPTS data-testid="n" prop:value=move || ioi().0
                        on:change=move |ev| if let Some(n) = num(&ev) {
                            let (_, seed, c) = ioi();
                            set_ioi((n as usize).clamp(1, MAX_PROMPTS), seed, c);
                        } /></label>
                    <label>"seed " <input type="number" min="0" prop:value=move || ioi().1
                        on:change=move |ev| if let Some(seed) = num(&ev) {
                            let (n, _, c) = ioi();
                            set_ioi(n, seed, c);
                        } /></label>
                    <label>"corruption " {key_select(move || ioi().2, move |c| {
                        let (n, seed, _) = ioi();
                        set_ioi(n, seed, c);
                    }, |c| match c {
                        Corruption::Aba => "aba (S2 → IO)",
                        Corruption::Abc => "abc (S2 → third name)",
                    })}</label>
                </div>
            </Show>
            <Show when=is_custom>
                <p class="hint">"One pair per line: clean|corrupted|correct answer|incorrect answer (answers are one token, with their leading space)."</p>
                <textarea rows="4" data-testid="pairs" aria-label="Prompt pairs, one per line" prop:value=move || custom_text.get()
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        custom_text.set(v.clone());
                        apply_custom(v);
                    }></textarea>
                {move || syntax_error.get().map(|e| view! { <p class="invalid">{e}</p> })}
                <ul class="invalid">
                    {move || ctx.validation.get().into_iter().enumerate().filter_map(|(i, e)| e.map(|e| view! {
                        <li>{format!("pair {}: {e}", i + 1)}</li>
                    })).collect_view()}
                </ul>
            </Show>
            <div class="row">
                <label class="check"><input type="checkbox" data-testid="method-ig" prop:checked=move || ctx.state.with(|s| s.methods.ig)
                    on:change=move |ev| { let on = event_target_checked(&ev); ctx.state.update(|s| s.methods.ig = on); } />" IG"</label>
                <label>"steps " <input type="number" min="1" max=MAX_STEPS prop:value=move || ctx.state.with(|s| s.ig_steps)
                    on:change=move |ev| if let Some(v) = num(&ev) { ctx.state.update(|s| s.ig_steps = (v as usize).clamp(1, MAX_STEPS)); } /></label>
                <label>"rule " {key_select(move || ctx.state.with(|s| s.ig_method),
                    move |v: Quadrature| ctx.state.update(|s| s.ig_method = v), Quadrature::key)}</label>
                <label>"baseline " {key_select(move || ctx.state.with(|s| s.ig_baseline),
                    move |v: Baseline| ctx.state.update(|s| s.ig_baseline = v), Baseline::key)}</label>
            </div>
            <div class="row">
                <label class="check"><input type="checkbox" data-testid="method-ap" prop:checked=move || ctx.state.with(|s| s.methods.ap)
                    on:change=move |ev| { let on = event_target_checked(&ev); ctx.state.update(|s| s.methods.ap = on); } />" AP"</label>
                <label>"direction " {key_select(move || ctx.state.with(|s| s.ap_direction),
                    move |v: Direction| ctx.state.update(|s| s.ap_direction = v), Direction::key)}</label>
                <label class="check" title="Attribution patching: AP's gradient approximation, one forward and one backward per prompt, in the AP direction">
                    <input type="checkbox" data-testid="method-atp" prop:checked=move || ctx.state.with(|s| s.methods.atp)
                    on:change=move |ev| { let on = event_target_checked(&ev); ctx.state.update(|s| s.methods.atp = on); } />" AtP"</label>
                <label class="check" title="Each head's score at each token (the Positions tab); AP per head and position costs about 4% more than the AP sweep">
                    <input type="checkbox" data-testid="positions" prop:checked=move || ctx.state.with(|s| s.positions)
                    on:change=move |ev| { let on = event_target_checked(&ev); ctx.state.update(|s| s.positions = on); } />" per position"</label>
                <label>"highlight quantile " <input type="number" step="0.01" min="0.01" max="0.99" data-testid="pct"
                    prop:value=move || ctx.state.with(|s| s.percentile)
                    on:change=set_percentile /></label>
            </div>
            <div class="buttons">
                <button data-testid="run" class="primary"
                    disabled=move || ctx.model.get().is_none() || ctx.running.get() || ctx.state.with(|s| s.methods.is_empty())
                    on:click=move |_| ctx.run()>"Run the comparison"</button>
                <Show when=move || ctx.running.get()>
                    <button data-testid="cancel" on:click=move |_| ctx.cancel()>"Cancel"</button>
                </Show>
                <button on:click=copy_link data-testid="copy-link">
                    {move || if copied.get() { "Link copied" } else { "Copy link" }}
                </button>
            </div>
            {move || ctx.running.get().then(|| view! {
                <div class="run-progress" data-testid="run-progress">
                    <progress max="1" value=move || ctx.progress.get().map_or(0.0, |p| p.fraction)></progress>
                    <span>{move || eta().unwrap_or_else(|| "starting…".into())}</span>
                </div>
            })}
        </fieldset>
    }
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
