//! What moves the page ([`Event`]) and what the page asks the browser to do ([`Effect`]).

use gradpatch_config::{CircuitChoice, ModelChoice, PageState, ResultsLink};
use gradpatch_protocol::{FromWorker, ToWorker};
use gradpatch_study::{Results, ResultsError};
use gradpatch_terms::PromptPair;

use crate::ResultsFrom;

/// Something that happened: the user did something, the worker said something, or a file the
/// page asked for arrived.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A message of the compute worker.
    Worker(FromWorker),
    /// The form changed the configuration (a control, a model URL typed, a custom pair).
    Configure(PageState),
    /// Load the configuration's model (Load, Retry), or the local files picked or dropped.
    Load {
        local_files: Option<Vec<String>>,
    },
    /// The first-visit choice.
    Choose(ModelChoice),
    /// The error banner's offer: the bundled model instead.
    UseBundled,
    /// The answer to "download this link's model?" (no: the bundled model instead).
    ConfirmModelUrl {
        download: bool,
    },
    /// Run the comparison (the Run button, or the link's Run after its estimate).
    Run,
    /// "Not now" to a link's comparison.
    DismissRun,
    /// Cancel the download or the run.
    Cancel,
    /// Check custom pairs against the loaded tokenizer.
    Validate(Vec<PromptPair>),
    RefreshCache,
    ClearCache,
    /// A link names results: `url` is the link resolved against the page's address.
    ResultsLink {
        link: ResultsLink,
        url: String,
        same_site: bool,
    },
    /// The answer to "download the results on that site?".
    ConfirmResults {
        download: bool,
    },
    /// A results file is being read (a picked or dropped file).
    Reading {
        name: String,
    },
    /// A results file was read: its results, or why it cannot be shown (naming the field that
    /// is wrong).
    Opened {
        from: ResultsFrom,
        results: Result<Box<Results>, ResultsError>,
        /// The open it answers ([`crate::Page::opening`] when it started); `None` for an answer
        /// given at once. An answer to an older open than the latest is dropped.
        ticket: Option<u64>,
    },
    /// A results file could not be read at all (a network error, a file the browser refused).
    OpenFailed {
        from: ResultsFrom,
        message: String,
        ticket: Option<u64>,
    },
    /// Back from a results file to what was there before.
    CloseFile,
    /// A link names a circuit file: `url` is the link resolved against the page's address.
    CircuitLink {
        link: ResultsLink,
        url: String,
        same_site: bool,
    },
    /// The answer to "download the circuit on that site?".
    ConfirmCircuit {
        download: bool,
    },
    /// A circuit file's bytes (picked, dropped or fetched; `link`: fetched for the link), or
    /// why it could not be read.
    CircuitRead {
        from: String,
        bytes: Result<Vec<u8>, String>,
        link: bool,
    },
    /// The circuit chooser (automatic, none, the bundled one).
    ChooseCircuit(CircuitChoice),
}

/// What the page asks the browser to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Post a message to the worker (queued until the worker is ready).
    Send(ToWorker),
    /// Post a load, with the local files the user gave when `local`.
    SendLoad { message: ToWorker, local: bool },
    /// Stop the worker and start a fresh one, for the CPU when `cpu` (the threaded CPU build
    /// where the page is cross-origin isolated), else WebGPU where the browser has it.
    RespawnWorker { cpu: bool },
    /// Download the results at `url` (capped; the answer comes as [`Event::Opened`] or
    /// [`Event::OpenFailed`]).
    FetchResults { url: String, ticket: u64 },
    /// Download the circuit file at `url` (answered by [`Event::CircuitRead`]).
    FetchCircuit { url: String },
}
