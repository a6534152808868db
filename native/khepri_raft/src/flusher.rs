//! The leader's log flush, off the append path.
//!
//! A leader with followers replicates an entry as soon as `append` returns
//! (openraft's `broadcast_submitted_on_append`), so its own fdatasync can run
//! while the entry travels to the followers and is synced there: a
//! replicated write costs about one fdatasync plus a round trip instead of
//! two fdatasyncs plus the round trip. The sync runs on this thread; the
//! entries count as the leader's own (toward the quorum) only once it is done.
//!
//! A single member has no one to overlap with: handing the sync to a thread
//! would only add a wake-up (measured ~100 us on 2 cores), so it syncs inline.

use crate::timeline::{mark, Stage};
use crate::types::TypeConfig;
use openraft::storage::IOFlushed;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// An appended batch: the segment file to sync (`None`: durable already,
/// but reported in order after the batches before it).
type Flush = (Option<File>, IOFlushed<TypeConfig>);

/// Appended batches waiting for their sync, oldest first.
#[derive(Default)]
struct Queue {
    pending: Vec<Flush>,
    closed: bool,
}

/// Syncs appended batches on its own thread and reports them flushed.
pub struct Flusher {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    /// Set when a sync failed: what is on disk is unknown, so the log takes
    /// no more appends (openraft stops on the reported error).
    failed: Arc<AtomicBool>,
    /// Batches pushed and not yet reported: while any is, later batches go
    /// through here too, so openraft learns of flushes in order.
    in_flight: Arc<AtomicUsize>,
}

impl Flusher {
    /// Starts the flush thread.
    pub fn start() -> io::Result<Flusher> {
        let queue = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
        let failed = Arc::new(AtomicBool::new(false));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (q, f, n) = (queue.clone(), failed.clone(), in_flight.clone());
        std::thread::Builder::new()
            .name("khepri-flush".into())
            .spawn(move || run(&q, &f, &n))?;
        Ok(Flusher {
            queue,
            failed,
            in_flight,
        })
    }

    /// Queues the sync of `file` (the tail segment holding the batch, or
    /// `None` when it is durable already); `flushed` is called once the
    /// batch is durable and every batch pushed before it was reported.
    pub fn push(&self, file: Option<File>, flushed: IOFlushed<TypeConfig>) {
        let (lock, wake) = &*self.queue;
        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
        if q.closed {
            drop(q);
            flushed.io_completed(Err(io::Error::other("the log is closed")));
            return;
        }
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        q.pending.push((file, flushed));
        wake.notify_one();
    }

    /// True while pushed batches have not all been reported.
    pub fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// True once a sync has failed.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        let (lock, wake) = &*self.queue;
        lock.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        wake.notify_one();
    }
}

fn run(queue: &(Mutex<Queue>, Condvar), failed: &AtomicBool, in_flight: &AtomicUsize) {
    let (lock, wake) = queue;
    loop {
        let batch = {
            let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
            while q.pending.is_empty() && !q.closed {
                q = wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.pending.is_empty() {
                return;
            }
            std::mem::take(&mut q.pending)
        };
        // One sync of the newest file covers the whole group: every batch
        // was written to that segment or to an earlier one, which was synced
        // before a later segment was created.
        let newest = batch.iter().rev().find_map(|(file, _)| file.as_ref());
        let result = if failed.load(Ordering::Acquire) {
            Err(io::Error::other("an earlier log sync failed"))
        } else {
            newest.map_or(Ok(()), File::sync_data)
        };
        mark(Stage::FlusherSynced);
        if result.is_err() {
            failed.store(true, Ordering::Release);
        }
        let count = batch.len();
        for (_, flushed) in batch {
            flushed.io_completed(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            });
        }
        in_flight.fetch_sub(count, Ordering::AcqRel);
    }
}
