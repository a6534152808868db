//! A member whose files were damaged refuses to start with an error naming
//! the file (and the offset, for the log), rather than serving a tree that
//! misses acknowledged writes: a damaged record before the end of the log,
//! a missing or damaged snapshot, a missing segment.

mod common;

use common::{put, write_all};
use khepri_raft::{Store, StoreConfig};
use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SEGMENT_BYTES: u64 = 16 * 1024;

fn config(dir: &Path, snapshot_interval: u64) -> StoreConfig {
    let mut cfg = StoreConfig::new(dir.to_path_buf(), "test@localhost".into());
    cfg.snapshots.interval = snapshot_interval;
    cfg.segment_bytes = SEGMENT_BYTES;
    cfg.open_timeout = Duration::from_secs(20);
    cfg
}

/// Writes `n` keys to a new member in `dir` and stops it.
async fn populate(dir: &Path, snapshot_interval: u64, n: u64) {
    let store = Store::open(config(dir, snapshot_interval))
        .await
        .expect("store opens")
        .0;
    write_all(&store, (0..n).map(put).collect()).await;
    if snapshot_interval < n {
        // Waits (with a deadline) for the snapshot policy to have run.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while store.snapshot_index().is_none() {
            assert!(tokio::time::Instant::now() < deadline, "no snapshot");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    store.shutdown().await;
}

/// The error of opening the member in `dir`, which must fail.
async fn open_error(dir: &Path) -> String {
    match Store::open(config(dir, 100_000)).await {
        Ok((store, _)) => {
            store.shutdown().await;
            panic!("a damaged member started")
        }
        Err(e) => e.to_string(),
    }
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

fn flip(path: &Path, offset: u64) {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, offset).unwrap();
    f.write_all_at(&[b[0] ^ 0x10], offset).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_record_before_the_end_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 100_000, 300).await;
    let segs = segments(dir.path());
    assert!(segs.len() >= 2, "{segs:?}");
    // In the last segment, a few records before its end: the first frame
    // starts right after the 32-byte header; its payload is damaged.
    let tail = segs.last().unwrap();
    flip(tail, 32 + 16 + 5);
    let err = open_error(dir.path()).await;
    assert!(err.contains(&tail.display().to_string()), "{err}");
    assert!(err.contains("at offset 32"), "{err}");
    assert!(err.contains("checksum"), "{err}");
    // The same in an earlier segment.
    flip(tail, 32 + 16 + 5);
    flip(&segs[0], 32 + 16 + 5);
    let err = open_error(dir.path()).await;
    assert!(err.contains(&segs[0].display().to_string()), "{err}");
    assert!(err.contains("at offset 32"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_segment_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 100_000, 400).await;
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "{segs:?}");
    let saved = fs::read(&segs[1]).unwrap();
    fs::remove_file(&segs[1]).unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains(&segs[2].display().to_string()), "{err}");
    assert!(err.contains("missing"), "{err}");
    fs::write(&segs[1], saved).unwrap();
    // The last one: the segment before it is marked as followed.
    let last = segs.last().unwrap();
    let before = &segs[segs.len() - 2];
    let saved = fs::read(last).unwrap();
    fs::remove_file(last).unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains(&before.display().to_string()), "{err}");
    assert!(err.contains(&last.display().to_string()), "{err}");
    assert!(err.contains("at offset 28"), "{err}");
    // Without the mark (a log written before it existed), the committed
    // index of the clean stop is not held.
    let saved_before = fs::read(before).unwrap();
    let mut unmarked = saved_before.clone();
    unmarked[28..32].fill(0);
    fs::write(before, unmarked).unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains("no torn write was found"), "{err}");
    assert!(err.contains("is missing"), "{err}");
    fs::write(before, saved_before).unwrap();
    fs::write(last, saved).unwrap();
    // The first one, with no snapshot to cover it.
    fs::remove_file(&segs[0]).unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains("holding entries 0 to"), "{err}");
    assert!(err.contains("no snapshot"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_snapshot_behind_a_purged_log_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 50, 400).await;
    let snap = dir.path().join("snapshot").join("snapshot");
    fs::remove_file(&snap).unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains(&snap.display().to_string()), "{err}");
    assert!(err.contains("is missing"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_snapshot_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 50, 400).await;
    let snap = dir.path().join("snapshot").join("snapshot");
    let len = fs::metadata(&snap).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&snap)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains(&snap.display().to_string()), "{err}");
    assert!(err.contains("offset"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_vote_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 100_000, 10).await;
    let vote = dir.path().join("log").join("vote");
    fs::write(&vote, b"\xc1 not messagepack").unwrap();
    let err = open_error(dir.path()).await;
    assert!(err.contains(&vote.display().to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpurged_log_needs_no_snapshot() {
    // Nothing was ever purged: the log alone rebuilds the tree.
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 100_000, 100).await;
    let (store, warnings) = Store::open(config(dir.path(), 100_000)).await.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(store.tree().find(&common::key(99)).is_ok());
    store.shutdown().await;
}
