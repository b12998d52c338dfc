//! Progress and cancellation. The caller owns the clock (wasm has no `Instant`): it is told how
//! much of the work is done and answers whether to go on.

use std::future::Future;
use std::pin::Pin;

/// What [`Progress::pause`] returns.
pub type Pause<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Receives `(done, total)` in work units; returns `false` to cancel. A cancelled method returns
/// what it finished (the rest is NaN) and says it is incomplete.
pub trait Progress {
    fn update(&mut self, done: u64, total: u64) -> bool;

    /// Awaited by the async methods after each update: a browser worker returns a future that
    /// lets its event loop run (so a cancel message can arrive). Natively nothing to do.
    fn pause(&mut self) -> Pause<'_> {
        Box::pin(std::future::ready(()))
    }
}

/// Runs to completion silently.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&mut self, _: u64, _: u64) -> bool {
        true
    }
}

impl<F: FnMut(u64, u64) -> bool> Progress for F {
    fn update(&mut self, done: u64, total: u64) -> bool {
        self(done, total)
    }
}
