//! The overlap tab: which components each method highlights, and their Jaccard overlap.

use gradpatch_charts::data::{self, Kind, Method};
use gradpatch_charts::draw;
use leptos::prelude::*;
use plotters::style::RGBColor;

use super::{KindData, fmt, selected_cell, selection_of};
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// The Jaccard overlap of one kind's top sets (the chosen prompt's, or the mean over prompts)
/// and a map per method of the components it highlights, dark where both do.
#[component]
pub(super) fn Overlap(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let kind = d.kind;
    let (w, h, x_label) = match kind {
        Kind::Heads => (470, 340, "head"),
        Kind::Neurons => (1000, 260, "neuron"),
    };
    let one = move |method: Method| {
        chart(
            format!("top-{}-{}", method.label().to_lowercase(), kind.label()),
            kind,
            w,
            h,
            move |area| {
                let (prompt, sel) = ctx.state.with(|s| (s.view.prompt, s.view.selection));
                let (ig, ap) = d.highlighted.get()?;
                let (mine, other, colour) = match method {
                    Method::Ig => (ig, ap, RGBColor(178, 24, 43)),
                    Method::Ap => (ap, ig, RGBColor(33, 102, 172)),
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
    };
    let jaccard = move || {
        let r = ctx.results.get()?;
        let c = data::comparison(&r, kind)?;
        let prompt = ctx.state.with(|s| s.view.prompt);
        Some(match prompt {
            Some(p) => format!(
                "{}: Jaccard overlap of the top sets in prompt {p} = {} (thresholds |IG| ≥ {}, |AP| ≥ {})",
                kind.label(),
                fmt(c.jaccard_per_prompt.get(p).copied().unwrap_or(f64::NAN)),
                fmt(c.threshold_ig),
                fmt(c.threshold_ap)
            ),
            None => format!(
                "{}: mean Jaccard overlap over prompts = {} (thresholds |IG| ≥ {}, |AP| ≥ {})",
                kind.label(),
                fmt(c.jaccard_mean),
                fmt(c.threshold_ig),
                fmt(c.threshold_ap)
            ),
        })
    };
    let class = if kind == Kind::Heads { "pair" } else { "stack" };
    view! {
        <p class="stat" data-testid=format!("jaccard-{}", kind.label())>{jaccard}</p>
        <div class=class>{one(Method::Ig)}{one(Method::Ap)}</div>
    }
}
