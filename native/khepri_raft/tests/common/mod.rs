//! Keys and writes shared by the store's integration tests.

use khepri_core::{Bytes, Command, Component, NodeId, Payload, WriteOpts};

/// The path of test key `i`: `[k, <<"i">>]`.
pub fn key(i: u64) -> Vec<NodeId> {
    vec![NodeId::atom("k"), NodeId::binary(i.to_string().as_bytes())]
}

/// A put of key `i` holding `i`'s little-endian bytes.
pub fn put(i: u64) -> Command {
    Command::Put {
        pattern: key(i).into_iter().map(Component::Name).collect(),
        payload: Payload::Data(Bytes::from(i.to_le_bytes().to_vec())),
        opts: WriteOpts::default(),
    }
}
