//! The transitions: `update(page, event) -> (page, effects)`, and the page a link starts.

use gradpatch_config::ModelChoice;
use gradpatch_protocol::{ModelSource, RunRequest, ToWorker};
use gradpatch_terms::Prompts;

use crate::{
    AfterLoad, BUNDLED_BASE, BUNDLED_LABEL, Banners, Choice, Effect, Event, Load, Page, Phase,
    Start, WorkerSetup,
};

/// The page `event` leads to, and what the browser must do for it.
pub fn update(mut page: Page, event: Event) -> (Page, Vec<Effect>) {
    let mut effects = Vec::new();
    match event {
        Event::Worker(msg) => page.on_worker(msg, &mut effects),
        Event::Configure(config) => page.configure(config),
        Event::Load { local_files } => {
            let after = page.pending_after();
            page.load(local_files, after, &mut effects);
        }
        Event::Choose(model) => {
            let after = page.pending_after();
            page.config.model = model;
            page.load(None, after, &mut effects);
        }
        Event::UseBundled => {
            page.config.model = ModelChoice::Bundled;
            page.load(None, AfterLoad::Nothing, &mut effects);
        }
        Event::ConfirmModelUrl { download } => {
            let after = if download {
                AfterLoad::RunIfAllowed
            } else {
                page.config.model = ModelChoice::Bundled;
                AfterLoad::Nothing
            };
            page.load(None, after, &mut effects);
        }
        Event::Run => page.run(&mut effects),
        Event::DismissRun => {
            if let Phase::Ready { confirm_run, .. } = page.worker_phase_mut() {
                *confirm_run = false;
            }
        }
        Event::Cancel => {
            if page.phase.is_loading() || page.phase.is_running() {
                effects.push(Effect::Send(ToWorker::Cancel));
            }
        }
        Event::Validate(pairs) => {
            if page.model().is_some() {
                effects.push(Effect::Send(ToWorker::Validate { pairs }));
            }
        }
        Event::RefreshCache => effects.push(Effect::Send(ToWorker::CacheInfo)),
        Event::ClearCache => effects.push(Effect::Send(ToWorker::ClearCache)),
        Event::ResultsLink {
            link,
            url,
            same_site,
        } => page.results_link(link, url, same_site, &mut effects),
        Event::ConfirmResults { download } => page.confirm_results(download, &mut effects),
        Event::Reading { name } => {
            page.opening += 1;
            page.banners.status = format!("Reading {name}…");
        }
        Event::Opened { ticket, .. } | Event::OpenFailed { ticket, .. }
            if ticket.is_some_and(|t| t != page.opening) =>
        {
            // A newer open was asked for meanwhile: this answer is stale.
        }
        Event::Opened { from, results, .. } => page.opened(from, results),
        Event::OpenFailed { from, message, .. } => page.open_failed(&from, &message),
        Event::CloseFile => {
            page.phase = page.phase.without_file();
            page.banners.status = String::new();
        }
        Event::CircuitLink {
            link,
            url,
            same_site,
        } => page.circuit_link(link, url, same_site, &mut effects),
        Event::ConfirmCircuit { download } => page.confirm_circuit(download, &mut effects),
        Event::CircuitRead { from, bytes, link } => page.circuit_read(from, bytes, link),
        Event::ChooseCircuit(choice) => page.choose_circuit(choice),
    }
    (page, effects)
}

impl Page {
    /// The page a link opens, and what it starts: nothing large loads unasked (a model on
    /// another site after the user agrees, GPT-2 at once only from the cache, the small bundled
    /// model at once unless the browser asks to save data); a link to results loads no model.
    pub fn start(start: Start) -> (Page, Vec<Effect>) {
        let Start {
            config,
            warnings,
            shared_link,
            save_data,
            link_sets_percentile,
        } = start;
        let after = if shared_link {
            AfterLoad::RunIfAllowed
        } else {
            AfterLoad::Nothing
        };
        let phase = match &config.model {
            _ if config.results.is_some() => Phase::Idle,
            ModelChoice::Url(url) => Phase::ChoosingModel {
                choice: Choice::ModelUrl(url.clone()),
                after: AfterLoad::Nothing,
            },
            ModelChoice::Bundled if save_data => Phase::ChoosingModel {
                choice: Choice::FirstVisit,
                after,
            },
            ModelChoice::Bundled => Phase::Idle,
            ModelChoice::Preset(_) => Phase::CheckingCache { after },
        };
        let load_now =
            matches!(config.model, ModelChoice::Bundled) && !save_data && config.results.is_none();
        let mut page = Page {
            config,
            phase,
            banners: Banners {
                warnings: warnings.iter().map(ToString::to_string).collect(),
                ..Banners::default()
            },
            confirm_results: None,
            circuit: None,
            confirm_circuit: None,
            cache: Vec::new(),
            validation: Vec::new(),
            worker: WorkerSetup::default(),
            loaded_from: None,
            link_sets_percentile,
            opening: 0,
        };
        let mut effects = Vec::new();
        if load_now {
            page.load(None, after, &mut effects);
        }
        (page, effects)
    }

