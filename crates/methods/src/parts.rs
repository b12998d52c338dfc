//! A sweep as a list of independent parts (a layer's heads, a batch of neurons…), run one after
//! the other (a GPU, a browser without threads) or, on the CPU, shared among threads (natively,
//! or the threaded browser worker's pool): the CPU backend runs its element-wise work on one
//! thread, so a single computation leaves cores idle.

use std::future::Future;

use gradpatch_model::RunError;

use crate::Progress;

// Natively only its tests use it (native sweeps use `std::thread`).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) mod pool;

/// What a sweep of parts produced: each part's result in order (`None` where a cancel came
/// first), and whether every part ran.
pub(crate) type Outcome<T> = (Vec<Option<T>>, bool);

/// What the threaded sweeps (native threads, the browser's pool) keep of the parts that come
/// back, in any order: each part's result, the work units done (progress), whether a cancel
/// came, and the first error.
pub(crate) struct Tally<T> {
    done: Vec<Option<T>>,
    total: u64,
    units: u64,
    complete: bool,
    error: Option<RunError>,
}

impl<T> Tally<T> {
    pub(crate) fn new<P>(parts: &[P], weight: &dyn Fn(&P) -> u64) -> Self {
        Self {
            done: std::iter::repeat_with(|| None).take(parts.len()).collect(),
            total: parts.iter().map(weight).sum(),
            units: 0,
            complete: true,
            error: None,
        }
    }

    /// Records part `i`'s result (reporting progress for a success); returns whether further
    /// parts should start (no cancel, no error so far).
    pub(crate) fn record(
        &mut self,
        i: usize,
        weight: u64,
        result: Result<T, RunError>,
        progress: &mut dyn Progress,
    ) -> bool {
        match result {
            Ok(value) => {
                self.done[i] = Some(value);
                self.units += weight;
                if self.complete && !progress.update(self.units, self.total) {
                    self.complete = false;
                }
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self.complete && self.error.is_none()
    }

    /// The sweep's outcome: the first error, else every part's result and whether all ran.
    pub(crate) fn finish(self) -> Result<Outcome<T>, RunError> {
        match self.error {
            Some(e) => Err(e),
            None => {
                let complete = self.complete && self.done.iter().all(Option::is_some);
                Ok((self.done, complete))
            }
        }
    }
}

/// The threads a sweep should use on a CPU backend here: the machine's cores natively; in wasm,
/// the threads of the pool the worker registered ([`pool::set_thread_pool`]), else 1.
pub fn cpu_threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    return std::thread::available_parallelism().map_or(1, |n| n.get());
    #[cfg(target_arch = "wasm32")]
    return pool::pool().map_or(1, |p| p.threads);
}

/// Runs `work` on every part: on `threads` threads when more than one (natively; in wasm, on the
/// registered pool's), else in order.
/// Progress advances by `weight(part)` units per finished part; a cancel starts no further part
/// (those under way on other threads finish and are kept).
pub(crate) async fn run<P, T, W, F>(
    parts: &[P],
    threads: usize,
    work: W,
    weight: impl Fn(&P) -> u64,
    progress: &mut dyn Progress,
) -> Result<Outcome<T>, RunError>
where
    P: Sync,
    T: Send,
    W: Fn(&P) -> F + Sync,
    F: Future<Output = Result<T, RunError>>,
{
    #[cfg(not(target_arch = "wasm32"))]
    if threads > 1 {
        let work = |p: &P| gradpatch_model::block_on(work(p));
        return threaded::run(parts, threads, &work, &weight, progress);
    }
    #[cfg(target_arch = "wasm32")]
    if let Some(pool) = pool::pool().filter(|_| threads > 1) {
        let work = |p: &P| gradpatch_model::block_on(work(p));
        return pool::run(pool, parts, threads, &work, &weight, progress).await;
    }
    let total: u64 = parts.iter().map(&weight).sum();
    let mut done = Vec::with_capacity(parts.len());
    let mut units = 0;
    for part in parts {
        done.push(Some(work(part).await?));
        units += weight(part);
        if !progress.update(units, total) {
            done.resize_with(parts.len(), || None);
            return Ok((done, false));
        }
        progress.pause().await;
    }
    Ok((done, true))
}

#[cfg(not(target_arch = "wasm32"))]
mod threaded {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{self, SyncSender};

    use super::*;

    type Report<T> = (usize, Result<T, RunError>, SyncSender<bool>);

    pub(super) fn run<P: Sync, T: Send>(
        parts: &[P],
        threads: usize,
        work: &(dyn Fn(&P) -> Result<T, RunError> + Sync),
        weight: &dyn Fn(&P) -> u64,
        progress: &mut dyn Progress,
    ) -> Result<Outcome<T>, RunError> {
        let next = AtomicUsize::new(0);
        // A worker reports each part and waits for the answer before taking another, so that
        // after a cancel or an error no part starts.
        let (tx, rx) = mpsc::channel::<Report<T>>();
        let mut tally = Tally::new(parts, weight);
        std::thread::scope(|s| {
            for _ in 0..threads.min(parts.len()) {
                let tx = tx.clone();
                let next = &next;
                s.spawn(move || {
                    let (answer_tx, answer_rx) = mpsc::sync_channel(1);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(part) = parts.get(i) else { break };
                        if tx.send((i, work(part), answer_tx.clone())).is_err()
                            || answer_rx.recv() != Ok(true)
                        {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (i, result, answer) in rx {
                let go_on = tally.record(i, weight(&parts[i]), result, progress);
                // A worker told to stop has already gone on to exit: nothing to do on failure.
                let _ = answer.send(go_on);
            }
        });
        tally.finish()
    }
}
