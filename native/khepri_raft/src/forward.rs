//! Writes and read barriers issued on a member that does not lead.
//!
//! A follower's proposer sends each batch of writes to the leader in one
//! call ([`RpcKind::Forward`]); the leader submits them in order and answers
//! with each write's outcome. The follower then waits until it has applied
//! the last of those entries itself before answering its callers, so a
//! caller reads its own write on its own node (SPEC 4.8, `reply_from`
//! local). Every kind of write (plain, async, transaction commit) goes
//! through this one path.
//!
//! A read barrier on a follower asks the leader for its read index
//! ([`RpcKind::ReadIndex`], openraft's linearizable read on the leader) and
//! waits until it has applied that far.

use crate::effects::Gate;
use crate::membership::node_name_of;
use crate::node_name::node_id_of;
use crate::store::Store;
use crate::transport::{Answer, CallError, RpcKind, Transport};
use crate::types::{ClientWriteResult, Raft};
use crate::WriteOutcome;
use crate::{store::WriteResponder, CallbackResponder};
use futures::future::{FutureExt, Shared};
use khepri_core::Command;
use openraft::error::{ClientWriteError, ForwardToLeader};
use openraft::raft::responder::Responder;
use openraft::type_config::async_runtime::WatchReceiver;
use openraft::ReadPolicy;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long a forwarded batch may wait for the leader's answer. A leader
/// that is gone or cut off answers nothing; unless another leader is known
/// first, its writes are then answered as of unknown fate (`unknown`).
const FORWARD_TTL: Duration = Duration::from_secs(10);

/// How long a follower waits to apply a write the leader has committed
/// before answering anyway (it is cut off or far behind).
const APPLY_WAIT: Duration = Duration::from_secs(30);

/// A forwarded batch under way: resolves to the highest log index among its
/// writes (0 when none was applied).
pub(crate) type InFlight = Shared<oneshot::Receiver<u64>>;

/// Where a submitted write may be applied.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Here when this member leads, else forwarded to the leader.
    Any,
    /// Here only: it was forwarded by another member, and bouncing it on
    /// would let two members with stale views pass it back and forth.
    Local,
}

/// What this member is to the others, as far as writes are concerned.
pub(crate) enum Role {
    /// Another member leads, on this node.
    Follows(String),
    /// This member leads and has others to replicate to.
    LeadsOthers,
    /// Alone, or no leader known: writes are handed to openraft here.
    Other,
}

/// This member's [`Role`] in its latest metrics.
pub(crate) fn role(raft: &Raft, node_id: u64) -> Role {
    let metrics = raft.metrics();
    let m = metrics.borrow_watched();
    match m.current_leader {
        Some(l) if l == node_id => {
            let others = m.membership_config.membership().nodes().nth(1).is_some();
            if others {
                Role::LeadsOthers
            } else {
                Role::Other
            }
        }
        Some(l) => node_name_of(&m, l).map_or(Role::Other, Role::Follows),
        None => Role::Other,
    }
}

/// The answer of the store process for a call to a node it is not connected
/// to: the call was not sent.
pub const NOT_SENT: &str = "not connected";

fn not_leader() -> ClientWriteResult {
    Err(ClientWriteError::ForwardToLeader(ForwardToLeader::empty()))
}

/// True when a refused write may still commit: its entry reached a log
/// (openraft's `LogEntryDiscarded`, or a forward that went unanswered).
pub fn fate_unknown(error: &ClientWriteError<crate::TypeConfig>) -> bool {
    matches!(error, ClientWriteError::LogEntryDiscarded(_))
}

/// A write whose entry may or may not commit (openraft's own word for it).
fn unknown() -> ClientWriteResult {
    Err(ClientWriteError::LogEntryDiscarded(ForwardToLeader::empty()))
}

