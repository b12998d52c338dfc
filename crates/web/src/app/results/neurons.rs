//! The neurons tab: the heatmaps (as on the heads tab), then the tables of the neurons each
//! method ranks highest.

use gradpatch_charts::data::{self, Method};
use gradpatch_terms::Component;
use leptos::prelude::*;

use super::heads::Heatmaps;
use super::{KindData, fmt, methods};
use crate::app::Ctx;

/// How many neurons each table lists.
const TOP: usize = 15;

/// The neurons tab (`d` is the neurons' data).
#[component]
pub(super) fn Neurons(d: KindData) -> impl IntoView {
    view! { <Heatmaps d=d /> <TopNeurons d=d /> }
}

/// A table per method that has scores, of the neurons with the largest |score| by that method
/// (for the chosen prompt or the mean), with every method's scores; clicking a row selects the
/// neuron.
#[component]
fn TopNeurons(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let top = move |by: Method| {
        let grids = d.grids.map(|g| g.get());
        data::top_components(grids.each_ref().map(Option::as_ref), by, TOP)
    };
    let table = move |method: Method| {
        let ran = methods(ctx);
        let heads = ran.clone();
        view! {
            <table class="top" data-testid=format!("top-neurons-{}", method.key())>
                <caption>{format!("Top neurons by |{}|", method.label())}</caption>
                <tr><th>"neuron"</th>{heads.into_iter().map(|m| view! { <th>{m.label()}</th> }).collect_view()}</tr>
                {move || top(method).into_iter().map(|c| {
                    let sel = Component::Neuron { layer: c.row, neuron: c.col };
                    let cells = ran.iter().map(|&m| view! { <td>{fmt(f64::from(c.score(m)))}</td> }).collect_view();
                    view! {
                        <tr class="clickable" on:click=move |_| ctx.configure(|s| s.view.selection = Some(sel))>
                            <td>{sel.to_string()}</td>{cells}
                        </tr>
                    }
                }).collect_view()}
            </table>
        }
    };
    view! { <div class="pair">{move || methods(ctx).into_iter().map(table).collect_view()}</div> }
}
