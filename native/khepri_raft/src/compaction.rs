//! When a member snapshots its tree, which lets it purge its log.
//!
//! A snapshot is due:
//! - by size, once the log written since the last snapshot reaches
//!   `log_ratio` times that snapshot's size, and at least `interval` entries
//!   were applied since (openraft asks every `interval` entries). A snapshot
//!   costs O(tree): tying it to the log's size makes each write pay a bounded
//!   share of one, and bounds the log kept on disk by a multiple of the
//!   snapshot (see [`SnapshotRules`]);
//! - by time (SPEC: `snapshot_time_interval` with
//!   `unreleased_command_footprint_threshold`), once `time_interval` has
//!   passed since the last snapshot and the log since it holds at least one
//!   entry and at least `footprint` bytes: a store written slowly does not
//!   keep a long log to replay. A timer task checks it ([`run_timer`]);
//! - on request ([`crate::Store::snapshot`]).
//!
//! openraft purges the log up to a snapshot only once the snapshot is
//! durable (the builder returns after the file, then its directory, are
//! fsynced).

use crate::log_store::LogStore;
use crate::types::Raft;
use openraft::type_config::async_runtime::WatchReceiver;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The rules of [`Compaction`], from the store's `machine_config`.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRules {
    /// Fewest entries applied between two snapshots taken for the log's
    /// size (SPEC `snapshot_interval`).
    pub interval: u64,
    /// A snapshot is due once the log since the last one holds this many
    /// times the last snapshot's bytes. The log then stays within
    /// `log_ratio` x snapshot + what is written while one is built + the
    /// `interval` floor + two segments (the oldest, partly covered by the
    /// snapshot, and the newest, preallocated).
    pub log_ratio: f64,
    /// Bytes of log since the last snapshot below which the time rule does
    /// not fire (SPEC `unreleased_command_footprint_threshold`).
    pub footprint: u64,
    /// Time since the last snapshot after which the time rule fires (SPEC
    /// `snapshot_time_interval`).
    pub time_interval: Duration,
}

impl Default for SnapshotRules {
    /// SPEC's defaults; a log ratio of 2 keeps the log about as long as the
    /// half-the-tree rule it replaced did with RabbitMQ-like payloads.
    fn default() -> Self {
        SnapshotRules {
            interval: 4096,
            log_ratio: 2.0,
            footprint: 20 << 20,
            time_interval: Duration::from_secs(10),
        }
    }
}

/// A snapshot build that completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildReport {
    /// Last log index the snapshot covers.
    pub index: Option<u64>,
    /// Size of the snapshot file.
    pub bytes: u64,
    /// From the builder's creation to the file being durable.
    pub took: Duration,
}

/// Builds started and finished so far, and how the last one ended.
#[derive(Clone, Debug, Default)]
pub struct Builds {
    /// Builds begun (the tree captured).
    pub started: u64,
    /// Builds that ended, well or not.
    pub finished: u64,
    /// The outcome of the last build to end.
    pub last: Option<Result<BuildReport, String>>,
}

impl Builds {
    /// Whether a build is under way.
    pub fn building(&self) -> bool {
        self.started > self.finished
    }
}

/// What the log and the newest snapshot hold now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactionState {
    /// Last index covered by the newest snapshot, if any.
    pub snapshot_index: Option<u64>,
    /// Size of the newest snapshot file (0 without one).
    pub snapshot_bytes: u64,
    /// Bytes of the log records after the snapshot.
    pub log_bytes: u64,
    /// Bytes the log's segment files take on disk.
    pub log_disk_bytes: u64,
    /// Entries applied since the last build began.
    pub entries_since: u64,
}

/// The snapshot rules of one member and the facts they are checked against.
pub struct Compaction {
    rules: SnapshotRules,
    log: LogStore,
    /// Entries applied since the last build began.
    since: AtomicU64,
    /// The newest snapshot on disk: covered index (+1, 0 for none) and size.
    snapshot_next: AtomicU64,
    snapshot_bytes: AtomicU64,
    /// When the newest snapshot was made durable (or the member opened).
    last_at: Mutex<Instant>,
    /// A build was asked for (time rule, or a caller): the next try builds.
    requested: AtomicBool,
    builds: watch::Sender<Builds>,
}

