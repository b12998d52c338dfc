//! The Faithfulness tab: for heads and for neurons, each method's faithfulness curve (the
//! chosen prompt's, or the mean over prompts) over the random rankings' band, and a table of
//! what each curve reaches. Everything comes from the results (`gradpatch_charts::curves`).

use gradpatch_charts::curves::{CurvesChart, curves, draw_curves, method_colour};
use gradpatch_charts::data::Kind;
use gradpatch_study::Results;
use gradpatch_study::faithfulness::ranking;
use gradpatch_terms::{Component, ComponentKind, Ranking};
use leptos::prelude::*;
use plotters::style::RGBColor;

use super::fmt;
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// The component `method` adds at the `k`-th point of prompt `prompt`'s curve (its k-th in the
/// ranking the curves used).
fn added_at(
    r: &Results,
    kind: ComponentKind,
    prompt: usize,
    method: gradpatch_terms::Method,
    k: usize,
) -> Option<Component> {
    let f = r.faithfulness.as_ref()?;
    let grid = r.scores(method)?.of(kind).get(prompt)?;
    let width = grid.first()?.len();
    let order = ranking(&grid.concat(), f.ranking == Ranking::Signed);
    let i = *order.get(k.checked_sub(1)?)?;
    let (layer, index) = (i / width.max(1), i % width.max(1));
    Some(match kind {
        ComponentKind::Heads => Component::Head { layer, head: index },
        ComponentKind::Neurons => Component::Neuron {
            layer,
            neuron: index,
        },
    })
}

/// The tooltip at point `i`: k, each method's value (and, for one prompt, the component it adds
/// there), the random rankings' mean and band.
fn point_text(c: &CurvesChart, i: usize, r: &Results, prompt: Option<usize>) -> String {
    let k = c.k[i];
    let mut parts: Vec<String> = c
        .lines
        .iter()
        .map(|(m, v)| {
            let added = prompt
                .and_then(|p| added_at(r, c.kind, p, *m, k))
                .map_or(String::new(), |comp| format!(" (+{comp})"));
            format!("{} {}{added}", m.label(), fmt(f64::from(v[i])))
        })
        .collect();
    if let Some((lo, mean, hi)) = c.band_at(k) {
        parts.push(format!(
            "random {} (5–95%: {} to {})",
            fmt(f64::from(mean)),
            fmt(f64::from(lo)),
            fmt(f64::from(hi))
        ));
    }
    format!("k = {k}: {}", parts.join(", "))
}

/// Each method's area under the mean curve, the k reaching 80% and the value at the
/// highlighted set's size.
#[component]
fn SummaryTable(kind: ComponentKind) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let rows = move || {
        let r = ctx.results.get()?;
        let f = r.faithfulness.as_ref()?;
        let pct = r.config.options.percentile;
        Some(
            f.methods
                .keys()
                .filter_map(|&m| Some((m, f.summary(m, kind, pct)?)))
                .collect::<Vec<_>>(),
        )
    };
    view! {
        <table class="summary faith" data-testid=format!("faith-table-{}", kind.label())>
            <tr><th>"method"</th><th>"area (0–1)"</th><th>"k at 80%"</th><th>"at the highlighted set"</th></tr>
            {move || rows().unwrap_or_default().into_iter().map(|(m, s)| {
                let RGBColor(red, green, blue) = method_colour(m);
                view! {
                    <tr>
                        <th><span class="swatch" style:color=format!("#{red:02x}{green:02x}{blue:02x}")>"■ "</span>{m.label()}</th>
                        <td>{fmt(s.area)}</td>
                        <td>{s.k80.map_or("—".to_string(), |k| k.to_string())}</td>
                        <td>{format!("{} ({} of them)", fmt(f64::from(s.at_highlighted)), s.highlighted)}</td>
                    </tr>
                }
            }).collect_view()}
        </table>
    }
}

/// One kind's chart and table.
#[component]
fn KindCurves(kind: ComponentKind) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let prompt = Memo::new(move |_| ctx.state.with(|s| s.view.prompt));
    let data = Memo::new(move |_| curves(&*ctx.results.get()?, kind, prompt.get()));
    let title = move || {
        let scope = prompt
            .get()
            .map_or("mean over prompts".into(), |p| format!("prompt {p}"));
        format!("Faithfulness of the top {} ({scope})", kind.label())
    };
    let chart_kind = match kind {
        ComponentKind::Heads => Kind::Heads,
        ComponentKind::Neurons => Kind::Neurons,
    };
    view! {
        <div class="pair">
            {chart(
                format!("faith-{}", kind.label()),
                chart_kind,
                640,
                380,
                move |area| {
                    let d = data.get()?;
                    draw_curves(area, &title(), &d, None).ok()
                },
                move |a, x, y| -> Hit {
                    let (dx, _) = a.to_data(x, y)?;
                    let d = data.get_untracked()?;
                    let i = d.nearest(dx)?;
                    let r = ctx.results.get_untracked()?;
                    Some((point_text(&d, i, &r, prompt.get_untracked()), None))
                },
            )}
            <SummaryTable kind=kind />
        </div>
    }
}

#[component]
pub(super) fn Faithfulness() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let has = move || {
        ctx.results
            .with(|r| r.as_ref().is_some_and(|r| r.faithfulness.is_some()))
    };
    view! {
        <Show when=has fallback=|| view! {
            <p class="stat" data-testid="faith-none">
                "No faithfulness curves in these results: tick “faithfulness” and run again (or "
                <code>"gradpatch run --faithfulness"</code>")."
            </p>
        }>
            <p class="stat" data-testid="faith-note">
                "Keep each method's top k components, noise every other one with the corrupted run, and see how much of the clean logit difference is left: 1 = all of it, 0 = none. The grey band: 20 random rankings."
            </p>
            <KindCurves kind=ComponentKind::Heads />
            <KindCurves kind=ComponentKind::Neurons />
        </Show>
    }
}
