//! Reading a `results.json` to show instead of computing one: from a file (picked or dropped)
//! or a link (`results=…`). The file is read up to [`MAX_RESULTS_BYTES`] and checked in a worker
//! of its own (`reader`: within the page's budget; `Results::open` names the field that is wrong); what becomes of it is the page's
//! state machine's to say (`gradpatch_page`).

use gradpatch_config::ResultsLink;
use gradpatch_page::{Event, ResultsFrom};
use gradpatch_study::MAX_RESULTS_BYTES;
use js_sys::{Promise, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, File, HtmlInputElement, Response};

use super::Ctx;
use super::reader::{ReadResults, read_results};

/// A link's server that sends nothing for this long has stalled.
const STALL_MS: i32 = 30_000;

fn mib(bytes: f64) -> String {
    format!("{:.0} MiB", bytes / f64::from(1u32 << 20))
}

pub(super) fn js_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `p`'s value, or `None` when it has not settled within [`STALL_MS`].
async fn within_stall(p: &Promise) -> Result<Option<JsValue>, JsValue> {
    let timer = Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_1(
            &resolve,
            STALL_MS,
            &"stall".into(),
        );
    });
    let v = JsFuture::from(Promise::race(&js_sys::Array::of2(p, &timer))).await?;
    Ok((v.as_string().as_deref() != Some("stall")).then_some(v))
}

/// The link's address resolved against the page's, and whether it is on the page's site.
pub(super) fn resolve(link: &ResultsLink) -> Result<(String, bool), String> {
    let here = window().location();
    let page = here.href().map_err(|e| js_text(&e))?;
    let url = web_sys::Url::new_with_base(link.as_str(), &page)
        .map_err(|e| format!("`{link}` is not a URL: {}", js_text(&e)))?;
    let origin = here.origin().map_err(|e| js_text(&e))?;
    Ok((url.href(), url.origin() == origin))
}

/// The body of `url`, refused beyond `cap` bytes (announced or received) and when the server
/// stalls.
pub(super) async fn fetch_capped(url: &str, cap: u64) -> Result<Vec<u8>, String> {
    let chunks = fetch_chunks(url, cap).await?;
    let mut bytes = Vec::new();
    for chunk in chunks.iter() {
        let chunk: Uint8Array = chunk.unchecked_into();
        let old = bytes.len();
        bytes.resize(old + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[old..]);
    }
    Ok(bytes)
}

/// [`fetch_capped`]'s body as the chunks it arrived in (`Uint8Array`s, never copied into the
/// page's memory).
async fn fetch_chunks(url: &str, cap: u64) -> Result<js_sys::Array, String> {
    let stalled = || format!("the server sent nothing for {} s", STALL_MS / 1000);
    let resp = within_stall(&window().fetch_with_str(url))
        .await
        .map_err(|e| {
            format!(
                "could not fetch it ({}): offline, or a server on another site that does not allow this page to read it (CORS)",
                js_text(&e)
            )
        })?
        .ok_or_else(stalled)?;
    let resp: Response = resp.unchecked_into();
    if !resp.ok() {
        return Err(format!("the server answered HTTP {}", resp.status()));
    }
    let limit = if cap >= 1 << 20 {
        mib(cap as f64)
    } else {
        format!("{cap} bytes")
    };
    let announced = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = announced.filter(|&n| n > cap) {
        if let Some(body) = resp.body() {
            let _ = body.cancel();
        }
        return Err(format!(
            "the server announces {}, more than the {limit} this page opens",
            mib(n as f64)
        ));
    }
    let body = resp.body().ok_or("the response has no body")?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let (chunks, mut received) = (js_sys::Array::new(), 0u64);
    loop {
        let chunk = match within_stall(&reader.read()).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                let _ = reader.cancel();
                return Err(format!("{} after {received} bytes", stalled()));
            }
            Err(e) => return Err(format!("the download broke off: {}", js_text(&e))),
        };
        if Reflect::get(&chunk, &"done".into()).map_or(true, |d| d.is_truthy()) {
            return Ok(chunks);
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(|e| js_text(&e))?
            .unchecked_into();
        received += u64::from(value.length());
        if received > cap {
            let _ = reader.cancel();
            return Err(format!("it is larger than the {limit} this page opens"));
        }
        chunks.push(&value);
    }
}

/// The event a read of `from` ends with.
fn read_event(from: ResultsFrom, read: ReadResults, ticket: Option<u64>) -> Event {
    match read {
        Ok(results) => Event::Opened {
            from,
            results,
            ticket,
        },
        Err(e) => Event::OpenFailed {
            from,
            message: format!("could not be read: {e}"),
            ticket,
        },
    }
}

