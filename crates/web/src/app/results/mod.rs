//! The comparison: tabs of charts, the summary, the prompts, exports. Everything shown comes
//! from the worker's `Results` through the charts crate (`gradpatch_charts::data` computes,
//! `draw` draws); the views here only format. One file per tab.

mod export;
mod faithfulness;
mod graph;
mod heads;
mod mean_diff;
mod neurons;
mod overlap;
mod positions;
mod prompts;
mod scatter;
mod scoreboard;
mod summary;

use gradpatch_charts::data::{self, Grid, Kind, Method, MethodPair, Point, method_index};
use gradpatch_config::Tab;
use gradpatch_terms::Component;
use leptos::prelude::*;

use super::Ctx;
use export::ExportButtons;
use heads::Heatmaps;
use mean_diff::MeanDiff;
use neurons::Neurons;
use overlap::Overlap;
use positions::Positions;
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

/// The mean-difference plot's points `(mean, second − first)` and the pairs they come from.
type MeanDifference = (Vec<(f64, f64)>, Vec<Point>);

/// The chart data of one kind (heads or neurons), computed when the results, the prompt or the
/// compared pair change and shared by drawing and hit-testing: a pointer move only reads it
/// (pooled neuron data of GPT-2 small is 36,864 values per prompt; the top-10% maps sort all
/// of them).
#[derive(Clone, Copy)]
struct KindData {
    kind: Kind,
    /// Each method's grid, in [`Method::ALL`]'s order.
    grids: [Memo<Option<Grid>>; Method::COUNT],
    /// The two methods the scatter, overlap and mean-difference tabs compare.
    pair: Memo<MethodPair>,
    highlighted: Memo<Option<(Grid, Grid)>>,
    /// The scatter's points: the chosen prompt, or all prompts pooled.
    pairs: Memo<Vec<Point>>,
    /// Always over all prompts.
    mean_difference: Memo<MeanDifference>,
}

impl KindData {
    fn new(ctx: Ctx, kind: Kind) -> Self {
        // Only the prompt and the pair matter here: selecting a component must not recompute
        // anything.
        let prompt = Memo::new(move |_| ctx.state.with(|s| s.view.prompt));
        let pair = Memo::new(move |_| ctx.state.with(|s| s.view.pair));
        let grid = move |method| {
            Memo::new(move |_| data::grid(&*ctx.results.get()?, method, kind, prompt.get()))
        };
        Self {
            kind,
            grids: std::array::from_fn(|i| grid(Method::ALL[i])),
            pair,
            highlighted: Memo::new(move |_| {
                data::highlighted(&*ctx.results.get()?, pair.get(), kind, prompt.get())
            }),
            pairs: Memo::new(move |_| {
                ctx.results
                    .get()
                    .map(|r| data::pairs(&r, pair.get(), kind, prompt.get()))
                    .unwrap_or_default()
            }),
            mean_difference: Memo::new(move |_| {
                ctx.results
                    .get()
                    .map(|r| {
                        let p = pair.get();
                        (
                            data::mean_difference(&r, p, kind),
                            data::pairs(&r, p, kind, None),
                        )
                    })
                    .unwrap_or_default()
            }),
        }
    }

    fn grid(&self, method: Method) -> Memo<Option<Grid>> {
        self.grids[method_index(method)]
    }

    /// Columns of the kind's grids (heads or neurons per layer).
    fn cols(&self) -> usize {
        self.grids
            .iter()
            .find_map(|g| g.with_untracked(|g| g.as_ref().map(|g| g.cols)))
            .unwrap_or(1)
    }

    /// Flat index (as in [`data::Point`]) of the selection, when it is of this kind.
    fn selected_flat(&self, sel: Option<Component>) -> Option<usize> {
        selected_cell(sel, self.kind).map(|(row, col)| row * self.cols() + col)
    }

    /// Tooltip text of one cell: every method's score (for the current prompt or the mean).
    fn cell_text(&self, row: usize, col: usize) -> String {
        let sel = selection_of(self.kind, row, col);
        format!("{sel}: {}", scores_at(|m| self.grid(m), row, col))
    }
}

