//! openraft's log storage on top of the durable segmented log.
//!
//! The newest entries are also kept decoded in memory ([`CACHED_ENTRIES`]):
//! openraft reads entries back right after appending them, to apply and to
//! replicate them. Older entries (a lagging follower, a restart) are read
//! back from disk, so memory does not grow with the log between snapshots.

use crate::flusher::Flusher;
use crate::release::release;
use crate::timeline::{mark, Stage};
use crate::types::{Entry, LogId, TypeConfig, Vote};
use khepri_log::{read_small, write_atomic, LogConfig, SegmentedLog, RETIRED_SUFFIX};
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader};
use std::collections::VecDeque;
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

const VOTE_FILE: &str = "vote";
const COMMITTED_FILE: &str = "committed";
const PURGED_FILE: &str = "purged";

/// How many of the newest entries are kept decoded in memory.
pub const CACHED_ENTRIES: usize = 4096;

/// The log storage. Clones share the same log (openraft asks for a reader).
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
    /// Syncs appends off the append path while `defer_sync` is set; started
    /// the first time it is (a single member never needs the thread).
    flusher: Arc<OnceLock<Flusher>>,
    /// Set while this member leads others (see `flusher`).
    defer_sync: Arc<AtomicBool>,
}

struct Inner {
    dir: PathBuf,
    /// `None` once closed: the directory lock is released with it.
    log: Option<SegmentedLog>,
    /// The newest entries, at most [`CACHED_ENTRIES`], ending at `last`.
    entries: VecDeque<Entry>,
    /// Id of the last entry in the log, if any entry is left after `purged`.
    last: Option<LogId>,
    vote: Option<Vote>,
    committed: Option<LogId>,
    purged: Option<LogId>,
    /// What `open` found, for the member's consistency check.
    recovered: Recovered,
}

/// Indexes of what a log held when it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// First record on disk (records at or below `purged` included).
    pub first: Option<u64>,
    /// Last entry kept.
    pub last: Option<u64>,
    /// Index up to which the log was purged behind a snapshot.
    pub purged: Option<u64>,
    /// The committed index written at the last clean stop (a hint).
    pub committed_hint: Option<u64>,
    /// First record dropped as a torn write, if any.
    pub torn_from: Option<u64>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

fn read_meta<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> io::Result<Option<T>> {
    match read_small(dir, name)? {
        Some(bytes) => rmp_serde::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(&format!("{}", dir.join(name).display()), e)),
        None => Ok(None),
    }
}

