//! The heatmaps of each method's scores: the heads tab, and the top of the neurons tab.

use gradpatch_charts::data::{Kind, Method};
use gradpatch_charts::draw;
use gradpatch_charts::outline::draw_outlines;
use leptos::prelude::*;

use super::scoreboard::{CircuitLegend, head_cells};
use super::{KindData, methods, selected_cell, selection_of};
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// A heatmap of one kind per method that has scores (AtP, IG, AP), for the chosen prompt or the
/// mean over prompts; hovering shows a cell's scores, clicking selects it.
#[component]
pub(super) fn Heatmaps(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let kind = d.kind;
    let (w, h, x_label) = match kind {
        Kind::Heads => (470, 340, "head"),
        Kind::Neurons => (1000, 300, "neuron"),
    };
    let one = move |method: Method| {
        let name = format!("{}-{}", method.label().to_lowercase(), kind.label());
        chart(
            name,
            kind,
            w,
            h,
            move |area| {
                let (prompt, sel) = ctx.state.with(|s| (s.view.prompt, s.view.selection));
                let scope =
                    prompt.map_or("mean over prompts".to_string(), |p| format!("prompt {p}"));
                let title = format!("{} {} ({scope})", method.label(), kind.label());
                let cells = if kind == Kind::Heads {
                    head_cells(ctx)
                } else {
                    Vec::new()
                };
                d.grid(method).with(|grid| {
                    let grid = grid.as_ref()?;
                    let plot = draw::heatmap(
                        area,
                        &title,
                        x_label,
                        grid,
                        f64::from(grid.max_abs()),
                        selected_cell(sel, kind),
                    )
                    .ok()?;
                    draw_outlines(area, &plot, (grid.rows, grid.cols), &cells).ok()?;
                    Some(plot)
                })
            },
            move |a, x, y| -> Hit {
                let (rows, cols) = d
                    .grid(method)
                    .with_untracked(|g| g.as_ref().map(|g| (g.rows, g.cols)))?;
                let (row, col) = a.cell(x, y, rows, cols)?;
                Some((d.cell_text(row, col), Some(selection_of(kind, row, col))))
            },
        )
    };
    let class = if kind == Kind::Heads { "pair" } else { "stack" };
    view! {
        <div class=class>{move || methods(ctx).into_iter().map(one).collect_view()}</div>
        {(kind == Kind::Heads).then(|| view! { <CircuitLegend /> })}
    }
}