    /// What a load started from the current phase does once loaded: a question's pending
    /// comparison, else nothing.
    fn pending_after(&self) -> AfterLoad {
        match self.phase.worker_side() {
            Phase::CheckingCache { after } | Phase::ChoosingModel { after, .. } => *after,
            _ => AfterLoad::Nothing,
        }
    }

    /// The phase of the worker's side, under a results file if one is shown.
    pub(crate) fn worker_phase_mut(&mut self) -> &mut Phase {
        let mut phase = &mut self.phase;
        while let Phase::ViewingFile { under, .. } = phase {
            phase = under;
        }
        phase
    }

    /// Puts `phase` where the worker's side is (under a results file, if one is shown).
    pub(crate) fn set_worker_phase(&mut self, phase: Phase) {
        *self.worker_phase_mut() = phase;
    }

    /// Where the configuration's model is.
    fn named_source(&self) -> ModelSource {
        let (base, label) = match &self.config.model {
            ModelChoice::Preset(p) => (p.base(), p.label()),
            ModelChoice::Bundled => (BUNDLED_BASE.to_string(), BUNDLED_LABEL.to_string()),
            ModelChoice::Url(u) => (u.to_string(), u.to_string()),
        };
        ModelSource::Base { base, label }
    }

    /// Loads the configuration's model, or the local files named: the worker is told (a fresh
    /// one when the CPU choice changed: it picks its device once, and loads when ready).
    pub(crate) fn load(
        &mut self,
        local_files: Option<Vec<String>>,
        after: AfterLoad,
        effects: &mut Vec<Effect>,
    ) {
        let (source, local) = match local_files {
            Some(names) => (ModelSource::Files { names }, true),
            None => (self.named_source(), false),
        };
        let load = Load {
            source,
            local,
            after,
        };
        self.banners.error = None;
        self.banners.status = "Loading the model…".into();
        self.loaded_from = Some(load.clone());
        // The results on screen stay while the model loads, and after.
        let shown = self.phase.worker_side().results().cloned();
        self.set_worker_phase(Phase::Loading {
            load: load.clone(),
            shown,
        });
        self.send_load(&load, effects);
    }

    /// Tells the worker to load `load`, or starts a fresh one that is told when it is ready.
    pub(crate) fn send_load(&mut self, load: &Load, effects: &mut Vec<Effect>) {
        let cpu_only = self.cpu_only();
        // A worker picks its device once; and one started for WebGPU is not the threaded CPU
        // build a CPU run gets where the page is cross-origin isolated.
        if self.worker.cpu_only.is_some_and(|was| was != cpu_only)
            || (cpu_only && !self.worker.started_for_cpu)
        {
            self.worker.cpu_only = None;
            self.respawn(effects);
            return;
        }
        self.worker.cpu_only = Some(cpu_only);
        effects.push(Effect::SendLoad {
            message: ToWorker::Load {
                source: load.source.clone(),
                processing: self.config.processing,
                cpu_only,
            },
            local: load.local,
        });
    }

    /// Starts the comparison the configuration describes, if a model is loaded and nothing
    /// runs (a second Run while one runs does nothing). Its results replace a results file.
    pub(crate) fn run(&mut self, effects: &mut Vec<Effect>) {
        if !self.can_run() {
            return;
        }
        let phase = std::mem::replace(&mut self.phase, Phase::Idle).without_file();
        let (model, shown) = match phase {
            Phase::Ready { model, .. } => (model, None),
            Phase::ShowingResults { model, results } => (model, Some(results)),
            other => {
                self.phase = other;
                return;
            }
        };
        let request = RunRequest {
            prompts: self.config.prompts.clone(),
            options: self.config.options.clone(),
        };
        self.banners.error = None;
        // The link no longer shows an opened file once the page computes its own results.
        self.config.results = None;
        effects.push(Effect::Send(ToWorker::Run {
            request: request.clone(),
        }));
        self.phase = Phase::Running {
            model,
            request,
            progress: None,
            shown,
        };
    }

    /// A new configuration from the form; the results on screen follow its highlight
    /// quantile (their statistics are computed again from the scores).
    fn configure(&mut self, config: gradpatch_config::PageState) {
        let pct = config.options.percentile;
        self.config = config;
        self.apply_percentile(pct);
    }

    /// Recomputes the statistics of the results on screen at `pct`, when theirs differ.
    pub(crate) fn apply_percentile(&mut self, pct: f64) {
        let slot = match &mut self.phase {
            Phase::Running { shown, .. } | Phase::Failed { results: shown } => shown.as_mut(),
            Phase::ShowingResults { results, .. } | Phase::ViewingFile { results, .. } => {
                Some(results)
            }
            _ => None,
        };
        if let Some(results) = slot.filter(|r| r.config.options.percentile != pct) {
            *results = crate::SharedResults::new(results.at_percentile(pct));
        }
    }

    /// The number of prompts the configuration runs.
    pub fn n_prompts(&self) -> usize {
        Prompts::len(&self.config.prompts)
    }
}
