//! The page's transitions around a comparison: running it, its results as each method finishes,
//! cancelling, a second Run, errors, a lost GPU and a crashed worker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gradpatch_page::{Effect, Event, Phase};
use gradpatch_protocol::{FromWorker, Operation, ToWorker};
use gradpatch_terms::{Method, Stage};

fn progress(fraction: f64) -> Event {
    worker(FromWorker::Progress {
        fraction,
        stage: Stage::Scores(Method::Ig),
        prompt: 1,
        n_prompts: 2,
        elapsed: 3.0,
    })
}

#[test]
fn a_run_shows_each_method_as_it_finishes_then_the_whole_comparison() {
    let page = ready_page();
    assert!(page.can_run());
    let (page, effects) = step(page, Event::Run);
    let Some(Effect::Send(ToWorker::Run { request })) = effects.first() else {
        panic!("{effects:?}")
    };
    assert_eq!(request.options, page.config.options, "the form's options");
    assert_eq!(request.prompts, page.config.prompts);
    assert_eq!(phase_name(&page.phase), "running");
    assert!(!page.can_run());
    let (page, _) = step(page, progress(0.25));
    assert_eq!(page.phase.progress().map(|p| p.fraction), Some(0.25));
    let (page, _) = step(
        page,
        results_message(results(2, &[Method::Atp], 0.9, true), false),
    );
    assert_eq!(phase_name(&page.phase), "running");
    assert_eq!(page.results().map(|r| r.methods()), Some(vec![Method::Atp]));
    assert!(
        page.banners.status.starts_with("AtP done on 2 prompts"),
        "{}",
        page.banners.status
    );
    let all = [Method::Atp, Method::Ig, Method::Ap];
    let (page, _) = step(page, results_message(results(2, &all, 0.9, true), true));
    assert_eq!(phase_name(&page.phase), "showing results");
    assert_eq!(page.banners.status, "Comparison done: 2 prompts.");
    assert!(
        page.model().is_some() && page.can_run(),
        "the model stays: run again"
    );
}

#[test]
fn a_second_run_while_one_runs_does_nothing() {
    let (page, _) = step(ready_page(), Event::Run);
    let before = page.clone();
    let (page, effects) = step(page, Event::Run);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(page, before);
}

#[test]
fn cancel_during_a_run_keeps_what_finished() {
    let (page, _) = step(ready_page(), Event::Run);
    let (page, effects) = step(page, Event::Cancel);
    assert_eq!(effects, [Effect::Send(ToWorker::Cancel)]);
    let (page, _) = step(
        page,
        results_message(results(1, &[Method::Atp, Method::Ig], 0.9, false), true),
    );
    assert_eq!(phase_name(&page.phase), "showing results");
    assert_eq!(
        page.banners.status,
        "Cancelled: the results hold what finished (AtP, IG; 1 prompts)."
    );
    assert_eq!(page.results().map(|r| r.prompts.len()), Some(1));
}

#[test]
fn a_failed_run_keeps_the_model_and_the_results_on_screen() {
    let (page, _) = step(ready_page(), Event::Run);
    let error = worker(FromWorker::Error {
        during: Operation::Run,
        message: "pair 2: ` Zed` is two tokens".into(),
    });
    let (page, _) = step(page, error.clone());
    assert_eq!(phase_name(&page.phase), "ready");
    assert!(
        page.banners
            .error
            .as_deref()
            .unwrap_or("")
            .starts_with("run: pair 2")
    );
    // With results from before: they stay.
    let (page, _) = step(page, Event::Run);
    let (page, _) = step(
        page,
        results_message(results(2, &[Method::Atp], 0.9, true), true),
    );
    let (page, _) = step(page, Event::Run);
    let (page, _) = step(page, error);
    assert_eq!(phase_name(&page.phase), "showing results");
}