impl Compaction {
    /// The rules for a member whose log is `log` and whose newest snapshot
    /// covers `snapshot` (index, file size).
    pub fn new(rules: SnapshotRules, log: LogStore, snapshot: Option<(Option<u64>, u64)>) -> Self {
        let (index, bytes) = snapshot.unwrap_or((None, 0));
        Compaction {
            rules,
            log,
            since: AtomicU64::new(0),
            snapshot_next: AtomicU64::new(index.map_or(0, |i| i + 1)),
            snapshot_bytes: AtomicU64::new(bytes),
            last_at: Mutex::new(Instant::now()),
            requested: AtomicBool::new(false),
            builds: watch::Sender::new(Builds::default()),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &SnapshotRules {
        &self.rules
    }

    fn snapshot_index(&self) -> Option<u64> {
        self.snapshot_next.load(Ordering::Acquire).checked_sub(1)
    }

    /// `n` more entries were applied.
    pub fn applied(&self, n: u64) {
        self.since.fetch_add(n, Ordering::Relaxed);
    }

    /// Whether a build should start now (openraft asks every `interval`
    /// entries, and when triggered). Consumes a pending request.
    pub fn should_build(&self) -> bool {
        self.requested.swap(false, Ordering::AcqRel) || self.size_due()
    }

    fn size_due(&self) -> bool {
        if self.since.load(Ordering::Relaxed) < self.rules.interval {
            return false;
        }
        let log = self.log.bytes_after(self.snapshot_index()) as f64;
        log >= self.rules.log_ratio * self.snapshot_bytes.load(Ordering::Relaxed) as f64
    }

    /// Whether the time rule asks for a snapshot now.
    pub fn time_due(&self) -> bool {
        let last = *self.last_at.lock().unwrap_or_else(|p| p.into_inner());
        last.elapsed() >= self.rules.time_interval
            && self.since.load(Ordering::Relaxed) > 0
            && !self.builds.borrow().building()
            && self.log.bytes_after(self.snapshot_index()) >= self.rules.footprint
    }

    /// Asks for a build at openraft's next try.
    pub fn request(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// A build begins: the tree is captured now.
    pub fn begin(&self) {
        self.since.store(0, Ordering::Relaxed);
        self.requested.store(false, Ordering::Release);
        self.builds.send_modify(|b| b.started += 1);
    }

    /// A build ended: `Ok` once its snapshot is durable.
    pub fn finish(&self, outcome: Result<BuildReport, String>) {
        if let Ok(report) = &outcome {
            self.stored(report.index, report.bytes);
        }
        self.builds.send_modify(|b| {
            b.finished += 1;
            b.last = Some(outcome);
        });
    }

    /// A snapshot covering `index`, of `bytes`, is now the newest on disk
    /// (built here or installed from the leader).
    pub fn stored(&self, index: Option<u64>, bytes: u64) {
        self.snapshot_bytes.store(bytes, Ordering::Relaxed);
        self.snapshot_next
            .store(index.map_or(0, |i| i + 1), Ordering::Release);
        *self.last_at.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// An installed snapshot replaced the tree: nothing applied since.
    pub fn installed(&self, index: Option<u64>, bytes: u64) {
        self.since.store(0, Ordering::Relaxed);
        self.stored(index, bytes);
    }

    /// Follows builds as they start and end.
    pub fn subscribe(&self) -> watch::Receiver<Builds> {
        self.builds.subscribe()
    }

    /// What the log and the newest snapshot hold now.
    pub fn state(&self) -> CompactionState {
        let index = self.snapshot_index();
        CompactionState {
            snapshot_index: index,
            snapshot_bytes: self.snapshot_bytes.load(Ordering::Relaxed),
            log_bytes: self.log.bytes_after(index),
            log_disk_bytes: self.log.disk_bytes(),
            entries_since: self.since.load(Ordering::Relaxed),
        }
    }
}

/// Builds a snapshot that captures the tree after this call, and returns
/// its report once it is durable; `Err` when it failed, the member stopped
/// or `timeout` passed. A build already under way is waited for, then
/// another one is asked for.
pub async fn build_now(
    raft: &Raft,
    compaction: &Compaction,
    timeout: Duration,
) -> Result<BuildReport, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut builds = compaction.subscribe();
    let want = builds.borrow().started + 1;
    loop {
        let now = builds.borrow_and_update().clone();
        if now.finished >= want {
            return now.last.unwrap_or_else(|| Err("no build".into()));
        }
        if now.started < want {
            // Dropped by openraft while another build runs: asked again
            // each time something changes, and every 100 ms.
            compaction.request();
            raft.trigger()
                .snapshot()
                .await
                .map_err(|e| format!("the store stopped: {e}"))?;
        }
        let wait = deadline.min(tokio::time::Instant::now() + Duration::from_millis(100));
        if let Ok(Err(_)) = tokio::time::timeout_at(wait, builds.changed()).await {
            return Err("the store stopped".into());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err("timeout".into());
        }
    }
}

/// Applies the time rule until the member stops: checks a few times per
/// `time_interval` (at most once a second, at least every 10 ms).
pub async fn run_timer(raft: Raft, compaction: Arc<Compaction>) {
    let tick = (compaction.rules.time_interval / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if raft.metrics().borrow_watched().running_state.is_err() {
            return;
        }
        if compaction.time_due() {
            compaction.request();
            if raft.trigger().snapshot().await.is_err() {
                return;
            }
        }
    }
}
