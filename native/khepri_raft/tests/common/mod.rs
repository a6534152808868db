//! Keys and writes shared by the store's integration tests.

use khepri_core::{Bytes, Command, Component, NodeId, Payload, WriteOpts};
use khepri_raft::{CallbackResponder, Store};
use tokio::sync::oneshot;

/// The path of test key `i`: `[k, <<"i">>]`.
pub fn key(i: u64) -> Vec<NodeId> {
    vec![NodeId::atom("k"), NodeId::binary(i.to_string().as_bytes())]
}

/// A put of key `i` holding `i`'s little-endian bytes.
// Not every test binary writes these.
#[allow(dead_code)]
pub fn put(i: u64) -> Command {
    Command::Put {
        pattern: key(i).into_iter().map(Component::Name).collect(),
        payload: Payload::Data(Bytes::from(i.to_le_bytes().to_vec())),
        opts: WriteOpts::default(),
    }
}

/// Submits every command at once (so they batch) and waits for all replies.
// Each test binary compiles this module; not all of them write in batches.
#[allow(dead_code)]
pub async fn write_all(store: &Store, commands: Vec<Command>) {
    let mut waits = Vec::new();
    for c in commands {
        let (tx, rx) = oneshot::channel();
        let responder = CallbackResponder::new(move |outcome| {
            let _ = tx.send(outcome);
        });
        assert!(store.submit(c, responder).is_ok());
        waits.push(rx);
    }
    for rx in waits {
        let outcome = rx.await.expect("answered");
        let reply = outcome
            .expect("not dropped")
            .expect("applied by the leader");
        assert!(reply.data.is_ok());
    }
}
