//! The effects gate: applied batches that change projections are answered
//! only after the store process has carried their effects out, so a caller
//! reads its own write through ETS when its call returns (SPEC 4.7).
//!
//! Each batch with effects gets a sequence number (1, 2, ... in apply
//! order) and the store process a short notice of it. The store process
//! takes the effects ([`Gate::take`], encoded into its own heap by the NIF,
//! so nothing is encoded on the engine's thread or copied twice), carries
//! them out and confirms the number ([`Gate::done`]), which answers the
//! writers from that same call. Replies of a batch with effects, and of
//! every later batch while some are held, wait for that confirmation.
//! Without effects nothing is held and replies go out at once, as before.
//!
//! The write path thus crosses no extra thread: the engine's single worker
//! also runs the log's fdatasync, and answers queued behind one on it
//! waited ~240 us, doubling a write's latency at 100 writers.

use crate::types::TypeConfig;
use khepri_core::hooks::Effect;
use khepri_core::Reply;
use openraft::storage::ApplyResponder;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Where notices of effects and leadership changes go: the store process,
/// through the NIF.
pub trait EffectSink: Send + Sync + std::panic::RefUnwindSafe + 'static {
    /// Effects numbered `seq` are ready to [`Gate::take`]. Called on the
    /// engine's thread: must be quick.
    fn ready(&self, seq: u64);
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

/// Something a gate sends once its batch may be answered.
pub trait Respond: Send {
    /// Sends the answer.
    fn respond(self);
}

impl Respond for Answer {
    fn respond(self) {
        self.0.send(self.1);
    }
}

struct Held<A> {
    seq: u64,
    index: u64,
    /// Effects not taken yet, in order.
    effects: VecDeque<Effect>,
    answers: Vec<A>,
}

struct State<A> {
    /// Last sequence number given.
    sent: u64,
    /// Batches waiting for their effects, or for earlier ones, to be
    /// carried out, in order; and, at the front, answers of confirmed
    /// batches that one `done` call did not send.
    held: VecDeque<Held<A>>,
}

/// Holds replies until their batch's effects are carried out.
pub struct Gate<A: Respond = Answer> {
    sink: Arc<dyn EffectSink>,
    state: Mutex<State<A>>,
    /// Highest applied index whose effects are carried out (and whose
    /// replies went): what a fence waits for.
    projected: watch::Sender<u64>,
    /// Writers answered and not yet back (see `store::propose`).
    returning: Arc<AtomicIsize>,
}

impl<A: Respond> Gate<A> {
    /// A gate telling `sink` of effects, starting at applied index `applied`.
    pub fn new(sink: Arc<dyn EffectSink>, applied: u64, returning: Arc<AtomicIsize>) -> Self {
        Gate {
            sink,
            state: Mutex::new(State {
                sent: 0,
                held: VecDeque::new(),
            }),
            projected: watch::Sender::new(applied),
            returning,
        }
    }

    /// The sink, for leadership changes.
    pub fn sink(&self) -> &Arc<dyn EffectSink> {
        &self.sink
    }

    /// The number of the last effects given.
    pub fn sent(&self) -> u64 {
        self.state.lock().expect("gate lock").sent
    }

    /// Hands over the batch applied up to `index`: its effects and answers.
    /// Runs on the state machine's task, the only caller, so numbers are
    /// given in order.
    pub fn deliver(&self, effects: Vec<Effect>, answers: Vec<A>, index: u64) {
        let mut state = self.state.lock().expect("gate lock");
        if !effects.is_empty() {
            state.sent += 1;
            let seq = state.sent;
            state.held.push_back(Held {
                seq,
                index,
                effects: effects.into(),
                answers,
            });
            drop(state);
            self.sink.ready(seq);
        } else if state.held.is_empty() {
            drop(state);
            answer(&self.returning, answers);
            self.projected.send_replace(index);
        } else {
            // Behind a held batch: answered with it, never before.
            let seq = state.sent;
            state.held.push_back(Held {
                seq,
                index,
                effects: VecDeque::new(),
                answers,
            });
        }
    }

    /// Takes up to `max` effects of batch `seq`, in order; `true` when
    /// more are left. Nothing when `seq` is not held.
    pub fn take(&self, seq: u64, max: usize) -> (Vec<Effect>, bool) {
        let mut state = self.state.lock().expect("gate lock");
        match state
            .held
            .iter_mut()
            .find(|h| h.seq == seq && !h.effects.is_empty())
        {
            Some(held) => {
                let n = held.effects.len().min(max);
                let taken: Vec<Effect> = held.effects.drain(..n).collect();
                (taken, !held.effects.is_empty())
            }
            None => (Vec::new(), false),
        }
    }

