//! The threaded CPU build's threads: Web Workers that web/worker_loader.js starts, each running
//! this same wasm module on the worker's shared memory (web/thread_loader.js) and taking tasks
//! from one queue. The sweeps hand them their parts through `gradpatch_methods`' thread pool.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, OnceLock, PoisonError};

use gradpatch_methods::Task;
use js_sys::{Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The queue between the worker and its threads. Whichever side comes first makes it: a thread
/// may start before the worker asks for threads.
fn queue() -> &'static (Sender<Task>, Mutex<Receiver<Task>>) {
    static QUEUE: OnceLock<(Sender<Task>, Mutex<Receiver<Task>>)> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        (tx, Mutex::new(rx))
    })
}

fn spawn(task: Task) {
    // The receiver lives as long as the program: a send cannot fail.
    let _ = queue().0.send(task);
}

/// One thread's life: runs tasks as they come (blocking between them, which a Web Worker may).
pub fn thread_main() {
    let tasks = &queue().1;
    loop {
        let task = tasks.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match task {
            Ok(task) => task(),
            Err(_) => return,
        }
    }
}

/// Waits for the threads web/worker_loader.js started (`self.__gradpatchThreads`, a promise of
/// their number) and registers them with the sweeps. Returns how many, or why there are none.
pub async fn start() -> Result<usize, String> {
    let started = Reflect::get(&js_sys::global(), &"__gradpatchThreads".into())
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or("the worker's loader started no threads")?;
    let n = JsFuture::from(started)
        .await
        .map_err(|e| {
            e.as_string()
                .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| e.message().into()))
                .unwrap_or_else(|| format!("{e:?}"))
        })?
        .as_f64()
        .filter(|n| *n >= 1.0)
        .ok_or("the worker's loader reported no threads")? as usize;
    if n > 1 && !gradpatch_methods::set_thread_pool(n, spawn) {
        return Ok(gradpatch_methods::cpu_threads());
    }
    Ok(n)
}
