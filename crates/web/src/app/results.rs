//! The comparison: tabs of charts, the summary, the prompts, exports. Everything shown comes
//! from the worker's `Results` through the charts crate; nothing is computed here.

use std::sync::Arc;

use gradpatch_charts::data::{self, Grid, Kind, Method};
use gradpatch_charts::draw;
use gradpatch_config::{Selection, Tab};
use gradpatch_study::Results;
use leptos::prelude::*;
use plotters::style::RGBColor;

use super::Ctx;
use super::canvas::{Hit, chart, download_url};
use super::panels::duration;

fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "—".into()
    }
}

fn results_signal(ctx: Ctx) -> impl Fn() -> Option<Arc<Results>> + Copy {
    move || ctx.results.get()
}

/// `(row, col)` of the selection in a `kind` grid.
fn selected_cell(sel: Option<Selection>, kind: Kind) -> Option<(usize, usize)> {
    match (sel?, kind) {
        (Selection::Head { layer, head }, Kind::Heads) => Some((layer, head)),
        (Selection::Neuron { layer, neuron }, Kind::Neurons) => Some((layer, neuron)),
        _ => None,
    }
}

fn selection_of(kind: Kind, row: usize, col: usize) -> Selection {
    match kind {
        Kind::Heads => Selection::Head {
            layer: row,
            head: col,
        },
        Kind::Neurons => Selection::Neuron {
            layer: row,
            neuron: col,
        },
    }
}

/// A point of the IG-vs-AP charts: `(ig, ap, prompt, flat index)` (see `data::pairs`).
type Point = (f32, f32, usize, usize);

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

/// Download of text as a file.
fn save_text(text: &str, name: &str, mime: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)
        && let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob)
    {
        download_url(&url, name);
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

#[component]
pub fn ResultsView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let results = results_signal(ctx);
    // A memo, so that selecting or hovering does not rebuild the tab's charts.
    let tab = Memo::new(move |_| ctx.state.with(|s| s.view.tab));
    let tab = move || tab.get();
    let (heads, neurons) = (
        KindData::new(ctx, Kind::Heads),
        KindData::new(ctx, Kind::Neurons),
    );
    view! {
        <Show when=move || results().is_some()
            fallback=|| view! { <p class="placeholder">"Load a model and run the comparison to see the charts."</p> }>
            <nav class="tabs">
                {Tab::ALL.iter().map(|&t| view! {
                    <button class:active=move || tab() == t data-testid=format!("tab-{}", t.key())
                        aria-pressed=move || if tab() == t { "true" } else { "false" }
                        on:click=move |_| ctx.state.update(|s| s.view.tab = t)>{t.label()}</button>
                }).collect_view()}
            </nav>
            {toolbar(ctx, heads, neurons)}
            {move || match tab() {
                Tab::Heads => heatmaps(ctx, heads).into_any(),
                Tab::Neurons => view! { {heatmaps(ctx, neurons)} {top_neurons(ctx, neurons)} }.into_any(),
                Tab::Scatter => view! { <div class="pair">{scatter(ctx, heads)}{scatter(ctx, neurons)}</div> }.into_any(),
                Tab::Overlap => view! { {overlap(ctx, heads)}{overlap(ctx, neurons)} }.into_any(),
                Tab::MeanDiff => view! { <div class="pair">{mean_diff(ctx, heads)}{mean_diff(ctx, neurons)}</div> }.into_any(),
                Tab::Summary => view! { <Summary /> }.into_any(),
                Tab::Prompts => view! { <PromptsTable /> }.into_any(),
            }}
        </Show>
    }
}

