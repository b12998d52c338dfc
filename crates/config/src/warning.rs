//! What the page says about a link parameter it did not use.

use std::fmt;

use gradpatch_terms::{Component, UnknownName};

use crate::{Dropped, LinkError, PairsError, Tab, UrlError};

/// A parameter of the link that was not used, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub key: String,
    pub message: ParamError,
}

impl Warning {
    pub fn new(key: &str, message: ParamError) -> Self {
        Self {
            key: key.to_string(),
            message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link parameter `{}` ignored: {}", self.key, self.message)
    }
}

/// Why a link parameter was not used (in full or in part).
#[derive(Clone, Debug, PartialEq)]
pub enum ParamError {
    Unknown,
    NotUtf8,
    Flag,
    Number {
        what: &'static str,
        lo: String,
        hi: String,
    },
    Name(UnknownName),
    Model,
    Url(UrlError),
    Results(LinkError),
    Circuit(LinkError),
    Task,
    Pairs(PairsError),
    /// Some custom pairs were left out.
    Dropped(Vec<Dropped>),
    CustomWithoutPairs,
    Percentile,
    Faith,
    GraphMethod,
    Tab,
    Selection,
    /// The selected component is not in the model or the results.
    NotInModel {
        selection: Component,
        layers: usize,
        width: usize,
        what: &'static str,
    },
    /// The prompt is not in the results.
    NoSuchPrompt {
        prompt: usize,
        prompts: usize,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Unknown => f.write_str("unknown parameter"),
            ParamError::NotUtf8 => f.write_str("the value is not valid percent-encoded UTF-8"),
            ParamError::Flag => f.write_str("expected 1 or 0"),
            ParamError::Number { what, lo, hi } => write!(f, "expected {what} from {lo} to {hi}"),
            ParamError::Name(e) => e.fmt(f),
            ParamError::Model => {
                f.write_str("expected gpt2, distilgpt2, gpt2-medium, bundled or an https:// URL")
            }
            ParamError::Url(e) => e.fmt(f),
            ParamError::Results(e) => e.fmt(f),
            ParamError::Circuit(e) => write!(f, "{e}, `none` or `ioi-gpt2-small`"),
            ParamError::Task => f.write_str("expected ioi or custom"),
            ParamError::Pairs(e) => e.fmt(f),
            ParamError::Dropped(lines) => {
                let texts: Vec<String> = lines.iter().map(ToString::to_string).collect();
                f.write_str(&texts.join("; "))
            }
            ParamError::CustomWithoutPairs => {
                f.write_str("custom needs `pairs`; using IOI prompts")
            }
            ParamError::Percentile => f.write_str("expected a quantile between 0 and 1, e.g. 0.9"),
            ParamError::Faith => f.write_str("expected 1 (ranking by |score|), signed or 0"),
            ParamError::GraphMethod => f.write_str("expected an edge method: eap or eapig"),
            ParamError::Tab => {
                let keys: Vec<&str> = Tab::ALL.iter().map(|t| t.key()).collect();
                write!(f, "expected one of {}", keys.join(", "))
            }
            ParamError::Selection => {
                f.write_str("expected a head like L9H6 or a neuron like L0N42")
            }
            ParamError::NotInModel {
                selection,
                layers,
                width,
                what,
            } => write!(
                f,
                "{selection} is not in this model ({layers} layers of {width} {what})"
            ),
            ParamError::NoSuchPrompt { prompt, prompts } => write!(
                f,
                "prompt {prompt} does not exist (the results have {prompts} prompts, 0 to {})",
                prompts.saturating_sub(1)
            ),
        }
    }
}
