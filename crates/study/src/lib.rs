//! One comparison of IG and AP on a set of prompt pairs, end to end: the runs of each prompt,
//! both methods, the statistics, and the `results.json` / CSV outputs that the CLI writes and the
//! page exports.

pub mod csv;
mod nullable;
mod open;
mod pairs;
mod results;

pub use open::MAX_RESULTS_BYTES;
pub use pairs::pair_stats;
pub use results::*;

#[cfg(feature = "engine")]
mod engine;

#[cfg(feature = "engine")]
pub use engine::*;