#[test]
fn a_lost_gpu_during_a_run_reloads_the_same_model_on_the_cpu_and_resumes() {
    let (page, _) = step(ready_page(), Event::Run);
    let (page, effects) = step(
        page,
        worker(FromWorker::GpuLost {
            message: "the WebGPU device was lost".into(),
        }),
    );
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    assert_eq!(phase_name(&page.phase), "recovering");
    assert!(page.worker.cpu_forced);
    assert!(
        page.banners.notices[0]
            .starts_with("The GPU failed: the WebGPU device was lost. Restarted on the CPU"),
        "{:?}",
        page.banners.notices
    );
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert_eq!(
        loads(&effects),
        [(true, false)],
        "the same model, on the CPU"
    );
    let (page, effects) = step(page, loaded());
    assert!(
        runs(&effects),
        "the interrupted run starts again without asking"
    );
    assert_eq!(phase_name(&page.phase), "running");
    // A second failure on the CPU: nothing safer to fall back to.
    let (page, effects) = step(
        page,
        worker(FromWorker::Crashed {
            message: "unreachable executed".into(),
            out_of_memory: false,
        }),
    );
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    assert_eq!(phase_name(&page.phase), "failed");
    let (_, effects) = step(page, worker(FromWorker::Ready));
    assert!(
        loads(&effects).is_empty(),
        "the fresh worker waits for the user"
    );
}

#[test]
fn out_of_memory_stops_keeps_the_results_and_does_not_retry() {
    let (page, _) = step(ready_page(), Event::Run);
    let (page, _) = step(
        page,
        results_message(results(2, &[Method::Atp], 0.9, true), false),
    );
    let (page, effects) = step(
        page,
        worker(FromWorker::Crashed {
            message: "out of memory (the worker's memory is 4096 MB)".into(),
            out_of_memory: true,
        }),
    );
    assert_eq!(effects, [Effect::RespawnWorker { cpu: false }]);
    assert_eq!(phase_name(&page.phase), "failed");
    assert!(page.results().is_some(), "the results stay");
    assert!(
        page.banners.error.as_deref().unwrap_or("").starts_with(
            "The compute worker ran out of memory (the worker's memory is 4096 MB). Try fewer prompts"
        ),
        "{:?}",
        page.banners.error
    );
    assert!(!page.worker.cpu_forced, "not a GPU failure");
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert!(loads(&effects).is_empty(), "not retried");
    let (_, effects) = step(page, Event::Load { local_files: None });
    assert_eq!(loads(&effects).len(), 1, "the user can load again");
}

#[test]
fn a_link_above_the_bound_of_work_waits_for_a_click() {
    let (page, _) = start("?model=bundled&n=200&seed=1", false);
    let (page, effects) = step(page, loaded());
    assert!(!runs(&effects));
    assert!(page.phase.confirm_run(), "the estimate and a Run button");
    let (dismissed, _) = step(page.clone(), Event::DismissRun);
    assert!(!dismissed.phase.confirm_run());
    let (page, effects) = step(page, Event::Run);
    assert!(runs(&effects));
    assert!(!page.phase.confirm_run());
    // A link with no method loads the model and runs nothing.
    let (page, _) = start("?model=bundled&ig=0&ap=0&atp=0", false);
    let (page, effects) = step(page, loaded());
    assert!(!runs(&effects) && !page.phase.confirm_run());
    assert!(matches!(page.phase, Phase::Ready { .. }));
}

#[test]
fn the_results_on_screen_stay_while_another_model_loads_and_after() {
    let (page, _) = step(ready_page(), Event::Run);
    let all = [Method::Atp, Method::Ig, Method::Ap];
    let (page, _) = step(page, results_message(results(2, &all, 0.9, true), true));
    let before = page.results().cloned();
    let (page, _) = step(page, Event::Load { local_files: None });
    assert_eq!(phase_name(&page.phase), "loading");
    assert_eq!(page.results(), before.as_ref(), "shown while loading");
    let (page, _) = step(
        page,
        worker(FromWorker::Download {
            file: "model.safetensors".into(),
            loaded: 1,
            total: None,
            speed: 1.0,
            from_cache: true,
        }),
    );
    assert_eq!(page.results(), before.as_ref(), "and while downloading");
    let (page, _) = step(page, loaded());
    assert_eq!(phase_name(&page.phase), "showing results");
    assert_eq!(page.results(), before.as_ref(), "and once loaded");
}