/// Sends `batch` to the leader on node `target` and answers each write's
/// responder once this member applied the batch and, with a `gate`, carried
/// out its effects on projections. Returns the batch's [`InFlight`] handle.
pub(crate) fn forward_batch(
    raft: Raft,
    transport: Arc<Transport>,
    gate: Option<Arc<Gate>>,
    target: String,
    batch: Vec<(Command, WriteResponder)>,
) -> InFlight {
    let (done, in_flight) = oneshot::channel();
    let (commands, responders): (Vec<Command>, Vec<WriteResponder>) = batch.into_iter().unzip();
    // Sent here, not in the task: tasks spawned together may run in any
    // order, and one caller's writes must reach the leader in order.
    let sent = transport.send(&target, RpcKind::Forward, &commands);
    drop(commands);
    tokio::spawn(async move {
        // A leader that died or was cut off answers nothing: give up as soon
        // as another leader is known, rather than at the call's timeout
        // (read barriers on this member wait for this batch).
        let target_id = node_id_of(&target);
        let wait = raft.wait(Some(FORWARD_TTL));
        let leader_changed = wait.metrics(
            move |m| m.current_leader.is_some() && m.current_leader != Some(target_id),
            "another leader",
        );
        let answer = match sent {
            Ok(pending) => tokio::select! {
                answer = pending.answer(FORWARD_TTL) => answer,
                _ = leader_changed => Err(CallError::Unreachable("another leader".into())),
            },
            Err(e) => Err(e),
        };
        let count = responders.len();
        let failed = |outcome: fn() -> ClientWriteResult| {
            (0..count).map(|_| Some(outcome())).collect::<Vec<_>>()
        };
        let results: Vec<WriteOutcome> = match answer {
            Ok(bytes) => rmp_serde::from_slice::<Vec<WriteOutcome>>(&bytes)
                .ok()
                .filter(|r| r.len() == count)
                .unwrap_or_else(|| failed(unknown)),
            // Never sent: safe to retry elsewhere.
            Err(CallError::Remote(text)) if text == NOT_SENT => failed(not_leader),
            // Sent, then no answer: the old leader may have replicated
            // these writes, which may yet commit. A retry could apply them
            // twice, so their fate is reported as unknown.
            Err(_) => failed(unknown),
        };
        let index = results
            .iter()
            .filter_map(|r| match r {
                Some(Ok(response)) => Some(response.log_id.index),
                _ => None,
            })
            .max();
        // A write is answered once this member applied it and, through
        // its projections too (SPEC 4.7), shows it; a member that could not
        // within the wait answers that the write's fate is unknown rather
        // than an `ok` that a read here would contradict.
        let shown = match index {
            Some(i) => {
                raft.wait(Some(APPLY_WAIT))
                    .applied_index_at_least(Some(i), "forwarded writes applied")
                    .await
                    .is_ok()
                    && match &gate {
                        Some(gate) => gate.wait_projected(i, APPLY_WAIT).await,
                        None => true,
                    }
            }
            None => true,
        };
        for (result, responder) in results.into_iter().zip(responders) {
            let result = match result {
                Some(Ok(_)) if !shown => unknown(),
                Some(r) => r,
                // The leader's engine stopped before answering, perhaps
                // after replicating the write: its fate is unknown, which
                // the caller gets as `{error, timeout}` (not `noproc`: this
                // member's store is running).
                None => unknown(),
            };
            Responder::<crate::TypeConfig, ClientWriteResult>::on_complete(responder, result);
        }
        let _ = done.send(index.unwrap_or(0));
    });
    in_flight.shared()
}

/// The outcomes of a forwarded batch, gathered as the leader applies them.
struct Gathered {
    outcomes: Vec<WriteOutcome>,
    left: usize,
    done: Option<Box<dyn FnOnce(Answer) + Send>>,
}

impl Store {
    /// Takes a batch of writes forwarded by another member and submits them
    /// here, in order; `done` gets the encoded outcomes once all are
    /// applied (it may be called on this thread, before this returns).
    pub fn accept_forward(&self, body: &[u8], done: impl FnOnce(Answer) + Send + 'static) {
        // The sender waits until it has applied these writes itself.
        self.hold.follower_called();
        let commands: Vec<Command> = match rmp_serde::from_slice(body) {
            Ok(c) => c,
            Err(e) => return done(Err(format!("undecodable forwarded writes: {e}"))),
        };
        if commands.is_empty() {
            return done(rmp_serde::to_vec(&Vec::<WriteOutcome>::new()).map_err(|e| e.to_string()));
        }
        let gathered = Arc::new(Mutex::new(Gathered {
            outcomes: commands.iter().map(|_| None).collect(),
            left: commands.len(),
            done: Some(Box::new(done)),
        }));
        for (i, command) in commands.into_iter().enumerate() {
            let gathered = gathered.clone();
            let responder = CallbackResponder::new(move |outcome: WriteOutcome| {
                let mut g = gathered.lock().unwrap_or_else(|p| p.into_inner());
                g.outcomes[i] = outcome;
                g.left -= 1;
                if g.left == 0 {
                    let outcomes = std::mem::take(&mut g.outcomes);
                    let done = g.done.take();
                    drop(g);
                    if let Some(done) = done {
                        done(rmp_serde::to_vec(&outcomes).map_err(|e| e.to_string()));
                    }
                }
            });
            // A stopping store hands the responder back; dropping it
            // records `None` for this write.
            let _ = self.submit_routed(command, responder, Route::Local);
        }
    }

    /// The index a linearizable read must wait for: the leader's read index,
    /// asked of the leader when another member leads. `None` when no leader
    /// confirms one before `deadline`.
    pub(crate) async fn read_index(&self, deadline: Instant) -> Option<u64> {
        loop {
            let local = tokio::time::timeout_at(
                deadline,
                self.raft().ensure_linearizable(ReadPolicy::ReadIndex),
            )
            .await
            .ok()?;
            let error = match local {
                Ok(read_log_id) => return Some(read_log_id.index()),
                Err(e) => e,
            };
            error.forward_to_leader()?;
            match role(self.raft(), self.node_id()) {
                Role::Follows(leader) => {
                    let ttl = deadline.saturating_duration_since(Instant::now());
                    let asked = self
                        .transport()
                        .call(&leader, RpcKind::ReadIndex, &(), ttl)
                        .await;
                    if let Some(index) = asked
                        .ok()
                        .and_then(|bytes| rmp_serde::from_slice::<u64>(&bytes).ok())
                    {
                        return Some(index);
                    }
                    // That member no longer leads, or did not answer: ask
                    // again once the view has had time to change.
                    let pause = Instant::now() + Duration::from_millis(20);
                    if pause >= deadline {
                        return None;
                    }
                    tokio::time::sleep_until(pause).await;
                }
                _ => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if !self.wait_for_leader(None, left).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Answers a read-index call from a follower: this leader's read index,
    /// confirmed by a quorum.
    pub(crate) async fn answer_read_index(&self) -> Answer {
        // The caller then waits to apply up to the index.
        self.hold.follower_called();
        match self.raft().ensure_linearizable(ReadPolicy::ReadIndex).await {
            Ok(read_log_id) => rmp_serde::to_vec(&read_log_id.index()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}
