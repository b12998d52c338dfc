//! The methods of the form: a checkbox per method (from the one list, `Method::ALL`) with its
//! own options beside it, then the options every method shares.

use gradpatch_config::MAX_STEPS;
use gradpatch_terms::{
    Baseline, Direction, Method, MethodOutput, Quadrature, Ranking, StudyOptions,
};
use leptos::prelude::*;

use super::key_select;
use crate::app::Ctx;

/// What the box of a method says on hover.
fn title(method: Method) -> &'static str {
    match method {
        Method::Atp => {
            "Attribution patching: AP's gradient approximation, one forward and one backward per prompt, in the AP direction"
        }
        Method::Ig => "Layerwise Integrated Gradients (captum's definition)",
        Method::Ap => "Activation patching: one patched run per head and neuron",
        Method::Eap => {
            "Edge attribution patching: every edge between components (the q, k and v inputs of each head apart), one forward and one backward per prompt (the Circuit tab)"
        }
        Method::EapIg => {
            "EAP with integrated gradients (inputs variant): the gradients averaged over m points between the corrupted and the clean input (the Circuit tab)"
        }
    }
}

/// The options of `method` beside its box.
fn options(method: Method) -> AnyView {
    let ctx = expect_context::<Ctx>();
    let num = |ev: &leptos::ev::Event| event_target_value(ev).trim().parse::<u64>().ok();
    match method {
        Method::Atp => view! { <span class="hint">"(follows AP's direction)"</span> }.into_any(),
        Method::Ig => view! {
            <label>"steps " <input type="number" min="1" max=MAX_STEPS prop:value=move || ctx.state.with(|s| s.options.ig_steps)
                on:change=move |ev| if let Some(v) = num(&ev) {
                    ctx.configure(|s| s.options.ig_steps = (v as usize).clamp(1, MAX_STEPS));
                } /></label>
            <label>"rule " {key_select(move || ctx.state.with(|s| s.options.ig_method),
                move |v: Quadrature| ctx.configure(|s| s.options.ig_method = v), Quadrature::key)}</label>
            <label>"baseline " {key_select(move || ctx.state.with(|s| s.options.ig_baseline),
                move |v: Baseline| ctx.configure(|s| s.options.ig_baseline = v), Baseline::key)}</label>
        }
        .into_any(),
        Method::Ap => view! {
            <label>"direction " {key_select(move || ctx.state.with(|s| s.options.ap_direction),
                move |v: Direction| ctx.configure(|s| s.options.ap_direction = v), Direction::key)}</label>
        }
        .into_any(),
        Method::Eap => view! { <span class="hint">"(edges)"</span> }.into_any(),
        Method::EapIg => view! {
            <label>"steps " <input type="number" min="1" max=StudyOptions::MAX_EAPIG_STEPS data-testid="eapig-steps"
                prop:value=move || ctx.state.with(|s| s.options.eapig_steps)
                on:change=move |ev| if let Some(v) = num(&ev) {
                    ctx.configure(|s| s.options.eapig_steps = (v as usize).clamp(1, StudyOptions::MAX_EAPIG_STEPS));
                } /></label>
        }
        .into_any(),
    }
}

/// Exact patching of each prompt's top edges, when an edge method runs.
#[component]
fn ExactEdgesOption() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let num = |ev: &leptos::ev::Event| event_target_value(ev).trim().parse::<u64>().ok();
    let edges_on = move || {
        ctx.state
            .with(|s| !s.options.methods.of(MethodOutput::Edges).is_empty())
    };
    view! {
        <Show when=edges_on>
            <label title="Exact edge patching of each prompt's top edges by |EAP-IG| (or |EAP|): one patched run per edge, batched; 0 for none">
                "exact patching of the top " <input type="number" min="0" max=StudyOptions::MAX_EXACT_EDGES data-testid="exact-edges"
                prop:value=move || ctx.state.with(|s| s.options.exact_edges)
                on:change=move |ev| if let Some(v) = num(&ev) {
                    ctx.configure(|s| s.options.exact_edges = (v as usize).min(StudyOptions::MAX_EXACT_EDGES));
                } />" edges"</label>
        </Show>
    }
}

/// One row per method: its box and its options.
#[component]
pub fn MethodRows() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    Method::ALL
        .iter()
        .map(|&method| {
            view! {
                <div class="row">
                    <label class="check" title=title(method)>
                        <input type="checkbox" data-testid=format!("method-{}", method.key())
                            prop:checked=move || ctx.state.with(|s| s.options.methods.has(method))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                ctx.configure(|s| s.options.methods.set(method, on));
                            } />
                        {format!(" {}", method.label())}
                    </label>
                    {options(method)}
                </div>
            }
        })
        .collect_view()
}

/// The label of a faithfulness ranking in the form.
fn ranking_label(r: Ranking) -> &'static str {
    match r {
        Ranking::Abs => "by |score|",
        Ranking::Signed => "by signed score",
    }
}

/// The faithfulness curves: a box, and the ranking they keep components by.
#[component]
fn FaithfulnessOption() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let on = move || ctx.state.with(|s| s.options.faithfulness.is_some());
    view! {
        <label class="check" title="Each method's faithfulness curve: keep its top k heads (every k) and neurons (a log grid), patch the rest with the corrupted run, and read how much of the logit difference is left; 20 random rankings as the baseline. About 6 s per prompt and method on GPT-2 small's shape natively">
            <input type="checkbox" data-testid="faithfulness" prop:checked=on
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    ctx.configure(|s| s.options.faithfulness = on.then_some(s.options.faithfulness.unwrap_or(Ranking::Abs)));
                } />" faithfulness"</label>
        <Show when=on>
            <label>"ranked " {key_select(move || ctx.state.with(|s| s.options.faithfulness.unwrap_or(Ranking::Abs)),
                move |v: Ranking| ctx.configure(|s| s.options.faithfulness = Some(v)), ranking_label)}</label>
        </Show>
    }
}

/// The options every method shares: scores per position, faithfulness, the highlight quantile.
#[component]
pub fn SharedOptions() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="row">
            <label class="check" title="Each head's score at each token (the Positions tab); AP per head and position costs about 4% more than the AP sweep">
                <input type="checkbox" data-testid="positions" prop:checked=move || ctx.state.with(|s| s.options.positions)
                on:change=move |ev| { let on = event_target_checked(&ev); ctx.configure(|s| s.options.positions = on); } />" per position"</label>
            <FaithfulnessOption />
            <ExactEdgesOption />
            <Quantile />
        </div>
    }
}

/// The highlight quantile: a view parameter, so it applies to a results file too.
#[component]
pub fn Quantile() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let set_percentile = move |ev: leptos::ev::Event| {
        if let Ok(p) = event_target_value(&ev).parse::<f64>()
            && p > 0.0
            && p < 1.0
        {
            ctx.configure(|s| s.options.percentile = p);
        }
    };
    view! {
        <label>"highlight quantile " <input type="number" step="0.01" min="0.01" max="0.99" data-testid="pct"
            prop:value=move || ctx.state.with(|s| s.options.percentile)
            on:change=set_percentile /></label>
    }
}
