//! The page's lifecycle as one value: [`Page`] holds the permalink's configuration and the
//! [`Phase`] the page is in (choosing a model, downloading, loading, ready, running, showing
//! results, failed, recovering, viewing a results file), with each phase's data in its variant.
//! [`update`] is the only way it changes: a pure function of the page and an [`Event`] (a click,
//! a message of the worker, a file read) that returns the next page and the [`Effect`]s for the
//! browser to carry out (messages to the worker, a fresh worker, a fetch). The leptos code
//! renders the page and sends events; everything here builds and is tested natively.

mod circuit;
mod event;
mod open;
mod phase;
mod update;
mod worker;

pub use circuit::LoadedCircuit;
pub use event::{Effect, Event};
pub use phase::{
    AfterLoad, Banners, Choice, Download, Load, LoadSource, Phase, ResultsFrom, RunProgress,
    SharedResults,
};
pub use update::update;

use gradpatch_config::{PageState, ResultsLink, Warning};
use gradpatch_protocol::{CachedFile, ModelInfo};

/// The offline model served with the page (trained by `gradpatch train-demo`).
pub const BUNDLED_BASE: &str = "models/ioi-demo/";
pub const BUNDLED_LABEL: &str = "bundled IOI demo model (not GPT-2 small)";

/// Everything the page shows and does.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// What a permalink holds (mirrored into the address).
    pub config: PageState,
    pub phase: Phase,
    pub banners: Banners,
    /// A link names results on another site: the page asks before downloading them.
    pub confirm_results: Option<AskLink>,
    /// A circuit file read from a file or a link (see `circuit.rs`).
    pub circuit: Option<LoadedCircuit>,
    /// A link names a circuit on another site: the page asks before downloading it.
    pub confirm_circuit: Option<AskLink>,
    /// What the Cache API holds.
    pub cache: Vec<CachedFile>,
    /// The tokenizer's verdict on each custom pair (`None`: valid).
    pub validation: Vec<Option<String>>,
    pub worker: WorkerSetup,
    /// The last load asked for: a restarted worker loads the same again.
    pub loaded_from: Option<Load>,
    /// The link set the highlight quantile itself: it applies to a results file it opens (else
    /// the file's own applies).
    pub link_sets_percentile: bool,
    /// The number of the latest results file being opened: an older one that arrives after a
    /// newer was asked for is dropped (see [`crate::Event::Opened`]).
    pub opening: u64,
}

/// A file a link names on another site (results, a circuit), which the page asks about before
/// downloading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskLink {
    pub link: ResultsLink,
    /// The link resolved against the page's address.
    pub url: String,
}

/// What the page knows of its worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerSetup {
    /// WebGPU failed: every worker from now on computes on the CPU.
    pub cpu_forced: bool,
    /// What the current worker was told about the CPU at its first load (it picks its device
    /// once); `None` for a fresh worker that has been sent no model yet.
    pub cpu_only: Option<bool>,
    /// The current worker was started for the CPU (where the page is cross-origin isolated, it
    /// is then the threaded CPU build: web/worker_loader.js).
    pub started_for_cpu: bool,
}

/// How the page starts: from its link.
#[derive(Clone, Debug)]
pub struct Start {
    pub config: PageState,
    pub warnings: Vec<Warning>,
    /// The link had parameters: a shared link, whose comparison runs once its model is loaded
    /// (within the bound of work it may start unasked).
    pub shared_link: bool,
    /// The browser asks to save data: not even the small bundled model loads unasked.
    pub save_data: bool,
    pub link_sets_percentile: bool,
}

impl Page {
    /// The model that is loaded (behind a results file too), if any.
    pub fn model(&self) -> Option<&ModelInfo> {
        self.phase.model()
    }

    /// The results on screen: a run's, or a file's.
    pub fn results(&self) -> Option<&SharedResults> {
        self.phase.results()
    }

    /// Whether a comparison may start now: a model, no run going, a method chosen.
    pub fn can_run(&self) -> bool {
        self.model().is_some()
            && !self.phase.is_running()
            && !self.config.options.methods.is_empty()
    }

    fn cpu_only(&self) -> bool {
        self.worker.cpu_forced || self.config.backend == gradpatch_terms::Backend::Cpu
    }
}
