//! Snapshots and log compaction on a real member, without the BEAM: under a
//! steady write load the log's disk use stays within the configured multiple
//! of the snapshot; the time rule snapshots a store written slowly; a
//! snapshot asked for covers what was applied before the call.

mod common;

use common::{key, write_all};
use khepri_core::{Bytes, Command, Component, Payload, WriteOpts};
use khepri_raft::{SnapshotRules, Store, StoreConfig};
use std::path::Path;
use std::time::Duration;

const SEGMENT: u64 = 128 * 1024;

async fn open(dir: &Path, rules: SnapshotRules) -> Store {
    let mut cfg = StoreConfig::new(dir.to_path_buf(), "test@localhost".into());
    cfg.snapshots = rules;
    cfg.segment_bytes = SEGMENT;
    cfg.open_timeout = Duration::from_secs(20);
    Store::open(cfg).await.expect("store opens").0
}

/// A put of key `i` with a 100-byte payload of generation `g`.
fn put(i: u64, g: u64) -> Command {
    Command::Put {
        pattern: key(i).into_iter().map(Component::Name).collect(),
        payload: Payload::Data(Bytes::from(vec![g as u8; 100])),
        opts: WriteOpts::default(),
    }
}

/// Bytes the files of `dir` take (not recursive).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.map(|e| e.unwrap().metadata().unwrap().len()).sum()
    })
}

/// An upper bound on the log record of one `put` below (checked).
const ENTRY: u64 = 256;

/// Overwrites 2,000 keys 30 times (the log written is ~40 times what the
/// bound lets through): after each round the log's segment files must take
/// at most `log_ratio` times the snapshot file, plus two segments (the
/// oldest, partly covered by the snapshot, and the newest, preallocated),
/// one `interval` of entries (openraft asks for a snapshot every
/// `interval`) and what a round writes while a build may be under way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stays_within_its_multiple_of_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let rules = SnapshotRules {
        interval: 200,
        log_ratio: 1.5,
        time_interval: Duration::MAX,
        ..SnapshotRules::default()
    };
    let store = open(dir.path(), rules.clone()).await;
    let (log, snap) = (dir.path().join("log"), dir.path().join("snapshot"));
    let keys = 2_000;
    write_all(&store, (0..100).map(|i| put(i, 0)).collect()).await;
    let first = store.compaction_state();
    assert!(first.log_bytes <= 103 * ENTRY, "{first:?}");
    let slack = 2 * SEGMENT + (rules.interval + keys) * ENTRY;
    let mut worst: f64 = 0.0;
    for g in 1..=30 {
        for chunk in (0..keys).step_by(250) {
            write_all(&store, (chunk..chunk + 250).map(|i| put(i, g)).collect()).await;
        }
        let snapshot = dir_bytes(&snap);
        let on_disk = dir_bytes(&log);
        let bound = rules.log_ratio * snapshot as f64 + slack as f64;
        assert!(
            (on_disk as f64) <= bound,
            "round {g}: log {on_disk} bytes on disk, snapshot {snapshot}: over {bound}"
        );
        if snapshot > 0 {
            worst = worst.max(on_disk as f64 / snapshot as f64);
        }
    }
    let written = 30 * keys * (first.log_bytes / 100);
    let builds = store.snapshot_builds();
    assert!(builds >= 10, "only {builds} snapshots");
    let state = store.compaction_state();
    assert!(
        written as f64 > 5.0 * (rules.log_ratio * state.snapshot_bytes as f64 + slack as f64),
        "the load must be able to break the bound: {state:?}"
    );
    println!("{builds} snapshots; worst log on disk / snapshot: {worst:.2}");
    store.shutdown().await;
}

/// A store written slowly, far below the size rule, still snapshots once
/// `time_interval` passes, and only once something was applied since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_rule_snapshots_a_slowly_written_store() {
    let dir = tempfile::tempdir().unwrap();
    let rules = SnapshotRules {
        interval: 1_000_000,
        footprint: 0,
        time_interval: Duration::from_millis(200),
        ..SnapshotRules::default()
    };
    let store = open(dir.path(), rules).await;
    write_all(&store, (0..10).map(|i| put(i, 1)).collect()).await;
    let index = store.applied_index();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.snapshot_index() < Some(index) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Nothing applied since: no more builds, however long it waits.
    let builds = store.snapshot_builds();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(store.snapshot_builds(), builds);
    assert_eq!(store.compaction_state().log_bytes, 0);
    store.shutdown().await;
}

