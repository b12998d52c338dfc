//! The known circuit: reading a circuit file (picked, dropped, or named by `circuit=`, asked
//! about first when on another site), and the chooser. Parsing and what becomes of it are the
//! page's state machine's (`gradpatch_page`); the scoreboard is in the summary tab.

use gradpatch_circuit::file::MAX_CIRCUIT_BYTES;
use gradpatch_config::{CircuitChoice, ResultsLink};
use gradpatch_page::Event;
use js_sys::Uint8Array;
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, File, HtmlInputElement};

use super::Ctx;
use super::open::{fetch_capped, js_text, resolve};

impl Ctx {
    /// The circuit a link names (asked about first when it is on another site).
    pub fn circuit_link(&self, link: ResultsLink) {
        match resolve(&link) {
            Ok((url, same_site)) => self.dispatch(Event::CircuitLink {
                link,
                url,
                same_site,
            }),
            Err(message) => self.dispatch(Event::CircuitRead {
                from: link.to_string(),
                bytes: Err(message),
                link: true,
            }),
        }
    }

    pub(super) fn fetch_circuit(&self, url: String) {
        let ctx = *self;
        leptos::task::spawn_local(async move {
            let bytes = fetch_capped(&url, MAX_CIRCUIT_BYTES as u64).await;
            ctx.dispatch(Event::CircuitRead {
                from: url,
                bytes,
                link: true,
            });
        });
    }

    /// Reads a circuit file picked or dropped.
    pub fn read_circuit_file(&self, file: File) {
        let from = file.name();
        if file.size() > MAX_CIRCUIT_BYTES as f64 {
            self.dispatch(Event::CircuitRead {
                from,
                bytes: Err(format!(
                    "{} bytes; a circuit file is at most {MAX_CIRCUIT_BYTES} bytes",
                    file.size()
                )),
                link: false,
            });
            return;
        }
        let ctx = *self;
        leptos::task::spawn_local(async move {
            let bytes = JsFuture::from(file.array_buffer())
                .await
                .map(|buf| Uint8Array::new(&buf).to_vec())
                .map_err(|e| format!("could not be read: {}", js_text(&e)));
            ctx.dispatch(Event::CircuitRead {
                from,
                bytes,
                link: false,
            });
        });
    }
}

/// The question before fetching a circuit from another site.
#[component]
pub fn ConfirmCircuit() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        ctx.page.with(|p| p.confirm_circuit.clone()).map(|ask| {
            let host = super::open::resolved_host(&ask.url);
            view! {
                <div class="banner confirm" data-testid="confirm-circuit">
                    <span>"This link scores the methods against a circuit from "</span>
                    <strong class="host">{host}</strong>
                    <span>" ("</span><code>{ask.link.to_string()}</code><span>"). Download it?"</span>
                    <button data-testid="confirm-circuit-go"
                        on:click=move |_| ctx.dispatch(Event::ConfirmCircuit { download: true })>"Download"</button>
                    <button on:click=move |_| ctx.dispatch(Event::ConfirmCircuit { download: false })>"No"</button>
                </div>
            }
        })
    }
}

/// The chooser: automatic (GPT-2 small's IOI circuit for GPT-2 small), none, the bundled one,
/// or a file; and what is in use.
#[component]
pub fn CircuitChooser() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let key = move || {
        ctx.state.with(|s| match &s.circuit {
            CircuitChoice::Auto => "auto",
            CircuitChoice::Off => "none",
            CircuitChoice::Bundled => "bundled",
            CircuitChoice::Link(_) => "link",
        })
    };
    let choose = move |ev: leptos::ev::Event| {
        let choice = match event_target_value(&ev).as_str() {
            "none" => CircuitChoice::Off,
            "bundled" => CircuitChoice::Bundled,
            _ => CircuitChoice::Auto,
        };
        ctx.dispatch(Event::ChooseCircuit(choice));
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            ctx.read_circuit_file(file);
        }
        input.set_value("");
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            ctx.read_circuit_file(file);
        }
    };
    let in_use = move || {
        ctx.page.with(|p| match p.active_circuit() {
            Some(c) => format!(
                "Scoring against {} ({} heads in {} classes).",
                c.from,
                c.circuit.size(),
                c.circuit.classes.len()
            ),
            None => "No circuit: the scoreboard and the outlines need one (GPT-2 small gets the IOI circuit by default; any model can take a circuit file).".into(),
        })
    };
    view! {
        <div class="row circuit drop" data-testid="circuit-chooser"
            on:dragover=|ev: DragEvent| ev.prevent_default() on:drop=on_drop>
            <label>"known circuit "
                <select data-testid="circuit-choice" prop:value=key on:change=choose>
                    <option value="auto">"automatic"</option>
                    <option value="bundled">"IOI, GPT-2 small"</option>
                    <option value="none">"none"</option>
                    <option value="link" disabled=true>"from the link"</option>
                </select>
            </label>
            <label>"or a circuit file (pick or drop) " <input type="file" accept=".json,application/json" data-testid="circuit-file" on:change=on_file /></label>
            <span class="hint" data-testid="circuit-in-use">{in_use}</span>
        </div>
    }
}
