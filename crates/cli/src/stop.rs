//! SIGTERM and SIGINT stop a run between two steps instead of killing it: the prompts finished
//! so far are written (`complete: false`), atomically, and the process exits 143 or 130. In a
//! container the CLI is PID 1, which the kernel gives no default handler: without this a pod
//! ignores `kubectl delete` until its grace period ends and it is killed mid-write.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The signal that asked to stop (0: none).
#[derive(Clone, Default)]
pub struct StopFlag(Arc<AtomicUsize>);

impl StopFlag {
    /// Installs the handlers; a second signal of either kind still stops the process at once.
    pub fn install() -> StopFlag {
        let flag = StopFlag::default();
        #[cfg(unix)]
        {
            let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                // The shutdown first: the first signal finds it unarmed, then arms it; a second
                // one ends the process at once (exit 128 + signal).
                let _ =
                    signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, armed.clone());
                let _ = signal_hook::flag::register(sig, armed.clone());
                let _ = signal_hook::flag::register_usize(sig, flag.0.clone(), sig as usize);
            }
        }
        flag
    }

    /// The signal received, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            s => i32::try_from(s).ok(),
        }
    }
}

/// `SIGTERM`, `SIGINT`.
pub fn name(sig: i32) -> String {
    #[cfg(unix)]
    {
        if sig == signal_hook::consts::SIGTERM {
            return "SIGTERM".into();
        }
        if sig == signal_hook::consts::SIGINT {
            return "SIGINT".into();
        }
    }
    format!("signal {sig}")
}
