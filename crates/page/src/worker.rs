//! What the page does with each message of its compute worker, and restarting the worker after
//! the GPU or the worker failed.

use gradpatch_protocol::{CachedFile, FromWorker, ModelInfo, Operation, ToWorker};
use gradpatch_study::Results;
use gradpatch_terms::Prompts;

use crate::{AfterLoad, Choice, Download, Effect, Page, Phase, RunProgress, SharedResults};

impl Page {
    pub(crate) fn on_worker(&mut self, msg: FromWorker, effects: &mut Vec<Effect>) {
        match msg {
            FromWorker::Ready => self.worker_ready(effects),
            FromWorker::Download {
                file,
                loaded,
                total,
                speed,
                from_cache,
            } => self.downloading(Download {
                file,
                loaded,
                total,
                speed,
                from_cache,
            }),
            FromWorker::Status { text } => self.banners.status = text,
            FromWorker::Notice { text } => self.banners.notices.push(text),
            FromWorker::Loaded { info } => self.loaded(info, effects),
            FromWorker::Validated { errors } => self.validation = errors,
            FromWorker::Progress {
                fraction,
                stage,
                prompt,
                n_prompts,
                elapsed,
            } => {
                if let Phase::Running { progress, .. } = self.worker_phase_mut() {
                    *progress = Some(RunProgress {
                        fraction,
                        stage,
                        prompt,
                        n_prompts,
                        elapsed,
                    });
                }
            }
            FromWorker::Results { results, finished } => match results.read() {
                Ok(results) => self.run_results(results, finished),
                Err(e) => self.failed(
                    Operation::Run,
                    format!("the worker's results could not be read: {e}"),
                ),
            },
            FromWorker::Cache { files } => self.cache_listed(files, effects),
            // Results files are read by a worker of their own, which answers its caller.
            FromWorker::Opened { .. } => {}
            FromWorker::Error { during, message } => self.failed(during, message),
            FromWorker::GpuLost { message } => {
                self.restart(format!("The GPU failed: {message}."), true, effects);
            }
            FromWorker::Crashed {
                message,
                out_of_memory: true,
            } => {
                // The CPU needs more of the worker's memory, not less: no retry there.
                self.stop_with(
                    format!(
                        "The compute worker ran {message}. Try fewer prompts, or a smaller model."
                    ),
                    effects,
                );
            }
            FromWorker::Crashed {
                message,
                out_of_memory: false,
            } => self.restart(
                format!("The compute worker crashed: {message}."),
                false,
                effects,
            ),
        }
    }

    /// A worker is up: it lists the cache, and a fresh one (first start, a restart, a change of
    /// "CPU only") loads the model the page is loading, unless it was already asked to.
    fn worker_ready(&mut self, effects: &mut Vec<Effect>) {
        effects.push(Effect::Send(ToWorker::CacheInfo));
        if self.worker.cpu_only.is_some() {
            return;
        }
        if let Some(load) = self.phase.load().cloned() {
            self.send_load(&load, effects);
        }
    }

    fn downloading(&mut self, download: Download) {
        let phase = self.worker_phase_mut();
        match phase {
            Phase::Loading { load, shown } | Phase::Downloading { load, shown, .. } => {
                let (load, shown) = (load.clone(), shown.clone());
                *phase = Phase::Downloading {
                    load,
                    download,
                    shown,
                };
            }
            Phase::Recovering { download: d, .. } => *d = Some(download),
            _ => {}
        }
    }

    fn loaded(&mut self, info: ModelInfo, effects: &mut Vec<Effect>) {
        let after = self.phase.load().map_or(AfterLoad::Nothing, |l| l.after);
        self.banners.status = format!(
            "Loaded {} in {:.1} s on {}.",
            info.label, info.load_seconds, info.backend
        );
        let warnings = self
            .config
            .fit_view(info.n_layers, info.n_heads, info.d_mlp, None);
        self.banners
            .warnings
            .extend(warnings.iter().map(ToString::to_string));
        effects.push(Effect::Send(ToWorker::CacheInfo));
        // Custom pairs typed before the model loaded are checked against its tokenizer now.
        if let Prompts::Custom(pairs) = &self.config.prompts {
            effects.push(Effect::Send(ToWorker::Validate {
                pairs: pairs.clone(),
            }));
        }
        let any_method = !self.config.options.methods.is_empty();
        let confirm_run = match after {
            AfterLoad::Nothing => false,
            AfterLoad::RunIfAllowed => any_method && !self.config.auto_run_allowed(),
            AfterLoad::Resume => false,
        };
        let shown = self.phase.worker_side().results().cloned();
        self.set_worker_phase(match shown {
            Some(results) if !confirm_run => Phase::ShowingResults {
                model: info,
                results,
            },
            _ => Phase::Ready {
                model: info,
                confirm_run,
            },
        });
        let run_now = match after {
            AfterLoad::Nothing => false,
            AfterLoad::RunIfAllowed => any_method && !confirm_run,
            AfterLoad::Resume => any_method,
        };
        if run_now {
            self.run_under_file(effects);
        }
    }

