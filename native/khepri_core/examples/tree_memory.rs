//! Resident memory of a tree of N keys under one parent, each holding the
//! yardstick's payload (`#{name => <<"queue-N">>, vhost => <<"/">>, durable
//! => true, type => classic, seq => N}`, ~90 bytes of ETF), built by
//! applying commands.
//!
//! `cargo run --release --example tree_memory -- [keys]`

use khepri_core::data_match::TermMatcher;
use khepri_core::term::{encode, Term};
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
        let payload = Payload::Data(Bytes::from(encode(&Term::map(vec![
            (
                Term::atom("name"),
                Term::Binary(format!("queue-{i}").into_bytes()),
            ),
            (Term::atom("vhost"), Term::Binary(b"/".to_vec())),
            (Term::atom("durable"), Term::atom("true")),
            (Term::atom("type"), Term::atom("classic")),
            (Term::atom("seq"), Term::Int(i as i64)),
        ]))));
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
