//! The banners above the page: link warnings, notices, the error (with the bundled model
//! offered), and the questions before a download or a long run.

use gradpatch_config::{ModelChoice, Preset};
use gradpatch_page::{Choice, Event};
use gradpatch_terms::{Method, duration_text};
use leptos::prelude::*;

use crate::app::Ctx;

#[component]
pub fn Banners() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let banners = Memo::new(move |_| ctx.page.with(|p| p.banners.clone()));
    view! {
        <div class="banners">
            // Keyed by place and text: two equal messages are two banners, not one.
            <For each=move || banners.get().warnings.into_iter().enumerate() key=|w| w.clone() let:w>
                <div class="banner warning" data-testid="warning">{w.1}</div>
            </For>
            <For each=move || banners.get().notices.into_iter().enumerate() key=|n| n.clone() let:n>
                <div class="banner notice" data-testid="notice">{n.1}</div>
            </For>
            {move || banners.get().error.map(|e| {
                let offer_bundled = ctx.state.with(|s| s.model != ModelChoice::Bundled);
                view! {
                    <div class="banner error" data-testid="error">
                        <span>{e}</span>
                        <Show when=move || offer_bundled>
                            <button on:click=move |_| ctx.dispatch(Event::UseBundled)>"Use the bundled offline model"</button>
                        </Show>
                    </div>
                }
            })}
            <ConfirmUrl />
            <ConfirmRun />
        </div>
    }
}

/// "This link asks to download a model from …": shown before anything is fetched from there.
#[component]
fn ConfirmUrl() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let url = move || {
        ctx.page.with(|p| match p.phase.choice() {
            Some(Choice::ModelUrl(u)) => Some(u.clone()),
            _ => None,
        })
    };
    move || {
        url().map(|u| view! {
            <div class="banner confirm" data-testid="confirm-url">
                <span>"This link asks to download a model from "</span>
                <strong class="host" data-testid="confirm-host">{u.host().to_string()}</strong>
                <span>" ("</span><code>{u.to_string()}</code><span>"). Download it?"</span>
                <button on:click=move |_| ctx.dispatch(Event::ConfirmModelUrl { download: true })>"Download"</button>
                <button on:click=move |_| ctx.dispatch(Event::ConfirmModelUrl { download: false })>"Use the bundled model instead"</button>
            </div>
        })
    }
}

/// A link's comparison that is more work than it may start unasked: the estimate and a Run
/// button.
#[component]
fn ConfirmRun() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = move || {
        ctx.state.with(|s| {
            let o = &s.options;
            let preset = s.model.preset().unwrap_or(Preset::Gpt2Small);
            format!(
                "This link asks for {} prompt pairs{}: on {} about {} of computing on a 2-core CPU (a GPU is usually much faster). Run it?",
                s.prompts.len(),
                if o.methods.has(Method::Ig) {
                    format!(" with {} IG steps", o.ig_steps)
                } else {
                    String::new()
                },
                preset.title(),
                duration_text(preset.cpu_seconds(o, s.prompts.len())),
            )
        })
    };
    view! {
        <Show when=move || ctx.page.with(|p| p.phase.confirm_run())>
            <div class="banner confirm" data-testid="confirm-run">
                <span>{text}</span>
                <button data-testid="confirm-run-go" on:click=move |_| ctx.dispatch(Event::Run)>"Run"</button>
                <button on:click=move |_| ctx.dispatch(Event::DismissRun)>"Not now"</button>
            </div>
        </Show>
    }
}
