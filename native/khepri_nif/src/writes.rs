//! Submitting commands. The call returns at once; the result arrives later as
//! `{Ref, Result}` from the state machine, after this member applied the entry.

use crate::atoms;
use crate::codec::decode_command;
use crate::engine::Engine;
use crate::reply::{encode_outcome, noproc, ReplyTo};
use khepri_core::Command;
use khepri_raft::timeline::{mark, Stage};
use khepri_raft::{CallbackResponder, Store};
use rustler::{Encoder, Env, LocalPid, NifResult, ResourceArc, Term};

/// `submit(Engine, Ref, Command) -> ok | {error, noproc}`; `badarg` for a
/// malformed command (the Erlang side validates first; this is the backstop).
#[rustler::nif]
fn submit<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    command: Term<'a>,
) -> NifResult<Term<'a>> {
    submit_with(env, &engine, ReplyTo::new(env, tag), command)
}

/// `submit_to(Engine, Pid, Tag, Command)`: like `submit/3`, answering
/// `{Tag, Result}` to `Pid` (the store process, for async writes).
#[rustler::nif]
fn submit_to<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    pid: LocalPid,
    tag: Term<'a>,
    command: Term<'a>,
) -> NifResult<Term<'a>> {
    submit_with(env, &engine, ReplyTo::to(pid, tag), command)
}

fn submit_with<'a>(
    env: Env<'a>,
    engine: &Engine,
    reply: ReplyTo,
    command: Term<'a>,
) -> NifResult<Term<'a>> {
    Ok(submit_command(
        env,
        &engine.store,
        reply,
        decode_command(command)?,
    ))
}

/// Submits `command` to `store`: `ok`, then `{Tag, Reply}` through `reply`
/// once applied; `{error, noproc}` at once when the store is stopping.
pub fn submit_command<'a>(
    env: Env<'a>,
    store: &Store,
    reply: ReplyTo,
    command: Command,
) -> Term<'a> {
    mark(Stage::Submitted);
    let wanted = command.opts().wanted;
    let responder = CallbackResponder::new(move |outcome| {
        mark(Stage::Answered);
        reply.send(move |e| encode_outcome(e, outcome, wanted))
    });
    match store.submit(command, responder) {
        Ok(()) => atoms::ok().encode(env),
        Err(unused) => {
            // Still on a scheduler thread: answer here, not from the responder.
            unused.disarm();
            noproc(env)
        }
    }
}
