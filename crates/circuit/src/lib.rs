//! Known circuits and how well each method's ranking finds them.
//!
//! * `file`: the circuit file format (classes of heads, the position where each acts,
//!   variants, true edges), parsed and checked with messages naming the entry;
//! * `positions`: the IOI positions (END, S1, S2, S1+1, IO) of a prompt pair;
//! * `board`: the scoreboard (ROC AUC, precision and recall at k, per class and variant, and
//!   the per-position AUC) computed from a `results.json`'s head scores;
//! * `edges`: which edges of a model's graph lie on the circuit's true connections.
//!
//! The project bundles the IOI circuit of GPT-2 small ([`ioi_gpt2_small`]).

pub mod board;
mod edges;
mod error;
pub mod file;
pub mod positions;

pub use board::{AtK, MethodBoard, Scoreboard, SetScore, scoreboard};
pub use file::{Circuit, CircuitClass, CircuitError, HeadId, Position, TrueEdge, Variant};
pub use positions::{IoiPositions, Missing};

/// The bundled circuit's name in links (`circuit=ioi-gpt2-small`) and the CLI.
pub const IOI_GPT2_SMALL: &str = "ioi-gpt2-small";

/// The IOI circuit of GPT-2 small (Wang et al. 2022; positions and true edges as ACDC and
/// auto-circuit pin them): `data/ioi-gpt2-small.json`, 26 heads in 7 classes.
pub fn ioi_gpt2_small() -> Result<Circuit, CircuitError> {
    Circuit::parse(include_bytes!("../data/ioi-gpt2-small.json"))
}
