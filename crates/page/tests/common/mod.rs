//! Pages, worker messages and results for the transition tests.
#![allow(dead_code)]

use gradpatch_config::PageState;
use gradpatch_page::{Effect, Event, Page, Phase, Start, update};
use gradpatch_protocol::{FromWorker, ModelInfo, Operation, ToWorker};
use gradpatch_study::{MethodScores, Results, StudyConfig};
use gradpatch_terms::{Method, Processing, StudyOptions};

/// The page a link opens (`query` as in the address, `save_data` the browser's data saver).
pub fn start(query: &str, save_data: bool) -> (Page, Vec<Effect>) {
    let (config, warnings) = PageState::from_query(query);
    Page::start(Start {
        config,
        warnings,
        shared_link: !query.trim_start_matches('?').is_empty(),
        save_data,
        link_sets_percentile: PageState::query_sets_percentile(query),
    })
}

/// `events` one after the other; the effects of each.
pub fn feed(mut page: Page, events: Vec<Event>) -> (Page, Vec<Vec<Effect>>) {
    let mut all = Vec::new();
    for event in events {
        let (next, effects) = update(page, event);
        page = next;
        all.push(effects);
    }
    (page, all)
}

/// One event.
pub fn step(page: Page, event: Event) -> (Page, Vec<Effect>) {
    update(page, event)
}

pub fn worker(msg: FromWorker) -> Event {
    Event::Worker(msg)
}

pub fn model_info() -> ModelInfo {
    ModelInfo {
        label: "bundled IOI demo model (not GPT-2 small)".into(),
        n_layers: 2,
        n_heads: 4,
        d_mlp: 512,
        d_vocab: 1951,
        n_ctx: 64,
        backend: "WebGPU (SwiftShader)".into(),
        load_seconds: 0.5,
        wasm_heap_bytes: 50 << 20,
    }
}

pub fn loaded() -> Event {
    worker(FromWorker::Loaded { info: model_info() })
}

/// Results of `n` prompts with `methods` scored (one value per head and neuron), at quantile
/// `percentile`.
pub fn results(n: usize, methods: &[Method], percentile: f64, complete: bool) -> Results {
    let config = StudyConfig {
        model: "bundled".into(),
        processing: Processing::all(),
        options: StudyOptions {
            percentile,
            methods: methods.iter().copied().collect(),
            ..StudyOptions::default()
        },
        prompts_source: serde_json::json!({"ioi": {"n": n, "seed": 0, "corrupt": "aba"}}),
        backend: "test".into(),
    };
    let mut r = Results::empty(config);
    r.clean_logit_diff = vec![1.0; n];
    r.corrupted_logit_diff = vec![-1.0; n];
    r.prompts = (0..n)
        .map(|i| gradpatch_study::PromptRecord {
            pair: gradpatch_terms::PromptPair {
                clean: format!("clean {i}"),
                corrupted: format!("corrupted {i}"),
                correct: " A".into(),
                incorrect: " B".into(),
            },
            clean_token_ids: vec![0, 1],
            clean_tokens: Vec::new(),
            corrupted_token_ids: vec![0, 2],
            labels: [1, 2],
        })
        .collect();
    for (k, &m) in methods.iter().enumerate() {
        let grid = |cols: usize| -> Vec<Vec<Vec<f32>>> {
            (0..n)
                .map(|p| {
                    (0..2)
                        .map(|l| {
                            (0..cols)
                                .map(|c| ((p + l * cols + c + k) % 7) as f32)
                                .collect()
                        })
                        .collect()
                })
                .collect()
        };
        r.scores.insert(
            m,
            MethodScores {
                heads: grid(4),
                neurons: grid(3),
                ..MethodScores::default()
            },
        );
    }
    r.stats = gradpatch_study::statistics(&r, percentile);
    r.stats_pairs = gradpatch_study::pair_statistics(&r, percentile);
    r.complete = complete;
    r
}

pub fn results_message(r: Results, finished: bool) -> Event {
    worker(FromWorker::Results {
        results: gradpatch_protocol::ResultsJson::new(&r).expect("results write as JSON"),
        finished,
    })
}

pub fn load_error(message: &str) -> Event {
    worker(FromWorker::Error {
        during: Operation::Load,
        message: message.into(),
    })
}

/// The load messages among `effects`: `(cpu_only, local)` of each.
pub fn loads(effects: &[Effect]) -> Vec<(bool, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SendLoad {
                message: ToWorker::Load { cpu_only, .. },
                local,
            } => Some((*cpu_only, *local)),
            _ => None,
        })
        .collect()
}

/// Whether `effects` start a run.
pub fn runs(effects: &[Effect]) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, Effect::Send(ToWorker::Run { .. })))
}

/// A short name of the page's phase, for assertions.
pub fn phase_name(phase: &Phase) -> String {
    match phase {
        Phase::Idle => "idle".into(),
        Phase::CheckingCache { .. } => "checking cache".into(),
        Phase::ChoosingModel { .. } => "choosing model".into(),
        Phase::Downloading { .. } => "downloading".into(),
        Phase::Loading { .. } => "loading".into(),
        Phase::Ready { .. } => "ready".into(),
        Phase::Running { .. } => "running".into(),
        Phase::ShowingResults { .. } => "showing results".into(),
        Phase::Failed { .. } => "failed".into(),
        Phase::Recovering { .. } => "recovering".into(),
        Phase::ViewingFile { under, .. } => format!("viewing file over {}", phase_name(under)),
    }
}

/// A bundled model loaded from a link that runs nothing by itself.
pub fn ready_page() -> Page {
    let (page, _) = start("?model=bundled&ig=0&ap=0&atp=0", false);
    let (page, _) = feed(page, vec![worker(FromWorker::Ready), loaded()]);
    let page = step(page, Event::Configure(step_config())).0;
    assert_eq!(phase_name(&page.phase), "ready");
    page
}

fn step_config() -> PageState {
    PageState::from_query("?model=bundled&n=2&seed=3&steps=4").0
}
