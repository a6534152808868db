//! The store member end to end, without the BEAM: writes go through openraft
//! and the durable log, survive restarts, and snapshots plus log purges keep
//! recovery exact.

mod common;

use common::{key, put, write_all};
use khepri_core::{Bytes, Command, Component, Payload, WriteOpts};
use khepri_raft::{Store, StoreConfig};
use std::path::Path;
use std::time::Duration;

async fn open(dir: &Path, snapshot_interval: u64) -> Store {
    let mut cfg = StoreConfig::new(dir.to_path_buf(), "test@localhost".into());
    cfg.snapshots.interval = snapshot_interval;
    cfg.segment_bytes = 64 * 1024;
    cfg.open_timeout = Duration::from_secs(20);
    Store::open(cfg).await.expect("store opens").0
}

/// Waits (with a deadline) until a snapshot covering `index` is on disk.
async fn wait_for_snapshot(store: &Store, index: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.snapshot_index() < Some(index) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn check(store: &Store, range: std::ops::Range<u64>) {
    let tree = store.tree();
    for i in range {
        let node = tree
            .find(&key(i))
            .unwrap_or_else(|e| panic!("key {i}: {e:?}"));
        assert_eq!(
            node.payload(),
            Payload::Data(Bytes::from(i.to_le_bytes().to_vec()))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 100_000).await;
    write_all(&store, (0..500).map(put).collect()).await;
    check(&store, 0..500);
    store.shutdown().await;
    drop(store);
    let store = open(dir.path(), 100_000).await;
    check(&store, 0..500);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_and_purges_keep_recovery_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 50).await;
    for chunk in 0..20u64 {
        write_all(&store, (chunk * 50..chunk * 50 + 50).map(put).collect()).await;
    }
    let deletes = (0..100).map(|i| Command::Delete {
        pattern: key(i).into_iter().map(Component::Name).collect(),
        opts: WriteOpts::default(),
    });
    write_all(&store, deletes.collect()).await;
    // A snapshot was taken and the log was purged behind it.
    wait_for_snapshot(&store, 500).await;
    assert!(dir.path().join("snapshot").join("snapshot").exists());
    store.shutdown().await;
    drop(store);
    let store = open(dir.path(), 50).await;
    check(&store, 100..1000);
    assert!(store.tree().find(&key(5)).is_err());
    // and it goes on after recovery
    write_all(&store, (1000..1100).map(put).collect()).await;
    check(&store, 100..1100);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_refuses_to_start_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 20).await;
    write_all(&store, (0..200).map(put).collect()).await;
    wait_for_snapshot(&store, 100).await;
    store.shutdown().await;
    drop(store);
    let snap = dir.path().join("snapshot").join("snapshot");
    let mut bytes = std::fs::read(&snap).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&snap, bytes).unwrap();
    let mut cfg = StoreConfig::new(dir.path().to_path_buf(), "test@localhost".into());
    cfg.segment_bytes = 64 * 1024;
    let err = Store::open(cfg)
        .await
        .err()
        .expect("refuses to start")
        .to_string();
    assert!(err.contains("snapshot"), "{err}");
    assert!(err.contains("checksum"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_older_than_the_cache_are_read_back_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let n = khepri_raft::log_store::CACHED_ENTRIES as u64 * 2 + 100;
    let store = open(dir.path(), 1_000_000).await;
    for chunk in (0..n).step_by(500) {
        write_all(&store, (chunk..(chunk + 500).min(n)).map(put).collect()).await;
    }
    store.shutdown().await;
    drop(store);
    // No snapshot: recovery replays the whole log, most of it from disk.
    let store = open(dir.path(), 1_000_000).await;
    assert_eq!(store.snapshot_index(), None);
    check(&store, 0..n);
    store.shutdown().await;
}

/// A stopped member leaves its directory alone: a second shutdown (the NIF
/// resource's destructor after an explicit stop) and a snapshot build still
/// running must not write into a directory that was removed meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_store_writes_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("member");
    // A snapshot is due after every 10 entries, so builds are often in flight.
    let store = open(&path, 10).await;
    write_all(&store, (0..200).map(put).collect()).await;
    store.shutdown().await;
    // Empty the directories as `rm -r` does, files first.
    let files = |d: &Path| -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for sub in ["log", "snapshot"] {
            if let Ok(entries) = std::fs::read_dir(d.join(sub)) {
                out.extend(entries.map(|e| e.unwrap().path()));
            }
        }
        out
    };
    for f in files(&path) {
        std::fs::remove_file(f).unwrap();
    }
    store.shutdown().await;
    drop(store);
    assert_eq!(files(&path), Vec::<std::path::PathBuf>::new());
}