/// "AtP 0.1234, IG …, AP …": each method's value at `(row, col)` of its grid, for the methods
/// that have one.
fn scores_at(grid: impl Fn(Method) -> Memo<Option<Grid>>, row: usize, col: usize) -> String {
    let scores: Vec<String> = Method::ALL
        .iter()
        .filter_map(|&m| {
            let v = grid(m).with_untracked(|g| g.as_ref().map(|g| g.get(row, col)))?;
            Some(format!("{} {}", m.label(), fmt(f64::from(v))))
        })
        .collect();
    scores.join(", ")
}

/// The methods with scores in the results, in running order.
fn methods(ctx: Ctx) -> Vec<Method> {
    ctx.results.get().map(|r| r.methods()).unwrap_or_default()
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
            fallback=|| view! { <p class="placeholder">"Load a model and run the comparison, or open a results.json, to see the charts."</p> }>
            <nav class="tabs">
                {Tab::ALL.iter().map(|&t| view! {
                    <button class:active=move || tab() == t data-testid=format!("tab-{}", t.key())
                        aria-pressed=move || if tab() == t { "true" } else { "false" }
                        on:click=move |_| ctx.configure(|s| s.view.tab = t)>{t.label()}</button>
                }).collect_view()}
            </nav>
            <Toolbar heads=heads neurons=neurons />
            {move || match tab() {
                Tab::Heads => view! { <Heatmaps d=heads /> }.into_any(),
                Tab::Neurons => view! { <Neurons d=neurons /> }.into_any(),
                Tab::Scatter => view! { <div class="pair"><Scatter d=heads /><Scatter d=neurons /></div> }.into_any(),
                Tab::Overlap => view! { <Overlap d=heads /><Overlap d=neurons /> }.into_any(),
                Tab::MeanDiff => view! { <div class="pair"><MeanDiff d=heads /><MeanDiff d=neurons /></div> }.into_any(),
                Tab::Positions => view! { <Positions /> }.into_any(),
                Tab::Faithfulness => view! { <faithfulness::Faithfulness /> }.into_any(),
                Tab::Circuit => view! { <graph::CircuitGraph /> }.into_any(),
                Tab::Summary => view! { <Summary /><scoreboard::ScoreboardView /> }.into_any(),
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
        d.grids.iter().for_each(|g| g.track());
        Some(d.cell_text(row, col))
    };
    view! {
        <div class="toolbar">
            <label>"Prompt "
                <select data-testid="prompt-select"
                    prop:value=move || ctx.state.with(|s| s.view.prompt.map_or("mean".to_string(), |p| p.to_string()))
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.configure(|s| s.view.prompt = v.parse().ok());
                    }>
                    <option value="mean">"Mean over prompts"</option>
                    {move || prompts().into_iter().enumerate().map(|(i, p)| {
                        let text: String = p.pair.clean.chars().take(60).collect();
                        view! { <option value=i.to_string()>{format!("#{i}: {text}")}</option> }
                    }).collect_view()}
                </select>
            </label>
            <PairSelect />
            <span class="selected" data-testid="selected">{move || selected().unwrap_or_else(|| "Click a component to select it in every chart.".into())}</span>
            <ExportButtons />
        </div>
    }
}

/// The pair of methods the scatter, overlap and mean-difference tabs compare: the pairs whose
/// methods both have scores.
#[component]
fn PairSelect() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let available = move || {
        let ran = methods(ctx);
        MethodPair::all()
            .into_iter()
            .filter(|p| ran.contains(&p.first) && ran.contains(&p.second))
            .collect::<Vec<_>>()
    };
    view! {
        <label>"Compare "
            <select data-testid="pair-select"
                prop:value=move || ctx.state.with(|s| s.view.pair.key())
                on:change=move |ev| {
                    if let Ok(p) = event_target_value(&ev).parse::<MethodPair>() {
                        ctx.configure(|s| s.view.pair = p);
                    }
                }>
                {move || {
                    let ok = available();
                    MethodPair::all().into_iter().map(|p| view! {
                        <option value=p.key() disabled=!ok.contains(&p)
                            selected=move || ctx.state.with(|s| s.view.pair == p)>{p.label()}</option>
                    }).collect_view()
                }}
            </select>
        </label>
    }
}
