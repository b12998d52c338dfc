//! The phases of the page and the data each one holds.

use std::fmt;
use std::sync::Arc;

use gradpatch_config::ModelUrl;
use gradpatch_protocol::{ModelInfo, ModelSource, RunRequest};
use gradpatch_study::Results;
use gradpatch_terms::Stage;

/// Results shared between the page's value and its charts; two are the same when they are the
/// same allocation (comparing hundreds of MB of scores at every progress message would not do).
#[derive(Clone, Debug)]
pub struct SharedResults(pub Arc<Results>);

impl SharedResults {
    pub fn new(results: Results) -> Self {
        Self(Arc::new(results))
    }
}

impl PartialEq for SharedResults {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for SharedResults {
    type Target = Results;
    fn deref(&self) -> &Results {
        &self.0
    }
}

/// Where the model of a load comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// The model the configuration names (GPT-2, the bundled model or a URL).
    Named,
    /// The local files picked or dropped (the browser keeps them; a restarted worker gets them
    /// again).
    Local { names: Vec<String> },
}

/// What the page does once a model is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterLoad {
    Nothing,
    /// A shared link's comparison: it runs when within the bound of work a link may start
    /// unasked, else the page asks.
    RunIfAllowed,
    /// A comparison the user started was interrupted by a restart: it runs again, unasked.
    Resume,
}

/// A load the worker was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    pub source: ModelSource,
    pub local: bool,
    pub after: AfterLoad,
}

/// A file arriving.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub file: String,
    pub loaded: u64,
    pub total: Option<u64>,
    pub speed: f64,
    pub from_cache: bool,
}

/// Where a run is.
#[derive(Clone, Debug, PartialEq)]
pub struct RunProgress {
    pub fraction: f64,
    pub stage: Stage,
    pub prompt: usize,
    pub n_prompts: usize,
    pub elapsed: f64,
}

/// Where results on screen came from (the summary names it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResultsFrom {
    Run,
    File(String),
    Link(String),
}

impl fmt::Display for ResultsFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultsFrom::Run => f.write_str("this page's run"),
            ResultsFrom::File(name) => write!(f, "the file {name}"),
            ResultsFrom::Link(url) => write!(f, "the link {url}"),
        }
    }
}

/// Why no model loads before the user says which.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    /// First visit (the named preset not in the cache, or the data saver on): that preset or
    /// the bundled model.
    FirstVisit,
    /// A link names a model on another site: download it?
    ModelUrl(ModelUrl),
}

/// The page's phase.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// No model, nothing loading or asked (a link to results, which need no model).
    Idle,
    /// A preset is named: the worker's cache listing decides between loading it at once (cached)
    /// and asking first.
    CheckingCache {
        after: AfterLoad,
    },
    ChoosingModel {
        choice: Choice,
        after: AfterLoad,
    },
    /// The worker fetches the model's files (`shown`: the results on screen before, which stay).
    Downloading {
        load: Load,
        download: Download,
        shown: Option<SharedResults>,
    },
    /// The worker builds the model (or has not said yet how the download goes).
    Loading {
        load: Load,
        shown: Option<SharedResults>,
    },
    Ready {
        model: ModelInfo,
        /// A link's comparison is more work than it may start unasked: the estimate and a Run
        /// button are shown.
        confirm_run: bool,
    },
    Running {
        model: ModelInfo,
        request: RunRequest,
        progress: Option<RunProgress>,
        /// The results so far (the methods finished), or the previous run's until then.
        shown: Option<SharedResults>,
    },
    /// A run's results (complete or cancelled); the model stays loaded.
    ShowingResults {
        model: ModelInfo,
        results: SharedResults,
    },
    /// The model is gone after a failure the user must act on (a load that failed or was
    /// cancelled, the worker out of memory); results on screen stay.
    Failed {
        results: Option<SharedResults>,
    },
    /// A fresh worker on the CPU after the GPU or the worker failed: it loads the same model
    /// again and resumes an interrupted comparison.
    Recovering {
        load: Load,
        download: Option<Download>,
        shown: Option<SharedResults>,
    },
    /// A results file is shown, with its configuration; the worker's side goes on in `under`,
    /// where closing the file returns.
    ViewingFile {
        results: SharedResults,
        from: ResultsFrom,
        under: Box<Phase>,
    },
}

