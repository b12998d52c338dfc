//! One chart on a canvas: drawn with plotters whenever what it reads changes, a tooltip on
//! hover, selection on click, and a PNG download.

use gradpatch_charts::{Kind, PlotArea};
use gradpatch_config::Move;
use gradpatch_terms::Component;
use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::DrawingArea;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, KeyboardEvent, MouseEvent};

use super::Ctx;

pub type Area = DrawingArea<CanvasBackend, Shift>;

/// What is under the pointer: tooltip text and the component a click selects.
pub type Hit = Option<(String, Option<Component>)>;

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

/// Where the keyboard cursor of a `kind` chart starts: at the selection when it is of this
/// kind, else at the first component.
fn cursor_start(ctx: Ctx, kind: Kind, cursor: RwSignal<Option<Component>>) -> Component {
    let selected = ctx.state.with_untracked(|s| s.view.selection).filter(|s| {
        matches!(
            (s, kind),
            (Component::Head { .. }, Kind::Heads) | (Component::Neuron { .. }, Kind::Neurons)
        )
    });
    cursor.get_untracked().or(selected).unwrap_or(match kind {
        Kind::Heads => Component::Head { layer: 0, head: 0 },
        Kind::Neurons => Component::Neuron {
            layer: 0,
            neuron: 0,
        },
    })
}

/// The chart's keys: the arrows move the cursor over the components, Enter or Space selects.
fn keyboard(
    ctx: Ctx,
    kind: Kind,
    cursor: RwSignal<Option<Component>>,
) -> impl Fn(KeyboardEvent) + 'static {
    move |ev: KeyboardEvent| {
        // The scores' shape: results opened from a file have no model.
        let Some((n_layers, n_heads, d_mlp)) = ctx
            .results
            .with_untracked(|r| r.as_ref().and_then(|r| r.shape()))
        else {
            return;
        };
        let per_layer = match kind {
            Kind::Heads => n_heads,
            Kind::Neurons => d_mlp,
        };
        let start = cursor_start(ctx, kind, cursor);
        let key = ev.key();
        if key == "Enter" || key == " " {
            ev.prevent_default();
            ctx.configure(|s| s.view.selection = Some(start));
            cursor.set(Some(start));
        } else if let Some(m) = Move::from_key(&key) {
            ev.prevent_default();
            cursor.set(Some(m.apply(start, n_layers, per_layer)));
        }
    }
}

/// The canvas pixel under CSS pixel `(x, y)` of the element: a canvas narrower on screen than
/// its drawing (a small window) is scaled by the browser.
fn to_canvas(canvas: NodeRef<Canvas>, x: f64, y: f64) -> (f64, f64) {
    let Some(el) = canvas.get_untracked() else {
        return (x, y);
    };
    let (w, h) = (f64::from(el.client_width()), f64::from(el.client_height()));
    if w <= 0.0 || h <= 0.0 {
        return (x, y);
    }
    (
        x * f64::from(el.width()) / w,
        y * f64::from(el.height()) / h,
    )
}

/// A chart of heads or neurons (`kind`). `draw` runs inside an effect (so it redraws when the
/// signals it reads change) and returns the plot area for `hit`. Focused, the arrow keys move a
/// cursor over the components and Enter selects the one under it.
pub fn chart(
    name: String,
    kind: Kind,
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
        let (cx, cy) = to_canvas(canvas, x, y);
        let found = area.get_value().and_then(|a| hit_move(&a, cx, cy));
        tip.set(found.map(|(text, _)| (text, x, y)));
    };
    let on_click = move |ev: MouseEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        let (x, y) = to_canvas(canvas, x, y);
        if let Some((_, Some(sel))) = area.get_value().and_then(|a| hit(&a, x, y)) {
            ctx.configure(|s| s.view.selection = Some(sel));
        }
    };
    // The tooltip follows the pointer through the CSSOM: the CSP allows no style attributes.
    let tip_el = NodeRef::<Div>::new();
    Effect::new(move |_| {
        if let (Some(el), Some((_, x, y))) = (tip_el.get(), tip.get()) {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("left", &format!("{}px", x + 12.0));
            let _ = style.set_property("top", &format!("{}px", y + 12.0));
        }
    });
    let cursor = RwSignal::new(None::<Component>);
    let on_key = keyboard(ctx, kind, cursor);
    let label = format!(
        "{name} chart: arrow keys move over the {}, Enter selects",
        kind.label()
    );
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
                <canvas node_ref=canvas width=width height=height tabindex="0" role="img"
                    aria-label=label
                    on:mousemove=on_move on:mouseleave=move |_| tip.set(None) on:click=on_click
                    on:keydown=on_key on:blur=move |_| cursor.set(None)></canvas>
                {move || cursor.get().map(|c| view! {
                    <div class="tooltip cursor" data-testid="cursor" aria-live="polite">
                        {format!("{c}: Enter selects")}
                    </div>
                })}
                <div class="tooltip" data-testid="tooltip" node_ref=tip_el hidden=move || tip.with(Option::is_none)>
                    {move || tip.with(|t| t.as_ref().map(|t| t.0.clone()))}
                </div>
            </div>
            <button class="png" on:click=save>"Save PNG"</button>
        </figure>
    }
}
