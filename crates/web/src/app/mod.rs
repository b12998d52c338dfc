//! The page: model loading, configuration, progress and the comparison charts. All state that
//! a link can carry lives in one `PageState` signal mirrored into the URL.

mod bridge;
mod canvas;
mod choose;
mod messages;
mod open;
mod panels;
mod results;

use std::rc::Rc;
use std::sync::Arc;

use gradpatch_config::{ModelChoice, ModelUrl, PageState, Task};
use gradpatch_study::Results;
use gradpatch_terms::{Backend, PromptPair, Stage};
use leptos::prelude::*;
use web_sys::File;

use bridge::Bridge;
use gradpatch_protocol::{
    CachedFile, FromWorker, ModelInfo, ModelSource, Prompts, RunRequest, ToWorker,
};

/// The offline model served with the page (trained by `gradpatch train-demo`).
pub const BUNDLED_BASE: &str = "models/ioi-demo/";
pub const BUNDLED_LABEL: &str = "bundled IOI demo model (not GPT-2 small)";

#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub file: String,
    pub loaded: u64,
    pub total: Option<u64>,
    pub speed: f64,
    pub from_cache: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunProgress {
    pub fraction: f64,
    pub stage: Stage,
    pub prompt: usize,
    pub n_prompts: usize,
    pub elapsed: f64,
}

/// Everything the components share.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub state: RwSignal<PageState>,
    pub warnings: RwSignal<Vec<String>>,
    pub notices: RwSignal<Vec<String>>,
    pub error: RwSignal<Option<String>>,
    pub status: RwSignal<String>,
    pub model: RwSignal<Option<ModelInfo>>,
    pub loading: RwSignal<bool>,
    pub download: RwSignal<Option<Download>>,
    pub running: RwSignal<bool>,
    pub progress: RwSignal<Option<RunProgress>>,
    pub results: RwSignal<Option<Arc<Results>>>,
    /// Where the results came from: a run, a file or a link.
    pub results_from: RwSignal<Option<open::ResultsFrom>>,
    /// A link names results on another site: ask before downloading them.
    pub confirm_results: RwSignal<Option<gradpatch_config::ResultsLink>>,
    pub validation: RwSignal<Vec<Option<String>>>,
    pub cache: RwSignal<Vec<CachedFile>>,
    /// A link names a model URL that is not a preset: ask before downloading it.
    pub confirm_url: RwSignal<Option<ModelUrl>>,
    /// A link's configuration is more work than it may start unasked: the model is loaded and
    /// the page shows the estimate with a Run button.
    pub confirm_run: RwSignal<bool>,
    /// WebGPU failed: the worker runs on the CPU from now on.
    pub cpu_forced: RwSignal<bool>,
    /// Run as soon as the model is loaded (a shared link restores its results).
    pub run_after_load: RwSignal<bool>,
    /// GPT-2 is named but maybe not cached: the worker's cache listing decides whether it
    /// loads at once (cached) or the page asks first ([`Ctx::choose_model`]).
    pub awaiting_cache: RwSignal<bool>,
    /// First visit: offer GPT-2 (large download) or the bundled model; nothing large loads
    /// before the user clicks.
    pub choose_model: RwSignal<bool>,
    pub local_files: StoredValue<Vec<File>, LocalStorage>,
    /// What the current worker was told about the CPU at its first load (it picks its device
    /// once): a change of the "CPU only" box respawns it at the next Load.
    pub worker_cpu_only: StoredValue<Option<bool>, LocalStorage>,
    /// A comparison the user started was interrupted by a restart: run it again once loaded,
    /// without asking (the user already clicked).
    pub resume_run: StoredValue<bool, LocalStorage>,
    /// The last Load was of local files: a restarted worker gets the same files again.
    pub last_local: StoredValue<bool, LocalStorage>,
    pub bridge: StoredValue<Option<Rc<Bridge>>, LocalStorage>,
}

impl Ctx {
    fn send(&self, msg: &ToWorker) {
        if let Some(b) = self.bridge.get_value() {
            b.send(msg);
        }
    }

    fn cpu_only(&self) -> bool {
        self.cpu_forced.get_untracked() || self.state.get_untracked().backend == Backend::Cpu
    }

    /// Loads the model the state names (or the local files when `local`).
    pub fn load(&self, local: bool) {
        self.last_local.set_value(local);
        let s = self.state.get_untracked();
        let source = if local {
            let names = self
                .local_files
                .with_value(|f| f.iter().map(File::name).collect());
            ModelSource::Files { names }
        } else {
            match &s.model {
                ModelChoice::Gpt2 => ModelSource::Base {
                    base: gradpatch_config::HF_GPT2_BASE.into(),
                    label: "GPT-2 small (Hugging Face)".into(),
                },
                ModelChoice::Bundled => ModelSource::Base {
                    base: BUNDLED_BASE.into(),
                    label: BUNDLED_LABEL.into(),
                },
                ModelChoice::Url(u) => ModelSource::Base {
                    base: u.to_string(),
                    label: u.to_string(),
                },
            }
        };
        self.error.set(None);
        self.choose_model.set(false);
        self.awaiting_cache.set(false);
        self.loading.set(true);
        self.model.set(None);
        self.download.set(None);
        self.status.set("Loading the model…".into());
        let cpu_only = self.cpu_only();
        if self
            .worker_cpu_only
            .get_value()
            .is_some_and(|was| was != cpu_only)
        {
            // A fresh worker: its Ready message loads again (see `on_message`).
            self.worker_cpu_only.set_value(None);
            if let Some(b) = self.bridge.get_value() {
                b.spawn();
            }
            return;
        }
        self.worker_cpu_only.set_value(Some(cpu_only));
        let msg = ToWorker::Load {
            source,
            processing: s.processing,
            cpu_only,
        };
        if let Some(b) = self.bridge.get_value() {
            let files = if local {
                self.local_files.get_value()
            } else {
                Vec::new()
            };
            b.send_with_files(&msg, &files);
        }
    }

