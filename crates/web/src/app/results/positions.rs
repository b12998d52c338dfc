//! The Positions tab: one prompt's head scores at each of its tokens, a heatmap per method that
//! has them, side by side.

use gradpatch_charts::data::{self, Grid, Kind, Method};
use gradpatch_charts::draw;
use gradpatch_charts::outline::draw_outlines;
use gradpatch_terms::Component;
use leptos::prelude::*;

use super::scoreboard::position_cells;
use super::{methods, scores_at};
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// Row `row` of a positions grid (layer · heads + head) as a head.
fn head_of(row: usize, heads: usize) -> Component {
    let heads = heads.max(1);
    Component::Head {
        layer: row / heads,
        head: row % heads,
    }
}

/// What the tab shows of prompt `p` (`any`: whether some method has scores per position).
fn note(ctx: Ctx, p: usize, any: bool) -> String {
    let scope = if ctx.state.with(|s| s.view.prompt.is_none()) {
        format!("prompt {p} (choose another above; prompts differ in length, so there is no mean)")
    } else {
        format!("prompt {p}")
    };
    if any {
        format!(
            "Each head's score at each token of {scope}: rows are layers and heads, columns the prompt's tokens."
        )
    } else {
        format!("No scores per position for {scope}: run the comparison again to compute them.")
    }
}

/// A heatmap per method of one prompt's heads (rows) at its tokens (columns), each with its own
/// colour scale as on the heads tab; hovering shows the token, the head and every method's
/// score there, clicking selects the head everywhere.
#[component]
pub(super) fn Positions() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Prompts differ in length: there is no mean over prompts here.
    let prompt = Memo::new(move |_| ctx.state.with(|s| s.view.prompt.unwrap_or(0)));
    let grids: [Memo<Option<Grid>>; Method::COUNT] = std::array::from_fn(|i| {
        Memo::new(move |_| data::positions_grid(&*ctx.results.get()?, Method::ALL[i], prompt.get()))
    });
    let grid = move |m: Method| grids[data::method_index(m)];
    let tokens = Memo::new(move |_| {
        ctx.results
            .with(|r| Some(r.as_ref()?.prompts.get(prompt.get())?.token_texts()))
            .unwrap_or_default()
    });
    // From the scores, so that results opened without a model draw the same.
    let heads = move || {
        ctx.results
            .with_untracked(|r| r.as_ref().and_then(|r| r.shape()).map_or(1, |s| s.1))
    };
    let text = move |row: usize, col: usize| {
        let sel = head_of(row, heads());
        let token = tokens.with_untracked(|t| t.get(col).cloned().unwrap_or_default());
        format!(
            "{sel} at token {col} {token:?}: {}",
            scores_at(grid, row, col)
        )
    };
    let one = move |method: Method| {
        chart(
            format!("positions-{}", method.key()),
            Kind::Heads,
            520,
            640,
            move |area| {
                let sel = ctx.state.with(|s| s.view.selection);
                let heads = heads();
                let row = match sel {
                    Some(Component::Head { layer, head }) => Some(layer * heads + head),
                    _ => None,
                };
                let title = format!("{} per position, prompt {}", method.label(), prompt.get());
                let tokens = tokens.get();
                let (cells, _) = position_cells(ctx, prompt.get());
                grid(method).with(|g| {
                    let g = g.as_ref()?;
                    let scale = f64::from(g.max_abs());
                    let plot =
                        draw::positions_heatmap(area, &title, (g, &tokens, heads), scale, row)
                            .ok()?;
                    draw_outlines(area, &plot, (g.rows, g.cols), &cells).ok()?;
                    Some(plot)
                })
            },
            move |a, x, y| -> Hit {
                let (rows, cols) =
                    grid(method).with_untracked(|g| g.as_ref().map(|g| (g.rows, g.cols)))?;
                let (row, col) = a.cell(x, y, rows, cols)?;
                Some((text(row, col), Some(head_of(row, heads()))))
            },
        )
    };
    let shown = move || {
        let _ = prompt.get();
        methods(ctx)
            .into_iter()
            .filter(|&m| grid(m).with(Option::is_some))
            .collect::<Vec<_>>()
    };
    view! {
        <p class="stat" data-testid="positions-note">{move || note(ctx, prompt.get(), !shown().is_empty())}</p>
        <CircuitPositions prompt=prompt />
        <div class="pair">{move || shown().into_iter().map(one).collect_view()}</div>
    }
}

/// Where each class of the circuit acts in the prompt (or why it does not there).
#[component]
fn CircuitPositions(prompt: Memo<usize>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let (_, notes) = position_cells(ctx, prompt.get());
        (!notes.is_empty()).then(|| view! {
            <p class="stat" data-testid="circuit-positions">{format!("The circuit's heads are outlined where their class acts: {}.", notes.join("; "))}</p>
        })
    }
}
