//! The circuit on the results: the scoreboard (summary tab), the outlines' cells and legend
//! (heads tab), the classes' positions (positions tab). Everything is computed by
//! `gradpatch_circuit` from the scores on screen.

use gradpatch_charts::outline::{class_colour, hex};
use gradpatch_circuit::{IoiPositions, Scoreboard, scoreboard};
use gradpatch_page::LoadedCircuit;
use leptos::prelude::*;

use super::fmt;
use crate::app::Ctx;
use crate::app::circuit::CircuitChooser;

/// The circuit in use when it fits the results' heads (`None` with no circuit or results).
fn fitting(ctx: Ctx) -> Option<Result<LoadedCircuit, String>> {
    let c = ctx.page.with(|p| p.active_circuit())?;
    let shape = ctx.results.with(|r| r.as_ref()?.shape())?;
    Some(
        c.circuit
            .check_fits(shape.0, shape.1)
            .map(|()| c.clone())
            .map_err(|e| format!("The circuit of {} does not fit these results: {e}.", c.from)),
    )
}

/// The circuit's heads as heatmap cells `(layer, head, class)`, when outlines are on and the
/// circuit fits.
pub(super) fn head_cells(ctx: Ctx) -> Vec<(usize, usize, usize)> {
    if !ctx.state.with(|s| s.view.outlines) {
        return Vec::new();
    }
    let Some(Ok(c)) = fitting(ctx) else {
        return Vec::new();
    };
    c.circuit
        .classes
        .iter()
        .enumerate()
        .flat_map(|(i, class)| class.heads.iter().map(move |&(l, h)| (l, h, i)))
        .collect()
}

/// The circuit's heads at the token where their class acts in prompt `prompt`, as cells
/// `(layer × heads + head, token, class)` of the positions heatmap; and, per class, where that
/// is or why it is not in this prompt.
pub(super) fn position_cells(ctx: Ctx, prompt: usize) -> (Vec<(usize, usize, usize)>, Vec<String>) {
    let Some(Ok(c)) = fitting(ctx) else {
        return (Vec::new(), Vec::new());
    };
    let found = ctx.results.with(|r| {
        let r = r.as_ref()?;
        let record = r.prompts.get(prompt)?;
        let heads = r.shape()?.1;
        Some((IoiPositions::locate(record), record.token_texts(), heads))
    });
    let Some((located, tokens, heads)) = found else {
        return (Vec::new(), Vec::new());
    };
    let mut cells = Vec::new();
    let mut notes = Vec::new();
    for (i, class) in c.circuit.classes.iter().enumerate() {
        let at = located.and_then(|p| p.index(class.acts_at));
        match at {
            Ok(t) => {
                let token = tokens.get(t).cloned().unwrap_or_default();
                notes.push(format!(
                    "{} at {} = token {t} {token:?}",
                    class.name, class.acts_at
                ));
                if ctx.state.with(|s| s.view.outlines) {
                    cells.extend(class.heads.iter().map(|&(l, h)| (l * heads + h, t, i)));
                }
            }
            Err(m) => notes.push(format!(
                "{}: {}",
                class.name,
                m.explain(class.acts_at, prompt)
            )),
        }
    }
    (cells, notes)
}

/// The classes' colours and the switch that hides the outlines.
#[component]
pub(super) fn CircuitLegend() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let classes = move || match fitting(ctx) {
        Some(Ok(c)) => c
            .circuit
            .classes
            .iter()
            .enumerate()
            .map(|(i, k)| {
                (
                    k.name.clone(),
                    k.acts_at.to_string(),
                    hex(class_colour(i)),
                    k.heads.len(),
                )
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    move || {
        let list = classes();
        (!list.is_empty()).then(|| {
            view! {
                <div class="row legend" data-testid="circuit-legend">
                    <label class="check">
                        <input type="checkbox" data-testid="outlines" prop:checked=move || ctx.state.with(|s| s.view.outlines)
                            on:change=move |ev| { let on = event_target_checked(&ev); ctx.configure(|s| s.view.outlines = on); } />
                        " outline the circuit's heads:"
                    </label>
                    {list.into_iter().map(|(name, at, colour, n)| view! {
                        <span class="class"><span class="swatch" style:color=colour>"□ "</span>{format!("{name} ({n}, at {at})")}</span>
                    }).collect_view()}
                </div>
            }
        })
    }
}

fn pr(b: &Scoreboard, row: &gradpatch_circuit::SetScore) -> Vec<String> {
    b.ks.iter()
        .map(|k| {
            row.at_k.iter().find(|a| a.k == *k).map_or("—".into(), |a| {
                format!("{:.2} / {:.2}", a.precision, a.recall)
            })
        })
        .collect()
}

/// One method's block of the scoreboard.
fn method_rows(b: &Scoreboard, m: &gradpatch_circuit::MethodBoard) -> impl IntoView + use<> {
    let label = m.method.label();
    let per_position = match &m.per_position {
        Ok(auc) => fmt(*auc),
        Err(why) => format!("— ({why})"),
    };
    let rows: Vec<_> = m
        .sets
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.size,
                s.auc.map_or("—".into(), fmt),
                pr(b, s),
            )
        })
        .collect();
    view! {
        <tr class="method"><th colspan="99">{format!("{label} (ranked by |mean score| over {} prompts)", m.prompts)}</th></tr>
        {rows.into_iter().map(|(name, size, auc, at)| view! {
            <tr><td>{name}</td><td>{size}</td><td>{auc}</td>{at.into_iter().map(|v| view! { <td>{v}</td> }).collect_view()}</tr>
        }).collect_view()}
        <tr><td>"per position (each head at its class's position)"</td><td></td><td data-testid=format!("per-position-{}", m.method.key())>{per_position}</td></tr>
    }
}

/// The scoreboard: each method's ROC AUC and precision / recall at k against the circuit, its
/// variants and classes; the chooser above it.
#[component]
pub(super) fn ScoreboardView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let board = move || -> Option<Result<(Scoreboard, LoadedCircuit), String>> {
        let c = match fitting(ctx)? {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let r = ctx.results.get()?;
        Some(
            scoreboard(&r, &c.circuit)
                .map(|b| (b, c))
                .map_err(|e| e.to_string()),
        )
    };
    view! {
        <h3>"Against a known circuit"</h3>
        <CircuitChooser />
        {move || match board() {
            None => ().into_any(),
            Some(Err(e)) => view! { <p class="stat" data-testid="scoreboard-error">{e}</p> }.into_any(),
            Some(Ok((b, c))) => {
                let heads: Vec<String> = b.ks.iter().map(|k| format!("precision / recall @{k}")).collect();
                let published = c.circuit.published.iter().map(|(m, a)| format!("{m} {}", fmt(*a))).collect::<Vec<_>>().join(", ");
                view! {
                    <table class="summary scoreboard" data-testid="scoreboard">
                        <tr><th>"set"</th><th>"heads"</th><th>"ROC AUC"</th>{heads.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr>
                        {b.methods.iter().map(|m| method_rows(&b, m)).collect_view()}
                    </table>
                    {(!published.is_empty()).then(|| view! {
                        <p class="hint" data-testid="published">{format!("Published node ROC AUCs against this circuit (GPT-2 small's weights): {published}.")}</p>
                    })}
                }.into_any()
            }
        }}
    }
}
