//! The first-visit choice: the named preset (GPT-2 small unless a link names another; a large
//! download, once), the bundled demo model (small, instant), or — where the site publishes
//! them — GPT-2 small's precomputed results. Shown when the preset is not in the cache, so that
//! opening the page or a shared link never starts a download of hundreds of MB unasked.

use gradpatch_config::{ModelChoice, Preset, ResultsLink};
use gradpatch_page::{Choice, Event};
use gradpatch_terms::{Keyed, duration_text};
use leptos::prelude::*;

use super::Ctx;

/// The bundled demo model's three files.
const BUNDLED_BYTES: f64 = 3.4e6;
/// Where the deploy workflow publishes GPT-2 small's results (deploy/pages/precompute-gpt2.sh).
const PRECOMPUTED: &str = "precomputed/gpt2-small/results.json";
const PRECOMPUTED_ABOUT: &str = "precomputed/gpt2-small/about.json";

/// How the precomputed results were made, in words, when the site has them.
async fn precomputed_about() -> Option<String> {
    let bytes = super::open::fetch_capped(PRECOMPUTED_ABOUT, 64 << 10)
        .await
        .ok()?;
    let about: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let field = |k: &str| {
        about
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string()
    };
    let commit: String = field("commit").chars().take(12).collect();
    Some(format!(
        "Computed natively by `{}` at commit {commit} on {}, finished {}.",
        field("configuration"),
        field("runner"),
        field("finished")
    ))
}

/// `548 MB`, `1.52 GB`.
pub fn download_text(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.0} MB", bytes as f64 / 1e6)
    }
}

#[component]
pub fn ChooseModel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // The preset a link names (GPT-2 small when it names the bundled model).
    let preset = move || {
        ctx.state
            .with(|s| s.model.preset())
            .unwrap_or(Preset::Gpt2Small)
    };
    let estimate = move || {
        let p = preset();
        let secs = ctx
            .state
            .with(|s| p.cpu_seconds(&s.options, s.prompts.len()));
        (secs > 0.0).then(|| {
            format!(
                "This configuration on {}: about {} of computing on a 2-core CPU (the CPU fallback in the browser is slower; a GPU usually much faster), after a download of {}.",
                p.title(),
                duration_text(secs),
                download_text(p.weights_bytes())
            )
        })
    };
    let pick = move |model: ModelChoice| ctx.dispatch(Event::Choose(model));
    let about = RwSignal::new(None::<String>);
    let see = move |_| {
        let link = ResultsLink::Relative(PRECOMPUTED.into());
        ctx.configure(|s| s.results = Some(link.clone()));
        ctx.open_link(link);
    };
    let choosing = move || {
        ctx.page
            .with(|p| matches!(p.phase.choice(), Some(Choice::FirstVisit)))
    };
    // Asked once, when the choice is first shown.
    Effect::new(move |asked: Option<bool>| {
        if asked == Some(true) || !choosing() {
            return asked.unwrap_or(false);
        }
        leptos::task::spawn_local(async move { about.set(precomputed_about().await) });
        true
    });
    view! {
        <Show when=choosing>
            <section class="banner choose" data-testid="choose-model" aria-labelledby="choose-title">
                <h2 id="choose-title">"Which model?"</h2>
                <div class="choices">
                    {move || {
                        let p = preset();
                        view! {
                            <button class="primary" data-testid=format!("choose-{}", p.key()) on:click=move |_| pick(ModelChoice::Preset(p))>
                                <strong>{p.title()}</strong>
                                <span>{format!("{} from Hugging Face, downloaded once, then cached", download_text(p.weights_bytes()))}</span>
                            </button>
                        }
                    }}
                    <button data-testid="choose-bundled" on:click=move |_| pick(ModelChoice::Bundled)>
                        <strong>"The bundled demo model"</strong>
                        <span>{format!("{:.0} MB, instant, works offline (a small IOI model, not GPT-2)", BUNDLED_BYTES / 1e6)}</span>
                    </button>
                    {move || about.get().map(|text| view! {
                        <button data-testid="choose-precomputed" on:click=see>
                            <strong>"See GPT-2 small's results (precomputed, no download)"</strong>
                            <span data-testid="precomputed-about">{text}</span>
                        </button>
                    })}
                </div>
                {move || estimate().map(|e| view! { <p class="hint" data-testid="estimate">{e}</p> })}
            </section>
        </Show>
    }
}
