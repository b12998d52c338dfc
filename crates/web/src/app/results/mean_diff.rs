//! The mean-difference tab: the chosen pair's second method minus its first against the mean of
//! the two (scaled) scores, with the limits of agreement.

use gradpatch_charts::data;
use gradpatch_charts::draw;
use gradpatch_charts::sample;
use leptos::prelude::*;

use super::{KindData, flat_selection, fmt};
use crate::app::Ctx;
use crate::app::canvas::{Hit, chart};

/// The mean-difference plot of one kind over all prompts; the selected component's points are
/// marked.
#[component]
pub(super) fn MeanDiff(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let kind = d.kind;
    // Which points are drawn (and hovered): all, or a sample above `MAX_DRAWN`.
    let drawn = Memo::new(move |_| {
        d.mean_difference
            .with(|(pts, _)| sample::drawn(pts, sample::MAX_DRAWN))
    });
    let note = move || {
        drawn.with(sample::Drawn::note).map(|n| {
            view! { <p class="hint" data-testid=format!("sampled-meandiff-{}", kind.label())>{n}</p> }
        })
    };
    let chart = chart(
        format!("meandiff-{}", kind.label()),
        kind,
        540,
        420,
        move |area| {
            let r = ctx.results.get()?;
            let pair = d.pair.get();
            let c = data::comparison(&r, pair, kind)?;
            let md = d.mean_difference.read();
            let (pts, pairs) = (&md.0, &md.1);
            let sel = ctx.state.with(|s| s.view.selection);
            let chosen = d
                .selected_flat(sel)
                .map(|flat| data::of_component(pairs, pts, flat))
                .unwrap_or_default();
            let shown = drawn.with(|dr| dr.pick(pts));
            let title = format!(
                "{} {}: mean difference {} ± 1.96 × {}",
                pair.label(),
                kind.label(),
                fmt(c.mean_difference),
                fmt(c.sd_difference)
            );
            draw::mean_difference(
                area,
                (&title, pair),
                &shown,
                c.mean_difference,
                (c.lower_loa, c.upper_loa),
                &chosen,
            )
            .ok()
        },
        move |a, x, y| -> Hit {
            let (pt, pair) = d.mean_difference.with_untracked(|(pts, pairs)| {
                let at = drawn.with_untracked(|dr| dr.indices.clone());
                let k = a.nearest(at.iter().filter_map(|&i| pts.get(i).copied()), x, y)?;
                let i = *at.get(k)?;
                Some((*pts.get(i)?, *pairs.get(i)?))
            })?;
            let sel = flat_selection(kind, d.cols(), pair.3);
            let (first, second) = d.pair.get_untracked().methods();
            Some((
                format!(
                    "{sel} (prompt {}): mean {}, {} − {} {}",
                    pair.2,
                    fmt(pt.0),
                    second.label(),
                    first.label(),
                    fmt(pt.1)
                ),
                Some(sel),
            ))
        },
    );
    view! { <div>{chart}{note}</div> }
}
