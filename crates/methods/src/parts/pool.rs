//! The browser's CPU threads. A threaded build of the worker (shared wasm memory, one Web Worker
//! per thread) registers how to hand a task to its threads ([`set_thread_pool`]); the sweeps then
//! share their parts among them as natively. The calling thread stays free: it collects results
//! between pauses of its event loop, so that progress is posted and a cancel can arrive.
//! Without a pool (the usual build; a page that is not cross-origin isolated) everything runs on
//! the worker's one thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use gradpatch_model::RunError;

use super::{Outcome, Tally};
use crate::Progress;

/// A task for one of the pool's threads.
pub type Task = Box<dyn FnOnce() + Send + 'static>;

/// Threads that run [`Task`]s: how many, and how to hand one over.
pub(crate) struct Pool {
    pub(crate) threads: usize,
    spawn: fn(Task),
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// Registers the page's CPU threads (`threads` of them, each taking the tasks `spawn` hands
/// over). Once per worker: returns `false` (and changes nothing) when a pool is already set.
pub fn set_thread_pool(threads: usize, spawn: fn(Task)) -> bool {
    threads > 1 && POOL.set(Pool { threads, spawn }).is_ok()
}

pub(crate) fn pool() -> Option<&'static Pool> {
    POOL.get()
}

/// What the pool's threads share with the caller for one sweep.
struct Shared<T> {
    next: AtomicUsize,
    stop: AtomicBool,
    running: AtomicUsize,
    finished: Mutex<Vec<(usize, Result<T, RunError>)>>,
}

/// Waits for the threads still running (they borrow the caller's parts and work) before the
/// caller's frame goes: only if the sweep's future is dropped while they run.
struct Join<'a>(&'a AtomicUsize);

impl Drop for Join<'_> {
    fn drop(&mut self) {
        while self.0.load(Ordering::Acquire) != 0 {
            std::hint::spin_loop();
        }
    }
}

/// Runs `work` on every part on `threads` of the pool's threads, the caller collecting results
/// and reporting progress; a cancel or an error starts no further part.
pub(super) async fn run<P: Sync, T: Send>(
    pool: &Pool,
    parts: &[P],
    threads: usize,
    work: &(dyn Fn(&P) -> Result<T, RunError> + Sync),
    weight: &dyn Fn(&P) -> u64,
    progress: &mut dyn Progress,
) -> Result<Outcome<T>, RunError> {
    let shared = Shared {
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        running: AtomicUsize::new(0),
        finished: Mutex::new(Vec::new()),
    };
    let take = || {
        while !shared.stop.load(Ordering::Relaxed) {
            let i = shared.next.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(i) else { break };
            let result = work(part);
            if result.is_err() {
                shared.stop.store(true, Ordering::Relaxed);
            }
            lock(&shared.finished).push((i, result));
        }
        shared.running.fetch_sub(1, Ordering::Release);
    };
    let take: &(dyn Fn() + Sync) = &take;
    // SAFETY: the tasks borrow `shared`, `parts` and `work` from this frame, which outlives
    // them: the loop below returns only once `running` is 0 (every task has ended), and `Join`
    // waits for the same if this future is dropped before.
    let take: &'static (dyn Fn() + Sync) = unsafe { std::mem::transmute(take) };
    let _join = Join(&shared.running);
    for _ in 0..threads.min(pool.threads).min(parts.len()) {
        shared.running.fetch_add(1, Ordering::AcqRel);
        (pool.spawn)(Box::new(take));
    }
    let mut tally = Tally::new(parts, weight);
    loop {
        // Read before collecting, so that nothing a task finished before ending is missed.
        let ended = shared.running.load(Ordering::Acquire) == 0;
        let finished = std::mem::take(&mut *lock(&shared.finished));
        for (i, result) in finished {
            if !tally.record(i, weight(&parts[i]), result, progress) {
                shared.stop.store(true, Ordering::Relaxed);
            }
        }
        if ended {
            break;
        }
        progress.pause().await;
    }
    tally.finish()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    /// Native threads standing in for the browser's Web Workers.
    const POOL: Pool = Pool {
        threads: 3,
        spawn: |task| {
            std::thread::spawn(task);
        },
    };

    fn sweep<T: Send>(
        parts: &[u32],
        work: &(dyn Fn(&u32) -> Result<T, RunError> + Sync),
        progress: &mut dyn Progress,
    ) -> Result<Outcome<T>, RunError> {
        gradpatch_model::block_on(run(&POOL, parts, 3, work, &|_| 1, progress))
    }

    #[test]
    fn every_part_runs_once_and_comes_back_in_order() -> Result<(), RunError> {
        let parts: Vec<u32> = (0..40).collect();
        let calls = AtomicU32::new(0);
        let mut updates = Vec::new();
        let (done, complete) = sweep(
            &parts,
            &|&p| {
                calls.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(u64::from(p % 3)));
                Ok(p * 10)
            },
            &mut |d, t| {
                updates.push((d, t));
                true
            },
        )?;
        assert!(complete);
        assert_eq!(calls.load(Ordering::Relaxed), 40);
        let want: Vec<Option<u32>> = parts.iter().map(|p| Some(p * 10)).collect();
        assert_eq!(done, want);
        assert_eq!(updates.len(), 40);
        assert_eq!(updates.last(), Some(&(40, 40)));
        Ok(())
    }

    #[test]
    fn a_cancel_starts_no_further_part_and_keeps_those_finished() -> Result<(), RunError> {
        let parts: Vec<u32> = (0..200).collect();
        let calls = AtomicU32::new(0);
        let (done, complete) = sweep(
            &parts,
            &|&p| {
                calls.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
                Ok(p)
            },
            &mut |d, _| d < 5,
        )?;
        assert!(!complete);
        let finished = done.iter().flatten().count();
        assert!(finished >= 5, "the parts finished are kept: {finished}");
        // Each thread finishes at most the part it had begun, and those finished before the
        // caller saw them.
        assert!(
            calls.load(Ordering::Relaxed) < 60,
            "{} parts ran",
            calls.load(Ordering::Relaxed)
        );
        for (i, d) in done.iter().enumerate() {
            assert!(d.is_none() || *d == Some(i as u32));
        }
        Ok(())
    }

    #[test]
    fn an_error_is_returned_once_every_thread_has_stopped() {
        let parts: Vec<u32> = (0..100).collect();
        let running = AtomicU32::new(0);
        let result = sweep(
            &parts,
            &|&p| {
                running.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(1));
                running.fetch_sub(1, Ordering::SeqCst);
                if p == 7 {
                    Err(RunError::invalid("test", "part 7 fails"))
                } else {
                    Ok(p)
                }
            },
            &mut |_, _| true,
        );
        assert!(result.is_err());
        assert_eq!(running.load(Ordering::SeqCst), 0, "no part still runs");
    }
}
