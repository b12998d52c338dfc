//! The scatter tab: one method against another per component (the chosen pair), with the
//! least-squares line.

use gradpatch_charts::data;
use gradpatch_charts::draw;
use gradpatch_charts::sample;
use leptos::prelude::*;

use super::{KindData, flat_selection, fmt};
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// The pair's scatter of one kind (the chosen prompt, or all prompts pooled) with Pearson r in
/// the title; the selected component's points are marked.
#[component]
pub(super) fn Scatter(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let kind = d.kind;
    // Which points are drawn (and hovered): all, or a sample above `MAX_DRAWN`.
    let drawn = Memo::new(move |_| {
        d.pairs
            .with(|p| sample::drawn(&data::xy(p), sample::MAX_DRAWN))
    });
    let note = move || {
        drawn.with(sample::Drawn::note).map(|n| {
            view! { <p class="hint" data-testid=format!("sampled-scatter-{}", kind.label())>{n}</p> }
        })
    };
    let chart = chart(
        format!("scatter-{}", kind.label()),
        kind,
        540,
        420,
        move |area| {
            ctx.results.get()?;
            let (prompt, sel) = ctx.state.with(|s| (s.view.prompt, s.view.selection));
            let pairs = d.pairs.read();
            let (rho, slope, intercept) = data::fit(&pairs);
            let all = data::xy(&pairs);
            let chosen = d
                .selected_flat(sel)
                .map(|flat| data::of_component(&pairs, &all, flat))
                .unwrap_or_default();
            let pts = drawn.with(|dr| dr.pick(&all));
            let scope = prompt.map_or("all prompts pooled".to_string(), |p| format!("prompt {p}"));
            let pair = d.pair.get();
            let title = format!(
                "{} {} ({scope}): Pearson r = {}",
                pair.label(),
                kind.label(),
                fmt(rho)
            );
            draw::scatter(area, (&title, pair), &pts, (slope, intercept), &chosen).ok()
        },
        move |a, x, y| -> Hit {
            let p = drawn.with_untracked(|dr| {
                d.pairs.with_untracked(|pairs| {
                    let shown = dr.pick(pairs);
                    let i =
                        a.nearest(shown.iter().map(|p| (f64::from(p.0), f64::from(p.1))), x, y)?;
                    shown.get(i).copied()
                })
            })?;
            let sel = flat_selection(kind, d.cols(), p.3);
            let (first, second) = d.pair.get_untracked().methods();
            Some((
                format!(
                    "{sel} (prompt {}): {} {}, {} {}",
                    p.2,
                    first.label(),
                    fmt(f64::from(p.0)),
                    second.label(),
                    fmt(f64::from(p.1))
                ),
                Some(sel),
            ))
        },
    );
    view! { <div>{chart}{note}</div> }
}
