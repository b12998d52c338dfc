//! One comparison of attribution methods on a set of prompt pairs, end to end: the runs of each
//! prompt, every method, the statistics of each pair, and the `results.json` / CSV outputs that
//! the CLI writes and the page exports.

pub mod budget;
pub mod csv;
pub mod edges;
pub mod faithfulness;
mod nullable;
mod open;
mod pairs;
mod results;
mod wire;

pub use budget::{Budget, OverBudget};
pub use edges::EdgeResults;
pub use faithfulness::Faithfulness;
pub use open::{MAX_RESULTS_BYTES, ResultsError};
pub use pairs::pair_stats;
pub use results::*;

#[cfg(feature = "engine")]
mod engine;

#[cfg(feature = "engine")]
pub use engine::*;