impl Phase {
    /// The loaded model, if any.
    pub fn model(&self) -> Option<&ModelInfo> {
        match self {
            Phase::Ready { model, .. }
            | Phase::Running { model, .. }
            | Phase::ShowingResults { model, .. } => Some(model),
            Phase::ViewingFile { under, .. } => under.model(),
            Phase::Idle
            | Phase::CheckingCache { .. }
            | Phase::ChoosingModel { .. }
            | Phase::Downloading { .. }
            | Phase::Loading { .. }
            | Phase::Failed { .. }
            | Phase::Recovering { .. } => None,
        }
    }

    /// The results on screen.
    pub fn results(&self) -> Option<&SharedResults> {
        match self {
            Phase::Running { shown, .. }
            | Phase::Downloading { shown, .. }
            | Phase::Loading { shown, .. }
            | Phase::Recovering { shown, .. } => shown.as_ref(),
            Phase::ShowingResults { results, .. } | Phase::ViewingFile { results, .. } => {
                Some(results)
            }
            Phase::Failed { results } => results.as_ref(),
            Phase::Idle
            | Phase::CheckingCache { .. }
            | Phase::ChoosingModel { .. }
            | Phase::Ready { .. } => None,
        }
    }

    /// Where the results on screen came from.
    pub fn results_from(&self) -> Option<ResultsFrom> {
        match self {
            Phase::ViewingFile { from, .. } => Some(from.clone()),
            _ => self.results().map(|_| ResultsFrom::Run),
        }
    }

    /// The phase of the worker's side: under a results file, what goes on there.
    pub fn worker_side(&self) -> &Phase {
        match self {
            Phase::ViewingFile { under, .. } => under.worker_side(),
            other => other,
        }
    }

    /// A model is being fetched or built.
    pub fn is_loading(&self) -> bool {
        matches!(
            self.worker_side(),
            Phase::Downloading { .. } | Phase::Loading { .. } | Phase::Recovering { .. }
        )
    }

    pub fn is_running(&self) -> bool {
        matches!(self.worker_side(), Phase::Running { .. })
    }

    /// The load under way, if any.
    pub fn load(&self) -> Option<&Load> {
        match self.worker_side() {
            Phase::Downloading { load, .. }
            | Phase::Loading { load, .. }
            | Phase::Recovering { load, .. } => Some(load),
            _ => None,
        }
    }

    pub fn download(&self) -> Option<&Download> {
        match self.worker_side() {
            Phase::Downloading { download, .. } => Some(download),
            Phase::Recovering { download, .. } => download.as_ref(),
            _ => None,
        }
    }

    pub fn progress(&self) -> Option<&RunProgress> {
        match self.worker_side() {
            Phase::Running { progress, .. } => progress.as_ref(),
            _ => None,
        }
    }

    /// The question on screen before anything loads, if any.
    pub fn choice(&self) -> Option<&Choice> {
        match self.worker_side() {
            Phase::ChoosingModel { choice, .. } => Some(choice),
            _ => None,
        }
    }

    /// Whether a link's comparison waits for a click.
    pub fn confirm_run(&self) -> bool {
        matches!(
            self.worker_side(),
            Phase::Ready {
                confirm_run: true,
                ..
            }
        )
    }

    /// The phase with a results file shown over it closed: what goes on underneath.
    pub fn without_file(self) -> Phase {
        match self {
            Phase::ViewingFile { under, .. } => under.without_file(),
            other => other,
        }
    }
}

/// What the banners above the page say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Banners {
    /// Link parameters that were not used.
    pub warnings: Vec<String>,
    /// Things the user should know that are not errors (the CPU fallback, a restart).
    pub notices: Vec<String>,
    pub error: Option<String>,
    /// What is going on, in one line.
    pub status: String,
}
