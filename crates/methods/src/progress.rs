//! Progress and cancellation. The caller owns the clock (wasm has no `Instant`): it is told how
//! much of the work is done and answers whether to go on.

/// Receives `(done, total)` in work units; returns `false` to cancel. A cancelled method returns
/// what it finished (the rest is NaN) and says it is incomplete.
pub trait Progress {
    fn update(&mut self, done: u64, total: u64) -> bool;
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
