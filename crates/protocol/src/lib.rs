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
    /// Reads the results.json that travels beside the message (a `Blob`), within the page's
    /// budget, off the page's thread; answered by [`FromWorker::Opened`]. The page sends it to
    /// a worker of its own, not to the one holding the model, so a file too big to read costs
    /// nothing the user had.
    OpenResults,
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
    /// Reading a results file (the reading worker's, never the compute worker's).
    Open,
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
            Operation::Open => "open",
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

/// Results crossing between the worker and the page as JSON bytes: a `Uint8Array`, one copy.
/// As a JavaScript object graph (serde-wasm-bindgen, one value per score) they took about half a
/// second per thousand scores in the worker (19 s for 8 prompts of the demo model, 2026-12-04),
/// where writing and reading the JSON takes milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsJson {
    #[serde(with = "serde_bytes")]
    pub json: Vec<u8>,
}

impl ResultsJson {
    pub fn new(results: &gradpatch_study::Results) -> Result<Self, String> {
        serde_json::to_vec(results)
            .map(|json| Self { json })
            .map_err(|e| format!("could not write the results again: {e}"))
    }

    /// The results again (the page's side), checked as a file is.
    pub fn read(&self) -> Result<gradpatch_study::Results, gradpatch_study::ResultsError> {
        gradpatch_study::Results::from_json(&self.json)
    }
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
        results: ResultsJson,
        finished: bool,
    },
    Cache {
        files: Vec<CachedFile>,
    },
    /// The results read for [`ToWorker::OpenResults`], or why they cannot be shown.
    Opened {
        results: Result<ResultsJson, gradpatch_study::ResultsError>,
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

    /// Results cross as JSON and come back with the same scores, a gap (NaN) still a gap;
    /// a message whose bytes are not results says so.
    #[test]
    fn results_cross_as_json_with_their_gaps() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../study/tests/fixtures/results-cli-2026-12.json"
        );
        let bytes = std::fs::read(path).unwrap_or_default();
        let Ok(mut r) = gradpatch_study::Results::from_json(&bytes) else {
            panic!("{path} opens");
        };
        let Some(ig) = r.scores.get_mut(&Method::Ig) else {
            panic!("the fixture has IG scores");
        };
        ig.heads[0][0][1] = f32::NAN;
        let sent = ResultsJson::new(&r).unwrap_or_else(|e| panic!("{e}"));
        let back = sent.read().unwrap_or_else(|e| panic!("{e}"));
        let flat = |r: &gradpatch_study::Results| -> Vec<u32> {
            r.scores
                .values()
                .flat_map(|s| s.heads.iter().chain(&s.neurons).flatten().flatten())
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(flat(&back), flat(&r), "every score, bit for bit");
        assert_eq!(back.prompts, r.prompts);
        let garbled = ResultsJson {
            json: b"{\"prompts\": 3}".to_vec(),
        };
        assert!(garbled.read().is_err());
    }

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