    pub fn run(&self) {
        let s = self.state.get_untracked();
        let prompts = match &s.task {
            Task::Ioi { n, seed, corrupt } => Prompts::Ioi {
                n: *n,
                seed: *seed,
                corrupt: *corrupt,
            },
            Task::Custom(pairs) => Prompts::Custom(pairs.clone()),
        };
        self.error.set(None);
        self.confirm_run.set(false);
        // The link no longer shows an opened file once the page computes its own results.
        self.state.update(|s| s.results = None);
        self.running.set(true);
        self.progress.set(None);
        self.send(&ToWorker::Run {
            request: RunRequest {
                prompts,
                methods: s.methods,
                ig_steps: s.ig_steps,
                ig_method: s.ig_method,
                ig_baseline: s.ig_baseline,
                ap_direction: s.ap_direction,
                percentile: s.percentile,
                positions: s.positions,
            },
        });
    }

    pub fn cancel(&self) {
        self.send(&ToWorker::Cancel);
    }

    pub fn validate(&self, pairs: Vec<PromptPair>) {
        if self.model.get_untracked().is_some() {
            self.send(&ToWorker::Validate { pairs });
        }
    }

    pub fn refresh_cache(&self) {
        self.send(&ToWorker::CacheInfo);
    }

    pub fn clear_cache(&self) {
        self.send(&ToWorker::ClearCache);
    }
}

/// The browser's data saver (`navigator.connection.saveData`, Chromium only).
fn save_data() -> bool {
    let nav = window().navigator();
    js_sys::Reflect::get(&nav, &"connection".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"saveData".into()))
        .is_ok_and(|v| v.as_bool() == Some(true))
}

fn location_query() -> String {
    window().location().search().unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    let query = location_query();
    let (state, warnings) = PageState::from_query(&query);
    let shared_link = !query.trim_start_matches('?').is_empty();
    let ctx = Ctx {
        state: RwSignal::new(state.clone()),
        warnings: RwSignal::new(warnings.iter().map(ToString::to_string).collect()),
        notices: RwSignal::new(Vec::new()),
        error: RwSignal::new(None),
        status: RwSignal::new(String::new()),
        model: RwSignal::new(None),
        loading: RwSignal::new(false),
        download: RwSignal::new(None),
        running: RwSignal::new(false),
        progress: RwSignal::new(None),
        results: RwSignal::new(None),
        results_from: RwSignal::new(None),
        confirm_results: RwSignal::new(None),
        validation: RwSignal::new(Vec::new()),
        cache: RwSignal::new(Vec::new()),
        confirm_url: RwSignal::new(None),
        confirm_run: RwSignal::new(false),
        cpu_forced: RwSignal::new(false),
        run_after_load: RwSignal::new(shared_link),
        awaiting_cache: RwSignal::new(false),
        choose_model: RwSignal::new(false),
        local_files: StoredValue::new_local(Vec::new()),
        worker_cpu_only: StoredValue::new_local(None),
        last_local: StoredValue::new_local(false),
        resume_run: StoredValue::new_local(false),
        bridge: StoredValue::new_local(None),
    };
    provide_context(ctx);
    // Nothing large loads unasked: non-preset model URLs after the user agrees, GPT-2 at once
    // only from the cache (else the page offers the choice), the small bundled model at once
    // unless the browser asks to save data. A link to results loads no model: it shows them.
    match &state.model {
        _ if state.results.is_some() => ctx.run_after_load.set(false),
        ModelChoice::Url(u) => {
            ctx.confirm_url.set(Some(u.clone()));
            ctx.run_after_load.set(false);
        }
        ModelChoice::Bundled if !save_data() => ctx.loading.set(true),
        ModelChoice::Bundled => ctx.choose_model.set(true),
        ModelChoice::Gpt2 => ctx.awaiting_cache.set(true),
    }
    let handler: Rc<dyn Fn(FromWorker)> = Rc::new(move |msg| ctx.on_message(msg));
    ctx.bridge.set_value(Some(Bridge::new(handler)));
    if let Some(link) = state.results.clone() {
        ctx.open_link(link, false);
    }
    // The highlight quantile applies to the results on screen, a run's or a file's: their
    // statistics are computed again from the scores (as a run at that quantile would).
    Effect::new(move |_| {
        let pct = ctx.state.with(|s| s.percentile);
        let stale = ctx.results.with(|r| {
            r.as_ref()
                .filter(|r| r.config.percentile != pct)
                .map(|r| r.at_percentile(pct))
        });
        if let Some(r) = stale {
            ctx.results.set(Some(Arc::new(r)));
        }
    });
    // The URL follows the state.
    Effect::new(move |_| {
        let q = ctx.state.with(PageState::to_query);
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("?{q}")),
            );
        }
    });
    view! {
        <header>
            <h1>"gradpatch"</h1>
            <p class="tagline">
                "Integrated Gradients vs activation patching on GPT-2, for every attention head and MLP neuron, in your browser."
            </p>
        </header>
        <panels::Banners />
        <open::ConfirmResults />
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
