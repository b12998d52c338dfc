//! One chart on a canvas: drawn with plotters whenever what it reads changes, a tooltip on
//! hover, selection on click, and a PNG download.

use gradpatch_charts::PlotArea;
use gradpatch_config::Selection;
use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::DrawingArea;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, MouseEvent};

use super::Ctx;

pub type Area = DrawingArea<CanvasBackend, Shift>;

/// What is under the pointer: tooltip text and the component a click selects.
pub type Hit = Option<(String, Option<Selection>)>;

pub fn download_url(url: &str, file_name: &str) {
    let Some(doc) = window().document() else {
        return;
    };
    if let Ok(a) = doc.create_element("a")
        && let Ok(a) = a.dyn_into::<HtmlAnchorElement>()
    {
        a.set_href(url);
        a.set_download(file_name);
        a.click();
    }
}

/// A chart. `draw` runs inside an effect (so it redraws when the signals it reads change) and
/// returns the plot area for `hit`.
pub fn chart(
    name: String,
    width: u32,
    height: u32,
    draw: impl Fn(&Area) -> Option<PlotArea> + 'static,
    hit: impl Fn(&PlotArea, f64, f64) -> Hit + 'static,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let canvas = NodeRef::<Canvas>::new();
    let area = StoredValue::new(None::<PlotArea>);
    let tip = RwSignal::new(None::<(String, f64, f64)>);
    Effect::new(move |_| {
        let Some(el) = canvas.get() else {
            return;
        };
        let Some(backend) = CanvasBackend::with_canvas_object(el) else {
            return;
        };
        let root = plotters::prelude::IntoDrawingArea::into_drawing_area(backend);
        area.set_value(draw(&root));
        let _ = root.present();
    });
    let hit = std::rc::Rc::new(hit);
    let hit_move = std::rc::Rc::clone(&hit);
    let on_move = move |ev: MouseEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        let found = area.get_value().and_then(|a| hit_move(&a, x, y));
        tip.set(found.map(|(text, _)| (text, x, y)));
    };
    let on_click = move |ev: MouseEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        if let Some((_, Some(sel))) = area.get_value().and_then(|a| hit(&a, x, y)) {
            ctx.state.update(|s| s.view.selection = Some(sel));
        }
    };
    let png_name = format!("{name}.png");
    let save = move |_| {
        if let Some(el) = canvas.get_untracked()
            && let Ok(url) = el.to_data_url()
        {
            download_url(&url, &png_name);
        }
    };
    view! {
        <figure class="chart" data-chart=name.clone()>
            <div class="canvas-wrap">
                <canvas node_ref=canvas width=width height=height
                    style=format!("width:{width}px;height:{height}px")
                    on:mousemove=on_move on:mouseleave=move |_| tip.set(None) on:click=on_click></canvas>
                {move || tip.get().map(|(text, x, y)| view! {
                    <div class="tooltip" data-testid="tooltip"
                        style=format!("left:{}px;top:{}px", x + 12.0, y + 12.0)>{text}</div>
                })}
            </div>
            <button class="png" on:click=save>"Save PNG"</button>
        </figure>
    }
}
