//! The process-wide tokio runtime that runs every store of this VM.

use std::sync::OnceLock;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, started on first use with a single worker thread.
///
/// One worker is deliberate. The log's fdatasync runs inside openraft's
/// `append` and blocks its worker; with two workers the core, state machine
/// and proposer tasks then hop between threads, and each hop wakes a parked
/// thread: `examples/write_latency.rs` measured a sequential durable put at
/// fdatasync + ~70 us with two workers against fdatasync + 2-30 us with one,
/// while 100 concurrent writers reached the same throughput (~105k/s): writes
/// that queue up during an fdatasync go into the next append together.
/// Snapshots are built on the blocking pool, not on the worker.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("khepri-engine")
            .enable_all()
            .build()
            .expect("cannot start the khepri engine runtime")
    })
}
