//! The process-wide tokio runtime that runs every store of this VM.

use std::sync::OnceLock;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, started on first use with one worker per core (at least two,
/// so that a blocking fdatasync on one worker never stalls Raft's core task).
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("khepri-engine")
            .enable_all()
            .build()
            .expect("cannot start the khepri engine runtime")
    })
}
