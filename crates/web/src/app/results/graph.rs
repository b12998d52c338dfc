//! The Circuit tab: an edge method's top edges as a layered graph (`gradpatch_charts::graph`),
//! a slider for how many, hover for an edge's three scores, click to select a head, the known
//! circuit's connections haloed with the share of kept edges on them, PNG and SVG; and what
//! each edge method reaches (found of exact patching's top edges, faithfulness).

use std::sync::Arc;

use gradpatch_charts::Kind;
use gradpatch_charts::graph::{GraphData, GraphLayout, default_method, edge_scores, ranked_edges};
use gradpatch_charts::graph_draw::{draw_graph, graph_svg};
use gradpatch_config::GraphView;
use gradpatch_study::faithfulness::value_at;
use gradpatch_terms::{Component, Keyed, Method};
use leptos::prelude::*;

use super::export::save_text;
use super::fmt;
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// The selected head, when the selection is one.
fn selected_head(ctx: Ctx) -> Option<(usize, usize)> {
    match ctx.state.with(|s| s.view.selection)? {
        Component::Head { layer, head } => Some((layer, head)),
        Component::Neuron { .. } => None,
    }
}

/// The edge method shown: the view's when the results have it, else the default.
fn shown_method(ctx: Ctx) -> Option<Method> {
    let r = ctx.results.get()?;
    let e = r.edges.as_ref()?;
    ctx.state
        .with(|s| s.view.graph.method)
        .filter(|m| e.scores.contains_key(m))
        .or_else(|| default_method(&r))
}

/// Per edge, whether it lies on the circuit in use (when it fits the graph).
fn circuit_mask(ctx: Ctx, layout: &GraphLayout) -> Option<(Vec<bool>, String)> {
    let c = ctx.page.with(|p| p.active_circuit())?;
    let g = &layout.graph;
    c.circuit.check_fits(g.layers, g.heads).ok()?;
    (!c.circuit.true_edges.is_empty()).then(|| (c.circuit.edge_mask(g), c.from.clone()))
}

/// The graph's tooltip at pixel `(x, y)`: a head (selected on click) or an edge's scores.
fn hit_text(ctx: Ctx, layout: &GraphLayout, data: &GraphData, x: f64, y: f64) -> Hit {
    if let Some((layer, head)) = layout.head_at(x, y) {
        let c = Component::Head { layer, head };
        return Some((format!("{c}: click to select it in every tab"), Some(c)));
    }
    let e = data.edge_at(layout, x, y)?;
    let edge = *layout.graph.edges.get(e)?;
    let r = ctx.results.get_untracked()?;
    let prompt = ctx.state.with_untracked(|s| s.view.prompt);
    let scores: Vec<String> = edge_scores(&r, e, prompt)
        .into_iter()
        .map(|(name, v)| {
            format!(
                "{name} {}",
                v.map_or("—".to_string(), |v| fmt(f64::from(v)))
            )
        })
        .collect();
    Some((
        format!("{}: {}", layout.graph.name(edge), scores.join(", ")),
        None,
    ))
}

/// Each edge method: how many of exact patching's top edges it finds, its faithfulness curve's
/// area and k at 80%, and the faithfulness of the edges drawn.
#[component]
fn EdgeTable() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let rows = move || {
        let r = ctx.results.get()?;
        let e = r.edges.as_ref()?;
        let count = ctx.state.with(|s| s.view.graph.edges);
        Some(
            e.scores
                .keys()
                .map(|&m| {
                    let found = e
                        .exact
                        .as_ref()
                        .and_then(|x| Some((x.found_total(m)?, x.found_n)));
                    let curve = e.faithfulness.as_ref().and_then(|f| {
                        let (mean, area, k80) = f.summary(m)?;
                        Some((area, k80, value_at(&f.k, &mean, count)))
                    });
                    (m, found, curve)
                })
                .collect::<Vec<_>>(),
        )
    };
    view! {
        <table class="summary" data-testid="edge-table">
            <tr><th>"method"</th><th>"of exact patching's top edges, found"</th><th>"faithfulness area"</th><th>"k at 80%"</th><th>"faithfulness of the edges drawn"</th></tr>
            {move || rows().unwrap_or_default().into_iter().map(|(m, found, curve)| view! {
                <tr>
                    <th>{m.label()}</th>
                    <td>{found.map_or("—".to_string(), |((f, of), n)| format!("{f} of {of} (top {n} per prompt)"))}</td>
                    <td>{curve.map_or("—".to_string(), |c| fmt(c.0))}</td>
                    <td>{curve.and_then(|c| c.1).map_or("—".to_string(), |k| k.to_string())}</td>
                    <td>{curve.map_or("—".to_string(), |c| fmt(f64::from(c.2)))}</td>
                </tr>
            }).collect_view()}
        </table>
    }
}

