//! What the page does with each message of the compute worker, and restarting the worker
//! after the GPU or the worker failed.

use std::sync::Arc;

use gradpatch_config::Task;
use gradpatch_protocol::{FromWorker, Operation};
use leptos::prelude::*;

use super::{Ctx, Download, RunProgress};

impl Ctx {
    /// Shows `error`, drops the model and starts a fresh worker that loads nothing until asked.
    fn stop_with(&self, error: String) {
        self.loading.set(false);
        self.running.set(false);
        // The fresh worker waits for the user (it would otherwise reload and fail again).
        self.run_after_load.set(false);
        self.resume_run.set_value(false);
        self.model.set(None);
        self.error.set(Some(error));
        self.worker_cpu_only.set_value(None);
        if let Some(b) = self.bridge.get_value() {
            b.spawn();
        }
    }

    /// A fresh worker on the CPU after the GPU or the worker failed: it reloads the model the
    /// user had (the same URL, preset or local files) and reruns an interrupted comparison.
    fn restart(&self, what: String, gpu: bool) {
        if self.cpu_forced.get_untracked() || self.cpu_only() && !gpu {
            // Already on the CPU: nothing safer to fall back to.
            self.stop_with(what);
            return;
        }
        self.notices.update(|n| {
            n.push(format!(
                "{what} Restarted on the CPU: slower, same results."
            ))
        });
        self.cpu_forced.set(true);
        let was_running = self.running.get_untracked();
        self.running.set(false);
        if self.model.get_untracked().is_some() || self.loading.get_untracked() {
            self.loading.set(true);
            self.run_after_load.set(was_running);
            self.resume_run.set_value(was_running);
        }
        self.model.set(None);
        self.worker_cpu_only.set_value(None);
        if let Some(b) = self.bridge.get_value() {
            b.spawn();
        }
    }

    pub(super) fn on_message(&self, msg: FromWorker) {
        match msg {
            FromWorker::Ready => {
                self.refresh_cache();
                // A fresh worker (first start, after a failure or a change of "CPU only") loads
                // what the page shows, unless a Load is already on its way to it.
                let waiting =
                    self.awaiting_cache.get_untracked() || self.choose_model.get_untracked();
                // (A Load sent before Ready was queued by the bridge and went out just now.)
                let load_sent = self.worker_cpu_only.get_value().is_some();
                if !waiting
                    && !load_sent
                    && (self.loading.get_untracked() || self.run_after_load.get_untracked())
                {
                    self.load(self.last_local.get_value());
                }
            }
            FromWorker::Download {
                file,
                loaded,
                total,
                speed,
                from_cache,
            } => self.download.set(Some(Download {
                file,
                loaded,
                total,
                speed,
                from_cache,
            })),
            FromWorker::Status { text } => self.status.set(text),
            FromWorker::Notice { text } => self.notices.update(|n| n.push(text)),
            FromWorker::Loaded { info } => {
                self.loading.set(false);
                self.status.set(format!(
                    "Loaded {} in {:.1} s on {}.",
                    info.label, info.load_seconds, info.backend
                ));
                let mut warnings = Vec::new();
                self.state.update(|s| {
                    warnings = s.fit_view(info.n_layers, info.n_heads, info.d_mlp, None);
                });
                self.warnings
                    .update(|w| w.extend(warnings.iter().map(ToString::to_string)));
                self.model.set(Some(info));
                self.refresh_cache();
                // Custom pairs typed before the model loaded are checked against its tokenizer now.
                if let Task::Custom(pairs) = self.state.get_untracked().task {
                    self.validate(pairs);
                }
                let (any_method, allowed) = self
                    .state
                    .with_untracked(|s| (!s.methods.is_empty(), s.auto_run_allowed()));
                let resume = self.resume_run.get_value();
                self.resume_run.set_value(false);
                if self.run_after_load.get_untracked() && any_method {
                    if allowed || resume {
                        self.run();
                    } else {
                        self.confirm_run.set(true);
                    }
                }
                self.run_after_load.set(false);
            }
            FromWorker::Validated { errors } => self.validation.set(errors),
            FromWorker::Progress {
                fraction,
                stage,
                prompt,
                n_prompts,
                elapsed,
            } => self.progress.set(Some(RunProgress {
                fraction,
                stage,
                prompt,
                n_prompts,
                elapsed,
            })),
            FromWorker::Results { results, finished } => {
                self.running.set(!finished);
                let n = results.prompts.len();
                let done = results
                    .methods()
                    .iter()
                    .map(|m| m.label())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.status.set(if !finished {
                    format!("{done} done on {n} prompts; the charts show them while the rest runs.")
                } else if results.complete {
                    format!("Comparison done: {n} prompts.")
                } else {
                    format!("Cancelled: the results hold what finished ({done}; {n} prompts).")
                });
                // Keep the view's prompt in range (a link may name one the results lack).
                let mut warnings = Vec::new();
                if let Some(m) = self.model.get_untracked() {
                    self.state.update(|s| {
                        warnings = s.fit_view(m.n_layers, m.n_heads, m.d_mlp, Some(n));
                    });
                }
                self.warnings
                    .update(|w| w.extend(warnings.iter().map(ToString::to_string)));
                self.results_from.set(Some(super::open::ResultsFrom::Run));
                self.results.set(Some(Arc::new(*results)));
            }
            FromWorker::Cache { files } => {
                if self.awaiting_cache.get_untracked() {
                    self.awaiting_cache.set(false);
                    let weights = format!("{}model.safetensors", gradpatch_config::HF_GPT2_BASE);
                    if files.iter().any(|f| f.url == weights) {
                        self.load(false);
                    } else {
                        self.choose_model.set(true);
                    }
                }
                self.cache.set(files);
            }
            FromWorker::Error { during, message } => {
                if during == Operation::Load {
                    self.loading.set(false);
                    self.run_after_load.set(false);
                }
                if during == Operation::Run {
                    self.running.set(false);
                }
                self.status.set(String::new());
                self.error.set(Some(format!("{during}: {message}")));
            }
            FromWorker::GpuLost { message } => {
                self.restart(format!("The GPU failed: {message}."), true);
            }
            FromWorker::Crashed {
                message,
                out_of_memory,
            } => {
                if out_of_memory {
                    // The CPU needs more of the worker's memory, not less: no retry there.
                    self.stop_with(format!(
                        "The compute worker ran {message}. Try fewer prompts, or a smaller model."
                    ));
                    return;
                }
                self.restart(format!("The compute worker crashed: {message}."), false);
            }
        }
    }
}
