//! The page's transitions from its link to a loaded model: the first-visit choice, the cache,
//! models on other sites, the data saver, downloads, cancels and failed loads, CPU only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gradpatch_config::{ModelChoice, Preset};
use gradpatch_page::{AfterLoad, Choice, Effect, Event, Phase};
use gradpatch_protocol::{CachedFile, FromWorker, ModelSource, ToWorker};
use gradpatch_terms::Keyed;

fn cache(urls: &[String]) -> Event {
    worker(FromWorker::Cache {
        files: urls
            .iter()
            .map(|u| CachedFile {
                url: u.clone(),
                bytes: 1,
            })
            .collect(),
    })
}

#[test]
fn first_visit_asks_before_gpt2_unless_it_is_cached() {
    let (page, effects) = start("", false);
    assert_eq!(phase_name(&page.phase), "checking cache");
    assert!(
        effects.is_empty(),
        "nothing loads before the cache is known"
    );
    let (page, effects) = feed(page, vec![worker(FromWorker::Ready), cache(&[])]);
    assert_eq!(effects[0], vec![Effect::Send(ToWorker::CacheInfo)]);
    assert!(matches!(
        page.phase,
        Phase::ChoosingModel {
            choice: Choice::FirstVisit,
            after: AfterLoad::Nothing
        }
    ));
    let (page, effects) = step(page, Event::Choose(ModelChoice::Bundled));
    assert_eq!(page.config.model, ModelChoice::Bundled);
    assert_eq!(phase_name(&page.phase), "loading");
    assert_eq!(loads(&effects), [(false, false)]);

    // GPT-2 in the cache: it loads at once, and a shared link's comparison follows.
    let small = Preset::Gpt2Small.base();
    let (page, _) = start("?n=2&seed=1", false);
    let weights = format!("{small}model.safetensors");
    let (page, effects) = step(page, cache(&[weights]));
    assert_eq!(loads(&effects), [(false, false)]);
    let Phase::Loading { load, .. } = &page.phase else {
        panic!("{:?}", page.phase)
    };
    assert_eq!(load.after, AfterLoad::RunIfAllowed);
    assert!(matches!(&load.source, ModelSource::Base { base, .. } if *base == small));
    let (page, effects) = step(page, loaded());
    assert!(runs(&effects), "2 prompts run without a click");
    assert_eq!(phase_name(&page.phase), "running");
}

#[test]
fn each_preset_is_asked_for_unless_its_own_weights_are_cached() {
    for preset in [Preset::DistilGpt2, Preset::Gpt2Medium] {
        let query = format!("?model={}&n=2", preset.key());
        // Another preset's weights in the cache do not count.
        let (page, _) = start(&query, false);
        let other = format!("{}model.safetensors", Preset::Gpt2Small.base());
        let (page, effects) = step(page, cache(&[other]));
        assert!(loads(&effects).is_empty(), "{preset:?}");
        assert!(
            matches!(
                page.phase,
                Phase::ChoosingModel {
                    choice: Choice::FirstVisit,
                    ..
                }
            ),
            "{preset:?}: {:?}",
            page.phase
        );
        let (page, _) = start(&query, false);
        let own = format!("{}model.safetensors", preset.base());
        let (page, effects) = step(page, cache(&[own]));
        assert_eq!(loads(&effects), [(false, false)], "{preset:?}");
        let Phase::Loading { load, .. } = &page.phase else {
            panic!("{:?}", page.phase)
        };
        let ModelSource::Base { base, label } = &load.source else {
            panic!("{:?}", load.source)
        };
        assert_eq!((base, label), (&preset.base(), &preset.label()));
    }
}

#[test]
fn the_bundled_model_loads_at_once_unless_the_browser_saves_data() {
    let (page, effects) = start("?model=bundled&n=2", false);
    assert_eq!(phase_name(&page.phase), "loading");
    assert_eq!(
        loads(&effects),
        [(false, false)],
        "queued until the worker is ready"
    );
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert_eq!(
        effects,
        [Effect::Send(ToWorker::CacheInfo)],
        "the worker already has its load"
    );
    assert_eq!(phase_name(&page.phase), "loading");

    let (page, effects) = start("?model=bundled", true);
    assert!(effects.is_empty());
    assert!(matches!(
        page.phase,
        Phase::ChoosingModel {
            choice: Choice::FirstVisit,
            ..
        }
    ));
}