/// The method select and the slider.
#[component]
fn GraphControls(available: Memo<usize>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let methods = move || {
        ctx.results
            .get()
            .and_then(|r| Some(r.edges.as_ref()?.scores.keys().copied().collect::<Vec<_>>()))
            .unwrap_or_default()
    };
    let count = move || ctx.state.with(|s| s.view.graph.edges);
    let set_count = move |ev: leptos::ev::Event| {
        if let Ok(k) = event_target_value(&ev).trim().parse::<usize>() {
            ctx.configure(|s| s.view.graph.edges = k.clamp(1, GraphView::MAX_EDGES));
        }
    };
    view! {
        <div class="toolbar">
            <label>"Edges of "
                <select data-testid="graph-method"
                    prop:value=move || shown_method(ctx).map_or("", |m| m.key())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.configure(|s| s.view.graph.method = Method::from_key(&v));
                    }>
                    {move || methods().into_iter().map(|m| view! { <option value=m.key()>{m.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"top "
                <input type="range" min="1" data-testid="graph-edges" aria-label="number of edges drawn"
                    max=move || available.get().clamp(1, GraphView::MAX_EDGES)
                    prop:value=count on:input=set_count />
                <input type="number" min="1" max=GraphView::MAX_EDGES data-testid="graph-edges-n" aria-label="number of edges drawn (exact)"
                    prop:value=count on:change=set_count />
                {move || format!(" of {} edges by |score|", available.get())}
            </label>
        </div>
    }
}

#[component]
pub(super) fn CircuitGraph() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let has = move || {
        ctx.results
            .with(|r| r.as_ref().is_some_and(|r| r.edges.is_some()))
    };
    // Computed once per model shape, and once per method and prompt: a slider move only takes
    // another prefix of the ranking and draws it.
    let layout = Memo::new(move |_| {
        let r = ctx.results.get()?;
        let e = r.edges.as_ref()?;
        Some(Arc::new(GraphLayout::new(e.layers, e.heads)))
    });
    let method = Memo::new(move |_| shown_method(ctx));
    let prompt = Memo::new(move |_| ctx.state.with(|s| s.view.prompt));
    let ranked = Memo::new(move |_| {
        let r = ctx.results.get()?;
        Some(Arc::new(ranked_edges(&r, method.get()?, prompt.get())?))
    });
    let available = Memo::new(move |_| ranked.get().map_or(0, |r| r.len()));
    let mask = Memo::new(move |_| circuit_mask(ctx, &*layout.get()?));
    let data = Memo::new(move |_| {
        let count = ctx.state.with(|s| s.view.graph.edges);
        let on = mask.get().map(|m| m.0);
        Some(Arc::new(GraphData::new(
            method.get()?,
            &ranked.get()?,
            count,
            on,
        )))
    });
    let share = move || {
        let d = data.get()?;
        let on = d.on_circuit_count()?;
        let from = mask.get()?.1;
        let n = d.kept.len().max(1);
        Some(format!(
            "{on} of the {} edges drawn ({:.0}%) lie on the connections of the circuit of {from} (haloed).",
            d.kept.len(),
            100.0 * on as f64 / n as f64
        ))
    };
    let scope = move || {
        prompt
            .get()
            .map_or("mean over prompts".into(), |p| format!("prompt {p}"))
    };
    let save_svg = move |_| {
        if let (Some(l), Some(d)) = (layout.get_untracked(), data.get_untracked()) {
            save_text(
                &graph_svg(&l, &d, selected_head(ctx)),
                "circuit-graph.svg",
                "image/svg+xml",
            );
        }
    };
    view! {
        <Show when=has fallback=|| view! {
            <p class="stat" data-testid="graph-none">"No edge scores in these results: tick EAP or EAP-IG and run again (or open a results.json that has them)."</p>
        }>
            <GraphControls available=available />
            <p class="stat" data-testid="graph-caption">
                {move || format!("{} edges ({}): red raises the logit difference, blue lowers it; width ∝ |score|. Nodes without a drawn edge are faded.",
                    method.get().map_or("", |m| m.label()), scope())}
            </p>
            <p class="stat" data-testid="graph-circuit">{share}</p>
            {move || layout.get().map(|l| {
                let (w, h) = (l.width, l.height);
                let draw_layout = Arc::clone(&l);
                chart(
                    "circuit-graph".into(),
                    Kind::Heads,
                    w,
                    h,
                    move |area| {
                        let d = data.get()?;
                        draw_graph(area, &draw_layout, &d, selected_head(ctx)).ok()
                    },
                    move |_, x, y| {
                        let d = data.get_untracked()?;
                        hit_text(ctx, &l, &d, x, y)
                    },
                )
            })}
            <button data-testid="graph-svg" on:click=save_svg>"Save SVG"</button>
            <EdgeTable />
        </Show>
    }
}
