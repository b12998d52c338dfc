//! The comparison: tabs of charts, the summary, the prompts, exports. Everything shown comes
//! from the worker's `Results` through the charts crate (`gradpatch_charts::data` computes,
//! `draw` draws); the views here only format. One file per tab.

mod export;
mod heads;
mod mean_diff;
mod neurons;
mod overlap;
mod prompts;
mod scatter;
mod summary;

use gradpatch_charts::data::{self, Grid, Kind, Method, Point};
use gradpatch_config::Tab;
use gradpatch_terms::Component;
use leptos::prelude::*;

use super::Ctx;
use export::ExportButtons;
use heads::Heatmaps;
use mean_diff::MeanDiff;
use neurons::Neurons;
use overlap::Overlap;
use prompts::PromptsTable;
use scatter::Scatter;
use summary::Summary;

/// A number as every view shows it: 4 decimals, "—" when it is not finite.
fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "—".into()
    }
}

/// `(row, col)` of the selection in a `kind` grid.
fn selected_cell(sel: Option<Component>, kind: Kind) -> Option<(usize, usize)> {
    match (sel?, kind) {
        (Component::Head { layer, head }, Kind::Heads) => Some((layer, head)),
        (Component::Neuron { layer, neuron }, Kind::Neurons) => Some((layer, neuron)),
        _ => None,
    }
}

fn selection_of(kind: Kind, row: usize, col: usize) -> Component {
    match kind {
        Kind::Heads => Component::Head {
            layer: row,
            head: col,
        },
        Kind::Neurons => Component::Neuron {
            layer: row,
            neuron: col,
        },
    }
}

/// The selection of a point's flat index (see [`data::Point`]) in grids of `cols` columns.
fn flat_selection(kind: Kind, cols: usize, flat: usize) -> Component {
    selection_of(kind, flat / cols.max(1), flat % cols.max(1))
}

/// The mean-difference plot's points `(mean, AP − IG)` and the pairs they come from.
type MeanDifference = (Vec<(f64, f64)>, Vec<Point>);

/// The chart data of one kind (heads or neurons), computed when the results or the prompt
/// change and shared by drawing and hit-testing: a pointer move only reads it (pooled neuron
/// data of GPT-2 small is 36,864 values per prompt; the top-10% maps sort all of them).
#[derive(Clone, Copy)]
struct KindData {
    kind: Kind,
    ig: Memo<Option<Grid>>,
    ap: Memo<Option<Grid>>,
    highlighted: Memo<Option<(Grid, Grid)>>,
    /// The scatter's points: the chosen prompt, or all prompts pooled.
    pairs: Memo<Vec<Point>>,
    /// Always over all prompts.
    mean_difference: Memo<MeanDifference>,
}

impl KindData {
    fn new(ctx: Ctx, kind: Kind) -> Self {
        // Only the prompt matters here: selecting a component must not recompute anything.
        let prompt = Memo::new(move |_| ctx.state.with(|s| s.view.prompt));
        let grid = move |method| {
            Memo::new(move |_| data::grid(&*ctx.results.get()?, method, kind, prompt.get()))
        };
        Self {
            kind,
            ig: grid(Method::Ig),
            ap: grid(Method::Ap),
            highlighted: Memo::new(move |_| {
                data::highlighted(&*ctx.results.get()?, kind, prompt.get())
            }),
            pairs: Memo::new(move |_| {
                ctx.results
                    .get()
                    .map(|r| data::pairs(&r, kind, prompt.get()))
                    .unwrap_or_default()
            }),
            mean_difference: Memo::new(move |_| {
                ctx.results
                    .get()
                    .map(|r| (data::mean_difference(&r, kind), data::pairs(&r, kind, None)))
                    .unwrap_or_default()
            }),
        }
    }

    fn grid(&self, method: Method) -> Memo<Option<Grid>> {
        match method {
            Method::Ig => self.ig,
            Method::Ap => self.ap,
        }
    }

    /// Columns of the kind's grids (heads or neurons per layer).
    fn cols(&self) -> usize {
        self.ig.with_untracked(|g| g.as_ref().map_or(1, |g| g.cols))
    }

