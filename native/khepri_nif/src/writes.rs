//! Submitting commands. The call returns at once; the result arrives later as
//! `{Ref, Result}` from the state machine, after this member applied the entry.

use crate::atoms;
use crate::codec::decode_command;
use crate::engine::Engine;
use crate::reply::{encode_outcome, noproc, ReplyTo};
use khepri_raft::CallbackResponder;
use rustler::{Encoder, Env, NifResult, ResourceArc, Term};

/// `submit(Engine, Ref, Command) -> ok | {error, noproc}`; `badarg` for a
/// malformed command (the Erlang side validates first; this is the backstop).
#[rustler::nif]
fn submit<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    command: Term<'a>,
) -> NifResult<Term<'a>> {
    let command = decode_command(command)?;
    let wanted = command.opts().wanted;
    let reply = ReplyTo::new(env, tag);
    let responder = CallbackResponder::new(move |outcome| {
        reply.send(move |e| encode_outcome(e, outcome, wanted))
    });
    match engine.store.submit(command, responder) {
        Ok(()) => Ok(atoms::ok().encode(env)),
        Err(unused) => {
            // Still on a scheduler thread: answer here, not from the responder.
            unused.disarm();
            Ok(noproc(env))
        }
    }
}