/// Below the footprint threshold the time rule waits; the size rule does
/// not fire before `interval` entries either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_rule_waits_for_its_footprint() {
    let dir = tempfile::tempdir().unwrap();
    let rules = SnapshotRules {
        interval: 1_000_000,
        footprint: 1 << 20,
        time_interval: Duration::from_millis(50),
        ..SnapshotRules::default()
    };
    let store = open(dir.path(), rules).await;
    write_all(&store, (0..10).map(|i| put(i, 1)).collect()).await;
    let wrote = store.compaction_state().log_bytes;
    assert!(wrote > 0 && wrote < 1 << 20, "{wrote}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.snapshot_builds(), 0);
    // Past the footprint, the next check snapshots.
    for chunk in (0..12_000).step_by(500) {
        write_all(&store, (chunk..chunk + 500).map(|i| put(i, 2)).collect()).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.snapshot_builds() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    store.shutdown().await;
}

/// Rules under which a member never snapshots by itself.
fn on_demand_only() -> SnapshotRules {
    SnapshotRules {
        interval: 1_000_000,
        time_interval: Duration::MAX,
        ..SnapshotRules::default()
    }
}

/// `snapshot` covers everything applied before the call, even with rules
/// that would never snapshot, and the log behind it is purged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_on_demand_covers_what_was_applied() {
    let dir = tempfile::tempdir().unwrap();
    let rules = on_demand_only();
    let store = open(dir.path(), rules.clone()).await;
    write_all(&store, (0..3_000).map(|i| put(i, 1)).collect()).await;
    let index = store.applied_index();
    let report = store.snapshot(Duration::from_secs(20)).await.unwrap();
    assert!(report.index >= Some(index), "{report:?} before {index}");
    assert_eq!(
        report.bytes,
        std::fs::metadata(dir.path().join("snapshot").join("snapshot"))
            .unwrap()
            .len()
    );
    // openraft purges right after the build.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.compaction_state().log_disk_bytes > SEGMENT {
        assert!(tokio::time::Instant::now() < deadline, "not purged in time");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    store.shutdown().await;
    drop(store);
    // Recovery starts from that snapshot.
    let store = open(dir.path(), rules).await;
    assert!(store.snapshot_index() >= Some(index));
    for i in [0, 1_500, 2_999] {
        assert!(store.tree().find(&key(i)).is_ok(), "key {i}");
    }
    store.shutdown().await;
}

/// A snapshot file left unfinished by a crash (before its rename) is not
/// the snapshot: the store starts from the last one and removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_snapshot_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let rules = on_demand_only();
    let store = open(dir.path(), rules.clone()).await;
    write_all(&store, (0..500).map(|i| put(i, 1)).collect()).await;
    let report = store.snapshot(Duration::from_secs(20)).await.unwrap();
    write_all(&store, (500..600).map(|i| put(i, 1)).collect()).await;
    store.shutdown().await;
    drop(store);
    let tmp = dir.path().join("snapshot").join("snapshot.tmp");
    std::fs::write(&tmp, vec![0x5a; 10_000]).unwrap();
    let mut cfg = StoreConfig::new(dir.path().to_path_buf(), "test@localhost".into());
    cfg.snapshots = rules;
    cfg.segment_bytes = SEGMENT;
    let (store, warnings) = Store::open(cfg).await.expect("store opens");
    assert!(
        warnings.iter().any(|w| w.contains("snapshot.tmp")),
        "{warnings:?}"
    );
    assert!(!tmp.exists());
    assert_eq!(store.snapshot_index(), report.index);
    for i in [0, 499, 599] {
        assert!(store.tree().find(&key(i)).is_ok(), "key {i}");
    }
    store.shutdown().await;
}