/// Removes the segment files a purge took out of the log and had not freed
/// yet when the member stopped. The stopped member's releasing thread may
/// still be removing one (it is not waited for), so a file already gone is
/// not an error.
fn remove_retired(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.to_str().is_some_and(|p| p.ends_with(RETIRED_SUFFIX)) {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

fn write_meta<T: serde::Serialize>(dir: &Path, name: &str, value: &T) -> io::Result<()> {
    let bytes = rmp_serde::to_vec(value).map_err(io::Error::other)?;
    write_atomic(dir, name, &bytes)
}

impl LogStore {
    /// Opens the log in `dir`, recovering what is on disk. Returns the store and
    /// the warnings of recovery (a torn tail that was dropped, for instance).
    pub fn open(dir: &Path, segment_bytes: u64) -> io::Result<(LogStore, Vec<String>)> {
        std::fs::create_dir_all(dir)?;
        remove_retired(dir)?;
        let (log, recovery) = SegmentedLog::open(dir, LogConfig { segment_bytes })
            .map_err(|e| io::Error::other(e.to_string()))?;
        let vote: Option<Vote> = read_meta(dir, VOTE_FILE)?;
        let purged: Option<LogId> = read_meta(dir, PURGED_FILE)?;
        // The committed index is a hint written without fsync; a missing or torn
        // file only means entries are re-committed by the next leader.
        let committed: Option<LogId> = read_meta(dir, COMMITTED_FILE).unwrap_or(None);
        let purged_index = purged.as_ref().map(|l| l.index());
        let mut entries = VecDeque::with_capacity(recovery.records.len());
        for (index, bytes) in recovery.records {
            if purged_index.is_some_and(|p| index <= p) {
                continue;
            }
            let entry: Entry = rmp_serde::from_slice(&bytes)
                .map_err(|e| corrupt(&format!("log entry {index} in {}", dir.display()), e))?;
            if entry.index() != index {
                return Err(corrupt(
                    "log entry",
                    format!("record {index} holds entry {}", entry.index()),
                ));
            }
            if entries.len() == CACHED_ENTRIES {
                entries.pop_front();
            }
            entries.push_back(entry);
        }
        let last = entries.back().map(|e| e.log_id());
        if let (Some(p), Some(first)) = (purged_index, log.first_index()) {
            if first > p + 1 {
                return Err(corrupt(
                    "log",
                    format!("entries resume at {first} after purged index {p}: missing segment"),
                ));
            }
        }
        let committed_hint = committed.as_ref().map(|c| c.index());
        let committed = committed
            .filter(|c| entries.iter().any(|e| e.log_id() == *c) || purged.as_ref() >= Some(c));
        let recovered = Recovered {
            first: log.first_index(),
            last: last.map(|l| l.index()),
            purged: purged_index,
            committed_hint,
            torn_from: recovery.torn_from,
        };
        let inner = Inner {
            dir: dir.to_path_buf(),
            log: Some(log),
            entries,
            last,
            vote,
            committed,
            purged,
            recovered,
        };
        Ok((
            LogStore {
                inner: Arc::new(Mutex::new(inner)),
                flusher: Arc::new(OnceLock::new()),
                defer_sync: Arc::new(AtomicBool::new(false)),
            },
            recovery.warnings,
        ))
    }

    /// Whether appends return before their fdatasync (a leader with
    /// followers) or after it.
    pub fn set_deferred_sync(&self, deferred: bool) {
        if deferred && self.flusher.get().is_none() {
            match Flusher::start() {
                Ok(f) => {
                    let _ = self.flusher.set(f);
                }
                // No thread: keep syncing inline, which is only slower.
                Err(_) => return,
            }
        }
        self.defer_sync.store(deferred, Ordering::Release);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock means a panic mid-update: the in-memory view may be
        // inconsistent, but disk is authoritative and the next restart recovers.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the log held when it was opened.
    pub fn recovered(&self) -> Recovered {
        self.lock().recovered
    }

    /// Index of the last entry, if any.
    pub fn last_index(&self) -> Option<u64> {
        self.lock().last.map(|l| l.index())
    }

    /// Bytes of the records after entry `index` (all of them for `None`):
    /// the log written since a snapshot covering up to `index`.
    pub fn bytes_after(&self, index: Option<u64>) -> u64 {
        self.lock().log.as_ref().map_or(0, |l| l.bytes_after(index))
    }

    /// Bytes the log's segment files take on disk (preallocated space included).
    pub fn disk_bytes(&self) -> u64 {
        self.lock().log.as_ref().map_or(0, |l| l.disk_bytes())
    }

    /// Closes the log files and releases the directory lock, so the same
    /// directory can be opened again while stale handles are still around.
    pub fn close(&self) {
        self.lock().log = None;
    }

    /// Writes the committed index hint to disk (no fsync: it is only a hint).
    /// Does nothing once the log is closed: the directory is no longer ours.
    pub fn flush_committed(&self) -> io::Result<()> {
        let inner = self.lock();
        if inner.log.is_none() {
            return Ok(());
        }
        if let Some(c) = &inner.committed {
            let bytes = rmp_serde::to_vec(c).map_err(io::Error::other)?;
            std::fs::write(inner.dir.join(COMMITTED_FILE), bytes)?;
        }
        Ok(())
    }
}

impl Inner {
    fn log(&mut self) -> io::Result<&mut SegmentedLog> {
        self.log
            .as_mut()
            .ok_or_else(|| io::Error::other("the log is closed"))
    }

    fn read_from_disk(&self, index: u64) -> io::Result<Entry> {
        let log = self
            .log
            .as_ref()
            .ok_or_else(|| io::Error::other("the log is closed"))?;
        let bytes = log
            .read(index)
            .map_err(|e| io::Error::other(e.to_string()))?
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("log entry {index} is missing"),
                )
            })?;
        rmp_serde::from_slice(&bytes).map_err(|e| corrupt(&format!("log entry {index}"), e))
    }

    fn position(&self, index: u64) -> usize {
        match self.entries.front() {
            Some(first) => index.saturating_sub(first.index()) as usize,
            None => 0,
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let inner = self.lock();
        let Some(last) = inner.last.map(|l| l.index()) else {
            return Ok(Vec::new());
        };
        let first_kept = inner.purged.map_or(0, |p| p.index() + 1);
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s + 1,
            Bound::Unbounded => first_kept,
        }
        .max(first_kept);
        let end = match range.end_bound() {
            Bound::Included(&e) => e,
            Bound::Excluded(&e) => e.saturating_sub(1),
            Bound::Unbounded => last,
        }
        .min(last);
        if start > end {
            return Ok(Vec::new());
        }
        let cache_first = inner.entries.front().map_or(u64::MAX, |e| e.index());
        let mut out = Vec::with_capacity((end - start + 1) as usize);
        // Older than the cache: read back from disk. Exclusive of
        // `cache_first`, which may be 0 (a cache holding entry 0).
        for index in start..cache_first.min(end + 1) {
            out.push(inner.read_from_disk(index)?);
        }
        let from = inner
            .position(start.max(cache_first))
            .min(inner.entries.len());
        out.extend(
            inner
                .entries
                .range(from..)
                .take_while(|e| e.index() <= end)
                .cloned(),
        );
        Ok(out)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        Ok(self.lock().vote)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let inner = self.lock();
        let last = inner.last.or(inner.purged);
        Ok(LogState {
            last_purged_log_id: inner.purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        let mut inner = self.lock();
        write_meta(&inner.dir, VOTE_FILE, vote)?;
        inner.vote = Some(*vote);
        Ok(())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        self.lock().committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.lock().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        mark(Stage::LogWrite);
        let entries: Vec<Entry> = entries.into_iter().collect();
        let encoded = entries
            .iter()
            .map(|e| rmp_serde::to_vec(e).map(|b| (e.index(), b)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io::Error::other)?;
        let records: Vec<(u64, &[u8])> = encoded.iter().map(|(i, b)| (*i, b.as_slice())).collect();
        let flusher = self.flusher.get();
        if flusher.is_some_and(Flusher::failed) {
            return Err(io::Error::other("an earlier log sync failed"));
        }
        // Batches already with the flusher are reported first, in order.
        let deferred = flusher.is_some_and(|f| self.defer_sync.load(Ordering::Acquire) || f.busy());
        let mut inner = self.lock();
        // One write and one fdatasync for the whole batch, while openraft keeps
        // queueing the next one: that is where group commit comes from.
        let result = if deferred {
            inner.log()?.append_unsynced(&records)
        } else {
            inner.log()?.append(&records).map(|()| None)
        }
        .map_err(|e| io::Error::other(e.to_string()));
        if result.is_ok() {
            inner.last = entries.last().map(|e| e.log_id()).or(inner.last);
            inner.entries.extend(entries);
            let excess = inner.entries.len().saturating_sub(CACHED_ENTRIES);
            inner.entries.drain(..excess);
        }
        drop(inner);
        mark(Stage::LogWritten);
        // On error openraft stops the store: the callback is not called.
        let unsynced = result?;
        match flusher {
            Some(f) if deferred => f.push(unsynced, callback),
            _ => callback.io_completed(Ok(())),
        }
        Ok(())
    }

    async fn truncate_after(&mut self, last: Option<LogId>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        let from = last.map_or(0, |l| l.index() + 1);
        inner
            .log()?
            .truncate_from(from)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let keep = inner.position(from).min(inner.entries.len());
        inner.entries.truncate(keep);
        let purged = inner.purged;
        inner.last = last.filter(|l| purged.is_none_or(|p| p.index() < l.index()));
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        let mut inner = self.lock();
        // Record the purge point first: after a crash mid-purge, entries below
        // it are ignored rather than taken for a gap.
        write_meta(&inner.dir, PURGED_FILE, &log_id)?;
        let retired = inner
            .log()?
            .retire_upto(log_id.index())
            .map_err(|e| io::Error::other(e.to_string()))?;
        // Freed off the append path, a step at a time (see `release`); a
        // file left by a stop or a crash is removed at the next open.
        if !retired.is_empty() {
            tokio::task::spawn_blocking(move || {
                for path in retired {
                    let _ = release(&path);
                }
            });
        }
        while inner
            .entries
            .front()
            .is_some_and(|e| e.index() <= log_id.index())
        {
            inner.entries.pop_front();
        }
        inner.purged = Some(log_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A restarted member removes leftover retired segments while the
    /// stopped member's thread may still be removing them too.
    #[test]
    fn retired_files_removed_concurrently_are_no_error() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let paths: Vec<PathBuf> = (0..200)
                .map(|i| {
                    dir.path()
                        .join(format!("{round:04}{i:04}.seg{RETIRED_SUFFIX}"))
                })
                .collect();
            for p in &paths {
                std::fs::write(p, b"x").unwrap();
            }
            let other = std::thread::spawn(move || {
                for p in paths.iter().rev() {
                    let _ = std::fs::remove_file(p);
                }
            });
            remove_retired(dir.path()).expect("no error for a file already gone");
            other.join().unwrap();
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }
}
