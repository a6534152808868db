//! The effects gate: applied batches that change projections are answered
//! only after the store process has carried their effects out, so a caller
//! reads its own write through ETS when its call returns (SPEC 4.7).
//!
//! Effects go to the store process in apply order, each batch with a
//! sequence number; the store process confirms a number with [`Gate::done`].
//! Replies of a batch with effects, and of every later batch while some are
//! held, wait for that confirmation. Without effects nothing is held and
//! replies go out at once, as before.

use crate::runtime::runtime;
use crate::types::TypeConfig;
use khepri_core::hooks::Effect;
use khepri_core::Reply;
use openraft::storage::ApplyResponder;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Where effects and leadership changes go: the store process, through the NIF.
pub trait EffectSink: Send + Sync + std::panic::RefUnwindSafe + 'static {
    /// Delivers one batch's effects, numbered `seq` (1, 2, ... in apply order).
    fn effects(&self, seq: u64, effects: Vec<Effect>);
    /// This member became the leader (`true`) or stopped being it.
    fn leadership(&self, leading: bool);
}

/// A shared [`EffectSink`], for the store configuration.
#[derive(Clone)]
pub struct EffectSinkRef(pub Arc<dyn EffectSink>);

impl std::fmt::Debug for EffectSinkRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EffectSink")
    }
}

/// A write's responder and its reply.
pub type Answer = (ApplyResponder<TypeConfig>, Reply);

struct Held {
    seq: u64,
    index: u64,
    answers: Vec<Answer>,
}

#[derive(Default)]
struct State {
    /// Last sequence number sent.
    sent: u64,
    /// Last sequence number confirmed.
    done: u64,
    held: VecDeque<Held>,
}

/// Holds replies until their batch's effects are carried out.
pub struct Gate {
    sink: Arc<dyn EffectSink>,
    state: Mutex<State>,
    /// Highest applied index whose effects are carried out (and whose
    /// replies may go): what a fence waits for.
    projected: watch::Sender<u64>,
    /// Writers answered and not yet back (see `store::propose`).
    returning: Arc<AtomicIsize>,
}

impl Gate {
    /// A gate sending effects to `sink`, starting at applied index `applied`.
    pub fn new(sink: Arc<dyn EffectSink>, applied: u64, returning: Arc<AtomicIsize>) -> Self {
        Gate {
            sink,
            state: Mutex::new(State::default()),
            projected: watch::Sender::new(applied),
            returning,
        }
    }

    /// The sink, for leadership changes.
    pub fn sink(&self) -> &Arc<dyn EffectSink> {
        &self.sink
    }

    /// The number of the last effects sent.
    pub fn sent(&self) -> u64 {
        self.state.lock().expect("gate lock").sent
    }

    /// Hands over the batch applied up to `index`: its effects and answers.
    /// Runs on the state machine's task.
    pub fn deliver(&self, effects: Vec<Effect>, answers: Vec<Answer>, index: u64) {
        let mut state = self.state.lock().expect("gate lock");
        if !effects.is_empty() {
            state.sent += 1;
            let seq = state.sent;
            // Under the lock: numbers reach the sink in order.
            self.sink.effects(seq, effects);
            state.held.push_back(Held {
                seq,
                index,
                answers,
            });
        } else if state.held.is_empty() {
            drop(state);
            self.answer(answers);
            self.projected.send_replace(index);
        } else {
            // Behind a held batch: answered with it, never before.
            let seq = state.sent;
            state.held.push_back(Held {
                seq,
                index,
                answers,
            });
        }
    }

    /// The store process carried out effects up to `seq`: their batches,
    /// and those queued behind them, are answered (on the runtime: this is
    /// called from a NIF on a scheduler thread, which may not send).
    pub fn done(self: &Arc<Self>, seq: u64) {
        let mut released = Vec::new();
        {
            let mut state = self.state.lock().expect("gate lock");
            state.done = state.done.max(seq);
            while state.held.front().is_some_and(|h| h.seq <= state.done) {
                released.extend(state.held.pop_front());
            }
        }
        if released.is_empty() {
            return;
        }
        let gate = Arc::clone(self);
        runtime().spawn(async move {
            let index = released.last().map_or(0, |h| h.index);
            for held in released {
                gate.answer(held.answers);
            }
            gate.projected.send_if_modified(|p| {
                let newer = index > *p;
                *p = (*p).max(index);
                newer
            });
        });
    }

    fn answer(&self, answers: Vec<Answer>) {
        self.returning
            .fetch_add(answers.len() as isize, Ordering::Relaxed);
        for (responder, reply) in answers {
            responder.send(reply);
        }
    }

    /// Waits until effects up to applied index `index` are carried out.
    pub async fn wait_projected(&self, index: u64, timeout: Duration) -> bool {
        let mut rx = self.projected.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= index))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}
