//! Read barriers: `fence` and the `favor => consistency` and
//! `condition => {applied, _}` query options wait here, on the engine's
//! runtime, and answer by message.

use crate::atoms;
use crate::engine::Engine;
use crate::reply::ReplyTo;
use khepri_raft::runtime::runtime;
use rustler::{Encoder, Env, ResourceArc, Term};
use std::time::Duration;

/// Longest wait the engine keeps for one barrier; the Erlang caller's own
/// deadline is usually shorter and answers `{error, timeout}` itself.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

fn wait_limit(ms: Option<u64>) -> Duration {
    ms.map_or(MAX_WAIT, Duration::from_millis).min(MAX_WAIT)
}

/// `fence(Engine, Ref, TimeoutMs | infinity) -> ok`; later `{Ref, ok}` once
/// this member applied every write committed before the call, or
/// `{Ref, {error, timeout}}`.
#[rustler::nif]
fn fence<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    timeout: Term<'a>,
) -> Term<'a> {
    let limit = wait_limit(timeout.decode().ok());
    let store = engine.store.clone();
    answer_when(env, tag, async move { store.barrier(limit).await })
}

/// `wait_applied(Engine, Ref, Index, TimeoutMs | infinity) -> ok`; later
/// `{Ref, ok}` once this member applied entry `Index`, or
/// `{Ref, {error, timeout}}`.
#[rustler::nif]
fn wait_applied<'a>(
    env: Env<'a>,
    engine: ResourceArc<Engine>,
    tag: Term<'a>,
    index: u64,
    timeout: Term<'a>,
) -> Term<'a> {
    let limit = wait_limit(timeout.decode().ok());
    let store = engine.store.clone();
    answer_when(
        env,
        tag,
        async move { store.wait_applied(index, limit).await },
    )
}

/// Runs `wait` on the engine's runtime and answers `{Tag, ok}` or
/// `{Tag, {error, timeout}}` by its result; `ok` at once.
pub(crate) fn answer_when<'a>(
    env: Env<'a>,
    tag: Term<'a>,
    wait: impl std::future::Future<Output = bool> + Send + 'static,
) -> Term<'a> {
    let reply = ReplyTo::new(env, tag);
    runtime().spawn(async move {
        let ok = wait.await;
        reply.send(move |e| outcome(e, ok));
    });
    atoms::ok().encode(env)
}

fn outcome(env: Env, ok: bool) -> Term {
    if ok {
        atoms::ok().encode(env)
    } else {
        (atoms::error(), atoms::timeout()).encode(env)
    }
}
