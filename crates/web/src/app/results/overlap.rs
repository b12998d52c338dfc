//! The overlap tab: which components each method highlights, and their Jaccard overlap.

use gradpatch_charts::data::{self, Kind};
use gradpatch_charts::draw;
use leptos::prelude::*;
use plotters::style::RGBColor;

use super::{KindData, fmt, selected_cell, selection_of};
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// The map of the components one method of the pair highlights (`second`: the pair's second
/// method, drawn in blue; else its first, in red), dark where both do.
fn top_map(d: KindData, second: bool) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let kind = d.kind;
    let (w, h, x_label) = match kind {
        Kind::Heads => (470, 340, "head"),
        Kind::Neurons => (1000, 260, "neuron"),
    };
    let pair = d.pair.get_untracked();
    let method = if second { pair.second } else { pair.first };
    chart(
        format!("top-{}-{}", method.key(), kind.label()),
        kind,
        w,
        h,
        move |area| {
            let (prompt, sel) = ctx.state.with(|s| (s.view.prompt, s.view.selection));
            let (first, last) = d.highlighted.get()?;
            let (mine, other, colour) = if second {
                (last, first, RGBColor(33, 102, 172))
            } else {
                (first, last, RGBColor(178, 24, 43))
            };
            let scope = prompt.map_or("any prompt".to_string(), |p| format!("prompt {p}"));
            let title = format!(
                "top {} by |{}| ({scope}; dark = both)",
                kind.label(),
                method.label()
            );
            draw::highlight_map(
                area,
                &title,
                x_label,
                &mine,
                &other,
                colour,
                selected_cell(sel, kind),
            )
            .ok()
        },
        move |a, x, y| -> Hit {
            let (rows, cols) = d
                .highlighted
                .with_untracked(|h| h.as_ref().map(|(ig, _)| (ig.rows, ig.cols)))?;
            let (row, col) = a.cell(x, y, rows, cols)?;
            Some((d.cell_text(row, col), Some(selection_of(kind, row, col))))
        },
    )
}

/// The Jaccard overlap of one kind's top sets (the chosen prompt's, or the mean over prompts)
/// and a map per method of the components it highlights, dark where both do.
#[component]
pub(super) fn Overlap(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let kind = d.kind;
    let jaccard = move || {
        let r = ctx.results.get()?;
        let pair = d.pair.get();
        let (a, b) = pair.methods();
        let c = data::comparison(&r, pair, kind)?;
        let prompt = ctx.state.with(|s| s.view.prompt);
        let thresholds = format!(
            "thresholds |{}| ≥ {}, |{}| ≥ {}",
            a.label(),
            fmt(c.threshold_ig),
            b.label(),
            fmt(c.threshold_ap)
        );
        Some(match prompt {
            Some(p) => format!(
                "{} {}: Jaccard overlap of the top sets in prompt {p} = {} ({thresholds})",
                pair.label(),
                kind.label(),
                fmt(c.jaccard_per_prompt.get(p).copied().unwrap_or(f64::NAN)),
            ),
            None => format!(
                "{} {}: mean Jaccard overlap over prompts = {} ({thresholds})",
                pair.label(),
                kind.label(),
                fmt(c.jaccard_mean),
            ),
        })
    };
    let class = if kind == Kind::Heads { "pair" } else { "stack" };
    view! {
        <p class="stat" data-testid=format!("jaccard-{}", kind.label())>{jaccard}</p>
        // Rebuilt when the pair changes (the charts' names follow its methods).
        <div class=class>{move || { d.pair.track(); view! { {top_map(d, false)}{top_map(d, true)} } }}</div>
    }
}
