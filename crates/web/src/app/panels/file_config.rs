//! A results file's configuration, shown read-only in place of the form while the file is on
//! screen (the highlight quantile, a view parameter, stays editable).

use gradpatch_page::{Event, Phase, ResultsFrom};
use gradpatch_study::StudyConfig;
use gradpatch_terms::{Method, Prompts, Ranking};
use leptos::prelude::*;

use super::methods::Quantile;
use crate::app::Ctx;

/// `(label, value)` rows of a file's configuration.
fn rows(c: &StudyConfig, n_prompts: usize) -> Vec<(&'static str, String)> {
    let o = &c.options;
    let prompts = match c.ioi_prompts() {
        Some(Prompts::Ioi { n, seed, corrupt }) => {
            format!("IOI, {n} pairs, seed {seed}, {corrupt}")
        }
        _ => format!("{n_prompts} pairs ({})", c.prompts_source),
    };
    let methods: Vec<&str> = o.methods.iter().map(Method::label).collect();
    let mut edges = Vec::new();
    if o.methods.has(Method::EapIg) {
        edges.push(format!("EAP-IG {} steps", o.eapig_steps));
    }
    if let Some(m) = o.exact_ranked_by() {
        edges.push(format!(
            "exact patching of the top {} by |{}|",
            o.exact_edges,
            m.label()
        ));
    }
    let mut rows = vec![
        ("model", c.model.clone()),
        ("prompts", prompts),
        ("methods", methods.join(", ")),
        (
            "IG",
            format!(
                "{} steps, {}, {} baseline",
                o.ig_steps, o.ig_method, o.ig_baseline
            ),
        ),
        ("AP and AtP", o.ap_direction.to_string()),
        (
            "per position",
            if o.positions { "yes" } else { "no" }.into(),
        ),
        (
            "faithfulness",
            match o.faithfulness {
                None => "no".into(),
                Some(Ranking::Abs) => "yes, ranked by |score|".into(),
                Some(Ranking::Signed) => "yes, ranked by signed score".into(),
            },
        ),
        ("computed on", c.backend.clone()),
    ];
    if !edges.is_empty() {
        rows.insert(5, ("edges", edges.join("; ")));
    }
    rows
}

#[component]
pub fn FileConfig() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let file = move || {
        ctx.page.with(|p| match &p.phase {
            Phase::ViewingFile { results, from, .. } => {
                Some((rows(&results.config, results.prompts.len()), from.clone()))
            }
            _ => None,
        })
    };
    move || {
        file().map(|(rows, from)| {
            let whose = match &from {
                ResultsFrom::Run => "this page's run".to_string(),
                other => other.to_string(),
            };
            view! {
                <fieldset class="panel" data-testid="file-config">
                    <legend>"Task and methods (read only)"</legend>
                    <p class="hint" data-testid="file-config-note">
                        {format!("The configuration of {whose}, which is on screen. Close it to edit and run yours.")}
                    </p>
                    <table class="file-config">
                        {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                    </table>
                    <div class="row"><Quantile /></div>
                    <div class="buttons">
                        <button data-testid="close-file-config" on:click=move |_| ctx.dispatch(Event::CloseFile)>"Close the file"</button>
                    </div>
                </fieldset>
            }
        })
    }
}
