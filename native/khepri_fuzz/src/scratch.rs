//! Scratch directories for targets that need real files: on tmpfs when the
//! machine has one, so the log's fsyncs cost nothing and wear no disk.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory path unique to this call (not created): targets of several
/// test threads in one process must not share one.
pub fn dir(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let shm = PathBuf::from("/dev/shm");
    let base = if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    };
    base.join(format!("khepri-fuzz-{}-{name}-{n}", std::process::id()))
}
