//! openraft's network over the [`Transport`]: each RPC is encoded with
//! MessagePack and carried by Erlang distribution (see `transport`).
//!
//! Snapshots go in chunks of [`SNAPSHOT_CHUNK`] bytes, one call each, so a
//! large snapshot never holds the distribution channel (and the heartbeats
//! behind it) for long.

use crate::coalesce::{self, CommitHold};
use crate::transport::{CallError, RpcKind, SnapshotChunk, Transport};
use crate::types::{TypeConfig, Vote};
use futures::Stream;
use openraft::error::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, OptionalSend, RaftNetworkV2};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Bytes of snapshot per call.
pub const SNAPSHOT_CHUNK: usize = 1 << 20;

/// How long one snapshot chunk may take to arrive and be stored.
const CHUNK_TTL: Duration = Duration::from_secs(10);

/// Makes connections to the other members.
pub struct Network {
    transport: Arc<Transport>,
    hold: Arc<CommitHold>,
    transfers: Arc<AtomicU64>,
}

impl Network {
    /// A network over `transport`; commit-only requests are held as
    /// `hold` allows.
    pub fn new(transport: Arc<Transport>, hold: Arc<CommitHold>) -> Self {
        Network {
            transport,
            hold,
            // Distinct across restarts of this member, so a receiver never
            // appends to a transfer of an earlier run.
            transfers: Arc::new(AtomicU64::new(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64),
            )),
        }
    }
}

/// A connection to the member on one Erlang node.
pub struct Connection {
    transport: Arc<Transport>,
    hold: Arc<CommitHold>,
    transfers: Arc<AtomicU64>,
    /// The Erlang node name (the member's `BasicNode` address).
    target: String,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, _target: u64, node: &BasicNode) -> Connection {
        Connection {
            transport: self.transport.clone(),
            hold: self.hold.clone(),
            transfers: self.transfers.clone(),
            target: node.addr.clone(),
        }
    }
}

/// The store process's answer for a call whose receiver is not running
/// (its node is up, its store is not, or no longer): nobody received it.
pub const NO_RECEIVER: &str = "no store process";

/// A call's answer decoded, or the error openraft should see.
pub(crate) fn decode_answer<Resp: DeserializeOwned>(
    answer: Result<Vec<u8>, CallError>,
) -> Result<Resp, RPCError<TypeConfig>> {
    let bytes = answer.map_err(to_rpc_error)?;
    rmp_serde::from_slice(&bytes)
        .map_err(|e| RPCError::Network(NetworkError::new(&io::Error::other(e.to_string()))))
}

fn to_rpc_error(e: CallError) -> RPCError<TypeConfig> {
    match e {
        CallError::Unreachable(text) => {
            RPCError::Unreachable(Unreachable::new(&io::Error::other(text)))
        }
        // Unreachable, so that openraft backs off before it tries again (a
        // network error is retried at once, ten times, and a snapshot is
        // read again from disk for each try).
        CallError::Remote(text) if text == NO_RECEIVER => {
            RPCError::Unreachable(Unreachable::new(&io::Error::other(text)))
        }
        CallError::Remote(text) => RPCError::Network(NetworkError::new(&io::Error::other(text))),
    }
}

impl Connection {
    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        kind: RpcKind,
        request: &Req,
        ttl: Duration,
    ) -> Result<Resp, RPCError<TypeConfig>> {
        decode_answer(self.transport.call(&self.target, kind, request, ttl).await)
    }
}

impl RaftNetworkV2<TypeConfig> for Connection {
    type SnapshotData = std::io::Cursor<Vec<u8>>;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(RpcKind::Append, &rpc, option.hard_ttl()).await
    }

    fn stream_append<'s, S>(&'s mut self, input: S, option: RPCOption) -> coalesce::Answers<'s>
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + OptionalSend + Unpin + 'static,
    {
        let answers = coalesce::stream(
            self.transport.clone(),
            self.hold.clone(),
            self.target.clone(),
            option.hard_ttl(),
            input,
        );
        Box::pin(std::future::ready(Ok(answers)))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(RpcKind::Vote, &rpc, option.hard_ttl()).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(RpcKind::PreVote, &rpc, option.hard_ttl()).await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: openraft::alias::SnapshotOf<TypeConfig, Self::SnapshotData>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let transfer = self.transfers.fetch_add(1, Ordering::Relaxed);
        let bytes = snapshot.snapshot.into_inner();
        let meta = snapshot.meta;
        let send = async {
            let mut offset = 0usize;
            loop {
                let end = (offset + SNAPSHOT_CHUNK).min(bytes.len());
                let last = end == bytes.len();
                let chunk = SnapshotChunk {
                    transfer,
                    offset: offset as u64,
                    data: bytes[offset..end].to_vec(),
                    last: last.then(|| (vote, meta.clone())),
                };
                let answer: Option<SnapshotResponse<TypeConfig>> = self
                    .call(RpcKind::SnapshotChunk, &chunk, CHUNK_TTL)
                    .await
                    .map_err(StreamingError::from)?;
                match answer {
                    Some(response) => return Ok(response),
                    None if last => {
                        return Err(StreamingError::from(to_rpc_error(CallError::Remote(
                            "the last chunk was not answered with a response".into(),
                        ))))
                    }
                    None => offset = end,
                }
            }
        };
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            result = send => result,
        }
    }
}
