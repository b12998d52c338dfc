//! The neurons tab: the heatmaps (as on the heads tab), then the tables of the neurons each
//! method ranks highest.

use gradpatch_charts::data::{self, Method};
use gradpatch_terms::Component;
use leptos::prelude::*;

use super::heads::Heatmaps;
use super::{KindData, fmt};
use crate::app::Ctx;

/// How many neurons each table lists.
const TOP: usize = 15;

/// The neurons tab (`d` is the neurons' data).
#[component]
pub(super) fn Neurons(d: KindData) -> impl IntoView {
    view! { <Heatmaps d=d /> <TopNeurons d=d /> }
}

/// Two tables, by |IG| and by |AP|, of the neurons with the largest |score| (for the chosen
/// prompt or the mean), with both methods' scores; clicking a row selects the neuron.
#[component]
fn TopNeurons(d: KindData) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Rows `(selection, ig, ap)`.
    let top = move |by: Method| {
        let (ig, ap) = (d.ig.get(), d.ap.get());
        data::top_components(ig.as_ref(), ap.as_ref(), by, TOP)
            .into_iter()
            .map(|c| {
                let sel = Component::Neuron {
                    layer: c.row,
                    neuron: c.col,
                };
                (sel, c.ig, c.ap)
            })
            .collect::<Vec<_>>()
    };
    let table = move |method: Method| {
        view! {
            <table class="top">
                <caption>{format!("Top neurons by |{}|", method.label())}</caption>
                <tr><th>"neuron"</th><th>"IG"</th><th>"AP"</th></tr>
                {move || top(method).into_iter().map(|(sel, ig, ap)| view! {
                    <tr class="clickable" on:click=move |_| ctx.state.update(|s| s.view.selection = Some(sel))>
                        <td>{sel.to_string()}</td><td>{fmt(f64::from(ig))}</td><td>{fmt(f64::from(ap))}</td>
                    </tr>
                }).collect_view()}
            </table>
        }
    };
    view! { <div class="pair">{table(Method::Ig)}{table(Method::Ap)}</div> }
}