#[test]
fn a_model_on_another_site_is_downloaded_only_once_the_user_agrees() {
    let query = "?model=https%3A%2F%2Fexample.org%2Fm%2F&n=2";
    let (page, effects) = start(query, false);
    assert!(effects.is_empty());
    assert!(matches!(
        page.phase,
        Phase::ChoosingModel {
            choice: Choice::ModelUrl(_),
            ..
        }
    ));
    let (yes, effects) = step(page.clone(), Event::ConfirmModelUrl { download: true });
    assert_eq!(loads(&effects), [(false, false)]);
    assert_eq!(
        yes.phase.load().map(|l| l.after),
        Some(AfterLoad::RunIfAllowed)
    );
    let (no, effects) = step(page, Event::ConfirmModelUrl { download: false });
    assert_eq!(
        no.config.model,
        ModelChoice::Bundled,
        "the bundled model instead"
    );
    assert_eq!(loads(&effects), [(false, false)]);
    assert_eq!(no.phase.load().map(|l| l.after), Some(AfterLoad::Nothing));
}

#[test]
fn cancel_during_a_download_ends_in_a_failed_load_that_can_be_retried() {
    let (page, _) = start("?model=bundled&ig=0&ap=0&atp=0", false);
    let (page, _) = step(
        page,
        worker(FromWorker::Download {
            file: "model.safetensors".into(),
            loaded: 10,
            total: Some(100),
            speed: 1e6,
            from_cache: false,
        }),
    );
    assert_eq!(phase_name(&page.phase), "downloading");
    assert_eq!(page.phase.download().map(|d| d.loaded), Some(10));
    let (page, effects) = step(page, Event::Cancel);
    assert_eq!(effects, [Effect::Send(ToWorker::Cancel)]);
    assert_eq!(
        phase_name(&page.phase),
        "downloading",
        "until the worker says so"
    );
    let (page, _) = step(page, load_error("the download was cancelled"));
    assert_eq!(phase_name(&page.phase), "failed");
    assert_eq!(
        page.banners.error.as_deref(),
        Some("load: the download was cancelled")
    );
    assert!(page.model().is_none());
    let (page, effects) = step(page, Event::Load { local_files: None });
    assert_eq!(loads(&effects), [(false, false)], "Retry loads again");
    assert_eq!(page.banners.error, None);
    // The error banner offers the bundled model.
    let (page, _) = step(page, load_error("HTTP 404"));
    let (page, effects) = step(page, Event::UseBundled);
    assert_eq!(page.config.model, ModelChoice::Bundled);
    assert_eq!(loads(&effects).len(), 1);
}

#[test]
fn cpu_only_takes_effect_at_the_next_load_with_a_fresh_worker() {
    let page = ready_page();
    let mut config = page.config.clone();
    config.backend = gradpatch_terms::Backend::Cpu;
    let (page, effects) = step(page, Event::Configure(config));
    assert!(effects.is_empty(), "ticking the box loads nothing");
    let (page, effects) = step(page, Event::Load { local_files: None });
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert_eq!(
        loads(&effects),
        [(true, false)],
        "the fresh worker loads on the CPU"
    );
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert!(loads(&effects).is_empty(), "and only once");
    assert_eq!(phase_name(&page.phase), "loading");
}

#[test]
fn a_link_that_asks_for_the_cpu_restarts_the_first_worker_for_it_once() {
    // The first worker is started before the link is read, for WebGPU: a CPU load needs one
    // started for the CPU (the threaded build where the page is cross-origin isolated).
    let page = ready_page();
    assert!(!page.worker.started_for_cpu);
    let mut config = page.config.clone();
    config.backend = gradpatch_terms::Backend::Cpu;
    let (page, _) = step(page, Event::Configure(config));
    let (page, effects) = step(page, Event::Load { local_files: None });
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    assert!(page.worker.started_for_cpu);
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert_eq!(loads(&effects), [(true, false)]);
    let (page, _) = step(page, loaded());
    let (page, effects) = step(page, Event::Load { local_files: None });
    assert_eq!(
        loads(&effects),
        [(true, false)],
        "a CPU worker loads again itself"
    );
    let mut config = page.config.clone();
    config.backend = gradpatch_terms::Backend::Auto;
    let (page, _) = step(page, Event::Configure(config));
    let (page, effects) = step(page, Event::Load { local_files: None });
    assert_eq!(
        effects,
        [Effect::RespawnWorker { cpu: false }],
        "back to WebGPU"
    );
    assert!(!page.worker.started_for_cpu);
}

