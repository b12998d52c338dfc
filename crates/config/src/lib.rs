//! The page's whole state — model, task, method options and the current view — as a URL query
//! (kept in the address's fragment, see [`address`]).
//!
//! Reading a query never fails: an unknown key or a bad value is ignored (the default stays)
//! and reported as a [`Warning`] for the page to show. Writing gives the shortest query that
//! restores the state (defaults are left out), so `parse(&write(s)) == s`.

mod address;
mod keys;
mod model_url;
mod pairs_param;
mod preset;
mod query;
mod results_link;
mod warning;

pub use address::{LINK_WARN_BYTES, LongLink, address, state_part};
pub use keys::Move;
pub use model_url::{ModelUrl, UrlError};
pub use pairs_param::{
    Dropped, MAX_FIELD_CHARS, MAX_PAIRS, PairsError, ParsedPairs, pairs_text, parse_pairs,
};
pub use preset::{PinnedFile, Preset, pinned};
pub use query::{decode_component, encode_component};
pub use results_link::{LinkError, ResultsLink};
pub use warning::{ParamError, Warning};

use gradpatch_terms::{Backend, Component, Method, MethodPair, Prompts, StudyOptions};

/// Where the weights come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// A checkpoint from Hugging Face, pinned by revision, size and SHA-256.
    Preset(Preset),
    /// The small model bundled with the page (works offline).
    Bundled,
    /// A base URL holding `model.safetensors`, `tokenizer.json` and optional `config.json`.
    Url(ModelUrl),
}

/// Whether a model's description (a results file's `config.model`) names the pinned GPT-2
/// small: `openai-community/gpt2@<revision>`, alone (what `gradpatch run --model-name`
/// records for the deployed precomputed run) or in the page's label of the preset.
pub fn names_gpt2_small(model: &str) -> bool {
    Preset::named(model) == Some(Preset::Gpt2Small)
}

/// `openai-community/gpt2@<revision>`.
pub fn gpt2_small_name() -> String {
    Preset::Gpt2Small.name()
}

impl ModelChoice {
    /// True for models the page may fetch without asking (presets).
    pub fn is_preset(&self) -> bool {
        !matches!(self, ModelChoice::Url(_))
    }

    /// The Hugging Face preset, if it is one.
    pub fn preset(&self) -> Option<Preset> {
        match self {
            ModelChoice::Preset(p) => Some(*p),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Heads,
    Neurons,
    Scatter,
    Overlap,
    MeanDiff,
    /// One prompt's head scores at each position, per method.
    Positions,
    /// How much of the task each method's top components keep, as more are kept.
    Faithfulness,
    /// The edge methods' top edges as a layered graph.
    Circuit,
    Summary,
    Prompts,
}

impl Tab {
    pub const ALL: [Tab; 10] = [
        Tab::Heads,
        Tab::Neurons,
        Tab::Scatter,
        Tab::Overlap,
        Tab::MeanDiff,
        Tab::Positions,
        Tab::Faithfulness,
        Tab::Circuit,
        Tab::Summary,
        Tab::Prompts,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Tab::Heads => "heads",
            Tab::Neurons => "neurons",
            Tab::Scatter => "scatter",
            Tab::Overlap => "overlap",
            Tab::MeanDiff => "meandiff",
            Tab::Positions => "positions",
            Tab::Faithfulness => "faithfulness",
            Tab::Circuit => "circuit",
            Tab::Summary => "summary",
            Tab::Prompts => "prompts",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::Heads => "Heads",
            Tab::Neurons => "Neurons",
            Tab::Scatter => "Scatter",
            Tab::Overlap => "Top components",
            Tab::MeanDiff => "Mean difference",
            Tab::Positions => "Positions",
            Tab::Faithfulness => "Faithfulness",
            Tab::Circuit => "Circuit",
            Tab::Summary => "Summary",
            Tab::Prompts => "Prompts",
        }
    }
}

/// What is shown: chart tab, one prompt or the mean over prompts, the selected component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub tab: Tab,
    /// The two methods the scatter, overlap and mean-difference tabs compare.
    pub pair: MethodPair,
    /// `None`: the mean over prompts.
    pub prompt: Option<usize>,
    pub selection: Option<Component>,
    /// Outline the circuit's heads in the head heatmaps (`outline=0` hides them).
    pub outlines: bool,
    /// The Circuit tab: the edge method drawn (`None`: EAP-IG when it ran, else EAP) and how
    /// many of its top edges.
    pub graph: GraphView,
}

/// What the Circuit tab draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphView {
    pub method: Option<gradpatch_terms::Method>,
    pub edges: usize,
}

impl GraphView {
    /// Most edges the graph draws.
    pub const MAX_EDGES: usize = 5000;
}

impl Default for GraphView {
    fn default() -> Self {
        Self {
            method: None,
            edges: 50,
        }
    }
}

/// The known circuit the methods are scored against (the scoreboard, the outlines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CircuitChoice {
    /// The bundled IOI circuit when the model is the pinned GPT-2 small, else none.
    #[default]
    Auto,
    /// `circuit=none`.
    Off,
    /// `circuit=ioi-gpt2-small`: the bundled one, whatever the model.
    Bundled,
    /// A circuit file on a server (asked about first when on another site).
    Link(ResultsLink),
}

