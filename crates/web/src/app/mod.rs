//! The page: model loading, configuration, progress and the comparison charts. The page's whole
//! state is one [`Page`] value in one signal; the views render it and send [`Event`]s, which
//! `gradpatch_page::update` turns into the next page and the effects carried out here.

mod bridge;
mod canvas;
mod choose;
mod circuit;
mod open;
mod panels;
mod reader;
mod results;

use std::rc::Rc;

use gradpatch_config::PageState;
use gradpatch_page::{Event, Page, SharedResults, Start, update};
use leptos::prelude::*;
use web_sys::File;

use bridge::Bridge;

/// Everything the components share.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub page: RwSignal<Page>,
    /// The configuration (what the link holds), read-only: changes go through [`Ctx::configure`].
    pub state: Memo<PageState>,
    /// The results on screen, a run's or a file's.
    pub results: Memo<Option<SharedResults>>,
    /// The local model files picked or dropped (a restarted worker gets them again).
    pub local_files: StoredValue<Vec<File>, LocalStorage>,
    pub bridge: StoredValue<Option<Rc<Bridge>>, LocalStorage>,
}

impl Ctx {
    /// Moves the page by `event` and carries out what it asks for.
    pub fn dispatch(&self, event: Event) {
        let (next, effects) = update(self.page.get_untracked(), event);
        if self.page.with_untracked(|p| *p != next) {
            self.page.set(next);
        }
        for effect in effects {
            self.perform(effect);
        }
    }

    /// Changes the configuration.
    pub fn configure(&self, edit: impl FnOnce(&mut PageState)) {
        let mut config = self.state.get_untracked();
        edit(&mut config);
        self.dispatch(Event::Configure(config));
    }

    fn perform(&self, effect: gradpatch_page::Effect) {
        let Some(bridge) = self.bridge.get_value() else {
            return;
        };
        use gradpatch_page::Effect;
        match effect {
            Effect::Send(msg) => bridge.send(&msg),
            Effect::SendLoad { message, local } => {
                let files = if local {
                    self.local_files.get_value()
                } else {
                    Vec::new()
                };
                bridge.send_with_files(&message, &files);
            }
            Effect::RespawnWorker { cpu } => bridge.spawn(cpu),
            Effect::FetchResults { url, ticket } => self.fetch_results(url, ticket),
            Effect::FetchCircuit { url } => self.fetch_circuit(url),
        }
    }

    /// Loads the local files `files`.
    pub fn load_files(&self, files: Vec<File>) {
        if files.is_empty() {
            return;
        }
        let names = files.iter().map(File::name).collect();
        self.local_files.set_value(files);
        self.dispatch(Event::Load {
            local_files: Some(names),
        });
    }
}

/// The browser's data saver (`navigator.connection.saveData`, Chromium only).
fn save_data() -> bool {
    let nav = window().navigator();
    js_sys::Reflect::get(&nav, &"connection".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"saveData".into()))
        .is_ok_and(|v| v.as_bool() == Some(true))
}

/// The state part of the address: the fragment, or the query of an older `?` link.
fn location_query() -> String {
    let loc = window().location();
    let (search, hash) = (
        loc.search().unwrap_or_default(),
        loc.hash().unwrap_or_default(),
    );
    gradpatch_config::state_part(&search, &hash).to_string()
}

/// The page a link opens and the shared context; starts the worker.
fn start_page() -> Ctx {
    let query = location_query();
    let (mut config, mut warnings) = PageState::from_query(&query);
    let page_host = window().location().hostname().unwrap_or_default();
    warnings.extend(config.fit_origin(&page_host));
    let (page, effects) = Page::start(Start {
        config,
        warnings,
        shared_link: !query.is_empty(),
        save_data: save_data(),
        link_sets_percentile: PageState::query_sets_percentile(&query),
    });
    let page = RwSignal::new(page);
    let ctx = Ctx {
        page,
        state: Memo::new(move |_| page.with(|p| p.config.clone())),
        results: Memo::new(move |_| page.with(|p| p.results().cloned())),
        local_files: StoredValue::new_local(Vec::new()),
        bridge: StoredValue::new_local(None),
    };
    let handler: Rc<dyn Fn(gradpatch_protocol::FromWorker)> =
        Rc::new(move |msg| ctx.dispatch(Event::Worker(msg)));
    ctx.bridge.set_value(Some(Bridge::new(handler)));
    for effect in effects {
        ctx.perform(effect);
    }
    if let Some(link) = ctx.state.get_untracked().results {
        ctx.open_link(link);
    }
    if let gradpatch_config::CircuitChoice::Link(link) = ctx.state.get_untracked().circuit {
        ctx.circuit_link(link);
    }
    ctx
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = start_page();
    provide_context(ctx);
    // The address follows the configuration (replacing it adds no history entry and fires no
    // `hashchange`).
    Effect::new(move |_| {
        let path = window().location().pathname().unwrap_or_default();
        let address = ctx.state.with(|s| gradpatch_config::address(&path, s));
        if let Ok(history) = window().history() {
            let _ =
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&address));
        }
    });
    // A fragment typed or pasted into the address bar does not reload the page by itself: this
    // opens what it names.
    let on_hash = window_event_listener(leptos::ev::hashchange, |_| {
        let _ = window().location().reload();
    });
    on_cleanup(move || on_hash.remove());
    view! {
        <header>
            <h1>"gradpatch"</h1>
            <p class="tagline">
                "Integrated Gradients vs activation patching on GPT-2, for every attention head and MLP neuron, in your browser."
            </p>
        </header>
        <panels::Banners />
        <open::ConfirmResults />
        <circuit::ConfirmCircuit />
        <choose::ChooseModel />
        <main>
            <section class="controls">
                <panels::ModelPanel />
                <panels::ConfigPanel />
                <open::OpenPanel />
            </section>
            <section class="results">
                <results::ResultsView />
            </section>
        </main>
    }
}