#[test]
fn local_files_load_and_a_restart_gives_them_again() {
    let page = ready_page();
    let names = vec![
        "model.safetensors".to_string(),
        "tokenizer.json".to_string(),
    ];
    let (page, effects) = step(
        page,
        Event::Load {
            local_files: Some(names.clone()),
        },
    );
    assert_eq!(loads(&effects), [(false, true)]);
    let (page, _) = step(page, loaded());
    let (page, effects) = step(
        page,
        worker(FromWorker::GpuLost {
            message: "the WebGPU device was lost".into(),
        }),
    );
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    let (_, effects) = step(page, worker(FromWorker::Ready));
    let Some(Effect::SendLoad {
        message: ToWorker::Load {
            source, cpu_only, ..
        },
        local: true,
    }) = effects
        .iter()
        .find(|e| matches!(e, Effect::SendLoad { .. }))
    else {
        panic!("{effects:?}")
    };
    assert!(cpu_only);
    assert_eq!(source, &ModelSource::Files { names });
}

#[test]
fn custom_pairs_are_checked_once_a_tokenizer_is_there() {
    let (page, _) = start(
        "?model=bundled&task=custom&pairs=a%7Cb%7C%20c%7C%20d&ig=0&ap=0&atp=0",
        false,
    );
    let (page, effects) = step(page, Event::Validate(vec![]));
    assert!(effects.is_empty(), "no model: nothing to check against");
    let (page, effects) = step(page, loaded());
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Send(ToWorker::Validate { pairs }) if pairs.len() == 1)),
        "{effects:?}"
    );
    let (page, _) = step(
        page,
        worker(FromWorker::Validated {
            errors: vec![Some("` c` is two tokens".into())],
        }),
    );
    assert_eq!(page.validation.len(), 1);
}

#[test]
fn a_lost_gpu_while_loading_reloads_on_the_cpu_and_keeps_what_the_load_was_for() {
    let (page, _) = start("?model=bundled&n=2", false);
    let (page, effects) = step(
        page,
        worker(FromWorker::GpuLost {
            message: "the WebGPU device was lost".into(),
        }),
    );
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    let Phase::Recovering { load, .. } = &page.phase else {
        panic!("{:?}", page.phase)
    };
    assert_eq!(
        load.after,
        AfterLoad::RunIfAllowed,
        "the link's run still follows"
    );
    let (page, effects) = step(page, worker(FromWorker::Ready));
    assert_eq!(loads(&effects), [(true, false)]);
    let (page, effects) = step(page, loaded());
    assert!(runs(&effects));
    assert_eq!(phase_name(&page.phase), "running");
}

#[test]
fn a_crash_with_nothing_loaded_only_starts_a_fresh_worker() {
    let (page, _) = start("?results=r.json", false);
    let (page, effects) = step(
        page,
        worker(FromWorker::Crashed {
            message: "unreachable".into(),
            out_of_memory: false,
        }),
    );
    assert_eq!(effects, [Effect::RespawnWorker { cpu: true }]);
    assert_eq!(phase_name(&page.phase), "idle");
    let (_, effects) = step(page, worker(FromWorker::Ready));
    assert!(loads(&effects).is_empty(), "nothing to load");
}

#[test]
fn messages_and_errors_that_change_no_phase() {
    let page = ready_page();
    let (page, _) = feed(
        page,
        vec![
            worker(FromWorker::Status {
                text: "Starting the GPU…".into(),
            }),
            worker(FromWorker::Notice {
                text: "No WebGPU: computing on the CPU".into(),
            }),
            worker(FromWorker::Error {
                during: gradpatch_protocol::Operation::Validate,
                message: "no model is loaded yet".into(),
            }),
        ],
    );
    assert_eq!(phase_name(&page.phase), "ready");
    assert_eq!(page.banners.notices, ["No WebGPU: computing on the CPU"]);
    assert_eq!(
        page.banners.error.as_deref(),
        Some("validate: no model is loaded yet")
    );
    let (page, effects) = step(page, Event::RefreshCache);
    assert_eq!(effects, [Effect::Send(ToWorker::CacheInfo)]);
    let (_, effects) = step(page, Event::ClearCache);
    assert_eq!(effects, [Effect::Send(ToWorker::ClearCache)]);
}