    /// The store process carried out effects up to `seq`: up to `max`
    /// answers of their batches, and of those queued behind them, go from
    /// the calling thread, which must be able to send (the NIF makes a
    /// scheduler thread able to). `true` when answers are left: call again.
    pub fn done(&self, seq: u64, max: usize) -> bool {
        let mut now = Vec::new();
        let mut answered = None;
        let more = {
            let mut state = self.state.lock().expect("gate lock");
            while let Some(held) = state.held.front_mut().filter(|h| h.seq <= seq) {
                let n = held.answers.len().min(max - now.len());
                now.extend(held.answers.drain(..n));
                if !held.answers.is_empty() {
                    break;
                }
                answered = Some(held.index);
                state.held.pop_front();
            }
            state.held.front().is_some_and(|h| h.seq <= seq)
        };
        answer(&self.returning, now);
        if let Some(index) = answered {
            self.projected.send_if_modified(|p| {
                let newer = index > *p;
                *p = (*p).max(index);
                newer
            });
        }
        more
    }

    /// Waits until effects up to applied index `index` are carried out.
    pub async fn wait_projected(&self, index: u64, timeout: Duration) -> bool {
        let mut rx = self.projected.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= index))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Sends answers, counting them as writers that will be back (see
/// `store::propose`).
fn answer<A: Respond>(returning: &AtomicIsize, answers: Vec<A>) {
    returning.fetch_add(answers.len() as isize, Ordering::Relaxed);
    for a in answers {
        a.respond();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use khepri_core::hooks::Effect;

    /// Records notices; answers are numbers pushed to a shared list.
    #[derive(Default)]
    struct Notices(Mutex<Vec<u64>>);

    impl EffectSink for Notices {
        fn ready(&self, seq: u64) {
            self.0.lock().unwrap().push(seq);
        }
        fn leadership(&self, _leading: bool) {}
    }

    struct Numbered(u64, Arc<Mutex<Vec<u64>>>);

    impl Respond for Numbered {
        fn respond(self) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    fn effects(n: usize) -> Vec<Effect> {
        (0..n)
            .map(|i| Effect::Unregister(vec![i.to_string()]))
            .collect()
    }

    fn gate() -> (Gate<Numbered>, Arc<Notices>, Arc<Mutex<Vec<u64>>>) {
        let notices = Arc::new(Notices::default());
        let gate = Gate::new(notices.clone(), 0, Arc::new(AtomicIsize::new(0)));
        (gate, notices, Arc::new(Mutex::new(Vec::new())))
    }

    fn answers(out: &Arc<Mutex<Vec<u64>>>, range: std::ops::Range<u64>) -> Vec<Numbered> {
        range.map(|i| Numbered(i, out.clone())).collect()
    }

    #[test]
    fn held_until_done_then_answered_in_bounded_calls() {
        let (gate, notices, out) = gate();
        gate.deliver(effects(5), answers(&out, 0..3), 10);
        // behind the held batch, without effects of its own
        gate.deliver(Vec::new(), answers(&out, 3..7), 11);
        assert_eq!(*notices.0.lock().unwrap(), vec![1]);
        assert!(out.lock().unwrap().is_empty());
        // taken in chunks, in order
        let (first, more) = gate.take(1, 2);
        assert_eq!((first.len(), more), (2, true));
        let (rest, more) = gate.take(1, 10);
        assert_eq!((rest.len(), more), (3, false));
        assert_eq!(gate.take(1, 10).0.len(), 0);
        // answered two per call, in order, the queued batch too
        let mut calls = 1;
        while gate.done(1, 2) {
            calls += 1;
        }
        assert_eq!(calls, 4);
        assert_eq!(*out.lock().unwrap(), (0..7).collect::<Vec<_>>());
        // nothing held: answered at once
        gate.deliver(Vec::new(), answers(&out, 7..8), 12);
        assert_eq!(out.lock().unwrap().len(), 8);
    }

    #[test]
    fn fence_mark_moves_once_a_batch_is_wholly_answered() {
        let (gate, _notices, out) = gate();
        gate.deliver(effects(1), answers(&out, 0..3), 5);
        assert!(gate.done(1, 2));
        assert_eq!(*gate.projected.borrow(), 0);
        assert!(!gate.done(1, 2));
        assert_eq!(*gate.projected.borrow(), 5);
    }
}