/// The bundled circuit's name in links.
pub const BUNDLED_CIRCUIT: &str = "ioi-gpt2-small";

/// Everything a permalink holds.
#[derive(Clone, Debug, PartialEq)]
pub struct PageState {
    /// Results to show instead of computing them: the page opens this file and loads no model.
    pub results: Option<ResultsLink>,
    pub model: ModelChoice,
    pub processing: bool,
    pub backend: Backend,
    pub prompts: Prompts,
    pub options: StudyOptions,
    pub circuit: CircuitChoice,
    pub view: View,
}

impl Default for PageState {
    fn default() -> Self {
        Self {
            results: None,
            model: ModelChoice::Preset(Preset::Gpt2Small),
            processing: true,
            backend: Backend::Auto,
            prompts: Prompts::default(),
            options: StudyOptions::default(),
            circuit: CircuitChoice::Auto,
            view: View {
                tab: Tab::Heads,
                pair: MethodPair::default(),
                prompt: None,
                selection: None,
                outlines: true,
                graph: GraphView::default(),
            },
        }
    }
}

/// Bounds the page accepts (IOI prompt count, IG steps).
pub const MAX_PROMPTS: usize = 256;
pub const MAX_STEPS: usize = StudyOptions::MAX_IG_STEPS;

/// The work a shared link may start without a click: on GPT-2 (or a model of unknown size),
/// 8 prompts and 100 IG steps; the bundled model is ~400 times smaller.
const AUTO_RUN_PROMPTS_GPT2: usize = 8;
const AUTO_RUN_STEPS: usize = 100;
const AUTO_RUN_PROMPTS_BUNDLED: usize = 64;

impl PageState {
    /// Whether a link may run this configuration as soon as the model is loaded; above this
    /// bound the page shows the estimate and asks first.
    pub fn auto_run_allowed(&self) -> bool {
        let o = &self.options;
        let steps_ok = !o.methods.has(Method::Ig) || o.ig_steps <= AUTO_RUN_STEPS;
        let prompts = match self.model {
            ModelChoice::Bundled => AUTO_RUN_PROMPTS_BUNDLED,
            ModelChoice::Preset(_) | ModelChoice::Url(_) => AUTO_RUN_PROMPTS_GPT2,
        };
        steps_ok && self.prompts.len() <= prompts
    }

    /// Drops what a link names over plain http (a model, results or a circuit on `localhost`)
    /// when the page itself is not served from this machine (`page_host`): a page on the web
    /// must not make its visitors' browsers fetch from their own machines.
    pub fn fit_origin(&mut self, page_host: &str) -> Vec<Warning> {
        let host = page_host.to_ascii_lowercase();
        if model_url::LOCAL_HOSTS.contains(&host.as_str()) {
            return Vec::new();
        }
        let refused = |u: &ModelUrl| ParamError::Url(UrlError::LocalFromSite(u.host().to_string()));
        let mut warnings = Vec::new();
        if let ModelChoice::Url(u) = &self.model
            && u.is_plain_http()
        {
            warnings.push(Warning::new("model", refused(u)));
            self.model = PageState::default().model;
        }
        if let Some(ResultsLink::Url(u)) = &self.results
            && u.is_plain_http()
        {
            warnings.push(Warning::new("results", refused(u)));
            self.results = None;
        }
        if let CircuitChoice::Link(ResultsLink::Url(u)) = &self.circuit
            && u.is_plain_http()
        {
            warnings.push(Warning::new("circuit", refused(u)));
            self.circuit = CircuitChoice::Auto;
        }
        warnings
    }

    /// Drops a selected component or prompt the loaded model or the results do not have, with a
    /// warning (a link made on another model may name `L11H11` or prompt 40).
    pub fn fit_view(
        &mut self,
        n_layers: usize,
        n_heads: usize,
        d_mlp: usize,
        n_prompts: Option<usize>,
    ) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if let Some(sel) = self.view.selection {
            let (layer, index, width, what) = match sel {
                Component::Head { layer, head } => (layer, head, n_heads, "heads"),
                Component::Neuron { layer, neuron } => (layer, neuron, d_mlp, "neurons"),
            };
            if layer >= n_layers || index >= width {
                warnings.push(Warning::new(
                    "sel",
                    ParamError::NotInModel {
                        selection: sel,
                        layers: n_layers,
                        width,
                        what,
                    },
                ));
                self.view.selection = None;
            }
        }
        if let (Some(p), Some(n)) = (self.view.prompt, n_prompts)
            && p >= n
        {
            warnings.push(Warning::new(
                "prompt",
                ParamError::NoSuchPrompt {
                    prompt: p,
                    prompts: n,
                },
            ));
            self.view.prompt = None;
        }
        warnings
    }

    /// Reads a query string (with or without the leading `?`). Never fails.
    pub fn from_query(query: &str) -> (Self, Vec<Warning>) {
        query::parse(query)
    }

    /// Whether `query` sets the highlight quantile itself (else results opened from a link keep
    /// the file's).
    pub fn query_sets_percentile(query: &str) -> bool {
        query
            .trim_start_matches('?')
            .split('&')
            .any(|kv| kv.split_once('=').map_or(kv, |(k, _)| k) == "pct")
    }

    /// The query string (without `?`) that restores this state.
    pub fn to_query(&self) -> String {
        query::write(self)
    }
}
