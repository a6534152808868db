//! Transactions: the fun runs in the calling Erlang process against a
//! private overlay of the tree (a persistent copy of the version current
//! when it began); reads record what they observed, writes are applied to
//! the overlay with the state machine's own code and recorded. The commit
//! replicates the recorded steps as one command (see
//! `khepri_core::transaction`).

use crate::atoms;
use crate::codec::{decode_command, decode_dedup, once};
use crate::engine::Engine;
use crate::reply::{encode_reply, ReplyTo};
use crate::writes::submit_command;
use khepri_core::data_match::TermMatcher;
use khepri_core::observe::observe;
use khepri_core::transaction::reply_digest;
use khepri_core::{Command, Component, Tree, TxStep, PENDING};
use khepri_raft::Store;
use rustler::{Encoder, Env, NifResult, Resource, ResourceArc, Term};
use std::sync::{Arc, Mutex, MutexGuard};

/// A running transaction, owned by the process running its fun.
pub struct Transaction {
    store: Arc<Store>,
    state: Mutex<State>,
}

#[rustler::resource_impl]
impl Resource for Transaction {}

struct State {
    /// The overlay: the snapshot plus this transaction's writes.
    tree: Arc<Tree>,
    steps: Vec<TxStep>,
    wrote: bool,
}

impl Transaction {
    fn state(&self) -> MutexGuard<'_, State> {
        // Only the owning process uses it; apply never panics, so a poisoned
        // lock cannot hold a half-applied overlay.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The overlay as it is now.
    pub fn tree(&self) -> Arc<Tree> {
        self.state().tree.clone()
    }

    /// Records a read of `pattern` made on `tree`.
    pub fn record_read(&self, tree: &Tree, pattern: &[Component], include_root: bool) {
        let digest = observe(tree, pattern, include_root, &TermMatcher, PENDING);
        self.state().steps.push(TxStep::Read {
            pattern: pattern.to_vec(),
            include_root,
            digest,
        });
    }
}

/// `tx_begin(Engine) -> Tx`: a transaction on the member's current version.
#[rustler::nif]
fn tx_begin(engine: ResourceArc<Engine>) -> ResourceArc<Transaction> {
    ResourceArc::new(Transaction {
        store: engine.store.clone(),
        state: Mutex::new(State {
            tree: engine.store.tree(),
            steps: Vec::new(),
            wrote: false,
        }),
    })
}

/// `tx_write(Tx, Command) -> {ok, [{Path, Props}]} | {error, Reason} |
/// dirty`: applies a write to the overlay, as `submit/3` would to the store.
/// Only a put on one node that no keep_while watches is applied here, on
/// the calling scheduler (its cost is bounded by the path's depth); any
/// other write may cascade over many nodes and answers `dirty`: call
/// `tx_write_dirty/2`.
#[rustler::nif]
fn tx_write<'a>(
    env: Env<'a>,
    tx: ResourceArc<Transaction>,
    command: Term<'a>,
) -> NifResult<Term<'a>> {
    let command = decode_command(command)?;
    if !is_bounded(&tx.tree(), &command) {
        return Ok(atoms::dirty().encode(env));
    }
    Ok(write(env, &tx, command))
}

/// `tx_write/2` on a dirty scheduler, for writes of unbounded cost.
#[rustler::nif(schedule = "DirtyCpu")]
fn tx_write_dirty<'a>(
    env: Env<'a>,
    tx: ResourceArc<Transaction>,
    command: Term<'a>,
) -> NifResult<Term<'a>> {
    let command = decode_command(command)?;
    Ok(write(env, &tx, command))
}

/// Whether applying `command` to `tree` takes a bounded time: a put on one
/// node by names, where no node's keep_while watches the path or one of its
/// prefixes (a change there could cascade).
fn is_bounded(tree: &Tree, command: &Command) -> bool {
    let Command::Put { pattern, .. } = command else {
        return false;
    };
    let mut names = Vec::with_capacity(pattern.len());
    for component in pattern {
        match component {
            Component::Name(name) => names.push(name.clone()),
            Component::Cond(_) => return false,
        }
    }
    (0..=names.len()).all(|depth| !tree.watchers.contains_key(&names[..depth]))
}

fn write<'a>(env: Env<'a>, tx: &Transaction, command: Command) -> Term<'a> {
    let mut state = tx.state();
    // Copies the overlay only if a read still holds this version.
    let applied = command.apply(Arc::make_mut(&mut state.tree), &TermMatcher, PENDING);
    let digest = reply_digest(&applied.reply);
    let wanted = command.opts().wanted;
    state.wrote = true;
    state.steps.push(TxStep::Write { command, digest });
    encode_reply(env, &applied.reply, wanted)
}

/// `tx_commit(Tx, Ref, Dedup) -> read_only | ok | {error, noproc}`.
/// `read_only` when the fun wrote nothing (no log entry); otherwise the
/// recorded steps are submitted as one command and `{Ref, {ok, []}}`,
/// `{Ref, {error, tx_conflict}}` (re-run the fun) or another error follows.
/// `Dedup` is `none` or a marker for `protect_against_dups`.
#[rustler::nif]
fn tx_commit<'a>(
    env: Env<'a>,
    tx: ResourceArc<Transaction>,
    tag: Term<'a>,
    dedup: Term<'a>,
) -> NifResult<Term<'a>> {
    let dedup = if dedup.is_atom() {
        None
    } else {
        Some(decode_dedup(dedup)?)
    };
    let steps = {
        let mut state = tx.state();
        if !state.wrote {
            return Ok(atoms::read_only().encode(env));
        }
        std::mem::take(&mut state.steps)
    };
    let mut command = Command::Transaction { steps };
    if let Some(d) = dedup {
        command = once(d, command);
    }
    Ok(submit_command(
        env,
        &tx.store,
        ReplyTo::new(env, tag),
        command,
    ))
}
