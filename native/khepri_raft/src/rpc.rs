//! The receiving side of calls between members: decodes a call, hands it to
//! openraft and encodes the answer.

use crate::store::Store;
use crate::transport::{Answer, RpcKind, SnapshotChunk};
use crate::types::TypeConfig;
use openraft::raft::{AppendEntriesRequest, VoteRequest};
use openraft::Snapshot;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Cursor;
use std::sync::Mutex;

/// A snapshot being received: its transfer id and the bytes so far.
#[derive(Default)]
pub struct Incoming {
    transfer: u64,
    bytes: Vec<u8>,
}

/// The snapshot being received by a member, if any (one at a time: a new
/// transfer replaces an unfinished one).
pub type IncomingSnapshot = Mutex<Option<Incoming>>;

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    rmp_serde::from_slice(body).map_err(|e| format!("undecodable call: {e}"))
}

fn encode<T: Serialize>(value: &T) -> Answer {
    rmp_serde::to_vec(value).map_err(|e| e.to_string())
}

impl Store {
    /// Answers a call of `kind` from another member.
    pub async fn handle_rpc(&self, kind: RpcKind, body: &[u8]) -> Answer {
        let raft = self.raft();
        match kind {
            RpcKind::Append => {
                let req: AppendEntriesRequest<TypeConfig> = decode(body)?;
                encode(&raft.append_entries(req).await.map_err(|e| e.to_string())?)
            }
            RpcKind::Vote => {
                let req: VoteRequest<TypeConfig> = decode(body)?;
                encode(&raft.vote(req).await.map_err(|e| e.to_string())?)
            }
            RpcKind::PreVote => {
                let req: VoteRequest<TypeConfig> = decode(body)?;
                encode(&raft.pre_vote(req).await.map_err(|e| e.to_string())?)
            }
            RpcKind::ReadIndex => self.answer_read_index().await,
            // Must be submitted in arrival order, which a spawned task
            // would not keep: the receiver calls `accept_forward` itself.
            RpcKind::Forward => Err("forwarded writes go to accept_forward".into()),
            RpcKind::SnapshotChunk => {
                let chunk: SnapshotChunk = decode(body)?;
                let done = self.receive_chunk(chunk)?;
                let response = match done {
                    None => None,
                    Some((vote, meta, bytes)) => Some(
                        raft.install_full_snapshot(
                            vote,
                            Snapshot {
                                meta,
                                snapshot: Cursor::new(bytes),
                            },
                        )
                        .await
                        .map_err(|e| e.to_string())?,
                    ),
                };
                encode(&response)
            }
        }
    }

    /// Adds `chunk` to the snapshot being received; the whole snapshot once
    /// its last chunk arrived.
    #[allow(clippy::type_complexity)]
    fn receive_chunk(
        &self,
        chunk: SnapshotChunk,
    ) -> Result<Option<(crate::types::Vote, crate::types::SnapshotMeta, Vec<u8>)>, String> {
        let mut slot = self.incoming().lock().unwrap_or_else(|p| p.into_inner());
        if chunk.offset == 0 {
            *slot = Some(Incoming {
                transfer: chunk.transfer,
                bytes: Vec::new(),
            });
        }
        let incoming = match slot.as_mut() {
            Some(i) if i.transfer == chunk.transfer && i.bytes.len() as u64 == chunk.offset => i,
            // A chunk out of order or of a replaced transfer: the sender
            // starts again from the first chunk.
            _ => return Err("snapshot chunk out of sequence".into()),
        };
        incoming.bytes.extend_from_slice(&chunk.data);
        match chunk.last {
            None => Ok(None),
            Some((vote, meta)) => {
                let bytes = slot.take().map(|i| i.bytes).unwrap_or_default();
                Ok(Some((vote, meta, bytes)))
            }
        }
    }
}