fn toolbar(ctx: Ctx, heads: KindData, neurons: KindData) -> impl IntoView {
    let results = results_signal(ctx);
    let prompts = move || results().map(|r| r.prompts.clone()).unwrap_or_default();
    let export_json = move |_| {
        if let Some(r) = results()
            && let Ok(text) = serde_json::to_string_pretty(&*r)
        {
            save_text(&text, "results.json", "application/json");
        }
    };
    let export_csv = move |_| {
        if let Some(r) = results() {
            save_text(
                &gradpatch_study::csv::scores_csv(&r),
                "scores.csv",
                "text/csv",
            );
            save_text(
                &gradpatch_study::csv::prompts_csv(&r),
                "prompts.csv",
                "text/csv",
            );
            save_text(
                &gradpatch_study::csv::stats_csv(&r),
                "stats.csv",
                "text/csv",
            );
        }
    };
    let selected = move || {
        let (d, row, col) = match ctx.state.with(|s| s.view.selection)? {
            Selection::Head { layer, head } => (heads, layer, head),
            Selection::Neuron { layer, neuron } => (neurons, layer, neuron),
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
                        let text: String = p.clean.chars().take(60).collect();
                        view! { <option value=i.to_string()>{format!("#{i}: {text}")}</option> }
                    }).collect_view()}
                </select>
            </label>
            <span class="selected" data-testid="selected">{move || selected().unwrap_or_else(|| "Click a component to select it in every chart.".into())}</span>
            <button data-testid="export-json" on:click=export_json>"results.json"</button>
            <button on:click=export_csv>"CSV"</button>
        </div>
    }
}

