//! The page's whole state — model, task, method options and the current view — as a URL query.
//!
//! Reading a query never fails: an unknown key or a bad value is ignored (the default stays)
//! and reported as a [`Warning`] for the page to show. Writing gives the shortest query that
//! restores the state (defaults are left out), so `parse(&write(s)) == s`.

mod options;
mod quadrature;
mod query;
mod selection;

pub use options::{Baseline, Direction, Processing};
pub use quadrature::{Quadrature, leggauss};
pub use query::{decode_component, encode_component, pairs_text, parse_pairs};
pub use selection::{Move, Selection};

use std::fmt;

/// Where the weights come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// GPT-2 small from Hugging Face (`openai-community/gpt2`).
    Gpt2,
    /// The small model bundled with the page (works offline).
    Bundled,
    /// A base URL holding `model.safetensors`, `tokenizer.json` and optional `config.json`.
    Url(String),
}

pub const HF_GPT2_BASE: &str = "https://huggingface.co/openai-community/gpt2/resolve/main/";

impl ModelChoice {
    /// True for models the page may fetch without asking (presets).
    pub fn is_preset(&self) -> bool {
        !matches!(self, ModelChoice::Url(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corrupt {
    Aba,
    Abc,
}

/// One user-written prompt pair, as typed (validated later against the tokenizer).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PairText {
    pub clean: String,
    pub corrupted: String,
    pub correct: String,
    pub incorrect: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Task {
    Ioi {
        n: usize,
        seed: u64,
        corrupt: Corrupt,
    },
    Custom(Vec<PairText>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Heads,
    Neurons,
    Scatter,
    Overlap,
    MeanDiff,
    Summary,
    Prompts,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Heads,
        Tab::Neurons,
        Tab::Scatter,
        Tab::Overlap,
        Tab::MeanDiff,
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
            Tab::Summary => "summary",
            Tab::Prompts => "prompts",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::Heads => "Heads",
            Tab::Neurons => "Neurons",
            Tab::Scatter => "IG vs AP",
            Tab::Overlap => "Top components",
            Tab::MeanDiff => "Mean difference",
            Tab::Summary => "Summary",
            Tab::Prompts => "Prompts",
        }
    }
}

/// What is shown: chart tab, one prompt or the mean over prompts, the selected component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub tab: Tab,
    /// `None`: the mean over prompts.
    pub prompt: Option<usize>,
    pub selection: Option<Selection>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// WebGPU when the browser has it, else the CPU.
    Auto,
    Cpu,
}

/// Everything a permalink holds.
#[derive(Clone, Debug, PartialEq)]
pub struct PageState {
    pub model: ModelChoice,
    pub processing: bool,
    pub backend: Backend,
    pub task: Task,
    pub run_ig: bool,
    pub run_ap: bool,
    pub ig_steps: usize,
    /// `gausslegendre`, `riemann_left`, `riemann_right`, `riemann_middle`, `riemann_trapezoid`.
    pub ig_method: String,
    /// `zero` or `corrupted`.
    pub ig_baseline: String,
    /// `noising` or `denoising`.
    pub ap_direction: String,
    /// Highlight threshold as a quantile of |score|, in (0, 1).
    pub percentile: f64,
    pub view: View,
}

impl Default for PageState {
    fn default() -> Self {
        Self {
            model: ModelChoice::Gpt2,
            processing: true,
            backend: Backend::Auto,
            task: Task::Ioi {
                n: 8,
                seed: 0,
                corrupt: Corrupt::Aba,
            },
            run_ig: true,
            run_ap: true,
            ig_steps: 50,
            ig_method: "gausslegendre".into(),
            ig_baseline: "zero".into(),
            ap_direction: "noising".into(),
            percentile: 0.9,
            view: View {
                tab: Tab::Heads,
                prompt: None,
                selection: None,
            },
        }
    }
}

pub const QUADRATURES: [&str; 5] = [
    "gausslegendre",
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
];
pub const BASELINES: [&str; 2] = ["zero", "corrupted"];
pub const DIRECTIONS: [&str; 2] = ["noising", "denoising"];
/// Bounds the page accepts (IOI prompt count, IG steps).
pub const MAX_PROMPTS: usize = 256;
pub const MAX_STEPS: usize = 1000;

/// A parameter of the link that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link parameter `{}` ignored: {}", self.key, self.message)
    }
}

impl PageState {
    /// Reads a query string (with or without the leading `?`). Never fails.
    pub fn from_query(query: &str) -> (Self, Vec<Warning>) {
        query::parse(query)
    }

    /// The query string (without `?`) that restores this state.
    pub fn to_query(&self) -> String {
        query::write(self)
    }
}
