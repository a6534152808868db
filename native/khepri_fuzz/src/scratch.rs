//! Scratch directories for targets that need real files: on tmpfs when the
//! machine has one, so the log's fsyncs cost nothing and wear no disk.

use std::path::PathBuf;

/// A directory path unique to this process and `name` (not created).
pub fn dir(name: &str) -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    let base = if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    };
    base.join(format!("khepri-fuzz-{}-{name}", std::process::id()))
}
