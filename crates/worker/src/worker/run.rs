//! Running the comparison and checking prompt pairs against the loaded model.

use std::cell::Cell;
use std::rc::Rc;

use gradpatch_dataset::{TokenizedPair, generate_ioi, tokenize_pairs};
use gradpatch_methods::Pause;
use gradpatch_model::RunError;
use gradpatch_protocol::{FromWorker, RunRequest};
use gradpatch_study::{Results, StudyConfig, StudyObserver, StudyProgress, run_study_async};
use gradpatch_terms::{PromptPair, Prompts};
use wasm_bindgen_futures::JsFuture;

use super::{Loaded, STATE, cancel_flag, device, now_s, post, scope};

fn loaded() -> Result<Rc<Loaded>, String> {
    STATE
        .with(|s| s.borrow().loaded.clone())
        .ok_or_else(|| "no model is loaded yet".to_string())
}

pub fn validate(pairs: Vec<PromptPair>) -> Result<(), String> {
    let l = loaded()?;
    let errors = pairs
        .iter()
        .map(|p| {
            TokenizedPair::new(p, &l.tokenizer, l.model.config.n_ctx)
                .err()
                .map(|e| e.to_string())
        })
        .collect();
    post(&FromWorker::Validated { errors });
    Ok(())
}

/// Reports progress to the page (at most ~8 times a second) and lets the worker's event loop
/// run between steps so a cancel can arrive.
struct Observer {
    cancel: Rc<Cell<bool>>,
    t0: f64,
    last: f64,
    loaded: Rc<Loaded>,
}

impl StudyObserver for Observer {
    fn report(&mut self, p: StudyProgress) -> bool {
        let now = now_s();
        if now - self.last > 0.125 || p.fraction >= 1.0 {
            self.last = now;
            post(&FromWorker::Progress {
                fraction: p.fraction,
                stage: p.stage,
                prompt: p.prompt,
                n_prompts: p.n_prompts,
                elapsed: now - self.t0,
            });
        }
        !self.cancel.get()
    }

    fn pause(&mut self) -> Pause<'_> {
        Box::pin(async {
            let promise = js_sys::Promise::new(&mut |resolve, _| {
                let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            });
            let _ = JsFuture::from(promise).await;
        })
    }

    fn method_done(&mut self, results: &Results) {
        let mut results = results.clone();
        results
            .seconds
            .insert("comparison".into(), (now_s() - self.t0).into());
        post_results(&self.loaded, results, false);
    }
}

/// Posts the results (with the load time, which only the worker knows).
fn post_results(l: &Loaded, mut results: Results, finished: bool) {
    results.seconds.insert("load".into(), l.load_seconds.into());
    match gradpatch_protocol::ResultsJson::new(&results) {
        Ok(results) => post(&FromWorker::Results { results, finished }),
        Err(message) => post(&FromWorker::Error {
            during: gradpatch_protocol::Operation::Run,
            message,
        }),
    }
}

pub async fn run(req: RunRequest) -> Result<(), String> {
    let l = loaded()?;
    let n_ctx = l.model.config.n_ctx;
    let pairs = match &req.prompts {
        Prompts::Ioi { n, seed, corrupt } => {
            generate_ioi(*n, *seed, *corrupt, &l.tokenizer, n_ctx).map_err(|e| e.to_string())?
        }
        Prompts::Custom(p) => tokenize_pairs(p, &l.tokenizer, n_ctx).map_err(|e| e.to_string())?,
    };
    req.options.validate().map_err(|e| e.to_string())?;
    let config = StudyConfig {
        model: l.label.clone(),
        processing: l.model.processing,
        prompts_source: StudyConfig::source_of(&req.prompts),
        options: req.options,
        backend: l.backend.clone(),
    };
    let t0 = now_s();
    let mut observer = Observer {
        cancel: cancel_flag(),
        t0,
        last: 0.0,
        loaded: l.clone(),
    };
    let mut results = match run_study_async(&l.model, &pairs, &config, &mut observer).await {
        Ok(r) => r,
        // The page restarts the worker on the CPU and reruns (a CPU device cannot be lost).
        Err(e @ RunError::Device { .. }) if !device::is_cpu(l.model.device()) => {
            post(&FromWorker::GpuLost {
                message: e.to_string(),
            });
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    results
        .seconds
        .insert("comparison".into(), (now_s() - t0).into());
    post_results(&l, results, true);
    Ok(())
}
