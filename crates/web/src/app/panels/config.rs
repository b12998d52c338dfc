//! The task and methods panel: the prompts, the methods and their options, Run and Cancel, the
//! progress of a run, the link. While a results file is shown, its configuration instead.

use gradpatch_config::{MAX_PROMPTS, pairs_text};
use gradpatch_page::{Event, Phase};
use gradpatch_terms::{Corruption, Prompts, duration_text, seconds_left};
use leptos::prelude::*;

use super::file_config::FileConfig;
use super::key_select;
use super::methods::{MethodRows, SharedOptions};
use crate::app::Ctx;

/// Generated IOI prompts (count, seed, corruption) or pairs written by the user.
#[component]
fn PromptsChoice() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let custom_text = RwSignal::new(match ctx.state.get_untracked().prompts {
        Prompts::Custom(p) => pairs_text(&p),
        Prompts::Ioi { .. } => String::new(),
    });
    let syntax_error = RwSignal::new(None::<String>);
    let is_custom = move || ctx.state.with(|s| matches!(s.prompts, Prompts::Custom(_)));
    let ioi = move || match ctx.state.with(|s| s.prompts.clone()) {
        Prompts::Ioi { n, seed, corrupt } => (n, seed, corrupt),
        Prompts::Custom(_) => (8, 0, Corruption::Aba),
    };
    let set_ioi = move |n: usize, seed: u64, corrupt: Corruption| {
        ctx.configure(|s| s.prompts = Prompts::Ioi { n, seed, corrupt });
    };
    let apply_custom = move |text: String| match gradpatch_config::parse_pairs(&text) {
        Ok(parsed) => {
            syntax_error.set(parsed.dropped_text());
            ctx.dispatch(Event::Validate(parsed.pairs.clone()));
            ctx.configure(|s| s.prompts = Prompts::Custom(parsed.pairs));
        }
        Err(e) => syntax_error.set(Some(e.to_string())),
    };
    let num = |ev: &leptos::ev::Event| event_target_value(ev).trim().parse::<u64>().ok();
    view! {
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
                {move || ctx.page.with(|p| p.validation.clone()).into_iter().enumerate().filter_map(|(i, e)| e.map(|e| view! {
                    <li>{format!("pair {}: {e}", i + 1)}</li>
                })).collect_view()}
            </ul>
        </Show>
    }
}

/// Run, Cancel, the link, and a run's progress.
#[component]
fn RunControls() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let running = move || ctx.page.with(|p| p.phase.is_running());
    let eta = move || {
        ctx.page.with(|p| p.phase.progress().cloned()).map(|p| {
            format!(
                "{:.1}% — prompt {}/{} ({}) — elapsed {}, about {} left",
                100.0 * p.fraction,
                (p.prompt + 1).min(p.n_prompts),
                p.n_prompts,
                p.stage.label(),
                duration_text(p.elapsed),
                duration_text(seconds_left(p.elapsed, p.fraction).unwrap_or(f64::NAN))
            )
        })
    };
    let copied = RwSignal::new(false);
    let copy_link = move |_| {
        let href = window().location().href().unwrap_or_default();
        let _ = window().navigator().clipboard().write_text(&href);
        copied.set(true);
    };
    let long_link = move || {
        let loc = window().location();
        let page = format!(
            "{}{}",
            loc.origin().unwrap_or_default(),
            loc.pathname().unwrap_or_default()
        );
        ctx.state
            .with(|s| gradpatch_config::LongLink::check(gradpatch_config::address(&page, s).len()))
    };
    view! {
        <div class="buttons">
            <button data-testid="run" class="primary"
                disabled=move || !ctx.page.with(|p| p.can_run())
                on:click=move |_| ctx.dispatch(Event::Run)>"Run the comparison"</button>
            <Show when=running>
                <button data-testid="cancel" on:click=move |_| ctx.dispatch(Event::Cancel)>"Cancel"</button>
            </Show>
            <button on:click=copy_link data-testid="copy-link">
                {move || if copied.get() { "Link copied" } else { "Copy link" }}
            </button>
        </div>
        {move || long_link().map(|l| view! { <p class="banner warning" role="status" data-testid="long-link">{l.to_string()}</p> })}
        {move || running().then(|| view! {
            <div class="run-progress" data-testid="run-progress">
                <progress max="1" value=move || ctx.page.with(|p| p.phase.progress().map_or(0.0, |p| p.fraction))></progress>
                <span>{move || eta().unwrap_or_else(|| "starting…".into())}</span>
            </div>
        })}
    }
}

#[component]
pub fn ConfigPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let viewing_file = move || {
        ctx.page
            .with(|p| matches!(p.phase, Phase::ViewingFile { .. }))
    };
    view! {
        <Show when=move || !viewing_file() fallback=|| view! { <FileConfig /> }>
            <fieldset class="panel" data-testid="config-panel">
                <legend>"Task and methods"</legend>
                <PromptsChoice />
                <MethodRows />
                <SharedOptions />
                <RunControls />
            </fieldset>
        </Show>
    }
}
