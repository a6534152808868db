//! Resident memory of a tree of N keys under one parent, each holding a
//! ~100-byte payload (the yardstick's shape), built by applying commands.
//!
//! `cargo run --release --example tree_memory -- [keys]`

use khepri_core::data_match::TermMatcher;
use khepri_core::{Bytes, Command, Component, NodeId, Payload, Tree, WriteOpts};

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let before = rss();
    let mut tree = Tree::new();
    for i in 0..n {
        let pattern = vec![
            Component::Name(NodeId::atom("bench")),
            Component::Name(NodeId::binary(format!("k{i}").as_bytes())),
        ];
        let payload = Payload::Data(Bytes::from(vec![7u8; 100]));
        let _ = Command::Put {
            pattern,
            payload,
            opts: WriteOpts::default(),
        }
        .apply(&mut tree, &TermMatcher, i + 1);
    }
    let after = rss();
    println!(
        "{n} keys: {:.1} bytes/key of RSS (node id {} B, node {} B)",
        (after - before) as f64 / n as f64,
        std::mem::size_of::<NodeId>(),
        std::mem::size_of::<khepri_core::Node>()
    );
}
