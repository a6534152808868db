//! Calls between members, carried by Erlang distribution.
//!
//! The engine does not open sockets: a call to another member is handed to an
//! [`Outbox`] (the NIF sends it to the local store process, which forwards it
//! to the store process on the target node, which gives it to its engine).
//! The answer comes back the same way and completes the pending call by id.
//! A cluster so needs no extra port and inherits the distribution's cookie
//! and TLS.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

/// The kinds of call between members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcKind {
    /// openraft AppendEntries.
    Append,
    /// openraft RequestVote.
    Vote,
    /// openraft Pre-Vote (asks without persisting anything).
    PreVote,
    /// One chunk of a snapshot being sent to a member.
    SnapshotChunk,
    /// A batch of writes sent by a follower to the leader.
    Forward,
    /// A follower asking the leader for its read index.
    ReadIndex,
}

impl RpcKind {
    /// The kind's name on the wire (an Erlang atom).
    pub fn name(self) -> &'static str {
        match self {
            RpcKind::Append => "append",
            RpcKind::Vote => "vote",
            RpcKind::PreVote => "pre_vote",
            RpcKind::SnapshotChunk => "snapshot_chunk",
            RpcKind::Forward => "forward",
            RpcKind::ReadIndex => "read_index",
        }
    }

    /// The kind of wire name `name`.
    pub fn from_name(name: &str) -> Option<RpcKind> {
        Some(match name {
            "append" => RpcKind::Append,
            "vote" => RpcKind::Vote,
            "pre_vote" => RpcKind::PreVote,
            "snapshot_chunk" => RpcKind::SnapshotChunk,
            "forward" => RpcKind::Forward,
            "read_index" => RpcKind::ReadIndex,
            _ => return None,
        })
    }
}

/// Where outgoing calls go: implemented by the NIF.
pub trait Outbox: Send + Sync + std::panic::RefUnwindSafe + 'static {
    /// Sends call `id` of `kind` with `body` to the member on Erlang node
    /// `target`. `false` when it cannot be sent (the store process is gone).
    fn send(&self, target: &str, id: u64, kind: RpcKind, body: Vec<u8>) -> bool;
}

/// A shared [`Outbox`], part of a member's configuration.
#[derive(Clone)]
pub struct OutboxRef(pub std::sync::Arc<dyn Outbox>);

impl std::fmt::Debug for OutboxRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbox")
    }
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// Not sent, or no answer in time: the member may be down or cut off.
    Unreachable(String),
    /// The member answered with an error.
    Remote(String),
}

/// The answer to a call: the encoded response, or the remote error's text.
pub type Answer = Result<Vec<u8>, String>;

/// Answer channels of the calls sent, by call id.
type Pending = HashMap<u64, oneshot::Sender<Answer>>;

/// Outgoing calls waiting for their answer.
pub struct Transport {
    outbox: OutboxRef,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicU64,
}

impl Transport {
    /// A transport sending through `outbox`.
    pub fn new(outbox: OutboxRef) -> Self {
        Transport {
            outbox,
            pending: Arc::new(Mutex::new(HashMap::new())),
            next_id: AtomicU64::new(1),
        }
    }

    /// Calls the member on node `target` and waits at most `ttl` for its answer.
    pub async fn call(
        &self,
        target: &str,
        kind: RpcKind,
        request: &impl Serialize,
        ttl: Duration,
    ) -> Result<Vec<u8>, CallError> {
        self.send(target, kind, request)?.answer(ttl).await
    }

    /// Sends a call now; what it returns waits for the answer. Calls sent
    /// from one thread reach the target in the order they were sent.
    pub(crate) fn send(
        &self,
        target: &str,
        kind: RpcKind,
        request: &impl Serialize,
    ) -> Result<PendingCall, CallError> {
        let body = rmp_serde::to_vec(request).map_err(|e| CallError::Remote(e.to_string()))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending_calls().insert(id, tx);
        let pending = PendingCall {
            pending: self.pending.clone(),
            id,
            target: target.to_owned(),
            rx,
        };
        if !self.outbox.0.send(target, id, kind, body) {
            return Err(CallError::Unreachable("the store process is gone".into()));
        }
        Ok(pending)
    }

    /// Completes call `id` with `answer`; an unknown id (timed out) is ignored.
    pub fn complete(&self, id: u64, answer: Answer) {
        if let Some(tx) = self.pending_calls().remove(&id) {
            let _ = tx.send(answer);
        }
    }

    fn pending_calls(&self) -> MutexGuard<'_, Pending> {
        lock(&self.pending)
    }
}

/// A call sent and not answered yet. Dropped unanswered (timed out, or
/// its caller's future dropped, as a `select!` does), it forgets the call,
/// so a late answer finds nothing.
pub(crate) struct PendingCall {
    pending: Arc<Mutex<Pending>>,
    id: u64,
    target: String,
    rx: oneshot::Receiver<Answer>,
}

impl PendingCall {
    /// Waits at most `ttl` for the answer.
    pub(crate) async fn answer(mut self, ttl: Duration) -> Result<Vec<u8>, CallError> {
        match tokio::time::timeout(ttl, &mut self.rx).await {
            Ok(Ok(Ok(bytes))) => Ok(bytes),
            Ok(Ok(Err(text))) => Err(CallError::Remote(text)),
            Ok(Err(_)) => Err(CallError::Unreachable("call dropped".into())),
            Err(_) => Err(CallError::Unreachable(format!(
                "no answer from {} in {ttl:?}",
                self.target
            ))),
        }
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        lock(&self.pending).remove(&self.id);
    }
}

fn lock(pending: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    // A poisoned map is still a valid map: every operation on it is a
    // single insert or remove.
    pending.lock().unwrap_or_else(|p| p.into_inner())
}

/// A chunk of a snapshot on its way to a member. The last chunk carries
/// what the receiver needs to install it.
#[derive(Serialize, Deserialize)]
pub struct SnapshotChunk {
    /// Identifies one transfer; a new transfer replaces an unfinished one.
    pub transfer: u64,
    /// Where this chunk's bytes go in the snapshot.
    pub offset: u64,
    /// The chunk's bytes.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// On the last chunk: the leader's vote and the snapshot's metadata.
    pub last: Option<(crate::types::Vote, crate::types::SnapshotMeta)>,
}
