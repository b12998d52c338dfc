//! The first-visit choice: GPT-2 small (a large download, once) or the bundled demo model
//! (small, instant). Shown when GPT-2 is not in the cache, so that opening the page or a
//! shared link never starts a 548 MB download unasked.

use gradpatch_config::ModelChoice;
use gradpatch_page::{Choice, Event};
use gradpatch_terms::duration_text;
use leptos::prelude::*;

use super::Ctx;

/// `model.safetensors` of GPT-2 small on Hugging Face (plus 1.4 MB of tokenizer and config).
const GPT2_BYTES: f64 = 548.1e6;
/// The bundled demo model's three files.
const BUNDLED_BYTES: f64 = 3.4e6;

#[component]
pub fn ChooseModel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let estimate = move || {
        let secs = ctx
            .state
            .with(|s| s.options.gpt2_cpu_seconds(s.prompts.len()));
        (secs > 0.0).then(|| {
            format!(
                "This configuration on GPT-2 small: about {} of computing on a 2-core CPU (the CPU fallback in the browser is slower; a GPU usually much faster).",
                duration_text(secs)
            )
        })
    };
    let pick = move |model: ModelChoice| ctx.dispatch(Event::Choose(model));
    let choosing = move || {
        ctx.page
            .with(|p| matches!(p.phase.choice(), Some(Choice::FirstVisit)))
    };
    view! {
        <Show when=choosing>
            <section class="banner choose" data-testid="choose-model" aria-labelledby="choose-title">
                <h2 id="choose-title">"Which model?"</h2>
                <div class="choices">
                    <button class="primary" data-testid="choose-gpt2" on:click=move |_| pick(ModelChoice::Gpt2)>
                        <strong>"GPT-2 small"</strong>
                        <span>{format!("{:.0} MB from Hugging Face, downloaded once, then cached", GPT2_BYTES / 1e6)}</span>
                    </button>
                    <button data-testid="choose-bundled" on:click=move |_| pick(ModelChoice::Bundled)>
                        <strong>"The bundled demo model"</strong>
                        <span>{format!("{:.0} MB, instant, works offline (a small IOI model, not GPT-2)", BUNDLED_BYTES / 1e6)}</span>
                    </button>
                </div>
                {move || estimate().map(|e| view! { <p class="hint" data-testid="estimate">{e}</p> })}
            </section>
        </Show>
    }
}