impl Ctx {
    pub fn open_file(&self, file: File) {
        let name = file.name();
        let size = file.size();
        let from = ResultsFrom::File(name.clone());
        if size > MAX_RESULTS_BYTES as f64 {
            let message = format!(
                "is {}, larger than the {} this page opens.",
                mib(size),
                mib(MAX_RESULTS_BYTES as f64)
            );
            self.dispatch(Event::OpenFailed {
                from,
                message,
                ticket: None,
            });
            return;
        }
        self.dispatch(Event::Reading { name });
        // The number the page gave this open: a later one makes its answer stale.
        let ticket = Some(self.page.with_untracked(|p| p.opening));
        let ctx = *self;
        leptos::task::spawn_local(async move {
            ctx.dispatch(read_event(from, read_results(file).await, ticket));
        });
    }

    /// Opens the results a link names (the page asks first when they are on another site).
    pub fn open_link(&self, link: ResultsLink) {
        match resolve(&link) {
            Ok((url, same_site)) => self.dispatch(Event::ResultsLink {
                link,
                url,
                same_site,
            }),
            Err(message) => self.dispatch(Event::OpenFailed {
                from: ResultsFrom::Link(link.to_string()),
                message,
                ticket: None,
            }),
        }
    }

    /// Downloads and shows the results at `url`.
    pub(super) fn fetch_results(&self, url: String, ticket: u64) {
        let ctx = *self;
        let ticket = Some(ticket);
        leptos::task::spawn_local(async move {
            let from = ResultsFrom::Link(url.clone());
            let event = match fetch_chunks(&url, MAX_RESULTS_BYTES).await {
                Ok(chunks) => match File::new_with_u8_array_sequence(&chunks, "results.json") {
                    Ok(file) => read_event(from, read_results(file).await, ticket),
                    Err(e) => read_event(from, Err(js_text(&e)), ticket),
                },
                Err(message) => Event::OpenFailed {
                    from,
                    message,
                    ticket,
                },
            };
            ctx.dispatch(event);
        });
    }
}

/// The host (and port) a resolved link fetches from: what the user is asked about, whatever the
/// link's text looks like.
pub(crate) fn resolved_host(url: &str) -> String {
    web_sys::Url::new(url).map_or_else(|_| url.to_string(), |u| u.host())
}

/// The question before fetching results from another site.
#[component]
pub fn ConfirmResults() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        ctx.page.with(|p| p.confirm_results.clone()).map(|ask| {
            let link = ask.link;
            let host = resolved_host(&ask.url);
            view! {
                <div class="banner confirm" data-testid="confirm-results">
                    <span>"This link shows results from "</span>
                    <strong class="host" data-testid="confirm-results-host">{host}</strong>
                    <span>" ("</span><code>{link.to_string()}</code><span>"). Download them?"</span>
                    <button data-testid="confirm-results-go"
                        on:click=move |_| ctx.dispatch(Event::ConfirmResults { download: true })>"Download"</button>
                    <button on:click=move |_| ctx.dispatch(Event::ConfirmResults { download: false })>"No"</button>
                </div>
            }
        })
    }
}

/// Opening a results.json: pick or drop a file.
#[component]
pub fn OpenPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let first = |files: Option<web_sys::FileList>| files.and_then(|l| l.get(0));
    let on_pick = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok());
        if let Some(file) = first(input.as_ref().and_then(HtmlInputElement::files)) {
            ctx.open_file(file);
        }
        // The same file picked again (after it changed) must fire `change` again.
        if let Some(input) = input {
            input.set_value("");
        }
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        if let Some(file) = first(ev.data_transfer().and_then(|d| d.files())) {
            ctx.open_file(file);
        }
    };
    view! {
        <fieldset class="panel" data-testid="open-panel">
            <legend>"Open results"</legend>
            <div class="drop" on:dragover=|ev: DragEvent| ev.prevent_default() on:drop=on_drop>
                "Drop or pick a results.json (the CLI's, or this page's export) to see its charts without computing: "
                <input type="file" accept=".json,application/json" on:change=on_pick data-testid="results-file"
                    aria-label="A results.json to open" />
            </div>
            {move || ctx.page.with(|p| p.phase.results_from()).filter(|f| *f != ResultsFrom::Run).map(|f| view! {
                <p class="hint" data-testid="results-from">{format!("Showing results from {f}.")}</p>
            })}
        </fieldset>
    }
}
