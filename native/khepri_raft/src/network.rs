//! The network between members. A single-member store never uses it; the
//! Erlang-distribution transport replaces this stub when clustering lands.

use crate::types::{TypeConfig, Vote};
use openraft::error::{RPCError, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, OptionalSend, RaftNetworkV2};
use std::io;

/// Network factory for a store without peers.
pub struct NoPeers;

/// A connection that cannot reach anyone.
pub struct NoConnection;

fn unreachable() -> Unreachable<TypeConfig> {
    Unreachable::new(&io::Error::other(
        "this store has no transport to other members",
    ))
}

impl RaftNetworkFactory<TypeConfig> for NoPeers {
    type Network = NoConnection;

    async fn new_client(&mut self, _target: u64, _node: &BasicNode) -> NoConnection {
        NoConnection
    }
}

impl RaftNetworkV2<TypeConfig> for NoConnection {
    type SnapshotData = std::io::Cursor<Vec<u8>>;

    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(unreachable()))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(unreachable()))
    }

    async fn full_snapshot(
        &mut self,
        _vote: Vote,
        _snapshot: openraft::alias::SnapshotOf<TypeConfig, Self::SnapshotData>,
        _cancel: impl std::future::Future<Output = openraft::error::ReplicationClosed>
            + OptionalSend
            + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        Err(StreamingError::Unreachable(unreachable()))
    }
}
