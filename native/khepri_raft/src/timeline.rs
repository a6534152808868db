//! Timestamps of the stages a replicated write passes on every member, to
//! see where its latency goes (`bench/timeline.sh` runs a 3-member cluster
//! with one writer and prints the median time between stages).
//!
//! Built in only with the `timeline` feature; otherwise [`mark`] is empty
//! and compiles to nothing. With the feature, marks are kept only when the
//! environment variable `KHEPRI_TIMELINE_DIR` names a directory: a thread
//! appends them every 200 ms to `<dir>/<OS pid>.txt`, one
//! `stage nanoseconds` line each. The clock is `CLOCK_MONOTONIC`, which all
//! processes of a machine share, so the files of the members line up.

/// A point on a write's path. The numbers are the file's stage codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// A write's NIF call (the writer's node).
    Submitted = 1,
    /// The write handed to openraft.
    Proposed = 2,
    /// A log append starts (any member).
    LogWrite = 3,
    /// A log append returns: written, and synced unless the flusher does it.
    LogWritten = 4,
    /// The flusher's fdatasync returned (a leader with followers).
    FlusherSynced = 5,
    /// AppendEntries handed to the store process, to go to a follower.
    AppendSent = 6,
    /// An answer from another member handed to the engine.
    AnswerIn = 7,
    /// The writer's answer sent.
    Answered = 8,
    /// AppendEntries from the leader handed to the engine (a follower).
    AppendIn = 11,
    /// Its task starts running.
    AppendRuns = 12,
    /// openraft answered it.
    AppendDone = 13,
    /// The answer handed to the store process.
    AppendOut = 14,
}

/// Records that `stage` is reached now (only with the `timeline` feature).
#[inline(always)]
pub fn mark(stage: Stage) {
    #[cfg(feature = "timeline")]
    on::mark(stage);
    #[cfg(not(feature = "timeline"))]
    let _ = stage;
}

#[cfg(feature = "timeline")]
mod on {
    use super::Stage;
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::{Mutex, OnceLock};
    use std::time::Duration;

    /// Marks not written yet; bounded so a forgotten run cannot eat memory.
    static MARKS: Mutex<Vec<(u8, u64)>> = Mutex::new(Vec::new());
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    const MAX_PENDING: usize = 1 << 20;

    fn now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec to write into.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    pub fn mark(stage: Stage) {
        let at = now_ns();
        let dir = DIR.get_or_init(|| {
            let dir = std::env::var_os("KHEPRI_TIMELINE_DIR").map(PathBuf::from)?;
            let file = dir.join(format!("{}.txt", std::process::id()));
            std::thread::Builder::new()
                .name("khepri-timeline".into())
                .spawn(move || write_out(&file))
                .ok()?;
            Some(dir)
        });
        if dir.is_some() {
            let mut marks = MARKS.lock().unwrap_or_else(|p| p.into_inner());
            if marks.len() < MAX_PENDING {
                marks.push((stage as u8, at));
            }
        }
    }

    fn write_out(file: &PathBuf) {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let marks = std::mem::take(&mut *MARKS.lock().unwrap_or_else(|p| p.into_inner()));
            if marks.is_empty() {
                continue;
            }
            let text: String = marks.iter().map(|(s, t)| format!("{s} {t}\n")).collect();
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            if written.is_err() {
                return;
            }
        }
    }
}
