//! Messages between the page and the compute worker (serialised with serde-wasm-bindgen).
//! Local files travel beside a `Load` message as `File` objects, not in it.

use gradpatch_terms::{PromptPair, Prompts, Stage, StudyOptions};
use serde::{Deserialize, Serialize};

/// Where the worker gets the model files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelSource {
    /// `model.safetensors`, `tokenizer.json` and optional `config.json` under a base URL.
    Base { base: String, label: String },
    /// Local files picked or dropped in the page: sent as `File`s with the message.
    Files { names: Vec<String> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    Load {
        source: ModelSource,
        processing: bool,
        /// Use the CPU even when WebGPU is there.
        cpu_only: bool,
    },
    /// Checks user-written prompt pairs against the loaded tokenizer.
    Validate {
        pairs: Vec<PromptPair>,
    },
    Run {
        request: RunRequest,
    },
    /// Stops a download or a run; a run keeps what it finished.
    Cancel,
    /// What the Cache API holds.
    CacheInfo,
    ClearCache,
}

/// A comparison to run: the prompts and the options (the page's, as its link holds them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    pub prompts: Prompts,
    pub options: StudyOptions,
}

/// What was being done when an error happened (the page says so, and a failed load or run
/// ends that state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")] // web/worker_loader.js posts `start` itself
pub enum Operation {
    /// Starting the worker.
    Start,
    /// Reading a message between the page and the worker.
    Message,
    Load,
    Validate,
    Run,
    Cache,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operation::Start => "start",
            Operation::Message => "message",
            Operation::Load => "load",
            Operation::Validate => "validate",
            Operation::Run => "run",
            Operation::Cache => "cache",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub label: String,
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_mlp: usize,
    pub d_vocab: usize,
    pub n_ctx: usize,
    /// "WebGPU" or "CPU (ndarray, one thread, SIMD)".
    pub backend: String,
    pub load_seconds: f64,
    /// Size of the worker's wasm memory after loading (must stay well under 4 GiB).
    pub wasm_heap_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CachedFile {
    pub url: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker is up (its wasm is loaded).
    Ready,
    /// A file is downloading: bytes so far, total when known, bytes per second.
    Download {
        file: String,
        loaded: u64,
        total: Option<u64>,
        speed: f64,
        from_cache: bool,
    },
    Status {
        text: String,
    },
    /// Something the user should know that is not an error (e.g. the CPU fallback).
    Notice {
        text: String,
    },
    Loaded {
        info: ModelInfo,
    },
    /// One message per pair; empty when all are valid.
    Validated {
        errors: Vec<Option<String>>,
    },
    Progress {
        fraction: f64,
        stage: Stage,
        prompt: usize,
        n_prompts: usize,
        elapsed: f64,
    },
    /// The study's results; the page writes `results.json` from them. Sent when a method has
    /// finished every prompt while others still run (`finished: false`: the page shows them and
    /// goes on waiting), and at the end (or on a cancel).
    Results {
        results: Box<gradpatch_study::Results>,
        finished: bool,
    },
    Cache {
        files: Vec<CachedFile>,
    },
    /// A failure during an operation; the page keeps its state.
    Error {
        during: Operation,
        message: String,
    },
    /// The WebGPU device was lost (GPU process crash, driver reset) or failed during a run (a
    /// read-back error: `RunError::Device`): the page restarts the worker on the CPU. (A loss is
    /// posted by web/worker_loader.js, which watches `GPUDevice.lost`; a failure by the worker.)
    GpuLost {
        message: String,
    },
    /// The worker panicked, trapped or ran out of memory: the page restarts it (on the CPU when
    /// it was on WebGPU), except after running out of memory.
    Crashed {
        message: String,
        out_of_memory: bool,
    },
}

#[cfg(test)]
mod tests {
    use gradpatch_terms::{Baseline, Corruption, Method, Quadrature};

    use super::*;

    /// The options reach the worker as the page sent them (serde, as the message travels).
    #[test]
    fn a_run_request_carries_the_options_there_and_back() {
        let requests = [
            RunRequest {
                prompts: Prompts::default(),
                options: StudyOptions::default(),
            },
            RunRequest {
                prompts: Prompts::Ioi {
                    n: 3,
                    seed: 7,
                    corrupt: Corruption::Abc,
                },
                options: StudyOptions {
                    methods: StudyOptions::default().methods.with(Method::Ap, false),
                    ig_steps: 7,
                    ig_method: Quadrature::RiemannLeft,
                    ig_baseline: Baseline::Corrupted,
                    percentile: 0.8,
                    positions: false,
                    ..StudyOptions::default()
                },
            },
            RunRequest {
                prompts: Prompts::Custom(vec![PromptPair {
                    clean: "a".into(),
                    corrupted: "b".into(),
                    correct: " c".into(),
                    incorrect: " d".into(),
                }]),
                options: StudyOptions::default(),
            },
        ];
        for request in requests {
            let message = ToWorker::Run {
                request: request.clone(),
            };
            let text = serde_json::to_string(&message).unwrap_or_default();
            let back: Result<ToWorker, _> = serde_json::from_str(&text);
            assert_eq!(back.ok(), Some(message), "{text}");
        }
    }
}
