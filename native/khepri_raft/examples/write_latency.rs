//! Sequential durable writes through the store, timed without the BEAM, beside
//! a raw pwrite+fdatasync probe on the same disk: the difference is the
//! engine's own overhead per write.
//!
//! `cargo run --release --example write_latency -- [writes]`

use khepri_core::{Bytes, Command, Component, NodeId, Payload, WriteOpts};
use khepri_raft::{CallbackResponder, Store, StoreConfig};
use std::os::unix::fs::FileExt;
use std::time::Instant;

fn percentile(mut v: Vec<u128>, p: f64) -> u128 {
    v.sort_unstable();
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let dir = std::env::temp_dir().join(format!("khepri-write-latency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let probe = std::fs::File::create(dir.join("probe")).unwrap();
    let block = vec![7u8; 4096];
    probe.write_all_at(&block, 0).unwrap();
    probe.sync_data().unwrap();
    let fsync: Vec<u128> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            probe.write_all_at(&block, 0).unwrap();
            probe.sync_data().unwrap();
            t.elapsed().as_micros()
        })
        .collect();

    let rt = khepri_raft::runtime::runtime();
    let store = rt
        .block_on(Store::open(StoreConfig::new(
            dir.join("store"),
            "bench@localhost".into(),
        )))
        .unwrap()
        .0;
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let (tx, rx) = std::sync::mpsc::channel();
        let cmd = Command::Put {
            pattern: vec![
                Component::Name(NodeId::atom("k")),
                Component::Name(NodeId::binary(i.to_string().as_bytes())),
            ],
            payload: Payload::Data(Bytes::from(vec![1u8; 100])),
            opts: WriteOpts::default(),
        };
        let t = Instant::now();
        let _ = store.submit(
            cmd,
            CallbackResponder::new(move |o| tx.send(o.is_some()).unwrap()),
        );
        assert!(rx.recv().unwrap());
        lat.push(t.elapsed().as_micros());
    }
    println!(
        "fdatasync p50 {} us p99 {} us | put p50 {} us p99 {} us ({} writes)",
        percentile(fsync.clone(), 0.5),
        percentile(fsync, 0.99),
        percentile(lat.clone(), 0.5),
        percentile(lat, 0.99),
        n
    );
    rt.block_on(store.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}