fn heatmaps(ctx: Ctx, d: KindData) -> impl IntoView {
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
                d.grid(method).with(|grid| {
                    let grid = grid.as_ref()?;
                    draw::heatmap(
                        area,
                        &title,
                        x_label,
                        grid,
                        f64::from(grid.max_abs()),
                        selected_cell(sel, kind),
                    )
                    .ok()
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
    view! { <div class=class>{one(Method::Ig)}{one(Method::Ap)}</div> }
}

fn top_neurons(ctx: Ctx, d: KindData) -> impl IntoView {
    // Rows `(selection, ig, ap)` of the 15 neurons with the largest |score| of `by`.
    let top = move |by: Method| {
        let (ig, ap) = (d.ig.get(), d.ap.get());
        let g = match by {
            Method::Ig => ig.as_ref(),
            Method::Ap => ap.as_ref(),
        }?;
        let mut idx: Vec<usize> = (0..g.values.len())
            .filter(|&i| g.values[i].is_finite())
            .collect();
        idx.sort_by(|&a, &b| g.values[b].abs().total_cmp(&g.values[a].abs()));
        idx.truncate(15);
        let at =
            |grid: &Option<data::Grid>, i: usize| grid.as_ref().map_or(f32::NAN, |g| g.values[i]);
        Some(
            idx.into_iter()
                .map(|i| {
                    let sel = Selection::Neuron {
                        layer: i / g.cols,
                        neuron: i % g.cols,
                    };
                    (sel, at(&ig, i), at(&ap, i))
                })
                .collect::<Vec<_>>(),
        )
    };
    let table = move |method: Method| {
        view! {
            <table class="top">
                <caption>{format!("Top neurons by |{}|", method.label())}</caption>
                <tr><th>"neuron"</th><th>"IG"</th><th>"AP"</th></tr>
                {move || top(method).unwrap_or_default().into_iter().map(|(sel, ig, ap)| view! {
                    <tr class="clickable" on:click=move |_| ctx.state.update(|s| s.view.selection = Some(sel))>
                        <td>{sel.to_string()}</td><td>{fmt(f64::from(ig))}</td><td>{fmt(f64::from(ap))}</td>
                    </tr>
                }).collect_view()}
            </table>
        }
    };
    view! { <div class="pair">{table(Method::Ig)}{table(Method::Ap)}</div> }
}

/// The point nearest to `(x, y)` in the area's data space, within a few pixels.
fn nearest(
    a: &gradpatch_charts::PlotArea,
    pts: impl Iterator<Item = (f64, f64)>,
    x: f64,
    y: f64,
) -> Option<usize> {
    let (dx, dy) = a.to_data(x, y)?;
    let sx = (a.x_range.1 - a.x_range.0) / f64::from((a.x_px.1 - a.x_px.0).max(1));
    let sy = (a.y_range.1 - a.y_range.0) / f64::from((a.y_px.1 - a.y_px.0).max(1));
    pts.enumerate()
        .map(|(i, p)| (i, ((p.0 - dx) / sx).powi(2) + ((p.1 - dy) / sy).powi(2)))
        .filter(|(_, d2)| *d2 < 36.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

fn flat_selection(kind: Kind, cols: usize, flat: usize) -> Selection {
    selection_of(kind, flat / cols.max(1), flat % cols.max(1))
}

fn scatter(ctx: Ctx, d: KindData) -> impl IntoView {
    let kind = d.kind;
    chart(
        format!("scatter-{}", kind.label()),
        kind,
        540,
        420,
        move |area| {
            ctx.results.get()?;
            let (prompt, sel) = ctx.state.with(|s| (s.view.prompt, s.view.selection));
            let pairs = d.pairs.read();
            let (rho, slope, intercept) = data::fit(&pairs);
            let pts: Vec<(f64, f64)> = pairs
                .iter()
                .map(|p| (f64::from(p.0), f64::from(p.1)))
                .collect();
            let cols = d.cols();
            let chosen: Vec<(f64, f64)> = match selected_cell(sel, kind) {
                Some((row, col)) => pairs
                    .iter()
                    .filter(|p| p.3 == row * cols + col)
                    .map(|p| (f64::from(p.0), f64::from(p.1)))
                    .collect(),
                None => Vec::new(),
            };
            let scope = prompt.map_or("all prompts pooled".to_string(), |p| format!("prompt {p}"));
            let title = format!("{} ({scope}): Pearson r = {}", kind.label(), fmt(rho));
            draw::scatter(area, &title, &pts, (slope, intercept), &chosen).ok()
        },
        move |a, x, y| -> Hit {
            let p = d.pairs.with_untracked(|pairs| {
                let i = nearest(
                    a,
                    pairs.iter().map(|p| (f64::from(p.0), f64::from(p.1))),
                    x,
                    y,
                )?;
                pairs.get(i).copied()
            })?;
            let sel = flat_selection(kind, d.cols(), p.3);
            Some((
                format!(
                    "{sel} (prompt {}): IG {}, AP {}",
                    p.2,
                    fmt(f64::from(p.0)),
                    fmt(f64::from(p.1))
                ),
                Some(sel),
            ))
        },
    )
}

fn overlap(ctx: Ctx, d: KindData) -> impl IntoView {
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
        let stats = r.stats.as_ref()?;
        let c = match kind {
            Kind::Heads => &stats.heads,
            Kind::Neurons => &stats.neurons,
        };
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

fn mean_diff(ctx: Ctx, d: KindData) -> impl IntoView {
    let kind = d.kind;
    chart(
        format!("meandiff-{}", kind.label()),
        kind,
        540,
        420,
        move |area| {
            let r = ctx.results.get()?;
            let stats = r.stats.as_ref()?;
            let c = match kind {
                Kind::Heads => &stats.heads,
                Kind::Neurons => &stats.neurons,
            };
            let md = d.mean_difference.read();
            let (pts, pairs) = (&md.0, &md.1);
            let sel = ctx.state.with(|s| s.view.selection);
            let cols = d.cols();
            let chosen: Vec<(f64, f64)> = match selected_cell(sel, kind) {
                Some((row, col)) => pairs
                    .iter()
                    .zip(pts)
                    .filter(|(p, _)| p.3 == row * cols + col)
                    .map(|(_, q)| *q)
                    .collect(),
                None => Vec::new(),
            };
            let title = format!(
                "{}: mean difference {} ± 1.96 × {}",
                kind.label(),
                fmt(c.mean_difference),
                fmt(c.sd_difference)
            );
            draw::mean_difference(
                area,
                &title,
                pts,
                c.mean_difference,
                (c.lower_loa, c.upper_loa),
                &chosen,
            )
            .ok()
        },
        move |a, x, y| -> Hit {
            let (pt, pair) = d.mean_difference.with_untracked(|(pts, pairs)| {
                let i = nearest(a, pts.iter().copied(), x, y)?;
                Some((*pts.get(i)?, *pairs.get(i)?))
            })?;
            let sel = flat_selection(kind, d.cols(), pair.3);
            Some((
                format!(
                    "{sel} (prompt {}): mean {}, AP − IG {}",
                    pair.2,
                    fmt(pt.0),
                    fmt(pt.1)
                ),
                Some(sel),
            ))
        },
    )
}

fn mean_sd(xs: &[f32]) -> String {
    let v: Vec<f64> = xs
        .iter()
        .filter(|x| x.is_finite())
        .map(|&x| f64::from(x))
        .collect();
    if v.is_empty() {
        return "—".into();
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    format!("{} ± {}", fmt(m), fmt(sd))
}

#[component]
fn Summary() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let r = ctx.results.get()?;
        let mut rows: Vec<(String, String)> = vec![
            ("model".into(), r.config.model.clone()),
            ("computed on".into(), r.config.backend.clone()),
            (
                "prompts".into(),
                format!(
                    "{}{}",
                    r.prompts.len(),
                    if r.complete {
                        ""
                    } else {
                        " (cancelled: partial)"
                    }
                ),
            ),
            (
                "clean logit difference".into(),
                mean_sd(&r.clean_logit_diff),
            ),
            (
                "corrupted logit difference".into(),
                mean_sd(&r.corrupted_logit_diff),
            ),
        ];
        if let Some(s) = &r.stats {
            for (k, c) in [("heads", &s.heads), ("neurons", &s.neurons)] {
                rows.push((
                    format!("Pearson r IG vs AP, {k} (mean ± std over prompts)"),
                    format!("{} ± {}", fmt(c.pearson_mean), fmt(c.pearson_std)),
                ));
                rows.push((
                    format!(
                        "top-{:.0}% Jaccard overlap, {k}",
                        100.0 * (1.0 - r.config.percentile)
                    ),
                    fmt(c.jaccard_mean),
                ));
                rows.push((
                    format!("IG mean ± std, {k}"),
                    format!("{} ± {}", fmt(c.ig_mean), fmt(c.ig_std)),
                ));
                rows.push((
                    format!("AP mean ± std, {k}"),
                    format!("{} ± {}", fmt(c.ap_mean), fmt(c.ap_std)),
                ));
            }
        }
        if let Some(ig) = &r.ig {
            let flat =
                |d: &Vec<Vec<f32>>| d.iter().flatten().map(|x| x.abs()).collect::<Vec<f32>>();
            rows.push((
                "IG convergence |delta|, heads (mean ± std over prompts and layers)".into(),
                mean_sd(&flat(&ig.convergence_delta_heads)),
            ));
            rows.push((
                "IG convergence |delta|, neurons".into(),
                mean_sd(&flat(&ig.convergence_delta_neurons)),
            ));
        }
        rows.push((
            "settings".into(),
            format!(
                "IG {} steps, {}, {} baseline; AP {}; highlight quantile {}",
                r.config.ig_steps,
                r.config.ig_method.name(),
                serde_json::to_string(&r.config.ig_baseline)
                    .unwrap_or_default()
                    .trim_matches('"'),
                serde_json::to_string(&r.config.ap_direction)
                    .unwrap_or_default()
                    .trim_matches('"'),
                r.config.percentile
            ),
        ));
        for (k, v) in &r.seconds {
            rows.push((
                format!("time: {k}"),
                v.as_f64().map_or_else(|| v.to_string(), duration),
            ));
        }
        Some(view! {
            <table class="summary" data-testid="summary">
                {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
            </table>
        })
    }
}

#[component]
fn PromptsTable() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let r = ctx.results.get()?;
        let tokens = ctx.tokens.get();
        Some(view! {
            <table class="prompts" data-testid="prompts">
                <tr><th>"#"</th><th>"clean"</th><th>"corrupted"</th><th>"correct"</th><th>"incorrect"</th><th>"tokens"</th><th>"clean LD"</th><th>"corrupted LD"</th></tr>
                {r.prompts.iter().enumerate().map(|(i, p)| {
                    let ld = |v: &Vec<f32>| v.get(i).map_or("—".into(), |x| fmt(f64::from(*x)));
                    view! {
                        <tr class="clickable" on:click=move |_| ctx.state.update(|s| s.view.prompt = Some(i))>
                            <td>{i}</td><td>{p.clean.clone()}</td><td>{p.corrupted.clone()}</td>
                            <td>{format!("{:?}", p.correct)}</td><td>{format!("{:?}", p.incorrect)}</td>
                            <td class="tokens">{tokens.get(i).cloned().unwrap_or_default().into_iter().zip(p.clean_token_ids.clone()).map(|(t, id)| view! {
                                <span class="tok" title=format!("id {id}")>{t}</span>
                            }).collect_view()}</td>
                            <td>{ld(&r.clean_logit_diff)}</td><td>{ld(&r.corrupted_logit_diff)}</td>
                        </tr>
                    }
                }).collect_view()}
            </table>
        })
    }
}