    /// Flat index (as in [`data::Point`]) of the selection, when it is of this kind.
    fn selected_flat(&self, sel: Option<Component>) -> Option<usize> {
        selected_cell(sel, self.kind).map(|(row, col)| row * self.cols() + col)
    }

    /// Tooltip text of one cell: both methods' scores (for the current prompt or the mean).
    fn cell_text(&self, row: usize, col: usize) -> String {
        let sel = selection_of(self.kind, row, col);
        let value = |m: Method| {
            self.grid(m)
                .with_untracked(|g| g.as_ref().map_or(f32::NAN, |g| g.get(row, col)))
        };
        format!(
            "{sel}: IG {}, AP {}",
            fmt(f64::from(value(Method::Ig))),
            fmt(f64::from(value(Method::Ap)))
        )
    }
}

#[component]
pub fn ResultsView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // A memo, so that selecting or hovering does not rebuild the tab's charts.
    let tab = Memo::new(move |_| ctx.state.with(|s| s.view.tab));
    let tab = move || tab.get();
    let (heads, neurons) = (
        KindData::new(ctx, Kind::Heads),
        KindData::new(ctx, Kind::Neurons),
    );
    view! {
        <Show when=move || ctx.results.get().is_some()
            fallback=|| view! { <p class="placeholder">"Load a model and run the comparison to see the charts."</p> }>
            <nav class="tabs">
                {Tab::ALL.iter().map(|&t| view! {
                    <button class:active=move || tab() == t data-testid=format!("tab-{}", t.key())
                        aria-pressed=move || if tab() == t { "true" } else { "false" }
                        on:click=move |_| ctx.state.update(|s| s.view.tab = t)>{t.label()}</button>
                }).collect_view()}
            </nav>
            <Toolbar heads=heads neurons=neurons />
            {move || match tab() {
                Tab::Heads => view! { <Heatmaps d=heads /> }.into_any(),
                Tab::Neurons => view! { <Neurons d=neurons /> }.into_any(),
                Tab::Scatter => view! { <div class="pair"><Scatter d=heads /><Scatter d=neurons /></div> }.into_any(),
                Tab::Overlap => view! { <Overlap d=heads /><Overlap d=neurons /> }.into_any(),
                Tab::MeanDiff => view! { <div class="pair"><MeanDiff d=heads /><MeanDiff d=neurons /></div> }.into_any(),
                Tab::Summary => view! { <Summary /> }.into_any(),
                Tab::Prompts => view! { <PromptsTable /> }.into_any(),
            }}
        </Show>
    }
}

/// The prompt chooser, the selected component's scores and the exports.
#[component]
fn Toolbar(heads: KindData, neurons: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let prompts = move || {
        ctx.results
            .get()
            .map(|r| r.prompts.clone())
            .unwrap_or_default()
    };
    let selected = move || {
        let (d, row, col) = match ctx.state.with(|s| s.view.selection)? {
            Component::Head { layer, head } => (heads, layer, head),
            Component::Neuron { layer, neuron } => (neurons, layer, neuron),
        };
        // Tracked: the text follows the prompt (the grids change with it).
        d.ig.track();
        d.ap.track();
        Some(d.cell_text(row, col))
    };
    view! {
        <div class="toolbar">
            <label>"Prompt "
                <select data-testid="prompt-select"
                    prop:value=move || ctx.state.with(|s| s.view.prompt.map_or("mean".to_string(), |p| p.to_string()))
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.state.update(|s| s.view.prompt = v.parse().ok());
                    }>
                    <option value="mean">"Mean over prompts"</option>
                    {move || prompts().into_iter().enumerate().map(|(i, p)| {
                        let text: String = p.pair.clean.chars().take(60).collect();
                        view! { <option value=i.to_string()>{format!("#{i}: {text}")}</option> }
                    }).collect_view()}
                </select>
            </label>
            <span class="selected" data-testid="selected">{move || selected().unwrap_or_else(|| "Click a component to select it in every chart.".into())}</span>
            <ExportButtons />
        </div>
    }
}
