//! The prompts tab: each prompt, its tokens and logit differences.

use leptos::prelude::*;

use super::fmt;
use crate::app::Ctx;

/// One row per prompt; clicking a row chooses that prompt in every chart.
#[component]
pub(super) fn PromptsTable() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let r = ctx.results.get()?;
        Some(view! {
            <table class="prompts" data-testid="prompts">
                <tr><th>"#"</th><th>"clean"</th><th>"corrupted"</th><th>"correct"</th><th>"incorrect"</th><th>"tokens"</th><th>"clean LD"</th><th>"corrupted LD"</th></tr>
                {r.prompts.iter().enumerate().map(|(i, p)| {
                    let ld = |v: &Vec<f32>| v.get(i).map_or("—".into(), |x| fmt(f64::from(*x)));
                    view! {
                        <tr class="clickable" on:click=move |_| ctx.configure(|s| s.view.prompt = Some(i))>
                            <td>{i}</td><td>{p.pair.clean.clone()}</td><td>{p.pair.corrupted.clone()}</td>
                            <td>{format!("{:?}", p.pair.correct)}</td><td>{format!("{:?}", p.pair.incorrect)}</td>
                            <td class="tokens">{p.token_texts().into_iter().zip(p.clean_token_ids.clone()).map(|(t, id)| view! {
                                <span class="tok" title=format!("id {id}")>{t}</span>
                            }).collect_view()}</td>
                            <td>{ld(&r.clean_logit_diff)}</td><td>{ld(&r.corrupted_logit_diff)}</td>
                        </tr>
                    }
                }).collect_view()}
            </table>
        })
    }
}