    /// Starts a run the page owes (a link's, a resumed one) without closing a results file the
    /// user opened meanwhile: its results go underneath.
    fn run_under_file(&mut self, effects: &mut Vec<Effect>) {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::ViewingFile {
                results,
                from,
                under,
            } => {
                self.phase = *under;
                self.run(effects);
                let under = std::mem::replace(&mut self.phase, Phase::Idle);
                self.phase = Phase::ViewingFile {
                    results,
                    from,
                    under: Box::new(under),
                };
            }
            phase => {
                self.phase = phase;
                self.run(effects);
            }
        }
    }

    /// Results from the worker: the methods finished so far while the run goes on, or the
    /// whole run's (complete, or what a cancel kept).
    fn run_results(&mut self, results: Results, finished: bool) {
        let Phase::Running { model, .. } = self.phase.worker_side() else {
            return;
        };
        let model = model.clone();
        let n = results.prompts.len();
        let done = results
            .methods()
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(", ");
        self.banners.status = if !finished {
            format!("{done} done on {n} prompts; the charts show them while the rest runs.")
        } else if results.complete {
            format!("Comparison done: {n} prompts.")
        } else {
            format!("Cancelled: the results hold what finished ({done}; {n} prompts).")
        };
        // Keep the view's prompt in range (a link may name one the results lack).
        let warnings = self
            .config
            .fit_view(model.n_layers, model.n_heads, model.d_mlp, Some(n));
        self.banners
            .warnings
            .extend(warnings.iter().map(ToString::to_string));
        let results = SharedResults::new(results);
        if finished {
            self.set_worker_phase(Phase::ShowingResults { model, results });
        } else if let Phase::Running { shown, .. } = self.worker_phase_mut() {
            *shown = Some(results);
        }
    }

    /// The cache listing; when a preset is named and waits on it, it loads at once from the
    /// cache or the page asks first.
    fn cache_listed(&mut self, files: Vec<CachedFile>, effects: &mut Vec<Effect>) {
        if let Phase::CheckingCache { after } = *self.phase.worker_side() {
            let weights = self
                .config
                .model
                .preset()
                .map(|p| format!("{}model.safetensors", p.base()));
            if files.iter().any(|f| Some(&f.url) == weights.as_ref()) {
                self.load(None, after, effects);
            } else {
                self.set_worker_phase(Phase::ChoosingModel {
                    choice: Choice::FirstVisit,
                    after,
                });
            }
        }
        self.cache = files;
    }

    /// A failure the worker reports; a failed load leaves no model, a failed run the model and
    /// what was on screen.
    fn failed(&mut self, during: Operation, message: String) {
        self.banners.status = String::new();
        self.banners.error = Some(format!("{during}: {message}"));
        match (during, self.phase.worker_side().clone()) {
            (Operation::Load, phase) if phase.load().is_some() => {
                self.set_worker_phase(Phase::Failed { results: None });
            }
            (Operation::Run, Phase::Running { model, shown, .. }) => {
                self.set_worker_phase(match shown {
                    Some(results) => Phase::ShowingResults { model, results },
                    None => Phase::Ready {
                        model,
                        confirm_run: false,
                    },
                });
            }
            _ => {}
        }
    }

    /// Shows `error`, drops the model (keeping the results on screen) and starts a fresh worker
    /// that loads nothing until asked (it would fail again).
    fn stop_with(&mut self, error: String, effects: &mut Vec<Effect>) {
        self.banners.error = Some(error);
        let results = self.phase.worker_side().results().cloned();
        self.set_worker_phase(Phase::Failed { results });
        self.worker.cpu_only = None;
        self.respawn(effects);
    }

    /// A fresh worker on the CPU after the GPU or the worker failed: it loads the model the user
    /// had (the same URL, preset or local files) and runs an interrupted comparison again.
    fn restart(&mut self, what: String, gpu: bool, effects: &mut Vec<Effect>) {
        if self.worker.cpu_forced || self.cpu_only() && !gpu {
            // Already on the CPU: nothing safer to fall back to.
            self.stop_with(what, effects);
            return;
        }
        self.banners.notices.push(format!(
            "{what} Restarted on the CPU: slower, same results."
        ));
        self.worker.cpu_forced = true;
        self.worker.cpu_only = None;
        let side = self.phase.worker_side().clone();
        let after = if side.is_running() {
            AfterLoad::Resume
        } else {
            side.load().map_or(AfterLoad::Nothing, |l| l.after)
        };
        if let Some(load) = self.last_load(&side) {
            self.set_worker_phase(Phase::Recovering {
                load: crate::Load { after, ..load },
                download: None,
                shown: side.results().cloned(),
            });
        }
        self.respawn(effects);
    }

    /// Stops the worker and starts a fresh one, for the CPU when the page computes there.
    pub(crate) fn respawn(&mut self, effects: &mut Vec<Effect>) {
        let cpu = self.cpu_only();
        self.worker.started_for_cpu = cpu;
        effects.push(Effect::RespawnWorker { cpu });
    }

    /// The load that gave the model the worker side has or is loading.
    fn last_load(&self, side: &Phase) -> Option<crate::Load> {
        if let Some(load) = side.load() {
            return Some(load.clone());
        }
        side.model()?;
        self.loaded_from.clone()
    }
}
