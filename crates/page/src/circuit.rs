//! The known circuit the methods are scored against: the bundled IOI circuit of GPT-2 small
//! (by default when the model is the pinned GPT-2 small), a circuit file picked or dropped, or
//! one a link names (`circuit=…`, asked about first when on another site); `circuit=none`
//! turns it off. A file that cannot be read is refused with a message naming the entry, and
//! the circuit in use stays as it was.

use std::sync::{Arc, OnceLock};

use gradpatch_circuit::{Circuit, ioi_gpt2_small};
use gradpatch_config::{CircuitChoice, Preset, ResultsLink, names_gpt2_small};

use crate::{AskLink, Effect, Page, Phase};

/// A circuit the page has read, and where from (for the summary).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedCircuit {
    pub circuit: Arc<Circuit>,
    pub from: String,
}

/// The bundled IOI circuit, parsed once (the views ask for the circuit in use at every redraw).
fn bundled() -> Option<LoadedCircuit> {
    static BUNDLED: OnceLock<Option<LoadedCircuit>> = OnceLock::new();
    BUNDLED
        .get_or_init(|| {
            ioi_gpt2_small().ok().map(|c| LoadedCircuit {
                circuit: Arc::new(c),
                from: "the bundled IOI circuit of GPT-2 small (Wang et al. 2022)".into(),
            })
        })
        .clone()
}

impl Page {
    /// Whether the model of what is on screen (a results file's, or the configuration's) is the
    /// pinned GPT-2 small.
    pub fn model_is_gpt2_small(&self) -> bool {
        match &self.phase {
            Phase::ViewingFile { results, .. } => names_gpt2_small(&results.config.model),
            _ => self.config.model.preset() == Some(Preset::Gpt2Small),
        }
    }

    /// The circuit in use, if any: what the configuration chooses, a file read replacing the
    /// default.
    pub fn active_circuit(&self) -> Option<LoadedCircuit> {
        match &self.config.circuit {
            CircuitChoice::Off => None,
            CircuitChoice::Bundled => bundled(),
            CircuitChoice::Link(_) => self.circuit.clone(),
            CircuitChoice::Auto => match &self.circuit {
                Some(c) => Some(c.clone()),
                None if self.model_is_gpt2_small() => bundled(),
                None => None,
            },
        }
    }

    /// A link names a circuit file: fetched at once from the page's site, after a question
    /// from another.
    pub(crate) fn circuit_link(
        &mut self,
        link: ResultsLink,
        url: String,
        same_site: bool,
        effects: &mut Vec<Effect>,
    ) {
        if same_site {
            effects.push(Effect::FetchCircuit { url });
        } else {
            self.confirm_circuit = Some(AskLink { link, url });
        }
    }

    pub(crate) fn confirm_circuit(&mut self, download: bool, effects: &mut Vec<Effect>) {
        match (download, self.confirm_circuit.take()) {
            (true, Some(ask)) => effects.push(Effect::FetchCircuit { url: ask.url }),
            _ => self.config.circuit = CircuitChoice::Auto,
        }
    }

    /// A circuit file's bytes arrived (or could not be read): in use when it parses, else an
    /// error naming what is wrong, with the circuit in use unchanged.
    pub(crate) fn circuit_read(
        &mut self,
        from: String,
        bytes: Result<Vec<u8>, String>,
        link: bool,
    ) {
        let parsed = bytes.and_then(|b| Circuit::parse(&b).map_err(|e| e.to_string()));
        match parsed {
            Ok(circuit) => {
                self.banners.status = format!(
                    "Scoring the methods against the circuit of {from} ({} heads in {} classes).",
                    circuit.size(),
                    circuit.classes.len()
                );
                self.circuit = Some(LoadedCircuit {
                    circuit: Arc::new(circuit),
                    from,
                });
                if !link {
                    // A file cannot be named by the address: its circuit replaces the default.
                    self.config.circuit = CircuitChoice::Auto;
                }
            }
            Err(e) => {
                self.banners.error = Some(format!("Circuit file {from}: {e}"));
                if link {
                    self.config.circuit = CircuitChoice::Auto;
                }
            }
        }
    }

    /// The circuit chooser: `choice` in the configuration; leaving a file's circuit forgets it.
    pub(crate) fn choose_circuit(&mut self, choice: CircuitChoice) {
        if !matches!(choice, CircuitChoice::Auto) {
            self.circuit = None;
        }
        self.config.circuit = choice;
    }
}
